# SPDX-License-Identifier: GPL-2.0-or-later
# The web tests' harness (sourced after integration/lib.sh and
# daemon-lib.sh, or ns/lib.sh; never run): the browser side is a node
# script (test/web/*.js, on test/web/harness.js) that drives Debian's
# chromium, headless, through playwright-core, against the daemon over
# HTTPS. This side starts it and answers its pauses: the script writes
# $WEB_SYNC/NAME.wait when it needs the device to do something (reboot,
# come back), and goes on once $WEB_SYNC/NAME.go exists.
#   SU_WEB_NODE_MODULES  node_modules holding playwright-core
#                        (contrib/deps.sh test puts it in .deps/web)
#   SU_WEB_SHOTS         directory for the screenshots (PNG), one
#                        subdirectory per test
#   SU_CHROMIUM          the browser (default /usr/bin/chromium)

WEB_PID=

# web_init NAME: the tools (a missing one fails the test), the
# screenshot directory $WEB_SHOTS (emptied), $WEB_SYNC.
web_init() {
	: "${SU_WEB_NODE_MODULES:?SU_WEB_NODE_MODULES must name the node_modules with playwright-core}"
	: "${SU_WEB_SHOTS:?SU_WEB_SHOTS must name the screenshot directory}"
	need node
	WEB_CHROMIUM=${SU_CHROMIUM:-/usr/bin/chromium}
	[ -x "$WEB_CHROMIUM" ] ||
		fail "$WEB_CHROMIUM is not installed but the web tests need it (contrib/deps.sh test installs Debian's chromium)"
	[ -f "$SU_WEB_NODE_MODULES/playwright-core/package.json" ] ||
		fail "playwright-core is not installed in $SU_WEB_NODE_MODULES (contrib/deps.sh test installs it)"
	WEB_SHOTS=$SU_WEB_SHOTS/$1
	rm -rf "$WEB_SHOTS"
	mkdir -p "$WEB_SHOTS"
	WEB_SYNC=$WORK/web-sync
	mkdir -p "$WEB_SYNC"
}

# web_start SCRIPT [NAME=VALUE...]: run test/web/SCRIPT in the
# background with the harness's environment and the given variables;
# its output goes to $WORK/web.log (and is shown when it fails).
web_start() {
	local script=$1
	shift
	env "$@" NODE_PATH="$SU_WEB_NODE_MODULES" WEB_CHROMIUM="$WEB_CHROMIUM" \
		WEB_SHOTS="$WEB_SHOTS" WEB_SYNC="$WEB_SYNC" WEB_TOKEN="$TOKEN" \
		WEB_URL="https://127.0.0.1:$PORT" \
		node "$SU_TEST_SRC/web/$script" >"$WORK/web.log" 2>&1 &
	WEB_PID=$!
	D_EXTRA_PIDS="$D_EXTRA_PIDS $WEB_PID"
}

# web_wait NAME [SECONDS]: until the script pauses at NAME (default
# 120 s); fails when it ends first.
web_wait() {
	local i=0 limit=$((${2:-120} * 10))
	while [ ! -e "$WEB_SYNC/$1.wait" ]; do
		if ! kill -0 "$WEB_PID" 2>/dev/null; then
			web_finish
			fail "the browser script ended before it reached '$1'"
		fi
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || fail "the browser script did not reach '$1' within $((limit / 10)) s: $(tail -n 20 "$WORK/web.log")"
		sleep 0.1
	done
}

# web_go NAME: let the script go on after NAME.
web_go() {
	: >"$WEB_SYNC/$1.go"
}

# web_finish: wait for the script; fail with its log unless it passed.
# Its "ok:" lines are the test's.
web_finish() {
	local rc=0
	[ -n "$WEB_PID" ] || return 0
	wait "$WEB_PID" || rc=$?
	WEB_PID=
	grep '^ok: ' "$WORK/web.log" || :
	[ "$rc" = 0 ] || fail "the browser script failed ($rc):
$(cat "$WORK/web.log")"
}
