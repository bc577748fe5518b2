#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The tar backend into a loop-mounted ext4: a tarball's files, modes,
# owners, links and xattrs are kept; mkfs and clear work; a mounted
# device, a device with no filesystem and a truncated tarball are
# refused; hostile tarballs (../, absolute names, writing or linking
# through a symlink, hardlinks out, a pax linkpath out, device nodes)
# are refused with libarchive's or the backend's reason, leave nothing
# of themselves on the target and change nothing outside it; a name with
# control characters is shown escaped. mkfs and the extraction process
# start with an empty signal mask and no ignored signal. During an
# extraction no other user can reach the mount, and an aborted one
# leaves the old contents as they were. The backend's private mount and
# its parent are gone after every run.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/loop.sh"

loop_init
need getfattr blkid e2label setpriv

CANARY=$WORK/canary	# outside the target: must stay as it is
mkdir "$CANARY"
echo "victim" >"$CANARY/victim"
VICTIM_SHA=$(sha "$CANARY/victim")
PASSWD_SHA=$(sha /etc/passwd)
PASSWD_LINKS=$(stat -c %h /etc/passwd)

# mktar OUT CASE: the tarballs, made with python's tarfile (pax).
cat >mktar.py <<'EOF'
import io, sys, tarfile

out, case, canary = sys.argv[1], sys.argv[2], sys.argv[3]
up = "../" * 16 + canary.lstrip("/")	# from the mount point to canary
members = []


def add(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0,
        link="", xattrs=None, dev=(0, 0), pax=None):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid = kind, mode, uid, gid
    ti.mtime, ti.linkname = 1500000000, link
    ti.devmajor, ti.devminor = dev
    ti.size = len(data)
    ti.pax_headers = dict(pax or {})
    if xattrs:
        ti.pax_headers.update({"SCHILY.xattr." + k: v
                               for k, v in xattrs.items()})
    members.append((ti, data))


if case == "normal":
    add("etc", tarfile.DIRTYPE, mode=0o755)
    add("etc/conf", data=b"conf\n", mode=0o640, uid=1234, gid=2345)
    add("usr/bin", tarfile.DIRTYPE, mode=0o755)
    add("usr/bin/tool", data=b"#!/bin/sh\n", mode=0o4755)
    add("usr/bin/tool2", tarfile.LNKTYPE, link="usr/bin/tool")
    add("bin", tarfile.SYMTYPE, link="usr/bin", mode=0o777)
    add("data/x.bin", data=bytes(range(256)) * 64, mode=0o600, uid=1234,
        gid=1234, xattrs={"user.test": "hello"})
    add("var/empty", tarfile.DIRTYPE, mode=0o700, uid=1234, gid=2345)
    add("run/fifo", tarfile.FIFOTYPE, mode=0o620)
elif case == "dotdot":
    add(up + "/dotdot", data=b"escaped\n")
elif case == "dotdot-short":
    add("../escape", data=b"escaped\n")
elif case == "absolute":
    add(canary + "/absolute", data=b"escaped\n")
elif case == "symlink-abs":
    add("link", tarfile.SYMTYPE, link=canary, mode=0o777)
    add("link/pwned", data=b"escaped\n")
elif case == "symlink-rel":
    add("link", tarfile.SYMTYPE, link=up, mode=0o777)
    add("link/pwned", data=b"escaped\n")
elif case == "symlink-dotdot":
    add("link", tarfile.SYMTYPE, link="..", mode=0o777)
    add("link/pwned", data=b"escaped\n")
elif case == "hardlink-via-symlink":
    # The link's target walks through a symlink the archive made.
    add("link", tarfile.SYMTYPE, link=canary, mode=0o777)
    add("pw", tarfile.LNKTYPE, link="link/victim")
elif case == "symlink-last":
    # A file of the symlink's own name: replaces it, not written through.
    add("s", tarfile.SYMTYPE, link=canary + "/victim", mode=0o777)
    add("s", data=b"pwned\n")
elif case == "pax-linkpath":
    # The ustar link name is harmless, the pax linkpath (which wins) not.
    add("pw", tarfile.LNKTYPE, link="harmless",
        pax={"linkpath": "../" * 16 + "etc/passwd"})
elif case == "stage-name":
    add(".sysupgraded-new/x", data=b"x\n")
elif case == "control-chars":
    add("dev", tarfile.DIRTYPE, mode=0o755)
    add("dev/evil\n\033[31m\rname", tarfile.CHRTYPE, mode=0o666, dev=(1, 3))
elif case == "hardlink-abs":
    add("pw", tarfile.LNKTYPE, link="/etc/passwd")
