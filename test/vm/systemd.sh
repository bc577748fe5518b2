#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vm.systemd: sysupgraded under systemd as PID 1, from the unit file in
# contrib/init/systemd as it is, and the in-place upgrade through the
# /run/initramfs route (handover = systemd). The guest is a minimal
# Debian root (debootstrap --variant=minbase with systemd-sysv, udev
# and the daemon's libraries; test/vm/debian-root.sh caches it in
# SU_VM_CACHE) with the build's sysupgraded at /usr/sbin, as an ext4
# filesystem on /dev/vda; a small initramfs (boot-ext4.sh) loads the
# modules and switch_roots into it at every boot.
#
# First boot, v1: the unit starts and reaches READY=1 (Type=notify): a
# check unit ordered after it prints `systemctl show` (active, running,
# StatusText idle) and what the hardening did to the main process
# (NoNewPrivs, seccomp, the bounding set of the unit, the host's mount
# namespace, the umask). /info answers 1.0 through a forwarded port.
# Then, from the host, the v2 bundle (the same root with /etc/version
# 2.0, type ext4, target rootfs = /dev/vda, in_use) goes up with curl
# and POST /install hands over: stage 1 stops a dummy service with
# systemctl (its stop command, run from the hardened unit), binds the
# ramfs root on /run/initramfs and runs `systemctl reboot`; systemd
# stops everything, systemd-shutdown switch_roots into /run/initramfs
# and execs /shutdown (stage 2), which unmounts /oldroot, writes
# /dev/vda and reboots. qemu runs without -no-reboot, so the guest
# boots again in place, into v2: the unit is READY again, and /info
# answers 2.0 with last_install success.
set -eu
. "$(dirname "$0")/lib.sh"
. "$SU_TEST_SRC/integration/root-lib.sh"

: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
: "${SU_BUNDLE_TOOL:?SU_BUNDLE_TOOL must name the sysupgrade-bundle binary}"
vm_need debootstrap zstd tar mkfs.ext4 curl openssl python3 readelf realpath
[ "$(id -u)" = 0 ] || vm_fail "this test needs root (debootstrap, a root tree owned by root)"
vm_kernel
vm_mkwork

SRC=$(cd "$SU_TEST_SRC/.." && pwd)
UNIT=$SRC/contrib/init/systemd/sysupgraded.service
TOKEN=vm-systemd-token-0123456789
HOSTPY="python3 $VM_DIR/inplace-host.py"
HPORT=$($HOSTPY port)
URL=https://127.0.0.1:$HPORT/api/v1
# what the daemon needs at run time (the rest of its ldd closure, e.g.
# an ASan build's libasan, comes from the host: root_copy_elf)
PKGS="systemd-sysv udev libmicrohttpd12 libgnutls30 libmbedcrypto7
	libubootenv0.1 libjson-c5 libinih1 libnettle8"
VMPID=

