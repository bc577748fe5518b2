# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon's test harness; sourced after lib.sh, never run. It makes
# TLS material (a server certificate, a client CA with a good client
# certificate, and a stranger CA with a bad one), a signing key and keys
# directory, a token, a staging tmpfs it mounts itself, a config, and
# runs sysupgraded in the foreground on a free loopback port. Whatever
# it started or mounted is stopped and unmounted when the script ends.
#   SU_DAEMON  path of the built sysupgraded
#   SU_SLOW    waits for the daemon's start and stop are this many
#              times longer (default 1; test/valgrind/run.sh sets it)

: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
DAEMON=$SU_DAEMON
D_SLOW=${SU_SLOW:-1}
DPID=
STAGING_MOUNTED=
D_EXTRA_PIDS=
D_LOOPS=

# daemon_init: root, tools, work directory, material, cleanup trap.
daemon_init() {
	[ "$(id -u)" = 0 ] || fail "this test needs root (it mounts a tmpfs)"
	need openssl curl python3 mount umount sha256sum tar
	[ -x "$DAEMON" ] || fail "SU_DAEMON=$DAEMON is not an executable"
	mkwork
	trap 'daemon_cleanup' EXIT
	make_tls
	mkdir keys
	ec_key signing.pem keys/signing.pub.pem
	ec_key other.pem other.pub.pem
	TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	TOKEN_SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
	PORT=$(free_port)
	BASE=https://127.0.0.1:$PORT/api/v1
	mkdir staging
}

daemon_cleanup() {
	_dc_rc=$?
	cd /
	daemon_stop
	for _dc_pid in $D_EXTRA_PIDS; do
		kill "$_dc_pid" 2>/dev/null || :
		wait "$_dc_pid" 2>/dev/null || :
	done
	if [ -n "$STAGING_MOUNTED" ]; then
		umount "$WORK/staging" || _dc_rc=1
	fi
	for _dc_dev in $D_LOOPS; do
		losetup -d "$_dc_dev" || _dc_rc=1
	done
	if [ "$_dc_rc" != 0 ] && [ -f "$WORK/daemon.log" ]; then
		echo "--- daemon log (last 40 lines):" >&2
		tail -n 40 "$WORK/daemon.log" >&2
	fi
	if ! grep -qF " $WORK/" /proc/self/mountinfo; then
		rm -rf "$WORK"
	fi
	exit "$_dc_rc"
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# make_tls: server.pem/server.key for 127.0.0.1; ca.pem signs
# client.pem/client.key; stranger-ca.pem signs bad-client.pem/.key.
make_tls() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
		-days 2 -keyout server.key -out server.pem 2>/dev/null ||
		fail "openssl: server certificate"
	for _mt in ca stranger-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -subj "/CN=$_mt" -days 2 -keyout "$_mt.key" \
			-out "$_mt.pem" 2>/dev/null || fail "openssl: $_mt"
	done
	client_cert client ca
	client_cert bad-client stranger-ca
}

# client_cert NAME CA: NAME.pem/NAME.key signed by CA.pem/CA.key
client_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null ||
		fail "openssl: $1 request"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
		-CAcreateserial -days 2 -out "$1.pem" 2>/dev/null ||
		fail "openssl: $1 certificate"
}

# mount_staging SIZE: a tmpfs of SIZE on ./staging (the daemon's own
# mount is not exercised here: this one is undone by the cleanup).
mount_staging() {
	mount -t tmpfs -o "size=$1,mode=0700" sutest "$WORK/staging" ||
		fail "mount a tmpfs on $WORK/staging"
	STAGING_MOUNTED=1
}

# write_config [EXTRA...]: ./daemon.conf; each EXTRA is a line added at
# the end. CONF_DEVICE/CONF_SERVER/CONF_STAGING/CONF_INSTALL add to those sections, CONF_TARGETS
# replaces the default target (rootfs, ext4, a device never written).
write_config() {
	[ -e "$WORK/cmdline" ] || echo "quiet sysupgrade.slot=a" >"$WORK/cmdline"
	{
		cat <<EOC
[device]
compatible = acme,router-x1
version = ${CONF_VERSION:-1.0.0}
keys = $WORK/keys
fw_env_config = $WORK/fw_env.config
cmdline = $WORK/cmdline
booted_slot_arg = sysupgrade.slot
${CONF_DEVICE:-}

[server]
listen = 127.0.0.1:$PORT
cert = $WORK/server.pem
key = $WORK/server.key
client_ca = $WORK/ca.pem
token_sha256 = $TOKEN_SHA
max_connections = ${CONF_MAX_CONN:-64}
connection_timeout = ${CONF_TIMEOUT:-30}
${CONF_SERVER:-}

[staging]
dir = $WORK/staging
${CONF_STAGING:-}

[install]
reboot_command = touch $WORK/rebooted
${CONF_INSTALL:-}
EOC
		if [ -n "${CONF_TARGETS:-}" ]; then
			printf '%s\n' "$CONF_TARGETS"
		else
			printf '[target:rootfs]\ntype = ext4\ndevice = %s\n' \
				"$WORK/rootfs-not-used"
		fi
		for _wc_line in "$@"; do
			printf '%s\n' "$_wc_line"
		done
	} >daemon.conf
}

