#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM test of the mtd backend (flash-backends/mtd.c) on NOR-like flash:
# block2mtd over a virtio disk (64 KiB eraseblocks, 1-byte writes, no
# bad blocks), driven by su-backend-write.
#   * the image is written and reads back equal: the backend's own
#     read-back, a dd of /dev/mtd0 in the guest, and the disk file on
#     the host after the VM is gone;
#   * a block that already reads as 0xFF is not erased again: the guest
#     counts the erases that reach the MTD layer with a kprobe on
#     mtd_erase (every MEMERASE ioctl ends there) and the count must be
#     exactly the number of blocks that held data;
#   * erase_rest = yes erases the rest of the partition, again skipping
#     empty blocks;
#   * refused: an image larger than the partition, an unknown name, a
#     partition that is mounted (ext4 on mtdblock) or attached to UBI.
set -eu
. "$(dirname "$0")/lib.sh"

: "${SU_BACKEND_WRITE:=$(dirname "$SU_TEST_SRC")/build/dev/test/su-backend-write}"
[ -x "$SU_BACKEND_WRITE" ] ||
	vm_fail "su-backend-write not found at $SU_BACKEND_WRITE (set SU_BACKEND_WRITE)"
vm_need python3 sha256sum mkfs.ext4
vm_kernel
vm_mkwork

EB=65536
BLOCKS=64
DISK_SIZE=$((BLOCKS * EB))
W=$SU_BACKEND_WRITE
MTD_UTILS="/usr/sbin/flash_erase /usr/sbin/ubiattach /usr/sbin/ubidetach"

sum() {
	sha256sum < "$1" | cut -d' ' -f1
}

# The flash before: blocks 0-9 and 20-63 hold old data, 10-19 are
# erased. The image covers blocks 0-24, so 15 of them need an erase.
head -c $DISK_SIZE /dev/urandom > disk.img
head -c $((10 * EB)) /dev/zero | tr '\0' '\377' |
	dd of=disk.img bs=$EB seek=10 conv=notrunc status=none
IMG_SIZE=$((24 * EB + 1000))
head -c $IMG_SIZE /dev/urandom > img.bin
SMALL_SIZE=$((2 * EB + 100))
head -c $SMALL_SIZE /dev/urandom > small.bin
# A second partition for the refusals: an ext4 filesystem.
head -c $((16 * EB)) /dev/zero > disk2.img
mkfs.ext4 -q -F -O ^has_journal -b 1024 disk2.img ||
	vm_fail "mkfs.ext4 failed"

cat > guest.sh <<EOF
W=$W
modprobe block2mtd block2mtd=/dev/vda,$EB,nor
echo /dev/vdb,$EB,nor2 > /sys/module/block2mtd/parameters/block2mtd
cat /proc/mtd
S=/sys/class/mtd/mtd0
echo "mtd0: type \$(cat \$S/type), erasesize \$(cat \$S/erasesize), writesize \$(cat \$S/writesize), name \$(cat \$S/name)"
[ "\$(cat \$S/name)" = nor ] && [ "\$(cat \$S/erasesize)" = $EB ] &&
	[ "\$(cat \$S/writesize)" = 1 ] || { echo "FAIL: mtd0 is not the NOR-like block2mtd"; exit 1; }

# Count erases as the MTD layer sees them.
mount -t tracefs nodev /sys/kernel/tracing
T=/sys/kernel/tracing
echo 'p:su_erase mtd_erase' > \$T/kprobe_events
echo 1 > \$T/events/kprobes/su_erase/enable
erases() {
	awk '\$1 == "su_erase" { print \$2 }' \$T/kprobe_profile
}
# expect_erases BEFORE N WHAT
expect_erases() {
	n=\$((\$(erases) - \$1))
	[ "\$n" = "\$2" ] || { echo "FAIL: \$3: \$n erases, want \$2"; exit 1; }
	echo "ok: \$3: \$n erases"
}
. /lib/su-guest.sh
# is_erased FILE: FILE is all 0xFF.
is_erased() {
	[ "\$(tr -d '\\377' < "\$1" | wc -c)" = 0 ]
}

