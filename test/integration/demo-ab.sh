#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# integration.demo-ab: ./demo.sh --ab, the A/B demo device, end to end:
# the commands it prints upload v2 and install it into slot b
# (boot_slot flips, upgrade_available=1); `demo-ctl reboot` "reboots":
# the daemon comes back on slot b, v2.0.0 with last_install success and
# the boot counted; `demo-ctl mark-good` confirms it. A second demo
# (in place) meanwhile refuses, naming the first's PID. Ctrl-C leaves
# nothing behind.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/demo-lib.sh"
demo_test_init

demo_start demo.out --ab
demo_check_howto demo.out '\. [^ ]*/env' 'demo-ctl upload' 'demo-ctl install' \
	'demo-ctl env' 'demo-ctl reboot' 'demo-ctl mark-good'
demo_source demo.out
assert_eq ab "$DEMO_MODE" "the env file's DEMO_MODE"
demo-ctl info >info.json || fail "demo-ctl info: $(cat info.json)"
assert_eq 1.0.0 "$(json_get info.json 'j["version"]')" "/info of the fresh device"
grep -q '^demo: booted slot a (.*): v1.0.0' demo.out || fail "slot a not booted: $(cat demo.out)"
pass "the A/B demo device is up on slot a: v1.0.0"

demo_refused

demo-ctl upload >upload.json || fail "demo-ctl upload: $(cat upload.json)"
assert_eq 2.0.0 "$(json_get upload.json 'j["version"]')" "the uploaded bundle's version"
demo-ctl install >install.json || fail "demo-ctl install: $(cat install.json)"
i=0
while :; do
	demo-ctl status >status.json || fail "demo-ctl status: $(cat status.json)"
	state=$(json_get status.json 'j["state"]')
	[ "$state" = idle ] && break
	[ "$state" != failed ] || fail "the install failed: $(cat status.json)"
	[ "$i" -lt 300 ] || fail "the install did not end in 30 s: $(cat status.json)"
	sleep 0.1
	i=$((i + 1))
done
demo-ctl env >env.out 2>&1 || fail "demo-ctl env: $(cat env.out)"
grep -q '^boot_slot=b$' env.out && grep -q '^upgrade_available=1$' env.out ||
	fail "the environment after the install: $(cat env.out)"
assert_eq 1.0.0 "$(demo-ctl info | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" \
	"/info before the reboot"
pass "demo-ctl upload, install: v2 in slot b, boot_slot=b, upgrade_available=1, still v1.0.0"

demo-ctl reboot >reboot.json || fail "demo-ctl reboot: $(cat reboot.json)"
assert_eq rebooting "$(json_get reboot.json 'j["state"]')" "POST /reboot"
demo_wait_info 2.0.0
assert_eq "2.0.0 success" \
	"$(json_get info.json 'j["last_install"]["version"] + " " + j["last_install"]["result"]')" \
	"/info last_install after the reboot"
demo_wait_line demo.out '^demo: the new slot waits for its confirmation: demo-ctl mark-good' \
	"the demo did not show --mark-good"
grep -q '^demo: booted slot b (.*): v2.0.0, upgrade_available=1 bootcount=1' demo.out ||
	fail "the demo did not boot slot b: $(cat demo.out)"
pass "demo-ctl reboot: the daemon comes back on slot b, v2.0.0, last_install success, bootcount=1"

demo-ctl mark-good >mark.out 2>&1 || fail "demo-ctl mark-good: $(cat mark.out)"
grep -q '^upgrade_available=$' mark.out && grep -q '^bootcount=0$' mark.out ||
	fail "after demo-ctl mark-good: $(cat mark.out)"
demo-ctl env >env.out 2>&1
grep -q '^boot_slot=b$' env.out || fail "boot_slot after mark-good: $(cat env.out)"
pass "demo-ctl mark-good: upgrade_available deleted, bootcount=0, boot_slot stays b"

demo_follow watch.out watch	# left open in another terminal
demo_wait_line watch.out ' idle$' "demo-ctl watch"
demo_stop_clean
tail -n 1 watch.out | grep -q ' (the demo has ended)$' ||
	fail "demo-ctl watch did not say that the demo ended: $(cat watch.out)"
pass "demo-ctl watch ends with the demo"
