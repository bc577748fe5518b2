#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: upload plus verify of a one-payload bundle over HTTPS to
# sysupgraded (PUT /api/v1/bundle: verified as it streams, staged in a
# tmpfs), against the same curl upload to nginx (HTTPS, WebDAV PUT whose
# request body nginx writes to a file on the same tmpfs), in the same
# run. Best of N; also the daemon's idle RSS, its peak RSS over the
# uploads (VmHWM) and the stripped size of the binary. Needs root (it
# mounts a tmpfs) and nginx with the dav module (Debian's nginx).
# Not a pass/fail test.
#   test/bench/upload.sh BUILD_DIR [MiB] [RUNS]
set -eu
build=$(cd "$1" && pwd)
mib=${2:-256}
runs=${3:-5}
top=$(cd "$(dirname "$0")/../.." && pwd)
export SU_TEST_SRC="$top/test" SU_BUNDLE_TOOL=/bin/true
export SU_DAEMON="$build/daemon/sysupgraded"
command -v nginx >/dev/null || { echo "bench: needs nginx (apt-get install nginx)" >&2; exit 1; }
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

NGINX_PID=
daemon_init
trap 'bench_cleanup' EXIT
bench_cleanup() {
	[ -z "$NGINX_PID" ] || { kill "$NGINX_PID"; wait "$NGINX_PID" || :; }
	[ ! -s "$WORK/nginx/error.log" ] || tail -n 5 "$WORK/nginx/error.log" >&2
	daemon_cleanup
}
mount_staging $((mib * 3 + 64))M
CONF_STAGING="max_size = $((mib + 16))M"
write_config
daemon_start
idle_rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DPID/status")

# the bundle (read by curl from the tmpfs too, so no disk in the way)
head -c $((mib * 1048576)) /dev/urandom >payload.img
make_bundle staging/client.tar 2.0.0
rm payload.img
bundle=$WORK/staging/client.tar

NPORT=$(free_port)
mkdir -p staging/nginx-root/up staging/nginx-tmp nginx
cat >nginx/nginx.conf <<EON
user root root;
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $WORK/staging/nginx-tmp;
	server {
		listen 127.0.0.1:$NPORT ssl;
		ssl_certificate $WORK/server.pem;
		ssl_certificate_key $WORK/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		root $WORK/staging/nginx-root;
		client_max_body_size 4g;
		location /up/ { dav_methods PUT; }
	}
}
EON
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
sleep 0.5

# best of RUNS: curl's time_total in ms
best() {
	_b=
	for _i in $(seq 1 "$runs"); do
		"$@"
		_t=$(python3 -c "print(int(float(open('t').read().split()[1]) * 1000))")
		_c=$(cut -d' ' -f1 t)
		case $_c in 200|201|204) ;; *) echo "bench: HTTP $_c from $*" >&2; exit 1 ;; esac
		[ -z "$_b" ] || [ "$_t" -lt "$_b" ] && _b=$_t
	done
	echo "$_b"
}
to_daemon() {
	curl -sS -o /dev/null -w '%{http_code} %{time_total}' --cacert server.pem \
		-H "Authorization: Bearer $TOKEN" -T "$bundle" "$BASE/bundle" >t
}
to_nginx() {
	rm -f staging/nginx-root/up/b.tar
	curl -sS -o /dev/null -w '%{http_code} %{time_total}' --cacert server.pem \
		-T "$bundle" "https://127.0.0.1:$NPORT/up/b.tar" >t
}
d_ms=$(best to_daemon)
n_ms=$(best to_nginx)
peak_rss=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DPID/status")
cp "$SU_DAEMON" stripped
strip stripped
size=$(stat -c %s stripped)
proto=$(curl -sS -o /dev/null -w '%{ssl_verify_result}' --cacert server.pem "$BASE/info" >/dev/null; \
	curl -sSv -o /dev/null --cacert server.pem "$BASE/info" 2>&1 | sed -n 's/^\* SSL connection using \(.*\)/\1/p')
python3 - "$mib" "$d_ms" "$n_ms" "$idle_rss" "$peak_rss" "$size" "$proto" <<'EOP'
import sys
mib, d, n, idle, peak, size = map(int, sys.argv[1:7])
print("upload+verify %d MiB: sysupgraded %d ms (%.0f MiB/s), nginx %d ms (%.0f MiB/s), ratio %.2f"
      % (mib, d, mib * 1000 / d, n, mib * 1000 / n, d / n))
print("sysupgraded RSS: idle %.1f MiB, peak %.1f MiB; stripped binary %d KiB; TLS: %s"
      % (idle / 1024, peak / 1024, size // 1024, sys.argv[7]))
EOP
