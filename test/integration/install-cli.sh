#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `sysupgraded --install` on this machine's kernel: an A/B ext4 target on
# two loop devices and a tar target on a third, with raw, gzip, xz and
# zstd payloads. Each install writes the inactive slot, flips boot_slot
# and sets upgrade_available/bootcount in a file-backed U-Boot
# environment, with the install's result (sysupgrade_last); a refused
# bundle leaves the environment byte for byte; a failed write is
# recorded as failed.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/loop.sh"
: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"

loop_init
need mkenvimage fw_printenv tar cmp

"$TOOL" keygen --key sign.pem --pub keys.pub.pem >/dev/null
mkdir keys && mv keys.pub.pem keys/

for s in a b tar; do
	truncate -s 32M "slot-$s.img"
	loop_attach "slot-$s.img"
	eval "LOOP_$s=\$LOOP"
done
# shellcheck disable=SC2154  # set by eval above
LOOP_TAR=$LOOP_tar

printf 'boot_slot=a\nbootcount=3\n' > env.txt
mkenvimage -s 0x4000 -o env.bin env.txt
echo "$WORK/env.bin 0x0 0x4000" > fw_env.config
echo 1.0 > version
echo "console=ttyS0 sysupgrade.slot=a" > cmdline

cat > su.conf <<EOF
[device]
compatible = test,install-cli
version_file = $WORK/version
keys = $WORK/keys
fw_env_config = $WORK/fw_env.config
cmdline = $WORK/cmdline
booted_slot_arg = sysupgrade.slot

[target:rootfs]
type = ext4
a = $LOOP_a
b = $LOOP_b
slot_var = boot_slot
verify = readback

[target:data]
type = tar
device = $LOOP_TAR
mkfs = yes
EOF

env_var() {	# NAME: its value, or "unset"
	fw_printenv -c fw_env.config > env.out 2>&1 ||
		fail "fw_printenv: $(cat env.out)"
	grep "^$1=" env.out | cut -d= -f2- | grep . || echo unset
}

# make_images TAG: rootfs.ext4 and data.tar, each carrying TAG.
make_images() {
	rm -rf tree data && mkdir -p tree/etc data/sub
	echo "$1" > tree/etc/tag
	head -c 300000 /dev/urandom > tree/blob
	mkfs.ext4 -q -F -d tree rootfs.ext4 8M
	echo "$1" > data/tag
	ln -s tag data/sub/link
	tar -C data -cf data.tar .
}

slot=a
old=a
version=1
for comp in none gzip xz zstd; do
	version=$((version + 1))
	make_images "v$version-$comp"
	sfx=
	[ "$comp" = none ] || sfx=":$comp"
	expect_ok "create $comp" "$TOOL" create --version "$version.0" \
		--compatible test,install-cli --bootenv "fw_tag=v$version" \
		--image "rootfs.ext4:ext4:rootfs$sfx" \
		--image "data.tar:tar:data$sfx" --key sign.pem --output b.bundle
	expect_ok "install $comp" "$SU_DAEMON" -c su.conf --install b.bundle

	# the inactive slot got the image, and the environment flipped
	[ $slot = a ] && new=b || new=a
	eval "dev=\$LOOP_$new"
	cmp -n "$(stat -c %s rootfs.ext4)" rootfs.ext4 "$dev" ||
		fail "$comp: slot $new ($dev) does not hold the image"
	assert_eq "$new" "$(env_var boot_slot)" "$comp: boot_slot"
	assert_eq 1 "$(env_var upgrade_available)" "$comp: upgrade_available"
	assert_eq 0 "$(env_var bootcount)" "$comp: bootcount"
	assert_eq "v$version" "$(env_var fw_tag)" "$comp: bundle bootenv"
	assert_eq unset "$(env_var sysupgrade_transaction)" "$comp: marker"
	case $(env_var sysupgrade_last) in
	"{\"version\":\"$version.0\",\"result\":\"success\",\"error\":\"\",\"time\":\"20"??-??-??T??:??:??Z\"}) ;;
	*) fail "$comp: sysupgrade_last = $(env_var sysupgrade_last)" ;;
	esac
	slot=$new

	# the tarball landed on a fresh filesystem, and nothing stays mounted
	assert_unmounted "$LOOP_TAR" "$comp"
	mkdir -p mnt && mount -o ro "$LOOP_TAR" mnt
	got=$(cat mnt/tag); link=$(readlink mnt/sub/link)
	umount mnt
	assert_eq "v$version-$comp" "$got" "$comp: data/tag"
	assert_eq tag "$link" "$comp: data/sub/link"
	echo "$version.0" > version
	pass "$comp: A/B ext4 slot $new and tar target written, environment flipped"

	# Rebooted into the new slot: the kernel command line says so.
	if [ "$comp" = zstd ]; then
		# ...except after the last one: no reboot yet. A second
		# install must not write the slot that is still running.
		eval "running=\$LOOP_$old"
		run_sha=$(sha256sum < "$running")
		cp env.bin env.before
		expect_status 1 "install before the reboot" "$SU_DAEMON" -c su.conf --install b.bundle --force
		err_has "install: reboot_pending: " "install before the reboot"
		err_has "reboot first" "install before the reboot"
		cmp env.bin env.before || fail "reboot_pending changed the environment"
		assert_eq "$run_sha" "$(sha256sum < "$running")" "the running slot after reboot_pending"
		pass "--install before the reboot -> reboot_pending, running slot $old untouched"
	fi
	echo "console=ttyS0 sysupgrade.slot=$new" > cmdline
	old=$new
