#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command: a demo A/B device on this machine. Installs
# what is missing, builds, then runs contrib/demo/ab-device.sh: two
# loop-device slots, a file-backed U-Boot environment, generated TLS
# certificate, token and signing key, a signed v2 bundle, and sysupgraded
# on https://127.0.0.1:8443. It prints the curl commands to upload,
# install and watch; Ctrl-C removes everything it started.
#   ./demo.sh     (as root)
set -eu
cd "$(dirname "$0")"
top=$PWD

contrib/deps.sh demo
cmake -S "$top" -B "$top/build/demo" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_PREFIX_PATH="$top/.deps/prefix" -DBUILD_TESTING=OFF >/dev/null
cmake --build "$top/build/demo" -j"$(nproc)" >/dev/null
exec contrib/demo/ab-device.sh "$top/build/demo"
