# SPDX-License-Identifier: GPL-2.0-or-later
# The hostile cases; sourced by hostile.sh, which has staged good.tar
# (manifest.json, manifest.json.sig and payload.img are in the work
# directory) before case_NAME runs and checks the daemon after it.
# setup_NAME, if defined, runs before write_config (CONF_* variables);
# config_NAME after it (edits of daemon.conf). Each case_NAME is one
# ctest test, hostile.NAME with _ as -; README.md lists them.

# ---- helpers ----

# signed OUT MANIFEST [MEMBER=PATH...]: a bundle of MANIFEST, validly
# signed, and payload.img (or the members given)
signed() {
	_sg_out=$1
	_sg_m=$2
	shift 2
	sign signing.pem "$_sg_m" "$_sg_m.sig"
	[ $# -gt 0 ] || set -- payload.img=payload.img
	$TAR_CRAFT build "$_sg_out" manifest.json="$_sg_m" manifest.json.sig="$_sg_m.sig" "$@"
}

# raw_is EXPECTED WHAT REQUEST [hostile.py raw OPTIONS...]: the answers
# to the bytes of REQUEST on one TLS connection, one "STATUS ERROR" a line
raw_is() {
	_ri_want=$1
	_ri_what=$2
	_ri_req=$3
	shift 3
	_ri_got=$(timeout 30 $HOSTILE raw "$@" "$PORT" "$_ri_req" | tr '\n' ' ' | sed 's/ $//') ||
		fail "$_ri_what: the raw client failed or hung"
	[ "$_ri_want" = "$_ri_got" ] ||
		fail "$_ri_what: expected '$_ri_want', got '$_ri_got': $(head -c 600 raw.out)"
	pass "$_ri_what -> $_ri_got"
}

last_error_is() {
	capi GET /status >/dev/null
	assert_eq "$1" "$(json 'j["last_error"]["error"]')" "$2: last error in /status"
}

# req FILE METHOD PATH [HEADER...]: an HTTP/1.1 request head, authorized
req() {
	_rq_f=$1
	{
		printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n' \
			"$2" "$3" "$TOKEN"
		shift 3
		for _rq_h in "$@"; do
			printf '%s\r\n' "$_rq_h"
		done
		printf '\r\n'
	} >"$_rq_f"
}

# ---- bundles: every refusal of the contract ----

case_bundle_bad_signature() {
	cp good.tar b.tar
	$TAR_CRAFT flip b.tar $(($($TAR_CRAFT offset b.tar manifest.json) + 20))
	expect_refused 400 bad_signature "manifest changed after signing" -T b.tar
}

case_bundle_other_key() {
	make_bundle b.tar 3.0.0 other.pem
	expect_refused 400 bad_signature "signed by a key not in the keys directory" -T b.tar
}

case_bundle_untrusted_kind() {
	rsa_key rsa.pem rsa.pub.pem
	sign rsa.pem manifest.json rsa.sig
	$TAR_CRAFT build b.tar manifest.json=manifest.json manifest.json.sig=rsa.sig \
		payload.img=payload.img
	expect_refused 400 untrusted_key "an RSA signature, only EC keys trusted" -T b.tar
}

case_bundle_unsigned() {
	$TAR_CRAFT build b.tar manifest.json=manifest.json payload.img=payload.img
	expect_refused 400 bad_signature "no manifest.json.sig" -T b.tar
}

case_bundle_empty_signature() {
	: >empty.sig
	$TAR_CRAFT build b.tar manifest.json=manifest.json manifest.json.sig=empty.sig \
		payload.img=payload.img
	expect_refused 400 bad_signature "an empty manifest.json.sig" -T b.tar
}

case_bundle_tampered_payload() {
	cp good.tar b.tar
	$TAR_CRAFT flip b.tar $(($($TAR_CRAFT offset b.tar payload.img) + 4096))
	expect_refused 400 hash_mismatch "a payload byte changed" -T b.tar
}

case_bundle_truncated() {
	head -c $(($($TAR_CRAFT offset good.tar payload.img) + 300000)) good.tar >b.tar
	expect_refused 400 bad_archive "cut inside the payload" -T b.tar
}

case_bundle_corrupt_header() {
	$HOSTILE tar bad-checksum b.tar
	expect_refused 400 bad_archive "payload header with a wrong checksum" -T b.tar
}

case_bundle_garbage() {
	head -c 200000 /dev/urandom >b.tar
	expect_refused 400 bad_archive "random bytes" -T b.tar
}

case_bundle_empty() {
	: >b.tar
	expect_refused 400 bad_archive "an empty body" -T b.tar
}

case_bundle_trailing_data() {
	$HOSTILE tar trailing b.tar
	expect_refused 400 bad_archive "random bytes after the end-of-archive blocks" -T b.tar
}

case_bundle_incompatible() {
	MB_COMPAT=acme,other make_bundle b.tar 3.0.0
	expect_refused 400 incompatible "for another device" -T b.tar
}

case_bundle_downgrade() {
	make_bundle b.tar 0.9.0
	expect_refused 400 downgrade "0.9.0 on a device running 1.0.0" -T b.tar
}

case_bundle_unknown_target() {
	MB_TARGET=bootloader make_bundle b.tar 3.0.0
	expect_refused 400 unknown_target "a target the config lacks" -T b.tar
}

case_bundle_wrong_type() {
	MB_TYPE=mtd make_bundle b.tar 3.0.0
	expect_refused 400 unknown_target "type mtd for an ext4 target" -T b.tar
}

case_bundle_oversized() {
	# a Content-Length over max_size (32M): 413 before the body
	make_big_bad b.tar 40
	expect_refused 413 too_large "a 40 MiB bundle, max_size 32M" -T b.tar
}

case_bundle_size_mismatch() {
	sed 's/"size": 1048576/"size": 1048577/' manifest.json >m.json
	signed b.tar m.json
	expect_refused 400 size_mismatch "the manifest's size one more than the member" -T b.tar
}

case_bundle_missing_payload() {
	$TAR_CRAFT build b.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig
	expect_refused 400 missing_payload "no payload member" -T b.tar
}

case_bundle_extra_member() {
	echo extra >extra.bin
	$TAR_CRAFT build b.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
		payload.img=payload.img extra.bin=extra.bin
	expect_refused 400 unexpected_member "a member not in the manifest" -T b.tar
}

case_bundle_duplicate_member() {
	$TAR_CRAFT build b.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
		payload.img=payload.img payload.img=payload.img
	expect_refused 400 unexpected_member "the payload twice" -T b.tar
}

case_bundle_dotdot_member() {
	$TAR_CRAFT build b.tar manifest.json=manifest.json manifest.json.sig=manifest.json.sig \
		../payload.img=payload.img
	expect_refused 400 unexpected_member "a member named ../payload.img" -T b.tar
}

case_bundle_symlink_member() {
	$HOSTILE tar symlink b.tar
	expect_refused 400 unexpected_member "a symlink member" -T b.tar
}

case_bundle_sig_first() {
	$TAR_CRAFT build b.tar manifest.json.sig=manifest.json.sig manifest.json=manifest.json \
		payload.img=payload.img
	expect_refused 400 bad_archive "the signature before the manifest" -T b.tar
}

case_bundle_manifest_too_big() {
	head -c 70000 /dev/zero | tr '\0' a >pad
	sed "s/test bundle 2.0.0/$(cat pad)/" manifest.json >m.json
	signed b.tar m.json
	expect_refused 400 bad_manifest "a signed manifest of 70 KB" -T b.tar
}

# ---- bundles: the tar container ----

case_tar_pax_huge() {
	$HOSTILE tar pax-huge b.tar
	expect_refused 400 bad_archive "an 8 MiB pax header" -T b.tar
}

case_tar_pax_size_overflow() {
	$HOSTILE tar pax-size b.tar
	expect_refused 400 bad_archive "a pax size of 2^70" -T b.tar
}

case_tar_sparse() {
	$HOSTILE tar sparse b.tar
	expect_refused 400 unexpected_member "a GNU sparse payload member" -T b.tar
}

case_tar_size_overflow() {
	$HOSTILE tar size-overflow b.tar
	expect_refused 400 bad_archive "a base-256 size of 2^88" -T b.tar
}

case_tar_size_negative() {
	$HOSTILE tar size-negative b.tar
	expect_refused 400 bad_archive "a base-256 size of -1" -T b.tar
}

case_tar_size_not_octal() {
	$HOSTILE tar size-octal-garbage b.tar
	expect_refused 400 bad_archive "a size field of 9s" -T b.tar
}

case_tar_long_name() {
	$HOSTILE tar long-name b.tar
	expect_refused 400 bad_archive "a pax path of 60000 bytes" -T b.tar
}

case_tar_gnu_long_name() {
	$HOSTILE tar gnu-longname b.tar
	expect_refused 400 bad_archive "a GNU long name of 5000 bytes" -T b.tar
}

# a signed manifest declaring a 5 GiB payload, streamed chunked (no
# Content-Length to refuse first): refused at the 32M limit, long before
# the 5 GiB are sent
case_tar_declares_5g() {
	$HOSTILE manifest declares-5g m.json
	sign signing.pem m.json m.json.sig
	python3 - <<'EOP'
import sys
sys.path.insert(0, __import__("os").environ["SU_TEST_SRC"] + "/hostile")
import hostile
m, s = open("m.json", "rb").read(), open("m.json.sig", "rb").read()
h = hostile.ustar(b"payload.img", 0, size_field=hostile.base256(5 << 30))
open("b.head", "wb").write(hostile.member(b"manifest.json", m) +
			   hostile.member(b"manifest.json.sig", s) + h)
EOP
	{
		printf 'PUT /api/v1/bundle HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n' "$TOKEN"
		printf 'Transfer-Encoding: chunked\r\n\r\n%x\r\n' "$(stat -c %s b.head)"
		cat b.head
		printf '\r\n'
	} >head.req
	set -- $(timeout 120 $HOSTILE stream --chunked "$PORT" head.req $((5 << 30)))
	assert_eq "413 too_large" "$1 $2" "5 GiB declared, chunked"
	[ "$3" -lt $((64 << 20)) ] || fail "5 GiB declared: $3 bytes sent before the answer"
	last_error_is too_large "5 GiB declared"
	pass "a 5 GiB payload declared, chunked -> 413 too_large after $3 body bytes"
}

case_tar_content_length_5g() {
	printf 'PUT /api/v1/bundle HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Length: %s\r\n\r\n' \
		"$TOKEN" $((5 << 30)) >head.req
	set -- $(timeout 60 $HOSTILE stream "$PORT" head.req $((5 << 30)))
	assert_eq "413 too_large" "$1 $2" "Content-Length of 5 GiB"
	[ "$3" -lt $((8 << 20)) ] || fail "Content-Length 5 GiB: $3 bytes sent before the answer"
	last_error_is too_large "Content-Length of 5 GiB"
	pass "Content-Length 5 GiB -> 413 too_large after $3 body bytes"
}

# a compressed payload that decompresses far past its installed_size:
# staged (signed, hash right), then the install stops at installed_size
# before any write; good.tar is staged again afterwards
case_bundle_compression_bomb() {
	mkdir bomb
	head -c $((256 << 20)) /dev/zero | gzip -1 >bomb/bomb.gz
	(
		cd bomb
		write_manifest manifest.json 3.0.0 bomb \
			"$(image_json bomb.gz ext4 rootfs gzip 65536)"
		sign "$WORK/signing.pem" manifest.json manifest.json.sig
		tar --format=ustar -cf ../bomb.tar manifest.json manifest.json.sig bomb.gz
	)
	expect_api 200 "stage the bomb" PUT /bundle -T bomb.tar
	expect_api 202 "install the bomb" POST /install
	_cb_i=0
	while :; do
		case $(status_field 'j["state"]') in
		installing|writing|finalizing) ;;
		*) break ;;
		esac
		_cb_i=$((_cb_i + 1))
		[ "$_cb_i" -lt 100 ] || fail "the bomb's install did not stop within 10 s"
		sleep 0.1
	done
	assert_eq failed "$(json 'j["state"]')" "state after the bomb ($(cat body))"
	assert_eq size_mismatch "$(json 'j["last_error"]["error"]')" "the bomb's error"
	json 'j["last_error"]["message"]' | grep -q 'more than its installed_size of 65536' ||
		fail "the bomb's message: $(cat body)"
	# the bootenv: the old slot still boots; the failure is recorded
	# there (last_install = bootenv), so that file alone may change
	assert_eq a "$(env_get boot_slot)" "boot_slot after the bomb"
	assert_eq "" "$(env_get upgrade_available)" "upgrade_available after the bomb"
	grep -q '^sysupgrade_last=.*failed' env.txt ||
		fail "no failure record in the bootenv: $(cat env.txt)"
	SUM_uboot_env=$(sha uboot.env)
	pass "a 256 MiB gzip bomb with installed_size 64 KiB -> failed, size_mismatch, nothing written"
	expect_api 200 "stage the good bundle again" PUT /bundle -T good.tar
}