elif case == "hardlink-dotdot":
    add("pw", tarfile.LNKTYPE, link="../" * 16 + "etc/passwd")
elif case == "hardlink-data":
    # A hardlink entry with a body writes through the link.
    add("v", tarfile.LNKTYPE, link=canary + "/victim", data=b"pwned\n")
elif case == "chardev":
    add("dev", tarfile.DIRTYPE, mode=0o755)
    add("dev/null2", tarfile.CHRTYPE, mode=0o666, dev=(1, 3))
elif case == "blockdev":
    add("dev", tarfile.DIRTYPE, mode=0o755)
    add("dev/sda9", tarfile.BLKTYPE, mode=0o660, dev=(8, 9))
else:
    sys.exit("mktar: no case " + case)

with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    for ti, data in members:
        tar.addfile(ti, io.BytesIO(data) if data else None)
EOF
mktar() {
	python3 mktar.py "$1" "$2" "$CANARY" || fail "mktar $2 failed"
}

# Nothing outside the target changed, and the backend left no mount.
assert_outside_untouched() {
	assert_eq victim "$(ls -A "$CANARY")" "$1: canary directory"
	assert_eq "$VICTIM_SHA" "$(sha "$CANARY/victim")" "$1: canary victim"
	assert_eq 1 "$(stat -c %h "$CANARY/victim")" "$1: links to the canary victim"
	assert_eq "$PASSWD_SHA" "$(sha /etc/passwd)" "$1: /etc/passwd"
	assert_eq "$PASSWD_LINKS" "$(stat -c %h /etc/passwd)" "$1: links to /etc/passwd"
	[ ! -e "$WORK/escape" ] && [ ! -e /run/escape ] && [ ! -e /tmp/escape ] ||
		fail "$1: ../escape appeared outside the target"
	assert_unmounted "$DEV" "$1"
	# The mount point's parent: anything in it would have kept it.
	assert_eq "" "$(private_dirs)" "$1: the backend's mount point directories"
}

# The backend's mount point parents that exist now.
private_dirs() {
	for _pd in /run/sysupgraded-tar.* /tmp/sysupgraded-tar.*; do
		[ ! -e "$_pd" ] || echo "$_pd"
	done
}

# python3 held.py CMD...: CMD with SIGTERM, SIGINT and SIGHUP blocked
# and SIGPIPE ignored, as the daemon runs its backends (the same process).
cat >held.py <<'EOF'
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])
EOF

