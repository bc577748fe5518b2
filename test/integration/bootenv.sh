#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The U-Boot environment on file-backed copies made with mkenvimage:
# lib/bootenv.h (through su-bootenv) writes what fw_printenv then reads,
# a group of variables is one write (a redundant pair's flag advances by
# one), of two commits from one open the second is the one read,
# `sysupgraded --mark-good` confirms a boot, and refused installs
# leave the environment byte for byte as it was. Each image written is
# read back: its CRC holds over the whole data area (env_image_check).
# The A/B flip through install_plan_build/install_run is in
# test/unit/test_install.c.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"

: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
: "${SU_BOOTENV_TOOL:?SU_BOOTENV_TOOL must name the su-bootenv binary}"
BOOTENV=$SU_BOOTENV_TOOL

need mkenvimage fw_printenv od cmp
mkwork

# printenv CONFIG NAME: the value fw_printenv reads, or "(unset)".
# (fw_printenv NAME prints "NAME=" for an unset variable too, so read
# the whole listing.)
printenv() {
	fw_printenv -c "$1" >env.txt || fail "fw_printenv -c $1 failed"
	if grep -q "^$2=" env.txt; then
		sed -n "s/^$2=//p" env.txt
	else
		echo "(unset)"
	fi
}

# expect_env CONFIG NAME VALUE
expect_env() {
	assert_eq "$3" "$(printenv "$1" "$2")" "fw_printenv -c $1 $2"
}

# flag FILE [OFFSET]: the redundant-copy flag byte (after the CRC).
flag() {
	od -An -tu1 -j $((${2:-0} + 4)) -N1 "$1" | tr -d ' '
}

printf 'boot_slot=a\nbootcount=3\nfoo=bar\n' >vars.txt

# ---- a single copy ----
mkenvimage -s 0x4000 -o env.bin vars.txt
# libubootenv reads the size as hex: "device offset envsize".
echo "$WORK/env.bin 0x0 0x4000" >single.config
expect_ok "get boot_slot" "$BOOTENV" single.config get boot_slot
assert_eq a "$(cat out)" "su-bootenv get boot_slot"
expect_status 1 "get an unset variable" "$BOOTENV" single.config get nothing
expect_ok "set a group" "$BOOTENV" single.config set boot_slot=b \
	upgrade_available=1 bootcount=0 "note=a=b" foo
expect_env single.config boot_slot b
expect_env single.config upgrade_available 1
expect_env single.config bootcount 0
expect_env single.config note a=b
expect_env single.config foo "(unset)"
env_image_check single.config
pass "single copy: fw_printenv reads what bootenv_commit wrote; the image's CRC holds"

# ---- a redundant pair ----
# newest FILE1 OFF1 FILE2 OFF2: the higher flag of the two copies.
newest() {
	_n_1=$(flag "$1" "$2")
	_n_2=$(flag "$3" "$4")
	echo $((_n_1 > _n_2 ? _n_1 : _n_2))
}

# check_redundant CONFIG FILE1 OFF1 FILE2 OFF2 (flags start at 1)
check_redundant() {
	_cr_config=$1
	shift
	expect_ok "redundant set" "$BOOTENV" "$_cr_config" set boot_slot=b \
		upgrade_available=1 bootcount=0 foo
	expect_env "$_cr_config" boot_slot b
	expect_env "$_cr_config" upgrade_available 1
	expect_env "$_cr_config" bootcount 0
	expect_env "$_cr_config" foo "(unset)"
	# Four changes, one store: the flag advanced by one.
	assert_eq 2 "$(newest "$@")" "newest flag after one set"
	expect_ok "second set" "$BOOTENV" "$_cr_config" set boot_slot=a extra=1
	expect_env "$_cr_config" boot_slot a
	expect_env "$_cr_config" extra 1
	expect_env "$_cr_config" upgrade_available 1
	assert_eq 3 "$(newest "$@")" "newest flag after two sets"
	env_image_check "$_cr_config"
	# Two commits from one open, as an install makes (its marker, then
	# its final store), now that the copies' flags differ: the second
	# is the newest copy, and it is what is read.
	expect_ok "two commits in one open" "$BOOTENV" "$_cr_config" set \
		sysupgrade_transaction=2.0 then sysupgrade_transaction boot_slot=b
	expect_env "$_cr_config" sysupgrade_transaction "(unset)"
	expect_env "$_cr_config" boot_slot b
	assert_eq 5 "$(newest "$@")" "newest flag after two commits in one open"
	# ... and once more, from a pair whose newest copy is the other one
	expect_ok "two more commits in one open" "$BOOTENV" "$_cr_config" set \
		sysupgrade_transaction=3.0 then sysupgrade_transaction boot_slot=a
	expect_env "$_cr_config" sysupgrade_transaction "(unset)"
	expect_env "$_cr_config" boot_slot a
	assert_eq 7 "$(newest "$@")" "newest flag after two more commits"
	env_image_check "$_cr_config"
}

# Two files: the first valid with flag 1, the second never written.
mkenvimage -r -s 0x4000 -o red1.bin vars.txt
head -c 16384 /dev/zero >red2.bin
printf '%s 0x0 0x4000\n%s 0x0 0x4000\n' "$WORK/red1.bin" "$WORK/red2.bin" \
	>pair.config
assert_eq 1 "$(flag red1.bin)" "mkenvimage -r flag"
check_redundant pair.config red1.bin 0 red2.bin 0
pass "redundant pair in two files: one flag step per commit"

