#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM smoke test: UBI on block2mtd over a virtio disk survives a reboot.
# Boot 1 attaches a ubinize'd image, checks the volume's content and
# writes new content with ubiupdatevol; boot 2, on the same disk file,
# finds the new content. Then the host reads the PEBs' erase counters.
set -eu
. "$(dirname "$0")/lib.sh"

vm_need ubinize python3 sha256sum
vm_kernel
vm_mkwork

PEB=65536
DISK_SIZE=$((8 * 1024 * 1024))
OLD_SIZE=$((300 * 1024))
NEW_SIZE=$((200 * 1024 + 123))
MTD_UTILS="/usr/sbin/ubiattach /usr/sbin/ubidetach /usr/sbin/ubiupdatevol
	/usr/sbin/ubinfo /usr/sbin/mtdinfo"

head -c $OLD_SIZE /dev/urandom > old.bin
head -c $NEW_SIZE /dev/urandom > new.bin
old_sum=$(sha256sum < old.bin | cut -d' ' -f1)
new_sum=$(sha256sum < new.bin | cut -d' ' -f1)

cat > ubi.ini <<EOF
[data]
mode=ubi
image=old.bin
vol_id=0
vol_size=1MiB
vol_type=dynamic
vol_name=data
EOF
# block2mtd flash: erase blocks of the given size, 1-byte writes.
ubinize -o ubi.img -p $PEB -m 1 ubi.ini || vm_fail "ubinize failed"
vm_ff_image disk.img $DISK_SIZE ubi.img
pebs_before=$(vm_ubi_ecs disk.img $PEB | wc -l)
[ "$pebs_before" -gt 0 ] || vm_fail "ubinize wrote no UBI# PEB"

bins=
for b in $MTD_UTILS; do
	bins="$bins --bin $b"
done

# The guest's common part: the disk as MTD, attached to UBI as ubi0.
cat > attach.sh <<EOF
modprobe block2mtd block2mtd=/dev/vda,$PEB
mtd=\$(sed -n 's/^mtd\\([0-9]*\\):.*block2mtd: \\/dev\\/vda.*/\\1/p' /proc/mtd)
[ -n "\$mtd" ] || { echo "no block2mtd device in /proc/mtd"; cat /proc/mtd; exit 1; }
ubiattach -m "\$mtd" -d 0
[ "\$(cat /sys/class/ubi/ubi0_0/name)" = data ] || { echo "volume 0 is not data"; exit 1; }
# check SIZE SHA256: the volume's first SIZE bytes hash to SHA256.
check() {
	got=\$(head -c "\$1" /dev/ubi0_0 | sha256sum | cut -d' ' -f1)
	echo "ubi0_0: first \$1 bytes: \$got"
	[ "\$got" = "\$2" ] || { echo "want \$2"; exit 1; }
}
EOF

cat attach.sh - > phase1.sh <<EOF
check $OLD_SIZE $old_sum
ubiupdatevol /dev/ubi0_0 /new.bin
check $NEW_SIZE $new_sum
ubidetach -d 0
su-vm-reboot
EOF
vm_initramfs phase1.gz phase1.sh $bins --file new.bin:/new.bin
vm_run phase1.log phase1.gz --disk disk.img --expect-reboot ||
	vm_fail "phase 1 (check, ubiupdatevol, reboot) failed; see above"
vm_pass "boot 1 read the ubinize'd volume and rewrote it"

cat attach.sh - > phase2.sh <<EOF
check $NEW_SIZE $new_sum
ubinfo -d 0 -n 0
EOF
vm_initramfs phase2.gz phase2.sh $bins
vm_run phase2.log phase2.gz --disk disk.img ||
	vm_fail "phase 2 (the new content after reboot) failed; see above"
vm_pass "boot 2 found the new content after the reboot"

vm_ubi_ecs disk.img $PEB > ecs
pebs_after=$(wc -l < ecs)
[ "$pebs_after" -ge "$pebs_before" ] ||
	vm_fail "UBI# PEBs: $pebs_before before, $pebs_after after"
awk '{ n[$2]++ } END { for (e in n) printf "ec %s: %d PEBs\n", e, n[e] }' ecs |
	sort
vm_pass "EC headers: $pebs_before PEBs before the boots, $pebs_after after"
