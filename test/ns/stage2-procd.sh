#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.stage2-procd: stage 2 started the way procd starts /sbin/upgraded
# on `ubus call system sysupgrade` (handover = procd): PID 1 of the rig
# is a shell init (contrib/init/exec/init.sh's shape) that on SIGUSR1
# execs su-procd-exec, which does what procd's sysupgrade_exec_upgraded()
# does: chroot(ROOT) without a chdir, then execvp /sbin/upgraded STATE.
# Stage 1 (handover = exec, `kill -s USR1 1`) builds ROOT with its
# sbin/upgraded link as for procd. Stage 2, PID 1 in the chroot, leaves
# it as procd's upgraded does, pivots (it is in the ramfs already: no
# re-exec), writes the root and reboots (129); booted again the device
# answers v2 with last_install success. No procd, ubus or ubusd runs:
# Debian has none; the ubus message is unit.handover's.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"
STATE=$RIG_STATE

rig_init
rig_rootfs v1 1.0.0 "$RIG_BUILD"
root_copy_elf v1 "$RIG_BUILD/test/su-procd-exec" /usr/bin/su-procd-exec
rm v1/sbin/init v1/etc/inittab
rig_script v1 /sbin/init <<EOS
#!/bin/sh
# ns.stage2-procd's PID 1: on SIGUSR1, procd's way to upgraded
trap 'exec /usr/bin/su-procd-exec /run/sysupgraded/root $STATE' USR1
trap 'exec reboot -f' TERM
/usr/bin/rig-services start
/usr/sbin/sysupgraded -c /etc/sysupgraded.conf --foreground -v &
while :; do
	sleep 60 &
	wait
done
EOS
sed -i 's|^handover = busybox$|handover = exec\nhandover_command = /bin/kill -s USR1 1|' \
	v1/etc/sysupgraded.conf
grep -q '^handover = exec$' v1/etc/sysupgraded.conf || fail "no handover = exec in the config"
rig_up v1
loop=$RIG_ROOT_LOOP
pass "v1 up under a shell PID 1, the dummy service heartbeats"

rig_rootfs v2 2.0.0 "$RIG_BUILD"
echo "only in v2" >v2/etc/rig/v2-only
rig_image v2.img v2
rig_bundle v2.tar 2.0.0 v2.img
expect_api 200 "upload v2" POST /bundle -T v2.tar
expect_api 202 "POST /install" POST /install -d '{"keep_config": true}'
rig_wait_end "" 120
assert_eq 129 "$RIG_STATUS" "the namespace's end (reboot() in a PID namespace)"
grep -q "stage 2: PID 1 at uptime .* in the ramfs" console.log ||
	fail "stage 2 did not start in the ramfs: $(grep 'stage 2' console.log)"
! grep -q "stage 2: PID 1 at uptime .* from the old root" console.log ||
	fail "stage 2 started from the old root: $(grep 'stage 2' console.log)"
! grep -q "leave procd's chroot\|starting init\|still in use" console.log ||
	fail "stage 2 could not take over: $(grep 'stage 2' console.log)"
grep -q "stage 2: rebooting" console.log || fail "stage 2 did not reboot: $(tail -n 20 console.log)"
pass "chroot + exec /sbin/upgraded STATE: stage 2 left the chroot, pivoted, wrote, rebooted (129)"

rig_extract "$loop" after
assert_eq 2.0.0 "$(cat after/etc/version)" "/etc/version on the device"
assert_eq "only in v2" "$(cat after/etc/rig/v2-only)" "a v2 file"
assert_eq "kept.conf of 1.0.0" "$(cat after/etc/rig/kept.conf)" "kept (keep)"
rig_boot "$loop" console2.log
rig_wait_https
NOAUTH=1 expect_api 200 "GET /info after the reboot" GET /info
assert_eq 2.0.0 "$(json 'j["version"]')" "/info version after the reboot"
assert_eq "2.0.0 success" "$(json 'j["last_install"]["version"] + " " + j["last_install"]["result"]')" \
	"/info last_install after the reboot"
rig_stop
pass "the device holds v2 with v1's kept files; booted again: v2, last_install success"

rig_unloop "$loop"
rig_unloop "$RIG_ENV_LOOP"
rig_assert_clean
rig_check_log console.log
pass "no mount and no loop device left"
