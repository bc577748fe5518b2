# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the VM tests; sourced, never run. A VM test is a
# host-side script test/vm/NAME.sh that prepares disk images, writes a
# guest scenario, builds an initramfs, boots it and checks the results.
# POSIX sh has no `local`: variables of a helper carry its _prefix_.
# Environment (ctest sets them; defaults suit a run by hand):
#   SU_VM_CACHE  where the Debian kernel is kept (default .deps/vm-cache)
#   SU_TEST_SRC  the test/ source directory

VM_DIR=$(cd "$(dirname "$0")" && pwd)
: "${SU_TEST_SRC:=$(dirname "$VM_DIR")}"
: "${SU_VM_CACHE:=$(dirname "$SU_TEST_SRC")/.deps/vm-cache}"

vm_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

vm_pass() {
	echo "ok: $*"
}

# vm_need TOOL...: a missing tool fails the test; it never skips it.
vm_need() {
	for _n_tool in qemu-system-x86_64 cpio gzip timeout flock "$@"; do
		command -v "$_n_tool" >/dev/null 2>&1 ||
			vm_fail "'$_n_tool' is not installed but this test needs it (contrib/deps.sh test)"
	done
}

# A fresh work directory, removed however the script ends; cd into it.
vm_mkwork() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/su-vmtest.XXXXXX") ||
		vm_fail "mktemp -d failed"
	trap 'rm -rf "$WORK"' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cd "$WORK"
}

# vm_kernel: fetch the kernel once into SU_VM_CACHE (tests running in
# parallel wait for each other) and set VM_KERNEL and VM_MODDIR.
vm_kernel() {
	mkdir -p "$SU_VM_CACHE" || vm_fail "cannot create $SU_VM_CACHE"
	flock "$SU_VM_CACHE/.lock" sh "$VM_DIR/fetch-kernel.sh" "$SU_VM_CACHE" ||
		vm_fail "cannot fetch the kernel into $SU_VM_CACHE"
	VM_KERNEL=$SU_VM_CACHE/vmlinuz
	VM_MODDIR=$SU_VM_CACHE/modules/$(cat "$SU_VM_CACHE/kver")
}

# vm_initramfs OUT SCENARIO [mkinitramfs options]...
vm_initramfs() {
	_vi_out=$1
	_vi_script=$2
	shift 2
	sh "$VM_DIR/mkinitramfs.sh" -o "$_vi_out" -m "$VM_MODDIR" \
		--script "$_vi_script" \
		--file "$VM_DIR/guest-lib.sh:/lib/su-guest.sh" "$@" ||
		vm_fail "cannot build the initramfs $_vi_out"
}

# vm_run LOG INITRAMFS [run.sh options]...: boot; status as run.sh's.
vm_run() {
	_vr_log=$1
	_vr_initrd=$2
	shift 2
	_vr_t0=$(date +%s)
	set +e
	sh "$VM_DIR/run.sh" -k "$VM_KERNEL" -i "$_vr_initrd" -l "$_vr_log" "$@"
	_vr_rc=$?
	set -e
	echo "vm: $_vr_log: status $_vr_rc after $(($(date +%s) - _vr_t0)) s"
	return $_vr_rc
}

# vm_ubi_ecs IMAGE PEBSIZE: print "PEB EC" for every PEB of IMAGE that
# starts with a UBI EC header ("UBI#", erase counter big-endian at 8).
vm_ubi_ecs() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
path, peb = sys.argv[1], int(sys.argv[2])
with open(path, 'rb') as f:
	n = 0
	while True:
		hdr = f.read(16)
		if len(hdr) < 16:
			break
		if hdr[:4] == b'UBI#':
			print(n, struct.unpack('>Q', hdr[8:16])[0])
		n += 1
		f.seek(n * peb)
EOF
}

# vm_ff_image FILE SIZE [IMAGE]: FILE of SIZE bytes of 0xFF (erased
# flash), IMAGE copied to its start. UBI attaches that; it refuses a
# disk of zeros.
# vm_ubi_ab DISK BYTES VOL_SIZE: DISK, BYTES of 0xFF beginning with a
# UBI image (PEB-byte erase blocks, -m 1) of two dynamic volumes of
# VOL_SIZE, rootfs_a holding ./old-a.bin and rootfs_b ./old-b.bin
vm_ubi_ab() {
	cat > ubi.ini <<EOF
[rootfs_a]
mode=ubi
image=old-a.bin
vol_id=0
vol_size=$3
vol_type=dynamic
vol_name=rootfs_a
[rootfs_b]
mode=ubi
image=old-b.bin
vol_id=1
vol_size=$3
vol_type=dynamic
vol_name=rootfs_b
EOF
	ubinize -o ubi.img -p "$PEB" -m 1 ubi.ini || vm_fail "ubinize failed"
	vm_ff_image "$1" "$2" ubi.img
}

# vm_keys_tls: in the work directory, a signing key pair (signing.pem,
# keys/test.pub.pem) and a self-signed TLS certificate for 127.0.0.1
# (tls/key.pem, tls/cert.pem), as a guest's daemon and the host's curl
# use them
vm_keys_tls() {
	mkdir -p keys tls
	"$SU_BUNDLE_TOOL" keygen --key signing.pem --pub keys/test.pub.pem >/dev/null ||
		vm_fail "sysupgrade-bundle keygen failed"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout tls/key.pem -out tls/cert.pem 2>/dev/null ||
		vm_fail "openssl req failed"
}

vm_ff_image() {
	head -c "$2" /dev/zero | tr '\0' '\377' > "$1"
	[ $# -lt 3 ] || dd if="$3" of="$1" conv=notrunc status=none ||
		vm_fail "cannot make the 0xFF image $1"
}

# vm_daemon_files FW_ENV_LINE: for a guest that runs sysupgraded over
# UBI slots a/b (TOKEN set): ./sysupgraded.conf, ./fw_env.config holding
# FW_ENV_LINE, and ./daemon-guest.sh, the guest's helpers (api, state,
# wait_state) to put at the top of a guest script.
vm_daemon_files() {
cat > sysupgraded.conf <<EOF
[device]
compatible = acme,vm
version = 1.0
keys = /etc/su/keys
fw_env_config = /etc/su/fw_env.config
booted_slot_arg = sysupgrade.slot

[server]
listen = 127.0.0.1:8443
cert = /etc/su/tls/cert.pem
key = /etc/su/tls/key.pem
token_sha256 = $(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)

[staging]
dir = /run/staging
max_size = 16M

[install]
reboot_command = /bin/true

[target:rootfs]
type = ubi
a = ubi0:rootfs_a
b = ubi0:rootfs_b
slot_var = boot_slot
verify = readback
EOF
	echo "$1" > fw_env.config
	cat > daemon-guest.sh <<EOF
TOKEN=$TOKEN
URL=https://127.0.0.1:8443/api/v1
api() { curl -sS --cacert /etc/su/tls/cert.pem -H "Authorization: Bearer \$TOKEN" "\$@"; }
state() { api \$URL/status | sed -n 's/^{"state":"\\([a-z]*\\)".*/\\1/p'; }
# wait_state STATE: poll /status for up to 60 s
wait_state() {
	i=0
	while [ "\$(state)" != "\$1" ]; do
		i=\$((i + 1))
		[ \$i -lt 300 ] || { echo "FAIL: state \$(state), want \$1"; api \$URL/status; cat /tmp/daemon.log; exit 1; }
		sleep 0.2
	done
}
EOF
}
