/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signatures against the openssl CLI: keys and signatures are made at test
 * time, by openssl and by our own signature_sign()/signature_keygen(), in
 * a fresh temporary directory. RSA keys are slow to make, so the group
 * setup makes each one once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signature.h"

extern char **environ;

static const char msg[] =
	"{\"format\": 1, \"version\": \"2.1.0\", "
	"\"compatible\": [\"acme,router-x1\"], \"images\": []}\n";

static char tmp[PATH_MAX];

/* @a/@b into @buf of PATH_MAX bytes. */
static char *join(char *buf, const char *a, const char *b)
{
	assert_true(snprintf(buf, PATH_MAX, "%s/%s", a, b) < PATH_MAX);
	return buf;
}

/* tmp/@name, in one of a few rotating buffers: enough for one call. */
static const char *tp(const char *name)
{
	static char bufs[8][PATH_MAX];
	static unsigned int next;

	return join(bufs[next++ % 8], tmp, name);
}

/*
 * Run @argv (no shell), stdout to /dev/null, stderr too when @quiet;
 * its exit status or -1.
 */
static int run_argv(bool quiet, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int status = -1;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0 &&
	    waitpid(pid, &status, 0) == pid)
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	posix_spawn_file_actions_destroy(&fa);
	return status;
}

#define MAX_ARGS 24

/*
 * openssl_run(quiet, "subcommand", "arg", ..., NULL): the exit status.
 * @quiet is an int: va_start after a bool parameter is undefined.
 */
static int openssl_run(int quiet, ...)
{
	char *argv[MAX_ARGS] = { "openssl" };
	int n = 1;
	va_list ap;

	va_start(ap, quiet);
	while ((argv[n] = va_arg(ap, char *)))
		assert_true(++n < MAX_ARGS);
	va_end(ap);
	return run_argv(quiet, argv);
}

#define openssl(...) openssl_run(false, __VA_ARGS__)
#define openssl_quiet(...) openssl_run(true, __VA_ARGS__)

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(65536);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 65536, f);
	assert_false(ferror(f));
	fclose(f);
	*len = n;
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* openssl private key tmp/@name.key and its public half tmp/@name.pub. */
static int gen_rsa(const char *name, const char *bits_opt)
{
	char key[64], pub[64];

	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(pub, sizeof(pub), "%s.pub", name);
	if (openssl("genpkey", "-quiet", "-algorithm", "RSA",
		"-pkeyopt", bits_opt, "-out", tp(key), NULL))
		return -1;
	return openssl("pkey", "-in", tp(key), "-pubout",
		   "-out", tp(pub), NULL);
}

static int gen_ec(const char *name, const char *curve)
{
	char key[64], pub[64];

	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(pub, sizeof(pub), "%s.pub", name);
	if (openssl("ecparam", "-name", curve, "-genkey", "-noout",
		"-out", tp(key), NULL))
		return -1;
	return openssl("pkey", "-in", tp(key), "-pubout",
		   "-out", tp(pub), NULL);
}

static int setup(void **state)
{
	static const char garbage[] = "-----BEGIN PUBLIC KEY-----\nnot base64\n"
				      "-----END PUBLIC KEY-----\n";
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/su-signature-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmp))
		return -1;
	write_file(tp("msg"), msg, strlen(msg));
	write_file(tp("garbage"), garbage, strlen(garbage));
	write_file(tp("text"), "hello\n", 6);
	if (gen_ec("ec1", "prime256v1") || gen_ec("ec2", "prime256v1") ||
	    gen_ec("p384", "secp384r1") ||
	    gen_rsa("rsa1", "rsa_keygen_bits:2048") ||
	    gen_rsa("rsa2", "rsa_keygen_bits:2048") ||
	    gen_rsa("rsa3072", "rsa_keygen_bits:3072") ||
	    gen_rsa("rsa1024", "rsa_keygen_bits:1024"))
		return -1;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Make the keys directory tmp/@dir holding, for each (source, name) pair
 * of the NULL-terminated list, tmp/source linked as name. Returns its
 * path, in one of a few rotating buffers.
 */
