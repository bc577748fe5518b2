#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Limits and concurrency of sysupgraded: a second upload while one runs
# gets 409 (and so do install and discard); a slow client does not hold
# up an upload from another; SIGTERM or kill -9 during an upload leaves
# no staging file behind; a staged bundle is kept across a restart only while it
# still verifies; an idle /events stream outlives connection_timeout; a
# tiny staging tmpfs gives 507; without --foreground the exit status says
# whether it started. The staged bundle is checked by its sha256 after
# every refusal.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

need df
daemon_init
mount_staging 64M
CONF_STAGING="max_size = 32M"
write_config
daemon_start

make_bundle v2.tar 2.0.0
head -c 4194304 /dev/urandom >payload.img
make_bundle v3.tar 3.0.0
V2=$(sha v2.tar)
V3=$(sha v3.tar)
expect_api 200 "stage v2" PUT /bundle -T v2.tar
assert_eq "$V2" "$(staged_sha)" "v2 staged"

# wait_state STATE [TENTHS]: poll /status until it says STATE.
wait_state() {
	_w_i=0
	while [ "$(status_field 'j["state"]')" != "$1" ]; do
		_w_i=$((_w_i + 1))
		[ "$_w_i" -lt "${2:-50}" ] || fail "state did not become $1: $(cat body)"
		sleep 0.1
	done
}

# slow_upload FILE PAUSE OUT: POST FILE in the background, pausing PAUSE
# seconds after its first 2 MB; the status code goes to OUT.
slow_upload() {
	( head -c 2000000 "$1"; sleep "$2"; tail -c +2000001 "$1" ) |
		curl -sS -o "$3.body" -w '%{http_code}' --max-time 60 \
			--cacert server.pem -H "Authorization: Bearer $TOKEN" \
			-X POST -T - "$BASE/bundle" >"$3" 2>"$3.err" &
	SLOW=$!
	D_EXTRA_PIDS="$D_EXTRA_PIDS $SLOW"
}

# ---- one upload at a time ----
slow_upload v3.tar 12 slow
wait_state receiving
expect_api 409 "a second upload while one runs" PUT /bundle -T v2.tar
assert_error busy "a second upload while one runs"
expect_api 409 "multipart upload while one runs" POST /bundle -F bundle=@v2.tar
expect_api 409 "install while an upload runs" POST /install
assert_error busy "install while an upload runs"
expect_api 409 "discard while an upload runs" DELETE /bundle
assert_error busy "discard while an upload runs"
expect_api 200 "/status while an upload runs" GET /status
assert_eq receiving "$(json 'j["state"]')" "state during the upload"
wait "$SLOW" || fail "the slow upload failed: $(cat slow.err)"
assert_eq 200 "$(cat slow)" "the slow upload: $(cat slow.body)"
assert_eq "$V3" "$(staged_sha)" "the slow upload is staged"
pass "a second upload, install or discard while one runs gets 409 busy"

# ---- a slow client does not block another's upload ----
python3 - "$PORT" >slowloris.out 2>&1 <<'EOP' &
import socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.create_default_context(cafile="server.pem")
socks = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
			 server_hostname="127.0.0.1") for _ in range(4)]
req = b"POST /api/v1/bundle HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
end = time.time() + 4	# within the 5 s header deadline
i = 0
while time.time() < end:
	for s in socks:
		s.send(req[i % len(req):i % len(req) + 1])
	i += 1
	time.sleep(0.05)
print("slowloris done")
EOP
LORIS=$!
D_EXTRA_PIDS="$D_EXTRA_PIDS $LORIS"
sleep 1
expect_api 200 "an upload next to slow clients" PUT /bundle -T v2.tar --max-time 6
assert_eq "$V2" "$(staged_sha)" "v2 staged next to slow clients"
expect_api 200 "/status next to slow clients" GET /status --max-time 3
kill -0 "$LORIS" 2>/dev/null ||
	fail "the slow clients ended before the upload did: $(cat slowloris.out)"
wait "$LORIS" || fail "slow clients: $(cat slowloris.out)"
pass "4 slow clients sending headers byte by byte do not block an upload"

