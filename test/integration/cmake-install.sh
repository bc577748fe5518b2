#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# integration.cmake-install: `cmake --install` into a DESTDIR puts the
# two programs, the example config, the web UI (when the tree has www/),
# a man page for each program and one for the config, and the systemd
# unit under the prefix,
# and nothing else; the programs run from there, the man pages render
# without warnings, and the unit names the installed daemon (also under
# another prefix).
#   SU_BUILD_DIR  the build tree; SU_CMAKE  the cmake that made it
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
: "${SU_BUILD_DIR:?SU_BUILD_DIR must name the build tree}"
: "${SU_CMAKE:?SU_CMAKE must name cmake}"
need man diff find
mkwork
src=$(cd "$SU_TEST_SRC/.." && pwd)

# install PREFIX DESTDIR
install_to() {
	DESTDIR=$2 "$SU_CMAKE" --install "$SU_BUILD_DIR" --prefix "$1" >"$2.log" 2>&1 ||
		fail "cmake --install --prefix $1: $(cat "$2.log")"
}

install_to /usr "$WORK/root"
r=$WORK/root
{
	echo usr/bin/sysupgrade-bundle
	echo usr/lib/systemd/system/sysupgraded.service
	echo usr/sbin/sysupgraded
	echo usr/share/doc/sysupgraded/examples/sysupgraded.conf
	echo usr/share/man/man1/sysupgrade-bundle.1
	echo usr/share/man/man5/sysupgraded.conf.5
	echo usr/share/man/man8/sysupgraded.8
	if [ -d "$src/www" ]; then
		(cd "$src/www" && find . -type f | sed 's|^\./|usr/share/sysupgraded/www/|')
	fi
} | sort >expected
(cd "$r" && find . -type f | sed 's|^\./||' | sort) >installed
diff -u expected installed >files.diff || fail "installed files differ from the expected: $(cat files.diff)"
pass "cmake --install: $(wc -l <installed) files, the expected ones"

for p in usr/sbin/sysupgraded usr/bin/sysupgrade-bundle; do
	[ -x "$r/$p" ] || fail "$p is not executable"
done
expect_ok "installed sysupgraded --version" "$r/usr/sbin/sysupgraded" --version
grep -q '^sysupgraded ' out || fail "sysupgraded --version: $(cat out)"
expect_ok "installed sysupgraded --help" "$r/usr/sbin/sysupgraded" --help
grep -q -- '--mark-good' out || fail "sysupgraded --help: $(cat out)"
expect_ok "installed sysupgrade-bundle verify --help" "$r/usr/bin/sysupgrade-bundle" verify --help
grep -q -- '--keys' out || fail "sysupgrade-bundle verify --help: $(cat out)"
pass "the installed programs run"

cmp -s "$src/contrib/sysupgraded.conf" "$r/usr/share/doc/sysupgraded/examples/sysupgraded.conf" ||
	fail "the example config is not contrib/sysupgraded.conf"
if [ -d "$src/www" ]; then
	diff -r "$src/www" "$r/usr/share/sysupgraded/www" >www.diff ||
		fail "the installed www differs: $(cat www.diff)"
	pass "the example config and www are the tree's"
else
	pass "the example config is the tree's (no www/ in this tree, none installed)"
fi

for m in man8/sysupgraded.8:SYSUPGRADED man5/sysupgraded.conf.5:SYSUPGRADED.CONF \
	man1/sysupgrade-bundle.1:SYSUPGRADE-BUNDLE; do
	page=$r/usr/share/man/${m%%:*}
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" >man.out 2>man.err ||
		fail "man -l $page: $(cat man.err)"
	[ ! -s man.err ] || fail "man -l $page warns: $(cat man.err)"
	grep -q "^${m#*:}(" man.out && grep -q '^SYNOPSIS' man.out ||
		fail "man -l $page renders no header or SYNOPSIS: $(head -n 20 man.out)"
	case $page in
	*.5) ;;		# a file format has no exit status
	*) grep -q '^EXIT STATUS' man.out || fail "man -l $page renders no EXIT STATUS" ;;
	esac
done
pass "the three man pages render with man -l without warnings"

unit=$r/usr/lib/systemd/system/sysupgraded.service
grep -q '^ExecStart=/usr/sbin/sysupgraded ' "$unit" || fail "the unit's ExecStart: $(grep ExecStart "$unit")"
sed 's|/usr/sbin/sysupgraded|@|' "$src/contrib/init/systemd/sysupgraded.service" >unit.src
sed 's|/usr/sbin/sysupgraded|@|' "$unit" >unit.installed
cmp -s unit.src unit.installed || fail "the installed unit is not contrib/init/systemd's: $(diff unit.src unit.installed)"
install_to /opt/su "$WORK/opt"
grep -q '^ExecStart=/opt/su/sbin/sysupgraded ' "$WORK/opt/opt/su/lib/systemd/system/sysupgraded.service" ||
	fail "under /opt/su the unit's ExecStart: $(grep ExecStart "$WORK/opt/opt/su/lib/systemd/system/sysupgraded.service")"
[ -x "$WORK/opt/opt/su/sbin/sysupgraded" ] || fail "no sysupgraded under /opt/su"
pass "the systemd unit is contrib/init/systemd's, ExecStart the installed daemon (/usr and /opt/su)"
