#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# integration.fleet: contrib/fleet/playbook.yml and its sysupgraded role,
# run with Debian's Ansible against five A/B devices on loopback ports
# (loop-device slots, a U-Boot environment in a file, the demo's
# simulated reboot: test/integration/fleet-device.sh), in the playbook's
# batches [1, 2, "100%"] with max_fail_percentage 0:
#   fleet-1  1.0.0, token (Ansible Vault)  the canary
#   fleet-2  2.0.0 already                 skipped, unchanged
#   fleet-3  1.0.0, compatible acme,router-x2: the bundle is refused
#            (incompatible), so the rollout stops after batch 2
#   fleet-4  1.0.0, client certificate     batch 3
#   fleet-5  1.0.0, token                  batch 3
# --check first: changed where an upgrade is due, nothing uploaded.
# Run 1: fleet-1 upgraded (2.0.0, last_install success, slot b booted),
# fleet-2 unchanged, fleet-3 failed with "incompatible", fleet-4 and
# fleet-5 not touched (no upload reached them). Then fleet-3's config is
# fixed (its compatible string) and it reboots, and fleet-5 is left with
# an install that waits for its reboot (as a run cut short would leave
# it). Run 2 upgrades fleet-3 and fleet-4 and reboots fleet-5 into its
# waiting install, uploading nothing to it. Run 3 changes nothing.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"
TOP=$(cd "$SU_TEST_SRC/.." && pwd)
FLEET=$TOP/contrib/fleet
SUPERVISORS=

daemon_init
need ansible-playbook ansible-vault bash mkfs.ext4 mkenvimage fw_printenv \
	fw_setenv losetup
trap 'fleet_cleanup' EXIT

# Stop the devices, then undo every mount under $WORK (staging tmpfs,
# a slot a device left mounted); daemon_cleanup detaches the loops.
fleet_cleanup() {
	_fc_rc=$?
	set +e		# or the (exit) below would end the trap
	cd /
	for _fc_pid in $SUPERVISORS; do
		kill -TERM "$_fc_pid" 2>/dev/null || :
		wait "$_fc_pid" 2>/dev/null || :
	done
	awk -v w="$WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r _fc_m; do umount "$_fc_m" || exit 1; done || _fc_rc=1
	if [ "$_fc_rc" != 0 ]; then
		for _fc_d in "$WORK"/fleet-*; do
			[ -f "$_fc_d/daemon.log" ] || continue
			echo "--- $_fc_d/daemon.log (last 15 lines):" >&2
			tail -n 15 "$_fc_d/daemon.log" >&2
		done
	fi
	(exit "$_fc_rc")
	daemon_cleanup
}

# rootfs_image VERSION IMAGE [PAYLOAD-MIB]: an ext4 root whose
# /etc/firmware-version says VERSION.
rootfs_image() {
	_ri_tree=$(mktemp -d "$WORK/tree.XXXXXX")
	mkdir "$_ri_tree/etc"
	echo "$1" >"$_ri_tree/etc/firmware-version"
	head -c "$((${3:-0} << 20))" /dev/urandom >"$_ri_tree/payload.bin"
	mkfs.ext4 -q -F -L "rootfs-$1" -d "$_ri_tree" "$2" 32M >/dev/null ||
		fail "mkfs.ext4 $2"
	rm -rf "$_ri_tree"
}

