#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Authorization of sysupgraded: bearer tokens (none, wrong, right), TLS
# client certificates (from the configured CA, from a stranger CA),
# the throttle on repeated failures (429 + Retry-After), info_public,
# and SIGHUP reloading tokens and trusted keys.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

daemon_init
mount_staging 16M
write_config
daemon_start

# unauthorized WHAT [CURL OPTIONS...]: GET /status gets 401 + JSON.
unauthorized() {
	_u_what=$1
	shift
	NOAUTH=1 expect_api 401 "$_u_what" GET /status "$@"
	assert_error unauthorized "$_u_what"
	grep -qi '^www-authenticate: Bearer realm="sysupgraded"' headers ||
		fail "$_u_what: no WWW-Authenticate: $(cat headers)"
	pass "$_u_what -> 401 unauthorized"
}

# TLS 1.2 and 1.3 only: a TLS 1.1 client gets no session. gnutls-cli,
# because Debian's OpenSSL will not speak TLS 1.1 at all.
need gnutls-cli
tls_client() {	# VERSION: a handshake offering only that version
	timeout 10 gnutls-cli --insecure -p "$PORT" \
		--priority "NORMAL:-VERS-ALL:+VERS-$1" 127.0.0.1 </dev/null >tls.out 2>&1
}
tls_client TLS1.2 || fail "a TLS 1.2 handshake failed: $(tail -n 5 tls.out)"
grep -q 'Handshake was completed' tls.out || fail "TLS 1.2: $(cat tls.out)"
# the same command with TLS 1.1 and 1.0: connected, then refused in the
# handshake with a protocol_version alert (70), which the log names
for v in TLS1.1 TLS1.0; do
	set +e
	tls_client $v
	rc=$?
	set -e
	[ "$rc" != 0 ] && [ "$rc" != 124 ] ||
		fail "$v: exit $rc (succeeded or hung): $(cat tls.out)"
	grep -q "^Connecting to '127.0.0.1:$PORT'" tls.out &&
		! grep -qiE 'could not connect|connection refused' tls.out ||
		fail "$v: not refused in the handshake: $(cat tls.out)"
	grep -q '^\*\*\* Received alert \[70\]' tls.out && ! grep -q 'Handshake was completed' tls.out ||
		fail "$v: no protocol_version alert: $(cat tls.out)"
done
sleep 0.2
[ "$(grep -c 'tls: refused a ClientHello offering at most version 0x030[12] .*sent protocol_version' daemon.log)" = 2 ] ||
	fail "the daemon logged no refusal for each: $(tail -n 5 daemon.log)"
pass "TLS 1.2 accepted, TLS 1.1 and 1.0 refused with a protocol_version alert"

expect_api 200 "the right token" GET /status
pass "the right token -> 200"
NOAUTH=1 expect_api 200 "a client certificate from the CA" GET /status \
	--cert client.pem --key client.key
pass "a client certificate from client_ca -> 200"

unauthorized "no token"
unauthorized "a wrong token" -H "Authorization: Bearer x$TOKEN"
unauthorized "a client certificate from another CA" \
	--cert bad-client.pem --key bad-client.key
unauthorized "a Basic authorization" -u "admin:$TOKEN"
NOAUTH=1 expect_api 200 "GET /info without a token" GET /info
# each 401 is logged with the address and the reason, never the token
for why in 'no Authorization header' 'the bearer token matches no token_sha256' \
	   'the client certificate does not verify against client_ca' \
	   'the Authorization header is not a Bearer token'; do
	grep -q "401 GET /api/v1/status from 127.0.0.1: $why" daemon.log ||
		fail "no 401 log line with '$why': $(grep ' 401 ' daemon.log)"
done
! grep -qF "$TOKEN" daemon.log || fail "the token is in the daemon log"
pass "each 401 logged with address and reason, the token never"

