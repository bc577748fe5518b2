#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command. Until the daemon lands, it installs what
# is missing, builds, and shows sysupgrade-bundle at work: a key pair, a
# signed v2 bundle with a compressed payload, inspect, verify, and the
# refusals a device gives to a tampered or foreign bundle.
#   ./demo.sh     (as root)
set -eu
cd "$(dirname "$0")"
top=$PWD

contrib/deps.sh build
cmake -S "$top" -B "$top/build/demo" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_PREFIX_PATH="$top/.deps/prefix" -DBUILD_TESTING=OFF >/dev/null
cmake --build "$top/build/demo" -j"$(nproc)" >/dev/null
tool="$top/build/demo/tools/sysupgrade-bundle"

work=$(mktemp -d /tmp/sysupgraded-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"
mkdir keys

show() {
	printf '\n$ %s\n' "$*"
	"$@"
}

# Stand-in images: a 4 MiB "root filesystem" and a 1 MiB "kernel".
head -c 4194304 /dev/urandom > rootfs.img
head -c 1048576 /dev/zero > kernel.bin

show "$tool" keygen --key signing.pem --pub keys/signing.pub.pem
show "$tool" create --version 2.0.0 --compatible demo,ab-device \
	--image rootfs.img:ext4:rootfs --image kernel.bin:mtd:kernel:xz \
	--key signing.pem --output v2.bundle
show "$tool" inspect v2.bundle
show "$tool" verify --keys keys --compatible demo,ab-device \
	--current-version 1.0.0 v2.bundle

echo
echo "# What a device refuses:"
cp v2.bundle tampered.bundle
# flip one byte inside the first payload (its data starts after three
# 512-byte headers and the manifest and signature blocks)
off=$("$tool" inspect --json v2.bundle | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["members"][2]["offset"] + 1000)')
printf '\377' | dd of=tampered.bundle bs=1 seek="$off" conv=notrunc status=none
show "$tool" verify --keys keys tampered.bundle || true
show "$tool" verify --keys keys --compatible acme,other-device v2.bundle || true
show "$tool" verify --keys keys --current-version 3.0 v2.bundle || true
printf '\nThe README shows how to make the same bundle with only tar and openssl.\n'
