#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of an initramfs that boots an ext4 root on /dev/vda
# (mkinitramfs.sh --init; never run on the host), as a distribution's
# initramfs would: load the modules (virtio_blk and ext4 are modules in
# Debian's kernel), mount /dev/vda read-write and switch_root into its
# /sbin/init (systemd for vm.systemd). Every boot of the guest runs it
# again, so a root that was rewritten is booted as it now is. Console
# lines start with "su-boot:"; a failure prints SU-VM-RESULT: FAIL and
# powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/ TERM=dumb

mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo "su-boot: ext4 root loader on $(uname -r)"

die() {
	echo "su-boot: $*"
	echo "SU-VM-RESULT: FAIL bootloader"
	poweroff -f
	exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /newroot
# and the scenario's own (/etc/su-boot.modules, e.g. virtio_rng)
cat /etc/su-vm/modules /etc/su-boot.modules 2>/dev/null | while read -r m; do
	modprobe "$m" || die "modprobe $m failed"
done
mount -t ext4 -o rw /dev/vda /newroot || die "mount /dev/vda (ext4) failed"
# an absolute link (-> /lib/systemd/systemd) means the new root's file
[ -x /newroot/sbin/init ] || [ -L /newroot/sbin/init ] ||
	die "/dev/vda has no /sbin/init"
echo "su-boot: root /dev/vda (ext4), version $(cat /newroot/etc/version 2>/dev/null)"

# systemd mounts /proc, /sys and /run itself; /dev goes along.
umount /proc /sys
mount --move /dev /newroot/dev || die "move /dev into the new root"
exec switch_root /newroot /sbin/init
