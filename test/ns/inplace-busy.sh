#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.inplace-busy: the old root is still busy when stage 2 first tries
# to unmount it, and frees itself a moment later. A holder outside the
# namespace, where stage 2's SIGKILL does not reach, keeps a file of
# v1's root open through /proc/PID/root, which pins that mount. It
# lets go once stage 2 says the old root is busy. Stage 2 tries again,
# unmounts it, writes v2 and reboots (the namespace ends with 129). It
# says how long the old root was busy, and nothing stayed in use.
# Then, booted from the device, v2 and a v3 bundle, with a holder that
# lets go only when told: the old root stays busy past stage 2's tries,
# so it is made read-only and the write refused (write_failed, the
# device mounted), and stage 2 serves on. Once the holder has let go, a
# retried upload and POST /install to stage 2 unmount the old root,
# write v3 and reboot.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

# hold VERSION LOG UNTIL: the holder, in the background ($holder): an
# open file of the namespace's root (its /etc/version must say VERSION)
# until the file UNTIL exists, or with UNTIL "-" until LOG says the old
# root is busy; 120 s at most. Its own process, so the test shell holds
# nothing of the namespace.
hold() {
	local i
	rm -f holder.log
	python3 "$SU_TEST_SRC/ns/hold.py" "$(rig_nsfile /etc/version)" "$2" "$3" holder.log &
	holder=$!
	D_EXTRA_PIDS="$D_EXTRA_PIDS $holder"
	for i in $(seq 50); do
		grep -q '^holding' holder.log 2>/dev/null && break
		sleep 0.1
	done
	grep -q "^holding .*: $1\$" holder.log ||
		fail "the holder did not open the root's /etc/version ($1): $(cat holder.log 2>&1)"
}

# let_go: the holder's end, when it was told to let go
let_go() {
	wait "$holder" || fail "the holder failed: $(cat holder.log)"
	grep -q '^let go$' holder.log || fail "the holder: $(cat holder.log)"
	! grep -q 'never told' holder.log ||
		fail "the holder was never told to let go: $(grep -h 'stage 2' console*.log)"
}

rig_init
rig_rootfs v1 1.0.0 "$RIG_BUILD" busybox
rig_up v1
loop=$RIG_ROOT_LOOP
pass "v1 up, the dummy service heartbeats"

rig_rootfs v2 2.0.0 "$RIG_BUILD" busybox
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar

hold 1.0.0 console.log -
expect_api 202 "POST /install" POST /install -d '{}'
rig_wait_end "" 120
assert_eq 129 "$RIG_STATUS" "the namespace's end (reboot() in a PID namespace)"
let_go
pass "stage 2 found the old root busy while the holder had a file of it open"

grep -q 'stage 2: the old root was busy for [0-9]* ms, then unmounted' console.log ||
	fail "stage 2 did not say the old root came free: $(grep 'stage 2' console.log)"
! grep -q "still in use" console.log ||
	fail "the old root stayed busy: $(grep 'stage 2' console.log)"
rig_extract "$loop" after
assert_eq 2.0.0 "$(cat after/etc/version)" "/etc/version on the device"
pass "$(sed -n 's/.*stage 2: \(the old root was busy for [0-9]* ms\).*/\1/p' console.log); then unmounted, and the device holds v2"

# ---- busy past the tries, then a retry ----
rig_boot "$loop" console2.log
rig_wait_https
NOAUTH=1 expect_api 200 "GET /info of v2" GET /info
assert_eq 2.0.0 "$(json 'j["version"]')" "/info version after the reboot"
rig_rootfs v3 3.0.0 "$RIG_BUILD" busybox
rig_image v3.img v3
rig_bundle v3.tar 3.0.0 v3.img
expect_api 200 "upload v3" POST /bundle -T v3.tar
hold 2.0.0 console2.log "$WORK/let-go"
expect_api 202 "POST /install of v3" POST /install -d '{}'
rig_wait_state failed 120
assert_eq write_failed "$(json 'j["last_error"]["error"]')" "v3: last_error in /status ($(cat body))"
why=$(json 'j["last_error"]["message"]')
grep -q 'stage 2: umount /oldroot: .*still in use, remounting read-only' console2.log ||
	fail "stage 2 did not give up on the busy old root: $(grep 'stage 2' console2.log)"
grep -q 'stage 2: /oldroot busy: ' console2.log ||
	fail "stage 2 did not log what keeps the old root busy: $(grep 'stage 2' console2.log)"
kill -0 "$RIG_PID" 2>/dev/null || fail "the namespace ended after the refused write"
pass "held past the tries: the old root made read-only, the write refused ($why), stage 2 serves on"

touch "$WORK/let-go"
let_go
expect_api 200 "upload v3 again, to stage 2" POST /bundle -T v3.tar
expect_api 202 "POST /install in stage 2, the retry" POST /install -d '{}'
rig_wait_end "" 120
assert_eq 129 "$RIG_STATUS" "the namespace's end after the retry"
grep -q 'stage 2: the old root, busy before, is unmounted now' console2.log ||
	fail "the retry did not unmount the old root: $(grep 'stage 2' console2.log)"
rig_extract "$loop" after3
assert_eq 3.0.0 "$(cat after3/etc/version)" "/etc/version on the device after the retry"
pass "the holder gone, the retry unmounted the old root and wrote v3"

rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
rig_check_log console2.log
pass "no mount and no loop device left"
