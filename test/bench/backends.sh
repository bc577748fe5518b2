#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: each flash backend, driven by su-backend-write, against the
# standard tool on the same device in the same run. Prints one result
# line per device and a markdown table whose ratio is backend throughput
# / tool throughput (tool time / backend time; the target is >= 0.95).
# Not a pass/fail test; not registered with ctest.
#
#   test/bench/backends.sh BUILD_DIR [--runs N] [--vm-runs N]
#       [--only ext4|ubi|nand|nor] [--ext4-mib N] [--flash-mib N]
#
# ext4 (on the host, root): a 256 MiB ext4 image (mkfs.ext4 -d of random
#   files) onto a loop device (--direct-io=on) over a file in /var/tmp,
#   against `dd bs=1M oflag=direct conv=fsync`. Best of --runs N (5),
#   the order alternating. Caches are not dropped: the image is read
#   once beforehand so that both sides read it from the page cache, and
#   both write past it (O_DIRECT through a direct-I/O loop device).
# ubi, nand, nor (in one qemu TCG boot, 1 vCPU; see test/vm/README.md):
#   ubi:  UBI over block2mtd (128 KiB PEBs) on a virtio disk, against
#         ubiupdatevol;
#   nand: nandsim (2 KiB pages, 128 KiB blocks) with 3 bad blocks in the
#         partition, against flash_erase of the blocks the image spans
#         followed by nandwrite -p (the backend erases as it goes);
#   nor:  block2mtd (64 KiB blocks) on a virtio disk, against flashcp,
#         which always reads back and compares: the backend runs with
#         readback=yes (a second line shows it without).
#   Images of --flash-mib MiB (32), best of --vm-runs pairs (3), the
#   order alternating. Every run is checked against the image, untimed.
#   Each side starts after a sync; its time ends when it exits, and a
#   second figure includes a sync after it (the ubi backend fsyncs the
#   volume, which reaches block2mtd's disk; ubiupdatevol does not).
#
# Every pair is timed twice: with the image, and with a small one (the
# first 1 MiB of the ext4 image; 128 KiB on flash). The small run is
# the fixed cost of a write (process start-up, opening the device,
# fsync), so the last column, (tool - tool small) / (backend - backend
# small), compares the cost per byte alone. Under TCG su-backend-write,
# linked with libarchive, libxml2 and ICU, takes longer to start than
# the mtd-utils do; the BENCH-STARTUP lines time each program doing
# nothing.
#
# The table: best times and their ratio, the ratio of the median times,
# and that per-byte ratio.
#
# Clocks: host and guest use GNU date +%s%N (the guest gets the host's
# coreutils date; busybox's has no %N). In the guest, reading the clock
# costs ~25 ms (BENCH-STARTUP clock), once in every figure, both sides.
set -eu

usage() {
	echo "usage: $0 BUILD_DIR [--runs N] [--vm-runs N] [--only ext4|ubi|nand|nor] [--ext4-mib N] [--flash-mib N]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
build=$(cd "$1" && pwd) || usage
shift
runs=5 vm_runs=3 only=all ext4_mib=256 flash_mib=32
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--runs) runs=$2 ;;
	--vm-runs) vm_runs=$2 ;;
	--only) only=$2 ;;
	--ext4-mib) ext4_mib=$2 ;;
	--flash-mib) flash_mib=$2 ;;
	*) usage ;;
	esac
	case $2 in ''|*[!0-9]*) [ "$1" = --only ] || usage ;; esac
	shift 2
done
case $only in all|ext4|ubi|nand|nor) ;; *) usage ;; esac

W=$build/test/su-backend-write
[ -x "$W" ] || { echo "bench: no $W; build the su-backend-write target first" >&2; exit 1; }
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SU_TEST_SRC=$(dirname "$BENCH_DIR")
# Chunk sizes of su-backend-write: 1 MiB pieces of a page-aligned
# buffer, as the install engine hands a backend its payload
# (PAYLOAD_CHUNK in lib/install_stream.h). SU_CHUNK= (empty) in the
# environment gives the tests' random sizes instead, the same in every
# run (SU_SEED).
SU_CHUNK=${SU_CHUNK-1048576}
SU_SEED=1
export SU_CHUNK SU_SEED

