# SPDX-License-Identifier: GPL-2.0-or-later
# The demo tests' harness (sourced after lib.sh, never run): ./demo.sh
# in the background as a user would start it, on a port and state
# directory of the test's own (SU_DEMO_PORT, SU_DEMO_DIR), with the
# test's build (--build: nothing installed or built). Ctrl-C is SIGINT
# to the demo's PID; what it leaves behind fails the test.
#   SU_DAEMON  the built sysupgraded (its build tree is the demo's)

: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
DEMO_SH=$(cd "$SU_TEST_SRC/.." && pwd)/demo.sh
DEMO_BUILD=$(cd "$(dirname "$SU_DAEMON")/.." && pwd)
DEMO_RUN=
DEMO_FOLLOWERS=

# demo_test_init: root, tools, $WORK, a port, the cleanup trap.
demo_test_init() {
	[ "$(id -u)" = 0 ] || fail "the demo needs root"
	need curl fw_printenv losetup python3 flock setsid
	mkwork
	trap 'demo_test_cleanup' EXIT
	SU_DEMO_DIR=$WORK/state
	SU_DEMO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	export SU_DEMO_DIR SU_DEMO_PORT
}

demo_test_cleanup() {
	_dtc_rc=$?
	cd /
	if [ -n "$DEMO_RUN" ] && kill -0 "$DEMO_RUN" 2>/dev/null; then
		kill -INT "$DEMO_RUN"
		_dtc_i=0
		while kill -0 "$DEMO_RUN" 2>/dev/null && [ "$_dtc_i" -lt 300 ]; do
			sleep 0.1
			_dtc_i=$((_dtc_i + 1))
		done
		kill -0 "$DEMO_RUN" 2>/dev/null && { echo "the demo (PID $DEMO_RUN) ignored SIGINT for 30 s" >&2; _dtc_rc=1; }
	fi
	for _dtc_p in $DEMO_FOLLOWERS; do	# a failed test's demo-ctl sessions
		kill -TERM "-$_dtc_p" 2>/dev/null || :
	done
	for _dtc_f in "$WORK"/*.out; do
		[ "$_dtc_rc" = 0 ] || [ ! -f "$_dtc_f" ] || { echo "--- $_dtc_f:" >&2; tail -n 40 "$_dtc_f" >&2; }
	done
	rm -rf "$WORK"
	exit "$_dtc_rc"
}

# demo_start OUT [DEMO OPTIONS...]: start ./demo.sh with SIGINT at its
# default (a background job of a script would ignore it); DEMO_RUN is
# its PID. Wait until it printed its instructions (120 s).
demo_start() {
	_ds_out=$1
	shift
	env --default-signal=INT "$DEMO_SH" --build "$DEMO_BUILD" "$@" \
		>"$_ds_out" 2>&1 </dev/null &
	DEMO_RUN=$!
	_ds_i=0
	until grep -q '^Ctrl-C here' "$_ds_out"; do
		kill -0 "$DEMO_RUN" 2>/dev/null || fail "the demo ended: $(cat "$_ds_out")"
		[ "$_ds_i" -lt 1200 ] || fail "the demo did not come up in 120 s: $(cat "$_ds_out")"
		sleep 0.1
		_ds_i=$((_ds_i + 1))
	done
}

# demo_source OUT: run the first line the demo printed for the other
# terminal (". ENV"): TOKEN, API, CACERT, demo-ctl on PATH.
demo_source() {
	_dso_line=$(sed -n 's/^  \(\. [^ ]*\) .*# .*/\1/p' "$1")
	[ -n "$_dso_line" ] || fail "no '. ENV' line in the demo's output: $(cat "$1")"
	eval "$_dso_line"
	[ -n "${TOKEN:-}" ] && [ -n "${API:-}" ] && [ -f "${CACERT:-}" ] ||
		fail "$_dso_line: no TOKEN, API or CACERT"
	command -v demo-ctl >/dev/null || fail "$_dso_line: demo-ctl is not on PATH"
}

# demo_check_howto OUT CMD...: the demo printed each CMD as a command
# line, and no command line of it is longer than 80 columns.
demo_check_howto() {
	_dch_out=$1
	shift
	for _dch_c in "$@"; do
		grep -q "^  $_dch_c  *# " "$_dch_out" || fail "'$_dch_c' is not among the printed commands: $(cat "$_dch_out")"
	done
	_dch_long=$(grep -E '^  (\. |demo-ctl|curl)' "$_dch_out" | awk 'length > 80') || :
	[ -z "$_dch_long" ] || fail "printed commands wider than 80 columns: $_dch_long"
	grep -q "^  web UI  *https://127.0.0.1:$SU_DEMO_PORT/" "$_dch_out" || fail "no web UI address printed"
	grep -q "^  binaries  *$DEMO_BUILD/daemon/sysupgraded" "$_dch_out" || fail "where the binaries are is not printed"
	pass "the demo prints the web UI, the binaries and commands within 80 columns"
}