cleanup() {
	if [ -n "$VMPID" ]; then
		kill -TERM "$VMPID" 2>/dev/null || :
		wait "$VMPID" 2>/dev/null || :
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

tarball=$(flock "$SU_VM_CACHE/.lock" sh "$VM_DIR/debian-root.sh" \
	"$SU_VM_CACHE" $PKGS) || vm_fail "no Debian root"

vm_keys_tls

# script DIR PATH: stdin becomes the executable DIR/PATH
script() {
	mkdir -p "$(dirname "$1$2")"
	cat >"$1$2"
	chmod 0755 "$1$2"
}

# unit DIR NAME [TARGET]: stdin becomes the unit DIR/etc/systemd/system/NAME,
# enabled (wanted by TARGET, default multi-user.target) unless TARGET is -
unit() {
	_u_dir=$1/etc/systemd/system
	mkdir -p "$_u_dir"
	cat >"$_u_dir/$2"
	[ "${3:-}" = - ] && return 0
	mkdir -p "$_u_dir/${3:-multi-user.target}.wants"
	ln -sf "../$2" "$_u_dir/${3:-multi-user.target}.wants/$2"
}

# mkroot DIR VERSION: the Debian root with sysupgraded installed (the
# unit as contrib/init/systemd has it), its config and material, a
# static address for the forwarded port, a dummy service and the check.
mkroot() {
	mkdir "$1"
	zstd -dc "$tarball" | tar -C "$1" --numeric-owner --xattrs -xf - ||
		vm_fail "cannot unpack $tarball"
	root_copy_elf "$1" "$SU_DAEMON" /usr/sbin/sysupgraded
	echo "$2" >"$1/etc/version"
	mkdir -p "$1/etc/sysupgraded/tls" "$1/etc/sysupgraded/keys" \
		"$1/usr/share/sysupgraded/www" "$1/var/lib/sysupgraded"
	cp tls/cert.pem tls/key.pem "$1/etc/sysupgraded/tls/"
	chmod 0600 "$1/etc/sysupgraded/tls/key.pem"
	cp keys/test.pub.pem "$1/etc/sysupgraded/keys/"
	printf '<!doctype html><title>vm %s</title>\n' "$2" \
		>"$1/usr/share/sysupgraded/www/index.html"
	cat >"$1/etc/sysupgraded.conf" <<EOF
[device]
compatible = acme,vm-systemd
version_file = /etc/version
keys = /etc/sysupgraded/keys

[server]
listen = 0.0.0.0:8443
cert = /etc/sysupgraded/tls/cert.pem
key = /etc/sysupgraded/tls/key.pem
token_sha256 = $(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)

[staging]
dir = /run/sysupgraded
max_size = 128M

[install]
handover = systemd
stop_command = /usr/bin/systemctl stop vm-app.service
start_command = /usr/bin/systemctl start vm-app.service
last_install = file:/var/lib/sysupgraded/last_install.json

[target:rootfs]
type = ext4
device = /dev/vda
in_use = yes
EOF
	# the unit where `cmake --install --prefix /usr` puts it
	install -D -m 0644 "$UNIT" "$1/usr/lib/systemd/system/sysupgraded.service"
	mkdir -p "$1/etc/systemd/system/multi-user.target.wants"
	ln -s /usr/lib/systemd/system/sysupgraded.service \
		"$1/etc/systemd/system/multi-user.target.wants/sysupgraded.service"

	# the forwarded port: a static address on the NIC, by networkd
	mkdir -p "$1/etc/systemd/network" "$1/etc/systemd/system/sockets.target.wants"
	printf '[Match]\nType=ether\n\n[Network]\nAddress=10.0.2.15/24\n' \
		>"$1/etc/systemd/network/10-vm.network"
	ln -s /usr/lib/systemd/system/systemd-networkd.service \
		"$1/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
	ln -s /usr/lib/systemd/system/systemd-networkd.socket \
		"$1/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
	# no login prompt on the console; the daemon's log on it
	ln -s /dev/null "$1/etc/systemd/system/serial-getty@ttyS0.service"
	mkdir -p "$1/etc/systemd/journald.conf.d"
	printf '[Journal]\nForwardToConsole=yes\nMaxLevelConsole=notice\n' \
		>"$1/etc/systemd/journald.conf.d/console.conf"

	# the service stage 1 stops (and starts again on a failure)
	script "$1" /usr/local/bin/vm-app <<'EOF'
#!/bin/sh
trap 'echo "vm-app: stopped by SIGTERM" >/dev/console; exit 0' TERM
echo "vm-app: running" >/dev/console
while :; do sleep 1; done
EOF
	unit "$1" vm-app.service <<'EOF'
[Unit]
Description=a service that uses the root filesystem
[Service]
ExecStart=/usr/local/bin/vm-app
[Install]
WantedBy=multi-user.target
EOF
	# after the daemon: it only starts once READY=1 came (Type=notify)
	script "$1" /usr/local/bin/vm-check <<'EOF'
#!/bin/sh
exec >/dev/console 2>&1
pid=$(systemctl show -p MainPID --value sysupgraded.service)
echo "vm-check: version $(cat /etc/version)"
echo "vm-check: is-active $(systemctl is-active sysupgraded.service)"
echo "vm-check: show $(systemctl show -p Type,ActiveState,SubState,StatusText,NRestarts sysupgraded.service | paste -sd' ')"
echo "vm-check: mntns pid1 $(readlink /proc/1/ns/mnt) daemon $(readlink /proc/$pid/ns/mnt)"
grep -E '^(CapBnd|NoNewPrivs|Seccomp|Umask):' /proc/$pid/status | paste -sd' ' | sed 's/^/vm-check: proc /'
EOF
	unit "$1" vm-check.service <<'EOF'
[Unit]
Description=what systemd says about sysupgraded.service
Wants=sysupgraded.service
After=sysupgraded.service
[Service]
Type=oneshot
ExecStart=/usr/local/bin/vm-check
[Install]
WantedBy=multi-user.target
EOF
}

# ext4 DIR IMAGE MB: IMAGE, an ext4 filesystem of MB MiB holding DIR
ext4() {
	mkfs.ext4 -q -F -L vmroot -d "$1" "$2" "$3M" ||
		vm_fail "mkfs.ext4 -d $1 failed"
}

mkroot v1 1.0
mkroot v2 2.0
cmp -s "$UNIT" v1/usr/lib/systemd/system/sysupgraded.service ||
	vm_fail "the guest's unit is not contrib/init/systemd's"
MB=$(( $(du -sm v1 | cut -f1) * 5 / 4 + 16 ))
ext4 v1 disk.img $MB
ext4 v2 v2.ext4 $MB
"$SU_BUNDLE_TOOL" create --version 2.0 --compatible acme,vm-systemd \
	--image v2.ext4:ext4:rootfs:zstd --key signing.pem --output v2.tar >/dev/null ||
	vm_fail "sysupgrade-bundle create failed"
echo "root image $MB MiB, bundle $(stat -c %s v2.tar) bytes"
rm -rf v1 v2 v2.ext4

echo virtio_rng >boot.modules
sh "$VM_DIR/mkinitramfs.sh" -o boot.gz -m "$VM_MODDIR" \
	--init "$VM_DIR/boot-ext4.sh" --module virtio_rng \
	--file boot.modules:/etc/su-boot.modules || vm_fail "cannot build the initramfs"

# ---- boot v1 ----
t_boot=$(date +%s.%N)
sh "$VM_DIR/run.sh" -k "$VM_KERNEL" -i boot.gz -l console.log \
	--disk disk.img --hostfwd "127.0.0.1:$HPORT-:8443" \
	--append "printk.time=1" --reboot-in-place --rng --timeout 480 &
VMPID=$!
$HOSTPY info "$URL/info" tls/cert.pem 1.0 240 "$VMPID" "$t_boot" info1.json ||
	vm_fail "v1 did not come up"
vm_pass "v1 answers /info through the forwarded port"

# check_unit VERSION: what vm-check printed on the boot of VERSION
check_unit() {
	_cu_i=0
	while sed -n '/^vm-check: version '"$1"'$/,$p' console.log |
		grep '^vm-check: ' >check.txt; ! grep -q '^vm-check: proc ' check.txt; do
		_cu_i=$((_cu_i + 1))
		[ "$_cu_i" -lt 300 ] || vm_fail "vm-check of $1 printed nothing: $(grep vm-check console.log)"
		sleep 0.2
	done
	python3 - check.txt "$UNIT" /usr/include/linux/capability.h <<'EOF' ||
import re, sys
check = open(sys.argv[1]).read()
unit = open(sys.argv[2]).read()
caps = dict((m.group(1), int(m.group(2))) for m in re.finditer(
    r'#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$', open(sys.argv[3]).read(), re.M))
def line(key):
    m = re.search(r'^vm-check: %s (.*)$' % key, check, re.M)
    assert m, 'vm-check printed no "%s" line:\n%s' % (key, check)
    return m.group(1)
assert line('is-active') == 'active', line('is-active')
show = dict(re.findall(r'(\w+)=(\S*)', line('show')))
want = {'Type': 'notify', 'ActiveState': 'active', 'SubState': 'running',
        'StatusText': 'idle', 'NRestarts': '0'}
assert show == want, 'systemctl show: %s, not %s' % (show, want)
ns = line('mntns').split()
assert ns[1] == ns[3], 'the daemon is not in the mount namespace of PID 1: %s' % ns
proc = dict(re.findall(r'(\w+):\s+(\S+)', line('proc')))
bset = re.search(r'^CapabilityBoundingSet=(.*)$', unit, re.M).group(1).split()
mask = sum(1 << caps[c] for c in bset)
assert int(proc['CapBnd'], 16) == mask, 'CapBnd %s, the unit says %x (%s)' % (
    proc['CapBnd'], mask, ' '.join(bset))
assert proc['NoNewPrivs'] == '1' and proc['Seccomp'] == '2', proc
assert proc['Umask'] == '0077', proc
print('unit: %s; bounding set %s; %s' % (' '.join(
    '%s=%s' % kv for kv in show.items()), ' '.join(bset), line('proc')))
EOF
		vm_fail "the unit of $1: see above"
}
check_unit 1.0
vm_pass "v1: the unit is READY (Type=notify, active, StatusText idle), hardened, in PID 1's mount namespace"

api() {
	curl -sS --cacert tls/cert.pem -H "Authorization: Bearer $TOKEN" "$@"
}
code=$(api -o upload.json -w '%{http_code}' -T v2.tar "$URL/bundle") ||
	vm_fail "upload: curl failed"
[ "$code" = 200 ] || vm_fail "upload: HTTP $code: $(cat upload.json)"
vm_pass "v2 uploaded and staged"

t_install=$(date +%s.%N)
code=$(api -o install.json -w '%{http_code}' -d '{}' "$URL/install") ||
	vm_fail "POST /install: curl failed"
[ "$code" = 202 ] || vm_fail "POST /install: HTTP $code: $(cat install.json)"
$HOSTPY info "$URL/info" tls/cert.pem 2.0 300 "$VMPID" "$t_install" info2.json \
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
check_unit 2.0
vm_pass "v2: the unit is READY again"

# ---- the console ----
boots=$(grep -c 'su-boot: ext4 root loader' console.log) || :
[ "$boots" = 2 ] || vm_fail "the guest booted $boots times, not twice"
grep -q 'su-boot: root /dev/vda (ext4), version 1.0' console.log &&
	grep -q 'su-boot: root /dev/vda (ext4), version 2.0' console.log ||
	vm_fail "the initramfs did not boot v1 and then v2"
first=$(sed -n '/version 1.0$/,/version 2.0$/p' console.log)
printf '%s\n' "$first" | grep -q 'vm-app: stopped by SIGTERM' ||
	vm_fail "the stop command did not stop vm-app"
printf '%s\n' "$first" | grep -q 'handover (systemd): PID 1 takes over' ||
	vm_fail "no handover (systemd) in the daemon's log"
printf '%s\n' "$first" | grep -q 'stage 2: PID 1 at uptime .* in the ramfs' ||
	vm_fail "stage 2 did not run as /run/initramfs/shutdown"
! grep -q 'still in use' console.log ||
	vm_fail "the old root stayed busy: $(grep 'stage 2' console.log)"
! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" console.log ||
	vm_fail "a sanitizer report on the console"
vm_pass "two boots, v1 then v2; vm-app stopped, systemd-shutdown ran stage 2 from /run/initramfs, the old root unmounted"

python3 - "$t_install" "$t_v2" <<'EOF'
import sys
print('systemd: POST /install -> v2 answers /info: %.2f s'
      % (float(sys.argv[2]) - float(sys.argv[1])))
EOF
