#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo device's reboot_command: this machine must not reboot. A real
# device would boot the slot boot_slot names, with that slot on its
# kernel command line; the demo writes that command line, so the daemon
# (after a restart) sees the new slot running.
work=/var/tmp/sysupgraded-demo
slot=$(fw_printenv -n -c $work/fw_env.config boot_slot 2>/dev/null)
[ -n "$slot" ] && echo "console=ttyS0 sysupgrade.slot=$slot" > $work/cmdline
echo "demo: reboot requested; a real device would now boot slot ${slot:-?}" >&2
