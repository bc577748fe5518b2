#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.ab: the A/B flow in the namespace rig. The config's only target is
# an A/B ext4 target on two more loop devices (/dev/rigslota and
# /dev/rigslotb, slot_var rig_slot), none in use; the booted slot comes
# from the rig's command line file ([device] cmdline, booted_slot_arg
# sysupgrade.slot). [install] handover stays busybox. A v2 bundle goes up
# and POST /install (reboot false) writes slot b with no handover: the
# services never stop (the dummy service heartbeats throughout, the same
# process), the daemon stays up, the bootenv flips rig_slot to b, slot b
# holds the image and slot a is untouched. Then the reboot is simulated
# (the namespace stopped, the command line file says slot b, booted
# again): /info and /status show last_install 2.0.0, success.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

CMDLINE=/etc/rig-cmdline

rig_init
need cmp
RIG_CONF_DEVICE="cmdline = $CMDLINE
booted_slot_arg = sysupgrade.slot"
RIG_CONF_TARGETS="[target:rootfs]
type = ext4
a = /dev/rigslota
b = /dev/rigslotb
slot_var = rig_slot"
rig_rootfs v1 1.0.0 "$RIG_BUILD"
echo "console=ttyS0 sysupgrade.slot=a quiet" >"v1$CMDLINE"
rig_image v1.img v1
rig_env env.img rig_slot=a
loop=$(rig_loop v1.img)
# slot a: v1's image (what the boot loader would run); slot b: zeros
cp --sparse=always v1.img slota.img
truncate -s "$RIG_IMAGE_SIZE" slotb.img
sa=$(rig_loop slota.img)
sb=$(rig_loop slotb.img)
sa_sha=$(sha256sum <"$sa" | cut -d' ' -f1)
RIG_DEVS="rigslota=$sa rigslotb=$sb"
rig_boot "$loop" console.log
rig_wait_https
rig_heartbeat
NOAUTH=1 expect_api 200 "GET /info" GET /info
assert_eq '[["rootfs", "ext4", true, false, "rig_slot"]]' \
	"$(json '[[t["name"], t["type"], t["ab"], t["in_use"], t["slot_var"]] for t in j["targets"]]')" \
	"/info targets"
[ -b "$(rig_nsfile /dev/rigslota)" ] && [ -b "$(rig_nsfile /dev/rigslotb)" ] ||
	fail "the slots are not block devices in the namespace"
dummy=$(cat "$(rig_nsfile /run/dummy-service.pid)")
daemon=$(rig_pids sysupgraded)
[ -n "$daemon" ] || fail "no sysupgraded in the namespace"
pass "v1 up with an A/B target on $sa and $sb, booted from slot a"

rig_rootfs v2 2.0.0 "$RIG_BUILD"
echo "only in v2" >v2/etc/rig/v2-only
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar

# the heartbeat, sampled every 0.1 s until the install ended
hb=$(rig_nsfile /var/lib/dummy/heartbeat)
(
	while [ ! -e "$WORK/hb.stop" ]; do
		read -r up _ </proc/uptime
		echo "$up $(cut -d' ' -f1 "$hb" 2>/dev/null || echo -)"
		sleep 0.1
	done
) >hb.log &
sampler=$!
D_EXTRA_PIDS="$D_EXTRA_PIDS $sampler"
sleep 0.5
expect_api 202 "POST /install" POST /install -d '{"reboot": false}'
wait_end idle
sleep 0.5
touch "$WORK/hb.stop"
wait "$sampler" || fail "the heartbeat sampler failed"
pass "POST /install: written, state idle"

# ---- no handover, the services never stopped ----
grep -q "install of 2.0.0 complete" console.log ||
	fail "the daemon's install is not on the console: $(tail -n 20 console.log)"
! grep -qi handover console.log ||
	fail "a handover on the console: $(grep -i handover console.log)"
! grep -q "stage 2:" console.log || fail "stage 2 ran: $(grep 'stage 2:' console.log)"
assert_eq "start" "$(sed -n 's/^rig-services: \([a-z]*\) .*/\1/p' "$RIG_HOST/services.log" | tr '\n' ' ' | sed 's/ $//')" \
	"services.log (the boot's start only)"
