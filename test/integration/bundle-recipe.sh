#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README recipe: a bundle made with nothing but openssl, tar and a
# shell must verify, whichever tar wrote it and whichever key type
# signed it.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"

need openssl tar bsdtar python3 gzip sha256sum stat
mkwork

mkdir keys
ec_key signing.pem keys/signing.pub.pem
head -c 300001 /dev/urandom >rootfs.img		# not a multiple of 512
head -c 4096 /dev/urandom >kernel.bin
# compressible, so gzip has work to do
seq 1 50000 >appfs.img
gzip -9 -n -c appfs.img >appfs.img.gz

# recipe_one KEY [OPENSSL OPTIONS...]: manifest.json for rootfs.img,
# signed with KEY into manifest.json.sig.
recipe_one() {
	key=$1
	shift
	write_manifest manifest.json 2.1.0 "recipe bundle" \
		"$(image_json rootfs.img ubi rootfs)"
	sign "$key" manifest.json manifest.json.sig "$@"
}

recipe_one signing.pem

tar -cf gnu.tar manifest.json manifest.json.sig rootfs.img
verify_ok "GNU tar default format" gnu.tar

tar --format=pax -cf pax.tar manifest.json manifest.json.sig rootfs.img
verify_ok "GNU tar --format=pax" pax.tar

tar --format=ustar -cf ustar.tar manifest.json manifest.json.sig rootfs.img
verify_ok "GNU tar --format=ustar" ustar.tar

bsdtar -cf bsd.tar manifest.json manifest.json.sig rootfs.img
verify_ok "bsdtar default format" bsd.tar

python3 -c 'import sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
	for name in sys.argv[2:]:
		t.add(name)' py.tar manifest.json manifest.json.sig rootfs.img
verify_ok "python3 tarfile default format" py.tar

# RSA-2048, PKCS#1 v1.5 and PSS, with only the RSA key trusted
mkdir rsa rsa/keys
rsa_key rsa/signing.pem rsa/keys/signing.pub.pem
recipe_one rsa/signing.pem
tar -cf rsa/v15.tar manifest.json manifest.json.sig rootfs.img
expect_ok "RSA PKCS#1 v1.5" "$TOOL" verify --keys rsa/keys rsa/v15.tar
pass "RSA-2048 PKCS#1 v1.5 verifies"

recipe_one rsa/signing.pem -sigopt rsa_padding_mode:pss
tar -cf rsa/pss.tar manifest.json manifest.json.sig rootfs.img
expect_ok "RSA PSS" "$TOOL" verify --keys rsa/keys rsa/pss.tar
pass "RSA-2048 PSS verifies"

# both key types trusted at once: each bundle finds its key
cp rsa/keys/signing.pub.pem keys/rsa.pub.pem
verify_ok "RSA PSS with EC and RSA keys trusted" rsa/pss.tar
expect_ok "key report" "$TOOL" verify --json --keys keys rsa/pss.tar
assert_eq rsa.pub.pem "$(json_get out 'j["key"]')" "verifying key"
rm keys/rsa.pub.pem

# two payloads
write_manifest manifest.json 2.1.0 "two payloads" \
	"$(image_json rootfs.img ubi rootfs)" \
	"$(image_json kernel.bin mtd kernel)"
sign signing.pem manifest.json manifest.json.sig
tar -cf two.tar manifest.json manifest.json.sig rootfs.img kernel.bin
verify_ok "two payloads" two.tar

# a gzip-compressed payload
write_manifest manifest.json 2.1.0 "compressed payload" \
	"$(image_json rootfs.img ubi rootfs)" \
	"$(image_json appfs.img.gz ubi appfs gzip "$(stat -c %s appfs.img)")"
sign signing.pem manifest.json manifest.json.sig
tar -cf gz.tar manifest.json manifest.json.sig rootfs.img appfs.img.gz
verify_ok "gzip payload" gz.tar

# inspect needs no keys
expect_ok "inspect --json" "$TOOL" inspect --json gz.tar
mv out inspect.json
assert_eq 2.1.0 "$(json_get inspect.json 'j["manifest"]["version"]')" "inspect version"
assert_eq gzip "$(json_get inspect.json 'j["manifest"]["images"][1]["compression"]')" \
	"inspect compression"
assert_eq "$(stat -c %s appfs.img)" \
	"$(json_get inspect.json 'j["manifest"]["images"][1]["installed_size"]')" \
	"inspect installed_size"
assert_eq '["manifest.json", "manifest.json.sig", "rootfs.img", "appfs.img.gz"]' \
	"$(json_get inspect.json '[m["name"] for m in j["members"]]')" "inspect members"
assert_eq "$(sha256sum gz.tar | cut -d' ' -f1)" \
	"$(json_get inspect.json 'j["sha256"]')" "inspect sha256"
assert_eq false "$(json_get inspect.json '"manifest_error" in j')" \
	"inspect manifest_error absent"
# each reported offset holds that member's bytes
off=$(json_get inspect.json 'j["members"][2]["offset"]')
tail -c +$((off + 1)) gz.tar | head -c "$(stat -c %s rootfs.img)" | cmp -s - rootfs.img ||
	fail "inspect: rootfs.img is not at offset $off"
pass "inspect --json without keys"
