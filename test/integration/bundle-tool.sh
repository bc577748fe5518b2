#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# sysupgrade-bundle itself: keygen, create, sign, inspect, verify, their
# refusals and help, and what other tools make of the bundles it writes.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"

need tar bsdtar python3 gzip xz zstd cmp sha256sum stat
mkwork

# -- help and command-line errors --
expect_ok "--help" "$TOOL" --help
grep -q "^Usage: " out || fail "--help: no usage on stdout: $(cat out)"
for verb in keygen create sign inspect verify; do
	expect_ok "$verb --help" "$TOOL" "$verb" --help
	grep -q "^Usage: .* $verb" out || fail "$verb --help: no usage: $(cat out)"
done
expect_ok "--version" "$TOOL" --version
pass "--help for the tool and each verb"

expect_status 2 "no verb" "$TOOL"
expect_status 2 "unknown verb" "$TOOL" frobnicate
expect_status 2 "unknown option" "$TOOL" verify --frobnicate x.tar
expect_status 2 "verify without --keys" "$TOOL" verify x.tar
expect_status 2 "verify with two bundles" "$TOOL" verify --keys k a.tar b.tar
expect_status 2 "inspect without a bundle" "$TOOL" inspect
expect_status 2 "sign without --key" "$TOOL" sign x.tar
expect_status 2 "keygen without --pub" "$TOOL" keygen --key k.pem
pass "usage errors exit 2"

# -- keygen --
mkdir keys keys2
expect_ok "keygen" "$TOOL" keygen --key k1.pem --pub keys/k1.pub.pem
assert_eq 600 "$(stat -c %a k1.pem)" "private key mode"
grep -q "BEGIN PUBLIC KEY" keys/k1.pub.pem || fail "keygen: no PEM public key"
expect_status 1 "keygen over an existing key" \
	"$TOOL" keygen --key k1.pem --pub other.pub.pem
expect_ok "keygen 2" "$TOOL" keygen --key k2.pem --pub keys2/k2.pub.pem
pass "keygen"

head -c 100001 /dev/urandom >rootfs.img
seq 1 40000 >app.img
app_size=$(stat -c %s app.img)

# create_bundle OUT COMPRESSION: rootfs.img raw, app.img compressed
create_bundle() {
	"$TOOL" create --version 3.0.1 --compatible acme,router-x1 \
		--compatible acme,router-x2 --description "tool bundle" \
		--image rootfs.img:ubi:rootfs --image "app.img:ubi:app:$2" \
		--bootenv boot_version=3.0.1 --bootenv "note=a=b" \
		--key k1.pem --output "$1"
}

# check_inspect JSON COMPRESSION EXT
check_inspect() {
	assert_eq 3.0.1 "$(json_get "$1" 'j["manifest"]["version"]')" "version"
	assert_eq '["acme,router-x1", "acme,router-x2"]' \
		"$(json_get "$1" 'j["manifest"]["compatible"]')" "compatible"
	assert_eq "tool bundle" "$(json_get "$1" 'j["manifest"]["description"]')" \
		"description"
	assert_eq '{"boot_version": "3.0.1", "note": "a=b"}' \
		"$(json_get "$1" 'j["manifest"]["bootenv"]')" "bootenv"
	assert_eq "rootfs.img none $(stat -c %s rootfs.img) $(sha256sum rootfs.img | cut -d' ' -f1)" \
		"$(json_get "$1" '" ".join(str(j["manifest"]["images"][0][k]) for k in ("file", "compression", "size", "sha256"))')" \
		"image 0"
	assert_eq "app.img$3 ubi app $2 $app_size" \
		"$(json_get "$1" '" ".join(str(j["manifest"]["images"][1][k]) for k in ("file", "type", "target", "compression", "installed_size"))')" \
		"image 1"
	assert_eq "[\"manifest.json\", \"manifest.json.sig\", \"rootfs.img\", \"app.img$3\"]" \
		"$(json_get "$1" '[m["name"] for m in j["members"]]')" "members"
}

