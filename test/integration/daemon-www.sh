#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The web UI's files as the daemon serves them: www/ of the source tree
# with their MIME types, an ETag and no-cache (304 for a current copy),
# a Content-Security-Policy that forbids inline script, and pages that
# hold none; HEAD; a missing file is "no such file in the web UI", not
# an API path. Without www (or without index.html), "/" says the web UI
# is not installed: a page to a browser, JSON to anything else.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

WWW=$SU_TEST_SRC/../www
[ -f "$WWW/index.html" ] || fail "no www/index.html in the source tree"
daemon_init
mount_staging 8M
CONF_SERVER="www = $WWW"
write_config
daemon_start
root=https://127.0.0.1:$PORT

# get PATH [CURL OPTIONS...]: body in ./body, headers in ./headers
get() {
	_g_path=$1
	shift
	curl -sS -o body -D headers -w '%{http_code}' --max-time 5 \
		--cacert server.pem "$@" "$root$_g_path"
}

header() {
	sed -n "s/^$1: *//Ip" headers | tr -d '\r' | head -n 1
}

for f in /:text/html /index.html:text/html /app.js:text/javascript \
	 /style.css:text/css /favicon.svg:image/svg+xml; do
	path=${f%%:*}
	type=${f#*:}
	assert_eq 200 "$(get "$path")" "GET $path"
	case $(header content-type) in
	"$type"*) ;;
	*) fail "GET $path: Content-Type $(header content-type), not $type" ;;
	esac
	assert_eq no-cache "$(header cache-control)" "GET $path: Cache-Control"
	assert_eq nosniff "$(header x-content-type-options)" "GET $path: X-Content-Type-Options"
	csp=$(header content-security-policy)
	case $csp in
	*"script-src 'self'"*) ;;
	*) fail "GET $path: CSP without script-src 'self': $csp" ;;
	esac
	case $csp in
	*unsafe-inline*|*unsafe-eval*) fail "GET $path: the CSP allows inline script: $csp" ;;
	esac
	case $csp in
	*"frame-ancestors 'none'"*) ;;
	*) fail "GET $path: the CSP allows framing: $csp" ;;
	esac
	etag=$(header etag)
	[ -n "$etag" ] || fail "GET $path: no ETag"
	rm -f body
	assert_eq 304 "$(get "$path" -H "If-None-Match: $etag")" "GET $path with its ETag"
	[ ! -s body ] || fail "304 with a body"
	assert_eq 200 "$(get "$path" -H 'If-None-Match: "other"')" "GET $path with another ETag"
done
pass "www: MIME types, no-cache, ETag and 304, CSP with script-src 'self' and no unsafe-inline"

# the page's files over one kept-alive connection, as a browser loads them
got=$(curl -sS --cacert server.pem -o /dev/null -o /dev/null -o /dev/null \
	-w '%{http_code}:%{num_connects} ' "$root/" "$root/app.js" "$root/style.css")
assert_eq "200:1 200:0 200:0 " "$got" "/, app.js and style.css on one connection"
pass "www: keep-alive, the page's files on one connection"

# the pages hold no inline script or style and no event handler
# attributes: the CSP would block them
python3 - "$WWW"/*.html <<'EOP' || fail "inline script in the web UI"
import html.parser, sys
class P(html.parser.HTMLParser):
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and "src" not in a:
            sys.exit("%s: an inline <script>" % f)
        if tag == "style":
            sys.exit("%s: an inline <style>" % f)
        for k in a:
            if k.startswith("on") or k == "style":
                sys.exit("%s: <%s %s=...>" % (f, tag, k))
        if tag == "a" and (a.get("href") or "").startswith("javascript:"):
            sys.exit("%s: a javascript: link" % f)
for f in sys.argv[1:]:
    P().feed(open(f).read())
EOP
pass "www: no inline script, style or handler in the pages"

assert_eq 200 "$(curl -sS -o /dev/null -w '%{http_code}' -I --cacert server.pem "$root/app.js")" "HEAD /app.js"
assert_eq 404 "$(get /missing.js)" "GET /missing.js"
assert_error not_found "GET /missing.js"
assert_eq "no such file in the web UI: /missing.js" "$(json 'j["message"]')" "GET /missing.js: message"
pass "www: HEAD; a missing file is 404 not_found 'no such file in the web UI'"

# ---- no web UI ----
daemon_stop
mkdir empty
CONF_SERVER="www = $WORK/empty"
write_config
daemon_start
assert_eq 404 "$(get /)" "GET / without index.html"
assert_error not_installed "GET / without index.html (JSON)"
case $(json 'j["message"]') in
"the web UI is not installed: $WORK/empty/index.html: No such file or directory; the HTTP API is at /api/v1"*) ;;
*) fail "GET / without index.html: $(cat body)" ;;
esac
assert_eq 404 "$(get / -H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8')" "GET / from a browser"
grep -qi '^content-type: text/html' headers || fail "not installed, to a browser: $(cat headers)"
grep -q '<h1>The web UI is not installed</h1>' body || fail "not installed page: $(cat body)"
grep -q "$WORK/empty/index.html" body || fail "the page does not name the file: $(cat body)"
grep -q '/api/v1/info' body || fail "the page does not point at the API: $(cat body)"
grep -qi "^content-security-policy: default-src 'none'" headers || fail "not installed page without CSP: $(cat headers)"
daemon_stop
CONF_SERVER="www = $WORK/no-such-dir"
write_config
daemon_start
assert_eq 404 "$(get /)" "GET / without the www directory"
assert_error not_installed "GET / without the www directory"
json 'j["message"]' | grep -qF "$WORK/no-such-dir/index.html: No such file or directory" ||
	fail "GET / without the www directory: $(cat body)"
assert_eq 404 "$(get /app.js)" "GET /app.js without the www directory"
assert_error not_found "GET /app.js without the www directory"
pass "no web UI: / answers 404 not_installed (a page to a browser, JSON otherwise), naming the file"

daemon_stop
assert_eq 0 "$DSTATUS" "exit status"

# ---- cmake --install puts www where [server] www looks by default ----
need cmake diff
build=${SU_BUILD_DIR:-$(cd "$(dirname "$SU_DAEMON")/.." && pwd)}
DESTDIR=$WORK/inst cmake --install "$build" --prefix /usr >install.out 2>&1 ||
	fail "cmake --install: $(cat install.out)"
diff -r "$WWW" "$WORK/inst/usr/share/sysupgraded/www" ||
	fail "cmake --install did not put www/ in /usr/share/sysupgraded/www"
pass "cmake --install: www/ in share/sysupgraded/www, the default of [server] www"
