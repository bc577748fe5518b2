#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# integration.demo: the README's first command, ./demo.sh, end to end:
# the in-place demo device comes up and prints its instructions; the
# commands it prints (the env file, demo-ctl) upload and install v2;
# `demo-ctl watch` sees the services stop, the handover, the write and
# the reboot; the demo boots the device again from the same loop device
# and /info says v2.0.0 with last_install success. A second demo
# meanwhile refuses, naming the first's PID. Ctrl-C leaves nothing
# behind, and the demo then starts again afresh.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/demo-lib.sh"
demo_test_init

demo_start demo.out
demo_check_howto demo.out '\. [^ ]*/env' 'demo-ctl watch' 'demo-ctl upload' \
	'demo-ctl install' 'demo-ctl info'
demo_source demo.out
assert_eq inplace "$DEMO_MODE" "the env file's DEMO_MODE"
demo-ctl info >info.json || fail "demo-ctl info: $(cat info.json)"
assert_eq "1.0.0 None" "$(json_get info.json 'j["version"] + " " + str(j["last_install"])')" \
	"/info of the fresh device"
grep -q '^demo: device up: v1.0.0, last_install: none' demo.out ||
	fail "the demo did not say the device is up: $(cat demo.out)"
pass "the in-place demo device is up: v1.0.0, no last_install"

demo_refused

setsid demo-ctl watch >watch.out 2>&1 &
watcher=$!
sleep 1
demo-ctl upload >upload.json || fail "demo-ctl upload: $(cat upload.json)"
assert_eq 2.0.0 "$(json_get upload.json 'j["version"]')" "the uploaded bundle's version"
demo-ctl install >install.json || fail "demo-ctl install: $(cat install.json)"
assert_eq installing "$(json_get install.json 'j["state"]')" "POST /install"
demo_wait_info 2.0.0
assert_eq "2.0.0 success" \
	"$(json_get info.json 'j["last_install"]["version"] + " " + j["last_install"]["result"]')" \
	"/info last_install after the reboot"
pass "demo-ctl upload, install: the device comes back on v2.0.0, last_install success"

demo-ctl env >env.out 2>&1 || fail "demo-ctl env: $(cat env.out)"
grep -q '^rig_version=2.0.0$' env.out && grep -q '^upgrade_available=1$' env.out ||
	fail "the device's U-Boot environment after the install: $(cat env.out)"
demo-ctl mark-good >mark.out 2>&1 || fail "demo-ctl mark-good: $(cat mark.out)"
grep -q '^upgrade_available=$' mark.out && grep -q '^bootcount=0$' mark.out ||
	fail "after demo-ctl mark-good: $(cat mark.out)"
pass "demo-ctl env: rig_version=2.0.0, upgrade_available=1; demo-ctl mark-good clears it"

# what the demo and the watcher saw on the way
grep -q '^rig-services: stop' demo.out || fail "the console shows no service stop: $(cat demo.out)"
for s in dummy dummy2; do
	grep -q "^$s-service: stopped gracefully" demo.out ||
		fail "the service $s did not stop gracefully: $(cat demo.out)"
done
grep -q 'stage 2: PID 1 at uptime .* in the ramfs' demo.out ||
	fail "no stage 2 on the console: $(cat demo.out)"
grep -q '^demo: the device rebooted' demo.out ||
	fail "the demo did not see the reboot: $(cat demo.out)"
grep -q '^demo: device up: v2.0.0, last_install: 2.0.0 success' demo.out ||
	fail "the demo did not boot v2: $(cat demo.out)"
i=0
until grep -q ' rebooting$' watch.out && tail -n 1 watch.out | grep -q ' idle$'; do
	[ "$i" -lt 100 ] || fail "demo-ctl watch did not see the device idle again: $(cat watch.out)"
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "-$watcher"	# its curl too
wait "$watcher" || :
python3 - watch.out <<'EOP' || fail "demo-ctl watch: $(cat watch.out)"
import sys
lines = [l.split(None, 1)[1].strip() for l in open(sys.argv[1])
         if l[:1].isdigit()]
states = [l.split()[0] for l in lines]
order = ["staged", "installing", "handover", "writing", "finalizing", "rebooting"]
at = [states.index(s) for s in order]
assert at == sorted(at), "out of order: %r" % lines
assert states[-1] == "idle" and states.index("rebooting") < len(states) - 1, lines
EOP
pass "demo-ctl watch: staged, installing, handover, writing, finalizing, rebooting, then idle on v2"

[ -f "$DEMO_CONSOLE" ] || fail "no console log $DEMO_CONSOLE"
! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DEMO_CONSOLE" ||
	fail "sanitizer report on the device's console: $(cat "$DEMO_CONSOLE")"

# a watcher and a console left open in other terminals end with the demo
demo_follow watch2.out watch
demo_follow console.out console
i=0
until grep -q ' idle$' watch2.out && grep -q 'ready: version 2.0.0' console.out; do
	[ "$i" -lt 100 ] || fail "demo-ctl watch, console: $(cat watch2.out console.out)"
	sleep 0.1
	i=$((i + 1))
done
demo_stop_clean
tail -n 1 watch2.out | grep -q ' (the demo has ended)$' ||
	fail "demo-ctl watch did not say that the demo ended: $(cat watch2.out)"
pass "demo-ctl watch and console end with the demo"

# again, from scratch
demo_start demo2.out --quiet
demo_source demo2.out
demo-ctl info >info.json || fail "demo-ctl info: $(cat info.json)"
assert_eq 1.0.0 "$(json_get info.json 'j["version"]')" "/info of the second demo's device"
pass "a second run starts afresh: v1.0.0"

# killed, it cannot clean up: the next demo removes what it left
killed_work=$DEMO_WORK
killed_pids="$(cat "$SU_DEMO_DIR/pids") $DEMO_NSPID"
kill -KILL "$DEMO_RUN"
wait "$DEMO_RUN" || :
demo_start demo3.out --quiet
grep -q "^demo: a demo that was killed left $killed_work behind; removing it" demo3.out ||
	fail "the next demo did not clean up after the killed one: $(cat demo3.out)"
demo_no_residue "$killed_work" $killed_pids
demo_source demo3.out
demo-ctl info >info.json || fail "demo-ctl info: $(cat info.json)"
assert_eq 1.0.0 "$(json_get info.json 'j["version"]')" "/info after a killed demo"
pass "after a demo was killed (SIGKILL), the next removes what it left and runs"
demo_stop_clean
