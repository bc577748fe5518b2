#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# integration.daemon-notify: the sd_notify protocol (daemon/notify.c)
# without systemd. A datagram socket of the test's own stands in for
# the service manager's: started with NOTIFY_SOCKET naming it, the
# daemon sends READY=1 only once its HTTPS port answers (the listener
# asks GET /info the moment READY=1 arrives), STATUS= for each state an
# upload goes through, and STOPPING=1 on SIGTERM, after which it exits
# 0. Both address forms: an abstract name ('@...') and a path. A
# NOTIFY_SOCKET where nothing listens costs a warning, not the daemon.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

daemon_init
mount_staging 64M
write_config
make_bundle v2.tar 2.0.0

# listen ADDRESS LOG: a stand-in service manager on ADDRESS, in the
# background (LPID). Each datagram becomes one line of LOG, its
# newlines written as '|'; on READY=1 it first asks /info and writes
# "info-at-ready: 200" (or the failure). It ends after STOPPING=1, or
# after 60 s.
listen() {
	python3 - "$1" "$2" "$BASE/info" "$WORK/server.pem" <<'EOF' &
import socket, ssl, sys, time, urllib.request
addr, log, url, ca = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\0' + addr[1:] if addr.startswith('@') else addr)
s.settimeout(60)
ctx = ssl.create_default_context(cafile=ca)
with open(log + '.tmp', 'w') as out:
    out.write('bound\n')
    out.flush()
    import os
    os.rename(log + '.tmp', log)
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            out.write('timeout\n')
            break
        out.write(msg.replace('\n', '|') + '\n')
        out.flush()
        if 'READY=1' in msg.split('\n'):
            try:
                with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
                    out.write('info-at-ready: %d\n' % r.status)
            except OSError as e:
                out.write('info-at-ready: failed: %s\n' % e)
            out.flush()
        if 'STOPPING=1' in msg.split('\n'):
            break
EOF
	LPID=$!
	D_EXTRA_PIDS="$D_EXTRA_PIDS $LPID"
	_l_i=0
	while [ ! -f "$2" ]; do
		_l_i=$((_l_i + 1))
		[ "$_l_i" -lt 100 ] || fail "the notify listener did not bind $1"
		sleep 0.1
	done
}

# run_notified ADDRESS LOG: the daemon with NOTIFY_SOCKET=ADDRESS, up
# (daemon_start polls /info) and READY=1 received.
run_notified() {
	listen "$1" "$2"
	export NOTIFY_SOCKET="$1"
	daemon_start
	unset NOTIFY_SOCKET
	_rn_i=0
	until grep -q '^info-at-ready:' "$2"; do
		_rn_i=$((_rn_i + 1))
		[ "$_rn_i" -lt 100 ] || fail "no READY=1 within 10 s of /info answering: $(cat "$2")"
		sleep 0.1
	done
}

# stop_notified LOG: SIGTERM; the daemon exits 0 and the listener has
# STOPPING=1 as the last message.
stop_notified() {
	daemon_stop
	assert_eq 0 "$DSTATUS" "exit status after SIGTERM"
	wait "$LPID" || fail "the notify listener failed: $(cat "$1")"
	tail -n 1 "$1" | grep -q '^STOPPING=1|STATUS=stopping$' ||
		fail "the last message is not STOPPING=1: $(cat "$1")"
}

# ---- an abstract socket: READY, the states of an upload, STOPPING ----
run_notified "@su-notify-test-$$" notify.log
assert_eq 1 "$(grep -c 'READY=1' notify.log)" "READY=1 messages"
grep -qx 'info-at-ready: 200' notify.log ||
	fail "/info did not answer when READY=1 arrived: $(cat notify.log)"
grep -qx 'READY=1|STATUS=idle' notify.log ||
	fail "READY=1 without STATUS=idle: $(cat notify.log)"
pass "abstract NOTIFY_SOCKET: READY=1 once, when /info already answers"

expect_api 200 "upload v2" POST /bundle --data-binary @v2.tar
for s in receiving verifying staged; do
	grep -qx "STATUS=$s" notify.log || fail "no STATUS=$s: $(cat notify.log)"
done
expect_api 204 "discard v2" DELETE /bundle
grep -qx 'STATUS=idle' notify.log || fail "no STATUS=idle after DELETE: $(cat notify.log)"
# a refused upload: the failure's reason on one line
head -c 4096 /dev/urandom >junk.tar
expect_api 400 "upload junk" POST /bundle --data-binary @junk.tar
pass "STATUS= follows an upload: receiving, verifying, staged, idle"

stop_notified notify.log
pass "SIGTERM: STOPPING=1 last, then exit 0"

# ---- a path socket ----
run_notified "$WORK/notify.sock" notify-path.log
grep -qx 'info-at-ready: 200' notify-path.log ||
	fail "path NOTIFY_SOCKET: /info did not answer at READY=1: $(cat notify-path.log)"
stop_notified notify-path.log
pass "path NOTIFY_SOCKET: READY=1 when /info answers, STOPPING=1 on SIGTERM"

# ---- nobody listening ----
: >daemon.log
NOTIFY_SOCKET="$WORK/nobody.sock"
export NOTIFY_SOCKET
daemon_start
unset NOTIFY_SOCKET
grep -q "sd_notify to $WORK/nobody.sock: " daemon.log ||
	fail "no warning for a NOTIFY_SOCKET without a listener: $(cat daemon.log)"
daemon_stop
assert_eq 0 "$DSTATUS" "exit status without a listener"
pass "a NOTIFY_SOCKET without a listener: a warning, and the daemon serves"