# ---- bundles: the manifest ----

manifest_refused() {
	$HOSTILE manifest "$1" m.json
	signed b.tar m.json
	expect_refused 400 bad_manifest "$2" -T b.tar
}

case_manifest_non_utf8() {
	manifest_refused non-utf8 "a manifest with bytes ff fe (not UTF-8)"
}

case_manifest_deep_nesting() {
	manifest_refused deep "5000 nested arrays"
}

case_manifest_duplicate_key() {
	manifest_refused duplicate-key "\"version\" given twice"
}

case_manifest_number_huge() {
	manifest_refused size-huge "a size of 10^23"
}

case_manifest_number_float() {
	manifest_refused size-float "a size of 1e400"
}

case_manifest_number_negative() {
	manifest_refused size-negative "a size of -1"
}

case_manifest_long_file() {
	manifest_refused long-file "a file name of 5000 bytes"
}

# ---- HTTP ----

case_http_huge_header() {
	req r.req GET /api/v1/status "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)"
	raw_is "431 -" "a header of 100 KB" r.req
}

case_http_many_headers() {
	{
		printf 'GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n'
		seq 1 5000 | sed 's/.*/X-H&: v\r/'
		printf '\r\n'
	} >r.req
	raw_is "431 -" "5000 headers" r.req
}

