#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Stage 1 of an in-place install, up to the point of no return, on the
# host: every failure before the handover puts the device back. The
# trigger never fires here (handover = exec with a command that fails,
# or busybox with a PID 1 that is not busybox), so nothing reaches PID 1.
#   - admission: a bundle whose handover does not fit MemAvailable (a
#     meminfo file of the test's own) answers 507 no_memory naming both
#     numbers; the stop command never ran;
#   - a stop command that fails, or outlives stop_timeout: the start
#     command runs, /status is failed with the reason;
#   - a trigger that fails: the same, and the bundle is back in staging,
#     the ramfs root is gone and unmounted;
#   - after each, the daemon serves and the bundle is still staged.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

need mkfs.ext4 mkenvimage xz
daemon_init
mount_staging 64M

truncate -s 8M inuse.img
printf 'bootcount=0\n' >vars.txt
mkenvimage -s 0x4000 -o uboot.env vars.txt
echo "$WORK/uboot.env 0x0 0x4000" >fw_env.config
mkdir -p etc
echo "kept" >etc/kept.conf
cat >svc.sh <<EOS
#!/bin/sh
# the test's services: a log of what was asked
echo "\$1" >>$WORK/services.log
case \$1 in
fail-stop) exit 3 ;;
hang-stop) exec sleep 30 ;;
slow-stop) sleep 1 ;;
esac
EOS
chmod 0755 svc.sh

CONF_TARGETS="[target:rootfs]
type = ext4
device = $WORK/inuse.img
in_use = yes
allow_file = yes"

# configure HANDOVER STOP MEMAVAILABLE_KB [MORE INSTALL LINES]
configure() {
	daemon_stop
	printf 'MemTotal: 999999999 kB\nMemAvailable: %s kB\n' "$3" >meminfo
	CONF_DEVICE="meminfo = $WORK/meminfo"
	CONF_INSTALL="handover = $1
stop_command = $WORK/svc.sh $2
start_command = $WORK/svc.sh start
stop_timeout = 2
keep = $WORK/etc/kept.conf
${4:-}"
	write_config
	: >services.log
	daemon_start
}

root_gone() {
	[ ! -e staging/root ] || fail "$1: the ramfs root is still there: $(ls -la staging/root)"
	! grep -qF " $WORK/staging/root " /proc/self/mountinfo ||
		fail "$1: the ramfs root is still mounted"
	[ -f staging/bundle.tar ] || fail "$1: the bundle is not back in staging"
	assert_eq "$STAGED_SHA" "$(sha staging/bundle.tar)" "$1: the staged bundle"
	assert_eq "$(sha inuse.img.orig)" "$(sha inuse.img)" "$1: the target was not written"
}

# services_were WHAT EXPECTED-LOG
services_were() {
	assert_eq "$2" "$(tr '\n' ' ' <services.log)" "$1: services"
}

mkfs.ext4 -q -F inuse.img
cp inuse.img inuse.img.orig
image() { head -c 1048576 /dev/urandom >payload.img; }
image
MB_TARGET=rootfs make_bundle inplace.tar 2.0.0

# ---- admission ----
configure exec stop 1024 "handover_command = false"
expect_api 200 "stage the in-place bundle" PUT /bundle -T inplace.tar
STAGED_SHA=$(sha staging/bundle.tar)
expect_api 507 "install, MemAvailable 1 MiB" POST /install
assert_error no_memory "install, MemAvailable 1 MiB"
msg=$(json 'j["message"]')
echo "$msg" | grep -q 'MemAvailable is 1048576 bytes' || fail "no_memory names MemAvailable: $msg"
echo "$msg" | grep -Eq 'needs [0-9]+ bytes' || fail "no_memory names the need: $msg"
need_bytes=$(echo "$msg" | sed -n 's/.*needs \([0-9]*\) bytes.*/\1/p')
[ "$need_bytes" -gt 6291456 ] || fail "the need ($need_bytes) leaves out stage 2's 6 MiB"
services_were "admission" ""
assert_eq staged "$(status_field 'j["state"]')" "state after no_memory"
assert_eq no_memory "$(status_field 'j["last_error"]["error"]')" "/status keeps the reason"
root_gone "admission"
pass "admission: 507 no_memory naming both numbers, nothing stopped, bundle staged"

# ---- admission counts the decompressor: a 64 MiB xz dictionary ----
# MemAvailable = the plain bundle's need + 32 MiB: that one is admitted
# (the trigger then fails), the xz one needs 64 MiB more and is not.
fits_kb=$(( (need_bytes - 1048576 + 33554432) / 1024 ))
configure exec stop "$fits_kb" "handover_command = false"
expect_api 202 "install, plain payload, MemAvailable $fits_kb kB" POST /install
wait_end failed
services_were "plain payload admitted" "stop start "
xzdir=$(mktemp -d "$WORK/xz.XXXXXX")
(
	cd "$xzdir"
	cp "$WORK/payload.img" rootfs.img
	xz -c --lzma2=dict=64MiB rootfs.img >rootfs.img.xz
	write_manifest manifest.json 2.0.0 "xz, 64 MiB dictionary" \
		"$(image_json rootfs.img.xz ext4 rootfs xz "$(stat -c %s rootfs.img)")"
	sign "$WORK/signing.pem" manifest.json manifest.json.sig
	tar --format=ustar -cf "$WORK/inplace-xz.tar" manifest.json manifest.json.sig rootfs.img.xz
)
expect_api 200 "stage the xz bundle" PUT /bundle -T inplace-xz.tar
STAGED_SHA=$(sha staging/bundle.tar)
: >services.log
expect_api 507 "install, xz dictionary 64 MiB" POST /install
assert_error no_memory "install, xz dictionary 64 MiB"
json 'j["message"]' | grep -q "decompressor 67174400" ||
	fail "no_memory names the decompressor's 64 MiB + 64 KiB: $(cat body)"
