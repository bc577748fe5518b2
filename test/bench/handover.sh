#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: the in-place upgrade's downtime and RAM, in the namespace
# rig (test/ns/lib.sh; the flow of test/ns/inplace.sh), RUNS times for
# each MODE, against a peer in the same run. Not a pass/fail test; it
# fails only when an upgrade does not happen. Needs root, as ns.inplace.
#   test/bench/handover.sh BUILD_DIR [RUNS] [MODES]
# BENCH_KEEP=DIR keeps the console logs and the figures there.
# BENCH_COMPRESSION=zstd (default; as the rig's bundles), gzip, xz or
# none: the v2 bundle's payload (the peer's image is always gzip).
# MODES (default "busybox s6 peer"):
#   busybox  sysupgraded, busybox init as PID 1 (::restart: + SIGQUIT)
#   s6       sysupgraded, s6-svscan as PID 1 (finish route)
#   peer     the same upgrade done the way OpenWrt's sysupgrade does it
#            with its shell stage 2, under the same busybox init: stop
#            the services (the same stop command), a ramfs root with a
#            static busybox and the image moved in, SIGQUIT to PID 1,
#            whose ::restart: runs a busybox sh script from the ramfs:
#            pivot_root, kill what is left, unmount the old root, then
#            `gunzip -c image.gz | dd of=DEV bs=4096 conv=fsync`
#            (OpenWrt x86's platform_do_upgrade). It verifies nothing
#            in stage 2, keeps no files, serves nothing.
# Figures, per run and as medians:
#   downtime  POST /install (peer: its stage 1 starts) to the first bytes
#             handed to the writer in stage 2 ("stage 2: first bytes
#             written", logged by the install engine's first progress
#             report; peer: the line before dd starts); stop = what the
#             service-stop command took (daemon's "stop_command took");
#             trigger = to the signal to PID 1 (stage 1 done), pid1 =
#             to stage 2 running from the ramfs (busybox init's poll of
#             up to 1 s, its TERM, 1 s sleep and KILL), serve = to stage 2
#             serving again (re-exec, pivot, kill, unmount, the staged
#             bundle verified again), end = to the reboot.
#   RAM       ramfs = bytes the files in the ramfs root take, without the
#             staged bundle (st_blocks, through /proc/PID/root, while
#             stage 2 writes); tmpfs = the staging tmpfs's used bytes
#             minus the bundle; closure_bytes as stage 1 planned it;
#             anon = peak RssAnon of stage 2 (PID 1, plus children it
#             started, sampled every 10 ms from the host); hwm = PID 1's
#             VmHWM at its last sample; total = tmpfs + anon.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [RUNS] [MODES]" >&2; exit 2; }
build=$(cd "$1" && pwd)
runs=${2:-5}
modes=${3:-busybox s6 peer}
top=$(cd "$(dirname "$0")/../.." && pwd)
bench=$top/test/bench
export SU_TEST_SRC=$top/test SU_BUILD_DIR=$build
export SU_DAEMON=$build/daemon/sysupgraded
export SU_BUNDLE_TOOL=$build/tools/sysupgrade-bundle
. "$SU_TEST_SRC/ns/lib.sh"
need gzip nsenter
PEER_ROOT=/run/peer-root
compression=${BENCH_COMPRESSION:-zstd}

rig_init
results=$WORK/results.jsonl
: >"$results"

# ---- the peer: OpenWrt's shell stage 1 and 2, for busybox init ----
peer_scripts() {
	local dir=$1
	sed -i "s|^::restart:.*|::restart:$PEER_ROOT/bin/busybox sh $PEER_ROOT/stage2|" \
		"$dir/etc/inittab"
	rig_script "$dir" /usr/sbin/peer-sysupgrade <<EOS
#!/bin/sh
# peer stage 1: stop the services, the ramfs root, PID 1 restarts into it
set -e
R=$PEER_ROOT
up() { read -r u _ </proc/uptime; echo "\$u"; }
t0=\$(up)
/usr/bin/rig-services stop
t1=\$(up)
echo "peer: stop_command took \$(awk "BEGIN { print \$t1 - \$t0 }") s" >>/host/peer.log
mkdir -p \$R/bin \$R/dev \$R/proc \$R/sys \$R/oldroot
cp /bin/busybox \$R/bin/busybox
for a in sh awk sed sort cat dd gunzip umount sync reboot sleep; do
	ln -sf busybox \$R/bin/\$a
done
cp /usr/lib/peer-stage2 \$R/stage2
mv "\$1" \$R/image.gz
mount --bind \$R \$R
echo "peer: PID 1 takes over from here, at uptime \$(up) s" >>/host/peer.log
kill -QUIT 1
EOS
	rig_script "$dir" /usr/lib/peer-stage2 <<EOS
#!/bin/sh
# peer stage 2: PID 1, busybox sh from the ramfs, the old root still /
R=$PEER_ROOT
B=\$R/bin/busybox
up() { read -r u _ </proc/uptime; echo "\$u"; }
echo "peer stage 2: PID 1 at uptime \$(up) s, in the ramfs"
\$B mount --make-rprivate /
for d in dev proc sys; do \$B mount --move /\$d \$R/\$d; done
cd \$R
\$B pivot_root . oldroot
cd /
export PATH=/bin
kill -TERM -1 2>/dev/null && sleep 1 && kill -KILL -1 2>/dev/null
for m in \$(awk '\$5 ~ "^/oldroot" { print \$5 }' /proc/self/mountinfo | sort -r); do
	umount "\$m" || echo "peer stage 2: umount \$m failed"
done
echo "peer stage 2: writing at uptime \$(up) s"
gunzip -c /image.gz | dd of=/dev/rigroot bs=4096 conv=fsync 2>/dev/null
echo "peer stage 2: written at uptime \$(up) s"
sync
reboot -f
EOS
}

