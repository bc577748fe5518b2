#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh TEST: test/integration/TEST.sh with the daemon under valgrind's
# memcheck (test/valgrind/daemon.sh as SU_DAEMON). It passes when the
# test passes and every daemon process's log (vg.PID.log in
# SU_VALGRIND_LOGS, kept for reading) reports 0 errors, with definite
# leaks counted as errors: check.py judges them (and says how it treats
# forked children and system calls valgrind does not know).
#   SU_DAEMON          the real sysupgraded
#   SU_VALGRIND_LOGS   where the logs go (emptied first)
set -eu
: "${SU_DAEMON:?}" "${SU_TEST_SRC:?}" "${SU_VALGRIND_LOGS:?}"
command -v valgrind >/dev/null ||
	{ echo "FAIL: valgrind is not installed (contrib/deps.sh test)" >&2; exit 1; }
test=$1
rm -rf "$SU_VALGRIND_LOGS"
mkdir -p "$SU_VALGRIND_LOGS"
SU_VALGRIND_DAEMON=$SU_DAEMON
SU_DAEMON=$SU_TEST_SRC/valgrind/daemon.sh
# the build tree of the real one (daemon-www.sh installs it)
SU_BUILD_DIR=$(cd "$(dirname "$SU_VALGRIND_DAEMON")/.." && pwd)
# the tests' waits for the daemon (start, stop) are this many times
# longer: memcheck runs it 20 to 50 times slower
SU_SLOW=${SU_SLOW:-10}
export SU_VALGRIND_DAEMON SU_DAEMON SU_BUILD_DIR SU_SLOW SU_VALGRIND_LOGS

rc=0
sh "$SU_TEST_SRC/integration/$test.sh" || rc=$?

python3 "$SU_TEST_SRC/valgrind/check.py" "$SU_VALGRIND_LOGS" && bad=0 || bad=1
[ "$rc" = 0 ] || { echo "FAIL: $test.sh failed under valgrind (exit $rc)" >&2; exit 1; }
[ "$bad" = 0 ] || exit 1
echo "ok: $test under valgrind: 0 errors, 0 definite leaks"
