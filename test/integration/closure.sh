#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The stage-2 closure (lib/closure.h), built by su-closure of itself
# into a tmpfs as the daemon's staging area would hold it: the copy runs
# alone in a chroot of that root, through the loader and library path
# the plan names and through its own PT_INTERP, and an extra ELF file
# (/bin/ls) runs there with the libraries --list found for it. Of the
# program, its loader and libraries only the bytes the loader reads or
# maps are copied; the rest (debug info, symbol tables) are holes. The
# config, keys (through a symlinked directory, which stays a link), TLS
# files, www (recursively, with its link and empty directory) and
# fw_env.config with the environment file it names are there with their
# modes, owners and times; a device it names is not. Every symlink on
# the loader's path is the same link inside the root, the loader
# reported is a file that does not lead out of it, and closure_bytes()
# covers what the root takes. A missing extra file is an error.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"

: "${SU_CLOSURE_TOOL:?SU_CLOSURE_TOOL must name the su-closure binary}"
CL=$SU_CLOSURE_TOOL

[ "$(id -u)" = 0 ] || fail "this test needs root (tmpfs, chroot, chown)"
need chroot unshare mount umount mountpoint du cmp stat readelf readlink python3
[ -x "$CL" ] || fail "SU_CLOSURE_TOOL=$CL is not an executable"
mkwork
cleanup() {
	_c_rc=$?
	cd /
	if mountpoint -q "$WORK/staging"; then
		umount "$WORK/staging" || _c_rc=1
	fi
	rm -rf "$WORK"
	exit $_c_rc
}
trap cleanup EXIT

# ---- a device configuration with one of everything ----
mkdir -p etc/keys.real etc/tls www/css www/empty bin staging
ln -s keys.real etc/keys
cp "$SU_TEST_SRC/fuzz/keys/fuzz.pub.pem" etc/keys.real/
echo "not a key" >etc/keys.real/.hidden
echo cert >etc/tls/cert.pem
echo key >etc/tls/key.pem
chmod 0600 etc/tls/key.pem
chown 1234:5678 etc/tls/key.pem
touch -d '2001-02-03 04:05:06' etc/tls/key.pem
echo '<html></html>' >www/index.html
echo 'body {}' >www/css/app.css
ln -s index.html www/home.html
chmod 0750 www/css
head -c 16384 /dev/zero >env.bin
cat >etc/fw_env.config <<EOF
# device offset size
$WORK/env.bin 0x0 0x4000
/dev/null 0x0 0x4000
$WORK/no-such-env.bin 0x0 0x4000
EOF
printf '#!/bin/sh\necho hook\n' >bin/hook.sh
chmod 0755 bin/hook.sh

# A 32-bit ELF file whose PT_INTERP is a stand-in loader (a script): its
# --list output names the libraries, with "=>" and as absolute lines.
mkdir lib32
elf32() {	# elf32 OUT INTERP: program headers PT_INTERP and PT_DYNAMIC
	python3 - "$1" "$2" <<'EOF'
import struct, sys
out, interp = sys.argv[1], sys.argv[2].encode() + b"\0"
phoff, n = 52, 2
dyn = phoff + 32 * n
at = dyn + 8					# one DT_NULL entry
ehdr = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack(
    "<HHIIIIIHHHHHH", 2, 3, 1, 0, phoff, 0, 0, 52, 32, n, 0, 0, 0)
interp_ph = struct.pack("<8I", 3, at, 0, 0, len(interp), len(interp), 4, 1)
dyn_ph = struct.pack("<8I", 2, dyn, 0, 0, 8, 8, 6, 4)
open(out, "wb").write(ehdr + interp_ph + dyn_ph + bytes(8) + interp)
EOF
}
cat >lib32/ld-stand-in.so <<EOF
#!/bin/sh
# \$1 is --list, \$2 the file
case \$2 in
*/needy32)
	printf '\tlinux-gate.so.1 (0xf7f00000)\n'
	printf '\tlibfake.so.1 => $WORK/lib32/libfake.so.1 (0xf7e00000)\n'
	printf '\t$WORK/lib32/ld-stand-in.so (0xf7f10000)\n' ;;
