#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs over the API: an A/B ext4 target on two loop devices and a
# file-backed U-Boot environment. `POST /bundle?install=1` answers 202,
# writes the inactive slot and flips boot_slot (fw_printenv reads it);
# `POST /install {"reboot": true}` installs the next bundle into the
# other slot and runs reboot_command; a target in use answers 409; a
# failed write ends in "failed" with the bundle still staged. Each
# install leaves its result (last_install) in the environment, or in a
# file, and after a simulated reboot (the daemon restarted with the new
# slot on its command line) /info and /status show it.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

need losetup mkfs.ext4 mkenvimage fw_printenv cmp
daemon_init
mount_staging 64M

ab_device 16M 16M
write_config
daemon_start

# image VERSION [SIZE]: payload.img, an ext4 image (8M) holding /version.
image() {
	rm -rf tree payload.img
	mkdir tree
	echo "$1" >tree/version
	mkfs.ext4 -q -F -d tree payload.img "${2:-8M}" >/dev/null 2>&1 ||
		fail "mkfs.ext4 -d tree payload.img"
}

# check_record JSON-FILE VERSION RESULT ERROR-PREFIX WHAT: a last_install
# object of VERSION, RESULT, an error starting with ERROR-PREFIX ("" on
# success) and a UTC time of the last 10 minutes.
check_record() {
	python3 - "$@" <<'EOP' || fail "$5: last_install in $(cat "$1")"
import datetime, json, sys
path, version, result, error, what = sys.argv[1:]
j = json.load(open(path))
r = j.get("last_install", j) if isinstance(j, dict) else None
assert isinstance(r, dict), "no last_install object"
assert sorted(r) == ["error", "result", "time", "version"], sorted(r)
assert r["version"] == version, r
assert r["result"] == result, r
assert r["error"].startswith(error) and (error or r["error"] == ""), r
t = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%SZ")
age = datetime.datetime.utcnow() - t
assert datetime.timedelta(seconds=-5) < age < datetime.timedelta(minutes=10), age
EOP
}

# last_shown VERSION RESULT ERROR-PREFIX WHAT: /info and /status agree.
last_shown() {
	expect_api 200 "GET /info" GET /info
	check_record body "$@"
	expect_api 200 "GET /status" GET /status
	check_record body "$@"
}

# env_record: the sysupgrade_last variable, as ./record.json
env_record() {
	env_get sysupgrade_last >record.json
	[ -s record.json ] || fail "sysupgrade_last is not set: $(cat env.txt)"
}

# ---- ?install=1: v2 into slot b, boot_slot flips to b ----
assert_eq null "$(status_field 'j["last_install"]')" "last_install before any install"
image 2.0.0
make_bundle v2.tar 2.0.0
cp payload.img v2.img
A_BEFORE=$(sha "$SLOT_a")
curl -sS -N --max-time $((30 * D_SLOW)) --cacert server.pem \
	-H "Authorization: Bearer $TOKEN" "$BASE/events" >events.txt 2>/dev/null &
EVP=$!
D_EXTRA_PIDS="$D_EXTRA_PIDS $EVP"
sleep 0.3
expect_api 202 "POST /bundle?install=1" POST "/bundle?install=1" -T v2.tar
assert_eq 2.0.0 "$(json 'j["version"]')" "202 body: the verification report"
wait_end idle
assert_eq b "$(env_get boot_slot)" "boot_slot after installing v2"
assert_eq 1 "$(env_get upgrade_available)" "upgrade_available after the install"
assert_eq 0 "$(env_get bootcount)" "bootcount after the install"
assert_eq "" "$(env_get sysupgrade_transaction)" "transaction marker after the install"
env_image_check fw_env.config
env_record
check_record record.json 2.0.0 success "" "sysupgrade_last after installing v2"
# read back after the reboot, not before
assert_eq null "$(status_field 'j["last_install"]')" "last_install before the reboot"
cmp -n "$(stat -c %s v2.img)" v2.img "$SLOT_b" ||
	fail "slot b does not hold the v2 image"
