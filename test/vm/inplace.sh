#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vm.inplace: the in-place upgrade end to end on a VM that boots from
# UBI. The disk is UBI on block2mtd over a virtio disk: a static volume
# `kernel` that nobody writes and a dynamic volume `rootfs` holding a
# UBIFS root; the U-Boot environment is on a second virtio disk. Every
# boot runs a bootloader stand-in (bootloader.sh: libubootenv's
# fw_printenv, then UBI, then switch_root into ubi0:$rootvol) and the
# root's busybox init, which runs a watchdog keeper (softdog, nowayout),
# sysupgraded and vm-check, with a ::restart: entry for stage 2.
#
# From the host, over a forwarded loopback port: v1 answers /info; a v2
# bundle (type ubi, target rootfs: the volume holding the running root)
# goes up with curl and POST /install hands over to stage 2 as PID 1,
# which rewrites the volume, restores the kept files into it, records
# the result in the environment and reboots. qemu runs without
# -no-reboot, so the guest boots again in place, into v2. Then:
#   * /info answers version 2.0 with last_install success;
#   * the kept files are v1's, the others v2's (vm-check in the guest);
#   * the environment has the bundle's variable and the record;
#   * the erase counters show a volume update, not a reformat
#     (ubi-pebs.py, as in ubi.sh): the untouched volume is the same to
#     the byte, the image sequence is kept, rootfs's old PEBs were erased
#     once more, its new ones erased before use;
#   * stage 2 fed the watchdog: the console says so, the softdog never
#     fired, there were exactly two boots, and stage 2 lasted longer than
#     the watchdog's margin (unfed, it would have been reset).
# Prints the time from POST /install to v2 answering /info.
#
# With SU_VM_INPLACE_CUTS=N (vm.power-cut-inplace) it cuts the power
# instead, N times, each on fresh images: qemu is killed (SIGKILL, its
# PID from -pidfile) at a random point (seeded: SU_VM_PC_SEED replays)
# after stage 2's first write to the running root. Then: the
# environment holds the transaction marker; the next boot's bootloader
# finds it and boots the recovery volume (a v1 root whose target is not
# in use); v2 installed there over the API clears the marker, and the
# reboot after it boots rootfs, v2, with last_install success.
set -eu
. "$(dirname "$0")/lib.sh"
. "$SU_TEST_SRC/integration/root-lib.sh"

: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
: "${SU_BUNDLE_TOOL:?SU_BUNDLE_TOOL must name the sysupgrade-bundle binary}"
vm_need ubinize mkfs.ubifs mkenvimage fw_printenv curl openssl python3 \
	readelf realpath busybox
vm_kernel
vm_mkwork

PEB=131072
LEB=$((PEB - 128))		# -m 1: EC header at 0, VID at 64, data at 128
ROOT_LEBS=256			# the rootfs volume: 32 MiB
CUTS=${SU_VM_INPLACE_CUTS:-0}
REC_LEBS=96			# the recovery volume (cut mode): 12 MiB
DISK_SIZE=$((288 * PEB))
[ "$CUTS" = 0 ] || DISK_SIZE=$(((288 + REC_LEBS + 4) * PEB))
MARGIN=4			# softdog's soft_margin, seconds: less than stage 2 takes
TOKEN=vm-inplace-token-0123456789
HOSTPY="python3 $VM_DIR/inplace-host.py"
PEBS="python3 $VM_DIR/ubi-pebs.py"
STATE=/run/sysupgraded/root/handover.state
HPORT=$($HOSTPY port)
CPORT=$($HOSTPY port)
URL=https://127.0.0.1:$HPORT/api/v1
VMPID=