static const char *keydir(const char *dir, ...)
{
	static char bufs[4][PATH_MAX];
	static unsigned int next;
	char *path = bufs[next++ % 4], dst[PATH_MAX];
	const char *src, *name;
	va_list ap;

	assert_int_equal(mkdir(join(path, tmp, dir), 0755), 0);
	va_start(ap, dir);
	while ((src = va_arg(ap, const char *))) {
		name = va_arg(ap, const char *);
		assert_int_equal(link(tp(src), join(dst, path, name)), 0);
	}
	va_end(ap);
	return path;
}

/* openssl dgst -sha256 -sign tmp/@key over msg; PSS when @saltlen. */
static unsigned char *ossl_sign(const char *key, const char *saltlen,
				size_t *len)
{
	char salt_opt[64];

	if (!saltlen) {
		assert_int_equal(openssl("dgst", "-sha256", "-sign",
				     tp(key), "-out", tp("sig"), tp("msg"),
				     NULL), 0);
	} else {
		snprintf(salt_opt, sizeof(salt_opt), "rsa_pss_saltlen:%s",
			 saltlen);
		assert_int_equal(openssl("dgst", "-sha256",
				     "-sigopt", "rsa_padding_mode:pss",
				     "-sigopt", salt_opt, "-sign", tp(key),
				     "-out", tp("sig"), tp("msg"), NULL), 0);
	}
	return read_file(tp("sig"), len);
}

/* Verify @sig over @m with the keys of @dir; expect @want (and @name). */
static void expect_m(const char *dir, const void *m, size_t m_len,
		     const unsigned char *sig, size_t sig_len,
		     enum su_err want, const char *want_name)
{
	struct su_error err = { 0 };
	const char *name = "unset";
	struct keyring *kr;
	enum su_err rc;

	assert_int_equal(keyring_load_dir(dir, &kr, &err), SU_OK);
	rc = signature_verify(kr, m, m_len, sig, sig_len, &name, &err);
	if (rc != want)
		print_message("%s: %s\n", su_err_name(rc), err.message);
	assert_int_equal(rc, want);
	if (want == SU_OK) {
		assert_string_equal(name, want_name);
	} else {
		assert_null(name);
		assert_int_equal(err.code, want);
		assert_true(err.message[0] != '\0');
	}
	keyring_free(kr);
}

static void expect(const char *dir, const unsigned char *sig, size_t sig_len,
		   enum su_err want, const char *want_name)
{
	expect_m(dir, msg, strlen(msg), sig, sig_len, want, want_name);
}

/* openssl signs msg with tmp/@key (PSS when @saltlen); @dir verifies it. */
static void expect_openssl_ok(const char *dir, const char *key,
			      const char *saltlen, size_t want_len,
			      const char *want_name)
{
	unsigned char *sig;
	size_t len;

	sig = ossl_sign(key, saltlen, &len);
	if (want_len)
		assert_int_equal(len, want_len);
	expect(dir, sig, len, SU_OK, want_name);
	free(sig);
}

static void test_ecdsa_openssl(void **state)
{
	(void)state;
	expect_openssl_ok(keydir("k-ec", "ec1.pub", "release.pem", NULL),
			  "ec1.key", NULL, 0, "release.pem");
}

static void test_rsa_pkcs1(void **state)
{
	(void)state;
	expect_openssl_ok(keydir("k-rsa", "rsa1.pub", "rsa.pem", NULL),
			  "rsa1.key", NULL, 256, "rsa.pem");
}

static void test_rsa_pss(void **state)
{
	static const char *const salts[] = { "-1", "32", "max", "0" };
	const char *dir = keydir("k-pss", "rsa1.pub", "rsa.pem", NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(salts) / sizeof(salts[0]); i++)
		expect_openssl_ok(dir, "rsa1.key", salts[i], 256, "rsa.pem");
}

