#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every way a bundle can be wrong is refused by `verify` with the exact
# error code the HTTP API would answer with. Each variant starts from a
# good recipe-made bundle with two payloads.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"

need openssl tar python3 sha256sum stat head
mkwork

mkdir keys other
ec_key signing.pem keys/signing.pub.pem
ec_key other/ec.pem other/ec.pub.pem
rsa_key other/rsa.pem other/rsa.pub.pem
head -c 70000 /dev/urandom >p1.img
head -c 5000 /dev/urandom >p2.img

write_manifest manifest.json 2.1.0 "recipe bundle" \
	"$(image_json p1.img ubi rootfs)" "$(image_json p2.img mtd kernel)"
sign signing.pem manifest.json manifest.json.sig
tar -cf good.tar manifest.json manifest.json.sig p1.img p2.img
verify_ok "the good bundle" good.tar
verify_ok "the good bundle under policy" good.tar \
	--compatible acme,router-x1 --current-version 2.0.9

# craft OUT NAME=PATH...: a tar of exactly these members, in this order
craft() {
	$TAR_CRAFT build "$@"
}

# variant NAME: a copy of the good bundle to spoil
variant() {
	cp good.tar "$1"
}

offset() {
	$TAR_CRAFT offset good.tar "$1"
}

flip() {
	$TAR_CRAFT flip "$1" "$2"
}

# -- bytes changed after signing --
variant m-flip.tar
flip m-flip.tar $(($(offset manifest.json) + $($TAR_CRAFT find manifest.json recipe)))
expect_refusal "flipped byte in manifest.json" bad_signature m-flip.tar

variant m-version.tar
flip m-version.tar $(($(offset manifest.json) + $($TAR_CRAFT find manifest.json 2.1.0) + 4))
expect_refusal "manifest version 2.1.0 -> 2.1.1" bad_signature m-version.tar

sig_size=$($TAR_CRAFT size good.tar manifest.json.sig)
variant s-mid.tar
flip s-mid.tar $(($(offset manifest.json.sig) + sig_size / 2))
expect_refusal "flipped byte in the middle of the signature" bad_signature s-mid.tar

variant s-der.tar
flip s-der.tar "$(offset manifest.json.sig)"
expect_refusal "flipped byte in the signature's DER header" bad_signature s-der.tar

variant s-len.tar
flip s-len.tar $(($(offset manifest.json.sig) + 1))
expect_refusal "flipped byte in the signature's DER length" bad_signature s-len.tar

for p in p1.img p2.img; do
	variant "h-$p.tar"
	flip "h-$p.tar" $(($(offset $p) + $(stat -c %s $p) - 1))
	expect_refusal "flipped last byte of $p" hash_mismatch "h-$p.tar"
	variant "h0-$p.tar"
	flip "h0-$p.tar" "$(offset $p)"
	expect_refusal "flipped first byte of $p" hash_mismatch "h0-$p.tar"
done

# -- truncation --
# truncate WHAT LENGTH
truncated() {
	head -c "$2" good.tar >"t-$2.tar"
	expect_refusal "truncated $1 (at $2 bytes)" bad_archive "t-$2.tar"
}
end=$($TAR_CRAFT end good.tar)
truncated "inside the manifest header" 100
truncated "inside manifest.json" $(($(offset manifest.json) + 50))
truncated "inside the signature" $(($(offset manifest.json.sig) + sig_size / 2))
truncated "inside payload 1" $(($(offset p1.img) + 30000))
truncated "between the payloads" $(($(offset p2.img) - 512))
truncated "inside payload 2" $(($(offset p2.img) + 2000))
truncated "just before the end-of-archive blocks" "$end"
truncated "between the two end-of-archive blocks" $((end + 512))
truncated "to nothing" 0

# -- members --
echo extra >extra.bin
craft x-extra.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
	p1.img=p1.img p2.img=p2.img extra.bin=extra.bin
expect_refusal "a member not in the manifest" unexpected_member x-extra.tar

craft x-missing.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
	p1.img=p1.img
expect_refusal "a listed payload missing" missing_payload x-missing.tar

craft x-dup.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
	p1.img=p1.img p1.img=p1.img p2.img=p2.img
expect_refusal "a payload twice" unexpected_member x-dup.tar

craft x-sub.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
	p1.img=p1.img sub/x=p2.img p2.img=p2.img
expect_refusal "a member named sub/x" unexpected_member x-sub.tar

craft x-dotdot.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
	p1.img=p1.img ../x=p2.img p2.img=p2.img
expect_refusal "a member named ../x" unexpected_member x-dotdot.tar

craft x-subpayload.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
	p1.img=p1.img sub/p2.img=p2.img
expect_refusal "a payload under a directory (sub/p2.img)" unexpected_member x-subpayload.tar

