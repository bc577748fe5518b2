#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM test of the mtd backend (flash-backends/mtd.c) on NAND: nandsim
# with 2 KiB pages and 128 KiB eraseblocks, cut into three partitions;
# the image goes to the second, "NAND simulator partition 1" (mtd1,
# chip blocks 16-215), through su-backend-write. In that partition:
#   * blocks 2 and 5 are bad from the start (nandsim badblocks=);
#   * erasing block 7 fails (weakblocks=, 0 erases left): the backend
#     must mark it bad and write that data into the next good block;
#   * programming a page of block 9 fails (weakpages=): likewise, as
#     nandwrite does.
# The image needs 13 blocks, so it spans blocks 0-16 of the partition.
# Checked: the backend's read-back, nanddump --bb=skipbad, where the
# last block's data sits, the 0xFF-padded last page, the bad-block count
# (2 -> 4), that the failures really were injected (dmesg), that
# flash_erase finds exactly blocks 2, 5, 7 and 9 bad, a second write
# over the now 4 bad blocks, and the refusal of an image one byte
# larger than the good space.
set -eu
. "$(dirname "$0")/lib.sh"

: "${SU_BACKEND_WRITE:=$(dirname "$SU_TEST_SRC")/build/dev/test/su-backend-write}"
[ -x "$SU_BACKEND_WRITE" ] ||
	vm_fail "su-backend-write not found at $SU_BACKEND_WRITE (set SU_BACKEND_WRITE)"
vm_need sha256sum
vm_kernel
vm_mkwork

EB=131072
PAGE=2048
PART_OFF=16			# mtd1 starts at chip block 16
PART_BLOCKS=200
# A 256 MiB chip with 2 KiB pages (2048 blocks; memory is used only
# for the pages written).
NANDSIM="id_bytes=0x20,0xaa,0x00,0x15 parts=$PART_OFF,$PART_BLOCKS
	badblocks=$((PART_OFF + 2)),$((PART_OFF + 5))
	weakblocks=$((PART_OFF + 7)):0
	weakpages=$(((PART_OFF + 9) * EB / PAGE + 5)):0"
NANDSIM=$(echo $NANDSIM)
IMG_SIZE=$((12 * EB + 1000))
GOOD_AFTER=$(((PART_BLOCKS - 4) * EB))
W=$SU_BACKEND_WRITE
MTD_UTILS="/usr/sbin/nanddump /usr/sbin/flash_erase"

sum() {
	sha256sum < "$1" | cut -d' ' -f1
}
head -c $IMG_SIZE /dev/urandom > img.bin
head -c $IMG_SIZE /dev/urandom > img2.bin
# The image's last 1000 bytes, then 0xFF to the end of the block.
tail -c 1000 img.bin > lastblock.bin
head -c $((EB - 1000)) /dev/zero | tr '\0' '\377' >> lastblock.bin

cat > guest.sh <<EOF
W=$W
modprobe nandsim $NANDSIM
cat /proc/mtd
S=/sys/class/mtd/mtd1
[ "\$(cat \$S/type)" = nand ] && [ "\$(cat \$S/erasesize)" = $EB ] &&
	[ "\$(cat \$S/writesize)" = $PAGE ] &&
	[ "\$(cat \$S/size)" = $((PART_BLOCKS * EB)) ] ||
	{ echo "FAIL: mtd1 is not the 200-block NAND partition"; exit 1; }
[ "\$(cat \$S/bad_blocks)" = 2 ] || { echo "FAIL: mtd1 has \$(cat \$S/bad_blocks) bad blocks, want 2"; exit 1; }
echo "ok: mtd1: NAND, 2 KiB pages, 128 KiB blocks, 2 bad blocks"
. /lib/su-guest.sh

\$W mtd "mtd:NAND simulator partition 1" /img.bin readback=yes
dmesg | grep -E 'simulating (erase|write) failure' ||
	{ echo "FAIL: nandsim injected no failure"; exit 1; }
[ "\$(dmesg | grep -c 'simulating erase failure in erase block $((PART_OFF + 7))')" -ge 1 ] &&
	[ "\$(dmesg | grep -c 'simulating write failure in page $(((PART_OFF + 9) * EB / PAGE + 5))')" -ge 1 ] ||
	{ echo "FAIL: not both failures were injected"; exit 1; }
[ "\$(cat \$S/bad_blocks)" = 4 ] || { echo "FAIL: mtd1 has \$(cat \$S/bad_blocks) bad blocks, want 4"; exit 1; }
echo "ok: the erase and the write failure each cost one block, now marked bad"

nanddump -q --bb=skipbad -f /tmp/dump /dev/mtd1
got=\$(head -c $IMG_SIZE /tmp/dump | sha256sum | cut -d' ' -f1)
[ "\$got" = $(sum img.bin) ] || { echo "FAIL: nanddump --bb=skipbad reads \$got"; exit 1; }
echo "ok: nanddump --bb=skipbad equals the image"
# 13 good blocks needed, 4 bad ones stepped over: the last is block 16.
nanddump -q --bb=dumpbad -s $((16 * EB)) -l $EB -f /tmp/b16 /dev/mtd1
cmp /tmp/b16 /lastblock.bin || { echo "FAIL: block 16 is not the image's end, 0xFF-padded"; exit 1; }
echo "ok: block 16 holds the last 1000 bytes, then 0xFF"

# Again, over the 4 bad blocks: nothing new goes bad.
\$W mtd /dev/mtd1 /img2.bin readback=yes
[ "\$(cat \$S/bad_blocks)" = 4 ] || { echo "FAIL: mtd1 has \$(cat \$S/bad_blocks) bad blocks after the rewrite"; exit 1; }
got=\$(nanddump -q --bb=skipbad /dev/mtd1 | head -c $IMG_SIZE | sha256sum | cut -d' ' -f1)
[ "\$got" = $(sum img2.bin) ] || { echo "FAIL: the second image reads \$got"; exit 1; }
echo "ok: a second image over the 4 bad blocks"

truncate -s $((GOOD_AFTER + 1)) /tmp/big
refused "image of $((GOOD_AFTER + 1)) bytes does not fit: 196 of 200 eraseblocks of $EB bytes are good ($GOOD_AFTER bytes, 4 bad)" \\
	\$W mtd mtd1 /tmp/big

# Which blocks are bad: flash_erase names the ones it skips.
flash_erase /dev/mtd1 0 20 2>&1 | grep -o 'Skipping bad block at [0-9a-f]*' > /tmp/bad
cat /tmp/bad
printf 'Skipping bad block at %08x\n' $((2 * EB)) $((5 * EB)) $((7 * EB)) $((9 * EB)) |
	cmp - /tmp/bad || { echo "FAIL: the bad blocks are not 2, 5, 7 and 9"; exit 1; }
echo "ok: blocks 2, 5, 7 and 9 are bad"
EOF

bins="--bin $W"
for b in $MTD_UTILS; do
	bins="$bins --bin $b"
done
vm_initramfs guest.gz guest.sh $bins --file img.bin:/img.bin \
	--file img2.bin:/img2.bin --file lastblock.bin:/lastblock.bin
vm_run guest.log guest.gz || vm_fail "the NAND scenario failed; see above"
vm_pass "NAND with bad blocks, an erase and a write failure: written and read back"