# assert_clean_signals FILE WHAT [SPAWNED]: FILE is a process's
# /proc/PID/status whose blocked and ignored signal sets are empty. With
# SPAWNED (a program glibc's posix_spawn started), signals 32 and 33 may
# be ignored: glibc's own two (SIGCANCEL, SIGSETXID), which its
# posix_spawn sets to SIG_IGN in every child, attributes or not, and
# which no one but a C library uses.
assert_clean_signals() {
	_acs_mask=0
	[ $# -lt 3 ] || _acs_mask=0x180000000
	_acs_blk=$(sed -n 's/^SigBlk:\t//p' "$1")
	_acs_ign=$(sed -n 's/^SigIgn:\t//p' "$1")
	assert_eq "0 0" "$((0x$_acs_blk)) $((0x$_acs_ign & ~_acs_mask))" \
		"$2: blocked (SigBlk $_acs_blk) and ignored (SigIgn $_acs_ign) signals"
}

fsck_ok() {
	run e2fsck -fn "$DEV"
	[ "$status" -eq 0 ] || fail "$1: e2fsck -fn $DEV: status $status: $(cat out err)"
}

mnt() {
	mount -o ro "$DEV" mnt
}

truncate -s 64M disk.img
loop_attach disk.img
DEV=$LOOP
mkfs.ext4 -q -F "$DEV"
mkdir mnt

# ---- a normal tarball: everything kept ----
mktar normal.tar normal
expect_ok "extract a tarball" "$BW" tar "$DEV" normal.tar
assert_eq ok "$(cat out)" "extract: output"
assert_unmounted "$DEV" "after a good extraction"
fsck_ok "after a good extraction"
mnt
assert_eq "640 1234 2345 1500000000" "$(stat -c '%a %u %g %Y' mnt/etc/conf)" "etc/conf"
assert_eq "conf" "$(cat mnt/etc/conf)" "etc/conf content"
assert_eq "4755 0 0" "$(stat -c '%a %u %g' mnt/usr/bin/tool)" "usr/bin/tool (setuid)"
assert_eq "$(stat -c %i mnt/usr/bin/tool)" "$(stat -c %i mnt/usr/bin/tool2)" "hardlink tool2"
assert_eq 2 "$(stat -c %h mnt/usr/bin/tool)" "links to usr/bin/tool"
assert_eq usr/bin "$(readlink mnt/bin)" "symlink bin"
assert_eq "600 1234 1234" "$(stat -c '%a %u %g' mnt/data/x.bin)" "data/x.bin"
assert_eq 16384 "$(stat -c %s mnt/data/x.bin)" "data/x.bin size"
assert_eq hello "$(getfattr --only-values -n user.test mnt/data/x.bin)" "xattr user.test"
assert_eq "700 1234 2345" "$(stat -c '%a %u %g' mnt/var/empty)" "var/empty"
assert_eq "fifo 620" "$(stat -c '%F %a' mnt/run/fifo)" "run/fifo"
umount mnt
pass "files, dirs, symlinks, hardlinks, modes, owners, times and xattrs kept"

# ---- old contents: kept by default, clear = yes removes them ----
mount "$DEV" mnt
echo old >mnt/old.txt
mkdir -p mnt/olddir/sub
ln -s /etc/passwd mnt/olddir/sub/pw
umount mnt
expect_ok "extract again" "$BW" tar "$DEV" normal.tar
mnt
[ -e mnt/old.txt ] || fail "without clear, old.txt was removed"
umount mnt
pass "without clear, old contents stay"
expect_ok "extract with clear" "$BW" tar "$DEV" normal.tar clear=yes
mnt
[ ! -e mnt/old.txt ] && [ ! -e mnt/olddir ] ||
	fail "clear = yes left old contents: $(ls -A mnt)"
[ -d mnt/lost+found ] || fail "clear = yes removed lost+found"
assert_eq conf "$(cat mnt/etc/conf)" "etc/conf after clear"
umount mnt
assert_eq "$PASSWD_SHA" "$(sha /etc/passwd)" "/etc/passwd after clear"
fsck_ok "after clear"
pass "clear = yes removes the old contents (not through symlinks)"

# ---- mkfs = yes: a fresh filesystem ----
mount "$DEV" mnt
echo old >mnt/old2.txt
umount mnt
uuid=$(blkid -s UUID -o value "$DEV")
expect_ok "extract with mkfs" "$BW" tar "$DEV" normal.tar mkfs=yes "mkfs_options=-L fresh -m 0"
[ "$(blkid -s UUID -o value "$DEV")" != "$uuid" ] ||
	fail "mkfs = yes kept the filesystem UUID $uuid"
assert_eq fresh "$(e2label "$DEV")" "label from mkfs_options"
mnt
[ ! -e mnt/old2.txt ] || fail "mkfs = yes kept old2.txt"
assert_eq conf "$(cat mnt/etc/conf)" "etc/conf after mkfs"
umount mnt
fsck_ok "after mkfs"
pass "mkfs = yes makes a fresh filesystem (mkfs_options passed)"

# ---- refusals before extraction ----
mnt
before=$(sha "$DEV")
expect_status 1 "mounted device" "$BW" tar "$DEV" normal.tar
err_has "error: write_failed: open $DEV: Device or resource busy (mounted at $WORK/mnt)" "mounted device"
assert_eq "$before" "$(sha "$DEV")" "mounted device after the refusal"
assert_eq "$WORK/mnt" "$(mounts_of "$DEV")" "mounts of the refused device"
umount mnt
pass "mounted device refused"

expect_status 1 "not a block device" "$BW" tar disk.img normal.tar
err_has "error: write_failed: open disk.img: not a block device" "not a block device"
expect_status 1 "unknown option" "$BW" tar "$DEV" normal.tar mkfs=yes colour=blue
err_has "error: config_error: target test: unknown option 'colour'" "unknown option"
expect_status 1 "bad flag" "$BW" tar "$DEV" normal.tar clear=perhaps
err_has "option clear = 'perhaps' is not yes or no" "bad flag"
expect_status 1 "bad fstype" "$BW" tar "$DEV" normal.tar fstype=../../bin/sh
err_has "fstype '../../bin/sh' is not a filesystem type" "bad fstype"
expect_status 1 "unknown mkfs" "$BW" tar "$DEV" normal.tar mkfs=yes fstype=nosuchfs
err_has "mkfs.nosuchfs $DEV: No such file or directory" "unknown mkfs"
assert_unmounted "$DEV" "refused options"
pass "bad options refused"

dd if=/dev/zero of="$DEV" bs=1M count=4 conv=fsync 2>/dev/null
expect_status 1 "no filesystem" "$BW" tar "$DEV" normal.tar
err_has "error: write_failed: mount $DEV on " "no filesystem"
assert_unmounted "$DEV" "no filesystem"
expect_ok "no filesystem, mkfs = yes" "$BW" tar "$DEV" normal.tar mkfs=yes
pass "a device without a filesystem is refused, mkfs = yes fixes it"

head -c 3000 normal.tar >truncated.tar
expect_status 1 "truncated tarball" "$BW" tar "$DEV" truncated.tar
err_has "error: write_failed: extract onto $DEV: " "truncated tarball"
why=$(head -n1 err)
assert_unmounted "$DEV" "truncated tarball"
fsck_ok "truncated tarball"
pass "truncated tarball refused ($why)"

# ---- hostile tarballs ----
# hostile CASE [OPTIONS...]: refused, or extracted with nothing outside
# the target; the filesystem stays clean and is unmounted. Each starts
# from an empty filesystem (clear = yes), so no case sees another's
# leftovers.
hostile() {
	_h_case=$1
	shift
	mktar "$_h_case.tar" "$_h_case"
	run "$BW" tar "$DEV" "$_h_case.tar" clear=yes "$@"
	HSTATUS=$status
	cp err hostile.err
	case $HSTATUS in
	1)	err_has "error: write_failed: extract onto $DEV: " "$_h_case"
		_h_how="refused: $(head -n1 err)"
		mnt
		assert_eq lost+found "$(ls -A mnt)" "$_h_case: the target after the refusal"
		umount mnt ;;
	0)	_h_how="contained" ;;
	*)	fail "$_h_case: exit $HSTATUS: $(cat err)" ;;
	esac
	assert_outside_untouched "$_h_case"
	fsck_ok "$_h_case"
	pass "$_h_case: $_h_how"
}