# device NAME VERSION COMPATIBLE: a device booted from slot a, which
# holds VERSION; its port in NAME/port.
device() {
	_dv=$WORK/$1
	mkdir -p "$_dv/root" "$_dv/staging"
	rootfs_image "$2" "$_dv/slot-a.img"
	truncate -s 32M "$_dv/slot-b.img"
	: >"$_dv/slots"
	for _dv_s in a b; do
		_dv_dev=$(losetup -f --show "$_dv/slot-$_dv_s.img") ||
			fail "losetup $_dv/slot-$_dv_s.img"
		D_LOOPS="$D_LOOPS $_dv_dev"
		echo "SLOT_$_dv_s=$_dv_dev" >>"$_dv/slots"
	done
	printf 'boot_slot=a\nbootcount=0\n' >"$_dv/env.txt"
	mkenvimage -s 0x4000 -o "$_dv/env.bin" "$_dv/env.txt"
	echo "$_dv/env.bin 0x0 0x4000" >"$_dv/fw_env.config"
	mount -t tmpfs -o size=64M,mode=0700 fleet-staging "$_dv/staging" ||
		fail "mount a tmpfs on $_dv/staging"
	_dv_port=$(free_port)
	echo "$_dv_port" >"$_dv/port"
	cat >"$_dv/device.conf" <<EOC
[device]
compatible = $3
version_file = $_dv/root/etc/firmware-version
keys = $WORK/keys
fw_env_config = $_dv/fw_env.config
cmdline = $_dv/cmdline
booted_slot_arg = sysupgrade.slot

[server]
listen = 127.0.0.1:$_dv_port
cert = $WORK/server.pem
key = $WORK/server.key
client_ca = $WORK/ca.pem
token_sha256 = $TOKEN_SHA

[staging]
dir = $_dv/staging
max_size = 48M

[target:rootfs]
type = ext4
a = $(sed -n 's/^SLOT_a=//p' "$_dv/slots")
b = $(sed -n 's/^SLOT_b=//p' "$_dv/slots")
slot_var = boot_slot
verify = readback
EOC
	bash "$SU_TEST_SRC/integration/fleet-device.sh" "$_dv" "$DAEMON" \
		"$TOP/contrib/demo/fake-reboot.sh" &
	SUPERVISORS="$SUPERVISORS $!"
	echo $! >"$_dv/supervisor"
	wait_info "$1" "$2"
}

# base NAME: the API of device NAME.
base() {
	echo "https://127.0.0.1:$(cat "$WORK/$1/port")/api/v1"
}

# dev_api NAME METHOD PATH [CURL OPTIONS...]: like api, on device NAME.
dev_api() {
	BASE=$(base "$1")
	shift
	api "$@"
}

# wait_info NAME VERSION: GET /info of NAME answers VERSION, not
# rebooting (30 s at most).
wait_info() {
	_wi_i=0
	while :; do
		if [ "$(dev_api "$1" GET /info)" = 200 ] &&
			[ "$(json 'j["state"]')" != rebooting ]; then
			[ "$(json 'j["version"]')" = "$2" ] && break
		fi
		_wi_i=$((_wi_i + 1))
		[ "$_wi_i" -lt 300 ] ||
			fail "$1: /info did not answer $2 within 30 s: $(cat body 2>/dev/null)"
		sleep 0.1
	done
}

# uploads NAME: how many uploads NAME's daemon received (staged or
# refused mid-body; a refusal before the body is /status last_error).
uploads() {
	grep -cE 'staged bundle of|upload refused after' "$WORK/$1/daemon.log" || :
}

# untouched NAME VERSION: NAME runs VERSION from slot a, booted once,
# idle with nothing staged and no error: no upload reached it.
untouched() {
	dev_api "$1" GET /status >/dev/null
	assert_eq '["idle", null, null]' "$(json '[j["state"], j["bundle"], j["last_error"]]')" \
		"$1: /status [state, bundle, last_error]"
	assert_eq 0 "$(uploads "$1")" "$1: uploads in its daemon log"
	booted "$1" "$2" a
}

# booted NAME VERSION SLOT: /info says VERSION booted from SLOT.
booted() {
	dev_api "$1" GET /info >/dev/null
	assert_eq "$2 $3" "$(json 'j["version"] + " " + str(j["targets"][0]["booted"])')" \
		"$1: /info version and booted slot"
}

