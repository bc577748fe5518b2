#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test.sh's counting (test/summary.sh), under test.sh's own
# `set -euo pipefail`: ctest logs with and without a summary line, a
# missing log and a failed build. A stage without a summary counts one
# failure and the script goes on to the next stage; the last line is
# "test.sh: N passed, N failed", with a failing status when N failed > 0;
# su_recap reprints the end of what each failed test printed.
set -eu
: "${SU_TEST_SRC:?SU_TEST_SRC must name the test source directory}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# count NAME EXPECTED STEPS...: run STEPS (shell code) after sourcing
# summary.sh as test.sh does, then print the totals; EXPECTED is
# "passed failed", and the line after the steps must be reached.
count() {
	local name=$1 want=$2 got
	shift 2
	got=$(bash -c 'set -euo pipefail
		passed=0 failed=0
		. "$1"
		eval "$2"
		echo "reached: $passed $failed"' count \
		"$SU_TEST_SRC/summary.sh" "$*" 2>stderr) ||
		fail "$name: the steps stopped the script (status $?): $(cat stderr)"
	[ "$got" = "reached: $want" ] ||
		fail "$name: counted '$got', expected 'reached: $want'"
	echo "ok: $name: $want"
}

cat >pass.log <<'EOF'
Test project /x/build/release
 1/12 Test  #1: unit.version ...................   Passed    0.01 sec
100% tests passed, 0 tests failed out of 12

Total Test time (real) =   1.00 sec
EOF
cat >fail.log <<'EOF'
 7/12 Test  #7: integration.daemon-api .........***Failed    3.10 sec
92% tests passed, 1 tests failed out of 12

The following tests FAILED:
	  7 - integration.daemon-api (Failed)
EOF
# ctest killed mid-run, or never started: no summary line.
cat >cut.log <<'EOF'
Test project /x/build/asan
 1/12 Test  #1: unit.version ...................   Passed    0.01 sec
EOF
: >empty.log

count "a summary with no failure" "12 0" 'su_count_ctest pass.log build/a'
count "a summary with one failure" "11 1" 'su_count_ctest fail.log build/a'
count "a log cut before its summary" "0 1" 'su_count_ctest cut.log build/a'
count "an empty log" "0 1" 'su_count_ctest empty.log build/a'
count "no log at all" "0 1" 'su_count_ctest missing.log build/a'
count "a failed build" "0 1" 'su_stage_failed "build/a did not build"'
# test.sh's three stages: the one without a summary does not stop the
# one after it.
count "stages after a missing summary" "23 2" \
	'su_count_ctest pass.log build/a
	su_count_ctest cut.log build/b
	su_count_ctest fail.log build/c'

grep -q "ctest in build/b gave no summary" stderr ||
	fail "a missing summary is not reported: $(cat stderr)"
echo "ok: a missing summary names its build directory"

# The last line, and its status.
out=$(bash -c 'passed=23 failed=2; . "$1"; su_summary' s \
	"$SU_TEST_SRC/summary.sh") && fail "su_summary succeeded with 2 failed"
[ "$out" = "test.sh: 23 passed, 2 failed" ] || fail "last line: '$out'"
out=$(bash -c 'passed=12 failed=0; . "$1"; su_summary' s \
	"$SU_TEST_SRC/summary.sh") || fail "su_summary failed with 0 failed"
[ "$out" = "test.sh: 12 passed, 0 failed" ] || fail "last line: '$out'"
echo "ok: the last line and its status"

# su_recap: the last lines of each test that did not pass, from ctest's
# LastTest.log, and nothing of those that passed.
cat >LastTest.log <<'EOF2'
Start testing: Dec 03 17:18 UTC
----------------------------------------------------------
1/2 Testing: unit.fine
1/2 Test: unit.fine
Command: "/usr/bin/sh" "-c" "echo fine"
Directory: /x
"unit.fine" start time: Dec 03 17:18 UTC
Output:
----------------------------------------------------------
fine output
<end of output>
Test time =   0.01 sec
----------------------------------------------------------
Test Passed.
"unit.fine" end time: Dec 03 17:18 UTC
2/2 Testing: vm.broken
2/2 Test: vm.broken
Command: "/usr/bin/sh" "-c" "..."
Directory: /x
"vm.broken" start time: Dec 03 17:18 UTC
Output:
----------------------------------------------------------
line 1
line 2
line 3
FAIL: v2 did not answer /info
<end of output>
Test time =  12.50 sec
----------------------------------------------------------
Test Failed.
"vm.broken" end time: Dec 03 17:18 UTC
EOF2
out=$(bash -c 'set -euo pipefail; . "$1"; su_recap LastTest.log build/a 2; su_recap missing.log build/b' s \
	"$SU_TEST_SRC/summary.sh") || fail "su_recap failed"
want='--- build/a: vm.broken: Test Failed. (12.50 s)
  line 3
  FAIL: v2 did not answer /info'
[ "$out" = "$want" ] || fail "su_recap printed '$out', not '$want'"
echo "ok: su_recap prints the last lines of a failed test only"
