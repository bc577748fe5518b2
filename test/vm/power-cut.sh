#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# VM test: power cuts during the UBI volume write of an A/B install.
# Slot a (ubi0:rootfs_a) is active, boot_slot=a in a U-Boot environment
# on /dev/vdb; `sysupgraded --install` in the guest writes a 2 MiB image
# into slot b. The host kills qemu with SIGKILL (its PID from qemu's
# -pidfile) at CUTS random points of that write: a random delay after
# the UBI update starts, timed in the guest, which then prints a line
# the host kills on.
# Every boot after a cut does what the bootloader does: read boot_slot
# with fw_printenv and take the slot it names. The test asserts, for
# every cut: the cut fell inside the write (slot b carries the UBI
# update marker), the environment still names slot a, and slot a's
# content checksum is unchanged. One boot per cut: the boot that checks
# the last cut starts the next install. The same disk and environment
# images (the same backing files) go through all boots.
# The points come from Python's random.Random(SEED); SU_VM_PC_SEED=N
# replays a run, SU_VM_PC_CUTS=N changes the count (default 20).
set -eu
. "$(dirname "$0")/lib.sh"

: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
: "${SU_BUNDLE_TOOL:?SU_BUNDLE_TOOL must name the sysupgrade-bundle binary}"
vm_need ubinize mkenvimage fw_printenv openssl sha256sum awk python3
vm_kernel
vm_mkwork

CUTS=${SU_VM_PC_CUTS:-20}
SEED=${SU_VM_PC_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "power-cut: seed $SEED (SU_VM_PC_SEED=$SEED replays these delays), $CUTS cuts"
PEB=131072
LEB=$((PEB - 128))
VOL_LEBS=25			# vol_size=3MiB: 25 LEBs of 130944 bytes
SIZE=$((2 * 1024 * 1024 + 77))
TOKEN=vm-test-token-0123456789

# The volume's whole content: the image, then 0xFF to the volume's end.
padded() {
	{ cat "$1"; head -c $((VOL_LEBS * LEB - $(stat -c %s "$1"))) /dev/zero |
		tr '\0' '\377'; } | sha256sum | cut -d' ' -f1
}

vm_keys_tls
printf 'boot_slot=a\nbootcount=0\n' > env.txt
mkenvimage -s 0x4000 -o env.img env.txt
echo "$WORK/env.img 0x0 0x4000" > host-env.config

head -c 300000 /dev/urandom > old-a.bin
head -c 300000 /dev/urandom > old-b.bin
vm_ubi_ab disk.img $((10 * 1024 * 1024)) 3MiB
A_SHA=$(padded old-a.bin)

head -c $SIZE /dev/urandom > rootfs.img
"$SU_BUNDLE_TOOL" create --version 2.0 --compatible acme,vm \
	--image rootfs.img:ubi:rootfs --key signing.pem --output v2.bundle >/dev/null ||
	vm_fail "sysupgrade-bundle create failed"
B_SHA=$(padded rootfs.img)

vm_daemon_files "/dev/vdb 0x0 0x4000"

# The guest: the bootloader's choice, its slot's checksum, then (unless
# su.pc=check) the install, with the UBI update's start and end on the
# console for the host to time the cut.
cat > guest.sh <<EOF
uenv() { fw_printenv -c /etc/su/fw_env.config "\$@"; }
mkdir -p /var/lock /run/staging
# block2mtd writes through the page cache of /dev/vda: without this
# a cut would lose writes that flash would have taken. A tiny dirty
# limit makes the writer flush as it goes.
echo 4096 > /proc/sys/vm/dirty_background_bytes
echo 8192 > /proc/sys/vm/dirty_bytes
echo 1 > /proc/sys/vm/dirty_writeback_centisecs
echo 1 > /proc/sys/vm/dirty_expire_centisecs
modprobe block2mtd block2mtd=/dev/vda,$PEB
ubiattach -m 0 -d 0 >/dev/null
slot=\$(uenv -n boot_slot)
case \$slot in a) vol=0 ;; b) vol=1 ;; *) echo "FAIL: boot_slot '\$slot'"; exit 1 ;; esac
echo "SU-PC-BOOT slot=\$slot sha=\$(sha256sum < /dev/ubi0_\$vol | cut -d' ' -f1) upd_b=\$(cat /sys/class/ubi/ubi0_1/upd_marker) up=\$(cut -d" " -f1 /proc/uptime)"
grep -q 'su.pc=check' /proc/cmdline && exit 0
(
	m=/sys/class/ubi/ubi0_1/upd_marker
	until [ "\$(cat \$m)" = 1 ]; do sleep 0.01; done
	echo "SU-PC-WRITING up=\$(cut -d" " -f1 /proc/uptime)"
	d=\$(sed -n 's/.*su\.pc\.delay=\([0-9]*\).*/\1/p' /proc/cmdline)
	if [ -n "\$d" ]; then
		sleep \$((d / 1000)).\$(printf %03d \$((d % 1000)))
		if [ "\$(cat \$m)" = 1 ]; then echo SU-PC-CUT; else echo SU-PC-LATE; fi
	fi
	while [ "\$(cat \$m)" = 1 ]; do sleep 0.01; done
	echo "SU-PC-WRITTEN up=\$(cut -d" " -f1 /proc/uptime)"
) &
$SU_DAEMON -c /etc/su/sysupgraded.conf --install /v2.bundle
echo "SU-PC-INSTALLED boot_slot=\$(uenv -n boot_slot) sha_b=\$(sha256sum < /dev/ubi0_1 | cut -d' ' -f1)"
EOF
vm_initramfs guest.gz guest.sh --bin "$SU_DAEMON" --bin "$(command -v fw_printenv)" \
	--bin /usr/sbin/ubiattach \
	--file sysupgraded.conf:/etc/su/sysupgraded.conf \
	--file fw_env.config:/etc/su/fw_env.config \
	--file keys/test.pub.pem:/etc/su/keys/test.pub.pem \
	--file tls/cert.pem:/etc/su/tls/cert.pem --file tls/key.pem:/etc/su/tls/key.pem \
	--file v2.bundle:/v2.bundle