# check_extract DIR COMPRESSION EXT DECOMPRESSOR: what tar extracted is
# the original once decompressed, and the manifest describes it.
check_extract() {
	cmp "$1/rootfs.img" rootfs.img || fail "$1: rootfs.img differs"
	assert_eq "$(sha256sum "$1/app.img$3" | cut -d' ' -f1)" \
		"$(json_get inspect.json 'j["manifest"]["images"][1]["sha256"]')" \
		"$1: sha256 of app.img$3"
	$4 -dc "$1/app.img$3" >"$1/app.img" || fail "$1: $4 -d failed"
	cmp "$1/app.img" app.img || fail "$1: app.img$3 does not decompress to app.img"
}

for c in gzip xz zstd; do
	case $c in
	gzip) ext=.gz ;;
	xz) ext=.xz ;;
	zstd) ext=.zst ;;
	esac
	expect_ok "create ($c)" create_bundle "b-$c.tar" $c
	verify_ok "create ($c)" "b-$c.tar"

	expect_ok "inspect ($c)" "$TOOL" inspect "b-$c.tar"
	grep -q "^version: *3.0.1$" out || fail "inspect ($c): no version line: $(cat out)"
	grep -q "installed_size: *$app_size$" out ||
		fail "inspect ($c): no installed_size: $(cat out)"
	expect_ok "inspect --json ($c)" "$TOOL" inspect --json "b-$c.tar"
	mv out inspect.json
	check_inspect inspect.json $c $ext
	pass "inspect and inspect --json ($c)"

	assert_eq "manifest.json manifest.json.sig" \
		"$(tar -tf "b-$c.tar" | head -n 2 | tr '\n' ' ' | sed 's/ $//')" \
		"GNU tar list ($c)"
	assert_eq "manifest.json manifest.json.sig" \
		"$(bsdtar -tf "b-$c.tar" | head -n 2 | tr '\n' ' ' | sed 's/ $//')" \
		"bsdtar list ($c)"
	mkdir "gnu-$c" "bsd-$c"
	tar -xf "b-$c.tar" -C "gnu-$c" || fail "GNU tar cannot extract b-$c.tar"
	bsdtar -xf "b-$c.tar" -C "bsd-$c" || fail "bsdtar cannot extract b-$c.tar"
	check_extract "gnu-$c" $c $ext $c
	check_extract "bsd-$c" $c $ext $c
	pass "GNU tar and bsdtar extract b-$c.tar; $c payload round-trips"
done

# -- FILE may contain ':'; a 3-field spec has no compression field --
mkdir "dir:with:colons"
cp app.img "dir:with:colons/app.img"
expect_ok "create with ':' in FILE" "$TOOL" create --version 1 --compatible x \
	--image "dir:with:colons/app.img:tar:data:gzip" \
	--image rootfs.img:ext4:gzip --key k1.pem -o colon.tar
expect_ok "inspect colon.tar" "$TOOL" inspect --json colon.tar
assert_eq "app.img.gz tar data gzip" \
	"$(json_get out '" ".join(j["manifest"]["images"][0][k] for k in ("file", "type", "target", "compression"))')" \
	"':' in FILE"
assert_eq "rootfs.img ext4 gzip none" \
	"$(json_get out '" ".join(j["manifest"]["images"][1][k] for k in ("file", "type", "target", "compression"))')" \
	"3-field spec"
pass "--image parsing from the right"