*)
	printf '\tlibgone.so.1 => not found\n'
	exit 1 ;;
esac
EOF
chmod 0755 lib32/ld-stand-in.so
echo "not really a library" >lib32/libfake.so.1.0
ln -s libfake.so.1.0 lib32/libfake.so.1
elf32 bin/needy32 "$WORK/lib32/ld-stand-in.so"
elf32 bin/needs-gone "$WORK/lib32/ld-stand-in.so"
chmod 0755 bin/needy32 bin/needs-gone

cat >etc/sysupgraded.conf <<EOF
[device]
compatible = acme,router-x1
version = 1.0
keys = $WORK/etc/keys
fw_env_config = $WORK/etc/fw_env.config
[server]
cert = $WORK/etc/tls/cert.pem
key = $WORK/etc/tls/key.pem
www = $WORK/www
[staging]
dir = $WORK/staging
[install]
extra_files = /bin/ls $WORK/bin/hook.sh $WORK/bin/needy32
EOF
CONF=$WORK/etc/sysupgraded.conf

# The staging tmpfs holds the root, as in the daemon.
mount -t tmpfs -o mode=0700 su-closure-test staging
ROOT=$WORK/staging/root

# Mapped files, as dlopen() leaves them: one to copy, the staged bundle
# (in the staging directory: never), a removed one, a replaced one (its
# new bytes, which a new exec would load) and a memfd.
mkdir mapped
echo plugin >mapped/plugin.so
echo bundle >staging/bundle.sut
echo gone >mapped/gone.so
echo old >mapped/replaced.so
expect_ok "closure copy" "$CL" copy "$CONF" "$ROOT" \
	--map "$WORK/mapped/plugin.so" --map "$WORK/staging/bundle.sut" \
	--map-deleted "$WORK/mapped/gone.so" \
	--map-replaced "$WORK/mapped/replaced.so" --map-memfd
value() { sed -n "s/^$1=//p" out; }
EXE=$(value exe)
LOADER=$(value loader)
LIBPATH=$(value library_path)
BYTES=$(value bytes)
assert_eq "$(readlink -f "$CL")" "$EXE" "closure_exe"
pass "the plan: exe $EXE, loader $LOADER, library path $LIBPATH, $BYTES bytes"