assert_eq "$A_BEFORE" "$(sha "$SLOT_a")" "slot a (the running one) after the install"
assert_eq none "$(staged_sha)" "the installed bundle is no longer staged"
[ ! -e rebooted ] || fail "reboot_command ran without \"reboot\": true"
kill "$EVP" 2>/dev/null || :
wait "$EVP" 2>/dev/null || :
sed -n 's/^data: //p' events.txt >events.json
python3 - <<'EOP' || fail "/events during the install: $(cat events.txt)"
import json
ev = [json.loads(l) for l in open("events.json")]
seen = []
for e in ev:
	if not seen or seen[-1] != e["state"]:
		seen.append(e["state"])
for s in ("receiving", "verifying", "staged", "installing", "writing", "finalizing", "idle"):
	assert s in seen, "no %s in %r" % (s, seen)
assert seen.index("staged") < seen.index("installing") < seen.index("writing") < seen.index("finalizing"), seen
assert any(e["progress"]["percent"] == 100 and e["progress"]["image"] == "payload.img" for e in ev), "no 100 %"
EOP
pass "?install=1: 202, v2 written to slot b, boot_slot=b, slot a untouched"

expect_api 409 "POST /install after the install" POST /install
assert_error nothing_staged "POST /install after the install"

# ---- a target in use: 409 until the handover exists ----
image 2.5.0
MB_TARGET=data make_bundle inuse.tar 2.5.0
expect_api 200 "stage a bundle for the in-use target" PUT /bundle -T inuse.tar
expect_api 409 "install onto a target in use" POST /install
assert_error busy "install onto a target in use"
grep -q handover body || fail "409 for in-place does not mention the handover: $(cat body)"
assert_eq staged "$(status_field 'j["state"]')" "state after the in-place refusal"
pass "a target in use -> 409 busy (in-place needs the handover)"

# ---- no reboot yet: slot a still runs, and it is never written ----
image 3.0.0
make_bundle v3.tar 3.0.0
cp payload.img v3.img
A_RUNNING=$(sha "$SLOT_a")
expect_api 200 "upload v3 before the reboot" POST /bundle -T v3.tar
expect_api 409 "POST /install before the reboot" POST /install
assert_error reboot_pending "POST /install before the reboot"
grep -q "reboot first" body || fail "reboot_pending does not say 'reboot first': $(cat body)"
assert_eq staged "$(status_field 'j["state"]')" "state after reboot_pending"
assert_eq b "$(env_get boot_slot)" "boot_slot after reboot_pending"
assert_eq "$A_RUNNING" "$(sha "$SLOT_a")" "slot a (running) after reboot_pending"
# ?install=1 is refused before its body: curl sends a little at most.
expect_api 409 "POST /bundle?install=1 before the reboot" POST "/bundle?install=1" -T v3.tar
assert_error reboot_pending "POST /bundle?install=1 before the reboot"
assert_eq "$A_RUNNING" "$(sha "$SLOT_a")" "slot a (running) after ?install=1 was refused"
assert_eq b "$(env_get boot_slot)" "boot_slot after ?install=1 was refused"
pass "an install before the reboot: 409 reboot_pending, the running slot a untouched"

# ---- one installer per device: --install and a second daemon wait their turn ----
"$DAEMON" -c "$WORK/daemon.conf" --install v3.tar >cli.out 2>&1 &&
	fail "--install ran beside the daemon: $(cat cli.out)"
grep -q "another sysupgraded (PID $DPID) holds " cli.out ||
	fail "--install beside the daemon does not name its PID $DPID: $(cat cli.out)"
"$DAEMON" -c "$WORK/daemon.conf" --foreground >second.out 2>&1 &&
	fail "a second daemon started: $(cat second.out)"
grep -q "another sysupgraded (PID $DPID) holds " second.out ||
	fail "a second daemon does not name the first's PID $DPID: $(cat second.out)"
assert_eq "$A_RUNNING" "$(sha "$SLOT_a")" "slot a after the refused --install"
pass "--install and a second daemon beside the daemon: refused, naming PID $DPID"

# ---- the reboot into slot b: last_install is v2's success ----
# The device rebooted into slot b: its kernel command line says so.
daemon_stop
echo "quiet sysupgrade.slot=b" >"$WORK/cmdline"
daemon_start
last_shown 2.0.0 success "" "after the reboot into v2"
assert_eq staged "$(status_field 'j["state"]')" "v3 staged across the reboot"
pass "after the reboot: /info and /status show last_install 2.0.0 success"