# -- sign --
expect_ok "sign -o" "$TOOL" sign --key k2.pem --output b-k2.tar b-gzip.tar
expect_ok "verify with only the new key" "$TOOL" verify --keys keys2 b-k2.tar
expect_refusal "re-signed bundle, only the old key" bad_signature b-k2.tar
verify_ok "the original is untouched" b-gzip.tar
expect_ok "inspect b-gzip.tar" "$TOOL" inspect --json b-gzip.tar
mv out gzip.json
expect_ok "inspect b-k2.tar" "$TOOL" inspect --json b-k2.tar
assert_eq "$(json_get gzip.json '[(m["name"], m["size"]) for m in j["members"][2:]]')" \
	"$(json_get out '[(m["name"], m["size"]) for m in j["members"][2:]]')" \
	"payload members after sign"
mkdir resigned
tar -xf b-k2.tar -C resigned
for f in manifest.json app.img.gz rootfs.img; do
	cmp "resigned/$f" "gnu-gzip/$f" || fail "sign changed $f"
done
pass "sign with a second key"

cp b-gzip.tar inplace.tar
expect_ok "sign in place" "$TOOL" sign --key k2.pem inplace.tar
expect_ok "verify in-place signed" "$TOOL" verify --keys keys2 inplace.tar
cmp -s inplace.tar b-gzip.tar && fail "sign in place left the bundle as it was"

(cd gnu-gzip && tar -cf ../unsigned.tar manifest.json rootfs.img app.img.gz)
expect_refusal "unsigned bundle" bad_signature unsigned.tar
expect_ok "sign an unsigned bundle" "$TOOL" sign --key k1.pem unsigned.tar
verify_ok "signed bundle that had no signature" unsigned.tar

expect_status 1 "sign with a missing key" "$TOOL" sign --key nokey.pem b-gzip.tar -o x.tar
[ ! -e x.tar ] || fail "sign with a missing key left x.tar"
pass "sign in place, sign an unsigned bundle"

# -- create refusals: a message, no output, no temp file --
# create_refused STATUS WHAT IMAGE-SPEC [KEY]
create_refused() {
	expect_status "$1" "create: $2" "$TOOL" create --version 1 --compatible x \
		--image "$3" --key "${4:-k1.pem}" --output refused.tar
	[ -s err ] || fail "create: $2: no message on stderr"
	[ -z "$(ls refused.tar* 2>/dev/null)" ] ||
		fail "create: $2: left $(ls refused.tar*)"
	pass "create refuses $2 (exit $1): $(head -n 1 err)"
}
cp rootfs.img "bad name.img"
cp rootfs.img manifest.json
mkdir plaindir
create_refused 2 "a spec without TARGET" rootfs.img:ubi
create_refused 2 "an empty TYPE" rootfs.img::rootfs
create_refused 2 "an unknown type" rootfs.img:jffs9:rootfs
create_refused 2 "an unknown type before a compression" rootfs.img:lzma:rootfs:gzip
create_refused 2 "a payload name with a space" "bad name.img:ubi:rootfs"
create_refused 2 "the reserved name manifest.json" manifest.json:ubi:rootfs
create_refused 1 "a missing file" nothere.img:ubi:rootfs
create_refused 1 "a directory as FILE" plaindir:ubi:rootfs
create_refused 1 "a missing key" rootfs.img:ubi:rootfs nokey.pem
create_refused 1 "a public key for signing" rootfs.img:ubi:rootfs keys/k1.pub.pem
expect_status 2 "create: duplicate payload name" "$TOOL" create --version 1 \
	--compatible x --image rootfs.img:ubi:a --image ./rootfs.img:ubi:b \
	--key k1.pem -o refused.tar
expect_status 2 "create: no --compatible" "$TOOL" create --version 1 \
	--image rootfs.img:ubi:a --key k1.pem -o refused.tar
expect_status 2 "create: bad --bootenv" "$TOOL" create --version 1 --compatible x \
	--image rootfs.img:ubi:a --bootenv novalue --key k1.pem -o refused.tar
expect_status 1 "create: a manifest over 64 KiB" "$TOOL" create --version 1 \
	--compatible x --image rootfs.img:ubi:a --key k1.pem -o refused.tar \
	--description "$(head -c 70000 /dev/zero | tr '\0' d)"
