#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the initramfs of one VM test scenario.
#   test/vm/mkinitramfs.sh -o OUT.cpio.gz -m MODDIR {--script FILE | --init FILE}
#       [--module NAME]... [--bin PATH]... [--file SRC:DEST]...
# MODDIR is a kernel's modules/<kver> directory (see fetch-kernel.sh).
# The image holds busybox-static, the generic modules below and their
# dependencies (loaded by /init), the --module ones (left for the
# scenario to modprobe with its own parameters), each --bin host program
# at its own path with the shared libraries it needs, the --file files,
# and the scenario as /scenario. /init runs it with `sh -e` and prints
# SU-VM-RESULT: PASS or SU-VM-RESULT: FAIL <status>, then powers off.
# --init FILE replaces that /init with FILE, for a guest whose PID 1 is
# the scenario itself (a bootloader stand-in that switches root).
set -eu

# Loaded by /init, in this order. crc32c_generic is ext4's and jbd2's
# soft dependency (the crypto API asks for it at mount time); zstd is
# ubifs's: its init fails without every compressor it was built with.
BOOT_MODULES="virtio_pci virtio_blk virtio_net crc32c_generic ext4 mtd ubi zstd ubifs"
# Shipped but left alone: they take parameters that only a scenario knows.
EXTRA_MODULES="block2mtd nandsim mtdblock"

here=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

out='' moddir='' script='' init='' bins='' files=''
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "$1 needs a value"
	case $1 in
	-o) out=$2 ;;
	-m) moddir=$2 ;;
	--script) script=$2 ;;
	--init) init=$2 ;;
	--module) EXTRA_MODULES="$EXTRA_MODULES $2" ;;
	--bin) bins="$bins $2" ;;
	--file) files="$files $2" ;;
	*) die "unknown argument '$1'" ;;
	esac
	shift 2
done
[ -n "$out" ] && [ -n "$moddir" ] && [ -n "$script$init" ] ||
	die "usage: $0 -o OUT -m MODDIR {--script FILE | --init FILE} [--module M] [--bin P] [--file S:D]"
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep does not exist"
[ -z "$script" ] || [ -f "$script" ] || die "scenario $script does not exist"
[ -z "$init" ] || [ -f "$init" ] || die "init $init does not exist"
busybox=/bin/busybox
ldd "$busybox" 2>&1 | grep -q 'not a dynamic' ||
	die "$busybox is not busybox-static (it must run without libraries)"
kver=$(basename "$moddir")

stage=$(mktemp -d "${TMPDIR:-/tmp}/su-initramfs.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$stage" "$stage.cpio" "$out.tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$stage/bin" "$stage/sbin" "$stage/usr/bin" "$stage/usr/sbin" \
	"$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/run" \
	"$stage/etc/su-vm" "$stage/lib/modules/$kver"
cp "$busybox" "$stage/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$stage/bin/$a"
done

# Modules: print the modules.dep paths of NAMEs and of all they depend
# on; a built-in NAME is skipped, an unknown one is an error.
resolve_modules() {
	awk -v want="$*" '
	function norm(p) { sub(/.*\//, "", p); sub(/\.ko.*$/, "", p)
		gsub(/-/, "_", p); return p }
	FILENAME ~ /modules\.builtin$/ { builtin[norm($1)] = 1; next }
	{ sub(/:$/, "", $1); line[norm($1)] = $0 }
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			m = w[i]; gsub(/-/, "_", m)
			if (m in line) {
				k = split(line[m], p, " ")
				for (j = 1; j <= k; j++)
					if (!(p[j] in seen)) { seen[p[j]] = 1; print p[j] }
			} else if (m in builtin) {
				print "mkinitramfs: " w[i] " is built in" > "/dev/stderr"
			} else {
				print "mkinitramfs: no module " w[i] > "/dev/stderr"
				bad = 1
			}
		}
		exit bad
	}' "$moddir/modules.builtin" "$moddir/modules.dep"
}

paths=$(resolve_modules $BOOT_MODULES $EXTRA_MODULES) ||
	die "cannot resolve the modules for $kver"
for p in $paths; do
	mkdir -p "$stage/lib/modules/$kver/$(dirname "$p")"
	cp "$moddir/$p" "$stage/lib/modules/$kver/$p"
done
# modules.dep restricted to what we ship: busybox modprobe reads it.
printf '%s\n' $paths | awk 'NR == FNR { have[$1] = 1; next }
	{ k = $1; sub(/:$/, "", k) } k in have' - "$moddir/modules.dep" \
	> "$stage/lib/modules/$kver/modules.dep"
cp "$moddir/modules.builtin" "$stage/lib/modules/$kver/"
for m in $BOOT_MODULES; do
	resolve_modules "$m" >/dev/null 2>&1 && echo "$m"
done > "$stage/etc/su-vm/modules"

# copy_elf PATH: PATH at its own path plus the loader and libraries that
# the loader itself resolves for it (ldd asks the ELF interpreter).
copy_elf() {
	[ -f "$1" ] && [ -x "$1" ] || die "--bin $1 is not an executable file"
	mkdir -p "$stage$(dirname "$1")"
	cp -L "$1" "$stage$1"
	ldd "$1" >"$stage/ldd.out" 2>&1 || {
		grep -q 'not a dynamic executable' "$stage/ldd.out" && return 0
		die "ldd $1 failed: $(cat "$stage/ldd.out")"
	}
	if grep 'not found' "$stage/ldd.out" >&2; then
		die "$1 needs a library that is not installed"
	fi
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 }
			$1 ~ /^\// { print $1 }' "$stage/ldd.out"); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib" || die "cannot copy $lib for $1"
	done
	rm -f "$stage/ldd.out"
}
for b in $bins; do
	copy_elf "$b"
done

for f in $files; do
	src=${f%%:*} dst=${f#*:}
	[ "$src" != "$f" ] && [ -n "$dst" ] && [ "${dst#/}" != "$dst" ] ||
		die "--file wants SRC:/ABSOLUTE/DEST, not '$f'"
	[ -f "$src" ] || die "--file $src does not exist"
	mkdir -p "$stage$(dirname "$dst")"
	cp -L "$src" "$stage$dst"
done

if [ -n "$script" ]; then
	cp "$script" "$stage/scenario"
	chmod 755 "$stage/scenario"
fi
cp "${init:-$here/init.sh}" "$stage/init"
cp "$here/guest-reboot.sh" "$stage/bin/su-vm-reboot"
chmod 755 "$stage/init" "$stage/bin/su-vm-reboot"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 > ../"$(basename "$stage").cpio") ||
	die "cpio of $stage failed"
gzip -1 < "$stage.cpio" > "$out.tmp" && rm -f "$stage.cpio" &&
	mv "$out.tmp" "$out" || die "cannot write $out"
