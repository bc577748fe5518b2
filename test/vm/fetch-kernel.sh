#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetch Debian's amd64 kernel for the VM tests and unpack it.
#   test/vm/fetch-kernel.sh OUTDIR
# Leaves OUTDIR/vmlinuz, OUTDIR/modules/<kver>/ (modules.dep made by
# depmod) and OUTDIR/kver. Does nothing if they are there already; the
# .deb stays in OUTDIR, so unpacking again downloads nothing.
set -eu

die() {
	echo "fetch-kernel: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
out=$1
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)

if [ -f "$out/vmlinuz" ] && [ -f "$out/kver" ] &&
	[ -f "$out/modules/$(cat "$out/kver")/modules.dep" ]; then
	exit 0
fi

for t in apt-cache apt-get dpkg-deb depmod; do
	command -v $t >/dev/null || die "needs $t (apt, dpkg, kmod)"
done

# The metapackage names the current ABI: linux-image-6.1.0-NN-amd64.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
[ -n "$pkg" ] || die "apt-cache names no linux-image-*-amd64 for linux-image-amd64 (run apt-get update?)"
kver=${pkg#linux-image-}

deb=$(find "$out" -maxdepth 1 -name "${pkg}_*_amd64.deb" | head -n 1)
if [ -z "$deb" ]; then
	echo "fetch-kernel: downloading $pkg" >&2
	# apt-get download drops privileges to _apt; give it a directory it
	# may write and move the file over afterwards.
	tmp=$(mktemp -d "$out/dl.XXXXXX") || die "mktemp failed"
	chmod 777 "$tmp"
	(cd "$tmp" && apt-get download -q "$pkg") ||
		{ rm -rf "$tmp"; die "apt-get download $pkg failed"; }
	deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*_amd64.deb" | head -n 1)
	[ -n "$deb" ] || { rm -rf "$tmp"; die "apt-get download left no $pkg .deb"; }
	mv "$deb" "$out/" && rm -rf "$tmp"
	deb=$out/$(basename "$deb")
fi

x="$out/x"
rm -rf "$x" "$out/modules" "$out/vmlinuz" "$out/kver"
dpkg-deb -x "$deb" "$x" || die "dpkg-deb -x $deb failed"
[ -f "$x/boot/vmlinuz-$kver" ] || die "$deb has no boot/vmlinuz-$kver"
[ -d "$x/lib/modules/$kver" ] || die "$deb has no lib/modules/$kver"
# modules.dep is made by the package's postinst, which we do not run.
depmod -b "$x" "$kver" || die "depmod for $kver failed"
mv "$x/boot/vmlinuz-$kver" "$out/vmlinuz"
mkdir -p "$out/modules"
mv "$x/lib/modules/$kver" "$out/modules/$kver"
rm -rf "$x"
echo "$kver" > "$out/kver"
echo "fetch-kernel: $kver in $out" >&2