static void test_second_key(void **state)
{
	const char *ec = keydir("k-two-ec", "ec2.pub", "a.pem",
				"ec1.pub", "b.pem", NULL);
	const char *mixed = keydir("k-two-mixed", "rsa2.pub", "a.pem",
				   "rsa1.pub", "b.pem", "ec2.pub", "c.pem", NULL);
	/* the same key twice: the first name in byte order wins */
	const char *twice = keydir("k-twice", "ec1.pub", "b.pem",
				   "ec1.pub", "B.pem", NULL);

	(void)state;
	expect_openssl_ok(ec, "ec1.key", NULL, 0, "b.pem");
	expect_openssl_ok(twice, "ec1.key", NULL, 0, "B.pem");
	expect_openssl_ok(mixed, "rsa1.key", "-1", 256, "b.pem");
}

static void test_wrong_key(void **state)
{
	const char *ec = keydir("k-wrong-ec", "ec2.pub", "other.pem", NULL);
	const char *rsa = keydir("k-wrong-rsa", "rsa2.pub", "other.pem", NULL);
	const char *both = keydir("k-wrong-both", "ec2.pub", "a.pem",
				  "rsa2.pub", "b.pem", NULL);
	unsigned char *sig;
	size_t len;

	(void)state;
	sig = ossl_sign("ec1.key", NULL, &len);
	expect(ec, sig, len, SU_ERR_BAD_SIGNATURE, NULL);
	expect(both, sig, len, SU_ERR_BAD_SIGNATURE, NULL);
	free(sig);
	sig = ossl_sign("rsa1.key", NULL, &len);
	expect(rsa, sig, len, SU_ERR_BAD_SIGNATURE, NULL);
	expect(both, sig, len, SU_ERR_BAD_SIGNATURE, NULL);
	free(sig);
}

static void test_untrusted_key(void **state)
{
	const char *ec = keydir("k-untrusted-ec", "ec1.pub", "a.pem",
				"ec2.pub", "b.pem", NULL);
	const char *rsa = keydir("k-untrusted-rsa", "rsa1.pub", "a.pem", NULL);
	struct su_error err = { 0 };
	struct keyring *kr;
	unsigned char *sig;
	size_t len;

	(void)state;
	sig = ossl_sign("rsa1.key", NULL, &len);
	expect(ec, sig, len, SU_ERR_UNTRUSTED_KEY, NULL);
	free(sig);

	sig = ossl_sign("rsa3072.key", NULL, &len);
	assert_int_equal(len, 384);
	expect(rsa, sig, len, SU_ERR_UNTRUSTED_KEY, NULL);
	assert_int_equal(keyring_load_dir(rsa, &kr, &err), SU_OK);
	signature_verify(kr, msg, strlen(msg), sig, len, NULL, &err);
	assert_non_null(strstr(err.message, "RSA-3072"));
	keyring_free(kr);
	free(sig);

	/* an ECDSA signature with only RSA keys trusted */
	sig = ossl_sign("ec1.key", NULL, &len);
	expect(rsa, sig, len, SU_ERR_UNTRUSTED_KEY, NULL);
	free(sig);

	/* an ECDSA P-384 signature: larger integers than P-256 can have */
	sig = ossl_sign("p384.key", NULL, &len);
	expect(ec, sig, len, SU_ERR_UNTRUSTED_KEY, NULL);
	free(sig);
}

static void expect_flipped(const char *dir, const unsigned char *sig,
			   size_t len, size_t at)
{
	unsigned char *bad = malloc(len);

	assert_non_null(bad);
	memcpy(bad, sig, len);
	bad[at] ^= 0x01;
	expect(dir, bad, len, SU_ERR_BAD_SIGNATURE, NULL);
	free(bad);
}

