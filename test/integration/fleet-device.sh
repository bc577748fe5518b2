#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One A/B device of integration.fleet, booted and "rebooted" as the demo's
# (contrib/demo/ab-device.sh): the slot boot_slot names is mounted
# read-only on DIR/root (the daemon's version_file is on it) and named on
# DIR/cmdline, and sysupgraded runs on DIR/daemon.conf, which is
# DIR/device.conf plus a reboot_command of contrib/demo/fake-reboot.sh
# naming this script. Its SIGUSR1 "reboots": the daemon stops, the slot
# is unmounted, and the device boots again (the config read anew, so a
# fixed device.conf applies). Each boot's slot is appended to DIR/boots.
# SIGTERM stops the daemon, unmounts the slot and ends.
#   fleet-device.sh DIR SYSUPGRADED FAKE_REBOOT
# DIR/slots sets SLOT_a and SLOT_b, the slots' loop devices.
set -euo pipefail

dir=$1
daemon=$2
fake_reboot=$3
. "$dir/slots"
dpid=
mounted=
reboot_asked=

say() { echo "fleet-device: $*" >>"$dir/daemon.log"; }

env_get() {
	fw_printenv -n -c "$dir/fw_env.config" "$1" 2>/dev/null || :
}

boot() {
	local slot dev count
	slot=$(env_get boot_slot)
	case $slot in
	a) dev=$SLOT_a ;;
	b) dev=$SLOT_b ;;
	*) say "boot_slot is '$slot', neither a nor b"; exit 1 ;;
	esac
	# U-Boot counts the boots while an update waits for its --mark-good
	if [ "$(env_get upgrade_available)" = 1 ]; then
		count=$(env_get bootcount)
		fw_setenv -c "$dir/fw_env.config" bootcount $((${count:-0} + 1))
	fi
	mount -o ro "$dev" "$dir/root"
	mounted=1
	echo "quiet sysupgrade.slot=$slot" >"$dir/cmdline"
	{
		cat "$dir/device.conf"
		printf '\n[install]\nreboot_command = %s %s\n' "$fake_reboot" $$
	} >"$dir/daemon.conf"
	echo "$slot" >>"$dir/boots"
	say "booting slot $slot ($dev)"
	"$daemon" -c "$dir/daemon.conf" --foreground -v >>"$dir/daemon.log" 2>&1 &
	dpid=$!
}

halt() {
	if [ -n "$dpid" ]; then
		kill -TERM "$dpid" 2>/dev/null || :
		wait "$dpid" 2>/dev/null || :
		dpid=
	fi
	if [ -n "$mounted" ]; then
		umount "$dir/root"
		mounted=
	fi
}

trap 'reboot_asked=1' USR1
trap 'halt; exit 0' TERM INT
boot
while :; do
	status=0
	# (a USR1 while booting is not lost: wait only when none came)
	[ -n "$reboot_asked" ] || wait "$dpid" || status=$?
	if [ -n "$reboot_asked" ]; then
		reboot_asked=
		say "reboot asked"
		halt
		boot
		continue
	fi
	say "sysupgraded exited (status $status)"
	dpid=
	halt
	exit 1
done
