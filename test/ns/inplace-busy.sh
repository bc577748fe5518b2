#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.inplace-busy: the old root is still busy when stage 2 first tries
# to unmount it, and frees itself a moment later. A holder outside the
# namespace, where stage 2's SIGKILL does not reach, keeps a file of
# v1's root open through /proc/PID/root, which pins that mount. It
# lets go once stage 2 says the old root is busy. Stage 2 tries again,
# unmounts it, writes v2 and reboots (the namespace ends with 129). It
# says how long the old root was busy, and nothing stayed in use.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

rig_init
rig_rootfs v1 1.0.0 "$RIG_BUILD" busybox
rig_up v1
loop=$RIG_ROOT_LOOP
pass "v1 up, the dummy service heartbeats"

rig_rootfs v2 2.0.0 "$RIG_BUILD" busybox
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar

# The holder: an open file of v1's root, until stage 2 has found the
# old root busy (or 120 s). Its own process, so the test shell holds
# nothing of the namespace.
held=$(rig_nsfile /etc/version)
python3 - "$held" console.log holder.log <<'EOF' &
import sys, time
f = open(sys.argv[1])
log = open(sys.argv[3], 'w')
print('holding %s: %s' % (sys.argv[1], f.read().strip()), file=log, flush=True)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if 'under /oldroot busy; trying again' in open(sys.argv[2], errors='replace').read():
        break
    time.sleep(0.05)
else:
    print('stage 2 never said the old root was busy', file=log, flush=True)
f.close()
print('let go', file=log, flush=True)
EOF
holder=$!
D_EXTRA_PIDS="$D_EXTRA_PIDS $holder"
for _ in $(seq 50); do
	grep -q '^holding' holder.log 2>/dev/null && break
	sleep 0.1
done
grep -q "^holding .*: 1.0.0" holder.log || fail "the holder did not open v1's /etc/version: $(cat holder.log 2>&1)"

expect_api 202 "POST /install" POST /install -d '{}'
rig_wait_end "" 120
assert_eq 129 "$RIG_STATUS" "the namespace's end (reboot() in a PID namespace)"
wait "$holder" || fail "the holder failed: $(cat holder.log)"
grep -q '^let go$' holder.log || fail "the holder: $(cat holder.log)"
! grep -q 'never said' holder.log || fail "the old root was not busy: $(grep 'stage 2' console.log)"
pass "stage 2 found the old root busy while the holder had a file of it open"

grep -q 'stage 2: the old root was busy for [0-9]* ms, then unmounted' console.log ||
	fail "stage 2 did not say the old root came free: $(grep 'stage 2' console.log)"
! grep -q "still in use" console.log ||
	fail "the old root stayed busy: $(grep 'stage 2' console.log)"
rig_extract "$loop" after
assert_eq 2.0.0 "$(cat after/etc/version)" "/etc/version on the device"
pass "$(sed -n 's/.*stage 2: \(the old root was busy for [0-9]* ms\).*/\1/p' console.log); then unmounted, and the device holds v2"
