#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.before-handover: failures before the point of no return, in the
# rig under busybox init, with a v2 bundle for the in_use root staged.
#  1. a bundle too big for MemAvailable ([device] meminfo is a file of
#     the rig's, MemAvailable 4 MiB): POST /install answers 507
#     no_memory naming both numbers; the services were never stopped
#     (no stop in services.log), the dummy service heartbeats on;
#  2. a stop command that stops the services and then fails: the start
#     command runs (services.log: stop, then start), the dummy service
#     runs again and heartbeats, /status is failed with the reason, the
#     daemon serves, the bundle is still staged, the ramfs root is gone,
#     PID 1 never acted (the namespace did not end, no stage 2).
# Then the device still holds v1.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

MEMINFO=/etc/rig-meminfo
AVAIL_KB=4096

rig_init
RIG_CONF_DEVICE="meminfo = $MEMINFO"
RIG_STOP_COMMAND=/usr/bin/rig-stop-fail
rig_rootfs v1 1.0.0 "$RIG_BUILD"
rig_script v1 /usr/bin/rig-stop-fail <<'EOS'
#!/bin/sh
# ns.before-handover's stop command: it stops the services, then fails
/usr/bin/rig-services stop
echo "rig-stop-fail: failing after the stop, on purpose" >&2
exit 3
EOS
printf 'MemTotal: 999999999 kB\nMemFree: 1 kB\nMemAvailable: %s kB\n' "$AVAIL_KB" \
	>"v1$MEMINFO"
rig_up v1
loop=$RIG_ROOT_LOOP
dummy=$(cat "$(rig_nsfile /run/dummy-service.pid)")
pass "v1 up, the dummy service heartbeats"

rig_rootfs v2 2.0.0 "$RIG_BUILD"
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar
bundle_sha=$(sha256sum v2.tar | cut -d' ' -f1)

# staged_ok WHAT: the daemon serves, v2 is still staged (the same file),
# no ramfs root is left (nor mounted), PID 1 is busybox init.
staged_ok() {
	local f
	rig_wait_https
	api GET /status >/dev/null
	assert_eq 2.0.0 "$(json 'j["bundle"]["version"]')" "$1: the staged bundle in /status"
	f=$(rig_nsfile "$RIG_STAGING/bundle.tar")
	[ -f "$f" ] || fail "$1: no bundle.tar in $RIG_STAGING"
	assert_eq "$bundle_sha" "$(sha256sum "$f" | cut -d' ' -f1)" "$1: the staged bundle's sha256"
	[ ! -e "$(rig_nsfile "$RIG_STAGING/root")" ] ||
		fail "$1: the ramfs root is left: $(ls -A "$(rig_nsfile "$RIG_STAGING/root")")"
	! grep -qF " $RIG_STAGING/root " "/proc/$RIG_NSPID/mountinfo" ||
		fail "$1: the ramfs root is still mounted"
	kill -0 "$RIG_PID" 2>/dev/null || fail "$1: the namespace ended"
	assert_eq init "$(cat "/proc/$RIG_NSPID/comm")" "$1: PID 1"
	! grep -q "stage 2:" console.log || fail "$1: stage 2 ran: $(grep "stage 2:" console.log)"
}

# ---- 1: no memory ----
expect_api 507 "POST /install, MemAvailable $AVAIL_KB kB" POST /install \
	-d '{"keep_config": true}'
assert_error no_memory "POST /install, MemAvailable $AVAIL_KB kB"
msg=$(json 'j["message"]')
case $msg in
*"MemAvailable is $((AVAIL_KB * 1024)) bytes"*) ;;
*) fail "no_memory does not name MemAvailable ($((AVAIL_KB * 1024)) bytes): $msg" ;;
esac
need=$(sed -n 's/.* needs \([0-9][0-9]*\) bytes.*/\1/p' <<<"$msg")
[ -n "$need" ] && [ "$need" -gt "$((AVAIL_KB * 1024))" ] ||
	fail "no_memory does not name what the handover needs: $msg"
assert_eq no_memory "$(status_field 'j["last_error"]["error"]')" "last_error in /status"
assert_eq staged "$(status_field 'j["state"]')" "state after no_memory"
staged_ok "no_memory"
! grep -q 'rig-services: stop' "$RIG_HOST/services.log" ||
	fail "no_memory: the services were stopped: $(cat "$RIG_HOST/services.log")"
! grep -q '^dummy-service: stopped' "$RIG_HOST/dummy.log" ||
	fail "no_memory: the dummy service stopped: $(cat "$RIG_HOST/dummy.log")"
assert_eq "$dummy" "$(cat "$(rig_nsfile /run/dummy-service.pid)")" "no_memory: the dummy service's PID"
rig_heartbeat
pass "no_memory: 507 '$msg'; nothing stopped, the dummy service (pid $dummy) heartbeats on"

# ---- 2: the stop command fails ----
printf 'MemTotal: 999999999 kB\nMemFree: 1 kB\nMemAvailable: %s kB\n' 999999999 \
	>"$(rig_nsfile "$MEMINFO")"
expect_api 202 "POST /install, a failing stop command" POST /install \
	-d '{"keep_config": true}'
wait_end failed
err=$(status_field 'j["last_error"]["message"]')
case $err in
*stop_command*) ;;
*) fail "the failure does not name the stop command: $err" ;;
esac
case $err in
*"status 3"*) ;;
*) fail "the failure does not give the stop command's exit status 3: $err" ;;
esac
assert_eq internal_error "$(status_field 'j["last_error"]["error"]')" \
	"the failing stop command's error code"
staged_ok "a failing stop command"
pass "a failing stop command: /status failed, '$err'"

order=$(sed -n 's/^rig-services: \([a-z]*\) .*/\1/p' "$RIG_HOST/services.log" | tr '\n' ' ')
assert_eq "start stop start " "$order" "services.log (boot, stop command, start command)"
order=$(sed -n 's/^dummy-service: \(started\|stopped gracefully\) .*/\1/p' "$RIG_HOST/dummy.log" |
	tr '\n' ',')
assert_eq "started,stopped gracefully,started," "$order" "dummy.log"
again=$(cat "$(rig_nsfile /run/dummy-service.pid)")
[ "$again" != "$dummy" ] || fail "the dummy service was not started again (pid $again)"
rig_heartbeat
grep -q "handover failed: stop_command .*; putting everything back" console.log ||
	fail "the daemon did not say the handover failed: $(tail -n 20 console.log)"
grep -q "starting services again" console.log ||
	fail "the daemon did not say it starts the services again: $(tail -n 20 console.log)"
pass "services.log: stop, then start; the dummy service runs again (pid $again) and heartbeats"

NOAUTH=1 expect_api 200 "GET /info after the failures" GET /info
assert_eq 1.0.0 "$(json 'j["version"]')" "/info version"
rig_stop
rig_extract "$loop" after
assert_eq 1.0.0 "$(cat after/etc/version)" "/etc/version on the device"
rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
pass "the device still holds v1; no mount and no loop device left"
