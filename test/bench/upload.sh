#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: upload plus verify of a one-payload bundle over HTTPS to
# sysupgraded (PUT /api/v1/bundle: verified as it streams, staged in a
# tmpfs), against the same curl upload to nginx (HTTPS, WebDAV PUT whose
# request body nginx writes to a file on the same tmpfs), in the same
# run. RUNS interleaved rounds (daemon, nginx), medians and their
# ratio; also the daemon's RSS, PSS and private dirty from
# /proc/PID/smaps_rollup, idle and peak (sampled every 10 ms during its
# uploads), and the stripped size of the binary. Needs root (it
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

# curl's time_total in ms, after checking the status
ms() {
	_c=$(cut -d' ' -f1 t)
	case $_c in 200|201|204) ;; *) echo "bench: HTTP $_c from $1" >&2; exit 1 ;; esac
	python3 -c "print(int(float(open('t').read().split()[1]) * 1000))"
}
# CPU time (user + system, ms) of a process, its ended threads included:
# the daemon's per upload, whatever else loads the machine
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"
}
# smaps_rollup fields in kB: Rss Pss Private_Dirty
rollup() {
	awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_Dirty:/ {d=$2} END {print r, p, d}' "/proc/$1/smaps_rollup"
}
# "$@" run, its CPU time (user + system, ms) appended to the file $1:
# curl's, for the two-core arithmetic in RESULTS.md
cpu_of() {
	python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "a").write("%d\n" % ((r.ru_utime + r.ru_stime) * 1000))' "$@"
}
to_daemon() {
	cpu_of dc.cpu curl -sS -o /dev/null -w '%{http_code} %{time_total}' --cacert server.pem \
		-H "Authorization: Bearer $TOKEN" -T "$bundle" "$BASE/bundle" >t
}
to_nginx() {
	cpu_of nc.cpu curl -sS -o /dev/null -w '%{http_code} %{time_total}' --cacert server.pem \
		-T "$bundle" "https://127.0.0.1:$NPORT/up/b.tar" >t
}
# smaps_rollup of a server every 10 ms while it receives, for both
# sides alike (the sampler's CPU is in both rounds): peak RSS, PSS,
# private dirty in kB
sample() {
	python3 - "$1" >>"$2" <<'EOP' &
import os, sys, time
pid = sys.argv[1]
peak = [0, 0, 0]
want = ("Rss:", "Pss:", "Private_Dirty:")
while not os.path.exists("stop.mem"):
    with open("/proc/%s/smaps_rollup" % pid) as f:
        got = {l.split()[0]: int(l.split()[1]) for l in f if l.split()[0] in want}
    peak = [max(peak[i], got[k]) for i, k in enumerate(want)]
    time.sleep(0.01)
print(*peak)
EOP
	_w=$!
}
sampled() {
	: >stop.mem; wait "$_w"; rm stop.mem
}
NWORKER=$(pgrep -P "$NGINX_PID" | head -n 1)
idle_mem=$(rollup "$DPID")
: >d.ms; : >n.ms; : >peak.mem; : >npeak.mem; : >d.cpu; : >n.cpu; : >dc.cpu; : >nc.cpu
for _i in $(seq 1 "$runs"); do
	# both start with nothing stored: nginx's file is removed before its
	# round, the staged bundle before the daemon's (untimed, both)
	curl -sS -o /dev/null --cacert server.pem -H "Authorization: Bearer $TOKEN" \
		-X DELETE "$BASE/bundle"
	sample "$DPID" peak.mem
	_c0=$(cpu_ms "$DPID")
	to_daemon; ms to_daemon >>d.ms
	echo $(($(cpu_ms "$DPID") - _c0)) >>d.cpu
	sampled
	rm -f staging/nginx-root/up/b.tar
	sample "$NWORKER" npeak.mem
	_c0=$(cpu_ms "$NWORKER")
	to_nginx; ms to_nginx >>n.ms
	echo $(($(cpu_ms "$NWORKER") - _c0)) >>n.cpu
	sampled
	rm -f staging/nginx-root/up/b.tar	# room for the next rounds
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
d_ms=$(med d.ms)
n_ms=$(med n.ms)
peak() { awk '{for (i=1;i<=3;i++) if ($i>m[i]) m[i]=$i} END {print m[1], m[2], m[3]}' "$1"; }
peak_mem=$(peak peak.mem)
npeak_mem=$(peak npeak.mem)
echo "rounds (ms): sysupgraded $(tr '\n' ' ' <d.ms)| nginx $(tr '\n' ' ' <n.ms)"
echo "CPU per upload (ms, user+sys): sysupgraded $(tr '\n' ' ' <d.cpu)median $(med d.cpu) | nginx worker $(tr '\n' ' ' <n.cpu)median $(med n.cpu)"
echo "curl's CPU per upload (ms): to sysupgraded median $(med dc.cpu) | to nginx median $(med nc.cpu)"
cp "$SU_DAEMON" stripped
strip stripped
size=$(stat -c %s stripped)
proto=$(curl -sS -o /dev/null -w '%{ssl_verify_result}' --cacert server.pem "$BASE/info" >/dev/null; \
	curl -sSv -o /dev/null --cacert server.pem "$BASE/info" 2>&1 | sed -n 's/^\* SSL connection using \(.*\)/\1/p')
python3 - "$mib" "$d_ms" "$n_ms" "$size" "$proto" "$idle_mem" "$peak_mem" "$runs" "$npeak_mem" <<'EOP'
import sys
mib, d, n, size = map(int, sys.argv[1:5])
idle, peak = [[int(x) / 1024 for x in a.split()] for a in sys.argv[6:8]]
npeak = [int(x) / 1024 for x in sys.argv[9].split()]
print("upload+verify %d MiB, median of %s interleaved rounds: sysupgraded %d ms (%.0f MiB/s), nginx %d ms (%.0f MiB/s), ratio %.2f"
      % (mib, sys.argv[8], d, mib * 1000 / d, n, mib * 1000 / n, d / n))
print("sysupgraded MiB (smaps_rollup) idle: RSS %.2f PSS %.2f private dirty %.2f; peak while receiving: RSS %.2f PSS %.2f private dirty %.2f"
      % (*idle, *peak))
print("nginx worker MiB (smaps_rollup) peak while receiving: RSS %.2f PSS %.2f private dirty %.2f" % tuple(npeak))
print("stripped binary %d KiB; TLS: %s" % (size // 1024, sys.argv[5]))
EOP