case_http_chunked_broken() {
	req r.req PUT /api/v1/bundle "Transfer-Encoding: chunked"
	printf 'ZZZ\r\nabc\r\n0\r\n\r\n' >>r.req
	raw_is "400 -" "a chunk size of ZZZ" r.req
}

case_http_chunked_overflow() {
	req r.req PUT /api/v1/bundle "Transfer-Encoding: chunked"
	printf 'ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n' >>r.req
	raw_is "413 -" "a chunk size of 2^80 (MHD's own answer)" r.req
}

case_http_multipart_no_boundary() {
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="bundle"; filename="b"\r\n\r\nx\r\n--XyZ--\r\n' >mp
	expect_refused 400 bad_request "multipart/form-data without a boundary parameter" \
		--data-binary @mp -H 'Content-Type: multipart/form-data'
}

case_http_multipart_many_parts() {
	python3 -c '
import sys
out = open("mp", "wb")
for i in range(20000):
	out.write(b"--XyZ\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n" % i)
out.write(b"--XyZ--\r\n")'
	expect_refused 400 bad_request "20000 parts, no field bundle" \
		--data-binary @mp -H 'Content-Type: multipart/form-data; boundary=XyZ'
}

case_http_multipart_two_bundles() {
	expect_refused 400 bad_request "two fields named bundle" \
		-F bundle=@good.tar -F bundle=@good.tar
}