err_has "create: bad_manifest: " "create: a manifest over 64 KiB"
[ -z "$(ls refused.tar* 2>/dev/null)" ] || fail "refused create left $(ls refused.tar*)"
pass "create refuses duplicates, missing options, bad --bootenv"

# -- reproducible headers --
(
	SOURCE_DATE_EPOCH=1700000000
	export SOURCE_DATE_EPOCH
	create_bundle r1.tar none
) || fail "create with SOURCE_DATE_EPOCH"
TZ=UTC tar -tvf r1.tar --full-time >list
[ "$(grep -c ' root/root .* 2023-11-14 22:13:20 ' list)" -eq 4 ] ||
	fail "SOURCE_DATE_EPOCH: not every member is root/root at 2023-11-14 22:13:20 UTC: $(cat list)"
pass "member owner and SOURCE_DATE_EPOCH mtime"

# -- inspect and sign on broken bundles --
printf '{"format": 1, "version": ' >manifest.json
cp gnu-gzip/manifest.json.sig .
tar -cf broken.tar manifest.json manifest.json.sig rootfs.img
expect_status 1 "sign a bundle with a bad manifest" \
	"$TOOL" sign --key k1.pem broken.tar -o x.tar
err_has "sign: bad_manifest: " "sign a bundle with a bad manifest"
expect_status 1 "sign a file that is not a tar" \
	"$TOOL" sign --key k1.pem rootfs.img -o x.tar
err_has "sign: bad_archive: " "sign a file that is not a tar"
[ ! -e x.tar ] || fail "a refused sign left x.tar"
expect_status 1 "inspect a bundle with a bad manifest" "$TOOL" inspect --json broken.tar
assert_eq "null bad_manifest 3" \
	"$(json_get out '"%s %s %d" % (json.dumps(j["manifest"]), j["manifest_error"]["error"], len(j["members"]))')" \
	"inspect of a broken bundle"
err_has "inspect: bad_manifest: " "inspect of a broken bundle"
head -c 2100 b-gzip.tar >cut.tar
expect_status 1 "inspect a truncated bundle" "$TOOL" inspect cut.tar
grep -q "manifest.json.sig" out || fail "inspect of a truncated bundle lists no members: $(cat out)"
err_has "inspect: bad_archive: " "inspect of a truncated bundle"
pass "inspect shows broken bundles and exits 1"

# -- a 64 MiB payload in bounded memory --
head -c 64M /dev/urandom >big.img
# Peak memory of one run of CMD, two ways: ru_maxrss of the child (an
# upper bound: it includes what the child inherited from python before
# exec) and the child's own VmHWM, sampled from /proc while it runs.
peak_rss_kib() {
	python3 -c 'import resource, subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
hwm = 0
while p.poll() is None:
	try:
		with open("/proc/%d/status" % p.pid) as f:
			for line in f:
				if line.startswith("VmHWM:"):
					hwm = max(hwm, int(line.split()[1]))
	except OSError:
		pass
	time.sleep(0.005)
if p.returncode:
	sys.exit("exit status %d" % p.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, hwm)' "$@" ||
		fail "$* failed"
}
limit=$((20 * 1024))
for c in none zstd; do
	set -- $(peak_rss_kib "$TOOL" create --version 1 --compatible x \
		--image "big.img:ext4:rootfs:$c" --key k1.pem -o big.tar)
	echo "create, 64 MiB payload, $c: ru_maxrss $1 KiB, VmHWM $2 KiB"
	[ "$1" -lt "$limit" ] && [ "$2" -lt "$limit" ] ||
		fail "create with a 64 MiB payload ($c): max RSS $1 KiB (VmHWM $2 KiB), limit $limit KiB"
	verify_ok "64 MiB payload ($c)" big.tar
done
pass "create with a 64 MiB payload stays under 20 MiB"