work=$(mktemp -d /var/tmp/su-bench.XXXXXX)
loopdev=
cleanup() {
	[ -z "$loopdev" ] || losetup -d "$loopdev" || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

now() {
	date +%s%N
}

# median N...: the middle one (the lower of the two middle ones).
median() {
	printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"
}

# "pair LABEL BYTES BACKEND_MS TOOL_MS BACKEND_SYNC_MS TOOL_SYNC_MS
#  BACKEND_MEDIAN_MS TOOL_MEDIAN_MS": best times, then the best with a
# sync after each run, then medians; LABEL is DEVICE or DEVICE-small.
results=$work/results
: > "$results"

# ---- ext4, on the host ----

# ext4_run backend|tool IMAGE: one timed write of IMAGE; prints ms.
ext4_run() {
	sync
	t0=$(now)
	if [ "$1" = backend ]; then
		"$W" ext4 "$loopdev" "$2" >/dev/null
	else
		dd if="$2" of="$loopdev" bs=1M oflag=direct conv=fsync \
			status=none
	fi
	t1=$(now)
	# The write is checked, outside the timing.
	cmp -n "$(stat -c %s "$2")" "$2" "$loopdev" ||
		{ echo "bench: ext4 $1: the device differs from $2" >&2; exit 1; }
	# Drop what cmp left in the loop device's page cache.
	blockdev --flushbufs "$loopdev"
	echo $(((t1 - t0) / 1000000))
}

bench_ext4() {
	command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null ||
		{ echo "bench: ext4 needs mkfs.ext4 and losetup" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "bench: ext4 needs root (loop device)" >&2; exit 1; }
	mkdir "$work/root"
	# Random files filling 13/16 of the filesystem; the rest is metadata
	# and free space.
	i=0
	while [ $i -lt $((ext4_mib * 13 / 16 / 4)) ]; do
		head -c $((4 << 20)) /dev/urandom > "$work/root/f$i"
		i=$((i + 1))
	done
	mkfs.ext4 -q -F -b 4096 -d "$work/root" "$work/ext4.img" "${ext4_mib}M"
	rm -rf "$work/root"
	ext4_bytes=$(stat -c %s "$work/ext4.img")
	# The device: a file on disk, allocated and written once before.
	dd if=/dev/zero of="$work/ext4.dev" bs=1M count="$ext4_mib" \
		conv=fsync status=none
	loopdev=$(losetup --find --show --direct-io=on "$work/ext4.dev")
	cat "$work/ext4.img" > /dev/null
	# Warm-up, untimed: both paths once.
	ext4_run tool "$work/ext4.img" >/dev/null
	ext4_run backend "$work/ext4.img" >/dev/null
	ext4_pair ext4 "$work/ext4.img"
	head -c $((1 << 20)) "$work/ext4.img" > "$work/small.img"
	ext4_pair ext4-small "$work/small.img"
	losetup -d "$loopdev"
	loopdev=
	rm -f "$work/ext4.img" "$work/small.img" "$work/ext4.dev"
}

# ext4_pair LABEL IMAGE: --runs pairs, alternating; best and median.
ext4_pair() {
	bb='' tb='' bl='' tl='' i=0
	while [ $i -lt "$runs" ]; do
		if [ $((i % 2)) = 0 ]; then order="backend tool"; else order="tool backend"; fi
		for side in $order; do
			ms=$(ext4_run $side "$2")
			echo "$1 run $((i + 1)) $side: $ms ms"
			if [ $side = backend ]; then
				bl="$bl $ms"
				[ -n "$bb" ] && [ "$bb" -le "$ms" ] || bb=$ms
			else
				tl="$tl $ms"
				[ -n "$tb" ] && [ "$tb" -le "$ms" ] || tb=$ms
			fi
		done
		i=$((i + 1))
	done
	bm=$(median $bl)
	tm=$(median $tl)
	size=$(stat -c %s "$2")
	echo "BENCH $1 backend_ms=$bb tool_ms=$tb backend_median_ms=$bm tool_median_ms=$tm bytes=$size"
	echo "pair $1 $size $bb $tb $bb $tb $bm $tm" >> "$results"
}

# ---- ubi, nand, nor: one VM boot ----

want() {
	[ "$only" = all ] || [ "$only" = "$1" ]
}

bench_vm() {
	VM_DIR=$SU_TEST_SRC/vm
	. "$VM_DIR/lib.sh"
	# lib.sh takes its directory from $0: ours is test/bench.
	VM_DIR=$SU_TEST_SRC/vm
	vm_need ubinize sha256sum
	vm_kernel
	mkdir "$work/vm"
	cd "$work/vm"
	bytes=$((flash_mib << 20))
	head -c $bytes /dev/urandom > img.bin
	img_sum=$(sha256sum < img.bin | cut -d' ' -f1)
	small=131072
	head -c $small /dev/urandom > small.bin
	small_sum=$(sha256sum < small.bin | cut -d' ' -f1)
	disks='' letters=abcdefgh n=0
	cat > guest.sh <<EOF
W=$W
S=$bytes
SUM=$img_sum
SMALL=$small
SMALLSUM=$small_sum
RUNS=$vm_runs
export SU_SEED=1 SU_CHUNK=$SU_CHUNK
now() { /usr/bin/date +%s%N; }
# mtdnum NAME: N of /dev/mtdN called NAME in /proc/mtd.
mtdnum() {
	sed -n "s/^mtd\\([0-9]*\\): .* \\"\$1\\"\$/\\1/p" /proc/mtd
}
# median N...: the middle one (the lower of the two middle ones).
median() {
	printf '%s\\n' "\$@" | sort -n | sed -n "\$(((\$# + 1) / 2))p"
}
# pair NAME IMAGE: time NAME_backend IMAGE and NAME_tool IMAGE RUNS
# times, alternating; check each run's result (NAME_read), untimed;
# print the best and median times. The small image's label is
# NAME-small.
pair() {
	if [ "\$2" = /img.bin ]; then
		label=\$1 size=\$S sum=\$SUM
	else
		label=\$1-small size=\$SMALL sum=\$SMALLSUM
	fi
	bb= tb= bs= ts= bl= tl= bsl= tsl= rep=1
	while [ \$rep -le \$RUNS ]; do
		if [ \$((rep % 2)) = 1 ]; then order="backend tool"; else order="tool backend"; fi
		for side in \$order; do
			sync
			t0=\$(now)
			\${1}_\$side \$2 >/dev/null
			t1=\$(now)
			sync
			t2=\$(now)
			ms=\$(((t1 - t0) / 1000000))
			sms=\$(((t2 - t0) / 1000000))
			got=\$(\${1}_read | head -c \$size | sha256sum | cut -d' ' -f1)
			[ "\$got" = \$sum ] || { echo "FAIL: \$label \$side: the device reads \$got"; exit 1; }
			echo "BENCH-RUN \$label rep=\$rep side=\$side ms=\$ms with_sync_ms=\$sms"
			if [ \$side = backend ]; then
				bl="\$bl \$ms" bsl="\$bsl \$sms"
				[ -n "\$bb" ] && [ "\$bb" -le \$ms ] || bb=\$ms
				[ -n "\$bs" ] && [ "\$bs" -le \$sms ] || bs=\$sms
			else
				tl="\$tl \$ms" tsl="\$tsl \$sms"
				[ -n "\$tb" ] && [ "\$tb" -le \$ms ] || tb=\$ms
				[ -n "\$ts" ] && [ "\$ts" -le \$sms ] || ts=\$sms
			fi
		done
		rep=\$((rep + 1))
	done
	echo "BENCH \$label backend_ms=\$bb tool_ms=\$tb backend_sync_ms=\$bs tool_sync_ms=\$ts backend_median_ms=\$(median \$bl) tool_median_ms=\$(median \$tl) backend_sync_median_ms=\$(median \$bsl) tool_sync_median_ms=\$(median \$tsl) bytes=\$size"
}
# startup NAME CMD...: best of 5 wall times of CMD doing nothing (it
# exits at once): what starting the program costs, plus the clock's own
# cost, which "startup clock true" measures alone.
startup() {
	b= i=0
	name=\$1
	shift
	while [ \$i -lt 5 ]; do
		t0=\$(now)
		"\$@" >/dev/null 2>&1 || true
		t1=\$(now)
		ms=\$(((t1 - t0) / 1000000))
		[ -n "\$b" ] && [ "\$b" -le \$ms ] || b=\$ms
		i=\$((i + 1))
	done
	echo "BENCH-STARTUP \$name ms=\$b"
}
startup clock true
startup su-backend-write \$W
# phase NAME CMD...: one wall time of CMD, to explain the pairs.
phase() {
	name=\$1
	shift
	sync
	t0=\$(now)
	"\$@" >/dev/null
	t1=\$(now)
	echo "BENCH-PHASE \$name ms=\$(((t1 - t0) / 1000000))"
}
# timing NAME CMD...: su-backend-write's own SU_TIMING lines for CMD,
# the third of three runs (where its fixed cost goes).
timing() {
	name=\$1
	shift
	for i in 1 2 3; do
		out=\$(SU_TIMING=1 "\$@" 2>&1 >/dev/null | sed -n 's/^timing: //p' | tr '\\n' ' ')
	done
	echo "BENCH-TIMING \$name \$out"
}
EOF
	bins="--bin $W --bin /usr/bin/date"
	if want ubi; then
		# UBI on block2mtd: 128 KiB PEBs, 1-byte writes; one empty
		# dynamic volume large enough for the image.
		cat > ubi.ini <<EOF
[bench]
mode=ubi
vol_id=0
vol_size=$bytes
vol_type=dynamic
vol_name=bench
EOF
		ubinize -o ubi.img -p 131072 -m 1 ubi.ini
		vm_ff_image ubi.disk $((bytes + (4 << 20))) ubi.img
		dev=vd$(echo $letters | cut -c$((n + 1)))
		n=$((n + 1))
		disks="$disks --disk ubi.disk"
		bins="$bins --bin /usr/sbin/ubiattach --bin /usr/sbin/ubiupdatevol"
		cat >> guest.sh <<EOF
modprobe block2mtd block2mtd=/dev/$dev,131072,ubidisk
ubiattach -m \$(mtdnum ubidisk) -d 0
ubi_backend() { \$W ubi ubi0:bench \$1; }
ubi_tool() { ubiupdatevol /dev/ubi0_0 \$1; }
ubi_read() { dd if=/dev/ubi0_0 bs=65536 count=\$((S / 65536)) 2>/dev/null; }
ubi_tool /img.bin		# warm-up, untimed
startup ubiupdatevol ubiupdatevol --version
pair ubi /img.bin
pair ubi /small.bin
timing ubi-small \$W ubi ubi0:bench /small.bin
EOF
	fi
	if want nor; then
		head -c $((bytes + (1 << 20))) /dev/zero > nor.disk
		dev=vd$(echo $letters | cut -c$((n + 1)))
		n=$((n + 1))
		disks="$disks --disk nor.disk"
		bins="$bins --bin /usr/sbin/flashcp"
		cat >> guest.sh <<EOF
modprobe block2mtd
echo /dev/$dev,65536,nor > /sys/module/block2mtd/parameters/block2mtd
NOR=/dev/mtd\$(mtdnum nor)
nor_backend() { \$W mtd mtd:nor \$1 readback=yes; }
nor_tool() { flashcp \$1 \$NOR; }
nor_read() { dd if=\$NOR bs=65536 count=\$((S / 65536)) 2>/dev/null; }
nornv_backend() { \$W mtd mtd:nor \$1; }
nornv_tool() { nor_tool \$1; }
nornv_read() { nor_read; }
nor_tool /img.bin		# warm-up, untimed
startup flashcp flashcp --version
phase nor-backend-verify-only \$W --verify-only \$SUM mtd mtd:nor /img.bin
pair nor /img.bin
pair nor /small.bin
timing nor-small \$W mtd mtd:nor /small.bin readback=yes
pair nornv /img.bin
pair nornv /small.bin
EOF
	fi
	if want nand; then
		# 128 KiB blocks; the partition holds the image, 3 bad
		# blocks inside the image's span, and 8 spare blocks.
		eb=131072
		blocks=$(((bytes + eb - 1) / eb))
		span=$((blocks + 3))
		bad="3,$((blocks / 2)),$((blocks - 2))"
		bins="$bins --bin /usr/sbin/flash_erase --bin /usr/sbin/nandwrite --bin /usr/sbin/nanddump"
		cat >> guest.sh <<EOF
modprobe nandsim id_bytes=0x20,0xaa,0x00,0x15 parts=$((span + 8)) badblocks=$bad
NAND=/dev/mtd\$(mtdnum "NAND simulator partition 0")
echo "nand: \$NAND, \$(cat /sys/class/mtd/\${NAND#/dev/}/bad_blocks) bad blocks"
nand_backend() { \$W mtd "mtd:NAND simulator partition 0" \$1; }
# The blocks the image spans: the small one fits block 0, which is good.
nand_tool() {
	if [ \$1 = /img.bin ]; then n=$span; else n=1; fi
	flash_erase -q \$NAND 0 \$n && nandwrite -q -p \$NAND \$1
}
nand_read() { nanddump -q --bb=skipbad \$NAND | head -c \$S; }
nand_tool /img.bin		# warm-up, untimed
startup flash_erase flash_erase --version
startup nandwrite nandwrite --version
pair nand /img.bin
pair nand /small.bin
EOF
	fi
	vm_initramfs guest.gz guest.sh $bins --file img.bin:/img.bin \
		--file small.bin:/small.bin
	t0=$(date +%s)
	if ! vm_run guest.log guest.gz $disks --timeout 900 > console.out 2>&1; then
		tail -n 40 console.out >&2
		echo "bench: the VM run failed" >&2
		exit 1
	fi
	echo "vm: one boot, $(($(date +%s) - t0)) s"
	tr -d '\r' < guest.log | grep -E '^(BENCH|nand:)' || true
	tr -d '\r' < guest.log | awk '$1 == "BENCH" {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print "pair", $2, v["bytes"], v["backend_ms"], v["tool_ms"],
		      v["backend_sync_ms"], v["tool_sync_ms"],
		      v["backend_median_ms"], v["tool_median_ms"],
		      v["backend_sync_median_ms"], v["tool_sync_median_ms"]
	}
	' >> "$results"
	cd /
}

