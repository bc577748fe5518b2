#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A minimal Debian root for the VM tests that boot systemd as PID 1,
# made once by debootstrap and cached as a tarball.
#   test/vm/debian-root.sh CACHEDIR PACKAGE...
# Prints the path of CACHEDIR/debian-root-<key>.tar.zst, where <key>
# is a hash of what made it (suite, mirror, variant, the packages and
# this script's trimming), so another package list gets its own
# tarball and later runs reuse it. The tree is
# `debootstrap --variant=minbase --include=PACKAGE,...` of bookworm,
# without docs, man pages, locales, apt lists, cached .debs, udev's
# hardware database and iconv modules. Needs
# root (debootstrap chroots and makes device nodes). The caller holds
# the cache's lock.
#   SU_VM_DEBIAN_MIRROR  the mirror (default http://deb.debian.org/debian)
set -eu

die() {
	echo "debian-root: $*" >&2
	exit 1
}

[ $# -ge 2 ] || die "usage: $0 CACHEDIR PACKAGE..."
cache=$1
shift
suite=bookworm
mirror=${SU_VM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
pkgs=$(printf '%s\n' "$@" | LC_ALL=C sort -u | paste -sd, -)
# Bump when the trimming below changes: it is part of what the key says.
trim=1
key=$(printf '%s\n' "$suite" "$mirror" minbase "$pkgs" "trim $trim" |
	sha256sum | cut -c1-16)
out=$cache/debian-root-$key.tar.zst
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
for t in debootstrap zstd tar; do
	command -v $t >/dev/null 2>&1 ||
		die "'$t' is not installed (contrib/deps.sh test)"
done
mkdir -p "$cache" || die "cannot create $cache"
tmp=$(mktemp -d "$cache/debootstrap.XXXXXX") || die "mktemp failed"
# debootstrap mounts /proc (and in some containers binds /dev) in the
# tree: undo those before removing it, and never cross a mount.
cleanup() {
	awk -v t="$tmp/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" || :; done
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s)
echo "debian-root: debootstrap --variant=minbase --include=$pkgs $suite from $mirror" >&2
debootstrap --variant=minbase --include="$pkgs" "$suite" "$tmp/root" \
	"$mirror" >"$tmp/log" 2>&1 ||
	die "debootstrap failed: $(tail -n 20 "$tmp/log")"
r=$tmp/root
rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* \
	"$r"/usr/share/locale/* "$r"/usr/share/i18n "$r"/usr/share/lintian \
	"$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
	"$r"/var/log/*.log "$r"/var/log/apt/*
# udev's hardware database (22 MB: names of vendors and models) and
# glibc's iconv modules (9 MB): nothing the tests boot needs them
rm -rf "$r"/usr/lib/udev/hwdb.bin "$r"/usr/lib/udev/hwdb.d \
	"$r"/usr/lib/x86_64-linux-gnu/gconv
# --numeric-owner: the tree's own uids, not the host's names for them
tar --numeric-owner --xattrs -C "$r" -cf - . | zstd -q -T0 -3 >"$tmp/root.tar.zst" ||
	die "cannot pack the root into $tmp/root.tar.zst"
mv "$tmp/root.tar.zst" "$out" || die "cannot write $out"
echo "debian-root: $(du -sh "$r" | cut -f1) tree, $(du -h "$out" | cut -f1) tarball, in $(($(date +%s) - t0)) s: $out" >&2
echo "$out"
