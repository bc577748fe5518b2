#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# integration.tools-only: -DSU_TOOLS_ONLY=ON, the build host's build.
# Configured in a fresh directory without CMAKE_PREFIX_PATH, where the
# libmtd and libubi of .deps/prefix cannot be found (the same configure
# without SU_TOOLS_ONLY fails on them, which the test checks first),
# it looks for none of the device's libraries, builds, passes its own
# tests, installs only the tool and its man page, and its
# sysupgrade-bundle links none of them and creates and verifies a bundle.
#   SU_CMAKE  the outer build's cmake; SU_CC  its C compiler
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
: "${SU_CMAKE:?SU_CMAKE must name cmake}"
: "${SU_CC:?SU_CC must name the C compiler}"
need readelf ldd nm grep python3 ctest
mkwork
src=$(cd "$SU_TEST_SRC/.." && pwd)
unset CMAKE_PREFIX_PATH PKG_CONFIG_PATH
device_libs='libubootenv|libinih|libmtd|libubi|libmicrohttpd|libgnutls'

# configure DIR OPTIONS...: a fresh build tree, log in DIR.log
configure() {
	_c_dir=$1
	shift
	"$SU_CMAKE" -S "$src" -B "$_c_dir" -DCMAKE_BUILD_TYPE=Release \
		-DSU_WERROR=ON -DCMAKE_C_COMPILER="$SU_CC" "$@" >"$_c_dir.log" 2>&1
}

# -- control: the full build needs libmtd, which is only in .deps/prefix --
if configure full; then
	fail "the full build configured without .deps/prefix, so this test proves nothing: $(tail -n 20 full.log)"
fi
grep -q "LIBMTD" full.log || fail "the full build failed, but not on libmtd: $(tail -n 20 full.log)"
pass "control: without .deps/prefix, the full build does not configure (libmtd)"

# -- tools only: configures without any device library --
configure b -DSU_TOOLS_ONLY=ON || fail "SU_TOOLS_ONLY configure failed: $(cat b.log)"
# pkg_check_modules() and find_*() leave cache entries for what they
# looked for, found or not.
if grep -E "^(__pkg_config_checked_)?(MHD|INIH|UBOOTENV|GNUTLS|LIBSYSTEMD)(_|:)|^(LIBMTD|LIBUBI)_" \
	b/CMakeCache.txt >looked; then
	fail "SU_TOOLS_ONLY looked for device libraries: $(cat looked)"
fi
grep -q "^__pkg_config_checked_JSONC:" b/CMakeCache.txt ||
	fail "no pkg_check_modules(JSONC) in the cache: the check above reads the wrong file"
! grep -Eqi "microhttpd|ubootenv|inih|libmtd|libubi|gnutls" b.log ||
	fail "SU_TOOLS_ONLY configure mentions a device library: $(cat b.log)"
pass "SU_TOOLS_ONLY configures without looking for a device library"

"$SU_CMAKE" --build b -j2 >build.log 2>&1 || fail "SU_TOOLS_ONLY build failed: $(tail -n 40 build.log)"
[ ! -e b/daemon ] || fail "SU_TOOLS_ONLY configured the daemon"
ctest --test-dir b --output-on-failure >ctest.log 2>&1 ||
	fail "the SU_TOOLS_ONLY build's tests failed: $(cat ctest.log)"
grep -q "tests passed, 0 tests failed" ctest.log || fail "ctest: $(tail -n 5 ctest.log)"
grep -q "unit.bundle_reader" ctest.log || fail "unit.bundle_reader did not run: $(cat ctest.log)"
pass "SU_TOOLS_ONLY builds; its tests pass: $(grep 'tests passed' ctest.log)"

# -- the tool links none of the device's libraries --
TOOL=$WORK/b/tools/sysupgrade-bundle
[ -x "$TOOL" ] || fail "no $TOOL"
readelf -d "$TOOL" | grep NEEDED >needed || fail "readelf -d $TOOL: no NEEDED"
grep -q "libjson-c" needed || fail "NEEDED has no libjson-c, is this the tool? $(cat needed)"
! grep -Eq "$device_libs" needed || fail "the tool NEEDs a device library: $(cat needed)"
ldd "$TOOL" >ldd.out || fail "ldd $TOOL failed"
! grep -Eq "$device_libs" ldd.out || fail "ldd: the tool loads a device library: $(cat ldd.out)"
# libmtd, libubi (static in .deps/prefix) and the rest by their symbols
nm "$TOOL" >syms || fail "nm $TOOL failed"
! grep -Eq " (libmtd_|libubi_|ubi_|libuboot_|ini_parse|MHD_|gnutls_)" syms ||
	fail "the tool has device library symbols: $(grep -E ' (libmtd_|libubi_|ubi_|libuboot_|ini_parse|MHD_|gnutls_)' syms | head)"
pass "sysupgrade-bundle links no device library: $(sed 's/.*\[\(.*\)\]/\1/' needed | tr '\n' ' ')"

# -- cmake --install: the tool and its man page, nothing of the daemon --
DESTDIR=$WORK/root "$SU_CMAKE" --install b --prefix /usr >install.log 2>&1 ||
	fail "cmake --install: $(cat install.log)"
printf '%s\n' usr/bin/sysupgrade-bundle usr/share/man/man1/sysupgrade-bundle.1 >expected
(cd root && find . -type f | sed 's|^\./||' | sort) >installed
diff -u expected installed >files.diff || fail "installed files differ: $(cat files.diff)"
pass "cmake --install puts sysupgrade-bundle and its man page only"

# -- and makes and checks bundles --
mkdir keys
expect_ok "keygen" "$TOOL" keygen --key k.pem --pub keys/k.pub.pem
head -c 65536 /dev/urandom >rootfs.img
seq 1 20000 >app.img
expect_ok "create" "$TOOL" create --version 2.0 --compatible acme,router-x1 \
	--image rootfs.img:ubi:rootfs --image app.img:ubi:app:gzip \
	--key k.pem --output b.tar
verify_ok "tools-only bundle" b.tar --compatible acme,router-x1
expect_ok "inspect --json" "$TOOL" inspect --json b.tar
assert_eq 2.0 "$(python3 -c 'import json,sys; print(json.load(open("out"))["manifest"]["version"])')" \
	"inspect: version"
# a changed payload byte is refused
python3 - b.tar bad.tar <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    off = t.getmember("rootfs.img").offset_data
d = bytearray(open(sys.argv[1], "rb").read())
d[off + 100] ^= 0xff
open(sys.argv[2], "wb").write(d)
PY
expect_refusal "verify of a changed payload" hash_mismatch bad.tar
pass "create, inspect and verify; a changed payload is refused"