craft x-dir.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
	dir/= p1.img=p1.img p2.img=p2.img
expect_refusal "a directory member" unexpected_member x-dir.tar

# -- signatures --
sign other/rsa.pem manifest.json rsa.sig
craft k-rsa.tar manifest.json=manifest.json manifest.json.sig=rsa.sig \
	p1.img=p1.img p2.img=p2.img
expect_refusal "signed by an untrusted RSA key (only EC trusted)" untrusted_key k-rsa.tar

sign other/ec.pem manifest.json ec.sig
craft k-ec.tar manifest.json=manifest.json manifest.json.sig=ec.sig \
	p1.img=p1.img p2.img=p2.img
expect_refusal "signed by another EC key" bad_signature k-ec.tar

: >empty.sig
craft k-empty.tar manifest.json=manifest.json manifest.json.sig=empty.sig \
	p1.img=p1.img p2.img=p2.img
expect_refusal "an empty signature" bad_signature k-empty.tar

craft k-none.tar manifest.json=manifest.json p1.img=p1.img p2.img=p2.img
expect_refusal "no signature member" bad_signature k-none.tar

craft k-only.tar manifest.json=manifest.json
expect_refusal "a manifest alone" bad_signature k-only.tar

# -- order --
craft o-sigfirst.tar manifest.json.sig=manifest.json.sig manifest.json=manifest.json \
	p1.img=p1.img p2.img=p2.img
expect_refusal "signature before manifest" bad_archive o-sigfirst.tar

craft o-payloadfirst.tar p1.img=p1.img manifest.json=manifest.json \
	manifest.json.sig=manifest.json.sig p2.img=p2.img
expect_refusal "payload before manifest" bad_archive o-payloadfirst.tar

# -- signed manifests that are wrong --
# signed_variant NAME MANIFEST: a bundle with MANIFEST, validly signed
signed_variant() {
	sign signing.pem "$2" "$2.sig"
	craft "$1" manifest.json="$2" manifest.json.sig="$2.sig" \
		p1.img=p1.img p2.img=p2.img
}

pad=$(head -c 70000 /dev/zero | tr '\0' a)
write_manifest big.json 2.1.0 "$pad" \
	"$(image_json p1.img ubi rootfs)" "$(image_json p2.img mtd kernel)"
[ "$(stat -c %s big.json)" -gt 65536 ] || fail "big.json is not over 64 KiB"
signed_variant v-big.tar big.json
expect_refusal "manifest over 64 KiB" bad_manifest v-big.tar

sed 's/"size": 70000/"size": 70001/' manifest.json >size.json
grep -q '"size": 70001' size.json || fail "could not edit the size in size.json"
signed_variant v-size.tar size.json
expect_refusal "payload size in manifest differs from the member" size_mismatch v-size.tar

head -c 100 manifest.json >badjson.json
signed_variant v-json.tar badjson.json
expect_refusal "bad JSON, validly signed" bad_manifest v-json.tar

sed 's/"format": 1/"format": 2/' manifest.json >format.json
signed_variant v-format.tar format.json
expect_refusal "unknown format, validly signed" bad_manifest v-format.tar

sum1=$(sha256sum p1.img | cut -d' ' -f1)
sed "s/$sum1/$(sha256sum p2.img | cut -d' ' -f1)/" manifest.json >hash.json
signed_variant v-hash.tar hash.json
expect_refusal "wrong sha256 in a signed manifest" hash_mismatch v-hash.tar

# -- policy --
expect_refusal "--compatible mismatch" incompatible good.tar --compatible acme,other
verify_ok "--compatible mismatch with --force" good.tar --compatible acme,other --force
expect_refusal "--current-version higher" downgrade good.tar --current-version 2.10.0
verify_ok "--current-version higher with --force" good.tar --current-version 2.10.0 --force
verify_ok "--current-version equal" good.tar --current-version 2.1.0

# -- keys directory problems --
mkdir nokeys
expect_status 1 "empty keys directory" "$TOOL" verify --keys nokeys good.tar
err_has "verify: config_error: " "empty keys directory"
expect_status 1 "missing keys directory" "$TOOL" verify --keys nowhere good.tar
err_has "verify: config_error: " "missing keys directory"
pass "keys directory problems -> config_error"

# -- the JSON form of a refusal --
expect_status 1 "verify --json refusal" "$TOOL" verify --json --keys keys m-flip.tar
assert_eq bad_signature "$(json_get out 'j["error"]')" "--json error code"
[ -n "$(json_get out 'j["message"]')" ] || fail "--json refusal has an empty message"
assert_eq '["error", "message"]' "$(json_get out 'sorted(j)')" "--json refusal keys"
pass "verify --json refusal is {\"error\":\"bad_signature\",\"message\":...}"
