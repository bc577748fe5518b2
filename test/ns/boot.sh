#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.boot: the namespace rig boots. v1 (an ext4 root on a loop device)
# comes up with busybox init as PID 1 of a PID and mount namespace: the
# daemon answers /info over HTTPS with version 1.0.0 and its in_use
# target, the dummy service heartbeats. Killing the namespace leaves no
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

rig_stop
rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
pass "stopped: no mount and no loop device left"
