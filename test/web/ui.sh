#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# web.ui: the web UI in headless chromium (test/web/ui.js) against the
# real daemon over HTTPS, an A/B ext4 target on two loop devices and a
# file-backed U-Boot environment (as integration.daemon-install). The
# browser logs in (a wrong token is refused), sees the device card,
# has bundles refused (bad signature by drag and drop, incompatible and
# downgrade with their force box, a 64 MiB bad-signature bundle before
# the bar reaches 25 %), cancels an upload, uploads v2 by keyboard with
# the bar rising to 100 % and a report that matches the bundle, installs
# it into slot b and waits for the reboot; this script then "reboots"
# the device (restarts the daemon on slot b as 2.0.0) and the page shows
# 2.0.0 and last_install. A v3 too big for slot a fails: the page shows
# write_failed and offers a retry and a reboot. A client certificate
# gets in without a token. Screenshots of each step at 1280 and 360 px
# go to $SU_WEB_SHOTS/ui.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"
. "$SU_TEST_SRC/web/lib.sh"

need losetup mkfs.ext4 mkenvimage fw_printenv cmp
daemon_init
web_init ui
mount_staging 200M

# slot a (running, 1.0.0) is too small for the 24 MiB images: v3's
# install into it fails
ab_device 8M 32M
CONF_SERVER="www = $SU_TEST_SRC/../www"
write_config
daemon_start

# ---- the bundles ----
head -c 1048576 /dev/urandom >payload.img
make_bundle badsig.tar 2.0.0 other.pem
MB_COMPAT=acme,other-box make_bundle incompat.tar 2.0.0
make_bundle downgrade.tar 0.9.0
make_big_bad bigbad.tar 64
[ "$(stat -c %s bigbad.tar)" -gt $((64 << 20)) ] || fail "bigbad.tar is not 64 MiB"
# image VERSION: payload.img, a 24 MiB ext4 image holding /version
image() {
	rm -rf tree payload.img
	mkdir tree
	echo "$1" >tree/version
	head -c 4M /dev/urandom >tree/noise
	mkfs.ext4 -q -F -d tree payload.img 24M >/dev/null 2>&1 ||
		fail "mkfs.ext4 -d tree payload.img"
}
image 2.0.0
make_bundle v2.tar 2.0.0
cp payload.img v2.img
image 3.0.0
make_bundle v3.tar 3.0.0

web_start ui.js WEB_DIR="$WORK" \
	WEB_V2_SHA="$(sha v2.tar)" WEB_V2_IMG_SHA="$(sha v2.img)" \
	WEB_V2_SIZE="$(stat -c %s v2.tar)" \
	WEB_CLIENT_CERT="$WORK/client.pem" WEB_CLIENT_KEY="$WORK/client.key"

# ---- the reboot after v2: the device comes back on slot b as 2.0.0 ----
web_wait reboot 240
assert_eq rebooting "$(status_field 'j["state"]')" "state when the page waits for the device"
[ -e rebooted ] || fail "reboot_command did not run"
assert_eq b "$(env_get boot_slot)" "boot_slot after the install from the page"
cmp -n "$(stat -c %s v2.img)" v2.img "$SLOT_b" || fail "slot b does not hold the v2 image"
daemon_stop
rm -f rebooted
echo "quiet sysupgrade.slot=b" >cmdline
CONF_VERSION=2.0.0 write_config
daemon_start
web_go reboot
pass "the page's install wrote v2 to slot b and asked for the reboot; the device is back as 2.0.0"

# ---- the reboot after the failed v3 ----
web_wait reboot-failed 240
assert_eq rebooting "$(status_field 'j["state"]')" "state after the Reboot button"
[ -e rebooted ] || fail "the page's Reboot did not run reboot_command"
assert_eq b "$(env_get boot_slot)" "boot_slot after the failed install"
daemon_stop
CONF_VERSION=2.0.0 write_config
daemon_start
web_go reboot-failed

web_finish
daemon_stop
assert_eq 0 "$DSTATUS" "the daemon's exit status"
pass "screenshots in $WEB_SHOTS: $(ls "$WEB_SHOTS" | wc -l) PNG files"
