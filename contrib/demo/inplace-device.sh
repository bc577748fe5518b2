#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The in-place demo device (what ./demo.sh runs): the namespace rig of
# test/ns/lib.sh as a device to play with. An ext4 root filesystem
# (v1.0.0) on a loop device, booted with busybox init as PID 1 of a PID
# and mount namespace; two dummy services; sysupgraded on
# https://127.0.0.1:8443 (SU_DEMO_PORT) with a self-signed certificate
# and a token; a signed v2 bundle. An install stops the services, hands
# over to the ramfs copy, writes the running root and reboot()s, which
# ends the namespace; the demo then boots the device again from the
# same loop device. Ctrl-C stops it and removes everything it made.
#   contrib/demo/inplace-device.sh BUILD_DIR [--quiet]
# --quiet: do not echo the device's console here (it is in
# $DEMO_WORK/console.log, and `demo-ctl console` follows it).
set -euo pipefail

build=$(cd "$1" && pwd)
quiet=${2:-}
DEMO_TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$DEMO_TOP/contrib/demo/lib.sh"
demo_lock
port=${SU_DEMO_PORT:-8443}
demo_port_free "$port"

export SU_TEST_SRC=$DEMO_TOP/test SU_BUILD_DIR=$build
export SU_DAEMON=$build/daemon/sysupgraded
export SU_BUNDLE_TOOL=$build/tools/sysupgrade-bundle
export TMPDIR=/var/tmp
RIG_SERVICES="dummy dummy2"
. "$DEMO_TOP/test/ns/lib.sh"

console=
echo_pid=

# Ctrl-C (or SIGTERM) is how a demo ends: not a failure.
demo_exit() {
	local rc=$?
	set +e
	[ -z "$echo_pid" ] || kill "$echo_pid" 2>/dev/null
	demo_unlock
	(exit "$rc")
	rig_cleanup	# stops the namespace, detaches, removes $WORK; exits
}

# boot: the device comes up from its loop device; wait for /info.
# The env file names its PID 1 (demo-ctl mark-good runs in there).
boot() {
	rig_boot "$loop" "$console" 9>&-
	demo_pid "$RIG_PID"
	demo_env inplace "API=$BASE" "CACERT=$WORK/server.pem" "TOKEN=$TOKEN" \
		"DEMO_WORK=$WORK" "DEMO_BUNDLE=$WORK/v2.bundle" \
		"DEMO_CONSOLE=$console" "DEMO_FW_ENV=$WORK/fw_env.config" \
		"DEMO_ENV_VARS=rig_version upgrade_available bootcount sysupgrade_last" \
		"DEMO_DAEMON=/usr/sbin/sysupgraded" "DEMO_CONF=/etc/sysupgraded.conf" \
		"DEMO_NSPID=$RIG_NSPID"
	rig_wait_https "$port" 60
}

# info_line: the version and last install /info reports.
info_line() {
	curl -sS --cacert "$WORK/server.pem" "$BASE/info" >"$WORK/info.json"
	json_get "$WORK/info.json" \
		'"v%s, last_install: %s" % (j["version"], "none" if not j["last_install"] else j["last_install"]["version"] + " " + j["last_install"]["result"])'
}

howto() {
	cat <<EOF

The in-place demo device runs: v1.0.0 on $loop, busybox init as PID 1
of a PID namespace (host PID $RIG_NSPID), services dummy and dummy2.

  web UI     https://127.0.0.1:$port/ (self-signed certificate)
  token      $TOKEN
  binaries   $build/daemon/sysupgraded
             $build/tools/sysupgrade-bundle
  v2 bundle  $WORK/v2.bundle

In another terminal, as root:

EOF
	demo_commands ". $DEMO_DIR/env" "TOKEN, API, CACERT; demo-ctl on PATH" \
		"demo-ctl watch" "follow /events, across the reboot too" \
		"demo-ctl upload" "the v2 bundle, verified as it streams in" \
		"demo-ctl install" "stop services, hand over, write, reboot" \
		"demo-ctl info" "once it is back: v2.0.0 and last_install" \
		"demo-ctl console" "the device's console"
	cat <<EOF

or with curl, after the first line:

  curl --cacert \$CACERT \$API/info
  curl --cacert \$CACERT -H "Authorization: Bearer \$TOKEN" \$API/status

Ctrl-C here stops the device and removes its loop devices and files.
EOF
}

main() {
	local status
	rig_init
	trap 'demo_exit' EXIT
	trap 'echo; say "stopping the device"; exit 0' INT TERM
	PORT=$port
	BASE=https://127.0.0.1:$PORT/api/v1
	demo_started "$WORK"
	console=$WORK/console.log
	: >"$console"

	say "making the root filesystems of v1.0.0 and v2.0.0 and a signed v2 bundle"
	rig_rootfs v1 1.0.0 "$RIG_BUILD"
	rig_image v1.img v1
	rig_rootfs v2 2.0.0 "$RIG_BUILD"
	echo "v2.0.0, installed in place by sysupgraded" >v2/etc/motd
	rig_image v2.img v2
	rig_bundle v2.bundle 2.0.0 v2.img
	rm -rf v1 v2 v2.img
	rig_env env.img
	loop=$(rig_loop v1.img)
	echo "$RIG_ENV_LOOP 0x0 0x4000" >"$WORK/fw_env.config"
	say "booting the device from $loop"
	boot
	say "device up: $(info_line)"
	howto
	if [ "$quiet" != --quiet ]; then
		echo "--- the device's console and its services' logs:"
		tail -q -n 0 -F "$console" "$RIG_HOST/services.log" \
			"$RIG_HOST/dummy.log" "$RIG_HOST/dummy2.log" 2>/dev/null &
		echo_pid=$!
		demo_pid "$echo_pid"
	fi
	# A device reboots for ever; anything else (a power-off, a crash)
	# ends the demo.
	while :; do
		status=0
		wait "$RIG_PID" || status=$?
		rig_forget "$RIG_PID" || fail "the device's namespace did not end"
		[ "$status" = 129 ] ||
			fail "the device stopped without a reboot (unshare exit $status); see $console"
		say "the device rebooted (reboot() ended its namespace); booting it again from $loop"
		boot
		say "device up: $(info_line)"
	done
}

main