# ab_device SIZE_A SIZE_B: the A/B device of the install tests: slots a
# and b (files of those sizes on loop devices: SLOT_a, SLOT_b), an
# in-use target on ./inuse.img, a U-Boot environment in ./uboot.env
# (boot_slot=a, bootcount=2) and CONF_TARGETS naming them; env_get VAR
# reads a variable back.
ab_device() {
	truncate -s "$1" slot-a.img
	truncate -s "$2" slot-b.img
	for _ab_s in a b; do
		_ab_dev=$(losetup -f --show "slot-$_ab_s.img") || fail "losetup slot-$_ab_s.img"
		D_LOOPS="$D_LOOPS $_ab_dev"
		eval "SLOT_$_ab_s=$_ab_dev"
	done
	truncate -s 8M inuse.img
	printf 'boot_slot=a\nbootcount=2\n' >vars.txt
	mkenvimage -s 0x4000 -o uboot.env vars.txt
	echo "$WORK/uboot.env 0x0 0x4000" >fw_env.config
	CONF_TARGETS="[target:rootfs]
type = ext4
a = $SLOT_a
b = $SLOT_b
slot_var = boot_slot
verify = readback

[target:data]
type = ext4
device = $WORK/inuse.img
in_use = yes
allow_file = yes"
}

env_get() {
	fw_printenv -c fw_env.config >env.txt || fail "fw_printenv failed"
	sed -n "s/^$1=//p" env.txt
}

# daemon_start: run it, wait until GET /info answers (10 s at most,
# times SU_SLOW).
daemon_start() {
	"$DAEMON" -c "$WORK/daemon.conf" --foreground -vv >>"$WORK/daemon.log" 2>&1 &
	DPID=$!
	_ds_i=0
	while :; do
		if ! kill -0 "$DPID" 2>/dev/null; then
			wait "$DPID" || :
			DPID=
			fail "sysupgraded exited at start: $(tail -n 5 "$WORK/daemon.log")"
		fi
		_ds_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			--cacert "$WORK/server.pem" "$BASE/info" 2>/dev/null) || :
		[ "$_ds_code" = 200 ] && break
		_ds_i=$((_ds_i + 1))
		[ "$_ds_i" -lt $((100 * D_SLOW)) ] ||
			fail "sysupgraded did not answer /info within $((10 * D_SLOW)) s"
		sleep 0.1
	done
}

# daemon_stop: SIGTERM and wait (10 s times SU_SLOW, then SIGKILL and fail).
daemon_stop() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null || :
	_dst_i=0
	while kill -0 "$DPID" 2>/dev/null; do
		_dst_i=$((_dst_i + 1))
		if [ "$_dst_i" -gt $((100 * D_SLOW)) ]; then
			kill -KILL "$DPID" 2>/dev/null || :
			wait "$DPID" 2>/dev/null || :
			DPID=
			fail "sysupgraded did not stop within $((10 * D_SLOW)) s of SIGTERM"
		fi
		sleep 0.1
	done
	wait "$DPID" && DSTATUS=0 || DSTATUS=$?
	DPID=
	! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/daemon.log" ||
		fail "sanitizer report in the daemon log: $(cat "$WORK/daemon.log")"
}

# api METHOD PATH [CURL OPTIONS...]: the answer's body in ./body, its
# headers in ./headers; prints the HTTP status. Authorized with the
# token unless NOAUTH=1.
api() {
	_api_m=$1
	_api_p=$2
	shift 2
	if [ "${NOAUTH:-}" = 1 ]; then
		set -- "$@"
	else
		set -- -H "Authorization: Bearer $TOKEN" "$@"
	fi
	curl -sS -o body -D headers -w '%{http_code}' --max-time "${API_TIMEOUT:-60}" \
		--cacert "$WORK/server.pem" -X "$_api_m" "$@" "$BASE$_api_p" 2>curl.err ||
		{ [ -s headers ] || printf 'curl-failed'; }
}

# expect_api STATUS WHAT METHOD PATH [CURL OPTIONS...]
expect_api() {
	_ea_want=$1
	_ea_what=$2
	shift 2
	_ea_got=$(api "$@")
	[ "$_ea_got" = "$_ea_want" ] ||
		fail "$_ea_what: expected HTTP $_ea_want, got $_ea_got: $(cat body 2>/dev/null) $(cat curl.err)"
}