now_ms() {
	date +%s%3N
}
# wait_line LOG LINE SECS: until LOG has LINE; prints the time (ms).
wait_line() {
	_wl_end=$(($(date +%s) + $3))
	until grep -q "^$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$_wl_end" ] || return 1
		sleep 0.01
	done
	now_ms
}
# check_boot LOG: the line the boot printed, its slot and checksum.
check_boot() {
	_cb=$(grep '^SU-PC-BOOT ' "$1") || vm_fail "$1: no SU-PC-BOOT line"
	echo "  $_cb"
	case $_cb in
	*"slot=a sha=$A_SHA upd_b=1"*) ;;
	*"slot=a sha=$A_SHA "*) vm_fail "$1: slot b has no UBI update marker: the cut was not inside the write" ;;
	*"slot=a "*) vm_fail "$1: slot a's content changed" ;;
	*) vm_fail "$1: the bootloader does not take slot a" ;;
	esac
	[ "$(fw_printenv -c host-env.config -n boot_slot)" = a ] ||
		vm_fail "the environment no longer names slot a: $(fw_printenv -c host-env.config)"
}

# An install without a cut, on a copy: it works, and flips boot_slot.
cp disk.img cal-disk.img
cp env.img cal-env.img
vm_run cal.log guest.gz --disk cal-disk.img --disk cal-env.img \
	--append sysupgrade.slot=a --timeout 240 >/dev/null ||
	{ cat cal.log; vm_fail "the uncut install failed"; }
grep -q "^SU-PC-INSTALLED boot_slot=b sha_b=$B_SHA" cal.log ||
	{ cat cal.log; vm_fail "the uncut install did not flip to a full slot b"; }
rm -f cal-disk.img cal-env.img
vm_pass "an install without a cut writes slot b and flips boot_slot"
# The write's length in the guest's time, from the uncut install.
WRITE_MS=$(sed -n 's/^SU-PC-\(WRITING\|WRITTEN\) up=//p' cal.log |
	awk 'NR == 1 { t0 = $1 } NR == 2 { printf "%d", ($1 - t0) * 1000 }')
echo "power-cut: the UBI write of slot b takes $WRITE_MS ms in the guest"
[ "${WRITE_MS:-0}" -ge 300 ] || vm_fail "the write takes ${WRITE_MS:-?} ms: too short to cut inside"

# The cut points: the guest waits DELAY ms after the UBI update starts
# (upd_marker of volume 1 goes to 1), prints SU-PC-CUT if the update is
# still on, and the host kills qemu as soon as it reads that line.
# Timed in the guest, so a loaded host's slow polling does not move
# the point; at most 60 % of the write leaves room for the kill.
DELAYS=$(python3 -c "import random; r = random.Random($SEED)
print(' '.join('%d' % ($WRITE_MS * r.uniform(0.02, 0.6)) for _ in range($CUTS)))")
echo "power-cut: delays (ms into the write): $DELAYS"

i=0
for d in $DELAYS; do
	i=$((i + 1))
	rm -f qemu.pid
	sh "$VM_DIR/run.sh" -k "$VM_KERNEL" -i guest.gz -l cut$i.log --disk disk.img \
		--disk env.img --append "sysupgrade.slot=a su.pc.delay=$d" --timeout 240 \
		--pidfile "$WORK/qemu.pid" >/dev/null 2>&1 &
	run=$!
	wait_line cut$i.log SU-PC-WRITING 200 >/dev/null ||
		{ cat cut$i.log; vm_fail "boot $i: the write did not start"; }
	[ $i -eq 1 ] || check_boot cut$i.log
	wait_line cut$i.log 'SU-PC-\(CUT\|LATE\)' 60 >/dev/null ||
		{ cat cut$i.log; vm_fail "boot $i: no cut point"; }
	! grep -q '^SU-PC-LATE' cut$i.log ||
		vm_fail "boot $i: the write had ended $d ms after its start"
	[ -s qemu.pid ] || { cat cut$i.log; vm_fail "boot $i: qemu is gone before the cut"; }
	kill -KILL "$(cat qemu.pid)" || vm_fail "cannot kill qemu $(cat qemu.pid)"
	wait $run || true
	! grep -q '^SU-PC-WRITTEN' cut$i.log ||
		vm_fail "cut $i ($d ms) came after the write had ended"
	[ -z "${SU_VM_PC_LOGS:-}" ] || cp cut$i.log "$SU_VM_PC_LOGS/"
	echo "power-cut: cut $i of $CUTS, $d ms into the write"
done
vm_run check.log guest.gz --disk disk.img --disk env.img \
	--append "sysupgrade.slot=a su.pc=check" --timeout 120 >/dev/null ||
	{ cat check.log; vm_fail "the boot after the last cut failed"; }
check_boot check.log
vm_pass "$CUTS of $CUTS power cuts inside the UBI write of slot b: the environment names slot a and slot a boots unchanged every time"
