#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# web.reconnect: the web UI follows a real in-place install through the
# handover and the reboot, in the namespace rig (test/ns/lib.sh): v1 runs
# with busybox init as PID 1 of a PID namespace on a loop-device ext4
# root. The page (test/web/reconnect.js) uploads v2, whose target is
# that root, and installs it keeping settings; stage 1 stops the
# services and hands over, the /events stream breaks and the page
# reconnects to stage 2 with Last-Event-ID, shows it writing, then
# "rebooting"; the namespace ends with reboot(). While it is down the
# page says it waits for the device; booted again from the loop device,
# the device answers as 2.0.0 and the page shows that and last_install.
# Screenshots at 1280 and 360 px go to $SU_WEB_SHOTS/reconnect.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"
. "$SU_TEST_SRC/web/lib.sh"

rig_init
web_init reconnect
rig_rootfs v1 1.0.0 "$RIG_BUILD"
[ -f v1/usr/share/sysupgraded/www/app.js ] || fail "the rig's root has no web UI"
rig_image v1.img v1
rig_env env.img
loop=$(rig_loop v1.img)
rig_boot "$loop" console.log
rig_wait_https
pass "v1 up in the namespace, serving the web UI"

rig_rootfs v2 2.0.0 "$RIG_BUILD"
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
web_start reconnect.js WEB_BUNDLE="$WORK/v2.tar" WEB_BUNDLE_SHA="$(sha v2.tar)"

# the page shows "rebooting": stage 2 wrote the root and reboots
web_wait rebooting 180
rig_wait_end "" 60
assert_eq 129 "$RIG_STATUS" "the namespace's end (reboot() in a PID namespace)"
web_go rebooting
pass "the install from the page ended in reboot(): the namespace ended with 129"

# the page waits for the device while it is down; then it boots again
web_wait down 60
rig_extract "$loop" after
assert_eq 2.0.0 "$(cat after/etc/version)" "/etc/version on the device"
assert_eq "kept.conf of 1.0.0" "$(cat after/etc/rig/kept.conf)" "a kept file (Keep settings)"
rig_boot "$loop" console2.log
rig_wait_https
web_go down
web_finish
rig_stop
rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
rig_check_log console2.log
pass "the device holds v2 with the kept settings; the page followed it back; screenshots in $WEB_SHOTS"
