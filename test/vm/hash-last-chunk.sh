#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM test: the last block of a payload is held back until the stored
# hash has passed. A UBI volume update (UBI_IOCVOLUP) completes with its
# final byte, so a payload whose LAST stored byte was changed in staging
# after verification must never reach the volume whole.
#
# Boot 1: sysupgraded in the guest (as in hash-on-write.sh: A/B UBI on
# block2mtd, HTTPS on the guest's loopback) stages a good bundle of a
# 1.5 MiB uncompressed image, which is two 1 MiB blocks of the install
# engine (PAYLOAD_CHUNK); then the very last byte of the payload is
# flipped in the staging tmpfs and the install is asked for. It must:
#   * fail with hash_mismatch;
#   * leave the update of slot b incomplete: the kernel says "update of
#     volume 1 not finished, volume is damaged", sets upd_marker, and
#     reading the volume fails with EBADF; it holds neither the tampered
#     image nor the good one (on the host: its last LEBs were never
#     written, and what is there hashes to neither);
#   * leave slot a untouched to the byte, and the boot environment (on a
#     disk of its own, so the host can read it too) with the variables
#     it had: the transaction marker the install set is gone again.
# Boot 2, on the same disks: the damage is on the flash (upd_marker is
# still set after a fresh attach), and a retry with the good bundle
# installs into slot b, clears upd_marker and flips boot_slot.
set -eu
. "$(dirname "$0")/lib.sh"

: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
: "${SU_BUNDLE_TOOL:?SU_BUNDLE_TOOL must name the sysupgrade-bundle binary}"
vm_need ubinize mkenvimage fw_printenv curl openssl python3 sha256sum cmp
vm_kernel
vm_mkwork

PEB=131072
LEB=$((PEB - 128))		# -m 1: EC header at 0, VID at 64, data at 128
VOL_LEBS=17			# 2 MiB in LEBs of 130944 bytes
SIZE=$((1536 * 1024 + 77))	# 1 MiB block, then 0.5 MiB + 77
TOKEN=vm-test-token-0123456789
PEBS="python3 $VM_DIR/ubi-pebs.py"

sum() {
	sha256sum < "$1" | cut -d' ' -f1
}
# padded FILE: the SHA-256 of FILE followed by 0xFF to the end of a
# 2 MiB volume, which is how the volume reads after an update with FILE.
padded() {
	{ cat "$1"; head -c $((VOL_LEBS * LEB - $(stat -c %s "$1"))) /dev/zero |
		tr '\0' '\377'; } | sha256sum | cut -d' ' -f1
}

# Host side: keys, TLS, token, environment, UBI image, bundle.
vm_keys_tls
printf 'boot_slot=a\nbootcount=2\n' > env.txt
mkenvimage -s 0x4000 -o env.img env.txt
cp env.img env.orig

head -c 200000 /dev/urandom > old-a.bin
head -c 200000 /dev/urandom > old-b.bin
vm_ubi_ab disk.img $((8 * 1024 * 1024)) 2MiB
$PEBS dump disk.img $PEB > before.pebs

head -c $SIZE /dev/urandom > rootfs.img
"$SU_BUNDLE_TOOL" create --version 2.0 --compatible acme,vm \
	--image rootfs.img:ubi:rootfs --key signing.pem --output v2.bundle >/dev/null ||
	vm_fail "sysupgrade-bundle create failed"
"$SU_BUNDLE_TOOL" inspect --json v2.bundle > inspect.json
# The payload's last byte, and a value it does not hold; the payload is
# stored uncompressed, so that is also the image's last byte.
set -- $(python3 - "$SIZE" <<'EOF'
import json, sys
m = json.load(open("inspect.json"))["members"][2]
assert m["size"] == int(sys.argv[1]), m
off = m["offset"] + m["size"] - 1
b = open("v2.bundle", "rb").read()[off]
print(off, "%03o" % (b ^ 0x5a))
EOF
)
OFF=$1 BYTE=$2
# the image as it is after the flip, to tell it apart from what slot b holds
cp rootfs.img tampered.img
printf "\\$BYTE" | dd of=tampered.img bs=1 seek=$((SIZE - 1)) conv=notrunc status=none
GOOD_SHA=$(sum rootfs.img)
BAD_SHA=$(sum tampered.img)
[ "$GOOD_SHA" != "$BAD_SHA" ] || vm_fail "the flip did not change the image"
A_VOL_SHA=$(padded old-a.bin)
B_VOL_SHA=$(padded rootfs.img)

