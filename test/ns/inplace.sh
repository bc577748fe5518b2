#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.inplace: the in-place upgrade, end to end, in the namespace rig.
# v1 runs with busybox init as PID 1 (or s6-svscan: RIG_INIT=s6) on an
# ext4 root on a loop device. A v2 bundle whose ext4 target is that very
# device goes up over HTTPS; POST /install stops the services (the dummy
# service stops gracefully), stage 1 builds the ramfs and PID 1 hands
# over; stage 2 pivots, unmounts the old root, writes the loop device,
# restores the kept files and reboots (the namespace ends: 129). An
# /events reader follows it all, reconnecting with Last-Event-ID. Then
# the device holds v2 with v1's kept files, and the environment has the
# bundle's variables and last_install; booted again from the device, v2
# answers /info with last_install success.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"
INIT=${RIG_INIT:-busybox}

rig_init
rig_rootfs v1 1.0.0 "$RIG_BUILD" "$INIT"
rig_up v1
loop=$RIG_ROOT_LOOP
pass "v1 up ($INIT), the dummy service heartbeats"

rig_rootfs v2 2.0.0 "$RIG_BUILD" "$INIT"
echo "only in v2" >v2/etc/rig/v2-only
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar

python3 "$SU_TEST_SRC/ns/follow-events.py" "$BASE/events" "$TOKEN" \
	"$WORK/server.pem" events.log 120 &
follower=$!
D_EXTRA_PIDS="$D_EXTRA_PIDS $follower"
sleep 0.5
read -r t_install _ </proc/uptime
expect_api 202 "POST /install" POST /install -d '{"keep_config": true}'
rig_wait_end "" 120
assert_eq 129 "$RIG_STATUS" "the namespace's end (reboot() in a PID namespace)"
wait "$follower" || fail "the /events follower failed"
pass "install, handover, stage 2, reboot: the namespace ended with 129"

# ---- what the device holds ----
rig_extract "$loop" after
assert_eq 2.0.0 "$(cat after/etc/version)" "/etc/version on the device"
assert_eq "only in v2" "$(cat after/etc/rig/v2-only)" "a v2 file"
assert_eq "kept.conf of 1.0.0" "$(cat after/etc/rig/kept.conf)" "kept (keep)"
assert_eq "kept.d/a.conf of 1.0.0" "$(cat after/etc/rig/kept.d/a.conf)" "kept (keep glob)"
assert_eq "listed.conf of 1.0.0" "$(cat after/etc/rig/listed.conf)" "kept (keep.d)"
assert_eq "not-kept.conf of 2.0.0" "$(cat after/etc/rig/not-kept.conf)" "not kept"
pass "the device holds v2, with v1's kept files"

assert_eq 2.0.0 "$(rig_env_get rig_version)" "the bundle's bootenv variable"
rec=$(rig_env_get sysupgrade_last)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["version"]=="2.0.0" and r["result"]=="success", r' "$rec" ||
	fail "last_install in the environment: $rec"
fw_printenv -c "$WORK/rig-fw_env.config" >env.after 2>&1 || fail "fw_printenv: $(cat env.after)"
! grep -q '^sysupgrade_transaction=' env.after ||
	fail "the transaction marker is still set: $(cat env.after)"
pass "bootenv: rig_version=2.0.0, last_install success, no transaction marker"

# ---- the services stopped gracefully, before the pivot ----
grep -q "rig-services: stop" "$RIG_HOST/services.log" ||
	fail "the stop command did not run: $(cat "$RIG_HOST/services.log")"
stopped=$(sed -n 's/^dummy-service: stopped gracefully .*(uptime \([0-9.]*\)).*/\1/p' \
	"$RIG_HOST/dummy.log" | head -n 1)
[ -n "$stopped" ] || fail "the dummy service did not stop gracefully: $(cat "$RIG_HOST/dummy.log")"
pid1=$(sed -n 's/.*stage 2: PID 1 at uptime \([0-9.]*\) s, from the old root.*/\1/p' console.log | head -n 1)
[ -n "$pid1" ] || fail "no stage 2 on the console: $(tail -n 30 console.log)"
python3 -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(a > b)' "$stopped" "$pid1" ||
	fail "the dummy service stopped at uptime $stopped, after stage 2 began at $pid1"
grep -q "stage 2: PID 1 at uptime .* in the ramfs" console.log ||
	fail "stage 2 did not re-exec into the ramfs: $(grep 'stage 2' console.log)"
! grep -q "still in use" console.log ||
	fail "the old root stayed busy: $(grep 'stage 2' console.log)"
pass "the dummy service stopped gracefully (uptime $stopped) before stage 2 (uptime $pid1); the old root unmounted"

# ---- /events across the handover ----
python3 - events.log <<'EOP' || fail "/events across the handover: $(cat events.log)"
import sys
ev = [l.split() for l in open(sys.argv[1])]
ids = [int(e[0]) for e in ev]
states = [e[1] for e in ev]
conns = {e[2] for e in ev}
assert len(conns) >= 2, "never reconnected: %r" % ev
for a, b in zip(ids, ids[1:]):
    assert b == a + 1, "ids %d then %d: an event was lost or repeated" % (a, b)
order = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
for want in ("installing", "handover", "writing", "finalizing", "rebooting"):
    assert want in order, "no %s in %r" % (want, order)
assert order.index("handover") < order.index("writing") < order.index("rebooting"), order
EOP
pass "/events: installing -> handover -> writing -> rebooting, reconnected with Last-Event-ID, no id lost"

# ---- the device comes back on v2, and says how the install went ----
rig_boot "$loop" console2.log
rig_wait_https
NOAUTH=1 expect_api 200 "GET /info after the reboot" GET /info
assert_eq 2.0.0 "$(json 'j["version"]')" "/info version after the reboot"
assert_eq "2.0.0 success" "$(json 'j["last_install"]["version"] + " " + j["last_install"]["result"]')" \
	"/info last_install after the reboot"
expect_api 200 "GET /status after the reboot" GET /status
assert_eq success "$(json 'j["last_install"]["result"]')" "/status last_install"
rig_heartbeat
rig_stop
pass "booted again from the device: v2 answers, last_install success, services run"

# ---- downtime ----
first=$(sed -n 's/.*stage 2: serving; installing .* at uptime \([0-9.]*\) s.*/\1/p' console.log | head -n 1)
svc=$(sed -n 's/^rig-services: stop.*(uptime \([0-9.]*\)).*/\1/p' "$RIG_HOST/services.log" | head -n 1)
python3 -c 'import sys; t,s,d,w=map(float,sys.argv[1:]); print("downtime: POST /install -> stage 2 writing %.2f s; stop command %.2f s" % (w - t, d - s))' \
	"$t_install" "$svc" "$stopped" "$first" | tee -a downtime.txt
rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
pass "no mount and no loop device left"
