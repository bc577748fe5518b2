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

# su_recap LASTTEST DIR [LINES]: the last LINES (default 15) lines of
# the output of each test that did not pass in ctest's LASTTEST log
# (Testing/Temporary/LastTest.log), under a line naming it, DIR, its
# status and its time.
# test.sh prints it just before its last line, since a long log is
# often kept only by its head and its tail, and a failure in the middle
# of it would be lost.
su_recap() {
	[ -f "$1" ] || return 0
	awk -v dir="$2" -v n="${3:-15}" '
	function flush(status,   i, from) {
		print "--- " dir ": " name ": " status " (" secs " s)"
		from = cnt > n ? cnt - n : 0
		for (i = from; i < cnt; i++)
			print "  " buf[i % n]
	}
	/^[0-9]+\/[0-9]+ Testing: / { name = $3; cnt = 0; state = 0; next }
	state == 0 && /^Output:$/ { state = 1; next }
	state == 1 && /^-+$/ { state = 2; next }
	state == 2 && /^<end of output>$/ { state = 3; next }
	state == 2 { buf[cnt % n] = $0; cnt++; next }
	state == 3 && /^Test time = / { secs = $4; next }
	state == 3 && /^-+$/ { next }
	state == 3 { if ($0 != "Test Passed.") flush($0); state = 4 }
	' "$1"
}

# su_summary: the last line of test.sh; fails when anything failed.
su_summary() {
	echo "test.sh: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
