# SPDX-License-Identifier: GPL-2.0-or-later
# test.sh's counting, sourced (by test.sh and by its own test,
# test/integration/test-summary.sh), never run. Bash: test.sh runs with
# `set -euo pipefail`, so nothing here may fail just because a log lacks
# what it looks for; a stage that broke counts as one failure, and the
# stages after it still run. The totals are the caller's $passed and
# $failed.

# su_stage_failed WHAT: a stage that could not run its tests at all (its
# build failed, or its ctest left no summary) counts as one failure.
su_stage_failed() {
	echo "test.sh: $1" >&2
	failed=$((failed + 1))
}

# su_count_ctest LOG DIR: add the counts of ctest's summary line in LOG
# ("92% tests passed, 1 tests failed out of 12") to the totals; its last
# such line counts. No LOG, or none of that line in it, is one failure.
su_count_ctest() {
	local log=$1 dir=$2 line total bad

	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' \
		"$log" 2>/dev/null | tail -n 1) || true
	if [ -z "$line" ]; then
		su_stage_failed "ctest in $dir gave no summary"
		return 0
	fi
	total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
	bad=$(sed -E 's/.*tests passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
	passed=$((passed + total - bad))
	failed=$((failed + bad))
}

# su_summary: the last line of test.sh; fails when anything failed.
su_summary() {
	echo "test.sh: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
