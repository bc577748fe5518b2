#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command keeps working: contrib/demo/ab-device.sh
# (what ./demo.sh runs after building) comes up, the curl commands it
# prints upload and install v2 into slot b and flip boot_slot, and
# SIGTERM (Ctrl-C in a terminal) leaves no loop device, mount, process
# or file behind.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
need curl fw_printenv losetup python3
[ "$(id -u)" = 0 ] || fail "the demo needs root"
mkwork
demo_dir=/var/tmp/sysupgraded-demo
build=$(dirname "$(dirname "$SU_DAEMON")")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

SU_DEMO_PORT=$port setsid "$SU_TEST_SRC/../contrib/demo/ab-device.sh" "$build" >demo.out 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || :; wait $pid 2>/dev/null || :; rm -rf "$WORK"' EXIT
i=0
until grep -q '^Ctrl-C here' demo.out; do
	kill -0 $pid 2>/dev/null || fail "the demo died: $(cat demo.out)"
	[ $i -lt 600 ] || fail "the demo did not come up in 60 s: $(cat demo.out)"
	sleep 0.1
	i=$((i + 1))
done

# Run the printed commands themselves.
token=$(sed -n 's/^  export TOKEN=//p' demo.out)
[ -n "$token" ] || fail "no TOKEN line in the demo's output"
upload=$(grep -- '-T .*v2.bundle' demo.out | sed 's/^ *//')
install=$(grep -- "-d '{\"reboot\": false}'" demo.out | sed 's/^ *//')
[ -n "$upload" ] && [ -n "$install" ] || fail "no curl commands in: $(cat demo.out)"
TOKEN=$token sh -c "$upload" >upload.json || fail "upload failed: $(cat upload.json)"
assert_eq 2.0.0 "$(json_get upload.json 'j["version"]')" "uploaded version"
TOKEN=$token sh -c "$install" >install.json || fail "install failed: $(cat install.json)"
i=0
while :; do
	curl -sS --cacert "$demo_dir/tls/cert.pem" -H "Authorization: Bearer $token" \
		"https://127.0.0.1:$port/api/v1/status" >status.json
	state=$(json_get status.json 'j["state"]')
	[ "$state" = idle ] && break
	[ "$state" != failed ] || fail "install failed: $(cat status.json)"
	[ $i -lt 300 ] || fail "install did not end in 30 s: $(cat status.json)"
	sleep 0.1
	i=$((i + 1))
done
assert_eq b "$(fw_printenv -n -c "$demo_dir/fw_env.config" boot_slot)" "boot_slot"
pass "the demo's curl commands install v2 into slot b"

kill -TERM $pid
wait $pid || :
[ ! -e "$demo_dir" ] || fail "$demo_dir is still there"
! losetup -a | grep -q "$demo_dir" || fail "loop devices left: $(losetup -a)"
! grep -q "$demo_dir" /proc/self/mountinfo || fail "mounts left"
! pgrep -f "sysupgraded -c $demo_dir" >/dev/null || fail "daemon left running"
pass "stopping the demo removes its loop devices, mounts, daemon and files"