vm_daemon_files "/dev/vdb 0x0 0x4000"

# What both boots do first: attach UBI, start the daemon.
{ cat daemon-guest.sh; cat <<EOF; } > prelude.sh
# whole_sha VOL: SHA-256 of all of /dev/ubi0_VOL
whole_sha() { sha256sum < /dev/ubi0_\$1 | cut -d' ' -f1; }
uenv() { fw_printenv -c /etc/su/fw_env.config "\$@"; }
# damaged: volume 1 (slot b) is marked as an unfinished update and
# refuses to be read.
damaged() {
	upd=\$(cat /sys/class/ubi/ubi0_1/upd_marker)
	echo "slot b: upd_marker \$upd, corrupted \$(cat /sys/class/ubi/ubi0_1/corrupted)"
	if dd if=/dev/ubi0_1 of=/tmp/b bs=$LEB count=$((SIZE / LEB + 1)) 2>/tmp/read.err; then
		got=\$(head -c $SIZE /tmp/b | sha256sum | cut -d' ' -f1)
		if [ "\$got" = $BAD_SHA ]; then
			echo "FAIL: slot b holds the tampered image: the kernel completed the update"
		else
			echo "FAIL: slot b can be read (SHA-256 \$got)"
		fi
		exit 1
	fi
	cat /tmp/read.err
	grep -q 'Bad file descriptor' /tmp/read.err ||
		{ echo "FAIL: reading slot b did not fail with EBADF"; exit 1; }
	[ "\$upd" = 1 ] || { echo "FAIL: slot b has no update marker"; exit 1; }
	echo "ok: slot b is an unfinished update: upd_marker set, reading it fails with EBADF"
}
stop_daemon() {
	kill \$daemon
	wait \$daemon || true
}

mkdir -p /var/lock
modprobe block2mtd block2mtd=/dev/vda,$PEB
ubiattach -m 0 -d 0 >/dev/null
mkdir -p /run/staging && mount -t tmpfs -o size=32M staging /run/staging
$SU_DAEMON -c /etc/su/sysupgraded.conf --foreground >/tmp/daemon.log 2>&1 &
daemon=\$!
i=0
until curl -s --cacert /etc/su/tls/cert.pem \$URL/info >/dev/null; do
	i=\$((i + 1))
	[ \$i -lt 150 ] || { echo "FAIL: the daemon did not come up"; cat /tmp/daemon.log; exit 1; }
	sleep 0.2
done
echo "ok: sysupgraded is up in the guest"
EOF

{ cat prelude.sh; cat <<EOF; } > boot1.sh
uenv > /tmp/env.before
api --fail-with-body -T /v2.bundle \$URL/bundle > /tmp/report.json
grep -q '"version":"2.0"' /tmp/report.json || { echo "FAIL: upload: \$(cat /tmp/report.json)"; exit 1; }
wait_state staged
printf '\\$BYTE' | dd of=/run/staging/bundle.tar bs=1 seek=$OFF conv=notrunc 2>/dev/null
echo "ok: staged, then the payload's last byte changed in /run/staging/bundle.tar"

api --fail-with-body -d '{"reboot": false}' \$URL/install >/dev/null
wait_state failed
api \$URL/status > /tmp/status.json
grep -q '"error":"hash_mismatch"' /tmp/status.json || { echo "FAIL: \$(cat /tmp/status.json)"; exit 1; }
echo "ok: the install failed with hash_mismatch"
stop_daemon

damaged
dmesg | grep 'update of volume 1 not finished, volume is damaged' ||
	{ echo "FAIL: the kernel did not report the update of volume 1 unfinished"; exit 1; }
uenv > /tmp/env.after
# the failure's last_install record is the one change
grep -q '^sysupgrade_last=.*"result":"failed".*hash_mismatch' /tmp/env.after || { echo "FAIL: no failure record:"; cat /tmp/env.after; exit 1; }
grep -v '^sysupgrade_last=' /tmp/env.after > /tmp/env.rest
cmp /tmp/env.before /tmp/env.rest || { echo "FAIL: the environment changed:"; cat /tmp/env.after; exit 1; }
[ "\$(whole_sha 0)" = $A_VOL_SHA ] || { echo "FAIL: the active slot a changed"; exit 1; }
echo "ok: environment unchanged but the failure record, slot a untouched"
ubidetach -d 0
EOF