# The VM runs in the background; whatever ends this script ends it.
cleanup() {
	if [ -n "$VMPID" ]; then
		kill -TERM "$VMPID" 2>/dev/null || :
		wait "$VMPID" 2>/dev/null || :
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

vm_keys_tls

# script DIR PATH: stdin becomes the executable DIR/PATH
script() {
	mkdir -p "$(dirname "$1$2")"
	cat >"$1$2"
	chmod 0755 "$1$2"
}

# mkroot DIR VERSION: a root of VERSION: busybox init, sysupgraded with
# its libraries at their paths, its config and material, files to keep.
mkroot() {
	mkdir "$1"
	root_layout "$1"
	root_busybox "$1"
	ln -s /bin/busybox "$1/sbin/init"
	root_copy_elf "$1" "$SU_DAEMON" /usr/sbin/sysupgraded
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
	printf 'root:x:0:\n' >"$1/etc/group"
	echo "$2" >"$1/etc/version"
	mkdir -p "$1/etc/sysupgraded/tls" "$1/etc/sysupgraded/keys" \
		"$1/etc/sysupgraded/keep.d" "$1/etc/vm/kept.d" \
		"$1/usr/share/sysupgraded/www"
	cp tls/cert.pem tls/key.pem "$1/etc/sysupgraded/tls/"
	chmod 0600 "$1/etc/sysupgraded/tls/key.pem"
	cp keys/test.pub.pem "$1/etc/sysupgraded/keys/"
	printf '<!doctype html><title>vm %s</title>\n' "$2" \
		>"$1/usr/share/sysupgraded/www/index.html"
	echo "/dev/vdb 0x0 0x4000" >"$1/etc/fw_env.config"
	echo "kept.conf of $2" >"$1/etc/vm/kept.conf"
	echo "kept.d/a.conf of $2" >"$1/etc/vm/kept.d/a.conf"
	echo "listed.conf of $2" >"$1/etc/vm/listed.conf"
	echo "not-kept.conf of $2" >"$1/etc/vm/not-kept.conf"
	echo "/etc/vm/listed.conf" >"$1/etc/sysupgraded/keep.d/vm"
	# incompressible bulk, so that stage 2 writes for a few seconds as
	# it would a real root, and lasts well beyond the watchdog's margin
	mkdir -p "$1/usr/share/vm"
	head -c $((8 << 20)) /dev/urandom >"$1/usr/share/vm/payload"
	cat >"$1/etc/sysupgraded.conf" <<EOF
[device]
compatible = acme,vm-inplace
version_file = /etc/version
keys = /etc/sysupgraded/keys
fw_env_config = /etc/fw_env.config

[server]
listen = 0.0.0.0:8443
cert = /etc/sysupgraded/tls/cert.pem
key = /etc/sysupgraded/tls/key.pem
token_sha256 = $(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)

[staging]
dir = /run/sysupgraded

[install]
handover = busybox
reboot_command = /bin/reboot
keep = /etc/vm/kept.conf /etc/vm/kept.d/*.conf
watchdog = /dev/watchdog

[target:rootfs]
type = ubi
device = ubi0:rootfs
in_use = yes
verify = readback
EOF
	cat >"$1/etc/inittab" <<EOF
::sysinit:/etc/rcS
::respawn:/bin/watchdog -F -t 1 -T $MARGIN /dev/watchdog
::once:/usr/sbin/sysupgraded -c /etc/sysupgraded.conf --foreground -v
::once:/usr/bin/vm-check
::restart:/usr/sbin/sysupgraded --stage2 $STATE
EOF
	script "$1" /etc/rcS <<'EOF'
#!/bin/sh
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t tmpfs -o mode=0755,nosuid,nodev run /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmp /tmp
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
read -r up _ </proc/uptime
echo "vm-rc: version $(cat /etc/version) at uptime $up s"
EOF
	# v1 only says it is up; v2 checks the kept files, waits until the
	# host is done (a connection to port 9000), then powers off.
	script "$1" /usr/bin/vm-check <<'EOF'
#!/bin/sh
v=$(cat /etc/version)
read -r up _ </proc/uptime
echo "vm-check: version $v at uptime $up s"
[ "$v" = 2.0 ] || exit 0
rc=0
check() {
	got=$(cat "$1" 2>&1) || :
	if [ "$got" = "$2" ]; then
		echo "vm-check: ok: $1: $got"
	else
		echo "vm-check: FAIL: $1 holds '$got', not '$2'"
		rc=1
	fi
}
check /etc/vm/kept.conf "kept.conf of 1.0"
check /etc/vm/kept.d/a.conf "kept.d/a.conf of 1.0"
check /etc/vm/listed.conf "listed.conf of 1.0"
check /etc/vm/not-kept.conf "not-kept.conf of 2.0"
check /etc/vm/v2-only "only in v2"
echo done | nc -l -p 9000 >/dev/null
mount -o remount,ro / || echo "vm-check: remount / read-only failed"
sync
if [ "$rc" = 0 ]; then
	echo "SU-VM-RESULT: PASS"
else
	echo "SU-VM-RESULT: FAIL $rc"
fi
poweroff -f
EOF
}

mkroot v1 1.0
mkroot v2 2.0
echo "only in v2" >v2/etc/vm/v2-only
vols="v1 v2"
if [ "$CUTS" != 0 ]; then
	# the recovery system: v1's programs, its own version, the root
	# filesystem as a target it writes, not one it runs from
	mkroot rec 1.0-recovery
	rm -r rec/usr/share/vm
	sed -i 's/^in_use = yes$/in_use = no/' rec/etc/sysupgraded.conf
	grep -qx 'in_use = no' rec/etc/sysupgraded.conf ||
		vm_fail "no in_use line in the recovery's config"
	vols="v1 v2 rec"
fi
for v in $vols; do
	lebs=$ROOT_LEBS
	[ "$v" != rec ] || lebs=$REC_LEBS
	mkfs.ubifs -U -r $v -m 8 -e $LEB -c $lebs -o $v.ubifs ||
		vm_fail "mkfs.ubifs of $v failed"
done
"$SU_BUNDLE_TOOL" create --version 2.0 --compatible acme,vm-inplace \
	--image v2.ubifs:ubi:rootfs:zstd --bootenv vm_version=2.0 \
	--key signing.pem --output v2.tar >/dev/null ||
	vm_fail "sysupgrade-bundle create failed"
echo "v1.ubifs $(stat -c %s v1.ubifs) bytes, v2.ubifs $(stat -c %s v2.ubifs) bytes, bundle $(stat -c %s v2.tar) bytes"

head -c $((256 * 1024)) /dev/urandom >kernel.bin
cat >ubi.ini <<EOF
[kernel]
mode=ubi
image=kernel.bin
vol_id=0
vol_type=static
vol_name=kernel
[rootfs]
mode=ubi
image=v1.ubifs
vol_id=1
vol_size=$((ROOT_LEBS * LEB))
vol_type=dynamic
vol_name=rootfs
EOF
[ "$CUTS" = 0 ] || cat >>ubi.ini <<EOF
[recovery]
mode=ubi
image=rec.ubifs
vol_id=2
vol_size=$((REC_LEBS * LEB))
vol_type=dynamic
vol_name=recovery
EOF
ubinize -o ubi.img -p $PEB -m 1 ubi.ini || vm_fail "ubinize failed"
vm_ff_image disk.img $DISK_SIZE ubi.img
$PEBS dump disk.img $PEB >before.pebs
printf 'bootcmd=boot\nrootvol=rootfs\n' >env.txt
mkenvimage -s 0x4000 -o env.bin env.txt || vm_fail "mkenvimage failed"
vm_ff_image env.img 65536 env.bin
echo "env.img 0x0 0x4000" >fw_env.config

cat >boot.conf <<EOF
BOOT_MTD=/dev/vda,$PEB
BOOT_WATCHDOG="soft_margin=$MARGIN nowayout=1"
EOF
[ "$CUTS" = 0 ] || echo "BOOT_RECOVERY=recovery" >>boot.conf
echo "/dev/vdb 0x0 0x4000" >boot-fw_env.config
sh "$VM_DIR/mkinitramfs.sh" -o boot.gz -m "$VM_MODDIR" \
	--init "$VM_DIR/bootloader.sh" --module softdog \
	--bin "$(command -v fw_printenv)" --bin /usr/sbin/ubiattach \
	--file boot.conf:/etc/su-boot.conf \
	--file boot-fw_env.config:/etc/fw_env.config ||
	vm_fail "cannot build the bootloader initramfs"

api() {
	curl -sS --cacert tls/cert.pem -H "Authorization: Bearer $TOKEN" "$@"
}

# the cuts, then the end of this script
[ "$CUTS" = 0 ] || { . "$VM_DIR/power-cut-inplace.sh"; exit 0; }

# ---- boot v1 ----
# run.sh itself in the background (not vm_run, whose subshell would
# not pass a TERM on): its trap stops qemu.
t_boot=$(date +%s.%N)
sh "$VM_DIR/run.sh" -k "$VM_KERNEL" -i boot.gz -l console.log \
	--disk disk.img --disk env.img \
	--hostfwd "127.0.0.1:$HPORT-:8443" --hostfwd "127.0.0.1:$CPORT-:9000" \
	--append printk.time=1 --reboot-in-place --timeout 280 &
VMPID=$!
$HOSTPY info "$URL/info" tls/cert.pem 1.0 180 "$VMPID" "$t_boot" info1.json ||
	vm_fail "v1 did not come up"
vm_pass "v1 answers /info through the forwarded port"

code=$(api -o upload.json -w '%{http_code}' -T v2.tar "$URL/bundle") ||
	vm_fail "upload: curl failed"
[ "$code" = 200 ] || vm_fail "upload: HTTP $code: $(cat upload.json)"
vm_pass "v2 uploaded and staged"

t_install=$(date +%s.%N)
code=$(api -o install.json -w '%{http_code}' -d '{"keep_config": true}' \
	"$URL/install") || vm_fail "POST /install: curl failed"
[ "$code" = 202 ] || vm_fail "POST /install: HTTP $code: $(cat install.json)"
$HOSTPY info "$URL/info" tls/cert.pem 2.0 240 "$VMPID" "$t_install" info2.json \
	>timeline.txt || { cat timeline.txt; vm_fail "v2 did not answer /info"; }
t_v2=$(date +%s.%N)
cat timeline.txt
python3 - info2.json <<'EOF' || vm_fail "/info of v2: $(cat info2.json)"
import json, sys
i = json.load(open(sys.argv[1]))
li = i["last_install"]
assert i["version"] == "2.0", i
assert li and li["version"] == "2.0" and li["result"] == "success", li
EOF
vm_pass "v2 answers /info after the reboot, last_install success"

$HOSTPY knock "$CPORT" 60 || vm_fail "v2's vm-check did not answer"
set +e
wait "$VMPID"
rc=$?
set -e
VMPID=
[ "$rc" = 0 ] || vm_fail "the guest did not pass (run.sh status $rc)"
vm_pass "v2 holds v1's kept files and v2's others (vm-check)"

# ---- the console ----
boots=$(grep -c 'su-boot: bootloader stand-in' console.log) || :
[ "$boots" = 2 ] || vm_fail "the guest booted $boots times, not twice"
grep -q 'su-boot: root ubi0:rootfs (ubifs), version 1.0' console.log &&
	grep -q 'su-boot: root ubi0:rootfs (ubifs), version 2.0' console.log ||
	vm_fail "the bootloader did not boot v1 and then v2"
grep -q 'stage 2: PID 1 at uptime .* in the ramfs' console.log ||
	vm_fail "stage 2 did not re-exec into the ramfs"
! grep -q 'still in use' console.log ||
	vm_fail "the old root stayed busy: $(grep 'stage 2' console.log)"
! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" console.log ||
	vm_fail "a sanitizer report on the console"
vm_pass "two boots, v1 then v2; stage 2 ran from the ramfs and unmounted the old root"

grep -q 'stage 2: feeding watchdog /dev/watchdog at uptime' console.log ||
	vm_fail "stage 2 did not take the watchdog over"
! grep -q 'softdog: Initiating system reboot' console.log ||
	vm_fail "the softdog fired: $(grep -n 'softdog\|stage 2' console.log)"
# The keeper's last feed is its release when init kills it (the kernel
# pings then, and nowayout keeps the watchdog running); the reset ends
# stage 2. Without stage 2 feeding it, the watchdog would have fired.
python3 - console.log "$MARGIN" <<'EOF' || vm_fail "the watchdog check failed"
import re, sys
log, margin = open(sys.argv[1], errors='replace').read(), float(sys.argv[2])
first = log.split('su-boot: bootloader stand-in')[1]
def at(pattern):
    m = re.search(pattern, first)
    assert m, 'no "%s" on the console of the first boot' % pattern
    return float(m.group(1))
rel = at(r'\[\s*([0-9.]+)\] watchdog: watchdog0: watchdog did not stop!')
fed = at(r'stage 2: feeding watchdog /dev/watchdog at uptime ([0-9.]+) s')
# the reset: a reboot, or the panic of a kernel that locked up in it
# (run.sh's softlockup_panic)
end = at(r'\[\s*([0-9.]+)\] (?:reboot: Restarting system|Kernel panic - not syncing: softlockup)')
print('watchdog: the keeper let go at uptime %.2f s; stage 2 fed it %.2f s '
      'later and until the reset, %.2f s after the keeper let go (margin %g s)'
      % (rel, fed - rel, end - rel, margin))
assert fed - rel < margin, 'stage 2 took the watchdog %.2f s after its ' \
    'keeper let go, later than the margin' % (fed - rel)
assert end - rel > margin, 'stage 2 took %.2f s, not more than the margin: ' \
    'the test does not show that it fed the watchdog' % (end - rel)
EOF
vm_pass "stage 2 fed the watchdog: no softdog reset, and it lasted longer than the margin"

# ---- the environment and the erase counters ----
fw_printenv -c fw_env.config >env.after 2>&1 || vm_fail "fw_printenv: $(cat env.after)"
grep -qx 'vm_version=2.0' env.after || vm_fail "no vm_version=2.0: $(cat env.after)"
grep -q '^sysupgrade_last=.*"result":"success"' env.after ||
	vm_fail "no success record: $(cat env.after)"
! grep -q '^sysupgrade_transaction=' env.after ||
	vm_fail "the transaction marker is still set: $(cat env.after)"
vm_pass "environment: vm_version=2.0, sysupgrade_last success, no transaction marker"

$PEBS dump disk.img $PEB >after.pebs
$PEBS compare before.pebs after.pebs 0 || vm_fail "the erase counters show a reformat"
$PEBS updated before.pebs after.pebs 1 3 ||
	vm_fail "rootfs was not rewritten through erased PEBs"
vm_pass "erase counters: kernel unchanged to the byte, rootfs updated in place (ECs up by 1-3), no reformat"

# The measure (test/bench/RESULTS.md): the host's clock, and when /info
# last said "rebooting" (stage 2 lingers 2 s after that state is set).
python3 - "$t_install" "$t_v2" timeline.txt <<'EOF'
import re, sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
reb = [float(m.group(1)) for m in
       re.finditer(r'([0-9.]+) s  /info: \S+ rebooting', open(sys.argv[3]).read())]
print('inplace: POST /install -> v2 answers /info: %.2f s' % (t1 - t0))
if reb:
    print('inplace: POST /install -> stage 2 rebooting: %.2f s; then the '
          'reboot and boot of v2 to /info: %.2f s' % (reb[0], t1 - t0 - reb[0]))
EOF
