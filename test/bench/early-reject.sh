#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: how much of a 512 MiB bundle with a bad signature curl
# sends (curl -T over HTTPS on loopback, no Expect: 100-continue) before
# sysupgraded's early 400 bad_signature stops it, over RUNS uploads; and
# how much of it the daemon had received (its log line "upload refused
# after N bytes"). The rest was in the kernel's socket buffers, mostly
# curl's own send buffer. Needs root (it mounts a tmpfs). Not a
# pass/fail test: integration.daemon-api asserts the bound. With "http",
# over the plain-HTTP listener (http_listen) instead.
#   test/bench/early-reject.sh BUILD_DIR [RUNS] [http]
set -eu
build=$(cd "$1" && pwd)
runs=${2:-12}
scheme=${3:-https}
top=$(cd "$(dirname "$0")/../.." && pwd)
export SU_TEST_SRC="$top/test" SU_BUNDLE_TOOL=/bin/true
export SU_DAEMON="$build/daemon/sysupgraded"
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

daemon_init
mount_staging 64M
CONF_STAGING="max_size = 1G"
url=$BASE/bundle
if [ "$scheme" = http ]; then
	HTTP_PORT=$(free_port)
	CONF_SERVER="http_listen = 127.0.0.1:$HTTP_PORT
http_token = yes"
	url=http://127.0.0.1:$HTTP_PORT/api/v1/bundle
fi
write_config
daemon_start
make_big_bad big.tar 512
sent=
for _i in $(seq 1 "$runs"); do
	curl -sS -o body -w '%{http_code} %{size_upload}' --max-time 60 \
		--cacert server.pem -H "Authorization: Bearer $TOKEN" -T big.tar \
		"$url" >result 2>curl.err || :
	set -- $(cat result)
	[ "$1" = 400 ] || { echo "bench: run $_i: HTTP $(cat result) $(cat curl.err)" >&2; exit 1; }
	sent="$sent $2"
done
read_=$(sed -n 's/.*upload refused after \([0-9]*\) bytes.*/\1/p' daemon.log | tr '\n' ' ')
python3 - "$sent" "$read_" <<'EOP'
import statistics, sys
for what, v in (("curl sent", sys.argv[1]), ("daemon read", sys.argv[2])):
	v = sorted(int(x) for x in v.split())
	print("%s (MB): %s" % (what, " ".join("%.2f" % (x / 1e6) for x in v)))
	print("%s: %d runs, median %.2f MB, max %.2f MB (%.2f MiB)"
	      % (what, len(v), statistics.median(v) / 1e6, v[-1] / 1e6, v[-1] / 1048576))
EOP
daemon_stop