# upgraded NAME [BOOTS]: 2.0.0 from slot b, last_install success; the
# slots booted were BOOTS (default "a b": one reboot).
upgraded() {
	booted "$1" 2.0.0 b
	assert_eq "2.0.0 success" \
		"$(json 'j["last_install"]["version"] + " " + j["last_install"]["result"]')" \
		"$1: /info last_install"
	assert_eq "${2:-a b}" "$(echo $(cat "$WORK/$1/boots"))" "$1: the slots booted"
}

# playbook OUT [ANSIBLE-PLAYBOOK OPTIONS...]: run it; $status, output
# in OUT.
playbook() {
	_pb_out=$1
	shift
	_pb_t0=$(date +%s)
	set +e
	ansible-playbook -i "$WORK/ansible/inventory.yml" \
		--vault-password-file "$WORK/ansible/vault-pass" \
		-e sysupgraded_bundle="$WORK/v2.bundle" -e sysupgraded_version=2.0.0 \
		-e sysupgraded_ca="$WORK/server.pem" -e sysupgraded_poll_delay=1 \
		"$@" "$FLEET/playbook.yml" >"$_pb_out" 2>&1
	status=$?
	set -e
	echo "ansible-playbook${*:+ $*} took $(($(date +%s) - _pb_t0)) s (exit $status)"
}

# recap OUT HOST: HOST's PLAY RECAP counts, "changed=N failed=N", or
# "absent" when no task ran on it.
recap() {
	awk -v h="$2" '$1 == h && $2 == ":" {
		for (i = 3; i <= NF; i++) {
			split($i, kv, "=")
			n[kv[1]] = kv[2]
		}
		found = 1
	}
	END {
		if (found) printf "changed=%s failed=%s\n", n["changed"], n["failed"]
		else print "absent"
	}' "$1"
}

# expect_recap OUT WHAT HOST=RECAP...: each HOST's recap.
expect_recap() {
	_er_out=$1
	_er_what=$2
	shift 2
	for _er in "$@"; do
		_er_got=$(recap "$_er_out" "${_er%%=*}")
		[ "$_er_got" = "${_er#*=}" ] ||
			fail "$_er_what: ${_er%%=*}: expected '${_er#*=}', got '$_er_got'
$(cat "$_er_out")"
	done
}

# ---- the devices and the bundle ----
rootfs_image 2.0.0 "$WORK/rootfs-v2.ext4" 12
"$TOOL" create --version 2.0.0 --compatible acme,router-x1 \
	--description "fleet v2" --image "$WORK/rootfs-v2.ext4:ext4:rootfs:zstd" \
	--key "$WORK/signing.pem" --output "$WORK/v2.bundle" >/dev/null ||
	fail "sysupgrade-bundle create"
[ "$(stat -c %s "$WORK/v2.bundle")" -gt $((8 << 20)) ] ||
	fail "the bundle should be over 8 MiB: $(stat -c %s "$WORK/v2.bundle")"

device fleet-1 1.0.0 acme,router-x1
device fleet-2 2.0.0 acme,router-x1
device fleet-3 1.0.0 acme,router-x2
device fleet-4 1.0.0 acme,router-x1
device fleet-5 1.0.0 acme,router-x1
pass "five A/B devices on 127.0.0.1 ports $(cat "$WORK"/fleet-*/port | tr '\n' ' ')"

# ---- the controller: inventory, vaulted token, client certificate ----
mkdir -p "$WORK/ansible/group_vars/sysupgraded" "$WORK/ansible/home"
export ANSIBLE_HOME="$WORK/ansible/home" ANSIBLE_LOCAL_TEMP="$WORK/ansible/home/tmp" \
	ANSIBLE_CONFIG="$WORK/ansible/ansible.cfg" ANSIBLE_NOCOLOR=1 \
	ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0
: >"$WORK/ansible/ansible.cfg"
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/ansible/vault-pass"
{
	echo "---"
	ansible-vault encrypt_string --vault-password-file "$WORK/ansible/vault-pass" \
		--name sysupgraded_token "$TOKEN" 2>/dev/null
} >"$WORK/ansible/group_vars/sysupgraded/vault.yml" || fail "ansible-vault encrypt_string"
grep -q '^sysupgraded_token: !vault' "$WORK/ansible/group_vars/sysupgraded/vault.yml" ||
	fail "no vaulted token: $(cat "$WORK/ansible/group_vars/sysupgraded/vault.yml")"