services_were "xz refused" ""
root_gone "xz refused"
pass "admission counts the decompressor: the same MemAvailable admits a plain payload, refuses a 64 MiB xz dictionary"

# ---- a stop command that fails ----
configure exec fail-stop 8000000 "handover_command = false"
expect_api 202 "install, stop command fails" POST /install
wait_end failed
services_were "failed stop" "fail-stop start "
status_field 'j["last_error"]["message"]' | grep -q "stop_command .* exited with status 3" ||
	fail "failed stop: reason in /status: $(cat body)"
root_gone "failed stop"
pass "a stop command that fails: services started again, failed with the reason"

# ---- a stop command that hangs past stop_timeout ----
configure exec hang-stop 8000000 "handover_command = false"
expect_api 202 "install, stop command hangs" POST /install
wait_end failed
services_were "hung stop" "hang-stop start "
status_field 'j["last_error"]["message"]' | grep -q "did not finish within 2 s" ||
	fail "hung stop: reason in /status: $(cat body)"
root_gone "hung stop"
pass "a stop command past stop_timeout: stopped, services started again, failed"

# ---- a trigger that fails ----
configure exec stop 8000000 "handover_command = false"
expect_api 202 "install, trigger fails" POST /install
wait_end failed
services_were "failed trigger" "stop start "
status_field 'j["last_error"]["message"]' | grep -q "handover_command 'false' exited with status 1" ||
	fail "failed trigger: reason in /status: $(cat body)"
root_gone "failed trigger"
pass "a trigger that fails: bundle back in staging, root gone, services started again"

# ---- the ramfs is ready when the trigger runs, even on a noexec staging ----
mount -o remount,noexec "$WORK/staging" || fail "remount the staging tmpfs noexec"
cat >check-root.sh <<'EOS'
#!/bin/sh
# handover_command of the test: look at the ramfs stage 1 built, then
# fail, so that nothing takes over.
set -u
log=$1
st=$2/root/handover.state
get() { sed -n "s|^$1=||p" "$st"; }
{
	head -n 1 "$st"
	root=$(get root) loader=$(get loader) libs=$(get library_path) exe=$(get exe)
	grep -q " $root " /proc/self/mountinfo && echo "root is a mount point"
	grep " $root " /proc/self/mountinfo | grep -q noexec || echo "root allows exec"
	lp=$(echo "$libs" | sed "s|^|$root|; s|:|:$root|g")
	# /proc as stage 2 will have it (the ASan runtime reads it)
	mkdir -p "$root/proc"
	unshare --mount sh -c 'mount -t proc proc "$1/proc" && exec chroot "$@"' sh \
		"$root" "$loader" --library-path "$libs" "$exe" --version &&
		echo "the copy runs alone in the ramfs"
	ls "$root$2/bundle.tar" >/dev/null && echo "the bundle is in the ramfs"
	[ ! -e "$2/bundle.tar" ] && echo "and not in staging"
} >"$log" 2>&1
exit 1
EOS
configure exec stop 8000000 "handover_command = sh $WORK/check-root.sh $WORK/check.log $WORK/staging"
expect_api 202 "install, trigger looks at the ramfs" POST /install
wait_end failed
for want in "sysupgraded-handover 1" "root is a mount point" "root allows exec" \
	"the copy runs alone in the ramfs" "the bundle is in the ramfs" "and not in staging"; do
	grep -qx "$want" check.log || fail "at the trigger: no '$want' in: $(cat check.log)"
done
root_gone "ramfs check"
mount -o remount,exec "$WORK/staging"
pass "at the trigger: ROOT bound without noexec, the copy runs under chroot, the bundle moved in"

# ---- SIGTERM to the daemon during stage 1: no trigger, all undone ----
configure exec slow-stop 8000000 "handover_command = $WORK/svc.sh triggered"
expect_api 202 "install, the daemon is stopped during it" POST /install
sleep 0.4
kill -TERM "$DPID"
i=0
while kill -0 "$DPID" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "the daemon did not stop within 10 s of SIGTERM"
	sleep 0.1
done
wait "$DPID" || :
DPID=
services_were "SIGTERM in stage 1" "slow-stop start "
root_gone "SIGTERM in stage 1"
pass "SIGTERM during stage 1: the trigger never ran, services started again, bundle kept"

# ---- busybox with a PID 1 that is not busybox: refused before the signal ----
configure busybox stop 8000000
expect_api 202 "install, handover = busybox" POST /install
wait_end failed
services_were "not busybox" "stop start "
status_field 'j["last_error"]["message"]' | grep -Eq "handover = busybox: (PID 1 is .*, not busybox|readlink /proc/1/exe: )" ||
	fail "busybox on another init: reason: $(cat body)"
root_gone "not busybox"
pass "handover = busybox under another init: refused, put back"

# ---- still serving, and a retry is possible ----
expect_api 200 "GET /info after the failures" GET /info
assert_eq failed "$(status_field 'j["state"]')" "state after the failures"
pass "the daemon serves on with the bundle staged"