static void test_corrupt_signature(void **state)
{
	const char *dir = keydir("k-corrupt", "ec1.pub", "a.pem",
				 "rsa1.pub", "b.pem", NULL);
	unsigned char *sig, *big;
	size_t len, r_len, s_at, s_len;

	(void)state;
	sig = ossl_sign("ec1.key", NULL, &len);
	/* 30 len 02 rlen r... 02 slen s...: all short-form for P-256 */
	assert_int_equal(sig[0], 0x30);
	assert_int_equal(sig[2], 0x02);
	r_len = sig[3];
	s_at = 4 + r_len + 2;
	s_len = sig[s_at - 1];
	assert_int_equal(sig[s_at - 2], 0x02);
	assert_int_equal(s_at + s_len, len);
	expect_flipped(dir, sig, len, 4 + r_len / 2);	/* r */
	expect_flipped(dir, sig, len, s_at + s_len / 2);	/* s */
	expect_flipped(dir, sig, len, 0);		/* SEQUENCE tag */
	expect_flipped(dir, sig, len, 1);		/* SEQUENCE length */
	expect_flipped(dir, sig, len, 3);		/* r's length */
	expect(dir, sig, len - 1, SU_ERR_BAD_SIGNATURE, NULL);
	big = malloc(SIGNATURE_MAX_SIZE + 1);
	assert_non_null(big);
	memset(big, 0, SIGNATURE_MAX_SIZE + 1);
	memcpy(big, sig, len);
	expect(dir, big, len + 1, SU_ERR_BAD_SIGNATURE, NULL);	/* trailing byte */
	expect(dir, big, SIGNATURE_MAX_SIZE + 1, SU_ERR_BAD_SIGNATURE, NULL);
	free(sig);

	sig = ossl_sign("rsa1.key", NULL, &len);
	expect_flipped(dir, sig, len, 0);
	expect_flipped(dir, sig, len, len / 2);
	expect_flipped(dir, sig, len, len - 1);
	expect(dir, sig, len - 1, SU_ERR_BAD_SIGNATURE, NULL);
	free(sig);
	free(big);
}

static void test_empty_signature(void **state)
{
	const char *dir = keydir("k-empty-sig", "ec1.pub", "a.pem", NULL);
	struct su_error err = { 0 };
	struct keyring *kr;

	(void)state;
	expect(dir, (const unsigned char *)"", 0, SU_ERR_BAD_SIGNATURE, NULL);
	assert_int_equal(keyring_load_dir(dir, &kr, &err), SU_OK);
	assert_int_equal(signature_verify(kr, msg, strlen(msg), NULL, 0,
					  NULL, &err), SU_ERR_BAD_SIGNATURE);
	assert_non_null(strstr(err.message, "not signed"));
	keyring_free(kr);
}

static void test_corrupt_message(void **state)
{
	const char *dir = keydir("k-corrupt-msg", "ec1.pub", "a.pem",
				 "rsa1.pub", "b.pem", NULL);
	const char *signers[][2] = {
		{ "ec1.key", NULL }, { "rsa1.key", NULL }, { "rsa1.key", "-1" },
	};
	char bad[sizeof(msg)];
	unsigned char *sig;
	size_t len;

	(void)state;
	memcpy(bad, msg, sizeof(msg));
	bad[10] ^= 0x01;
	for (size_t i = 0; i < sizeof(signers) / sizeof(signers[0]); i++) {
		sig = ossl_sign(signers[i][0], signers[i][1], &len);
		expect_m(dir, msg, strlen(msg), sig, len, SU_OK,
			 i ? "b.pem" : "a.pem");
		expect_m(dir, bad, strlen(bad), sig, len,
			 SU_ERR_BAD_SIGNATURE, NULL);
		/* one byte short of the signed text */
		expect_m(dir, msg, strlen(msg) - 1, sig, len,
			 SU_ERR_BAD_SIGNATURE, NULL);
		free(sig);
	}
}

/* keyring_load_dir(@dir) fails with SU_ERR_CONFIG naming @what. */
static void expect_refused(const char *dir, const char *what)
{
	struct su_error err = { 0 };
	struct keyring *kr = (struct keyring *)1;

	assert_int_equal(keyring_load_dir(dir, &kr, &err), SU_ERR_CONFIG);
	assert_null(kr);
	if (!strstr(err.message, what))
		print_message("message \"%s\" lacks \"%s\"\n", err.message, what);
	assert_non_null(strstr(err.message, what));
}