# demo_wait_info VERSION: until GET /info (demo-ctl info) says VERSION
# (120 s); its answer is in ./info.json.
demo_wait_info() {
	_dwi_i=0
	while :; do
		if demo-ctl info >info.json 2>/dev/null &&
			[ "$(json_get info.json 'j["version"]')" = "$1" ]; then
			return 0
		fi
		kill -0 "$DEMO_RUN" 2>/dev/null || fail "the demo ended: $(tail -n 30 demo*.out)"
		[ "$_dwi_i" -lt 1200 ] || fail "/info did not say $1 within 120 s: $(cat info.json)"
		sleep 0.1
		_dwi_i=$((_dwi_i + 1))
	done
}

# demo_refused: a second demo, while one runs, refuses at once naming
# the running demo's PID, and leaves the first working.
demo_refused() {
	run env SU_DEMO_PORT=1 "$DEMO_SH" --build "$DEMO_BUILD" --quiet
	[ "$status" = 1 ] || fail "a second demo: expected exit 1, got $status: $(cat out err)"
	grep -q "already running (PID $DEMO_RUN)" out err ||
		fail "a second demo does not name the first's PID $DEMO_RUN: $(cat out err)"
	demo-ctl info >/dev/null || fail "the first demo stopped answering after the second was refused"
	pass "a second demo refuses, naming the first's PID $DEMO_RUN"
}

# demo_wait_line FILE PATTERN WHAT: wait up to 10 s for a line of FILE
# matching the grep PATTERN, else fail with WHAT and FILE.
demo_wait_line() {
	_dw_i=0
	until grep -q -- "$2" "$1"; do
		[ "$_dw_i" -lt 100 ] || fail "$3: $(cat "$1")"
		sleep 0.1
		_dw_i=$((_dw_i + 1))
	done
}

# demo_follow OUT CMD...: `demo-ctl CMD...` (watch, console) left
# running as in a terminal of the user's own, in a session of its own;
# demo_stop_clean checks that it ends with the demo.
demo_follow() {
	_df_out=$1
	shift
	setsid demo-ctl "$@" >"$_df_out" 2>&1 </dev/null &
	DEMO_FOLLOWERS="$DEMO_FOLLOWERS $!"
}

# demo_followers_end: every process of each demo_follow session is gone
# within 5 s of the demo's end (zombies aside, which wait reaps).
demo_followers_end() {
	for _dfe_p in $DEMO_FOLLOWERS; do
		_dfe_i=0
		while ps -o stat= -s "$_dfe_p" | grep -qv '^Z'; do
			[ "$_dfe_i" -lt 50 ] || fail "demo-ctl (session $_dfe_p) outlived the demo: $(ps -o pid=,args= -s "$_dfe_p")"
			sleep 0.1
			_dfe_i=$((_dfe_i + 1))
		done
		wait "$_dfe_p" || :
	done
	DEMO_FOLLOWERS=
}

# demo_stop_clean: Ctrl-C (SIGINT to its PID) stops the demo with exit
# 0, and it leaves no mount, loop device, process or file of its own;
# the demo-ctl followers end with it.
demo_stop_clean() {
	_dsc_work=$DEMO_WORK
	_dsc_pids=$(cat "$SU_DEMO_DIR/pids")
	[ -d "$_dsc_work" ] || fail "DEMO_WORK=$_dsc_work is not a directory"
	kill -INT "$DEMO_RUN"
	_dsc_rc=0
	wait "$DEMO_RUN" || _dsc_rc=$?
	assert_eq 0 "$_dsc_rc" "the demo's exit status after Ctrl-C"
	DEMO_RUN=
	demo_followers_end
	[ ! -e "$SU_DEMO_DIR" ] || fail "$SU_DEMO_DIR is still there: $(ls -A "$SU_DEMO_DIR")"
	! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK"/demo*.out ||
		fail "sanitizer report in the demo's output: $(cat "$WORK"/demo*.out)"
	demo_no_residue "$_dsc_work" $_dsc_pids ${DEMO_NSPID:-}
	pass "Ctrl-C: no mount, loop device, process or file of the demo left"
}

# demo_no_residue WORK [PID...]: nothing of a demo whose work directory
# was WORK is left: the directory, a mount or loop device of it, a
# process naming it, or one of the PIDs.
demo_no_residue() {
	_dnr_work=$1
	shift
	[ ! -e "$_dnr_work" ] || fail "$_dnr_work is still there: $(ls -A "$_dnr_work")"
	! grep -qF "$_dnr_work" /proc/self/mountinfo ||
		fail "mounts left: $(grep -F "$_dnr_work" /proc/self/mountinfo)"
	! losetup -l -n -O NAME,BACK-FILE | grep -qF "$_dnr_work" ||
		fail "loop devices left: $(losetup -l -n -O NAME,BACK-FILE | grep -F "$_dnr_work")"
	for _dnr_p in "$@"; do
		[ ! -e "/proc/$_dnr_p" ] || fail "process $_dnr_p is left: $(tr '\0' ' ' <"/proc/$_dnr_p/cmdline")"
	done
	for _dnr_p in /proc/[0-9]*; do
		if tr '\0' ' ' <"$_dnr_p/cmdline" 2>/dev/null | grep -qF "$_dnr_work"; then
			fail "process ${_dnr_p#/proc/} is left: $(tr '\0' ' ' <"$_dnr_p/cmdline")"
		fi
	done
}
