#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: `sysupgrade-bundle verify` of a one-payload bundle against
# `openssl dgst -sha256` and `sha256sum` of the same file, in the same
# run, on tmpfs so that all measure CPU rather than the disk. RUNS
# rounds, each running the three in turn (the order rotating); prints
# the median wall times and the ratios verify / openssl and
# verify / sha256sum. Not a pass/fail test.
#   test/bench/verify.sh BUILD_DIR [MiB] [RUNS]
set -eu
build=$1
mib=${2:-256}
runs=${3:-7}
tool="$build/tools/sysupgrade-bundle"
[ -x "$tool" ] || { echo "bench: no $tool; build first" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench: needs openssl (apt-get install openssl)" >&2; exit 1; }
work=$(mktemp -d /dev/shm/su-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/keys"
head -c $((mib * 1048576)) /dev/urandom > "$work/rootfs.img"
"$tool" keygen --key "$work/k.pem" --pub "$work/keys/k.pub.pem" >/dev/null
"$tool" create --version 1 --compatible bench --image "$work/rootfs.img:ext4:rootfs" \
	--key "$work/k.pem" --output "$work/b.bundle" >/dev/null
rm "$work/rootfs.img"
now() { date +%s%N; }
# wall time in ms of "$@", appended to the file named first
timed() {
	_f=$1
	shift
	_t0=$(now)
	"$@" >/dev/null
	echo $(( ($(now) - _t0) / 1000000 )) >>"$_f"
}
v() { timed "$work/v.ms" "$tool" verify --keys "$work/keys" "$work/b.bundle"; }
o() { timed "$work/o.ms" openssl dgst -sha256 "$work/b.bundle"; }
s() { timed "$work/s.ms" sha256sum "$work/b.bundle"; }
: >"$work/v.ms"; : >"$work/o.ms"; : >"$work/s.ms"
i=0
while [ $i -lt "$runs" ]; do
	case $((i % 3)) in
	0) v; o; s ;;
	1) o; s; v ;;
	2) s; v; o ;;
	esac
	i=$((i + 1))
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
vm=$(med "$work/v.ms"); om=$(med "$work/o.ms"); sm=$(med "$work/s.ms")
size=$(stat -c %s "$work/b.bundle")
rate() { echo $(( size / 1048576 * 1000 / ($1 ? $1 : 1) )); }
echo "bundle: $size bytes on tmpfs; sha256 implementation: $("$tool" --version | sed -n 's/.*sha256: *\([a-z]*\).*/\1/p'); $(nproc) CPUs"
echo "rounds (ms): verify $(tr '\n' ' ' <"$work/v.ms")| openssl $(tr '\n' ' ' <"$work/o.ms")| sha256sum $(tr '\n' ' ' <"$work/s.ms")"
echo "sysupgrade-bundle verify: ${vm} ms ($(rate "$vm") MiB/s), median of $runs"
echo "openssl dgst -sha256:     ${om} ms ($(rate "$om") MiB/s) ($(openssl version | cut -d' ' -f1-2))"
echo "sha256sum:                ${sm} ms ($(rate "$sm") MiB/s)"
echo "ratio verify/openssl:     $(awk "BEGIN { printf \"%.2f\", $vm / $om }")"
echo "ratio verify/sha256sum:   $(awk "BEGIN { printf \"%.2f\", $vm / $sm }")"