# The write: blocks 10-19 were empty, so 15 erases, not 25.
e=\$(erases)
\$W mtd mtd:nor /img.bin readback=yes
expect_erases \$e 15 "image over 25 blocks, 10 of them empty"
got=\$(head -c $IMG_SIZE /dev/mtd0 | sha256sum | cut -d' ' -f1)
[ "\$got" = $(sum img.bin) ] || { echo "FAIL: /dev/mtd0 reads \$got"; exit 1; }
echo "ok: dd of /dev/mtd0 equals the image"
dd if=/dev/mtd0 of=/tmp/b24 bs=$EB skip=24 count=1 2>/dev/null
tail -c $((EB - 1000)) /tmp/b24 > /tmp/b24tail
is_erased /tmp/b24tail || { echo "FAIL: block 24 after the image is not erased"; exit 1; }
echo "ok: the last block is erased after the image"

# Refusals, before any erase.
e=\$(erases)
truncate -s $((DISK_SIZE + 1)) /tmp/big
refused "mtd:nor (/dev/mtd0): image of $((DISK_SIZE + 1)) bytes does not fit" \\
	\$W mtd mtd:nor /tmp/big
refused "mtd:nosuch: no MTD device has this name" \\
	\$W mtd mtd:nosuch /small.bin
expect_erases \$e 0 "refusals"

# erase_rest: everything holds data now, so all 64 blocks are erased;
# a second time only the 3 blocks of the image are.
e=\$(erases)
\$W mtd /dev/mtd0 /small.bin erase_rest=yes readback=yes
expect_erases \$e $BLOCKS "small image with erase_rest over a full partition"
e=\$(erases)
\$W mtd mtd0 /small.bin erase_rest=yes readback=yes
expect_erases \$e 3 "the same again: only the image's blocks hold data"
tail -c +$((SMALL_SIZE + 1)) /dev/mtd0 > /tmp/rest
[ "\$(stat -c %s /tmp/rest)" = $((DISK_SIZE - SMALL_SIZE)) ] && is_erased /tmp/rest ||
	{ echo "FAIL: the partition after the image is not erased"; exit 1; }
echo "ok: the partition after the image is erased"

# In use: mounted (ext4 through mtdblock), then attached to UBI.
modprobe mtdblock
mkdir -p /mnt/m
mount -o ro -t ext4 /dev/mtdblock1 /mnt/m
refused "mtd:nor2 (/dev/mtd1): in use: mounted at /mnt/m (ext4)" \\
	\$W mtd mtd:nor2 /small.bin
umount /mnt/m
flash_erase -q /dev/mtd1 0 0
ubiattach -m 1 -d 1
refused "/dev/mtd1 (mtd:nor2): in use: attached to UBI as ubi1" \\
	\$W mtd /dev/mtd1 /small.bin
ubidetach -d 1
EOF

bins="--bin $W"
for b in $MTD_UTILS; do
	bins="$bins --bin $b"
done
vm_initramfs guest.gz guest.sh $bins --file img.bin:/img.bin \
	--file small.bin:/small.bin
vm_run guest.log guest.gz --disk disk.img --disk disk2.img ||
	vm_fail "the NOR scenario failed; see above"
vm_pass "NOR-like MTD: written, read back, empty blocks not erased, refusals"

# On the disk: the last image, then erased flash to the end.
head -c $SMALL_SIZE disk.img | cmp -s - small.bin ||
	vm_fail "the disk does not start with the image"
[ "$(tail -c +$((SMALL_SIZE + 1)) disk.img | tr -d '\377' | wc -c)" = 0 ] ||
	vm_fail "the disk is not erased after the image"
vm_pass "the disk file holds the image, then 0xFF"
