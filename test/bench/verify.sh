#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: `sysupgrade-bundle verify` of a one-payload bundle against
# `sha256sum` of the same file, in the same run, on tmpfs so that both
# measure CPU rather than the disk. Prints best-of-N wall times and the
# ratio (verify / sha256sum). Not a pass/fail test.
#   test/bench/verify.sh BUILD_DIR [MiB] [RUNS]
set -eu
build=$1
mib=${2:-256}
runs=${3:-5}
tool="$build/tools/sysupgrade-bundle"
[ -x "$tool" ] || { echo "bench: no $tool; build first" >&2; exit 1; }

work=$(mktemp -d /dev/shm/su-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/keys"
head -c $((mib * 1048576)) /dev/urandom > "$work/rootfs.img"
"$tool" keygen --key "$work/k.pem" --pub "$work/keys/k.pub.pem" >/dev/null
"$tool" create --version 1 --compatible bench --image "$work/rootfs.img:ext4:rootfs" \
	--key "$work/k.pem" --output "$work/b.bundle" >/dev/null
rm "$work/rootfs.img"

now() { date +%s%N; }

# best wall time in ms of RUNS runs of "$@"
best() {
	b=
	i=0
	while [ $i -lt "$runs" ]; do
		t0=$(now)
		"$@" >/dev/null
		t=$(( ($(now) - t0) / 1000000 ))
		[ -z "$b" ] || [ "$t" -lt "$b" ] && b=$t
		i=$((i + 1))
	done
	echo "$b"
}

v=$(best "$tool" verify --keys "$work/keys" "$work/b.bundle")
s=$(best sha256sum "$work/b.bundle")
size=$(stat -c %s "$work/b.bundle")
echo "bundle: $size bytes on tmpfs; sha256 implementation: $("$tool" --version | sed -n 's/.*sha256: *\([a-z]*\).*/\1/p')"
echo "sysupgrade-bundle verify: ${v} ms ($(( size / 1048576 * 1000 / (v ? v : 1) )) MiB/s)"
echo "sha256sum:                ${s} ms ($(( size / 1048576 * 1000 / (s ? s : 1) )) MiB/s)"
echo "ratio verify/sha256sum:   $(awk "BEGIN { printf \"%.2f\", $v / $s }")"
