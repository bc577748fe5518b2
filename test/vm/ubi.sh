#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM test of the ubi backend (flash-backends/ubi.c), on UBI over
# block2mtd over a virtio disk, driven by su-backend-write:
#   * a volume update writes the right content (read back in the guest,
#     and again after detaching and re-attaching UBI);
#   * it keeps the erase counters: the host reads every PEB's headers
#     before and after, and ubi-pebs.py shows no reformat (see there);
#   * the updated volumes were rewritten as UBI does it: the host sees
#     every PEB they held before erased (EC up), every PEB they hold now
#     erased since, and their LEBs, read from the disk image after the
#     guest is gone, hold the new images (ubi-pebs.py updated, volume);
#     in the guest, after a fresh attach, the whole volume reads as the
#     new image followed by 0xFF;
#   * create = yes makes a missing volume (dynamic with volume_size,
#     static sized to the image); without it a missing volume is refused;
#   * a volume too small is refused, and grown with resize = yes;
#   * a volume open elsewhere, or mounted, is refused with a message that
#     says which;
#   * rename_to swaps the names of two volumes (A/B) after the update.
set -eu
. "$(dirname "$0")/lib.sh"

: "${SU_BACKEND_WRITE:=$(dirname "$SU_TEST_SRC")/build/dev/test/su-backend-write}"
[ -x "$SU_BACKEND_WRITE" ] ||
	vm_fail "su-backend-write not found at $SU_BACKEND_WRITE (set SU_BACKEND_WRITE)"
vm_need ubinize python3 sha256sum
vm_kernel
vm_mkwork

PEB=131072
LEB=$((PEB - 128))		# -m 1: EC header at 0, VID at 64, data at 128
DISK_SIZE=$((16 * 1024 * 1024))
W=$SU_BACKEND_WRITE
MTD_UTILS="/usr/sbin/ubiattach /usr/sbin/ubidetach /usr/sbin/ubinfo"

rand() {
	head -c "$2" /dev/urandom > "$1"
}
sum() {
	sha256sum < "$1" | cut -d' ' -f1
}
# padded FILE: FILE and then 0xFF to the 17 LEBs of a 2 MiB volume,
# which is how a dynamic volume reads after an update with FILE.
padded() {
	{ cat "$1"; head -c $((17 * LEB - $(stat -c %s "$1"))) /dev/zero |
		tr '\0' '\377'; } > "$1.vol"
	sum "$1.vol"
}
rand data.bin $((600 * 1024))		# volume 0: nobody writes it
rand old.bin $((1024 * 1024))		# volume 1 "rootfs" before
rand new.bin $((1500 * 1024 + 77))	# the update of "rootfs"
rand slot.bin $((512 * 1024))		# volume 2 "rootfs_new" before
rand b.bin $((700 * 1024 + 5))		# written to rootfs_new, then renamed
rand st.bin $((300 * 1024 + 1))		# a static volume, created
rand nv.bin $((100 * 1024))		# a dynamic volume of 1M, created
rand big.bin $((2 * LEB + 1000))	# does not fit "small" (1 LEB)

cat > ubi.ini <<EOF
[data]
mode=ubi
image=data.bin
vol_id=0
vol_size=1MiB
vol_type=dynamic
vol_name=data
[rootfs]
mode=ubi
image=old.bin
vol_id=1
vol_size=2MiB
vol_type=dynamic
vol_name=rootfs
[rootfs_new]
mode=ubi
image=slot.bin
vol_id=2
vol_size=2MiB
vol_type=dynamic
vol_name=rootfs_new
[small]
mode=ubi
vol_id=3
vol_size=$LEB
vol_type=dynamic
vol_name=small
[fs]
mode=ubi
vol_id=4
vol_size=4MiB
vol_type=dynamic
vol_name=fs
EOF
ubinize -o ubi.img -p $PEB -m 1 ubi.ini || vm_fail "ubinize failed"
vm_ff_image disk.img $DISK_SIZE ubi.img
python3 "$VM_DIR/ubi-pebs.py" dump disk.img $PEB > before.pebs

cat > guest.sh <<EOF
W=$W
modprobe block2mtd block2mtd=/dev/vda,$PEB,ubidisk
ubiattach -m 0 -d 0