case_http_multipart_no_filename() {
	# a field "bundle" without filename is still the bundle: verified,
	# and this one is refused for its signature
	make_bundle b.tar 3.0.0 other.pem
	expect_refused 400 bad_signature "a field bundle without filename" \
		-F 'bundle=<b.tar'
}

case_http_content_length_short_body() {
	# Content-Length 2 MB, 100 KB sent, then the client's half-close
	req r.req PUT /api/v1/bundle "Content-Length: 2000000"
	head -c 100000 good.tar >>r.req
	timeout 30 $HOSTILE raw --half-close "$PORT" r.req >answers ||
		fail "the half-closed upload hung"
	case $(cat answers) in
	closed|"400 bad_request") ;;
	*) fail "a body shorter than Content-Length: $(cat answers)" ;;
	esac
	last_error_is bad_request "a body shorter than Content-Length"
	pass "a body shorter than its Content-Length -> $(cat answers), last error bad_request"
}

case_http_content_length_long_body() {
	# Content-Length says 20 KB of good.tar, the rest follows: the
	# bundle as the daemon counts it is cut inside the payload
	req r.req PUT /api/v1/bundle "Content-Length: 20000"
	head -c 60000 good.tar >>r.req
	# The daemon's answer, then the rest is MHD's to parse as the next
	# request: ext4 bytes (random per run from mkfs) that MHD answers
	# with its own 400 or closes on, depending on the bytes. Either way
	# nothing of it reaches the upload handler as a second request.
	timeout 30 $HOSTILE raw "$PORT" r.req >answers ||
		fail "a body longer than its Content-Length: the raw client failed or hung"
	case $(tr '\n' ' ' <answers | sed 's/ $//') in
	"400 bad_archive"|"400 bad_archive 400 -") ;;
	*) fail "a body longer than its Content-Length: got '$(cat answers)': $(head -c 600 raw.out)" ;;
	esac
	[ "$(grep -c "upload refused" "$WORK/daemon.log")" = 1 ] ||
		fail "a body longer than its Content-Length: not exactly one refusal in the log"
	last_error_is bad_archive "a body longer than its Content-Length"
	pass "a body longer than its Content-Length -> $(tr '\n' ' ' <answers)"
}

