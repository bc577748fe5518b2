#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM test: hash-on-write through the daemon. In the guest, sysupgraded
# serves HTTPS on the guest's loopback with an A/B UBI target (UBI on
# block2mtd) and a file-backed U-Boot environment. A good bundle is
# uploaded and staged; then one byte of its payload is changed in the
# staging tmpfs, as a fault or an attacker with access to it would, and
# the install is asked for. The install engine must catch it while
# writing (hash_mismatch), abort the write, leave the boot environment
# as it was and the active slot untouched, stay up, and install the same
# bundle, uploaded again, on the retry.
set -eu
. "$(dirname "$0")/lib.sh"

: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
: "${SU_BUNDLE_TOOL:?SU_BUNDLE_TOOL must name the sysupgrade-bundle binary}"
vm_need ubinize mkenvimage fw_printenv curl openssl python3 sha256sum
vm_kernel
vm_mkwork

PEB=131072
TOKEN=vm-test-token-0123456789

# Host side: keys, TLS, token, environment, UBI image, bundle.
vm_keys_tls
printf 'boot_slot=a\nbootcount=2\n' > env.txt
mkenvimage -s 0x4000 -o env.bin env.txt

head -c 200000 /dev/urandom > old-a.bin
head -c 200000 /dev/urandom > old-b.bin
vm_ubi_ab disk.img $((8 * 1024 * 1024)) 2MiB

head -c 700000 /dev/urandom > rootfs.img
"$SU_BUNDLE_TOOL" create --version 2.0 --compatible acme,vm \
	--image rootfs.img:ubi:rootfs --key signing.pem --output v2.bundle >/dev/null ||
	vm_fail "sysupgrade-bundle create failed"
"$SU_BUNDLE_TOOL" inspect --json v2.bundle > inspect.json
# a byte in the middle of the payload, and a value it does not hold
set -- $(python3 - <<'EOF'
import json
m = json.load(open("inspect.json"))["members"][2]
off = m["offset"] + m["size"] // 2
b = open("v2.bundle", "rb").read()[off]
print(off, "%03o" % (b ^ 0x5a))
EOF
)
OFF=$1 BYTE=$2
ROOTFS_SHA=$(sha256sum < rootfs.img | cut -d' ' -f1)
OLD_A_SHA=$(sha256sum < old-a.bin | cut -d' ' -f1)

vm_daemon_files "/etc/su/env.bin 0x0 0x4000"

{ cat daemon-guest.sh; cat <<EOF; } > guest.sh
vol_sha() { head -c \$2 /dev/ubi0_\$1 | sha256sum | cut -d' ' -f1; }

mkdir -p /var/lock
modprobe block2mtd block2mtd=/dev/vda,$PEB
ubiattach -m 0 -d 0 >/dev/null
mkdir -p /run/staging && mount -t tmpfs -o size=32M staging /run/staging
$SU_DAEMON -c /etc/su/sysupgraded.conf --foreground >/tmp/daemon.log 2>&1 &
i=0
until curl -s --cacert /etc/su/tls/cert.pem \$URL/info >/dev/null; do
	i=\$((i + 1))
	[ \$i -lt 150 ] || { echo "FAIL: the daemon did not come up"; cat /tmp/daemon.log; exit 1; }
	sleep 0.2
done
echo "ok: sysupgraded is up in the guest"
fw_printenv -c /etc/su/fw_env.config > /tmp/env.before

api --fail-with-body -T /v2.bundle \$URL/bundle > /tmp/report.json
grep -q '"version":"2.0"' /tmp/report.json || { echo "FAIL: upload: \$(cat /tmp/report.json)"; exit 1; }
wait_state staged
printf '\\$BYTE' | dd of=/run/staging/bundle.tar bs=1 seek=$OFF conv=notrunc 2>/dev/null
echo "ok: staged, then one payload byte changed in /run/staging/bundle.tar"

api --fail-with-body -d '{"reboot": false}' \$URL/install >/dev/null
wait_state failed
api \$URL/status > /tmp/status.json
grep -q '"error":"hash_mismatch"' /tmp/status.json || { echo "FAIL: \$(cat /tmp/status.json)"; exit 1; }
fw_printenv -c /etc/su/fw_env.config > /tmp/env.after
# the failure's last_install record is the one change
grep -q '^sysupgrade_last=.*"result":"failed".*hash_mismatch' /tmp/env.after || { echo "FAIL: no failure record:"; cat /tmp/env.after; exit 1; }
grep -v '^sysupgrade_last=' /tmp/env.after > /tmp/env.rest
cmp /tmp/env.before /tmp/env.rest || { echo "FAIL: the environment changed:"; cat /tmp/env.after; exit 1; }
[ "\$(vol_sha 0 200000)" = $OLD_A_SHA ] || { echo "FAIL: the active slot a changed"; exit 1; }
echo "ok: hash_mismatch while writing; environment unchanged but the failure record, slot a untouched"

# The daemon stays up and takes the retry.
api -X DELETE \$URL/bundle >/dev/null
api --fail-with-body -T /v2.bundle "\$URL/bundle?install=1" >/dev/null
wait_state idle
[ "\$(fw_printenv -n -c /etc/su/fw_env.config boot_slot)" = b ] || { echo "FAIL: boot_slot did not flip"; exit 1; }
[ "\$(vol_sha 1 700000)" = $ROOTFS_SHA ] || { echo "FAIL: slot b does not hold the image"; exit 1; }
echo "ok: the retry installs into slot b and flips boot_slot"
EOF

vm_initramfs guest.gz guest.sh --bin "$SU_DAEMON" --bin "$(command -v curl)" \
	--bin "$(command -v fw_printenv)" --bin /usr/sbin/ubiattach \
	--file sysupgraded.conf:/etc/su/sysupgraded.conf \
	--file fw_env.config:/etc/su/fw_env.config --file env.bin:/etc/su/env.bin \
	--file keys/test.pub.pem:/etc/su/keys/test.pub.pem \
	--file tls/cert.pem:/etc/su/tls/cert.pem --file tls/key.pem:/etc/su/tls/key.pem \
	--file v2.bundle:/v2.bundle
vm_run guest.log guest.gz --disk disk.img --timeout 120 --append sysupgrade.slot=a ||
	vm_fail "the hash-on-write scenario failed; see above"
grep -q '^ok: the retry installs' guest.log || vm_fail "no retry in the log"
vm_pass "a payload changed in staging is caught while writing; nothing is committed; the retry works"