# ---- SIGHUP: new tokens and keys ----
OLD_TOKEN=$TOKEN
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN_SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
write_config
mkdir keys.new
cp other.pub.pem keys.new/
mv keys keys.old
mv keys.new keys
kill -HUP "$DPID"
i=0
while [ "$(NOAUTH=1 api GET /status -H "Authorization: Bearer $TOKEN")" != 200 ]; do
	i=$((i + 1))
	[ "$i" -lt 30 ] || fail "the new token is not accepted after SIGHUP"
	sleep 0.1
done
pass "SIGHUP: the new token is accepted"
make_bundle by-signing.tar 2.0.0 signing.pem
make_bundle by-other.tar 2.0.0 other.pem
expect_api 400 "a bundle by the key removed on SIGHUP" PUT /bundle -T by-signing.tar
assert_error bad_signature "a bundle by the key removed on SIGHUP"
expect_api 200 "a bundle by the key added on SIGHUP" PUT /bundle -T by-other.tar
pass "SIGHUP: the keys directory is read again"
unauthorized "the old token after SIGHUP" -H "Authorization: Bearer $OLD_TOKEN"

# ---- the throttle: 5 failures in a minute ----
for i in 2 3 4 5; do
	NOAUTH=1 expect_api 401 "failure $i" GET /status
done
expect_api 429 "the right token after 5 failures" GET /status
assert_error unauthorized "throttled"
retry=$(sed -n 's/^[Rr]etry-[Aa]fter: *\([0-9]*\).*/\1/p' headers)
[ -n "$retry" ] && [ "$retry" -gt 0 ] && [ "$retry" -le 60 ] ||
	fail "429 without a sane Retry-After: $(cat headers)"
NOAUTH=1 expect_api 200 "GET /info while throttled" GET /info
pass "5 failures within 60 s -> 429 with Retry-After $retry"

# ---- info_public = no ----
daemon_stop
mkdir -p www/js
echo '<!doctype html><title>sysupgraded</title>' >www/index.html
echo 'console.log("ui");' >www/js/app.js
echo secret >www/.hidden
echo secret >outside.txt
ln -s ../outside.txt www/link.txt
CONF_SERVER="info_public = no
www = $WORK/www"
write_config
daemon_start_closed() {
	"$DAEMON" -c "$WORK/daemon.conf" --foreground -v >>"$WORK/daemon.log" 2>&1 &
	DPID=$!
	i=0
	while [ "$(api GET /info --max-time 2)" != 200 ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "sysupgraded did not answer within 10 s"
		sleep 0.1
	done
}
daemon_start_closed
NOAUTH=1 expect_api 401 "GET /info with info_public = no" GET /info
assert_error unauthorized "GET /info with info_public = no"
expect_api 200 "GET /info with a token" GET /info
pass "info_public = no: GET /info needs authorization"

# ---- the web UI's files: public, plain names only, beneath www ----
root=https://127.0.0.1:$PORT
get() {
	curl -sS -o body -D headers -w '%{http_code}' --path-as-is --max-time 5 \
		--cacert server.pem "$root$1"
}
assert_eq 200 "$(get /)" "GET /"
grep -q '<title>sysupgraded</title>' body || fail "GET /: $(cat body)"
grep -qi '^content-type: text/html' headers || fail "GET /: $(cat headers)"
assert_eq 200 "$(get /js/app.js)" "GET /js/app.js"
grep -qi '^content-type: text/javascript' headers || fail "app.js: $(cat headers)"
for bad in /.hidden /link.txt /../outside.txt /js/../index.html /missing.html \
	   /js/ //etc/passwd /%2e%2e/outside.txt; do
	assert_eq 404 "$(get "$bad")" "GET $bad"
	grep -q secret body && fail "GET $bad leaked a file"
done
pass "www: index.html and js/app.js served; dotfiles, symlinks, .. refused"

daemon_stop
assert_eq 0 "$DSTATUS" "exit status"
