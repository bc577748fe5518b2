#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command: a demo device on this machine, on
# https://127.0.0.1:8443. Installs what is missing, builds, then runs
#   contrib/demo/inplace-device.sh (default): a single-slot device, an
#     ext4 root on a loop device booted with busybox init as PID 1 of a
#     PID namespace, upgraded in place (services stop, the daemon hands
#     over to its ramfs copy, writes the root and reboots; the demo boots
#     it again);
#   contrib/demo/ab-device.sh (--ab): an A/B device, two loop-device
#     slots and a file-backed U-Boot environment; its "reboot" restarts
#     the daemon on the other slot.
# It prints the web UI address, where the binaries are, and short
# commands (contrib/demo/demo-ctl) to upload, install and watch. One
# demo runs at a time; Ctrl-C removes everything it started.
#   ./demo.sh [--ab] [--build DIR] [--quiet]      (as root)
# --build DIR  use the binaries built in DIR; install and build nothing
# --quiet      (in place) do not echo the device's console
# SU_DEMO_PORT picks another port, SU_DEMO_DIR another state directory.
set -eu
cd "$(dirname "$0")"
DEMO_TOP=$PWD
device=inplace-device.sh
build=
quiet=

usage() {
	echo "usage: ./demo.sh [--ab] [--build DIR] [--quiet]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--ab) device=ab-device.sh ;;
	--build) [ $# -ge 2 ] || usage; build=$2; shift ;;
	--quiet) quiet=--quiet ;;
	-h|--help) sed -n '3,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) usage ;;
	esac
	shift
done

. "$DEMO_TOP/contrib/demo/lib.sh"
# Refuse before building: a running demo's binaries are left alone.
demo_lock
trap 'demo_unlock' EXIT		# until the exec: Ctrl-C while building
trap 'exit 130' INT TERM

if [ -z "$build" ]; then
	contrib/deps.sh demo
	build=$DEMO_TOP/build/demo
	say "building into $build"
	cmake -S "$DEMO_TOP" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_PREFIX_PATH="$DEMO_TOP/.deps/prefix" -DBUILD_TESTING=OFF >/dev/null
	cmake --build "$build" -j"$(nproc)" >/dev/null
fi
[ -x "$build/daemon/sysupgraded" ] && [ -x "$build/tools/sysupgrade-bundle" ] ||
	{ say "no sysupgraded or sysupgrade-bundle built in $build"; exit 1; }
exec "$DEMO_TOP/contrib/demo/$device" "$build" $quiet
