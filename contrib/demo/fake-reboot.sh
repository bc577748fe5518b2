#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The A/B demo device's reboot_command (contrib/demo/ab-device.sh): this
# machine must not reboot. It asks the demo, PID, to "reboot" the
# device: stop the daemon and start it again on the slot boot_slot
# names, that slot on its command line.
#   fake-reboot.sh PID
echo "demo: reboot requested; the demo boots the slot boot_slot names" >&2
exec kill -USR1 "$1"
