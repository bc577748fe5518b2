#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# libmtd.a and libubi.a, with their headers, from an mtd-utils source
# tree, for builds whose mtd-utils installs neither (Debian's package,
# OpenWrt's, Yocto before 4.3 without the bbappend here):
#   mtd-libs.sh SRC PREFIX    -> PREFIX/lib/lib{mtd,ubi}.a,
#                                PREFIX/include/lib{mtd,ubi}.h, mtd/*.h
# CC, AR and CFLAGS from the environment (cross builds). The libraries
# are plain C with no configure-time settings, so compiling the handful
# of files directly is simpler than mtd-utils' autotools.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 MTD_UTILS_SRC PREFIX" >&2; exit 2; }
src=$1
prefix=$2
for f in libmtd libmtd_legacy libfec common libcrc32 libubi; do
	[ -f "$src/lib/$f.c" ] || { echo "mtd-libs: no lib/$f.c in $src" >&2; exit 1; }
done
obj=$(mktemp -d "${TMPDIR:-/tmp}/mtd-libs.XXXXXX")
trap 'rm -rf "$obj"' EXIT
for f in libmtd libmtd_legacy libfec common libcrc32 libubi; do
	${CC:-cc} ${CFLAGS:--O2} -fPIC -I"$src/include" -c "$src/lib/$f.c" -o "$obj/$f.o"
done
mkdir -p "$prefix/lib" "$prefix/include/mtd"
rm -f "$prefix/lib/libmtd.a" "$prefix/lib/libubi.a"
${AR:-ar} rcs "$prefix/lib/libmtd.a" "$obj/libmtd.o" "$obj/libmtd_legacy.o" \
	"$obj/libfec.o" "$obj/common.o" "$obj/libcrc32.o"
${AR:-ar} rcs "$prefix/lib/libubi.a" "$obj/libubi.o"
cp "$src/include/libmtd.h" "$src/include/libubi.h" "$prefix/include/"
cp "$src/include/mtd/"*.h "$prefix/include/mtd/"
