# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by inplace.sh when SU_VM_INPLACE_CUTS=N (vm.power-cut-inplace;
# the setup is inplace.sh's, with a recovery volume): N power cuts in
# stage 2's write of the running root, each on fresh images, and the
# recovery after each. Asserts, for every cut: it fell inside the write
# (stage 2 had not yet restored the kept files nor begun to reboot); the
# environment holds the transaction marker (the bundle's version); the
# next boot's bootloader sees it and boots the recovery volume; v2
# installed there over the API clears the marker; the boot after that
# takes rootfs, which answers v2 with last_install success.
# SU_VM_PC_SEED=N replays the delays.

SEED=${SU_VM_PC_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
DELAYS=$(python3 -c "import random; r = random.Random($SEED)
print(' '.join('%d' % r.uniform(50, 1500) for _ in range($CUTS)))")
echo "power-cut-inplace: seed $SEED (SU_VM_PC_SEED=$SEED replays), $CUTS cuts, ms after stage 2's first write: $DELAYS"
cp disk.img pristine-disk.img
cp env.img pristine-env.img

# pc_boot LOG: the VM in the background (VMPID), qemu's PID in qemu.pid
pc_boot() {
	rm -f qemu.pid
	sh "$VM_DIR/run.sh" -k "$VM_KERNEL" -i boot.gz -l "$1" \
		--disk disk.img --disk env.img \
		--hostfwd "127.0.0.1:$HPORT-:8443" --hostfwd "127.0.0.1:$CPORT-:9000" \
		--append printk.time=1 --reboot-in-place --timeout 500 \
		--pidfile "$WORK/qemu.pid" >/dev/null 2>&1 &
	VMPID=$!
}

# pc_info VERSION LOG: until /info answers VERSION (into info.json)
pc_info() {
	$HOSTPY info "$URL/info" tls/cert.pem "$1" 300 "$VMPID" "$(date +%s.%N)" \
		info.json >/dev/null ||
		{ tail -n 40 "$2"; vm_fail "$2: /info did not answer version $1"; }
}

# pc_upload_install BODY LOG: v2 uploaded, then POST /install BODY
pc_upload_install() {
	code=$(api -o upload.json -w '%{http_code}' -T v2.tar "$URL/bundle") ||
		vm_fail "$2: upload: curl failed"
	[ "$code" = 200 ] || vm_fail "$2: upload: HTTP $code: $(cat upload.json)"
	code=$(api -o install.json -w '%{http_code}' -d "$1" "$URL/install") ||
		vm_fail "$2: POST /install: curl failed"
	[ "$code" = 202 ] || vm_fail "$2: POST /install: HTTP $code: $(cat install.json)"
}

# pc_wait_console LOG TEXT SECS
pc_wait_console() {
	_pw_end=$(($(date +%s) + $3))
	until grep -q "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$_pw_end" ] && kill -0 "$VMPID" 2>/dev/null ||
			return 1
		sleep 0.01
	done
}

pc_stop() {
	kill -TERM "$VMPID" 2>/dev/null || :
	wait "$VMPID" 2>/dev/null || :
	VMPID=
}

i=0
for d in $DELAYS; do
	i=$((i + 1))
	cp pristine-disk.img disk.img
	cp pristine-env.img env.img
	pc_boot cut$i.log
	pc_info 1.0 cut$i.log
	pc_upload_install '{"keep_config": true}' cut$i.log
	pc_wait_console cut$i.log 'stage 2: first bytes written' 240 ||
		{ tail -n 40 cut$i.log; vm_fail "cut $i: stage 2 did not start writing"; }
	sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
	[ -s qemu.pid ] || vm_fail "cut $i: qemu wrote no PID"
	kill -KILL "$(cat qemu.pid)" || vm_fail "cut $i: cannot kill qemu $(cat qemu.pid)"
	wait "$VMPID" 2>/dev/null || :
	VMPID=
	! grep -q 'stage 2: kept files restored\|stage 2: rebooting' cut$i.log ||
		vm_fail "cut $i ($d ms) came after stage 2's write: $(grep 'stage 2' cut$i.log)"
	marker=$(fw_printenv -c fw_env.config -n sysupgrade_transaction 2>&1) ||
		vm_fail "cut $i: no transaction marker in the environment: $(fw_printenv -c fw_env.config)"
	[ "$marker" = 2.0 ] || vm_fail "cut $i: the marker is '$marker', not 2.0"
	echo "power-cut-inplace: cut $i, $d ms into stage 2's write: sysupgrade_transaction=$marker"

	pc_boot rec$i.log
	pc_info 1.0-recovery rec$i.log
	grep -q 'su-boot: sysupgrade_transaction=2.0: a write was cut, booting the recovery volume recovery' rec$i.log ||
		vm_fail "cut $i: the bootloader did not boot the recovery volume"
	pc_upload_install '{"reboot": true}' rec$i.log
	pc_info 2.0 rec$i.log
	python3 - info.json <<'PYEOF' || vm_fail "cut $i: /info of v2 after the recovery: $(cat info.json)"
import json, sys
i = json.load(open(sys.argv[1]))
li = i["last_install"]
assert li and li["version"] == "2.0" and li["result"] == "success", li
PYEOF
	pc_stop
	grep -q 'su-boot: root ubi0:rootfs (ubifs), version 2.0' rec$i.log ||
		vm_fail "cut $i: the boot after the recovery did not take rootfs v2"
	# (fw_printenv -n exits 0 for a variable that is not there)
	fw_printenv -c fw_env.config >env.after 2>&1 ||
		vm_fail "cut $i: fw_printenv: $(cat env.after)"
	! grep -q '^sysupgrade_transaction=' env.after ||
		vm_fail "cut $i: the marker is still set after the recovery's install: $(cat env.after)"
	vm_pass "cut $i ($d ms into stage 2's write): marker set, recovery booted, v2 installed from it, rootfs boots v2"
done
vm_pass "$CUTS of $CUTS power cuts in stage 2's write left the transaction marker set; the recovery volume booted and installed v2 every time"