! grep -q '^dummy-service: stopped' "$RIG_HOST/dummy.log" ||
	fail "the dummy service stopped: $(cat "$RIG_HOST/dummy.log")"
assert_eq "$dummy" "$(cat "$(rig_nsfile /run/dummy-service.pid)")" "the dummy service's PID"
python3 - hb.log <<'EOP' || fail "the heartbeat during the install: $(cat hb.log)"
import sys
rows = [l.split() for l in open(sys.argv[1])]
rows = [(float(t), int(n)) for t, n in rows if n != "-"]
assert len(rows) > 10, "too few samples: %r" % rows
last_t, last_n = rows[0]
gap = 0.0
for t, n in rows[1:]:
    assert n >= last_n, "the heartbeat went back from %d to %d at %.2f" % (last_n, n, t)
    if n > last_n:
        gap = max(gap, t - last_t)
        last_t, last_n = t, n
gap = max(gap, rows[-1][0] - last_t)
assert rows[-1][1] > rows[0][1], "no heartbeat"
assert gap < 3.0, "the heartbeat stalled %.2f s" % gap
print("heartbeat: %d -> %d over %.1f s, longest gap %.2f s" %
      (rows[0][1], rows[-1][1], rows[-1][0] - rows[0][0], gap))
EOP
rig_heartbeat
pass "no handover: the services never stopped, the dummy service (pid $dummy) heartbeat on"

# ---- the daemon stays up ----
kill -0 "$RIG_PID" 2>/dev/null || fail "the namespace ended"
assert_eq init "$(cat "/proc/$RIG_NSPID/comm")" "PID 1"
assert_eq "$daemon" "$(rig_pids sysupgraded)" "the daemon's PID"
NOAUTH=1 expect_api 200 "GET /info after the install" GET /info
assert_eq 1.0.0 "$(json 'j["version"]')" "/info version (not rebooted yet)"
assert_eq idle "$(status_field 'j["state"]')" "state after the install"
pass "the daemon (pid $daemon) stays up, idle (reboot false)"

# ---- slot b holds the image, the bootenv flipped ----
size=$(stat -c %s v2.img)
cmp -n "$size" v2.img "$sb" || fail "slot b ($sb) does not hold the v2 image"
assert_eq "$sa_sha" "$(sha256sum <"$sa" | cut -d' ' -f1)" "slot a's sha256 (untouched)"
assert_eq b "$(rig_env_get rig_slot)" "rig_slot after the install"
assert_eq 2.0.0 "$(rig_env_get rig_version)" "the bundle's bootenv variable"
assert_eq 1 "$(rig_env_get upgrade_available)" "upgrade_available"
fw_printenv -c "$WORK/rig-fw_env.config" >env.after 2>&1 || fail "fw_printenv: $(cat env.after)"
! grep -q '^sysupgrade_transaction=' env.after ||
	fail "the transaction marker is still set: $(cat env.after)"
pass "slot b holds v2 ($size bytes), slot a untouched; rig_slot=b, upgrade_available=1"

# ---- the simulated reboot: slot b booted ----
rig_stop
echo "console=ttyS0 sysupgrade.slot=b quiet" | rig_put "$loop" "$CMDLINE"
rig_boot "$loop" console2.log
rig_wait_https
NOAUTH=1 expect_api 200 "GET /info after the reboot" GET /info
assert_eq 2.0.0 "$(json 'j["last_install"]["version"]')" "/info last_install version ($(cat body))"
assert_eq success "$(json 'j["last_install"]["result"]')" "/info last_install result"
assert_eq 2.0.0 "$(status_field 'j["last_install"]["version"]')" "/status last_install version"
assert_eq success "$(json 'j["last_install"]["result"]')" "/status last_install result"
pass "after the simulated reboot into slot b: last_install 2.0.0, success in /info and /status"

rig_stop
rig_unloop "$loop"
rig_unloop "$sa"
rig_unloop "$sb"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
rig_check_log console2.log
pass "stopped: no mount and no loop device left"