# check VOLUME SIZE SHA256: the volume's first SIZE bytes hash to SHA256.
# whole VOLUME SHA256: all of the volume (every byte the node gives)
# hashes to SHA256.
whole() {
	node=/dev/ubi0_\$(vol_id "\$1")
	got=\$(sha256sum < "\$node" | cut -d' ' -f1)
	[ "\$got" = "\$2" ] || { echo "FAIL: \$1 (\$node) as a whole: \$got, want \$2"; exit 1; }
	echo "ok: \$1 (\$node) as a whole: the image, then 0xFF"
}
check() {
	node=/dev/ubi0_\$(vol_id "\$1")
	got=\$(head -c "\$2" "\$node" | sha256sum | cut -d' ' -f1)
	[ "\$got" = "\$3" ] || { echo "FAIL: \$1 (\$node): \$got, want \$3"; exit 1; }
	echo "ok: \$1 (\$node): the first \$2 bytes are right"
}
vol_id() {
	for v in /sys/class/ubi/ubi0_*; do
		[ "\$(cat \$v/name)" = "\$1" ] && { echo \${v##*_}; return 0; }
	done
	echo "FAIL: no volume \$1" >&2
	exit 1
}
sysfs() {
	cat /sys/class/ubi/ubi0_\$(vol_id "\$1")/\$2
}
. /lib/su-guest.sh

check data $(stat -c %s data.bin) $(sum data.bin)
check rootfs $(stat -c %s old.bin) $(sum old.bin)

# The update, with the backend's own read-back.
\$W ubi ubi0:rootfs /new.bin readback=yes
check rootfs $(stat -c %s new.bin) $(sum new.bin)
# A dynamic volume reads as erased after the image.
dd if=/dev/ubi0_1 of=/tmp/tail bs=4096 skip=$(($(stat -c %s new.bin) / 4096 + 1)) count=16 2>/dev/null
[ "\$(stat -c %s /tmp/tail)" = 65536 ] && [ "\$(tr -d '\\377' < /tmp/tail | wc -c)" = 0 ] ||
	{ echo "FAIL: rootfs after the image does not read as 0xFF"; exit 1; }
# The same by volume node.
\$W ubi /dev/ubi0_1 /old.bin readback=yes
check rootfs $(stat -c %s old.bin) $(sum old.bin)
\$W ubi ubi0:rootfs /new.bin
check rootfs $(stat -c %s new.bin) $(sum new.bin)

# Create: refused without create = yes, then static and dynamic.
refused "no such volume on ubi0 (set create = yes to create it)" \\
	\$W ubi ubi0:st /st.bin
\$W ubi ubi0:st /st.bin create=yes volume_type=static readback=yes
check st $(stat -c %s st.bin) $(sum st.bin)
[ "\$(sysfs st type)" = static ] || { echo "FAIL: st is \$(sysfs st type)"; exit 1; }
[ "\$(sysfs st data_bytes)" = $(stat -c %s st.bin) ] || { echo "FAIL: st holds \$(sysfs st data_bytes) bytes"; exit 1; }
[ "\$(sysfs st reserved_ebs)" = 3 ] || { echo "FAIL: st has \$(sysfs st reserved_ebs) LEBs, want 3"; exit 1; }
echo "ok: created static volume st: 3 LEBs, \$(sysfs st data_bytes) data bytes"
\$W ubi ubi0:nv /nv.bin create=yes volume_size=1M readback=yes
check nv $(stat -c %s nv.bin) $(sum nv.bin)
[ "\$(sysfs nv type)" = dynamic ] || { echo "FAIL: nv is \$(sysfs nv type)"; exit 1; }
[ "\$(sysfs nv reserved_ebs)" = 9 ] || { echo "FAIL: nv has \$(sysfs nv reserved_ebs) LEBs, want 9 (1 MiB)"; exit 1; }
echo "ok: created dynamic volume nv of 9 LEBs"
refused "the volume is dynamic but volume_type says static" \\
	\$W ubi ubi0:nv /nv.bin volume_type=static

# Resize: refused without resize = yes, grown with it.
refused "does not fit the volume's $LEB bytes (set resize = yes to grow it)" \\
	\$W ubi ubi0:small /big.bin
[ "\$(sysfs small reserved_ebs)" = 1 ] || { echo "FAIL: small was resized"; exit 1; }
\$W ubi ubi0:small /big.bin resize=yes readback=yes
check small $(stat -c %s big.bin) $(sum big.bin)
[ "\$(sysfs small reserved_ebs)" = 3 ] || { echo "FAIL: small has \$(sysfs small reserved_ebs) LEBs, want 3"; exit 1; }
echo "ok: small grown from 1 to 3 LEBs"

# Busy: open by another process (read-only, even).
sleep 60 < /dev/ubi0_1 &
holder=\$!
refused "ubi0:rootfs (/dev/ubi0_1): volume is busy: open by another process" \\
	\$W ubi ubi0:rootfs /old.bin
kill \$holder
wait \$holder || true
check rootfs $(stat -c %s new.bin) $(sum new.bin)
# Busy: mounted (UBIFS formats the empty volume at the first mount).
mkdir -p /mnt/fs
mount -t ubifs ubi0:fs /mnt/fs
refused "ubi0:fs (/dev/ubi0_4): volume is busy: mounted at /mnt/fs (ubifs)" \\
	\$W ubi ubi0:fs /nv.bin
refused "volume is busy: mounted at /mnt/fs (ubifs)" \\
	\$W ubi /dev/ubi0_4 /nv.bin
umount /mnt/fs

# A/B: write rootfs_new, which then swaps names with rootfs.
id_a=\$(vol_id rootfs)
id_b=\$(vol_id rootfs_new)
\$W ubi ubi0:rootfs_new /b.bin rename_to=rootfs readback=yes
[ "\$(vol_id rootfs)" = "\$id_b" ] && [ "\$(vol_id rootfs_new)" = "\$id_a" ] ||
	{ echo "FAIL: names not swapped"; exit 1; }
check rootfs $(stat -c %s b.bin) $(sum b.bin)
check rootfs_new $(stat -c %s new.bin) $(sum new.bin)
echo "ok: rename_to swapped rootfs (now volume \$id_b) and rootfs_new (now \$id_a)"

# All of it is on the flash: detach, attach again, read again.
ubidetach -d 0
ubiattach -m 0 -d 0
check data $(stat -c %s data.bin) $(sum data.bin)
check rootfs $(stat -c %s b.bin) $(sum b.bin)
check rootfs_new $(stat -c %s new.bin) $(sum new.bin)
whole rootfs $(padded b.bin)
whole rootfs_new $(padded new.bin)
check st $(stat -c %s st.bin) $(sum st.bin)
check nv $(stat -c %s nv.bin) $(sum nv.bin)
check small $(stat -c %s big.bin) $(sum big.bin)
ubinfo -d 0 -a | grep -E 'Volume ID|Name|Size|Type'
ubidetach -d 0
EOF

files=
for f in new.bin old.bin st.bin nv.bin big.bin b.bin; do
	files="$files --file $f:/$f"
done
bins="--bin $W"
for b in $MTD_UTILS; do
	bins="$bins --bin $b"
done
vm_initramfs guest.gz guest.sh $bins $files
vm_run guest.log guest.gz --disk disk.img ||
	vm_fail "the UBI scenario failed; see above"
vm_pass "update, create, resize, busy and rename on UBI over block2mtd"

python3 "$VM_DIR/ubi-pebs.py" dump disk.img $PEB > after.pebs
python3 "$VM_DIR/ubi-pebs.py" compare before.pebs after.pebs 0 ||
	vm_fail "the erase counters show a reformat"
vm_pass "erase counters kept: no reformat"
# Volumes 1 (rootfs, written three times and then renamed rootfs_new)
# and 2 (rootfs_new, now rootfs) were updated in place; 3 (small) was
# empty before, resized, then updated.
for v in 1 2; do
	python3 "$VM_DIR/ubi-pebs.py" updated before.pebs after.pebs $v ||
		vm_fail "volume $v was not rewritten through erased PEBs"
done
python3 "$VM_DIR/ubi-pebs.py" volume disk.img $PEB 1 new.bin &&
	python3 "$VM_DIR/ubi-pebs.py" volume disk.img $PEB 2 b.bin &&
	python3 "$VM_DIR/ubi-pebs.py" volume disk.img $PEB 3 big.bin ||
	vm_fail "the disk image does not hold the new images"
vm_pass "updated volumes: old PEBs erased, new PEBs erased before use, LEBs on the disk hold the new images"
