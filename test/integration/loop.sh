# SPDX-License-Identifier: GPL-2.0-or-later
# Loop devices and mounts for the backend tests; sourced after lib.sh,
# never run. Everything made here is undone when the script ends, also
# on failure: loop_init replaces mkwork's EXIT trap. It touches only the
# loop devices it attached and the mounts of those devices.
#   SU_BACKEND_WRITE  path of the built su-backend-write

: "${SU_BACKEND_WRITE:?SU_BACKEND_WRITE must name the su-backend-write binary}"
BW=$SU_BACKEND_WRITE
LOOPS=
PIDS=		# background processes of the test, ended by the cleanup

# loop_init: root check, tools, work directory, cleanup trap.
loop_init() {
	[ "$(id -u)" = 0 ] || fail "this test needs root (loop devices, mount)"
	need losetup mount umount mkfs.ext4 e2fsck sha256sum python3
	[ -x "$BW" ] || fail "SU_BACKEND_WRITE=$BW is not an executable"
	mkwork
	trap 'loop_cleanup' EXIT
}

# devno DEV: "MAJOR:MINOR" of a block device, as in mountinfo.
devno() {
	printf '%d:%d\n' "0x$(stat -c %t "$1")" "0x$(stat -c %T "$1")"
}

# mounts_of DEV: the mount points of DEV (any of ours, the backend's).
mounts_of() {
	_mo_no=$(devno "$1")
	awk -v no="$_mo_no" '$3 == no { print $5 }' /proc/self/mountinfo
}

# loop_attach FILE: attach FILE; sets LOOP.
loop_attach() {
	LOOP=$(losetup -f --show "$1") || fail "losetup -f --show $1 failed"
	LOOPS="$LOOPS $LOOP"
}

# assert_unmounted DEV WHAT: nothing (the backend included) left DEV mounted.
assert_unmounted() {
	[ -z "$(mounts_of "$1")" ] ||
		fail "$2: $1 is still mounted at $(mounts_of "$1")"
}

loop_cleanup() {
	_lc_rc=$?
	cd /
	for _lc_pid in $PIDS; do
		kill "$_lc_pid" 2>/dev/null || :
		wait "$_lc_pid" 2>/dev/null || :
	done
	for _lc_dev in $LOOPS; do
		for _lc_m in $(mounts_of "$_lc_dev" | sort -r); do
			umount "$_lc_m" || _lc_rc=1
			case $_lc_m in	# a backend's private mount point
			*/sysupgraded-tar.*/root)
				rmdir "$_lc_m" "${_lc_m%/root}" || _lc_rc=1 ;;
			esac
		done
		losetup -d "$_lc_dev" || _lc_rc=1
	done
	# Only once nothing is mounted below it.
	if [ -n "${WORK:-}" ] && ! grep -qF " $WORK/" /proc/self/mountinfo; then
		rm -rf "$WORK"
	fi
	exit "$_lc_rc"
}

# sha FILE: its SHA-256.
sha() {
	sha256sum "$1" | cut -d' ' -f1
}