! grep -qF "$TOKEN" "$WORK/ansible/group_vars/sysupgraded/vault.yml" ||
	fail "the token is in clear in the vault file"
python3 - "$WORK" >"$WORK/ansible/inventory.yml" <<'EOP'
import json, sys
work = sys.argv[1]
hosts = {}
for n in range(1, 6):
    h = {"ansible_host": "127.0.0.1",
         "sysupgraded_port": int(open(f"{work}/fleet-{n}/port").read())}
    if n == 4:
        h.update(sysupgraded_token="",
                 sysupgraded_client_cert=f"{work}/client.pem",
                 sysupgraded_client_key=f"{work}/client.key")
    hosts[f"fleet-{n}"] = h
# JSON is YAML: in this order, the hosts make the batches
json.dump({"all": {"children": {"sysupgraded": {"hosts": hosts}}}}, sys.stdout, indent=1)
EOP
pass "inventory with a vaulted token; fleet-4 authorized by a client certificate"
ansible-inventory -i "$FLEET/inventory.example.yml" --graph >example.out 2>&1 ||
	fail "contrib/fleet/inventory.example.yml does not parse: $(cat example.out)"
assert_eq 4 "$(grep -c -- '--router-' example.out)" "hosts of inventory.example.yml"
ansible-playbook -i "$FLEET/inventory.example.yml" --syntax-check \
	"$FLEET/playbook.yml" >example.out 2>&1 ||
	fail "playbook.yml --syntax-check: $(cat example.out)"
pass "inventory.example.yml parses (4 devices); playbook.yml passes --syntax-check"

# ---- check mode: what would change; nothing sent ----
playbook check.out --check
[ "$status" = 0 ] || fail "ansible-playbook --check exited $status: $(cat check.out)"
expect_recap check.out "--check" fleet-1="changed=1 failed=0" \
	fleet-2="changed=0 failed=0" fleet-3="changed=1 failed=0" \
	fleet-4="changed=1 failed=0" fleet-5="changed=1 failed=0"
untouched fleet-1 1.0.0
untouched fleet-2 2.0.0
untouched fleet-3 1.0.0
untouched fleet-4 1.0.0
untouched fleet-5 1.0.0
pass "--check: changed=1 on the four devices on 1.0.0, 0 on fleet-2; no upload reached any"

# ---- run 1: the canary, then the batch with the failure; stop ----
playbook run1.out
[ "$status" = 2 ] || fail "run 1: ansible-playbook exited $status, not 2 (hosts failed): $(cat run1.out)"
# changed: the upload and the reboot
expect_recap run1.out "run 1" fleet-1="changed=2 failed=0" \
	fleet-2="changed=0 failed=0" fleet-3="changed=0 failed=1" \
	fleet-4=absent fleet-5=absent
grep -q 'fatal: \[fleet-3[] ].*refused: incompatible: ' run1.out ||
	fail "run 1: fleet-3's failure does not name the daemon's error code: $(cat run1.out)"
upgraded fleet-1
assert_eq 1 "$(uploads fleet-1)" "fleet-1: uploads"
pass "run 1: the canary fleet-1 is on 2.0.0 from slot b, last_install success"
untouched fleet-2 2.0.0
pass "run 1: fleet-2, already on 2.0.0, was skipped (changed=0, no upload)"
booted fleet-3 1.0.0 a
dev_api fleet-3 GET /status >/dev/null
assert_eq "idle incompatible" "$(json 'j["state"] + " " + j["last_error"]["error"]')" \
	"fleet-3: /status after the refusal"