# ---- the images, made once ----
rig_rootfs v1-busybox 1.0.0 "$RIG_BUILD" busybox
rig_image v1-busybox.img v1-busybox
rig_rootfs v1-s6 1.0.0 "$RIG_BUILD" s6
rig_image v1-s6.img v1-s6
rig_rootfs v1-peer 1.0.0 "$RIG_BUILD" busybox
peer_scripts v1-peer
rig_image v1-peer.img v1-peer
rig_rootfs v2 2.0.0 "$RIG_BUILD" busybox
rig_image v2.img v2
"$TOOL" create --version 2.0.0 --compatible acme,router-x1 \
	--image "v2.img:ext4:rootfs:$compression" --bootenv rig_version=2.0.0 \
	--key "$WORK/signing.pem" --output v2.tar >bundle.out 2>&1 ||
	fail "sysupgrade-bundle create: $(cat bundle.out)"
gzip -9n -c v2.img >v2.img.gz

uptime_now() { read -r u _ </proc/uptime; echo "$u"; }

# one MODE RUN: boot v1, upgrade to v2, check it, summarize into $results
one() {
	local mode=$1 i=$2 log=$WORK/console-$1-$2.log img loop watcher t0 t_end
	local marker exclude
	img=v1-$mode.img
	cp --sparse=always "$img" run.img
	rm -f "$RIG_HOST"/*.log
	rig_env env.img
	loop=$(rig_loop run.img)
	rig_boot "$loop" "$log"
	rig_wait_https
	rig_heartbeat
	if [ "$mode" = peer ]; then
		cp v2.img.gz "$(rig_nsfile /run/peer-v2.img.gz)"
		marker='peer stage 2: writing at uptime'
		exclude=image.gz
	else
		expect_api 200 "upload v2" POST /bundle -T v2.tar
		marker='stage 2: first bytes written at uptime'
		exclude=$RIG_STAGING/bundle.tar
	fi
	python3 "$bench/memwatch.py" "$RIG_NSPID" "mem-$mode-$i.json" "$log" \
		"$marker" "$exclude" &
	watcher=$!
	D_EXTRA_PIDS="$D_EXTRA_PIDS $watcher"
	sleep 0.2
	t0=$(uptime_now)
	if [ "$mode" = peer ]; then
		rig_ns /usr/sbin/peer-sysupgrade /run/peer-v2.img.gz \
			>"peer1-$i.out" 2>&1 &
		D_EXTRA_PIDS="$D_EXTRA_PIDS $!"
	else
		expect_api 202 "POST /install" POST /install -d '{"keep_config": true}'
	fi
	rig_wait_end "" 120
	t_end=$(uptime_now)
	[ "$RIG_STATUS" = 129 ] ||
		fail "$mode run $i: the namespace ended with $RIG_STATUS, not 129 (reboot): $(tail -n 20 "$log")"
	wait "$watcher" || fail "memwatch failed"
	rig_mount "$loop" "$WORK/check.mnt" cat "$WORK/check.mnt/etc/version" >version.out ||
		fail "$mode run $i: cannot read the device"
	assert_eq 2.0.0 "$(cat version.out)" "$mode run $i: /etc/version on the device"
	rig_unloop "$loop"
	rig_unloop "$RIG_ENV_LOOP"
	cat "$RIG_HOST"/*.log >>"$log" 2>/dev/null || :
	python3 "$bench/handover-sum.py" one "$mode" "$i" "$t0" "$t_end" "$log" \
		"mem-$mode-$i.json" >>"$results"
	python3 "$bench/handover-sum.py" show <(tail -n 1 "$results")
}

for i in $(seq 1 "$runs"); do
	for mode in $modes; do
		one "$mode" "$i"
	done
done
python3 "$bench/handover-sum.py" table "$results" | tee table.md
if [ -n "${BENCH_KEEP:-}" ]; then
	mkdir -p "$BENCH_KEEP"
	cp console-*.log mem-*.json "$results" table.md "$BENCH_KEEP/"
fi
stripped=$WORK/stripped
cp "$SU_DAEMON" "$stripped"
strip "$stripped"
echo "bundle: $(stat -c %s v2.tar) bytes ($compression); peer image: $(stat -c %s v2.img.gz) bytes (gzip -9)"
echo "binary: $(stat -c %s "$SU_DAEMON") bytes, stripped $(stat -c %s "$stripped"); busybox (peer): $(stat -L -c %s /bin/busybox)"
rig_assert_clean
