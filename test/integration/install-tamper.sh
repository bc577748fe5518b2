#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A tar payload changed in staging after it was verified: the install
# streams it through the tar backend, finds the hash mismatch only once
# (almost) every byte was extracted, and aborts. The install fails with
# hash_mismatch, and the target holds none of the archive's files: its
# old contents (no mkfs, no clear) are there as they were. Once with a
# byte changed near the payload's end, once in its first member.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

need losetup mkfs.ext4 find
daemon_init
mount_staging 64M

truncate -s 64M target.img
TARGET=$(losetup -f --show target.img) || fail "losetup target.img"
D_LOOPS="$D_LOOPS $TARGET"
mkfs.ext4 -q -F "$TARGET"
mkdir mnt
mount "$TARGET" mnt
echo old >mnt/old.txt
mkdir -p mnt/etc mnt/srv
echo old-conf >mnt/etc/conf
echo old-file >mnt/srv/file-0001
umount mnt

CONF_TARGETS="[target:root]
type = tar
device = $TARGET"
write_config
daemon_start

# The target's tree: each file with its type, mode and content's hash.
tree() {
	mount -o ro "$TARGET" mnt || fail "mount $TARGET"
	(cd mnt && find . -path ./lost+found -prune -o -printf '%p %y %m\n' | sort &&
		find . -type f -exec sha256sum {} + | sort)
	umount mnt
}
BEFORE=$(tree)

# payload.img: a tarball of 200 files of 32 KiB (6.4 MiB), etc/conf and
# srv/file-0001 among them, so that they would replace old ones.
rm -rf tree && mkdir -p tree/etc tree/srv
echo new-conf >tree/etc/conf
i=1
while [ "$i" -le 200 ]; do
	head -c 32768 /dev/urandom >"tree/srv/file-$(printf %04d "$i")"
	i=$((i + 1))
done
tar --format=ustar -C tree -cf payload.img etc srv
# The README recipe, with no "bootenv": this install needs no U-Boot
# environment (nor the system-wide lock libubootenv takes on it).
rm -rf b && mkdir b && cp payload.img b/
(
	cd b
	{
		printf '{"format": 1, "version": "2.0.0", "compatible": ["acme,router-x1"],\n "images": [\n'
		image_json payload.img tar root
		printf ']}\n'
	} >manifest.json
	sign "$WORK/signing.pem" manifest.json manifest.json.sig
	tar --format=ustar -cf "$WORK/bundle.tar" manifest.json manifest.json.sig payload.img
)

# tamper WHERE OFFSET: stage bundle.tar, change the byte at OFFSET of
# the payload inside the staged file, install: failed, hash_mismatch,
# the target as it was.
tamper() {
	expect_api 200 "$1: stage the bundle" PUT /bundle -T bundle.tar
	_t_at=$(($(python3 "$SU_TEST_SRC/integration/tar_craft.py" offset \
		"$WORK/staging/bundle.tar" payload.img) + $2))
	# In place (r+b): the same file the daemon holds open.
	python3 "$SU_TEST_SRC/integration/tar_craft.py" flip \
		"$WORK/staging/bundle.tar" "$_t_at" || fail "$1: change the staged bundle"
	expect_api 202 "$1: POST /install" POST /install \
		-H 'Content-Type: application/json' --data-binary '{}'
	wait_end failed
	assert_eq hash_mismatch "$(status_field 'j["last_error"]["error"]')" \
		"$1: last error"
	[ -z "$(grep -F " $WORK/" /proc/self/mountinfo | grep -v " $WORK/staging ")" ] ||
		fail "$1: something is left mounted: $(grep -F "$WORK" /proc/self/mountinfo)"
	assert_eq "$BEFORE" "$(tree)" "$1: the target's tree after the abort"
	pass "$1: hash_mismatch, the target keeps its old contents and nothing of the archive"
}

# In the last member's data, 100 bytes before the end-of-archive blocks.
tamper "near the end" $(($(python3 "$SU_TEST_SRC/integration/tar_craft.py" end payload.img) - 100))
# In the first file's data (etc/conf, after the etc/ entry).
tamper "at the start" $(($(python3 "$SU_TEST_SRC/integration/tar_craft.py" offset payload.img etc/conf) + 2))

daemon_stop
assert_eq 0 "$DSTATUS" "exit status"
