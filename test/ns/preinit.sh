#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The rig's pre-init: PID 1 of a fresh PID and mount namespace (started
# by rig_boot under `unshare --pid --mount --fork`), still on the host's
# root. It does what a kernel and an initramfs would: mount the root
# device, give it its own /proc, /sys, /dev, /run and /tmp, pivot into
# it, drop the host's root, and exec /sbin/init as PID 1.
#   preinit.sh ROOTDEV MNT HOSTDIR [ENVDEV [NAME=DEV...]]
# ROOTDEV  the loop device holding the ext4 root (also /dev/rigroot)
# MNT      an empty host directory to mount it on (private to this ns)
# HOSTDIR  a host directory bound at /host, for markers the host reads
# ENVDEV   a loop device holding a U-Boot environment (/dev/rigenv);
#          may be empty
# NAME=DEV more loop devices, each at /dev/NAME and its own /dev name
# The environment of init is PATH plus ASAN_OPTIONS and UBSAN_OPTIONS.
set -euo pipefail

rootdev=$1
mnt=$2
hostdir=$3
envdev=${4:-}
shift $(($# < 4 ? $# : 4))

say() { echo "rig-preinit: $*"; }
die() {
	say "FAIL: $*"
	exit 1
}

[ "$$" = 1 ] || die "not PID 1 of a PID namespace (pid $$)"
[ -b "$rootdev" ] || die "$rootdev is not a block device"

# blknode DEV PATH: a block node of DEV's number at PATH
blknode() {
	local num
	num=$(stat -L -c '%t %T' "$1") || die "stat $1"
	set -- "$1" "$2" $num
	mknod -m 0600 "$2" b "$((16#$3))" "$((16#$4))" || die "mknod $2"
}

mount -t ext4 "$rootdev" "$mnt" || die "mount $rootdev on $mnt"
for d in proc sys dev run tmp host; do
	[ -d "$mnt/$d" ] || die "the root on $rootdev has no /$d"
done
mount -t proc -o nosuid,nodev,noexec proc "$mnt/proc" || die "mount proc"
mount -t sysfs -o nosuid,nodev,noexec,ro sysfs "$mnt/sys" || die "mount sysfs"

# A private /dev: the few nodes the rig needs, not the host's devices.
mount -t tmpfs -o mode=0755,size=1M,nosuid rigdev "$mnt/dev" || die "mount /dev"
mknod -m 0666 "$mnt/dev/null" c 1 3
mknod -m 0666 "$mnt/dev/zero" c 1 5
mknod -m 0666 "$mnt/dev/full" c 1 7
mknod -m 0666 "$mnt/dev/random" c 1 8
mknod -m 0666 "$mnt/dev/urandom" c 1 9
mknod -m 0666 "$mnt/dev/tty" c 5 0
mkdir -m 1777 "$mnt/dev/shm"
ln -s /proc/self/fd "$mnt/dev/fd"
ln -s /proc/self/fd/0 "$mnt/dev/stdin"
ln -s /proc/self/fd/1 "$mnt/dev/stdout"
ln -s /proc/self/fd/2 "$mnt/dev/stderr"
blknode "$rootdev" "$mnt/dev/${rootdev##*/}"
blknode "$rootdev" "$mnt/dev/rigroot"
if [ -n "$envdev" ]; then
	blknode "$envdev" "$mnt/dev/${envdev##*/}"
	blknode "$envdev" "$mnt/dev/rigenv"
fi
for nd in "$@"; do
	name=${nd%%=*}
	dev=${nd#*=}
	case $name in
	''|*[!a-z0-9_-]*|rigroot|rigenv|null|zero|full|random|urandom|tty)
		die "extra device '$nd': NAME must be a new plain name" ;;
	esac
	[ -b "$dev" ] || die "extra device '$nd': $dev is not a block device"
	[ -e "$mnt/dev/${dev##*/}" ] || blknode "$dev" "$mnt/dev/${dev##*/}"
	blknode "$dev" "$mnt/dev/$name"
done

# /run holds the staging directory and with it the stage-2 ramfs: exec
# must be allowed there.
mount -t tmpfs -o mode=0755,nosuid,nodev rigrun "$mnt/run" || die "mount /run"
mount -t tmpfs -o mode=1777,nosuid,nodev rigtmp "$mnt/tmp" || die "mount /tmp"
mount --bind "$hostdir" "$mnt/host" || die "bind $hostdir on /host"

mkdir "$mnt/run/oldroot"
cd "$mnt"
pivot_root . run/oldroot || die "pivot_root into $mnt"
cd /
# From here on only the new root's programs are found.
/bin/busybox umount -l /run/oldroot || die "detach the host's root"
/bin/busybox rmdir /run/oldroot
say "root is $rootdev, exec /sbin/init"
exec /bin/busybox env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	${ASAN_OPTIONS:+"ASAN_OPTIONS=$ASAN_OPTIONS"} \
	${UBSAN_OPTIONS:+"UBSAN_OPTIONS=$UBSAN_OPTIONS"} \
	/sbin/init
