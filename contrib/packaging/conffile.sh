#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The /etc/sysupgraded.conf that packages install, from the example:
#   conffile.sh EXAMPLE > sysupgraded.conf
# The example's token_sha256 is the hash of a token anyone can read in
# this tree, so a package must not ship it live: here it is commented
# out, and with no token and no client_ca the daemon starts but nobody
# can upload (it says so in its log) until the owner sets one.
set -eu
[ $# -eq 1 ] && [ -r "$1" ] || { echo "usage: $0 EXAMPLE" >&2; exit 2; }
cat <<'HEAD'
; /etc/sysupgraded.conf as the sysupgraded package installs it: the
; example, with no token_sha256 set, so nobody can upload until you set
; one (or client_ca). Create the TLS cert and key it names, and edit
; [device] and the targets for this device; sysupgraded(8) and
; sysupgraded.conf(5) say how.

HEAD
sed "s/^token_sha256[ 	]*=.*/;token_sha256 = <the SHA-256, 64 hex digits, of your token>/" "$1"
