#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM smoke test: raw NAND through nandsim with two bad blocks. The guest
# writes an image with nandwrite, which must skip the bad blocks, and
# reads it back with nanddump --bb=skipbad.
set -eu
. "$(dirname "$0")/lib.sh"

vm_need sha256sum
vm_kernel
vm_mkwork

# 16 MiB, 512-byte pages, 16 KiB erase blocks; blocks 3 and 7 are bad,
# so a 100 KiB image (7 blocks) has to step over both.
NANDSIM="first_id_byte=0x20 second_id_byte=0x33 badblocks=3,7"
IMG_SIZE=$((100 * 1024))
MTD_UTILS="/usr/sbin/flash_erase /usr/sbin/nandwrite /usr/sbin/nanddump
	/usr/sbin/mtdinfo"

head -c $IMG_SIZE /dev/urandom > img.bin
img_sum=$(sha256sum < img.bin | cut -d' ' -f1)

cat > nand.sh <<EOF
modprobe nandsim $NANDSIM
mtdinfo /dev/mtd0
[ "\$(cat /sys/class/mtd/mtd0/type)" = nand ] || { echo "mtd0 is not NAND"; exit 1; }
[ "\$(cat /sys/class/mtd/mtd0/erasesize)" = 16384 ] || { echo "erase size is not 16 KiB"; exit 1; }
bad=\$(cat /sys/class/mtd/mtd0/bad_blocks)
echo "mtd0: \$bad bad blocks"
[ "\$bad" = 2 ] || { echo "want 2 bad blocks"; exit 1; }
flash_erase -q /dev/mtd0 0 64
nandwrite -p /dev/mtd0 /img.bin
nanddump -q --bb=skipbad -l 262144 -f /tmp/dump /dev/mtd0
got=\$(head -c $IMG_SIZE /tmp/dump | sha256sum | cut -d' ' -f1)
echo "read back: \$got"
[ "\$got" = $img_sum ] || { echo "want $img_sum"; exit 1; }
# Block 3 was skipped: the image's fourth block sits in block 4.
nanddump -q --bb=dumpbad -s 65536 -l 16384 -f /tmp/b4 /dev/mtd0
dd if=/img.bin bs=16384 skip=3 count=1 2>/dev/null | cmp - /tmp/b4
echo "block 4 holds the image's fourth block"
EOF

bins=
for b in $MTD_UTILS; do
	bins="$bins --bin $b"
done
vm_initramfs nand.gz nand.sh $bins --file img.bin:/img.bin
vm_run nand.log nand.gz || vm_fail "the NAND scenario failed; see above"
grep -q '^mtd0: 2 bad blocks$' nand.log || vm_fail "the log shows no 2 bad blocks"
vm_pass "nandsim with 2 bad blocks: nandwrite/nanddump round trip of $IMG_SIZE bytes"
