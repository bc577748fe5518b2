#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo device's reboot_command: this machine must not reboot, so say
# what a real device would do next.
slot=$(fw_printenv -n -c /var/tmp/sysupgraded-demo/fw_env.config boot_slot 2>/dev/null)
echo "demo: reboot requested; a real device would now boot slot ${slot:-?}" >&2
