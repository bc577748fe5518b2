#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# One hostile-input case (test/hostile/cases.sh, case_NAME) against a
# fresh sysupgraded: an A/B device on loop devices, a good bundle staged
# first, every target's checksum recorded; then the case sends its
# input and asserts its HTTP status and JSON error code; then four
# checks: the daemon is alive, staging holds the good bundle and nothing
# else, every target is unchanged, and the good bundle is still staged
# (its file's sha256 and /status) and still installs.
#   hostile.sh NAME   (ctest: hostile.NAME, with _ in NAME as -)
# It runs in a network namespace of its own (unshare -n): its ports
# clash with nothing, and the IPv6 cases may add addresses to its lo.
set -eu
[ $# = 1 ] || { echo "usage: hostile.sh CASE" >&2; exit 2; }
CASE=$(printf %s "$1" | tr - _)
if [ -z "${SU_HOSTILE_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "FAIL: hostile tests need root" >&2; exit 1; }
	SU_HOSTILE_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up || { echo "FAIL: ip link set lo up in the test's namespace" >&2; exit 1; }

. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"
. "$SU_TEST_SRC/hostile/cases.sh"
HOSTILE="python3 $SU_TEST_SRC/hostile/hostile.py"

command -v "case_$CASE" >/dev/null 2>&1 || fail "no hostile case '$1' in cases.sh"
need ip unshare losetup mkfs.ext4 mkenvimage fw_printenv gnutls-cli
daemon_init
mount_staging 64M
ab_device 8M 8M
CONF_STAGING="max_size = 32M"
TARGETS="slot-a.img slot-b.img inuse.img uboot.env"
# capi METHOD PATH [CURL OPTIONS...]: api as the checks authorize
# (CHECK_NOAUTH=1 and CHECK_OPTS for a case without a token).
capi() {
	_ca_m=$1
	_ca_p=$2
	shift 2
	# shellcheck disable=SC2086
	NOAUTH=${CHECK_NOAUTH:-} api "$_ca_m" "$_ca_p" ${CHECK_OPTS:-} "$@"
}

! command -v "setup_$CASE" >/dev/null 2>&1 || "setup_$CASE"
write_config
! command -v "config_$CASE" >/dev/null 2>&1 || "config_$CASE"
daemon_start

# ---- the good bundle, staged; the targets' checksums ----
mkdir tree
echo 2.0.0 >tree/version
mkfs.ext4 -q -F -d tree payload.img 1M >mkfs.out 2>&1 || fail "mkfs.ext4 payload.img: $(cat mkfs.out)"
make_bundle good.tar 2.0.0
GOOD_SHA=$(sha good.tar)
tar -xf good.tar manifest.json manifest.json.sig
assert_eq 200 "$(capi PUT /bundle -T good.tar)" "stage the good bundle: $(cat body)"
assert_eq "$GOOD_SHA" "$(staged_sha)" "the good bundle staged"
for t in $TARGETS; do
	eval "SUM_$(echo "$t" | tr .- __)=\$(sha $t)"
done

"case_$CASE"

# ---- the four checks ----
kill -0 "$DPID" 2>/dev/null || fail "$1: the daemon died: $(tail -n 20 daemon.log)"
assert_eq 200 "$(capi GET /status --max-time 10)" "$1: GET /status after the case"
pass "$1: the daemon is alive and answers /status"
assert_eq bundle.tar "$(ls -A staging | tr '\n' ' ' | sed 's/ $//')" "$1: the staging directory"
pass "$1: staging holds the good bundle and nothing else"
for t in $TARGETS; do
	eval "_was=\$SUM_$(echo "$t" | tr .- __)"
	assert_eq "$_was" "$(sha "$t")" "$1: checksum of target file $t"
done
pass "$1: every target unchanged ($TARGETS)"
assert_eq "$GOOD_SHA" "$(staged_sha)" "$1: the staged file's sha256"
capi GET /status >/dev/null
assert_eq staged "$(json 'j["state"]')" "$1: state"
assert_eq "$GOOD_SHA" "$(json 'j["bundle"]["sha256"]')" "$1: /status bundle sha256"
assert_eq 202 "$(capi POST /install)" "$1: install the good bundle: $(cat body)"
_i=0
while :; do
	capi GET /status >/dev/null
	case $(json 'j["state"]') in
	installing|writing|finalizing) ;;
	*) break ;;
	esac
	_i=$((_i + 1))
	[ "$_i" -lt 600 ] || fail "$1: the install of the good bundle did not end"
	sleep 0.1
done
assert_eq idle "$(json 'j["state"]')" "$1: state after installing the good bundle ($(cat body))"
assert_eq "$(sha payload.img)" "$(head -c 1048576 slot-b.img | sha256sum | cut -d' ' -f1)" \
	"$1: slot b after the install"
assert_eq b "$(env_get boot_slot)" "$1: boot_slot after the install"
pass "$1: the good bundle is still staged (sha256, /status) and installs into slot b"
daemon_stop
