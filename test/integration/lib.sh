# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the integration tests; sourced, never run. POSIX sh
# has no `local`: variables of a helper carry its _prefix_. The test
# scripts run with `set -eu` and get from ctest:
#   SU_BUNDLE_TOOL  path of the built sysupgrade-bundle
#   SU_TEST_SRC     the test/ source directory

: "${SU_BUNDLE_TOOL:?SU_BUNDLE_TOOL must name the sysupgrade-bundle binary}"
: "${SU_TEST_SRC:?SU_TEST_SRC must name the test source directory}"

TOOL=$SU_BUNDLE_TOOL

# In an ASan+UBSan build a sanitizer report must never pass for the
# "exit 1" of an expected refusal: give reports their own exit status
# (run() also looks for them on stderr).
ASAN_OPTIONS="exitcode=86${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="exitcode=86:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS
TAR_CRAFT="python3 $SU_TEST_SRC/integration/tar_craft.py"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	echo "ok: $*"
}

# need TOOL...: a missing tool fails the test; it never skips it.
need() {
	for _n_tool in "$@"; do
		command -v "$_n_tool" >/dev/null 2>&1 ||
			fail "'$_n_tool' is not installed but this test needs it"
	done
	[ -x "$TOOL" ] || fail "SU_BUNDLE_TOOL=$TOOL is not an executable"
}

# A fresh work directory, removed however the script ends; cd into it.
mkwork() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/su-itest.XXXXXX") ||
		fail "mktemp -d failed"
	trap 'rm -rf "$WORK"' EXIT
	# a signal must not skip the EXIT trap (e.g. `script | head`)
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'echo "$0: TERM: cleaning up (SU_TEST_DEADLINE: ${_dl_secs:-none})" >&2; exit 143' TERM
	deadline_start
	cd "$WORK"
}

# ctest's TIMEOUT kills a test with SIGKILL, which skips its EXIT trap
# and so the cleanup of its mounts and loop devices. SU_TEST_DEADLINE
# (seconds, set short of TIMEOUT by test/CMakeLists.txt) ends the test
# first: TERM to the script, whose trap exits through the EXIT trap, and
# to its children, so that a command in the foreground cannot delay it.
# The watcher holds none of the test's descriptors and ends with it.
# Scripts the test runs that use this file start none of their own
# (the demo's, whose watcher would hold the demo's lock past a kill).
deadline_start() {
	_dl_secs=${SU_TEST_DEADLINE:-}
	unset SU_TEST_DEADLINE
	[ -n "$_dl_secs" ] || return 0
	_dl_top=$$
	(
		_dl_n=0
		while [ "$_dl_n" -lt "$_dl_secs" ]; do
			sleep 1
			kill -0 "$_dl_top" 2>/dev/null || exit 0
			_dl_n=$((_dl_n + 1))
		done
		kill -TERM "$_dl_top"
		pkill -TERM -P "$_dl_top"
	) </dev/null >/dev/null 2>&1 &
}

# run CMD...: run it with stdout in ./out, stderr in ./err, $status set.
run() {
	set +e
	"$@" >out 2>err
	status=$?
	set -e
	! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" err ||
		fail "sanitizer report from $*: $(cat err)"
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# expect_status N WHAT CMD...: CMD exits with N.
expect_status() {
	_es_want=$1
	_es_what=$2
	shift 2
	run "$@"
	[ "$status" -eq "$_es_want" ] ||
		fail "$_es_what: expected exit $_es_want, got $status
--- stdout:
$(cat out)
--- stderr:
$(cat err)"
}

# expect_ok WHAT CMD...
expect_ok() {
	_eo_what=$1
	shift
	expect_status 0 "$_eo_what" "$@"
}

# err_has TEXT WHAT: ./err (from the last run) contains TEXT.
err_has() {
	grep -qF -- "$1" err ||
		fail "$2: expected '$1' on stderr, got: $(cat err)"
}

# verify_ok WHAT BUNDLE [VERIFY OPTIONS...], keys from ./keys
verify_ok() {
	_vo_what=$1
	shift
	expect_ok "$_vo_what: verify" "$TOOL" verify --keys keys "$@"
	pass "$_vo_what: verifies"
}

# expect_refusal WHAT CODE BUNDLE [VERIFY OPTIONS...], keys from ./keys:
# verify exits 1 and says "verify: CODE: ..." on stderr.
expect_refusal() {
	_er_what=$1
	_er_code=$2
	shift 2
	expect_status 1 "$_er_what" "$TOOL" verify --keys keys "$@"
	grep -q "^verify: $_er_code: ." err ||
		fail "$_er_what: expected 'verify: $_er_code: <message>' on stderr, got: $(cat err)"
	pass "$_er_what -> $_er_code"
}

# json_get FILE PYTHON-EXPR: evaluate EXPR with `j` bound to FILE's JSON.
json_get() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" "$2" ||
		fail "json_get $2: $1 is not the JSON expected: $(cat "$1")"
}

