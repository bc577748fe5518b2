#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The keep-config archive (lib/keep.h) through su-keep: files, a
# directory (recursively, its links kept as links), a glob and the
# paths of a keep.d file with comments go into a pax tar of relative
# names, each once; missing paths are no error; relative and ".." paths
# are refused. Restored beneath a directory (reached through a link),
# the files have their bytes, modes, owners and times, and replace what
# was there, a symlink included, without writing through it. Hostile
# archives (made with python's tarfile) are refused and write nothing
# outside the directory: "../x", "/abs", a symlink "a -> outside" then
# "a/x", hardlinks to an absolute and to a "../" path; so are a file
# that is not an archive and a cut one.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"

: "${SU_KEEP_TOOL:?SU_KEEP_TOOL must name the su-keep binary}"
KP=$SU_KEEP_TOOL

[ "$(id -u)" = 0 ] || fail "this test needs root (chown, owners restored)"
need python3 cmp stat
[ -x "$KP" ] || fail "SU_KEEP_TOOL=$KP is not an executable"
mkwork
S=$WORK/src

# ---- what the device has ----
mkdir -p "$S/etc/config/sub" "$S/etc/dropbear" keep.d/subdir
echo "config interface lan" >"$S/etc/config/network"
echo "config system" >"$S/etc/config/system"
echo deep >"$S/etc/config/sub/deep"
ln -s network "$S/etc/config/link"
chmod 0640 "$S/etc/config/network"
chown 100:101 "$S/etc/config/network"
chmod 0700 "$S/etc/config/sub"
chown 7:8 "$S/etc/config/sub"
touch -d '2001-02-03 04:05:06' "$S/etc/config/system"
echo secret >"$S/etc/dropbear/dropbear_rsa_host_key"
chmod 0600 "$S/etc/dropbear/dropbear_rsa_host_key"
echo a >"$S/etc/a.conf"
echo b >"$S/etc/b.conf"
echo other >"$S/etc/other.txt"
echo "not listed" >"$S/etc/ignored"
cat >keep.d/10-base <<EOF
# OpenWrt-style list: one path or glob per line
$S/etc/dropbear/

   $S/etc/config/network
$S/no/such/file
# $S/etc/other.txt
$S/etc/nothing-*.conf
EOF
echo "$S/etc/ignored" >keep.d/.hidden
echo "$S/etc/ignored" >keep.d/subdir/list

config() {	# config KEEP...: a config whose [install] keep is KEEP
	cat >conf <<EOF
[device]
compatible = acme,router-x1
version = 1.0
[install]
keep = $*
keep_d = $WORK/keep.d
EOF
}
config "$S/etc/config" "$S/etc/*.conf" "$S/missing"

# ---- create ----
expect_ok "create" "$KP" create conf keep.cpio
assert_eq "$(stat -c %s keep.cpio)" "$(cat out)" "the size create reports"
assert_eq 600 "$(stat -c %a keep.cpio)" "the archive's mode"
# the names, from cpio newc headers (a reader independent of libarchive)
python3 - keep.cpio "${S#/}" >names <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
off = 0
while True:
    h = data[off:off + 110]
    assert h[:6] == b"070701", "not cpio newc at %d: %r" % (off, h[:6])
    f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
    size, namesize = f[6], f[11]
    name = data[off + 110:off + 110 + namesize - 1].decode()
    off = (off + 110 + namesize + 3) & ~3
    if name == "TRAILER!!!":
        break
    print(name)
    off = (off + size + 3) & ~3
