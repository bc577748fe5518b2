#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# integration.deb: `cpack -G DEB` from the build tree makes one .deb
# (cmake/Packaging.cmake); `dpkg-deb -I/-c` and `dpkg -x` into a scratch
# root show a Debian layout: the programs executable and running,
# /etc/sysupgraded.conf a conffile with no live token, the example and
# www as in the tree, every page of man/ gzip -9n under
# usr/share/man/manN, the unit in /lib/systemd/system naming
# /usr/sbin/sysupgraded, copyright and changelog.gz, Depends from
# dpkg-shlibdeps, files owned by root and nothing outside those places;
# then lintian reports no error (E:). Everything is made in the work
# directory (cpack -B, TMPDIR); the build tree's install step writes
# install_manifest.txt and sysupgraded.service there, as cmake --install
# does (hence the RESOURCE_LOCK with integration.cmake-install).
#   SU_BUILD_DIR  the build tree; SU_CPACK  the cpack of its cmake
#   SU_VERSION    the project version
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
: "${SU_BUILD_DIR:?SU_BUILD_DIR must name the build tree}"
: "${SU_CPACK:?SU_CPACK must name cpack}"
: "${SU_VERSION:?SU_VERSION must give the project version}"
need dpkg dpkg-deb dpkg-shlibdeps lintian readelf tar gzip od diff find
mkwork
src=$(cd "$SU_TEST_SRC/.." && pwd)
mkdir tmp
TMPDIR=$WORK/tmp
export TMPDIR

"$SU_CPACK" -G DEB -B "$WORK/cpack" --config "$SU_BUILD_DIR/CPackConfig.cmake" >cpack.log 2>&1 ||
	fail "cpack -G DEB: $(cat cpack.log)"
arch=$(dpkg --print-architecture)
deb=$WORK/cpack/sysupgraded_${SU_VERSION}_$arch.deb
[ -f "$deb" ] || fail "cpack made no $deb: $(ls "$WORK/cpack"; cat cpack.log)"
pass "cpack -G DEB made $(basename "$deb")"

dpkg-deb -f "$deb" >control || fail "dpkg-deb -f $deb"
# field NAME: the control field NAME
field() {
	dpkg-deb -f "$deb" "$1"
}
assert_eq sysupgraded "$(field Package)" "Package"
assert_eq "$SU_VERSION" "$(field Version)" "Version"
assert_eq "$arch" "$(field Architecture)" "Architecture"
assert_eq admin "$(field Section)" "Section"
assert_eq optional "$(field Priority)" "Priority"
field Maintainer | grep -qE '^[^<]+ <[^@ >]+@[^ >]+>$' ||
	fail "Maintainer is not 'Name <address>': $(field Maintainer)"
field Description | sed -n 1p | grep -q 'firmware-update daemon' ||
	fail "Description's synopsis: $(field Description | sed -n 1p)"