pass "run 1: fleet-3 refused the bundle (incompatible) and stays on 1.0.0"
untouched fleet-4 1.0.0
untouched fleet-5 1.0.0
pass "run 1: max_fail_percentage stopped the rollout: batch 3 (fleet-4, fleet-5) not touched"

# ---- fix fleet-3; leave fleet-5 with an install waiting for its reboot ----
sed -i 's/^compatible = acme,router-x2$/compatible = acme,router-x1/' "$WORK/fleet-3/device.conf"
"$TOP/contrib/demo/fake-reboot.sh" "$(cat "$WORK/fleet-3/supervisor")" 2>/dev/null
i=0
until [ "$(echo $(cat "$WORK/fleet-3/boots"))" = "a a" ]; do
	[ "$i" -lt 300 ] || fail "fleet-3 did not reboot in 30 s: $(cat "$WORK/fleet-3/boots")"
	sleep 0.1
	i=$((i + 1))
done
wait_info fleet-3 1.0.0
assert_eq acme,router-x1 "$(json 'j["compatible"]')" "fleet-3: compatible after the fix"
assert_eq "a a" "$(echo $(cat "$WORK/fleet-3/boots"))" "fleet-3: slots booted after its fix"
pass "fleet-3's compatible string fixed; rebooted on slot a"

# as a run cut short after the install, before its reboot, leaves it
assert_eq 202 "$(dev_api fleet-5 POST '/bundle?install=1' -T "$WORK/v2.bundle" \
	-H 'Content-Type: application/octet-stream')" "fleet-5: upload ?install=1 by hand: $(cat body)"
BASE=$(base fleet-5)
wait_end idle
assert_eq "b 1" "$(fw_printenv -n -c "$WORK/fleet-5/fw_env.config" boot_slot) $(fw_printenv -n -c "$WORK/fleet-5/fw_env.config" upgrade_available)" \
	"fleet-5: boot_slot and upgrade_available after its install"
booted fleet-5 1.0.0 a
pass "fleet-5: 2.0.0 installed into slot b by hand, waiting for its reboot"

# ---- run 2: the rest upgrade ----
playbook run2.out
[ "$status" = 0 ] || fail "run 2: ansible-playbook exited $status: $(cat run2.out)"
# fleet-5: the reboot alone
expect_recap run2.out "run 2" fleet-1="changed=0 failed=0" \
	fleet-2="changed=0 failed=0" fleet-3="changed=2 failed=0" \
	fleet-4="changed=2 failed=0" fleet-5="changed=1 failed=0"
upgraded fleet-3 "a a b"
upgraded fleet-4
upgraded fleet-5
assert_eq "1 1" "$(uploads fleet-5) $(grep -c 'install of 2.0.0 starting' "$WORK/fleet-5/daemon.log")" \
	"fleet-5: uploads and installs (only the ones by hand)"
pass "run 2: fleet-3 (fixed) and fleet-4 (client certificate) upgraded; fleet-5 rebooted into its waiting install, nothing uploaded"
upgraded fleet-1
untouched fleet-2 2.0.0

# ---- run 3: nothing to do ----
playbook run3.out
[ "$status" = 0 ] || fail "run 3: ansible-playbook exited $status: $(cat run3.out)"
expect_recap run3.out "run 3" fleet-1="changed=0 failed=0" \
	fleet-2="changed=0 failed=0" fleet-3="changed=0 failed=0" \
	fleet-4="changed=0 failed=0" fleet-5="changed=0 failed=0"
# run 3 uploaded nothing: fleet-3 had its refused upload and its good one
assert_eq "1 0 2 1 1" "$(for _n in 1 2 3 4 5; do uploads "fleet-$_n"; done | tr '\n' ' ' | sed 's/ $//')" \
	"uploads received by fleet-1..5 over all runs"
for _n in 1 2 3 4 5; do
	! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/fleet-$_n/daemon.log" ||
		fail "fleet-$_n: sanitizer report in the daemon log: $(cat "$WORK/fleet-$_n/daemon.log")"
done
pass "run 3: changed=0 on every device"
