#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.boot-s6: the namespace rig boots with s6-svscan as PID 1 on the
# scan directory /run/service, which holds the dummy service and the
# daemon: /info answers over HTTPS, the dummy service heartbeats, both
# run under s6-supervise, the config's stop and start commands take
# the dummy service down (gracefully) and up again. Killing the
# namespace leaves no mount and no loop device behind.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

rig_init
need s6-svscan
rig_rootfs v1 1.0.0 "$RIG_BUILD" s6
rig_image v1.img v1
rig_env env.img
loop=$(rig_loop v1.img)
rig_boot "$loop" console.log

rig_wait_https
NOAUTH=1 expect_api 200 "GET /info" GET /info
assert_eq 1.0.0 "$(json 'j["version"]')" "/info version"
pass "the namespace's daemon answers /info over HTTPS on 127.0.0.1:$PORT"
assert_eq s6-svscan "$(cat "/proc/$RIG_NSPID/comm")" "PID 1 of the namespace"
scandir=$(rig_nsfile /run/service)
[ -x "$scandir/.s6-svscan/finish" ] || fail "no .s6-svscan/finish in /run/service"
pass "s6-svscan is PID 1 on /run/service, with a finish script"

rig_heartbeat
pass "the dummy service heartbeats"

# each service's process is a child of an s6-supervise
parent_of() {
	rig_ns /bin/sh -c 'read -r _ _ _ ppid _ </proc/$1/stat && cat /proc/$ppid/comm' \
		sh "$1"
}
assert_eq s6-supervise "$(parent_of "$(cat "$(rig_nsfile /run/dummy-service.pid)")")" \
	"the dummy service's parent"
assert_eq s6-supervise "$(parent_of "$(rig_ns /bin/pidof sysupgraded)")" \
	"the daemon's parent"
pass "the dummy service and the daemon run under s6-supervise"

# stop_command and start_command, as the daemon runs them
rig_ns /usr/bin/rig-services stop || fail "rig-services stop failed"
grep -q "^stopped gracefully" "$(rig_nsfile /var/lib/dummy/stopped)" ||
	fail "the dummy service left no stop marker"
grep -q "^dummy-service: stopped gracefully" "$RIG_HOST/dummy.log" ||
	fail "no graceful stop in /host/dummy.log: $(cat "$RIG_HOST/dummy.log")"
rig_ns /usr/bin/rig-services start || fail "rig-services start failed"
rig_heartbeat
pass "stop_command stops the dummy service gracefully, start_command restarts it"

rig_stop
rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
pass "stopped: no mount and no loop device left"