static void test_keyring_refusals(void **state)
{
	char *big;

	(void)state;
	expect_refused(keydir("k-rsa1024", "ec1.pub", "a.pem",
			      "rsa1024.pub", "old.pem", NULL),
		       "old.pem: RSA key of 1024 bits; at least 2048 required");
	expect_refused(keydir("k-p384", "p384.pub", "p384.pem", NULL),
		       "p384.pem: EC key on curve secp384r1");
	expect_refused(keydir("k-private", "ec1.pub", "a.pem",
			      "ec1.key", "b.pem", NULL), "b.pem: a private key");
	expect_refused(keydir("k-private-rsa", "rsa1.key", "rsa.pem", NULL),
		       "rsa.pem: a private key");
	expect_refused(keydir("k-garbage", "ec1.pub", "a.pem",
			      "garbage", "junk.pem", NULL),
		       "junk.pem: not an ECDSA P-256 or RSA public key");
	expect_refused(keydir("k-text", "text", "README", NULL),
		       "README: not an ECDSA P-256 or RSA public key");
	big = calloc(1, 70000);
	assert_non_null(big);
	write_file(tp("big"), big, 70000);
	free(big);
	expect_refused(keydir("k-big", "big", "big.pem", NULL),
		       "big.pem: over 65536 bytes");
	expect_refused(keydir("k-none", NULL), "no trusted keys in");
	expect_refused(tp("k-missing"), "k-missing: No such file or directory");

	/* dotfiles and subdirectories are not keys: still empty */
	keydir("k-dot", "text", ".hidden", NULL);
	assert_int_equal(mkdir(tp("k-dot/sub"), 0755), 0);
	expect_refused(tp("k-dot"), "no trusted keys in");
}

static void test_keyring_skips(void **state)
{
	const char *dir = keydir("k-skips", "text", ".README", "ec1.pub", "a.pem",
				 NULL);
	struct su_error err = { 0 };
	struct keyring *kr;
	char link_path[PATH_MAX];

	(void)state;
	assert_int_equal(mkdir(tp("k-skips/sub.pem"), 0755), 0);
	assert_int_equal(symlink(tp("ec2.pub"), join(link_path, dir, "b.pem")),
			 0);
	assert_int_equal(keyring_load_dir(dir, &kr, &err), SU_OK);
	assert_int_equal(keyring_count(kr), 2);	/* a.pem, b.pem -> ec2.pub */
	keyring_free(kr);

	/* a dangling link is a typo in the keys directory */
	assert_int_equal(symlink(tp("nonexistent.pub"),
				 join(link_path, dir, "c.pem")), 0);
	expect_refused(dir, "c.pem");
}

static void test_keyring_file(void **state)
{
	struct su_error err = { 0 };
	struct keyring *kr;
	unsigned char *sig;
	const char *name;
	size_t len;

	(void)state;
	assert_int_equal(keyring_load_file(tp("ec1.pub"), &kr, &err), SU_OK);
	assert_int_equal(keyring_count(kr), 1);
	sig = ossl_sign("ec1.key", NULL, &len);
	assert_int_equal(signature_verify(kr, msg, strlen(msg), sig, len,
					  &name, &err), SU_OK);
	assert_string_equal(name, "ec1.pub");
	keyring_free(kr);

	/* DER is accepted too */
	assert_int_equal(openssl("pkey", "-pubin", "-in", tp("ec1.pub"),
			     "-outform", "DER", "-out", tp("ec1.der"), NULL), 0);
	assert_int_equal(keyring_load_file(tp("ec1.der"), &kr, &err), SU_OK);
	assert_int_equal(signature_verify(kr, msg, strlen(msg), sig, len,
					  &name, &err), SU_OK);
	assert_string_equal(name, "ec1.der");
	keyring_free(kr);
	free(sig);

	kr = (struct keyring *)1;
	assert_int_equal(keyring_load_file(tp("rsa1024.pub"), &kr, &err),
			 SU_ERR_CONFIG);
	assert_null(kr);
	assert_int_equal(keyring_load_file(tp("nonexistent.pub"), &kr, &err),
			 SU_ERR_CONFIG);
	assert_non_null(strstr(err.message, "nonexistent.pub"));
}