# wait_end STATE: poll /status (60 s at most, times SU_SLOW) until the
# install ends in STATE.
wait_end() {
	_we_i=0
	while :; do
		_we_s=$(status_field 'j["state"]')
		case $_we_s in
		installing|handover|writing|finalizing) ;;
		*) break ;;
		esac
		_we_i=$((_we_i + 1))
		[ "$_we_i" -lt $((600 * D_SLOW)) ] || fail "the install did not end: $(cat body)"
		sleep 0.1
	done
	assert_eq "$1" "$_we_s" "state after the install ($(cat body))"
}

# json FIELD-EXPR: of ./body
json() {
	json_get body "$1"
}

# assert_error CODE WHAT: ./body is {"error": CODE, "message": non-empty}
assert_error() {
	assert_eq "$1" "$(json 'j["error"]')" "$2: error code"
	[ -n "$(json 'j["message"]')" ] || fail "$2: empty message"
	grep -qi '^content-type: application/json' headers ||
		fail "$2: not application/json: $(cat headers)"
}

# status_field EXPR: of GET /status
status_field() {
	api GET /status >/dev/null
	json "$1"
}

# make_bundle OUT VERSION [SIGNING-KEY]: a bundle (the README recipe)
# with one payload, ./payload.img (1 MiB of random bytes unless it
# exists), of type MB_TYPE (ext4) for target MB_TARGET (rootfs); MB_COMPAT
# replaces the compatible string.
make_bundle() {
	_mb_out=$1
	_mb_dir=$(mktemp -d "$WORK/mb.XXXXXX")
	[ -f payload.img ] || head -c 1048576 /dev/urandom >payload.img
	cp payload.img "$_mb_dir/payload.img"
	(
		cd "$_mb_dir"
		write_manifest manifest.json "$2" "test bundle $2" \
			"$(image_json payload.img "${MB_TYPE:-ext4}" "${MB_TARGET:-rootfs}")"
		if [ -n "${MB_COMPAT:-}" ]; then
			sed -i "s/acme,router-x1/$MB_COMPAT/" manifest.json
		fi
		sign "$WORK/${3:-signing.pem}" manifest.json manifest.json.sig
		tar --format=ustar -cf "$WORK/$_mb_out" manifest.json manifest.json.sig payload.img
	)
	rm -rf "$_mb_dir"
}

# make_big_bad OUT MIB: a sparse bundle whose manifest.json.sig does not
# verify and whose payload member's header declares MIB MiB.
make_big_bad() {
	python3 - "$1" "$2" <<'EOP'
import hashlib, io, json, os, subprocess, sys, tarfile
out, mib = sys.argv[1], int(sys.argv[2])
size = mib << 20
manifest = json.dumps({"format": 1, "version": "9.0.0",
	"compatible": ["acme,router-x1"],
	"images": [{"file": "big.img", "size": size, "sha256": "0" * 64,
		"type": "ext4", "target": "rootfs"}]}).encode()
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", "other.pem"],
	input=manifest, capture_output=True, check=True).stdout
with open(out, "wb") as f:
	for name, data in (("manifest.json", manifest), ("manifest.json.sig", sig)):
		ti = tarfile.TarInfo(name)
		ti.size = len(data)
		f.write(ti.tobuf(tarfile.USTAR_FORMAT))
		f.write(data + b"\0" * (-len(data) % 512))
	ti = tarfile.TarInfo("big.img")
	ti.size = size
	f.write(ti.tobuf(tarfile.USTAR_FORMAT))
	f.truncate(f.tell() + size + 1024)
EOP
}

# expect_refused STATUS CODE WHAT [CURL OPTIONS...]: POST /bundle is
# refused with STATUS and error CODE, the state goes back to what it was
# with CODE as the last error, the staged bundle is untouched and no
# upload file is left behind.
expect_refused() {
	_ef_status=$1
	_ef_code=$2
	_ef_what=$3
	shift 3
	_ef_sha=$(staged_sha)
	_ef_state=$(status_field 'j["state"]')
	expect_api "$_ef_status" "$_ef_what" POST /bundle "$@"
	assert_error "$_ef_code" "$_ef_what"
	assert_eq "$_ef_sha" "$(staged_sha)" "$_ef_what: staged bundle's sha256"
	assert_eq "" "$(staging_files)" "$_ef_what: files left in staging"
	assert_eq "$_ef_state" "$(status_field 'j["state"]')" "$_ef_what: state after"
	assert_eq "$_ef_code" "$(status_field 'j["last_error"]["error"]')" \
		"$_ef_what: last error in /status"
	pass "$_ef_what -> $_ef_status $_ef_code, staged bundle intact"
}

# staged_sha: SHA-256 of the staged bundle file, or "none".
staged_sha() {
	if [ -f "$WORK/staging/bundle.tar" ]; then
		sha256sum "$WORK/staging/bundle.tar" | cut -d' ' -f1
	else
		echo none
	fi
}

# staging_files: the names in the staging directory besides bundle.tar
staging_files() {
	ls -A "$WORK/staging" | grep -vx bundle.tar || :
}

# sha FILE: its SHA-256 (as loop.sh's).
sha() {
	sha256sum "$1" | cut -d' ' -f1
}