# refused CASE TEXT: the last hostile CASE was refused, saying TEXT.
refused() {
	[ "$HSTATUS" -eq 1 ] || fail "$1: expected a refusal, got exit $HSTATUS"
	grep -qF -- "$2" hostile.err ||
		fail "$1: expected '$2' on stderr, got: $(cat hostile.err)"
}

hostile dotdot
refused dotdot "Path contains '..'"
hostile dotdot-short
refused dotdot-short "Path contains '..'"
hostile absolute
refused absolute "Path is absolute"
hostile hardlink-abs
refused hardlink-abs "pw: Path is absolute"
hostile hardlink-dotdot
refused hardlink-dotdot "pw: Path contains '..'"
hostile hardlink-data
refused hardlink-data "v: Path is absolute"
hostile chardev
refused chardev "dev/null2: device node refused (allow_devices = no)"
hostile blockdev
refused blockdev "dev/sda9: device node refused (allow_devices = no)"
for _c in symlink-abs symlink-rel symlink-dotdot; do
	hostile "$_c"
	refused "$_c" "link/pwned: Cannot extract through symlink link/pwned"
done
hostile hardlink-via-symlink
refused hardlink-via-symlink "pw: Cannot extract through symlink link/victim"
hostile pax-linkpath
refused pax-linkpath "pw: Path contains '..'"
hostile stage-name
refused stage-name ".sysupgraded-new/x: name reserved for the extraction (.sysupgraded-new)"
# A symlink, then a file of its name: the file replaces the symlink.
hostile symlink-last
[ "$HSTATUS" -eq 0 ] || fail "symlink-last: refused: $(cat hostile.err)"
mnt
assert_eq "regular file pwned" "$(stat -c %F mnt/s) $(cat mnt/s)" "symlink-last: s"
umount mnt

# A name with control characters, shown escaped on one line.
hostile control-chars
refused control-chars 'dev/evil\n\x1b[31m\rname: device node refused (allow_devices = no)'
assert_eq 2 "$(wc -l <hostile.err)" "control-chars: lines on stderr"
if tr -d '\n' <hostile.err | grep -q '[[:cntrl:]]'; then
	fail "control-chars: a control character on stderr: $(cat -A hostile.err)"
fi
pass "a member name with control characters is shown escaped"

# allow_devices = yes: a root filesystem's /dev nodes are made.
expect_ok "device node with allow_devices" "$BW" tar "$DEV" chardev.tar allow_devices=yes
mnt
assert_eq "character special file 1 3" "$(stat -c '%F %t %T' mnt/dev/null2)" "dev/null2"
umount mnt
pass "allow_devices = yes makes device nodes"