# ---- idle connections from many addresses do not keep a client out ----
# max_connections 8: 12 idle TCP connections from 127.0.0.2-5 (3 each,
# the per-address limit), then curl from 127.0.0.1. Each connection past
# 8 shuts the one that has waited longest without a request: the last 4
# idle ones push out 4, curl a fifth, and its request is answered.
daemon_stop
CONF_MAX_CONN=8
write_config
daemon_start
python3 - "$PORT" >idle.out 2>&1 <<'EOP' &
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port),
				  source_address=("127.0.0.%d" % (2 + i % 4), 0))
	 for i in range(12)]
print("open", len(socks), flush=True)
time.sleep(3)	# within the 5 s header deadline
closed = 0
for s in socks:
	s.setblocking(False)
	try:
		closed += s.recv(1) == b""
	except BlockingIOError:
		pass
	except OSError:
		closed += 1
print("closed", closed)
EOP
IDLE=$!
D_EXTRA_PIDS="$D_EXTRA_PIDS $IDLE"
i=0
until grep -q '^open 12' idle.out; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || fail "the idle clients did not connect: $(cat idle.out)"
	sleep 0.1
done
expect_api 200 "/status past max_connections idle connections" GET /status --max-time 2
wait "$IDLE" || fail "idle clients: $(cat idle.out)"
assert_eq "closed 5" "$(tail -n 1 idle.out)" "idle connections shut (4 past the limit, 1 for curl)"
grep -q "closed the one waiting longest without a request" daemon.log ||
	fail "no log line for the eviction"
pass "12 idle connections from 4 addresses past max_connections 8: the oldest go, a new client is served"
CONF_MAX_CONN=

# ---- SIGTERM during an upload ----
used() {
	df --output=used -B1 "$WORK/staging" | tail -n 1 | tr -d ' '
}
# upload_in_flight OUT: a slow upload that has begun to fill staging;
# $before is the space in use before it.
upload_in_flight() {
	before=$(used)
	slow_upload v3.tar 5 "$1"
	wait_state receiving
	i=0
	while [ "$(used)" -le "$before" ]; do
		i=$((i + 1))
		[ "$i" -lt 50 ] || fail "the upload takes no space in staging"
		sleep 0.1
	done
}
upload_in_flight term
daemon_stop
assert_eq 0 "$DSTATUS" "exit status after SIGTERM during an upload"
wait "$SLOW" 2>/dev/null || :
assert_eq "" "$(staging_files)" "staging files after SIGTERM"
assert_eq "$before" "$(used)" "staging space in use after SIGTERM"
assert_eq "$V2" "$(staged_sha)" "staged bundle after SIGTERM"
pass "SIGTERM during an upload: exit 0, no staging file, space freed"

# ---- kill -9 during an upload, then a restart ----
# The upload lives in an O_TMPFILE until it verified: the kernel frees
# it with the process. Once beside the staged v2, which must survive,
# once with nothing staged, which must come back idle.
kill9_upload() {
	upload_in_flight kill9
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null || :
	DPID=
	wait "$SLOW" 2>/dev/null || :
	assert_eq "" "$(staging_files)" "staging files after kill -9"
	assert_eq "$before" "$(used)" "staging space in use after kill -9"
	daemon_start
}
daemon_start
kill9_upload
assert_eq staged "$(status_field 'j["state"]')" "state after kill -9 and a restart"
assert_eq "$V2" "$(status_field 'j["bundle"]["sha256"]')" "bundle after kill -9 and a restart"
assert_eq "$V2" "$(staged_sha)" "staged file after kill -9"
cp staging/bundle.tar v2-staged.tar
expect_api 204 "discard v2" DELETE /bundle
kill9_upload
assert_eq idle "$(status_field 'j["state"]')" "state after kill -9 with nothing staged"
assert_eq none "$(staged_sha)" "nothing staged after kill -9"
expect_api 200 "stage v2 again" PUT /bundle -T v2-staged.tar
daemon_stop
pass "kill -9 during an upload: no staging file, space freed; the staged bundle kept, or idle when none was"

