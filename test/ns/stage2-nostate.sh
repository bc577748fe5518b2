#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.stage2-nostate: stage 2 never leaves a system without init.
#  1. `sysupgraded --stage2 /nonexistent`, run inside the rig's namespace
#     but not as its PID 1, exits 1 saying it runs as PID 1 only, and
#     does nothing: PID 1, the daemon and the dummy service are the same
#     processes, and the namespace's mounts are the same;
#  2. SIGQUIT to busybox init while no install is pending: init execs
#     its ::restart: entry, `sysupgraded --stage2 STATE`, as PID 1; it
#     finds no state file, says "starting init" on the console and execs
#     /sbin/init; busybox init starts again (sysinit runs rig-services
#     start again, the daemon comes back and answers /info).
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

rig_init
rig_rootfs v1 1.0.0 "$RIG_BUILD"
rig_up v1
loop=$RIG_ROOT_LOOP
pass "v1 up, the dummy service heartbeats"

# ---- 1: not PID 1 ----
daemon=$(rig_pids sysupgraded)
dummy=$(cat "$(rig_nsfile /run/dummy-service.pid)")
[ -n "$daemon" ] || fail "no sysupgraded in the namespace"
mounts=$(cut -d' ' -f5 "/proc/$RIG_NSPID/mountinfo")
rc=0
rig_ns /usr/sbin/sysupgraded --stage2 /nonexistent >notpid1.out 2>notpid1.err || rc=$?
assert_eq 1 "$rc" "--stage2 not as PID 1: exit status ($(cat notpid1.err))"
grep -q "stage 2 runs as PID 1 only" notpid1.err ||
	fail "--stage2 not as PID 1 did not say why: $(cat notpid1.err)"
rig_check_log notpid1.err
pass "--stage2 /nonexistent not as PID 1: exit 1, '$(head -n 1 notpid1.err)'"
kill -0 "$RIG_PID" 2>/dev/null || fail "the namespace ended"
assert_eq init "$(cat "/proc/$RIG_NSPID/comm")" "PID 1 of the namespace after --stage2"
assert_eq "$daemon" "$(rig_pids sysupgraded)" "the daemon's PID after --stage2"
assert_eq "$dummy" "$(cat "$(rig_nsfile /run/dummy-service.pid)")" \
	"the dummy service's PID after --stage2"
assert_eq "$mounts" "$(cut -d' ' -f5 "/proc/$RIG_NSPID/mountinfo")" \
	"the namespace's mount points after --stage2"
! grep -q '^dummy-service: stopped' "$RIG_HOST/dummy.log" ||
	fail "the dummy service was stopped: $(cat "$RIG_HOST/dummy.log")"
grep -q "rig-services: start" "$RIG_HOST/services.log" ||
	fail "no start in services.log: $(cat "$RIG_HOST/services.log")"
! grep -qv "rig-services: start" "$RIG_HOST/services.log" ||
	fail "services.log has more than the boot's start: $(cat "$RIG_HOST/services.log")"
rig_heartbeat
rig_wait_https
! grep -q "stage 2:" console.log || fail "stage 2 spoke on the console: $(grep 'stage 2' console.log)"
pass "it did nothing: PID 1, the daemon (pid $daemon), the dummy service (pid $dummy) and the mounts are the same"

# ---- 2: ::restart: with no state ----
[ ! -e "$(rig_nsfile "$RIG_STATE")" ] || fail "$RIG_STATE exists before the test"
rig_signal QUIT
i=0
until grep -q "stage 2: .*; starting init" console.log; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "no 'starting init' from stage 2 within 10 s: $(tail -n 20 console.log)"
	kill -0 "$RIG_PID" 2>/dev/null || fail "the namespace ended: $(tail -n 20 console.log)"
	sleep 0.1
done
line=$(grep "stage 2: .*; starting init" console.log)
case $line in
*"$RIG_STATE"*) ;;
*) fail "stage 2 did not name the missing state file: $line" ;;
esac
pass "SIGQUIT: stage 2 ran as PID 1, found no state: '$line'"

# the daemon comes back: a new one, answering /info
i=0
while :; do
	now=$(rig_pids sysupgraded)
	[ -z "$now" ] || [ "$now" = "$daemon" ] || break
	i=$((i + 1))
	[ "$i" -lt 200 ] || fail "no new daemon within 20 s: $(tail -n 20 console.log)"
	kill -0 "$RIG_PID" 2>/dev/null || fail "the namespace ended: $(tail -n 20 console.log)"
	sleep 0.1
done
rig_wait_https
assert_eq init "$(cat "/proc/$RIG_NSPID/comm")" "PID 1 of the namespace after the restart"
rig_check_nspid "$RIG_NSPID"
NOAUTH=1 expect_api 200 "GET /info after the restart" GET /info
assert_eq 1.0.0 "$(json 'j["version"]')" "/info version after the restart"
assert_eq idle "$(json 'j["state"]')" "/info state after the restart"
pass "busybox init is PID 1 again (same process), a new daemon (pid $now, was $daemon) answers /info"

grep -q '^dummy-service: stopped gracefully' "$RIG_HOST/dummy.log" ||
	fail "busybox init did not TERM the dummy service: $(cat "$RIG_HOST/dummy.log")"
assert_eq 2 "$(grep -c '^dummy-service: started' "$RIG_HOST/dummy.log")" \
	"dummy service starts ($(cat "$RIG_HOST/dummy.log"))"
assert_eq 2 "$(grep -c 'rig-services: start' "$RIG_HOST/services.log")" \
	"rig-services start runs ($(cat "$RIG_HOST/services.log"))"
! grep -q 'rig-services: stop' "$RIG_HOST/services.log" ||
	fail "the stop command ran: $(cat "$RIG_HOST/services.log")"
rig_heartbeat
pass "sysinit ran rig-services start again; the dummy service heartbeats"

rig_stop
rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
pass "stopped: no mount and no loop device left"