# ---- what is in the root ----
same() {	# same PATH: ROOT/PATH has PATH's bytes, mode, owner, mtime
	[ -f "$ROOT$1" ] && [ ! -L "$ROOT$1" ] ||
		fail "$1 is not a regular file in the root"
	cmp -s "$1" "$ROOT$1" || fail "$ROOT$1 differs from $1"
	assert_eq "$(stat -c '%a %u:%g %Y' "$1")" \
		"$(stat -c '%a %u:%g %Y' "$ROOT$1")" "$1: mode, owner, mtime"
}
# same_loaded PATH: ROOT/PATH, a program or library, has PATH's size,
# mode, owner and mtime, and the bytes its loader reads or maps (the ELF
# and program headers, each segment's pages); everything else is a hole
# that takes no space (debug info and symbol tables stay behind).
same_loaded() {
	[ -f "$ROOT$1" ] && [ ! -L "$ROOT$1" ] ||
		fail "$1 is not a regular file in the root"
	assert_eq "$(stat -c '%a %u:%g %Y %s' "$1")" \
		"$(stat -c '%a %u:%g %Y %s' "$ROOT$1")" "$1: mode, owner, mtime, size"
	_sl_rc=0
	python3 - "$1" "$ROOT$1" >loaded.out 2>loaded.err <<'EOF2' || _sl_rc=$?
import os, struct, sys
src, dst = (open(p, "rb").read() for p in sys.argv[1:3])
page = os.sysconf("SC_PAGE_SIZE")
is64 = src[4] == 2
if is64:
    phoff, = struct.unpack_from("<Q", src, 0x20)
    entsize, num = struct.unpack_from("<HH", src, 0x36)
    ranges = [(0, phoff + entsize * num)]
    for i in range(num):
        _, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", src, phoff + i * entsize)
        if filesz:
            ranges.append((off, off + filesz))
else:
    phoff, = struct.unpack_from("<I", src, 0x1c)
    entsize, num = struct.unpack_from("<HH", src, 0x2a)
    ranges = [(0, phoff + entsize * num)]
    for i in range(num):
        _, off, _, _, filesz = struct.unpack_from("<IIIII", src, phoff + i * entsize)
        if filesz:
            ranges.append((off, off + filesz))
keep = bytearray(len(src))
for a, b in ranges:
    a = a // page * page
    b = min(len(src), (b + page - 1) // page * page)
    keep[a:b] = b"\1" * (b - a)
want = bytes(c if k else 0 for c, k in zip(src, keep))
if want != dst:
    bad = next(i for i in range(len(src)) if want[i] != dst[i])
    sys.exit("differs at byte %d (%s)" % (bad, "loaded" if keep[bad] else "a hole"))
loaded = sum(keep)
used = os.stat(sys.argv[2]).st_blocks * 512
if used != (loaded + page - 1) // page * page:
    sys.exit("takes %d bytes, its loaded parts are %d" % (used, loaded))
print(loaded, len(src))
EOF2
	[ "$_sl_rc" = 0 ] || fail "$ROOT$1 is not $1's loaded parts: $(cat loaded.err)"
}
same_link() {	# same_link PATH: ROOT/PATH is the same symlink
	[ -L "$ROOT$1" ] || fail "$ROOT$1 is not a symlink (the host's $1 is)"
	assert_eq "$(readlink "$1")" "$(readlink "$ROOT$1")" "link $1"
}
same_loaded "$EXE"
read -r EXE_LOADED EXE_SIZE <loaded.out
[ "$EXE_LOADED" -lt "$EXE_SIZE" ] ||
	fail "the copy of $EXE takes all its $EXE_SIZE bytes (it has debug info or a symbol table)"
pass "the program: only what its loader maps is copied ($EXE_LOADED of $EXE_SIZE bytes), the rest is holes"
same "$CONF"
same_link "$WORK/etc/keys"
same "$WORK/etc/keys.real/fuzz.pub.pem"
[ ! -e "$ROOT$WORK/etc/keys.real/.hidden" ] ||
	fail "a dot file of the keys directory was copied (keyring_load_dir reads none)"
same "$WORK/etc/tls/cert.pem"
same "$WORK/etc/tls/key.pem"
same "$WORK/www/index.html"
same "$WORK/www/css/app.css"
same_link "$WORK/www/home.html"
[ -d "$ROOT$WORK/www/empty" ] || fail "www's empty directory is missing"
assert_eq 750 "$(stat -c %a "$ROOT$WORK/www/css")" "mode of www/css"
same "$WORK/etc/fw_env.config"
same "$WORK/env.bin"
[ ! -e "$ROOT/dev" ] || fail "fw_env.config's /dev/null came along: $(ls -la "$ROOT/dev")"
same "$WORK/bin/hook.sh"
same "$WORK/bin/needy32"
same "$WORK/lib32/ld-stand-in.so"
same_link "$WORK/lib32/libfake.so.1"
same "$WORK/lib32/libfake.so.1.0"
[ ! -e "$ROOT$WORK/staging" ] || fail "the staging directory was copied into itself"
same "$WORK/mapped/plugin.so"
same "$WORK/mapped/replaced.so"
[ ! -e "$ROOT$WORK/mapped/gone.so" ] || fail "a removed mapped file was copied"
[ -z "$(find "$ROOT" -name 'memfd:*')" ] || fail "a memfd was copied"
pass "config, keys (a linked directory), TLS, www, fw_env and extra files (a 32-bit ELF's PT_INTERP and --list libraries) are there as they were"
pass "mapped files: taken, but not from staging, not removed ones, not a memfd; a replaced one as it is now"

# The loader: a real file at a path without links, so ROOT/LOADER cannot
# lead out of the root; every link on PT_INTERP's way is there too.
INTERP=$(readelf -l "$EXE" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[ -n "$INTERP" ] || fail "readelf found no PT_INTERP in $EXE"
assert_eq "$(readlink -f "$INTERP")" "$LOADER" "closure_loader"
assert_eq "$LOADER" "$(readlink -f "$LOADER")" "closure_loader has no link"
same_loaded "$LOADER"
# links_on PATH: every symlink a lookup of PATH goes through, in order.
links_on() {
	python3 - "$1" <<'EOF'
import os, sys
done, parts, seen = "", [p for p in sys.argv[1].split("/") if p], []
while parts:
    c = parts.pop(0)
    if c == "..":
        done = done.rsplit("/", 1)[0]
    elif c != ".":
        nxt = done + "/" + c
        if os.path.islink(nxt):
            t = os.readlink(nxt)
            seen.append(nxt)
            parts = [p for p in t.split("/") if p] + parts
            done = "" if t.startswith("/") else done
        else:
            done = nxt
print("\n".join(seen))
EOF
}
links=0
for l in $(links_on "$INTERP"); do
	same_link "$l"
	links=$((links + 1))
done
pass "loader $LOADER; the $links symlinks on the way to $INTERP are the same links in the root"

# ---- it runs there alone ----
# /proc as stage 2 moves it in (the sanitizers read /proc/self/maps).
mkdir "$ROOT/proc"
in_root() {
	unshare --mount --propagation private sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' \
		"$ROOT" "$@"
}
expect_ok "the copy through its loader" in_root "$LOADER" \
	--library-path "$LIBPATH" "$EXE" --selftest "$CONF"
grep -q "^selftest ok: $CONF, 1 keys" out || fail "selftest said: $(cat out)"
pass "the copy runs in the root with nothing else: $(cat out)"
expect_ok "the copy through PT_INTERP" in_root "$EXE" --selftest "$CONF"
pass "...and exec'd directly, through $INTERP's links in the root"
expect_ok "extra ELF file in the root" in_root /bin/ls "$WORK/www"
grep -q index.html out || fail "ls in the root said: $(cat out)"
pass "extra_files /bin/ls runs in the root with the libraries --list found"
rmdir "$ROOT/proc"

# ---- the size ----
DU=$(du -s -B1 "$ROOT" | cut -f1)
[ "$BYTES" -ge "$DU" ] || fail "closure_bytes $BYTES < du of the root, $DU"
pass "closure_bytes $BYTES >= du $DU"

# A second copy over the first is the same root.
expect_ok "copy again" "$CL" copy "$CONF" "$ROOT"
same_loaded "$EXE"
same_link "$WORK/etc/keys"
pass "a copy over an earlier one"

# ---- refusals ----
sed -i "s|^extra_files = .*|extra_files = $WORK/bin/nothing|" "$CONF"
expect_status 1 "a missing extra file" "$CL" plan "$CONF"
err_has "plan: config_error: closure: extra_files $WORK/bin/nothing: No such file or directory" \
	"a missing extra file"
pass "a missing extra file is refused, named"
sed -i "s|^extra_files = .*|extra_files = $WORK/bin/needs-gone|" "$CONF"
expect_status 1 "a library not found" "$CL" plan "$CONF"
err_has "plan: config_error: closure: $WORK/bin/needs-gone needs libgone.so.1, which its loader does not find" \
	"a library not found"
pass "an extra file whose library its loader does not find is refused, naming both"
