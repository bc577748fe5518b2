#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.inplace-tar: the in-place upgrade of ns.inplace with a `tar` target:
# the rootfs target is `type = tar` on the loop device that is /
# (fstype = ext4, mkfs = yes, mkfs_options = -L rigtar, allow_devices =
# yes), and the bundle's image is a tarball of v2's root. mkfs.ext4
# reaches the ramfs through [install] extra_files (its libraries by the
# loader's --list). Stage 2 makes a new filesystem on the device that
# was /, extracts v2 onto it, restores v1's kept files and reboots (the
# namespace ends: 129). Then the device holds a new ext4 (another UUID
# than v1's, the label of mkfs_options) with v2's files (a device node
# among them), v1's kept files, and nothing else of v1.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

MKFS=/sbin/mkfs.ext4

rig_init
need blkid
[ -x "$MKFS" ] || fail "$MKFS is missing (Debian's e2fsprogs)"
RIG_CONF_INSTALL="extra_files = $MKFS"
RIG_CONF_TARGETS="[target:rootfs]
type = tar
device = /dev/rigroot
in_use = yes
fstype = ext4
mkfs = yes
mkfs_options = -L rigtar
allow_devices = yes"
rig_rootfs v1 1.0.0 "$RIG_BUILD"
root_copy_elf v1 "$MKFS"
echo "only in v1" >v1/etc/rig/v1-only
rig_image v1.img v1
rig_env env.img
loop=$(rig_loop v1.img)
v1_uuid=$(blkid -p -s UUID -o value "$loop")
[ -n "$v1_uuid" ] || fail "no UUID on $loop"
rig_boot "$loop" console.log
rig_wait_https
rig_heartbeat
NOAUTH=1 expect_api 200 "GET /info" GET /info
assert_eq '[["rootfs", "tar", true]]' \
	"$(json '[[t["name"], t["type"], t["in_use"]] for t in j["targets"]]')" \
	"/info targets"
pass "v1 up (ext4 UUID $v1_uuid), its rootfs the in_use tar target"

rig_rootfs v2 2.0.0 "$RIG_BUILD"
root_copy_elf v2 "$MKFS"
echo "only in v2" >v2/etc/rig/v2-only
mknod -m 0600 v2/dev/console c 5 1
rig_tarball v2.rootfs.tar v2
rig_bundle v2.tar 2.0.0 v2.rootfs.tar "" tar
expect_api 200 "upload v2 (a tarball of $(stat -c %s v2.rootfs.tar) bytes)" POST /bundle -T v2.tar
expect_api 202 "POST /install" POST /install -d '{"keep_config": true}'
rig_wait_end "" 120
assert_eq 129 "$RIG_STATUS" "the namespace's end (reboot() in a PID namespace)"
pass "install, handover, stage 2 (mkfs, extraction), reboot: the namespace ended with 129"

grep -q "stage 2: serving; installing 2.0.0" console.log ||
	fail "stage 2 did not install: $(grep 'stage 2' console.log)"

# ---- a new filesystem ----
rig_wait_unmounted "$loop"
v2_uuid=$(blkid -p -s UUID -o value "$loop")
[ -n "$v2_uuid" ] || fail "no UUID on $loop after the install"
[ "$v2_uuid" != "$v1_uuid" ] || fail "the device's ext4 UUID is still v1's ($v1_uuid): no new filesystem"
assert_eq ext4 "$(blkid -p -s TYPE -o value "$loop")" "the new filesystem's type"
assert_eq rigtar "$(blkid -p -s LABEL -o value "$loop")" "the new filesystem's label (mkfs_options)"
pass "a new ext4 on $loop: UUID $v2_uuid (v1's was $v1_uuid), label rigtar"

# ---- what the device holds ----
rig_extract "$loop" after
assert_eq 2.0.0 "$(cat after/etc/version)" "/etc/version on the device"
assert_eq "only in v2" "$(cat after/etc/rig/v2-only)" "a v2 file"
[ ! -e after/etc/rig/v1-only ] || fail "a v1 file survived the new filesystem"
[ ! -e after/var/lib/dummy/heartbeat ] || fail "v1's heartbeat survived the new filesystem"
assert_eq "kept.conf of 1.0.0" "$(cat after/etc/rig/kept.conf)" "kept (keep)"
assert_eq "kept.d/a.conf of 1.0.0" "$(cat after/etc/rig/kept.d/a.conf)" "kept (keep glob)"
assert_eq "listed.conf of 1.0.0" "$(cat after/etc/rig/listed.conf)" "kept (keep.d)"
assert_eq "not-kept.conf of 2.0.0" "$(cat after/etc/rig/not-kept.conf)" "not kept"
[ -c after/dev/console ] || fail "/dev/console on the device is not a character device (allow_devices)"
assert_eq "5 1" "$(stat -c '%t %T' after/dev/console)" "/dev/console's numbers on the device"
[ -x after/usr/sbin/sysupgraded ] && [ -L after/bin ] ||
	fail "v2's tree is not whole: $(ls -la after)"
assert_eq "$(readlink v2/bin)" "$(readlink after/bin)" "the /bin link"
[ ! -e after/.sysupgraded-new ] || fail "the extraction's staging directory is left"
pass "the device holds v2 (a tarball extracted, /dev/console a device node), with v1's kept files"

assert_eq 2.0.0 "$(rig_env_get rig_version)" "the bundle's bootenv variable"
rec=$(rig_env_get sysupgrade_last)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["version"]=="2.0.0" and r["result"]=="success", r' "$rec" ||
	fail "last_install in the environment: $rec"
grep -q "rig-services: stop" "$RIG_HOST/services.log" ||
	fail "the stop command did not run: $(cat "$RIG_HOST/services.log")"
grep -q '^dummy-service: stopped gracefully' "$RIG_HOST/dummy.log" ||
	fail "the dummy service did not stop gracefully: $(cat "$RIG_HOST/dummy.log")"
pass "bootenv: rig_version=2.0.0, last_install success; the services stopped gracefully"

# the new system boots
rig_boot "$loop" console2.log
rig_wait_https
NOAUTH=1 expect_api 200 "GET /info of v2" GET /info
assert_eq 2.0.0 "$(json 'j["version"]')" "/info version after the reboot"
assert_eq success "$(json 'j["last_install"]["result"]')" "/info last_install after the reboot"
rig_stop
pass "v2 boots from the new filesystem: /info 2.0.0, last_install success"

rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
rig_check_log console2.log
pass "no mount and no loop device left"
