#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM test: gzip, xz and zstd payloads through the whole install path,
# `sysupgraded --install -c CONFIG BUNDLE` in the guest, onto a UBI
# volume (UBI on block2mtd over a virtio disk) and a raw NAND partition
# (nandsim, with a bad block in the way), with verify = readback. Each
# bundle (made on the host with sysupgrade-bundle create) carries new
# content for both targets; after each install the guest reads both
# back and compares them with the uncompressed images.
set -eu
. "$(dirname "$0")/lib.sh"

: "${SU_DAEMON:=$(dirname "$SU_TEST_SRC")/build/dev/daemon/sysupgraded}"
: "${SU_BUNDLE_TOOL:=$(dirname "$SU_TEST_SRC")/build/dev/tools/sysupgrade-bundle}"
[ -x "$SU_DAEMON" ] || vm_fail "sysupgraded not found at $SU_DAEMON (set SU_DAEMON)"
[ -x "$SU_BUNDLE_TOOL" ] ||
	vm_fail "sysupgrade-bundle not found at $SU_BUNDLE_TOOL (set SU_BUNDLE_TOOL)"
vm_need ubinize sha256sum
vm_kernel
vm_mkwork

PEB=131072
DISK_SIZE=$((8 * 1024 * 1024))
EB=131072
NAND_PART="NAND simulator partition 1"
NANDSIM="id_bytes=0x20,0xaa,0x00,0x15 parts=16,64 badblocks=18"
MTD_UTILS="/usr/sbin/ubiattach /usr/sbin/nanddump"
COMPRESSIONS="gzip xz zstd"

sum() {
	sha256sum < "$1" | cut -d' ' -f1
}
# image FILE RANDOM ZEROS: compressible, but not trivially.
image() {
	{ head -c "$2" /dev/urandom; head -c "$3" /dev/zero; } > "$1"
}

mkdir keys
"$SU_BUNDLE_TOOL" keygen --key signing.pem --pub keys/test.pub.pem \
	>/dev/null || vm_fail "sysupgrade-bundle keygen failed"
head -c 1000 /dev/urandom > old.bin
cat > ubi.ini <<EOF
[rootfs]
mode=ubi
image=old.bin
vol_id=0
vol_size=3MiB
vol_type=dynamic
vol_name=rootfs
EOF
ubinize -o ubi.img -p $PEB -m 1 ubi.ini || vm_fail "ubinize failed"
vm_ff_image disk.img $DISK_SIZE ubi.img

cat > sysupgraded.conf <<EOF
[device]
compatible = acme,vm
version = 1.0
keys = /etc/keys

[target:rootfs]
type = ubi
device = ubi0:rootfs
verify = readback

[target:kernel]
type = mtd
device = mtd:$NAND_PART
verify = readback
EOF

files="--file sysupgraded.conf:/etc/sysupgraded.conf
	--file keys/test.pub.pem:/etc/keys/test.pub.pem"
checks=
v=0
for c in $COMPRESSIONS; do
	v=$((v + 1))
	image rootfs-$c.bin $((600 * 1024 + v)) $((900 * 1024))
	image kernel-$c.bin $((300 * 1024 + v)) $((500 * 1024 + 17))
	"$SU_BUNDLE_TOOL" create --version 1.$v --compatible acme,vm \
		--image rootfs-$c.bin:ubi:rootfs:$c \
		--image kernel-$c.bin:mtd:kernel:$c \
		--key signing.pem --output $c.sub >/dev/null ||
		vm_fail "sysupgrade-bundle create ($c) failed"
	stored=$(tar -tvf $c.sub | awk '{ print $6 ": " $3 }' | tr '\n' ' ')
	echo "bundle $c.sub: $stored"
	tar -tf $c.sub | grep -qx "rootfs-$c.bin.$(echo $c | sed 's/gzip/gz/; s/zstd/zst/')" ||
		vm_fail "$c.sub has no compressed rootfs payload"
	files="$files --file $c.sub:/$c.sub"
	checks="$checks
install $c $(stat -c %s rootfs-$c.bin) $(sum rootfs-$c.bin) $(stat -c %s kernel-$c.bin) $(sum kernel-$c.bin)"
done

cat > guest.sh <<EOF
modprobe block2mtd block2mtd=/dev/vda,$PEB,ubidisk
modprobe nandsim $NANDSIM
cat /proc/mtd
ubiattach -m 0 -d 0
kernel=\$(grep -l "^$NAND_PART\\\$" /sys/class/mtd/mtd*/name | head -n 1)
kernel=/dev/\$(basename \$(dirname \$kernel))
echo "kernel partition: \$kernel"

# install COMPRESSION ROOTFS_SIZE ROOTFS_SHA KERNEL_SIZE KERNEL_SHA
install() {
	$SU_DAEMON -c /etc/sysupgraded.conf --install /\$1.sub
	got=\$(head -c \$2 /dev/ubi0_0 | sha256sum | cut -d' ' -f1)
	[ "\$got" = \$3 ] || { echo "FAIL: \$1: ubi0:rootfs reads \$got, want \$3"; exit 1; }
	got=\$(nanddump -q --bb=skipbad \$kernel | head -c \$4 | sha256sum | cut -d' ' -f1)
	[ "\$got" = \$5 ] || { echo "FAIL: \$1: \$kernel reads \$got, want \$5"; exit 1; }
	echo "ok: \$1 bundle installed: ubi0:rootfs and \$kernel read back right"
}
$checks
EOF

vm_initramfs guest.gz guest.sh --bin "$SU_DAEMON" $(for b in $MTD_UTILS; do echo --bin $b; done) $files
vm_run guest.log guest.gz --disk disk.img ||
	vm_fail "the compression scenario failed; see above"
for c in $COMPRESSIONS; do
	grep -q "^ok: $c bundle installed" guest.log ||
		vm_fail "no $c install in the log"
done
vm_pass "gzip, xz and zstd payloads installed onto UBI and NAND by sysupgraded --install"