# ---- a staged bundle across a restart ----
daemon_start
assert_eq staged "$(status_field 'j["state"]')" "state after a restart"
assert_eq "$V2" "$(status_field 'j["bundle"]["sha256"]')" "bundle after a restart"
daemon_stop
printf 'X' | dd of="$WORK/staging/bundle.tar" bs=1 seek=5000 conv=notrunc 2>/dev/null
daemon_start
assert_eq idle "$(status_field 'j["state"]')" "state with a corrupted staged bundle"
assert_eq none "$(staged_sha)" "a corrupted staged bundle is removed"
pass "restart: a good staged bundle is kept, a corrupted one removed"

# ---- a tiny staging tmpfs: 507 ----
daemon_stop
umount "$WORK/staging"
STAGING_MOUNTED=
mount_staging 2M
CONF_TIMEOUT=3
write_config
daemon_start

# an idle /events stream outlives connection_timeout (3 s): pings
set +e
curl -sS -N --max-time 5 --cacert server.pem -H "Authorization: Bearer $TOKEN" \
	"$BASE/events" >events.txt 2>events.err
rc=$?
set -e
assert_eq 28 "$rc" "curl's exit status: its own --max-time, not a closed stream ($(cat events.err))"
[ "$(grep -c '^: ping' events.txt)" -ge 2 ] ||
	fail "an idle /events stream got no pings: $(cat events.txt)"
pass "an idle /events stream is kept past connection_timeout by pings"
head -c 300000 /dev/urandom >payload.img
make_bundle small.tar 2.5.0
expect_api 200 "stage a small bundle" PUT /bundle -T small.tar
SMALL=$(sha small.tar)
before=$(used)
expect_refused 507 no_space "a bundle larger than the staging tmpfs" -T v3.tar
expect_refused 507 no_space "the same, chunked" -T - -H 'Transfer-Encoding: chunked' <v3.tar
expect_refused 507 no_space "the same, multipart" -F bundle=@v3.tar
assert_eq "$SMALL" "$(staged_sha)" "the small bundle after 507"
assert_eq "$before" "$(used)" "staging space in use after 507"
pass "a full staging tmpfs -> 507 no_space, the staged bundle intact"

daemon_stop
assert_eq 0 "$DSTATUS" "exit status"

# ---- without --foreground: the exit status says it listens ----
expect_ok "start detached" "$DAEMON" -c "$WORK/daemon.conf"
exe=$(readlink -f "$DAEMON")
DPID=
for p in /proc/[0-9]*; do
	[ "$(readlink -f "$p/exe" 2>/dev/null)" = "$exe" ] || continue
	tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$WORK/daemon.conf" || continue
	DPID=${p#/proc/}
done
[ -n "$DPID" ] || fail "no detached sysupgraded running with $WORK/daemon.conf"
expect_api 200 "GET /status of the detached daemon" GET /status
kill -TERM "$DPID"
i=0
while kill -0 "$DPID" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "the detached daemon did not stop on SIGTERM"
	sleep 0.1
done
DPID=
echo "[sysupgraded]" >bad.conf
expect_status 1 "a detached start that fails" "$DAEMON" -c bad.conf
pass "without --foreground: exit 0 once listening, 1 when it cannot start"

# ---- a staging dir that is no tmpfs: the daemon mounts its own ----
mkdir plain
fstype=$(stat -f -c %T plain)
case $fstype in tmpfs|ramfs) fail "$WORK is on $fstype; this check needs a disk directory" ;; esac
CONF_STAGING="dir = $WORK/plain
max_size = 8M" write_config
daemon_start
awk -v d="$WORK/plain" '$5 == d { print $0 }' /proc/self/mountinfo | grep -q ' - tmpfs ' ||
	fail "no tmpfs mounted on $WORK/plain: $(grep -F "$WORK/plain" /proc/self/mountinfo)"
expect_api 200 "upload into the daemon's own tmpfs" PUT /bundle -T v2.tar
daemon_stop
! grep -qF " $WORK/plain " /proc/self/mountinfo ||
	fail "the daemon left its tmpfs mounted on $WORK/plain"
[ -z "$(ls -A plain)" ] || fail "files left in $WORK/plain: $(ls -A plain)"
pass "staging on a disk directory: the daemon mounts a tmpfs there and unmounts it on exit"