done

# A refused bundle changes nothing: an older version, and a target the
# config does not name.
cp env.bin env.before
echo 9.0 > version
expect_status 1 "downgrade" "$SU_DAEMON" -c su.conf --install b.bundle
echo 1.0 > version
err_has "downgrade" "downgrade refused"
"$TOOL" create --version 9.0 --compatible test,install-cli \
	--image "rootfs.ext4:ext4:elsewhere" --key sign.pem --output bad.bundle >/dev/null
expect_status 1 "unknown target" "$SU_DAEMON" -c su.conf --install bad.bundle
err_has "unknown_target" "unknown target refused"
cmp env.bin env.before || fail "a refused install changed the environment"
pass "refused bundles leave the environment untouched"

# A bundle file others can write could change between verification and
# the write: refused before it is read.
"$TOOL" create --version 9.0 --compatible test,install-cli \
	--image "rootfs.ext4:ext4:rootfs" --key sign.pem --output ww.bundle >/dev/null
for mode in 0646 0664; do
	chmod "$mode" ww.bundle
	chgrp nogroup ww.bundle
	expect_status 1 "bundle mode $mode" "$SU_DAEMON" -c su.conf --install ww.bundle
	err_has "can be written by other users (mode $mode" "bundle mode $mode"
done
cmp env.bin env.before || fail "a writable bundle changed the environment"
pass "a bundle file other users can write is refused"

# A write that fails (an image larger than the slot): the install says
# so, the slot does not flip, and the record says failed.
rm -rf tree && mkdir tree && echo big > tree/tag
mkfs.ext4 -q -F -d tree big.ext4 40M
"$TOOL" create --version 9.1 --compatible test,install-cli \
	--image "big.ext4:ext4:rootfs:gzip" --key sign.pem --output big.bundle >/dev/null
booting=$(env_var boot_slot)
expect_status 1 "an image larger than its slot" "$SU_DAEMON" -c su.conf --install big.bundle
err_has "install: write_failed: image big.ext4.gz -> target rootfs" "an image larger than its slot"
assert_eq "$booting" "$(env_var boot_slot)" "boot_slot after the failed write"
case $(env_var sysupgrade_last) in
'{"version":"9.1","result":"failed","error":"write_failed: image big.ext4.gz -> target rootfs'*) ;;
*) fail "sysupgrade_last after the failed write: $(env_var sysupgrade_last)" ;;
esac
pass "a failed --install: write_failed, no flip, recorded as failed"

expect_ok "mark-good" "$SU_DAEMON" -c su.conf --mark-good
assert_eq unset "$(env_var upgrade_available)" "mark-good: upgrade_available"
assert_eq 0 "$(env_var bootcount)" "mark-good: bootcount"
pass "--mark-good confirms the boot"