if want ext4; then
	bench_ext4
fi
if want ubi || want nand || want nor; then
	bench_vm
fi

# ---- the table ----
echo
echo "| device | size | backend (best) | tool (best) | ratio | ratio of medians | ratio per byte (small-image times subtracted) |"
echo "|---|---|---|---|---|---|---|"
awk '
$1 == "pair" && $2 ~ /-small$/ { d = $2; sub(/-small$/, "", d)
	sb[d] = $4; st[d] = $5; sbs[d] = $6; sts[d] = $7; next }
$1 == "pair" { n++; dev[n] = $2; b[n] = $3; bm[n] = $4; tm[n] = $5
	bs[n] = $6; ts[n] = $7; bmed[n] = $8; tmed[n] = $9
	bsmed[n] = $10; tsmed[n] = $11 }
function mibs(ms, bytes) {
	return ms > 0 ? sprintf("%.0f MiB/s", bytes / 1048576 * 1000 / ms) : "-"
}
# per: the per-byte ratio; sbm and stm are the times with the small image.
function row(name, tool, bytes, bms, tms, sbm, stm, med) {
	r = bms > 0 ? tms / bms : 0
	per = sbm != "" && bms - sbm > 0 ? sprintf("%.2f", (tms - stm) / (bms - sbm)) : "-"
	printf("| %s | %d MiB | %d ms (%s) | %s: %d ms (%s) | **%.2f** | %s | %s |\n",
	       name, bytes / 1048576, bms, mibs(bms, bytes), tool, tms,
	       mibs(tms, bytes), r, med, per)
}
function mr(i) {
	return bmed[i] > 0 ? sprintf("%.2f", tmed[i] / bmed[i]) : "-"
}
END {
	for (i = 1; i <= n; i++) {
		d = dev[i]
		if (d == "ext4")
			row("ext4 on a loop device (host)", "dd bs=1M oflag=direct conv=fsync",
			    b[i], bm[i], tm[i], sb[d], st[d], mr(i))
		if (d == "ubi") {
			row("ubi: UBI on block2mtd (VM)", "ubiupdatevol",
			    b[i], bm[i], tm[i], sb[d], st[d], mr(i))
			row("ubi, then sync (both sides)", "ubiupdatevol; sync",
			    b[i], bs[i], ts[i], sbs[d], sts[d],
			    bsmed[i] > 0 ? sprintf("%.2f", tsmed[i] / bsmed[i]) : "-")
		}
		if (d == "nand")
			row("NAND: nandsim, 3 bad blocks (VM)", "flash_erase; nandwrite -p",
			    b[i], bm[i], tm[i], sb[d], st[d], mr(i))
		if (d == "nor")
			row("NOR: block2mtd (VM), readback=yes", "flashcp (always verifies)",
			    b[i], bm[i], tm[i], sb[d], st[d], mr(i))
		if (d == "nornv")
			row("NOR: block2mtd (VM), no readback", "flashcp (always verifies)",
			    b[i], bm[i], tm[i], sb[d], st[d], mr(i))
	}
}' "$results"