case_http_pipelined() {
	make_bundle b.tar 3.0.0 other.pem
	req r.req GET /api/v1/status
	req r2.req GET /api/v1/info
	cat r2.req >>r.req
	req r3.req PUT /api/v1/bundle "Content-Length: $(stat -c %s b.tar)"
	cat r3.req b.tar >>r.req
	# kept alive, the connection answers each in turn; the PUT behind
	# the two GETs is read and refused, and that answer closes it
	raw_is "200 - 200 - 400 bad_signature" "GET, GET and a bad PUT pipelined" r.req
	[ "$(grep -ci '^connection: close' raw.out)" = 1 ] ||
		fail "pipelined: not one Connection: close (the PUT's): $(head -c 600 raw.out)"
	last_error_is bad_signature "pipelined: the PUT"
}

case_http_1_0() {
	make_bundle b.tar 3.0.0 other.pem
	printf 'PUT /api/v1/bundle HTTP/1.0\r\nAuthorization: Bearer %s\r\nContent-Length: %s\r\n\r\n' \
		"$TOKEN" "$(stat -c %s b.tar)" >r.req
	cat b.tar >>r.req
	raw_is "400 bad_signature" "an HTTP/1.0 upload without Host" r.req
	printf 'GET /api/v1/status HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n' "$TOKEN" >r.req
	raw_is "200 -" "HTTP/1.0 GET /status" r.req
}

case_http_odd_methods() {
	for m in BREW TRACE OPTIONS PATCH CONNECT; do
		req r.req "$m" /api/v1/bundle
		raw_is "405 method_not_allowed" "$m /api/v1/bundle" r.req
	done
	printf 'get /api/v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n' "$TOKEN" >r.req
	raw_is "405 method_not_allowed" "a lower-case get" r.req
}

case_http_odd_paths() {
	for p in '*' 'http://127.0.0.1/api/v1/bundle' /api/v1/status/../bundle \
		 /api/v1//status "/api/v1/$(head -c 3000 /dev/zero | tr '\0' a)"; do
		req r.req DELETE "$p"
		raw_is "404 not_found" "DELETE $p" r.req
	done
	# MHD decodes %00 and the path ends there: /status, which has no DELETE
	req r.req DELETE /api/v1/status%00
	raw_is "405 method_not_allowed" "DELETE /api/v1/status%00" r.req
	printf 'GET  HTTP/1.1\r\nHost: x\r\n\r\n' >r.req
	raw_is "400 -" "an empty path" r.req
}

case_http_garbage_request() {
	head -c 3000 /dev/urandom | tr -d '\r\n' >r.req
	printf '\r\n\r\n' >>r.req
	raw_is "400 -" "random bytes as a request" r.req
}

# ---- the web UI's directory ----

setup_www() {
	mkdir -p www/js
	echo '<!doctype html><title>ui</title>' >www/index.html
	echo secret >outside.txt
	CONF_SERVER="www = $WORK/www"
}

# www_404 WHAT PATH...: each is 404 not_found, never the secret
www_404() {
	_w_what=$1
	shift
	for _w_p in "$@"; do
		# one answer wanted: without it the kept-alive connection
		# stays open until the 5-s idle close
		printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$_w_p" >r.req
		raw_is "404 not_found" "$_w_what: GET $_w_p" r.req
		! grep -q secret raw.out || fail "$_w_what: GET $_w_p leaked the file"
	done
}

setup_www_traversal_plain() { setup_www; }
case_www_traversal_plain() {
	www_404 plain /../outside.txt /js/../../outside.txt /./../outside.txt
}

