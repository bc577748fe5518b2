# SPDX-License-Identifier: GPL-2.0-or-later
# What the demo devices share (sourced by ./demo.sh, inplace-device.sh
# and ab-device.sh; POSIX sh): one demo at a time, and the env file that
# demo-ctl and the user's shell read. Everything of a running demo is
# in $DEMO_DIR (SU_DEMO_DIR, default /run/sysupgraded-demo):
#   lock   flock(1)ed by the demo for its life (fd 9)
#   pid    the demo's PID, named by a second demo that refuses
#   env    `. $DEMO_DIR/env`: API, CACERT, TOKEN, demo-ctl on PATH...
#   work   the demo's work directory (images, keys, console log)
#   pids   the long-lived processes it started (unshare, sysupgraded)
# A demo that was killed before it could clean up leaves env, work and
# pids behind; the next one removes what they name.
# The caller sets DEMO_TOP, the top of the source tree.

: "${DEMO_TOP:?DEMO_TOP must name the source tree}"
DEMO_DIR=${SU_DEMO_DIR:-/run/sysupgraded-demo}

say() { printf 'demo: %s\n' "$*"; }

# demo_lock: take the demo lock or refuse, naming the running demo's
# PID. A no-op in the process that holds it already (./demo.sh execs
# the device script with fd 9 open).
demo_lock() {
	[ "${SU_DEMO_LOCKED:-}" = "$$" ] && return 0
	[ "$(id -u)" = 0 ] || { say "run as root (loop devices, mounts, namespaces)"; exit 1; }
	command -v flock >/dev/null || { say "flock (util-linux) is missing"; exit 1; }
	mkdir -p -m 0700 "$DEMO_DIR" || { say "cannot make $DEMO_DIR"; exit 1; }
	exec 9>>"$DEMO_DIR/lock"
	if ! flock -n 9; then
		_dl_pid=
		_dl_i=0
		# the holder writes its PID right after taking the lock
		while [ -z "$_dl_pid" ] && [ "$_dl_i" -lt 20 ]; do
			_dl_pid=$(cat "$DEMO_DIR/pid" 2>/dev/null) || :
			[ -n "$_dl_pid" ] || sleep 0.1
			_dl_i=$((_dl_i + 1))
		done
		say "a demo is already running (PID ${_dl_pid:-unknown}); stop it first:"
		say "Ctrl-C in its terminal, or kill -INT ${_dl_pid:-PID}"
		exit 1
	fi
	demo_stale
	echo $$ >"$DEMO_DIR/pid"
	SU_DEMO_LOCKED=$$
	export SU_DEMO_LOCKED
}

# demo_stale: the lock was free but a killed demo's files are there:
# stop its processes (those that still name its work directory), undo
# its mounts and loop devices, remove its files.
demo_stale() {
	[ -f "$DEMO_DIR/work" ] || { rm -f "$DEMO_DIR/env" "$DEMO_DIR/pids"; return 0; }
	_ds_work=$(cat "$DEMO_DIR/work")
	say "a demo that was killed left $_ds_work behind; removing it"
	case $_ds_work in
	/*/*) ;;
	*) say "refusing to remove '$_ds_work'"; exit 1 ;;
	esac
	for _ds_pid in $(cat "$DEMO_DIR/pids" 2>/dev/null); do
		tr '\0' ' ' <"/proc/$_ds_pid/cmdline" 2>/dev/null |
			grep -qF "$_ds_work" && kill -KILL "$_ds_pid" 2>/dev/null
	done
	sleep 1		# the namespaces let go of their mounts
	awk -v w="$_ds_work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r _ds_m; do umount -l "$_ds_m"; done
	losetup -l -n -O NAME,BACK-FILE | awk -v w="$_ds_work/" 'index($2, w) == 1 { print $1 }' |
		while read -r _ds_l; do losetup -d "$_ds_l"; done
	rm -rf "$_ds_work"
	rm -f "$DEMO_DIR/env" "$DEMO_DIR/pids" "$DEMO_DIR/work"
}

# demo_started WORK: the demo's work directory, for a later demo_stale.
demo_started() {
	echo "$1" >"$DEMO_DIR/work"
}

# demo_pid PID: a long-lived process of the demo.
demo_pid() {
	echo "$1" >>"$DEMO_DIR/pids"
}

# demo_unlock: the demo's files go (the lock goes with the process).
# Called first thing when the demo ends: demo-ctl stops finding it.
demo_unlock() {
	rm -rf "$DEMO_DIR"
}

# demo_port_free PORT: nothing listens on 127.0.0.1:PORT.
demo_port_free() {
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		say "127.0.0.1:$1 is in use; SU_DEMO_PORT=N ./demo.sh picks another port"
		exit 1
	fi
}

# demo_env MODE VAR=VALUE...: write $DEMO_DIR/env (mode 0600: it holds
# the token). No value may hold a double quote.
demo_env() {
	_de_mode=$1
	shift
	{
		echo "# the sysupgraded demo ($_de_mode), PID $$: . $DEMO_DIR/env"
		echo "export DEMO_MODE=$_de_mode DEMO_PID=$$"
		for _de_v in "$@"; do
			echo "export ${_de_v%%=*}=\"${_de_v#*=}\""
		done
		echo "case :\$PATH: in *\":$DEMO_TOP/contrib/demo:\"*) ;;"
		echo "*) PATH=\"\$PATH:$DEMO_TOP/contrib/demo\" ;; esac"
	} >"$DEMO_DIR/env.new"
	chmod 0600 "$DEMO_DIR/env.new"
	mv "$DEMO_DIR/env.new" "$DEMO_DIR/env"
}

# demo_commands CMD COMMENT [CMD COMMENT...]: the commands, indented,
# their comments in one column.
demo_commands() {
	_dc_w=0
	_dc_n=0
	for _dc_a in "$@"; do
		_dc_n=$((_dc_n + 1))
		[ $((_dc_n % 2)) = 0 ] || [ ${#_dc_a} -le "$_dc_w" ] || _dc_w=${#_dc_a}
	done
	while [ $# -ge 2 ]; do
		printf '  %-*s  # %s\n' "$_dc_w" "$1" "$2"
		shift 2
	done
}
