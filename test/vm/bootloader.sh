#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of a bootloader stand-in initramfs (mkinitramfs.sh --init; never
# run on the host). It does what U-Boot and a kernel's initramfs do on a
# UBI device: read the U-Boot environment (libubootenv's fw_printenv),
# attach UBI on block2mtd over the virtio disk, mount the volume the
# variable `rootvol` names (UBIFS) and switch_root into it, exec'ing its
# /sbin/init. Every boot of the guest runs it again, so a root that was
# rewritten is booted as it now is. /etc/su-boot.conf sets
#   BOOT_MTD       block2mtd's parameter, DEVICE,ERASESIZE
#   BOOT_WATCHDOG  softdog's parameters; empty: no watchdog driver
#   BOOT_RECOVERY  a UBI volume to boot instead while the environment
#                  holds the transaction marker (sysupgrade_transaction:
#                  a write of the root was cut); empty: boot rootvol.
#                  Set, block2mtd's writes also go out at once, as
#                  flash takes them: a cut must not lose what the page
#                  cache held (UBI's volume table among it)
# The environment is described by /etc/fw_env.config. Console lines
# start with "su-boot:"; a failure prints SU-VM-RESULT: FAIL and powers
# off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/ TERM=dumb

mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo "su-boot: bootloader stand-in on $(uname -r)"

die() {
	echo "su-boot: $*"
	echo "SU-VM-RESULT: FAIL bootloader"
	poweroff -f
	exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /var/lock /newroot
. /etc/su-boot.conf
while read -r m; do
	modprobe "$m" || die "modprobe $m failed"
done </etc/su-vm/modules
if [ -n "$BOOT_WATCHDOG" ]; then
	modprobe softdog $BOOT_WATCHDOG || die "modprobe softdog $BOOT_WATCHDOG failed"
fi

fw_printenv -c /etc/fw_env.config >/tmp/env 2>&1 ||
	die "fw_printenv: $(cat /tmp/env)"
sed 's/^/su-boot: env: /' /tmp/env
rootvol=$(sed -n 's/^rootvol=//p' /tmp/env)
[ -n "$rootvol" ] || die "the environment sets no rootvol"
# As a U-Boot script would: `if env exists sysupgrade_transaction`.
marker=$(sed -n 's/^sysupgrade_transaction=//p' /tmp/env)
if [ -n "$marker" ] && [ -n "${BOOT_RECOVERY:-}" ]; then
	echo "su-boot: sysupgrade_transaction=$marker: a write was cut, booting the recovery volume $BOOT_RECOVERY"
	rootvol=$BOOT_RECOVERY
fi

if [ -n "${BOOT_RECOVERY:-}" ]; then
	echo 4096 >/proc/sys/vm/dirty_background_bytes
	echo 8192 >/proc/sys/vm/dirty_bytes
	echo 1 >/proc/sys/vm/dirty_writeback_centisecs
	echo 1 >/proc/sys/vm/dirty_expire_centisecs
fi
modprobe block2mtd "block2mtd=$BOOT_MTD" || die "modprobe block2mtd $BOOT_MTD failed"
ubiattach -m 0 -d 0 >/tmp/ubi 2>&1 || die "ubiattach: $(cat /tmp/ubi)"
mount -t ubifs "ubi0:$rootvol" /newroot || die "mount ubi0:$rootvol (ubifs) failed"
[ -x /newroot/sbin/init ] || die "ubi0:$rootvol has no /sbin/init"
echo "su-boot: root ubi0:$rootvol (ubifs), version $(cat /newroot/etc/version 2>/dev/null)"

# The new root mounts its own /proc and /sys; /dev goes along.
umount /proc /sys
mount --move /dev /newroot/dev || die "move /dev into the new root"
exec switch_root /newroot /sbin/init