[ "$(field Description | wc -l)" -gt 3 ] || fail "no long Description: $(field Description)"
# dpkg-shlibdeps' work: Depends names the package of every library the
# programs link (readelf's NEEDED; dpkg -S finds the owner)
deps=$(field Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//')
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$WORK" ./usr/sbin/sysupgraded ./usr/bin/sysupgrade-bundle ||
	fail "the programs are not in $deb"
readelf -d "$WORK/usr/sbin/sysupgraded" "$WORK/usr/bin/sysupgrade-bundle" |
	sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort -u >needed
[ -s needed ] || fail "readelf finds no NEEDED libraries in the programs"
while read -r so; do
	pkg=$(dpkg -S "*/$so" 2>/dev/null | sed -n '1s/[:,].*//p')
	[ -n "$pkg" ] || fail "no package owns $so, which the programs link"
	printf '%s\n' "$deps" | grep -qx "$pkg" ||
		fail "Depends names no $pkg, the package of $so: $(field Depends)"
done <needed
rm -r "$WORK/usr"
pass "control: Package, Version $SU_VERSION, Section, Maintainer, Description; Depends has the packages of the $(wc -l <needed) libraries linked"

dpkg-deb --ctrl-tarfile "$deb" | tar -t >ctrl.list || fail "dpkg-deb --ctrl-tarfile $deb"
grep -qx './conffiles' ctrl.list || fail "no conffiles in the control archive: $(cat ctrl.list)"
dpkg-deb --info "$deb" conffiles >conffiles || fail "dpkg-deb --info $deb conffiles"
assert_eq /etc/sysupgraded.conf "$(cat conffiles)" "conffiles"

dpkg-deb -c "$deb" >contents || fail "dpkg-deb -c $deb"
awk '$2 != "root/root" { print }' contents >notroot
[ ! -s notroot ] || fail "files not owned by root/root: $(cat notroot)"
dpkg -x "$deb" root || fail "dpkg -x $deb"
r=$WORK/root
(cd "$r" && find . -type f -o -type l) | sed 's|^\./||' | sort >files
[ -s files ] || fail "dpkg -x extracted nothing"
grep -vE '^(etc/sysupgraded\.conf|lib/systemd/system/[^/]+|usr/(s?bin)/[^/]+|usr/share/(doc/sysupgraded|man/man[1-9]|sysupgraded/www)/.+)$' \
	files >stray || true
[ ! -s stray ] || fail "files outside the package's places: $(cat stray)"
# every conffile is a regular file of the package, and nothing else
# under etc/ is shipped unmarked
for c in $(cat conffiles); do
	[ -f "$r$c" ] || fail "conffile $c is not in the package"
done
grep '^etc/' files | sed 's|^|/|' | sort >etcfiles
sort conffiles | diff -u - etcfiles >etc.diff || fail "files under /etc that are not conffiles: $(cat etc.diff)"
pass "dpkg -x: $(wc -l <files) files, owned by root, all in their places; conffiles: /etc/sysupgraded.conf"

for p in usr/sbin/sysupgraded usr/bin/sysupgrade-bundle; do
	[ -f "$r/$p" ] && [ -x "$r/$p" ] || fail "$p is missing or not executable"
done
expect_ok "packaged sysupgraded --version" "$r/usr/sbin/sysupgraded" --version
grep -q "^sysupgraded $SU_VERSION" out || fail "sysupgraded --version: $(cat out)"
expect_ok "packaged sysupgrade-bundle --help" "$r/usr/bin/sysupgrade-bundle" --help
pass "the packaged programs are executable and run"

sh "$src/contrib/packaging/conffile.sh" "$src/contrib/sysupgraded.conf" >conf.want
cmp -s conf.want "$r/etc/sysupgraded.conf" ||
	fail "/etc/sysupgraded.conf is not conffile.sh's output: $(diff conf.want "$r/etc/sysupgraded.conf")"
! grep -qE '^[[:space:]]*token_sha256[[:space:]]*=' "$r/etc/sysupgraded.conf" ||
	fail "/etc/sysupgraded.conf sets a token_sha256: $(grep token_sha256 "$r/etc/sysupgraded.conf")"
cmp -s "$src/contrib/sysupgraded.conf" "$r/usr/share/doc/sysupgraded/examples/sysupgraded.conf" ||
	fail "the packaged example is not contrib/sysupgraded.conf"
diff -r "$src/www" "$r/usr/share/sysupgraded/www" >www.diff ||
	fail "the packaged www differs from the tree's: $(cat www.diff)"
pass "/etc/sysupgraded.conf is the example without its token; the example and www are the tree's"

# gz_9n FILE: FILE is gzip without a name or time (gzip -n): the header
# is 1f 8b 08, flags 0, mtime 0.
gz_9n() {
	[ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 1f8b080000000000 ] ||
		fail "$1 is not gzip -n (header $(od -An -tx1 -N10 "$1"))"
	gzip -t "$1" || fail "$1 is not a good gzip file"
}
n=0
for page in "$src"/man/*.[1-9]; do
	[ -f "$page" ] || fail "no man pages in $src/man"
	name=$(basename "$page")
	gz=$r/usr/share/man/man${name##*.}/$name.gz
	[ -f "$gz" ] || fail "man/$name is not packaged as ${gz#"$r"/}"
	gz_9n "$gz"
	gzip -dc "$gz" | cmp -s - "$page" || fail "${gz#"$r"/} is not man/$name"
	n=$((n + 1))
done
find "$r/usr/share/man" -type f ! -name '*.gz' >plain
[ ! -s plain ] || fail "uncompressed man pages: $(cat plain)"
pass "the $n pages of man/ are under usr/share/man/manN, gzip -n; none uncompressed"

unit=$r/lib/systemd/system/sysupgraded.service
[ -f "$unit" ] || fail "no lib/systemd/system/sysupgraded.service: $(grep systemd files)"
[ ! -e "$r/usr/lib/systemd" ] || fail "usr/lib/systemd is in the package beside lib/systemd"
grep -q '^ExecStart=/usr/sbin/sysupgraded ' "$unit" || fail "the unit's ExecStart: $(grep ExecStart "$unit")"
sed 's|/usr/sbin/sysupgraded|@|' "$src/contrib/init/systemd/sysupgraded.service" >unit.src
sed 's|/usr/sbin/sysupgraded|@|' "$unit" >unit.deb
cmp -s unit.src unit.deb || fail "the packaged unit is not contrib/init/systemd's: $(diff unit.src unit.deb)"
pass "the unit is contrib/init/systemd's, in /lib/systemd/system, ExecStart /usr/sbin/sysupgraded"

doc=$r/usr/share/doc/sysupgraded
cmp -s "$src/contrib/packaging/debian/copyright" "$doc/copyright" || fail "no or another usr/share/doc/sysupgraded/copyright"
gz_9n "$doc/changelog.gz"
top=$(gzip -dc "$doc/changelog.gz" | sed -n 1p)
assert_eq "sysupgraded ($SU_VERSION) unstable; urgency=medium" "$top" \
	"the changelog's first entry (bump contrib/packaging/debian/changelog with the version)"
pass "copyright; changelog.gz (gzip -n) starts with $SU_VERSION"

# lintian: errors fail; the rest is printed for the README's list.
rc=0
lintian --display-info "$deb" >lintian.out 2>lintian.err || rc=$?
grep -E '^[EWIXP]: ' lintian.out | sed 's/^/  lintian: /' || true
if grep -q '^E: ' lintian.out; then
	fail "lintian reports errors: $(grep '^E: ' lintian.out)"
fi
# lintian(1): 2 for tags at its --fail-on level (default: errors), 1 a
# run-time error
[ "$rc" -eq 0 ] || fail "lintian exited $rc: $(cat lintian.err)"
pass "lintian: no errors ($(grep -c '^W: ' lintian.out || true) warnings)"

# The check above can fail: the same package without its copyright file
# is an error to lintian (no-copyright-file).
dpkg-deb -R "$deb" broken || fail "dpkg-deb -R $deb"
rm broken/usr/share/doc/sysupgraded/copyright
sed -i '\| usr/share/doc/sysupgraded/copyright$|d' broken/DEBIAN/md5sums
dpkg-deb --root-owner-group -b broken broken.deb >/dev/null || fail "dpkg-deb -b broken"
rc=0
lintian broken.deb >lintian.out 2>lintian.err || rc=$?
grep -q '^E: sysupgraded: no-copyright-file' lintian.out && [ "$rc" -eq 2 ] ||
	fail "lintian misses the missing copyright file (exit $rc): $(cat lintian.out lintian.err)"
pass "lintian reports the error in a package without copyright"