EOF
sort names >names.sorted
P=${S#/}
cat >names.want <<EOF
$P/etc/a.conf
$P/etc/b.conf
$P/etc/config
$P/etc/config/link
$P/etc/config/network
$P/etc/config/sub
$P/etc/config/sub/deep
$P/etc/config/system
$P/etc/dropbear
$P/etc/dropbear/dropbear_rsa_host_key
EOF
sort names.want >names.want.sorted
cmp -s names.want.sorted names.sorted ||
	fail "the archive's names: expected
$(cat names.want.sorted)
got
$(cat names)"
pass "create: a directory, a glob, keep.d with comments; missing paths skipped, each name once, relative"

# ---- restore ----
mkdir dest
ln -s dest dest-link
# What the new system has already: a file and a link where kept files go.
mkdir -p "dest$S/etc"
echo old >"dest$S/etc/a.conf"
echo "victim" >victim
ln -s "$WORK/victim" "dest$S/etc/b.conf"
expect_ok "restore" "$KP" restore keep.cpio "$WORK/dest-link"
same() {	# same PATH: dest/PATH is PATH: bytes, type, mode, owner, mtime
	if [ -L "$1" ]; then
		[ -L "dest$1" ] || fail "dest$1 is not a symlink"
		assert_eq "$(readlink "$1")" "$(readlink "dest$1")" "link $1"
	elif [ -d "$1" ]; then
		[ -d "dest$1" ] || fail "dest$1 is not a directory"
	else
		[ -f "dest$1" ] && [ ! -L "dest$1" ] ||
			fail "dest$1 is not a regular file"
		cmp -s "$1" "dest$1" || fail "dest$1 differs from $1"
	fi
	assert_eq "$(stat -c '%F %a %u:%g %Y' "$1")" \
		"$(stat -c '%F %a %u:%g %Y' "dest$1")" "$1: type, mode, owner, mtime"
}
for n in $(cat names); do
	same "/$n"
done
assert_eq victim "$(cat victim)" "the file behind the link the restore replaced"
for n in other.txt ignored; do
	[ ! -e "dest$S/etc/$n" ] || fail "$n was restored but is not kept"
done
pass "restore: bytes, modes, owners, times and links as they were; an old file and a link replaced, nothing written through the link"

# ---- refused lists ----
config "etc/relative"
expect_status 1 "a relative keep path" "$KP" create "$WORK/conf" bad.tar
err_has "create: config_error: $WORK/conf: [install] keep: etc/relative: not an absolute path" \
	"a relative keep path"
[ ! -e bad.tar ] || fail "a refused create left its archive"
config "$S/etc/../etc/a.conf"
expect_status 1 "a .. keep path" "$KP" create "$WORK/conf" bad.tar
err_has "$WORK/conf: [install] keep: $S/etc/../etc/a.conf: a '..' component" "a .. keep path"
pass "relative and '..' keep paths are refused, naming the config and the path"

# ---- hostile archives ----
mkdir outside
cat >hostile.py <<'EOF'
import io, sys, tarfile

out, case, work = sys.argv[1], sys.argv[2], sys.argv[3]


def entry(name, kind=tarfile.REGTYPE, data=b"x\n", link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None


members = {
    "dotdot": [entry("ok"), entry("../escape-dotdot")],
    "absolute": [entry(work + "/escape-abs")],
    "symlink": [entry("a", tarfile.SYMTYPE, link=work + "/outside"),
                entry("a/x")],
    "hardlink-abs": [entry("h", tarfile.LNKTYPE, link=work + "/victim")],
    "hardlink-dotdot": [entry("h", tarfile.LNKTYPE, link="../victim")],
}[case]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    for ti, data in members:
        tar.addfile(ti, data)
EOF
VICTIM_LINKS=$(stat -c %h victim)
# hostile CASE WHY: the restore refuses CASE's archive with WHY.
hostile() {
	python3 hostile.py "$1.tar" "$1" "$WORK" || fail "hostile.py $1"
	rm -rf hdest
	mkdir hdest
	expect_status 1 "hostile archive $1" "$KP" restore "$1.tar" "$WORK/hdest"
	err_has "restore: bad_archive: keep archive $1.tar: " "hostile archive $1"
	err_has "$2" "hostile archive $1"
	for f in escape-dotdot escape-abs outside/x; do
		[ ! -e "$WORK/$f" ] || fail "hostile archive $1 wrote $WORK/$f"
	done
	assert_eq "$VICTIM_LINKS" "$(stat -c %h victim)" "$1: links of victim"
	[ ! -e hdest/h ] || fail "hostile archive $1 made a link to the victim"
	pass "hostile archive $1: refused ($(sed 's/.*: //' err)), nothing outside"
}
hostile dotdot "../escape-dotdot: Path contains '..'"
hostile absolute "$WORK/escape-abs: absolute name refused"
hostile symlink "a/x: Cannot extract through symlink"
hostile hardlink-abs "h: hardlink to $WORK/victim: absolute name refused"
hostile hardlink-dotdot "h: Path contains '..'"

echo "not a tar" >garbage.tar
expect_status 1 "not an archive" "$KP" restore garbage.tar "$WORK/hdest"
err_has "restore: bad_archive: keep archive garbage.tar: Unrecognized archive format" \
	"not an archive"
head -c 700 keep.cpio >cut.tar
expect_status 1 "a cut archive" "$KP" restore cut.tar "$WORK/hdest"
err_has "restore: bad_archive: keep archive cut.tar: " "a cut archive"
expect_status 1 "no directory" "$KP" restore keep.cpio "$WORK/nowhere"
err_has "restore: io_error: keep archive keep.cpio: restore into $WORK/nowhere: No such file" \
	"no directory"
pass "not an archive and a cut one are bad_archive; a missing directory io_error"