/* Sign with ours; check with ours and with `openssl dgst -verify`. */
static void sign_and_check(const char *key, const char *pub, size_t want_len)
{
	char dirname[64];
	struct su_error err = { 0 };
	unsigned char *sig = NULL;
	size_t len = 0;
	const char *dir;

	snprintf(dirname, sizeof(dirname), "k-sign-%s", key);
	dir = keydir(dirname, pub, "signer.pem", NULL);
	assert_int_equal(signature_sign(tp(key), msg, strlen(msg), &sig, &len,
					&err), SU_OK);
	assert_non_null(sig);
	if (want_len)
		assert_int_equal(len, want_len);
	expect(dir, sig, len, SU_OK, "signer.pem");
	write_file(tp("our.sig"), sig, len);
	assert_int_equal(openssl("dgst", "-sha256", "-verify", tp(pub),
			     "-signature", tp("our.sig"), tp("msg"), NULL), 0);
	/* and openssl can say no: the check above means something */
	write_file(tp("msg.bad"), msg, strlen(msg) - 1);
	assert_int_not_equal(openssl_quiet("dgst", "-sha256", "-verify",
				       tp(pub), "-signature", tp("our.sig"),
				       tp("msg.bad"), NULL), 0);
	free(sig);
}

/* signature_sign(@key) fails with SU_ERR_CONFIG naming @what. */
static void expect_sign_refused(const char *key, const char *what)
{
	struct su_error err = { 0 };
	unsigned char *sig = (unsigned char *)1;
	size_t len = 1;

	assert_int_equal(signature_sign(tp(key), msg, strlen(msg), &sig, &len,
					&err), SU_ERR_CONFIG);
	assert_null(sig);
	assert_int_equal(len, 0);
	if (!strstr(err.message, what))
		print_message("message \"%s\" lacks \"%s\"\n", err.message, what);
	assert_non_null(strstr(err.message, what));
}

static void test_sign(void **state)
{
	(void)state;
	sign_and_check("ec1.key", "ec1.pub", 0);
	sign_and_check("rsa1.key", "rsa1.pub", 256);
	sign_and_check("rsa3072.key", "rsa3072.pub", 384);

	expect_sign_refused("p384.key", "secp384r1");
	expect_sign_refused("rsa1024.key", "RSA key of 1024 bits");
	expect_sign_refused("ec1.pub", "a public key");
	expect_sign_refused("nonexistent.key", "No such file");
	expect_sign_refused("text", "not an ECDSA P-256 or RSA private key");
}

static void test_keygen(void **state)
{
	const char *priv = tp("gen.key"), *pub = tp("gen.pub");
	struct su_error err = { 0 };
	unsigned char *before, *after, *sig;
	size_t before_len, after_len, len;
	const char *dir;
	struct stat st;

	(void)state;
	assert_int_equal(signature_keygen(priv, pub, &err), SU_OK);
	assert_int_equal(openssl("pkey", "-in", priv, "-noout", NULL), 0);
	assert_int_equal(openssl("pkey", "-pubin", "-in", pub, "-noout",
			     NULL), 0);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* never overwrites: the key is unchanged after a second attempt */
	before = read_file(priv, &before_len);
	assert_int_equal(signature_keygen(priv, pub, &err), SU_ERR_IO);
	assert_non_null(strstr(err.message, "gen.key"));
	after = read_file(priv, &after_len);
	assert_memory_equal(before, after, before_len);
	assert_int_equal(before_len, after_len);
	free(before);
	free(after);
	/* an existing public key: refused, and no orphan private key */
	assert_int_equal(signature_keygen(tp("gen2.key"), pub, &err),
			 SU_ERR_IO);
	assert_non_null(strstr(err.message, "gen.pub"));
	assert_int_equal(access(tp("gen2.key"), F_OK), -1);

	/* the pair works both ways with openssl and with us */
	dir = keydir("k-gen", "gen.pub", "gen.pem", NULL);
	sig = ossl_sign("gen.key", NULL, &len);
	expect(dir, sig, len, SU_OK, "gen.pem");
	free(sig);
	sign_and_check("gen.key", "gen.pub", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecdsa_openssl),
		cmocka_unit_test(test_rsa_pkcs1),
		cmocka_unit_test(test_rsa_pss),
		cmocka_unit_test(test_second_key),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_untrusted_key),
		cmocka_unit_test(test_corrupt_signature),
		cmocka_unit_test(test_empty_signature),
		cmocka_unit_test(test_corrupt_message),
		cmocka_unit_test(test_keyring_refusals),
		cmocka_unit_test(test_keyring_skips),
		cmocka_unit_test(test_keyring_file),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_keygen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