# ---- POST /install {"reboot": true}: v3 into slot a, then reboot ----
expect_api 202 "POST /install with reboot" POST /install \
	-H 'Content-Type: application/json' --data-binary '{"reboot": true, "keep_config": true}'
wait_end rebooting
[ -e rebooted ] || fail "reboot_command did not run"
assert_eq a "$(env_get boot_slot)" "boot_slot after installing v3"
env_image_check fw_env.config
cmp -n "$(stat -c %s v3.img)" v3.img "$SLOT_a" || fail "slot a does not hold v3"
cmp -n "$(stat -c %s v2.img)" v2.img "$SLOT_b" || fail "slot b lost v2"
pass "POST /install {\"reboot\": true}: v3 in slot a, boot_slot=a, reboot_command ran"

# ---- a failed write: "failed", the bundle kept, the environment unflipped ----
daemon_stop
rm -f rebooted
echo "quiet sysupgrade.slot=a" >"$WORK/cmdline"	# rebooted into v3
losetup -d "$SLOT_b"
D_LOOPS=$(echo "$D_LOOPS" | sed "s|$SLOT_b||")
truncate -s 4M small.img
dev=$(losetup -f --show small.img) || fail "losetup small.img"
D_LOOPS="$D_LOOPS $dev"
CONF_TARGETS=$(printf '%s\n' "$CONF_TARGETS" | sed "s|^b = .*|b = $dev|")
write_config
daemon_start
last_shown 3.0.0 success "" "after the reboot into v3"
image 4.0.0
make_bundle v4.tar 4.0.0
V4=$(sha v4.tar)
expect_api 202 "install into a slot too small" POST "/bundle?install=1" -T v4.tar
wait_end failed
assert_eq write_failed "$(status_field 'j["last_error"]["error"]')" "last error of the failed install"
assert_eq a "$(env_get boot_slot)" "boot_slot after a failed install"
assert_eq "$V4" "$(staged_sha)" "the bundle stays staged after a failed install"
[ ! -e rebooted ] || fail "rebooted after a failed install"
env_record
check_record record.json 4.0.0 failed "write_failed: image payload.img -> target rootfs" \
	"sysupgrade_last after a failed install"
expect_api 202 "POST /reboot after a failure" POST /reboot
pass "a failed write: state failed, write_failed, bundle kept, no flip"

daemon_stop
assert_eq 0 "$DSTATUS" "exit status"
daemon_start
last_shown 4.0.0 failed "write_failed: image payload.img -> target rootfs" \
	"after the reboot that followed the failure"
pass "after the reboot: last_install 4.0.0 failed, write_failed"

# ---- last_install = file:PATH: the record in a file, parents made ----
daemon_stop
RECORD=$WORK/data/sysupgrade/last.json
CONF_INSTALL="last_install = file:$RECORD"
write_config
daemon_start
assert_eq null "$(status_field 'j["last_install"]')" "last_install with no file yet"
image 5.0.0 3M
make_bundle v5.tar 5.0.0
expect_api 202 "install v5 with last_install = file" POST "/bundle?install=1" -T v5.tar
wait_end idle
assert_eq b "$(env_get boot_slot)" "boot_slot after installing v5"
check_record "$RECORD" 5.0.0 success "" "$RECORD after installing v5"
env_record
check_record record.json 4.0.0 failed write_failed "sysupgrade_last in file mode"
daemon_stop
echo "quiet sysupgrade.slot=b" >"$WORK/cmdline"
daemon_start
last_shown 5.0.0 success "" "after the reboot into v5 (file)"
pass "last_install = file: v5's success in $RECORD, shown after the reboot"

# A record that is not one: a warning, and null.
daemon_stop
printf '{"version": "6", "result": "maybe"}\n' >"$RECORD"
daemon_start
assert_eq null "$(status_field 'j["last_install"]')" "a malformed record"
grep -qF "last_install not shown: last_install record in $RECORD is malformed: " "$WORK/daemon.log" ||
	fail "no warning for the malformed record: $(tail -n 5 "$WORK/daemon.log")"
pass "a malformed record: null, and a warning naming the file"

daemon_stop
assert_eq 0 "$DSTATUS" "exit status"