setup_www_traversal_encoded() { setup_www; }
case_www_traversal_encoded() {
	www_404 percent-encoded /%2e%2e/outside.txt /..%2foutside.txt /%2E%2E%2Foutside.txt \
		/js%2f..%2f..%2foutside.txt
}

setup_www_traversal_double() { setup_www; }
case_www_traversal_double() {
	www_404 double-encoded /%252e%252e/outside.txt /..%252foutside.txt \
		/%25252e%25252e/outside.txt
}

setup_www_symlink() { setup_www; }
case_www_symlink() {
	ln -s ../outside.txt www/link.txt
	ln -s /etc/passwd www/passwd.txt
	www_404 symlink /link.txt /passwd.txt
}

setup_www_fifo() { setup_www; }
case_www_fifo() {
	mkfifo www/pipe.txt
	www_404 "a FIFO (no writer: opening it must not block)" /pipe.txt
	printf 'GET /api/v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' "$TOKEN" >r.req
	raw_is "200 -" "GET /status right after the FIFO" r.req
}

# ---- authorization ----

# only client certificates: no token_sha256
setup_auth_no_client_cert() {
	CHECK_NOAUTH=1
	CHECK_OPTS="--cert client.pem --key client.key"
}
config_auth_no_client_cert() {
	sed -i '/^token_sha256/d' daemon.conf
}
case_auth_no_client_cert() {
	make_bundle b.tar 3.0.0
	NOAUTH=1 expect_api 401 "an upload without a client certificate" PUT /bundle -T b.tar
	assert_error unauthorized "an upload without a client certificate"
	NOAUTH=1 expect_api 401 "with a token the config does not have" PUT /bundle -T b.tar \
		-H "Authorization: Bearer $TOKEN"
	NOAUTH=1 expect_api 401 "a certificate of another CA" GET /status \
		--cert bad-client.pem --key bad-client.key
	assert_error unauthorized "a certificate of another CA"
	pass "certificates only: none, a token, another CA's -> 401 unauthorized"
}

case_auth_cert_without_client_eku() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=server-only \
		-keyout srv.key -out srv.csr 2>/dev/null
	printf 'extendedKeyUsage = serverAuth\n' >srv.ext
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile srv.ext -out srv.pem 2>/dev/null
	openssl x509 -in srv.pem -noout -ext extendedKeyUsage | grep -q 'TLS Web Server' ||
		fail "srv.pem has no serverAuth EKU"
	printf 'extendedKeyUsage = clientAuth\n' >cli.ext
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile cli.ext -out cli.pem 2>/dev/null
	NOAUTH=1 expect_api 200 "a certificate with clientAuth" GET /status --cert cli.pem --key srv.key
	NOAUTH=1 expect_api 401 "a certificate with only serverAuth" GET /status \
		--cert srv.pem --key srv.key
	assert_error unauthorized "a certificate with only serverAuth"
	grep -q 'lacks clientAuth' daemon.log ||
		fail "no log line naming the key purpose: $(grep ' 401 ' daemon.log)"
	pass "a client_ca certificate whose EKU lacks clientAuth -> 401"
}

V6A=2001:db8:5:1
V6B=2001:db8:5:2
setup_auth_ipv6_throttle() {
	for a in 1 2 3 4 5 6 7; do
		ip -6 addr add "$V6A::$a/128" dev lo nodad
	done
	ip -6 addr add "$V6B::1/128" dev lo nodad
	V6_PORT=$(free_port)
	CONF_SERVER="listen = [$V6A::1]:$V6_PORT"
}
case_auth_ipv6_throttle() {
	v6() {	# SOURCE-ADDRESS [CURL OPTIONS...]: GET /status over IPv6
		_v6_src=$1
		shift
		curl -sS -o body -D headers -w '%{http_code}' --max-time 10 -k \
			--interface "$_v6_src" "$@" "https://[$V6A::1]:$V6_PORT/api/v1/status"
	}
	for a in 2 3 4 5 6; do
		assert_eq 401 "$(v6 "$V6A::$a" -H 'Authorization: Bearer wrong')" \
			"a wrong token from $V6A::$a"
	done
	assert_eq 429 "$(v6 "$V6A::7" -H "Authorization: Bearer $TOKEN")" \
		"the right token from a 6th address of the same /64"
	assert_error unauthorized "throttled /64"
	grep -qi '^retry-after: [1-9]' headers || fail "429 without Retry-After: $(cat headers)"
	assert_eq 200 "$(v6 "$V6B::1" -H "Authorization: Bearer $TOKEN")" \
		"the right token from another /64"
	pass "5 failures from 5 addresses of one /64 throttle the whole /64 (429); another /64 is not"
}

