#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of a VM test initramfs (copied there by mkinitramfs.sh; never
# run on the host). Sets the guest up, runs /scenario with `sh -e` and
# reports on the console (ttyS0) with exactly one line
#   SU-VM-RESULT: PASS   or   SU-VM-RESULT: FAIL <status>
# before powering off. A scenario that reboots prints SU-VM-REBOOTING
# first (see su-vm-reboot) and never gets here.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/ TERM=dumb

mount -t devtmpfs devtmpfs /dev
# The initramfs carries no device nodes, so the kernel had no console to
# give us: take it now.
exec </dev/console >/dev/console 2>&1
# A first line of our own: the firmware's escape codes precede it.
echo "su-vm: init on $(uname -r)"
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# /tmp and /run stay on the initramfs root, which is already in RAM:
# a tmpfs over them would hide host programs copied in at their host
# path when that path is under /tmp (a CI clone may live there).

while read -r m; do
	modprobe "$m" || echo "init: modprobe $m failed"
done </etc/su-vm/modules

ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
	ip addr add 10.0.2.15/24 dev eth0
	ip link set eth0 up
	ip route add default via 10.0.2.2
fi

cd /
sh -e /scenario
rc=$?
sync
if [ "$rc" -eq 0 ]; then
	echo "SU-VM-RESULT: PASS"
else
	echo "SU-VM-RESULT: FAIL $rc"
fi
poweroff -f
