#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.boot: the namespace rig boots. v1 (an ext4 root on a loop device)
# comes up with busybox init as PID 1 of a PID and mount namespace: the
# daemon answers /info over HTTPS with version 1.0.0 and its in_use
# target, the dummy service heartbeats, and a v2 bundle (rig_bundle)
# uploads and stages. Killing the namespace leaves no
# mount and no loop device behind.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

rig_init
rig_rootfs v1 1.0.0 "$RIG_BUILD"
rig_image v1.img v1
rig_env env.img
loop=$(rig_loop v1.img)
rig_boot "$loop" console.log

rig_wait_https
pass "the namespace's daemon answers /info over HTTPS on 127.0.0.1:$PORT"
assert_eq init "$(cat "/proc/$RIG_NSPID/comm")" "PID 1 of the namespace"
NOAUTH=1 expect_api 200 "GET /info" GET /info
assert_eq 1.0.0 "$(json 'j["version"]')" "/info version"
assert_eq '[["rootfs", "ext4", true]]' \
	"$(json '[[t["name"], t["type"], t["in_use"]] for t in j["targets"]]')" \
	"/info targets"
pass "/info: version 1.0.0, rootfs is the in_use ext4 target"
mnt=$(grep ' / / ' "/proc/$RIG_NSPID/mountinfo" | tail -n 1)
case $mnt in
*" - ext4 $loop "*) ;;
*) fail "the namespace's / is not the ext4 on $loop: $mnt" ;;
esac
pass "the namespace's / is the ext4 on $loop"

rig_heartbeat
grep -q '^dummy-service: started' "$RIG_HOST/dummy.log" ||
	fail "no start in /host/dummy.log: $(cat "$RIG_HOST/dummy.log")"
pass "the dummy service heartbeats"

# a v2 root as a bundle: the daemon in the namespace takes it
rig_rootfs v2 2.0.0 "$RIG_BUILD"
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar
assert_eq 2.0.0 "$(json 'j["version"]')" "the staged bundle's version"
assert_eq staged "$(status_field 'j["state"]')" "state after the upload"
[ -f "$(rig_nsfile "$RIG_STAGING/bundle.tar")" ] ||
	fail "no bundle.tar in the namespace's $RIG_STAGING"
expect_api 204 "discard v2" DELETE /bundle
pass "the namespace's daemon verifies and stages a v2 bundle ($(stat -c %s v2.tar) bytes)"

assert_eq boot "$(rig_env_get bootcmd)" "the environment's bootcmd"

rig_stop
rig_extract "$loop" after
assert_eq 1.0.0 "$(cat after/etc/version)" "/etc/version on the loop device"
[ -s after/var/lib/dummy/heartbeat ] || fail "no heartbeat on the loop device"
pass "the root on $loop holds what the namespace wrote (rig_extract)"
rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
pass "stopped: no mount and no loop device left"
