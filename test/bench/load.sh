#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: sysupgraded under load (issue 11). One 256 MiB bundle is
# uploaded over HTTPS: alone (median of 7), then back to back for
# SECONDS beside 100 /status pollers (1 request/s each, keep-alive) and
# 20 /events readers, then once beside 200 idle and slowloris
# connections from 8 loopback addresses (127.0.0.2-9). Reports the
# upload times and their ratio, the pollers' and readers' errors, and
# the daemon's memory after each phase (test/bench/load.py). Runs the
# daemon with max_connections = MAXCONN (default 256: the default 32
# would evict idle keep-alive pollers, and its per-address limit of 15
# would refuse 100 of them from 127.0.0.1) and the default
# connection_timeout. Needs root (it mounts a tmpfs).
# Not a pass/fail test.
# LOAD_NICE=N: the pollers and readers at nice N; LOAD_CPU=N: on CPU N
# only (see load.py).
#   [MAXCONN=N] [LOAD_NICE=N] [LOAD_CPU=N] test/bench/load.sh BUILD_DIR [MiB] [SECONDS]
set -eu
build=$(cd "$1" && pwd)
mib=${2:-256}
secs=${3:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
export SU_TEST_SRC="$top/test" SU_BUNDLE_TOOL=/bin/true
export SU_DAEMON="$build/daemon/sysupgraded"
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

daemon_init
mount_staging $((mib * 3 + 64))M
CONF_STAGING="max_size = $((mib + 16))M"
write_config
# connection_timeout: the default, not the test helpers' value
sed -i "s/^max_connections = .*/max_connections = ${MAXCONN:-256}/
	/^connection_timeout = /d" daemon.conf
daemon_start

head -c $((mib * 1048576)) /dev/urandom >payload.img
make_bundle staging/client.tar 2.0.0
rm payload.img
python3 "$top/test/bench/load.py" "$PORT" "$TOKEN" "$WORK/server.pem" \
	"$WORK/staging/client.tar" "$DPID" "$secs" 8