# ---- the README recipe: openssl, tar and a shell ----

# ec_key PRIV PUB / rsa_key PRIV PUB: a signing key and its public half.
ec_key() {
	openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null
	openssl pkey -in "$1" -pubout -out "$2"
}

rsa_key() {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$1" 2>/dev/null
	openssl pkey -in "$1" -pubout -out "$2"
}

# image_json FILE TYPE TARGET [COMPRESSION INSTALLED_SIZE]: one "images"
# entry describing FILE as stored.
image_json() {
	_ij_size=$(stat -c %s "$1")
	_ij_sum=$(sha256sum "$1" | cut -d' ' -f1)
	printf '    {"file": "%s", "size": %s, "sha256": "%s", "type": "%s", "target": "%s"' \
		"$1" "$_ij_size" "$_ij_sum" "$2" "$3"
	[ $# -lt 5 ] || printf ', "compression": "%s", "installed_size": %s' "$4" "$5"
	printf '}'
}

# write_manifest OUT VERSION DESCRIPTION IMAGE_JSON...
write_manifest() {
	_wm_out=$1
	_wm_version=$2
	_wm_description=$3
	shift 3
	{
		printf '{\n  "format": 1,\n  "version": "%s",\n' "$_wm_version"
		printf '  "compatible": ["acme,router-x1"],\n'
		printf '  "description": "%s",\n  "images": [\n' "$_wm_description"
		_wm_sep=
		for _wm_img in "$@"; do
			printf '%s%s' "$_wm_sep" "$_wm_img"
			_wm_sep=',
'
		done
		printf '\n  ],\n  "bootenv": {"boot_version": "%s"}\n}\n' "$_wm_version"
	} >"$_wm_out"
}

# sign KEY MANIFEST SIG [OPENSSL OPTIONS...]
sign() {
	_s_key=$1
	_s_manifest=$2
	_s_sig=$3
	shift 3
	openssl dgst -sha256 -sign "$_s_key" "$@" -out "$_s_sig" "$_s_manifest"
}

# env_image_check CONFIG: each copy of the U-Boot environment that
# CONFIG (fw_env.config: "FILE OFFSET SIZE" lines, a second line for a
# redundant pair) names is sound: its CRC-32 covers its whole data area
# (libubootenv leaves the bytes after the variables uninitialised, but
# computes the CRC over them: test/valgrind/daemon.supp), the
# variables end with a double NUL, and the newest copy (the higher flag
# of a pair) holds exactly what fw_printenv -c CONFIG lists.
env_image_check() {
	fw_printenv -c "$1" >env-check.txt 2>&1 ||
		fail "fw_printenv -c $1: $(cat env-check.txt)"
	python3 - "$1" env-check.txt <<'EOP' || fail "the environment of $1 is not sound"
import sys, zlib
copies = [l.split() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
redundant = len(copies) == 2
newest = None
for path, off, size in copies:
    off, size = int(off, 0), int(size, 0)
    with open(path, "rb") as f:
        f.seek(off)
        img = f.read(size)
    head = 5 if redundant else 4
    data = img[head:]
    crc = int.from_bytes(img[:4], "little")
    if len(img) != size or zlib.crc32(data) != crc:
        sys.exit(f"{path} at {off:#x}: CRC {crc:#010x}, data {zlib.crc32(data):#010x}")
    end = data.find(b"\0\0")
    if end < 0:
        sys.exit(f"{path} at {off:#x}: no double NUL after the variables")
    flag = img[4] if redundant else 0
    if newest is None or flag > newest[0]:
        newest = (flag, data[:end].split(b"\0"))
listed = open(sys.argv[2], "rb").read().splitlines()
if sorted(newest[1]) != sorted(listed):
    sys.exit(f"image {sorted(newest[1])} != fw_printenv {sorted(listed)}")
EOP
}
