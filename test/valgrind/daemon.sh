#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# sysupgraded under valgrind's memcheck: what test/valgrind/run.sh puts
# in SU_DAEMON, so that an integration test starts this in its place.
# Same PID (valgrind runs the program in its own process), same
# arguments and exit status unless memcheck found an error; one log per
# process (a forked child, such as the tar backend's, gets its own).
#   SU_VALGRIND_DAEMON  the real sysupgraded
#   SU_VALGRIND_LOGS    the directory of the logs, vg.PID.log
#   SU_TEST_SRC         the test/ source directory (the suppressions)
: "${SU_VALGRIND_DAEMON:?}" "${SU_VALGRIND_LOGS:?}" "${SU_TEST_SRC:?}"
exec valgrind --tool=memcheck --error-exitcode=97 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--track-origins=yes --num-callers=30 \
	--suppressions="$SU_TEST_SRC/valgrind/daemon.supp" \
	--log-file="$SU_VALGRIND_LOGS/vg.%p.log" \
	"$SU_VALGRIND_DAEMON" "$@"