{ cat prelude.sh; cat <<EOF; } > boot2.sh
damaged
echo "ok: after a reboot and a fresh attach, slot b is still marked damaged"
api --fail-with-body -T /v2.bundle "\$URL/bundle?install=1" >/dev/null
wait_state idle
[ "\$(uenv -n boot_slot)" = b ] || { echo "FAIL: boot_slot did not flip"; uenv; exit 1; }
[ "\$(cat /sys/class/ubi/ubi0_1/upd_marker)" = 0 ] || { echo "FAIL: slot b still has its update marker"; exit 1; }
[ "\$(whole_sha 1)" = $B_VOL_SHA ] || { echo "FAIL: slot b does not hold the image"; exit 1; }
[ "\$(whole_sha 0)" = $A_VOL_SHA ] || { echo "FAIL: slot a changed"; exit 1; }
echo "ok: the retry installs into slot b, clears its update marker and flips boot_slot"
stop_daemon
ubidetach -d 0
EOF

files="--file sysupgraded.conf:/etc/su/sysupgraded.conf
	--file fw_env.config:/etc/su/fw_env.config
	--file keys/test.pub.pem:/etc/su/keys/test.pub.pem
	--file tls/cert.pem:/etc/su/tls/cert.pem --file tls/key.pem:/etc/su/tls/key.pem
	--file v2.bundle:/v2.bundle"
bins="--bin $SU_DAEMON --bin $(command -v curl) --bin $(command -v fw_printenv)
	--bin /usr/sbin/ubiattach --bin /usr/sbin/ubidetach"
vm_initramfs boot1.gz boot1.sh $bins $files
vm_initramfs boot2.gz boot2.sh $bins $files

vm_run boot1.log boot1.gz --disk disk.img --disk env.img --timeout 120 --append sysupgrade.slot=a ||
	vm_fail "boot 1 (the tampered install) failed; see above"
vm_pass "a payload whose last byte changed in staging fails with hash_mismatch and leaves slot b an unfinished update"

# On the disks, as the guest left them: slot a unchanged to the byte, the
# environment's variables unchanged, and in slot b neither image.
$PEBS dump disk.img $PEB > after1.pebs
$PEBS compare before.pebs after1.pebs 0 ||
	vm_fail "slot a (volume 0) changed on the flash"
# The install set its transaction marker and, failing, took it out again:
# the environment is stored anew, so its bytes differ, but its variables
# must be the ones it had, but for the failure's record.
for e in orig img; do
	echo "$WORK/env.$e 0x0 0x4000" > host-env.config
	fw_printenv -c host-env.config > env.$e.txt ||
		vm_fail "cannot read the environment env.$e"
done
# ... but for the failure's last_install record
grep -q '^sysupgrade_last=.*"result":"failed".*hash_mismatch' env.img.txt ||
	vm_fail "no failure record in the environment: $(cat env.img.txt)"
grep -v '^sysupgrade_last=' env.img.txt > env.img.rest
cmp env.orig.txt env.img.rest || vm_fail "the environment's variables changed: $(cat env.img.txt)"
line=$($PEBS lebs disk.img $PEB 1 $SIZE) || vm_fail "cannot read slot b from the disk"
B_SHA=${line##* }
B_LEBS=${line% *}
echo "slot b on the flash: LEBs $B_LEBS, SHA-256 of its first $SIZE bytes $B_SHA"
[ "$B_SHA" != "$BAD_SHA" ] || vm_fail "slot b holds the tampered image on the flash"
[ "$B_SHA" != "$GOOD_SHA" ] || vm_fail "slot b holds the whole good image on the flash"
# The image needs LEBs 0..12; the last one, which holds the flipped
# byte, must never have reached the flash (UBI writes a LEB when its
# update buffer is full or the update is complete).
LAST_LEB=$(((SIZE - 1) / LEB))
for l in $B_LEBS; do
	[ "$l" != "$LAST_LEB" ] || vm_fail "the last LEB ($LAST_LEB) of slot b was written"
done
vm_pass "on the disks: slot a and the environment's variables unchanged; slot b lacks LEB $LAST_LEB and hashes to neither image"

vm_run boot2.log boot2.gz --disk disk.img --disk env.img --timeout 120 --append sysupgrade.slot=a ||
	vm_fail "boot 2 (the retry) failed; see above"
$PEBS volume disk.img $PEB 1 rootfs.img ||
	vm_fail "slot b on the flash does not hold the image after the retry"
vm_pass "after a reboot slot b is still damaged; the retry installs it and clears the marker"
