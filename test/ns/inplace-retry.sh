#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.inplace-retry: a write that fails mid-way in stage 2, then a retry.
# v1's root image is a sparse file on a tmpfs of the test's, too small
# for the whole image stage 2 writes, so the loop device's writes hit
# ENOSPC mid-way. Stage 2 stays: /status (over HTTPS from the host) is
# failed with write_failed, /info and /events answer, the namespace does
# not end, and the transaction marker stays set in the bootenv. With
# room on the tmpfs (remount), a new upload of the v2 bundle and POST
# /install succeed: the namespace ends with 129 and the device holds v2
# with v1's kept files.
# Then POST /reboot: the same failure once more (from v2, a v3 bundle),
# and POST /reboot ends the namespace with 129.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

IMG_MB=${RIG_IMAGE_SIZE%M}

# stage2_failed WHAT: stage 2 failed the write and serves on
stage2_failed() {
	local msg code
	rig_wait_state failed 120
	assert_eq write_failed "$(json 'j["last_error"]["error"]')" "$1: last_error in /status ($(cat body))"
	msg=$(json 'j["last_error"]["message"]')
	grep -q "stage 2: serving; installing" console.log ||
		fail "$1: the failure was not stage 2's: $(tail -n 20 console.log)"
	NOAUTH=1 expect_api 200 "$1: GET /info in stage 2" GET /info
	assert_eq failed "$(json 'j["state"]')" "$1: /info state"
	code=$(curl -sS -N -o events.out -w '%{http_code}' --max-time 3 \
		--cacert "$WORK/server.pem" -H "Authorization: Bearer $TOKEN" \
		"$BASE/events" 2>/dev/null) || :
	assert_eq 200 "$code" "$1: GET /events in stage 2"
	grep -q '^data: .*"state": *"failed"' events.out ||
		fail "$1: /events did not tell the failure: $(cat events.out)"
	sleep 1
	kill -0 "$RIG_PID" 2>/dev/null || fail "$1: the namespace ended"
	rig_check_nspid "$RIG_NSPID"
	assert_eq 2.0.0 "$(rig_env_get sysupgrade_transaction)" "$1: the transaction marker"
	pass "$1: stage 2 failed ('$msg') and serves on: /status, /info, /events; the transaction marker is set"
}

rig_init
need fallocate du
rig_rootfs v1 1.0.0 "$RIG_BUILD"
rig_tmpfs small 256M
rig_image small/v1.img v1
used_mb=$(( ($(du -k small/v1.img | cut -f1) + 1023) / 1024 ))
tight=$((used_mb + 16))
[ "$tight" -le $((IMG_MB - 16)) ] ||
	fail "v1's image uses $used_mb MiB of $IMG_MB: no room to make the write fail mid-way"
mount -o "remount,size=${tight}M" "$WORK/small" || fail "remount $WORK/small with ${tight}M"
rig_env env.img
loop=$(rig_loop small/v1.img)
rig_boot "$loop" console.log
rig_wait_https
rig_heartbeat
pass "v1 up from a sparse image ($used_mb MiB used of $IMG_MB) on a tmpfs of ${tight} MiB"

rig_rootfs v2 2.0.0 "$RIG_BUILD"
echo "only in v2" >v2/etc/rig/v2-only
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar
expect_api 202 "POST /install" POST /install -d '{"keep_config": true}'
stage2_failed "ENOSPC under the loop device"
msg=$(status_field 'j["last_error"]["message"]')
at=$(sed -n 's/.* at offset \([0-9][0-9]*\): No space left on device.*/\1/p' <<<"$msg")
[ -n "$at" ] && [ "$at" -gt 0 ] && [ "$at" -lt $((IMG_MB << 20)) ] ||
	fail "the write did not fail mid-way with ENOSPC: $msg"
rec=$(rig_env_get sysupgrade_last)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["version"]=="2.0.0" and r["result"]=="failed" and r["error"], r' "$rec" ||
	fail "the failure's last_install record: $rec"
pass "the write failed mid-way (at $((at >> 20)) of $IMG_MB MiB); last_install records the failure: $rec"

# ---- the retry ----
mount -o remount,size=256M "$WORK/small" || fail "remount $WORK/small with 256M"
expect_api 200 "upload v2 again, to stage 2" POST /bundle -T v2.tar
assert_eq 2.0.0 "$(json 'j["version"]')" "the bundle staged in stage 2"
expect_api 202 "POST /install in stage 2 (no body: the defaults keep the files)" POST /install
rig_wait_end "" 120
assert_eq 129 "$RIG_STATUS" "the namespace's end after the retry"
pass "the retry: upload and POST /install to stage 2, the namespace ended with 129"

rig_extract "$loop" after
assert_eq 2.0.0 "$(cat after/etc/version)" "/etc/version on the device"
assert_eq "only in v2" "$(cat after/etc/rig/v2-only)" "a v2 file"
assert_eq "kept.conf of 1.0.0" "$(cat after/etc/rig/kept.conf)" "kept (keep)"
assert_eq "listed.conf of 1.0.0" "$(cat after/etc/rig/listed.conf)" "kept (keep.d)"
assert_eq "not-kept.conf of 2.0.0" "$(cat after/etc/rig/not-kept.conf)" "not kept"
fw_printenv -c "$WORK/rig-fw_env.config" >env.after 2>&1 || fail "fw_printenv: $(cat env.after)"
! grep -q '^sysupgrade_transaction=' env.after ||
	fail "the transaction marker is still set: $(cat env.after)"
rec=$(rig_env_get sysupgrade_last)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["version"]=="2.0.0" and r["result"]=="success", r' "$rec" ||
	fail "last_install after the retry: $rec"
pass "the device holds v2 with v1's kept files; no transaction marker, last_install success"

# ---- POST /reboot after a failed write ----
# v2's blocks of zeros become holes again, and the tmpfs tight again
fallocate --dig-holes small/v1.img || fail "fallocate --dig-holes small/v1.img"
used_mb=$(( ($(du -k small/v1.img | cut -f1) + 1023) / 1024 ))
tight=$((used_mb + 16))
[ "$tight" -le $((IMG_MB - 16)) ] || fail "v2's image uses $used_mb MiB of $IMG_MB"
mount -o "remount,size=${tight}M" "$WORK/small" || fail "remount $WORK/small with ${tight}M"
rig_boot "$loop" console.log
rig_wait_https
NOAUTH=1 expect_api 200 "GET /info of v2" GET /info
assert_eq 2.0.0 "$(json 'j["version"]')" "/info version after the retry's reboot"
rig_bundle v3.tar 3.0.0 v2.img
expect_api 200 "upload v3" POST /bundle -T v3.tar
expect_api 202 "POST /install of v3" POST /install -d '{"keep_config": true}'
rig_wait_state failed 120
assert_eq write_failed "$(json 'j["last_error"]["error"]')" "v3: last_error in /status"
expect_api 202 "POST /reboot in stage 2" POST /reboot
assert_eq rebooting "$(json 'j["state"]')" "POST /reboot's answer"
rig_wait_end "" 30
assert_eq 129 "$RIG_STATUS" "the namespace's end after POST /reboot"
pass "after another failed write, POST /reboot ends the namespace with 129"

rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_untmpfs small
rig_assert_clean
rig_check_log console.log
pass "no mount and no loop device left"
