#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The ext4 backend on loop devices: an image made with mkfs.ext4 -d is
# written, passes e2fsck and holds the tree it was made from; the
# read-back passes and catches a changed device; a mounted or held
# device, a device too small and an image that is not ext4 are refused
# with the device untouched.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/loop.sh"

loop_init
need diff mount

# expect_refused WHAT DETAIL-TEXT ARGS...: su-backend-write ARGS exits 1
# with "error: write_failed: ...DETAIL-TEXT...".
expect_refused() {
	_er_what=$1
	_er_text=$2
	shift 2
	expect_status 1 "$_er_what" "$BW" "$@"
	err_has "error: write_failed: " "$_er_what"
	err_has "$_er_text" "$_er_what"
	pass "$_er_what: refused ($(head -n1 err))"
}

# The source tree: small files, a 1 MiB random one, a symlink, modes.
mkdir -p src/etc src/usr/lib src/empty
echo "hello" >src/etc/greeting
printf 'a\nb\n' >src/etc/list
head -c 1048576 /dev/urandom >src/usr/lib/random.bin
ln -s ../usr/lib/random.bin src/etc/link
chmod 0600 src/etc/list
mkfs.ext4 -q -F -d src image.ext4 16M >/dev/null 2>&1 ||
	fail "mkfs.ext4 -d src image.ext4 16M failed"
IMAGE_SHA=$(sha image.ext4)

truncate -s 32M disk.img
loop_attach disk.img
DEV=$LOOP

# ---- the write, fsck, the content ----
expect_ok "write the image with read-back" "$BW" ext4 "$DEV" image.ext4 readback=yes
assert_eq ok "$(cat out)" "write: output"
pass "image written, read-back passed"

run e2fsck -fn "$DEV"
[ "$status" -eq 0 ] || fail "e2fsck -fn $DEV: status $status: $(cat out err)"
pass "e2fsck -fn passes"

mkdir mnt
mount -o ro "$DEV" mnt
diff -r --no-dereference -x lost+found src mnt ||
	fail "the mounted filesystem differs from the source tree"
assert_eq 600 "$(stat -c %a mnt/etc/list)" "mode of etc/list"
pass "content matches the source tree"

# ---- pieces as the install engine hands them over (page-aligned, whole
# blocks but the last): the backend writes them without its own buffer;
# the device holds the image either way ----
umount mnt
for chunk in 1048576 12288 4097; do
	dd if=/dev/zero of="$DEV" bs=1M count=32 conv=fsync status=none
	export SU_CHUNK=$chunk
	expect_ok "write in aligned pieces of $chunk" "$BW" ext4 "$DEV" image.ext4
	assert_eq "$IMAGE_SHA" "$(head -c "$(stat -c %s image.ext4)" "$DEV" | sha256sum | cut -d' ' -f1)" \
		"device bytes after pieces of $chunk"
done
unset SU_CHUNK
pass "aligned pieces of 1 MiB, 12 KiB and 4097 bytes: the device holds the image"
mount -o ro "$DEV" mnt

# ---- a mounted device: refused, the filesystem unchanged ----
before=$(sha "$DEV")
expect_refused "mounted device" "mounted at $WORK/mnt" ext4 "$DEV" image.ext4
assert_eq "$before" "$(sha "$DEV")" "mounted device after the refusal"
diff -r --no-dereference -x lost+found src mnt ||
	fail "the mounted filesystem changed after a refused write"
pass "mounted device unchanged"
umount mnt

# ---- held by another exclusive opener (O_EXCL): refused, says so ----
python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
open(sys.argv[2], "w").close()
time.sleep(120)' "$DEV" held &
HOLDER=$!
PIDS="$PIDS $HOLDER"
for _i in $(seq 100); do [ -e held ] && break; sleep 0.1; done
[ -e held ] || fail "the O_EXCL holder of $DEV did not start"
before=$(sha "$DEV")
expect_refused "device held with O_EXCL" "held by another exclusive opener" \
	ext4 "$DEV" image.ext4
assert_eq "$before" "$(sha "$DEV")" "held device after the refusal"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || :
pass "held device unchanged"

# ---- the read-back: passes, and sees a wrong hash or a changed device ----
expect_ok "verify-only, right hash" "$BW" --verify-only "$IMAGE_SHA" ext4 "$DEV" image.ext4
pass "verify-only passes"
wrong=$(printf '%s' "$IMAGE_SHA" | tr 0-9a-f 1-9a-f0)
expect_refused "verify-only, wrong hash" "read back $DEV: SHA-256" \
	--verify-only "$wrong" ext4 "$DEV" image.ext4
# One byte of random.bin, in the middle of the image, changes.
off=$(python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
r = open(sys.argv[2], "rb").read()
print(d.index(r[:4096]) + 1000)' image.ext4 src/usr/lib/random.bin)
old=$(dd if="$DEV" bs=1 skip="$off" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "\\$(printf %03o $(( (old + 1) % 256 )))" |
	dd of="$DEV" bs=1 seek="$off" conv=notrunc,fsync 2>/dev/null
expect_refused "verify-only after the device changed" "expected $IMAGE_SHA" \
	--verify-only "$IMAGE_SHA" ext4 "$DEV" image.ext4
pass "read-back catches one changed byte"

# ---- a device smaller than the image: refused, untouched ----
truncate -s 8M small.img
loop_attach small.img
SMALL=$LOOP
before=$(sha "$SMALL")
expect_refused "device too small" "device too small: 8388608 bytes, the image is 16777216" \
	ext4 "$SMALL" image.ext4
assert_eq "$before" "$(sha "$SMALL")" "small device after the refusal"
pass "small device untouched"

# ---- not an ext4 image: refused before any byte, untouched ----
head -c 4194304 /dev/urandom >junk.img
# Random bytes could carry the magic by chance: zero it.
printf '\0\0' | dd of=junk.img bs=1 seek=1080 conv=notrunc 2>/dev/null
expect_ok "rewrite the image" "$BW" ext4 "$DEV" image.ext4
before=$(sha "$DEV")
expect_refused "not an ext4 image" "not an ext4 image (no superblock magic)" \
	ext4 "$DEV" junk.img
assert_eq "$before" "$(sha "$DEV")" "device after the refused junk image"
pass "junk image refused, device untouched"

# ---- a missing device, and a regular file without allow_file ----
expect_refused "missing device" "open $WORK/nothing: No such file or directory" \
	ext4 "$WORK/nothing" image.ext4
truncate -s 32M file.img
expect_refused "regular file" "no allow_file = yes" ext4 file.img image.ext4
expect_ok "regular file, allow_file" "$BW" ext4 file.img image.ext4 allow_file=yes readback=yes
assert_eq "$IMAGE_SHA" "$(head -c 16777216 file.img | sha256sum | cut -d' ' -f1)" \
	"regular file content"
pass "regular file written with allow_file = yes"

assert_unmounted "$DEV" "end"
echo "backend-ext4: all passed"