# One file, two offsets.
mkenvimage -r -s 0x4000 -o both.bin vars.txt
head -c 16384 /dev/zero >>both.bin
printf '%s 0x0 0x4000\n%s 0x4000 0x4000\n' "$WORK/both.bin" "$WORK/both.bin" \
	>offsets.config
check_redundant offsets.config both.bin 0 both.bin 16384
pass "redundant pair at two offsets: one flag step per commit"

# ---- sysupgraded --mark-good ----
mkdir keys
"$TOOL" keygen --key signing.pem --pub keys/test.pub.pem >/dev/null
# write_config ENV_CONFIG
write_config() {
	echo "sysupgrade.slot=a" >"$WORK/cmdline"
	cat >sysupgraded.conf <<EOF
[device]
compatible = acme,router-x1
version = 1.0
keys = $WORK/keys
fw_env_config = $1
cmdline = $WORK/cmdline
booted_slot_arg = sysupgrade.slot

[target:rootfs]
type = ext4
a = $WORK/slot-a
b = $WORK/slot-b
slot_var = boot_slot

[target:system]
type = ext4
device = $WORK/system
in_use = yes
EOF
}

printf 'boot_slot=b\nbootcount=2\nupgrade_available=1\n' >vars.txt
mkenvimage -s 0x4000 -o env.bin vars.txt
write_config "$WORK/single.config"
expect_ok "--mark-good" "$SU_DAEMON" --mark-good -c sysupgraded.conf
expect_env single.config upgrade_available "(unset)"
expect_env single.config bootcount 0
expect_env single.config boot_slot b
pass "--mark-good on a single copy"

mkenvimage -r -s 0x4000 -o red1.bin vars.txt
head -c 16384 /dev/zero >red2.bin
write_config "$WORK/pair.config"
expect_ok "--mark-good (redundant)" "$SU_DAEMON" --mark-good -c sysupgraded.conf
expect_env pair.config upgrade_available "(unset)"
expect_env pair.config bootcount 0
assert_eq 2 "$(flag red2.bin)" "--mark-good: one store"
pass "--mark-good on a redundant pair: one store"

write_config "$WORK/missing.config"
expect_status 1 "--mark-good without an environment" \
	"$SU_DAEMON" --mark-good -c sysupgraded.conf
err_has "config_error: open $WORK/missing.config" "--mark-good without an environment"
pass "--mark-good names a missing fw_env.config"

# ---- refused installs leave the environment as it was ----
write_config "$WORK/single.config"
printf 'boot_slot=a\nbootcount=1\n' >vars.txt
mkenvimage -s 0x4000 -o env.bin vars.txt
cp env.bin env.before
head -c 70000 /dev/urandom >root.img

# refused WHAT CODE BUNDLE [OPTIONS]
refused() {
	_r_what=$1
	_r_code=$2
	shift 2
	expect_status 1 "$_r_what" "$SU_DAEMON" -c sysupgraded.conf --install "$@"
	err_has "install: $_r_code: " "$_r_what"
	cmp -s env.bin env.before || fail "$_r_what: the environment changed"
	pass "$_r_what -> $_r_code, environment untouched"
}

"$TOOL" create --version 2.0 --compatible acme,router-x1 \
	--image root.img:ext4:nosuch --key signing.pem --output unknown.tar
refused "unknown target" unknown_target unknown.tar
err_has "target 'nosuch' is not defined in sysupgraded.conf" "unknown target"

"$TOOL" create --version 2.0 --compatible acme,router-x1 \
	--image root.img:tar:rootfs --key signing.pem --output type.tar
refused "type mismatch" unknown_target type.tar

"$TOOL" create --version 2.0 --compatible acme,router-x1 \
	--image root.img:ext4:system --key signing.pem --output inuse.tar
refused "in-use target" busy inuse.tar
err_has "target system is in use by the running system; install in place through the daemon" \
	"in-use target"

"$TOOL" create --version 0.9 --compatible acme,router-x1 \
	--image root.img:ext4:rootfs:gzip --key signing.pem --output old.tar
refused "downgrade" downgrade old.tar

"$TOOL" create --version 2.0 --compatible acme,other \
	--image root.img:ext4:rootfs --key signing.pem --output other.tar
refused "incompatible" incompatible other.tar

# The booted slot comes from the running system, never the variable.
echo "quiet sysupgrade.slot=c" >"$WORK/cmdline"
"$TOOL" create --version 2.0 --compatible acme,router-x1 \
	--image root.img:ext4:rootfs --key signing.pem --output ab.tar
refused "booted slot naming no slot" config_error ab.tar
err_has "target rootfs: cannot tell which slot is running, so none is written: sysupgrade.slot=c in $WORK/cmdline names neither slot a ('a') nor slot b ('b')" \
	"booted slot naming no slot"
echo "quiet sysupgrade.slot=a" >"$WORK/cmdline"

# ---- the command line ----
expect_status 1 "daemon mode without a listen address" "$SU_DAEMON" -c sysupgraded.conf
err_has "has neither listen nor http_listen" "daemon mode without a listen address"
expect_status 2 "--force alone" "$SU_DAEMON" --force
expect_status 2 "--install with --mark-good" "$SU_DAEMON" --install x --mark-good
expect_ok "--version" "$SU_DAEMON" --version
grep -q "^sysupgraded .*(sha256: " out || fail "--version: $(cat out)"
expect_ok "--help" "$SU_DAEMON" --help
grep -q "^Usage: sysupgraded" out || fail "--help: $(cat out)"
pass "command line"
