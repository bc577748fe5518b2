#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what sysupgraded needs to build and test, and nothing that is
# already there. Idempotent; used by both README commands.
#   contrib/deps.sh [build|demo|test]
# Builds libmtd/libubi from Debian's mtd-utils source into .deps/prefix
# unless a system copy exists.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-test}
prefix="$top/.deps/prefix"

build_pkgs="build-essential cmake pkg-config libmicrohttpd-dev libgnutls28-dev libmbedtls-dev
	libubootenv-dev libarchive-dev libjson-c-dev libinih-dev nettle-dev
	openssl ca-certificates curl dpkg-dev
	libacl1-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev zlib1g-dev
	libxml2-dev"
# the demo devices: ext4 roots and slots on loop devices, a U-Boot env;
# in place, the namespace rig (static busybox as init, readelf for the
# libraries copied in, python3 for its JSON)
demo_pkgs="u-boot-tools libubootenv-tool e2fsprogs mount util-linux
	busybox-static binutils python3"
test_pkgs="libcmocka-dev libarchive-tools python3 zstd xz-utils gzip
	u-boot-tools libubootenv-tool clang libclang-rt-14-dev
	qemu-system-x86 busybox-static mtd-utils cpio kmod e2fsprogs attr mount
	gnutls-bin s6 chromium man-db groff-base lintian valgrind debootstrap ansible
	dmsetup"
# ansible: integration.fleet runs contrib/fleet's playbook with Debian's
# ansible (its role uses ansible.builtin only, from ansible-core, which
# the package depends on).
# The web tests (test/web/) drive Debian's chromium with playwright-core
# from npm, pinned, installed into .deps/web so the tree stays clean.
playwright_version=1.65.1
# OpenRC for the namespace rig's OpenRC root (ns.inplace-openrc): Debian's
# packages unpacked into .deps/openrc/root, never installed on the host,
# where openrc would take over /etc/init.d/rc and rcS and register the
# host's services in /etc/runlevels.
openrc_pkgs="openrc librc1 libeinfo1"

say() { printf 'deps: %s\n' "$*"; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		say "must run as root to install: $*" >&2
		exit 1
	fi
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return 0
	apt-get update -qq
	apt_updated=1
}

install_missing() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	need_root "$missing"
	say "installing$missing"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

have_system_libmtd() {
	for d in /usr/include /usr/local/include; do
		[ -f "$d/libmtd.h" ] && [ -f "$d/libubi.h" ] || continue
		for l in /usr/lib /usr/local/lib /usr/lib/*-linux-gnu; do
			[ -f "$l/libmtd.a" ] || [ -f "$l/libmtd.so" ] || continue
			[ -f "$l/libubi.a" ] || [ -f "$l/libubi.so" ] || continue
			return 0
		done
	done
	return 1
}

ensure_deb_src() {
	apt_update
	if apt-cache showsrc mtd-utils 2>/dev/null | grep -q '^Package:'; then
		return 0
	fi
	need_root "a deb-src entry"
	say "adding a deb-src entry for Debian's sources"
	. /etc/os-release
	cat > /etc/apt/sources.list.d/sysupgraded-deb-src.sources <<EOS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $VERSION_CODENAME $VERSION_CODENAME-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	apt-get update -qq
}

build_libmtd() {
	if [ -f "$prefix/lib/libmtd.a" ] && [ -f "$prefix/lib/libubi.a" ]; then
		return 0
	fi
	if have_system_libmtd; then
		say "using the system's libmtd/libubi"
		return 0
	fi
	ensure_deb_src
	src="$top/.deps/src"
	rm -rf "$src" && mkdir -p "$src"
	say "fetching Debian's mtd-utils source"
	(cd "$src" && apt-get source -qq mtd-utils >/dev/null 2>&1)
	dir=$(find "$src" -maxdepth 1 -type d -name 'mtd-utils-*' | head -n 1)
	[ -n "$dir" ] || { say "apt-get source mtd-utils gave no tree" >&2; exit 1; }
	# the compile itself is shared with the packaging recipes
	sh "$top/contrib/packaging/mtd-libs.sh" "$dir" "$prefix"
	say "built libmtd/libubi $(basename "$dir") into $prefix"
}

# node and npm: the machine's (any Node.js >= 18 with its npm), else
# Debian's packages.
ensure_node() {
	if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
		return 0
	fi
	install_missing nodejs npm
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
		say "node and npm are still missing after installing nodejs and npm" >&2
		exit 1
	}
}

install_playwright() {
	dir="$top/.deps/web"
	pkg="$dir/node_modules/playwright-core/package.json"
	if [ -f "$pkg" ] && grep -q "\"version\": \"$playwright_version\"" "$pkg"; then
		return 0
	fi
	ensure_node
	say "installing playwright-core $playwright_version into $dir"
	mkdir -p "$dir"
	# playwright-core brings no browser; the tests use Debian's chromium
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dir" --no-save \
		--no-audit --no-fund --loglevel=error "playwright-core@$playwright_version" >/dev/null
	grep -q "\"version\": \"$playwright_version\"" "$pkg" || {
		say "npm did not install playwright-core $playwright_version into $dir" >&2
		exit 1
	}
}

# fetch_openrc: the .debs of $openrc_pkgs (apt-get download: apt's
# cache and its signatures) unpacked with dpkg -x into .deps/openrc/root.
fetch_openrc() {
	dir="$top/.deps/openrc"
	[ -x "$dir/root/sbin/openrc" ] && [ -x "$dir/root/sbin/supervise-daemon" ] &&
		return 0
	say "fetching $openrc_pkgs into $dir (unpacked, not installed)"
	rm -rf "$dir" && mkdir -p "$dir/debs" "$dir/root"
	[ "$(id -u)" != 0 ] || apt_update
	(cd "$dir/debs" && apt-get download -qq $openrc_pkgs >/dev/null 2>&1) || {
		say "apt-get download $openrc_pkgs failed" >&2
		exit 1
	}
	for deb in "$dir"/debs/*.deb; do
		dpkg -x "$deb" "$dir/root"
	done
	[ -x "$dir/root/sbin/openrc" ] || {
		say "no sbin/openrc in the unpacked $openrc_pkgs" >&2
		exit 1
	}
}

case $what in
build|demo|test) ;;
*) say "usage: $0 [build|demo|test]" >&2; exit 2 ;;
esac
install_missing $build_pkgs
[ "$what" = build ] || install_missing $demo_pkgs
if [ "$what" = test ]; then
	install_missing $test_pkgs
	install_playwright
	fetch_openrc
fi
build_libmtd
