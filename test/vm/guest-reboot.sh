#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# su-vm-reboot (inside the guest): end this boot of a multi-boot VM test.
# run.sh --expect-reboot counts qemu exiting after the marker as success.
sync
echo "SU-VM-REBOOTING"
reboot -f