setup_auth_bearer_plain_http() {
	HTTP_PORT=$(free_port)
	HTTP2_PORT=$(free_port)
	CONF_SERVER="http_listen = 127.0.0.1:$HTTP_PORT"
}
case_auth_bearer_plain_http() {
	make_bundle b.tar 3.0.0
	_bp() {
		curl -sS -o body -D headers -w '%{http_code}' --max-time 10 "$@"
	}
	assert_eq 401 "$(_bp -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/api/v1/status")" \
		"a good bearer token over plain HTTP"
	assert_error unauthorized "a bearer token over plain HTTP"
	assert_eq 401 "$(_bp -H "Authorization: Bearer $TOKEN" -T b.tar "http://127.0.0.1:$HTTP_PORT/api/v1/bundle")" \
		"an upload with a bearer token over plain HTTP"
	grep -q 'plain HTTP' daemon.log || fail "no log line saying why: $(grep ' 401 ' daemon.log)"
	assert_eq 200 "$(_bp "http://127.0.0.1:$HTTP_PORT/api/v1/info")" "GET /info over plain HTTP"
	pass "a bearer token over plain HTTP -> 401 (http_token not set)"
	# the same with [server] http_token = yes, on a second daemon
	sed -e "s/^http_listen = .*/http_listen = 127.0.0.1:$HTTP2_PORT\nhttp_token = yes/" \
		-e "s/^listen = .*//" -e "s|^dir = .*|dir = $WORK/staging2|" \
		daemon.conf >daemon2.conf
	mkdir staging2
	"$DAEMON" -c "$WORK/daemon2.conf" --foreground >daemon2.log 2>&1 &
	D_EXTRA_PIDS="$D_EXTRA_PIDS $!"
	_bp_i=0
	until [ "$(_bp -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP2_PORT/api/v1/status")" = 200 ]; do
		_bp_i=$((_bp_i + 1))
		[ "$_bp_i" -lt 50 ] || fail "http_token = yes: no 200 over plain HTTP: $(cat body) $(tail -n 5 daemon2.log)"
		sleep 0.2
	done
	pass "with http_token = yes the token is accepted over plain HTTP"
}

# ---- TLS ----

tls_refused() {	# VERSION
	_tr=$(timeout 20 $HOSTILE hello "$PORT" "$1") || fail "$1 ClientHello: client failed or hung"
	# daemon/tls_version.c sends the alert before GnuTLS refuses
	assert_eq "alert fatal protocol_version" "$_tr" "a $1-only ClientHello"
	sleep 0.2
	grep -q 'tls: refused a ClientHello offering at most version .*sent protocol_version' daemon.log ||
		fail "$1: the daemon logged no refusal: $(tail -n 5 daemon.log)"
	pass "$1 -> fatal protocol_version alert"
}

case_tls_ssl3() {
	tls_refused ssl3
}

case_tls_1_0() {
	tls_refused tls1.0
	set +e
	timeout 10 gnutls-cli --insecure -p "$PORT" --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.0' \
		127.0.0.1 </dev/null >tls.out 2>&1
	_t_rc=$?
	set -e
	[ "$_t_rc" != 0 ] && [ "$_t_rc" != 124 ] || fail "gnutls-cli TLS 1.0: exit $_t_rc: $(cat tls.out)"
	! grep -q 'Handshake was completed' tls.out || fail "TLS 1.0 handshake completed"
	grep -q 'Received alert \[70\]' tls.out || fail "gnutls-cli TLS 1.0: no protocol_version alert: $(cat tls.out)"
	pass "gnutls-cli with TLS 1.0 only: no handshake, alert 70"
}

case_tls_1_1() {
	tls_refused tls1.1
}

case_tls_plain_http_on_tls() {
	printf 'GET /api/v1/info HTTP/1.1\r\nHost: x\r\n\r\n' >r.req
	raw_is closed "a plain-HTTP request on the HTTPS port" r.req --plain
	_t=$(timeout 20 $HOSTILE hello "$PORT" tls1.2)
	assert_eq server_hello "$_t" "a TLS 1.2 ClientHello after that"
}