# ---- child processes: an empty signal mask, no ignored signal ----
mkdir bin
# Builtins only: a shell blocks every signal while it forks, so a cat
# reading the shell's status could catch it mid-fork.
cat >bin/mkfs.sutest <<EOF
#!/bin/sh
while IFS= read -r l; do printf '%s\\n' "\$l"; done </proc/\$\$/status >"$WORK/mkfs.status"
EOF
chmod +x bin/mkfs.sutest
PATH=$WORK/bin:$PATH python3 held.py "$BW" tar "$DEV" normal.tar mkfs=yes fstype=sutest \
	>out 2>err && fail "fstype sutest mounted"
err_has "mount $DEV on " "the mount after mkfs.sutest"
assert_clean_signals mkfs.status "mkfs" spawned
pass "mkfs starts with an empty signal mask and no ignored signal"

# ---- during an extraction, fed through a FIFO ----
# slow.tar: a small file, then 2 MiB the test holds back.
python3 - <<'EOF'
import io, tarfile
with tarfile.open("slow.tar", "w", format=tarfile.PAX_FORMAT) as tar:
    for name, data in (("etc/early", b"early\n"), ("big", b"\1" * (2 << 20))):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.mtime = len(data), 0o644, 1500000000
        tar.addfile(ti, io.BytesIO(data))
EOF
mkfs.ext4 -q -F "$DEV"
mount "$DEV" mnt
echo old >mnt/old.txt
mkdir mnt/etc
echo old >mnt/etc/early
umount mnt
mkfifo feed
SU_IMAGE_SIZE=$(stat -c %s slow.tar) python3 held.py "$BW" tar "$DEV" feed \
	>slow.out 2>slow.err &
BWPID=$!
PIDS="$PIDS $BWPID"
exec 3>feed
head -c 65536 slow.tar >&3
# extracting: wait for the new etc/early below the mount (10 s at most).
i=0
while :; do
	mp=$(mounts_of "$DEV")
	[ -z "$mp" ] || [ -z "$(find "$mp" -path '*/etc/early' -exec grep -lx early {} +)" ] || break
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "no extraction of slow.tar began: $(cat slow.err)"
	sleep 0.1
done
parent=${mp%/*}
assert_eq "700 0 directory" "$(stat -c '%a %u %F' "$parent")" "the mount point's parent during an extraction"
if setpriv --reuid=65534 --regid=65534 --clear-groups stat "$mp" >nobody.out 2>&1; then
	fail "another user reached the mount during an extraction: $(cat nobody.out)"
fi
grep -q "Permission denied" nobody.out || fail "stat as nobody: $(cat nobody.out)"
if setpriv --reuid=65534 --regid=65534 --clear-groups cat "$mp/old.txt" >nobody.out 2>&1; then
	fail "another user read a file of the target during an extraction"
fi
child=$(cat "/proc/$BWPID/task/$BWPID/children")
[ -n "$child" ] || fail "su-backend-write has no extraction process"
cat "/proc/${child% }/status" >child.status
assert_clean_signals child.status "the extraction process"
pass "during an extraction: a 0700 parent, no way in for another user, clean signals"

# The rest of the archive but its last 1024 bytes, then the end: the
# write is short, so su-backend-write aborts the backend.
total=$(stat -c %s slow.tar)
tail -c +65537 slow.tar | head -c $((total - 65536 - 1024)) >&3
exec 3>&-
if wait "$BWPID"; then
	fail "a short archive was installed"
fi
grep -q "read feed: shorter than it was" slow.err || fail "short archive: $(cat slow.err)"
assert_unmounted "$DEV" "aborted extraction"
mnt
assert_eq "etc lost+found old.txt" "$(ls -A mnt | tr '\n' ' ' | sed 's/ $//')" "the target after the abort"
assert_eq "early" "$(ls -A mnt/etc)" "etc/ after the abort"
assert_eq old "$(cat mnt/etc/early)" "etc/early after the abort"
assert_eq old "$(cat mnt/old.txt)" "old.txt after the abort"
umount mnt
fsck_ok "after the abort"
pass "an aborted extraction leaves the old contents and nothing of the archive"

# The whole of it: etc/early replaced, old.txt kept.
expect_ok "slow.tar at once" "$BW" tar "$DEV" slow.tar
mnt
assert_eq "early old" "$(cat mnt/etc/early) $(cat mnt/old.txt)" "after slow.tar"
assert_eq "big etc lost+found old.txt" "$(ls -A mnt | tr '\n' ' ' | sed 's/ $//')" "the target after slow.tar"
umount mnt
fsck_ok "after slow.tar"
pass "a finished extraction replaces files and keeps the others"

assert_outside_untouched "end"
echo "backend-tar: all passed"
