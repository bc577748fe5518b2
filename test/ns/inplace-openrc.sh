#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.inplace-openrc: the in-place upgrade with OpenRC (Debian's, unpacked)
# under busybox init, wired as contrib/init/openrc says: OpenRC starts
# rig-net, two dummy services and sysupgraded (contrib's init script,
# supervise-daemon); the stop command is `openrc sysupgrade`, a runlevel
# without the dummy services; the start command `openrc default`.
#  1. the ::restart: line is missing from /etc/inittab when stage 1
#     triggers: the install fails after the stop, and OpenRC starts the
#     dummy services again (their start_post says so); v1 serves on;
#  2. with the line back, POST /install again: OpenRC stops both dummy
#     services (their stop_post, "stopped gracefully")
#     before stage 2 runs; busybox init hands over, stage 2 writes the
#     root and reboots (129); booted again, OpenRC starts the services,
#     /info shows v2 with last_install success.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"
export RIG_SERVICES="dummy dummy2"

rig_init
RIG_LOGS="$RIG_HOST/sysupgraded.log"
rig_rootfs v1 1.0.0 "$RIG_BUILD" openrc
rig_up v1
loop=$RIG_ROOT_LOOP
for s in dummy dummy2 sysupgraded; do
	out=$(rig_ns /sbin/rc-service "$s" status 2>&1) ||
		fail "rc-service $s status: $out"
	case $out in
	*started*) ;;
	*) fail "OpenRC does not say $s is started: $out" ;;
	esac
done
sup=$(cat "$(rig_nsfile /run/sysupgraded.pid)")
assert_eq supervise-daemo "$(cat "$(rig_nsfile "/proc/$sup/comm")")" \
	"the process of /run/sysupgraded.pid (comm: 15 characters)"
daemon=$(rig_pids sysupgraded)
assert_eq "$sup" "$(awk '/^PPid:/ { print $2 }' "$(rig_nsfile "/proc/$daemon/status")")" \
	"the parent of sysupgraded (pid $daemon)"
pass "v1 up under OpenRC: dummy, dummy2 and sysupgraded started, sysupgraded under supervise-daemon"

rig_rootfs v2 2.0.0 "$RIG_BUILD" openrc
echo "only in v2" >v2/etc/rig/v2-only
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar

# ---- 1: a failure after the stop: OpenRC starts the services again ----
inittab=$(rig_nsfile /etc/inittab)
cp "$inittab" inittab.good
grep -v '^::restart:' inittab.good >"$inittab"
expect_api 202 "POST /install, no ::restart: line" POST /install -d '{"keep_config": true}'
wait_end failed
err=$(status_field 'j["last_error"]["message"]')
case $err in
*"no ::restart: entry"*) ;;
*) fail "the failure does not name the missing ::restart: line: $err" ;;
esac
kill -0 "$RIG_PID" || fail "the namespace ended"
assert_eq init "$(cat "/proc/$RIG_NSPID/comm")" "PID 1 after the failure"
for s in dummy dummy2; do
	order=$(sed -n "s/^openrc: $s \\(started\\|stopped\\) by openrc-run .*/\\1/p" \
		"$RIG_HOST/openrc.log" | tr '\n' ',')
	assert_eq "started,stopped,started," "$order" \
		"OpenRC's record of $s (openrc.log)"
	out=$(rig_ns /sbin/rc-service "$s" status 2>&1) || fail "rc-service $s status: $out"
	case $out in
	*started*) ;;
	*) fail "OpenRC does not say $s runs again: $out" ;;
	esac
done
rig_heartbeat
grep -q "starting services again: /sbin/openrc default" "$RIG_HOST/sysupgraded.log" ||
	fail "the daemon did not start the services again: $(tail -n 20 "$RIG_HOST/sysupgraded.log")"
! grep -q "stage 2:" console.log || fail "stage 2 ran: $(grep "stage 2:" console.log)"
pass "no ::restart: line: '$err'; OpenRC started dummy and dummy2 again, v1 serves"

# ---- 2: the handover ----
cp inittab.good "$inittab"
: >"$RIG_HOST/dummy.log"
expect_api 202 "POST /install" POST /install -d '{"keep_config": true}'
rig_wait_end "" 120
assert_eq 129 "$RIG_STATUS" "the namespace's end (reboot() in a PID namespace)"
pass "install, handover, stage 2, reboot: the namespace ended with 129"

rig_extract "$loop" after
assert_eq 2.0.0 "$(cat after/etc/version)" "/etc/version on the device"
assert_eq "only in v2" "$(cat after/etc/rig/v2-only)" "a v2 file"
assert_eq "kept.conf of 1.0.0" "$(cat after/etc/rig/kept.conf)" "kept (keep)"
pass "the device holds v2, with v1's kept files"

pid1=$(sed -n 's/.*stage 2: PID 1 at uptime \([0-9.]*\) s, from the old root.*/\1/p' console.log | head -n 1)
[ -n "$pid1" ] || fail "no stage 2 on the console: $(tail -n 30 console.log)"
for s in dummy dummy2; do
	t=$(sed -n "s/^openrc: $s stopped by openrc-run (uptime \\([0-9.]*\\)).*/\\1/p" \
		"$RIG_HOST/openrc.log" | tail -n 1)
	[ -n "$t" ] || fail "OpenRC did not stop $s: $(cat "$RIG_HOST/openrc.log")"
	python3 -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(a > b)' "$t" "$pid1" ||
		fail "OpenRC stopped $s at uptime $t, after stage 2 began at $pid1"
	grep -q "^$s-service: stopped gracefully" "$RIG_HOST/$s.log" ||
		fail "$s did not stop gracefully: $(cat "$RIG_HOST/$s.log")"
done
grep -q "stage 2: PID 1 at uptime .* in the ramfs" console.log ||
	fail "stage 2 did not re-exec into the ramfs: $(grep 'stage 2' console.log)"
! grep -q "still in use" console.log ||
	fail "the old root stayed busy: $(grep 'stage 2' console.log)"
pass "OpenRC stopped dummy and dummy2 (openrc sysupgrade) before stage 2 (uptime $pid1)"

# ---- booted again ----
rig_boot "$loop" console2.log
rig_wait_https
NOAUTH=1 expect_api 200 "GET /info after the reboot" GET /info
assert_eq 2.0.0 "$(json 'j["version"]')" "/info version after the reboot"
assert_eq "2.0.0 success" "$(json 'j["last_install"]["version"] + " " + j["last_install"]["result"]')" \
	"/info last_install after the reboot"
rig_heartbeat
out=$(rig_ns /sbin/rc-service dummy2 status 2>&1) || fail "rc-service dummy2 status: $out"
case $out in
*started*) ;;
*) fail "OpenRC does not say dummy2 is started after the reboot: $out" ;;
esac
rig_stop
pass "booted again: OpenRC started the services, v2 answers, last_install success"

rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
rig_check_log "$RIG_HOST/sysupgraded.log"
pass "no mount and no loop device left"
