/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trusted keys, manifest signatures and key generation, over mbedtls.
 * The hash is always ours (digest.h); mbedtls only does the public-key
 * arithmetic and the PEM/DER encodings.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>

#include "atomic_file.h"
#include "digest.h"
#include "signature.h"

#define KEY_FILE_MAX (64 * 1024)	/* an RSA-8192 private PEM is ~6.5 KiB */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS (SIGNATURE_MAX_SIZE * 8)
#define P256_INT_MAX 33			/* 32 bytes plus a DER sign byte */
#define PEM_MAX 1024			/* a P-256 private key PEM is ~230 bytes */

struct trusted_key {
	char *name;			/* file name, returned as key_name */
	mbedtls_pk_context pk;
};

struct keyring {
	size_t n;
	struct trusted_key *keys;
};

struct rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static bool is_ec(const mbedtls_pk_context *pk)
{
	mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);

	return t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA;
}

static void free_key_file(unsigned char *buf, size_t len)
{
	mbedtls_platform_zeroize(buf, len);	/* it may be a private key */
	free(buf);
}

/*
 * Read a whole key file into a NUL-terminated buffer (mbedtls parses PEM
 * only when the terminator is part of the length, as its own loader
 * does). Reads to EOF rather than trusting st_size, so a pipe works for
 * signing keys. The caller frees *@out with free_key_file().
 */
static enum su_err read_key_file(const char *path, unsigned char **out,
				 size_t *out_len, struct su_error *err)
{
	enum su_err rc = SU_OK;
	unsigned char *buf;
	size_t len = 0;
	ssize_t r = 1;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return su_error_set(err, SU_ERR_CONFIG, "open %s: %m", path);
	buf = malloc(KEY_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return su_error_set(err, SU_ERR_NOMEM, "read %s: %m", path);
	}
	while (r != 0 && len <= KEY_FILE_MAX) {
		r = read(fd, buf + len, KEY_FILE_MAX + 1 - len);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			len += r;
	}
	if (r < 0)
		rc = su_error_set(err, SU_ERR_CONFIG, "read %s: %m", path);
	else if (len > KEY_FILE_MAX)
		rc = su_error_set(err, SU_ERR_CONFIG,
				  "%s: over %d bytes, too large for a key file",
				  path, KEY_FILE_MAX);
	close(fd);
	if (rc != SU_OK) {
		free_key_file(buf, len);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len + (strstr((char *)buf, "-----BEGIN ") != NULL);
	return SU_OK;
}

static enum su_err check_ec(const mbedtls_ecp_keypair *ec, const char *path,
			    struct su_error *err)
{
	const mbedtls_ecp_curve_info *ci;

	if (ec->grp.id == MBEDTLS_ECP_DP_SECP256R1)
		return SU_OK;
	ci = mbedtls_ecp_curve_info_from_grp_id(ec->grp.id);
	return su_error_set(err, SU_ERR_CONFIG,
			    "%s: EC key on curve %s; only P-256 (prime256v1) is accepted",
			    path, ci ? ci->name : "unknown");
}

static enum su_err check_rsa(size_t bits, const char *path, struct su_error *err)
{
	if (bits < RSA_MIN_BITS)
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: RSA key of %zu bits; at least %d required",
				    path, bits, RSA_MIN_BITS);
	if (bits > RSA_MAX_BITS)
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: RSA key of %zu bits; at most %d supported",
				    path, bits, RSA_MAX_BITS);
	return SU_OK;
}

/* The one policy for trusted and signing keys: ECDSA P-256, RSA >= 2048. */
static enum su_err check_key(mbedtls_pk_context *pk, const char *path,
			     struct su_error *err)
{
	if (is_ec(pk))
		return check_ec(mbedtls_pk_ec(*pk), path, err);
	if (mbedtls_pk_get_type(pk) == MBEDTLS_PK_RSA)
		return check_rsa(mbedtls_pk_get_bitlen(pk), path, err);
	return su_error_set(err, SU_ERR_CONFIG,
			    "%s: %s key; only ECDSA P-256 and RSA (at least %d bits) are accepted",
			    path, mbedtls_pk_get_name(pk), RSA_MIN_BITS);
}

/* Why mbedtls refused @path (whose text is @text), for an operator. */
static enum su_err parse_error(int ret, const char *text, bool private,
			       const char *path, struct su_error *err)
{
	char why[128];

	if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED)
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: encrypted private keys are not supported",
				    path);
	if (!private && strstr(text, "PRIVATE KEY-----"))
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: a private key where a public key belongs; never install private keys on a device",
				    path);
	if (private && strstr(text, "PUBLIC KEY-----"))
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: a public key; signing needs the private key",
				    path);
	mbedtls_strerror(ret, why, sizeof(why));
	return su_error_set(err, SU_ERR_CONFIG,
			    "%s: not an ECDSA P-256 or RSA %s key in PEM (%s)",
			    path, private ? "private" : "public", why);
}

/* Parse the public or (no password) private key at @path into @pk. */
static enum su_err parse_key_file(mbedtls_pk_context *pk, const char *path,
				  bool private, struct su_error *err)
{
	unsigned char *buf = NULL;
	enum su_err rc;
	size_t len = 0;
	int ret;

	rc = read_key_file(path, &buf, &len, err);
	if (rc != SU_OK)
		return rc;
	ret = private ? mbedtls_pk_parse_key(pk, buf, len, NULL, 0) :
			mbedtls_pk_parse_public_key(pk, buf, len);
	if (ret == 0)
		rc = check_key(pk, path, err);
	else
		rc = parse_error(ret, (char *)buf, private, path, err);
	free_key_file(buf, len);
	return rc;
}

/* Parse @path, check it and append it to @kr as @name. */
static enum su_err keyring_add(struct keyring *kr, const char *path,
			       const char *name, struct su_error *err)
{
	struct trusted_key *k = &kr->keys[kr->n];
	enum su_err rc;

	mbedtls_pk_init(&k->pk);
	rc = parse_key_file(&k->pk, path, false, err);
	if (rc == SU_OK) {
		k->name = strdup(name);
		if (!k->name)
			rc = su_error_set(err, SU_ERR_NOMEM, "%s: %m", path);
	}
	if (rc != SU_OK) {
		mbedtls_pk_free(&k->pk);
		return rc;
	}
	kr->n++;
	return SU_OK;
}

static struct keyring *keyring_new(size_t cap)
{
	struct keyring *kr = calloc(1, sizeof(*kr));

	if (!kr)
		return NULL;
	kr->keys = calloc(cap ? cap : 1, sizeof(*kr->keys));
	if (!kr->keys) {
		free(kr);
		return NULL;
	}
	return kr;
}

void keyring_free(struct keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++) {
		mbedtls_pk_free(&kr->keys[i].pk);
		free(kr->keys[i].name);
	}
	free(kr->keys);
	free(kr);
}

size_t keyring_count(const struct keyring *kr)
{
	return kr ? kr->n : 0;
}

static int not_dotfile(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* strcmp, not alphasort's strcoll: the same order whatever the locale. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Add @name of @dir to @kr if it is a regular file (or a link to one). */
static enum su_err keyring_add_entry(struct keyring *kr, const char *dir,
				     const char *name, struct su_error *err)
{
	const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";
	struct stat st;
	enum su_err rc = SU_OK;
	char *path;

	if (asprintf(&path, "%s%s%s", dir, sep, name) < 0)
		return su_error_set(err, SU_ERR_NOMEM, "%s/%s: %m", dir, name);
	if (stat(path, &st) < 0)
		rc = su_error_set(err, SU_ERR_CONFIG, "%s: %m", path);
	else if (S_ISREG(st.st_mode))
		rc = keyring_add(kr, path, name, err);
	free(path);
	return rc;
}

enum su_err keyring_load_dir(const char *dir, struct keyring **out,
			     struct su_error *err)
{
	struct dirent **ents = NULL;
	struct keyring *kr;
	enum su_err rc = SU_OK;
	int n;

	*out = NULL;
	n = scandir(dir, &ents, not_dotfile, by_name);
	if (n < 0)
		return su_error_set(err, SU_ERR_CONFIG,
				    "keys directory %s: %m", dir);
	kr = keyring_new(n);
	if (!kr)
		rc = su_error_set(err, SU_ERR_NOMEM, "keys directory %s: %m", dir);
	for (int i = 0; i < n && rc == SU_OK; i++)
		rc = keyring_add_entry(kr, dir, ents[i]->d_name, err);
	if (rc == SU_OK && kr->n == 0)
		rc = su_error_set(err, SU_ERR_CONFIG, "no trusted keys in %s", dir);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (rc != SU_OK) {
		keyring_free(kr);
		return rc;
	}
	*out = kr;
	return SU_OK;
}

enum su_err keyring_load_file(const char *path, struct keyring **out,
			      struct su_error *err)
{
	const char *slash = strrchr(path, '/');
	struct keyring *kr;
	enum su_err rc;

	*out = NULL;
	kr = keyring_new(1);
	if (!kr)
		return su_error_set(err, SU_ERR_NOMEM, "%s: %m", path);
	rc = keyring_add(kr, path, slash ? slash + 1 : path, err);
	if (rc != SU_OK) {
		keyring_free(kr);
		return rc;
	}
	*out = kr;
	return SU_OK;
}

/*
 * Whether @sig is exactly a DER SEQUENCE { INTEGER r, INTEGER s }, i.e.
 * shaped like an ECDSA signature. *@int_max gets the longer integer's
 * length, which tells the curve size apart.
 */
static bool ecdsa_shaped(const unsigned char *sig, size_t len, size_t *int_max)
{
	unsigned char *p = (unsigned char *)sig;	/* only read */
	const unsigned char *end = sig + len;
	size_t n;

	*int_max = 0;
	if (mbedtls_asn1_get_tag(&p, end, &n,
				 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
	    p + n != end)
		return false;
	for (int i = 0; i < 2; i++) {
		if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_INTEGER))
			return false;
		if (n > *int_max)
			*int_max = n;
		p += n;
	}
	return p == end;
}

static bool key_verifies(struct trusted_key *k,
			 const uint8_t hash[DIGEST_LEN],
			 const unsigned char *sig, size_t len)
{
	static const mbedtls_pk_rsassa_pss_options pss = {
		.mgf1_hash_id = MBEDTLS_MD_SHA256,
		.expected_salt_len = MBEDTLS_RSA_SALT_LEN_ANY,
	};
	mbedtls_pk_context *pk = &k->pk;

	if (is_ec(pk))
		return !mbedtls_pk_verify(pk, MBEDTLS_MD_SHA256, hash,
					  DIGEST_LEN, sig, len);
	if (len != mbedtls_pk_get_len(pk))
		return false;
	return !mbedtls_pk_verify(pk, MBEDTLS_MD_SHA256, hash, DIGEST_LEN,
				  sig, len) ||
	       !mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &pss, pk,
				      MBEDTLS_MD_SHA256, hash, DIGEST_LEN,
				      sig, len);
}

/*
 * No key verified @sig: tell a damaged signature (some trusted key could
 * have made one of this form) from one made by a kind of key we do not
 * trust at all, which is the likelier story for an operator.
 */
static enum su_err explain_failure(const struct keyring *kr,
				   const unsigned char *sig, size_t len,
				   struct su_error *err)
{
	size_t n_ec = 0, n_rsa_len = 0, int_max;

	for (size_t i = 0; i < kr->n; i++) {
		if (is_ec(&kr->keys[i].pk))
			n_ec++;
		else if (mbedtls_pk_get_len(&kr->keys[i].pk) == len)
			n_rsa_len++;
	}
	if (ecdsa_shaped(sig, len, &int_max)) {
		if (!n_ec)
			return su_error_set(err, SU_ERR_UNTRUSTED_KEY,
					    "manifest signed with an ECDSA key; no trusted key of that kind (only RSA keys are trusted)");
		if (int_max > P256_INT_MAX)
			return su_error_set(err, SU_ERR_UNTRUSTED_KEY,
					    "manifest signed with an ECDSA key on a curve larger than P-256; no trusted key of that kind");
	} else if (!n_rsa_len) {
		/* RSA keys come in multiples of 1024 bits; this is none */
		if (len % 128)
			return su_error_set(err, SU_ERR_BAD_SIGNATURE,
					    "manifest signature is malformed: %zu bytes that are neither a DER ECDSA signature nor an RSA signature",
					    len);
		return su_error_set(err, SU_ERR_UNTRUSTED_KEY,
				    "manifest signed with an RSA-%zu key; no trusted key of that kind",
				    len * 8);
	}
	return su_error_set(err, SU_ERR_BAD_SIGNATURE,
			    "manifest signature does not verify with %s %zu trusted key%s (corrupt or tampered bundle, or signed by an untrusted key)",
			    kr->n == 1 ? "the" : "any of the", kr->n,
			    kr->n == 1 ? "" : "s");
}

enum su_err signature_verify(const struct keyring *kr,
			     const void *msg, size_t msg_len,
			     const void *sig, size_t sig_len,
			     const char **key_name, struct su_error *err)
{
	uint8_t hash[DIGEST_LEN];

	if (key_name)
		*key_name = NULL;
	if (sig_len == 0)
		return su_error_set(err, SU_ERR_BAD_SIGNATURE,
				    "bundle is not signed (empty manifest signature)");
	if (sig_len > SIGNATURE_MAX_SIZE)
		return su_error_set(err, SU_ERR_BAD_SIGNATURE,
				    "manifest signature is %zu bytes; at most %d expected",
				    sig_len, SIGNATURE_MAX_SIZE);
	digest_buf(msg, msg_len, hash);
	for (size_t i = 0; i < kr->n; i++) {
		if (key_verifies(&kr->keys[i], hash, sig, sig_len)) {
			if (key_name)
				*key_name = kr->keys[i].name;
			return SU_OK;
		}
	}
	return explain_failure(kr, sig, sig_len, err);
}

static void rng_init(struct rng *r)
{
	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
}

static void rng_free(struct rng *r)
{
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
}

static enum su_err rng_seed(struct rng *r, struct su_error *err)
{
	static const unsigned char pers[] = "sysupgraded signature";
	char why[128];
	int ret;

	ret = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func,
				    &r->entropy, pers, sizeof(pers) - 1);
	if (ret == 0)
		return SU_OK;
	mbedtls_strerror(ret, why, sizeof(why));
	return su_error_set(err, SU_ERR_INTERNAL,
			    "seed the random generator: %s", why);
}

enum su_err signature_sign(const char *key_path, const void *msg, size_t msg_len,
			   unsigned char **sig, size_t *sig_len,
			   struct su_error *err)
{
	unsigned char buf[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	uint8_t hash[DIGEST_LEN];
	mbedtls_pk_context pk;
	struct rng rng;
	enum su_err rc;
	char why[128];
	size_t len;
	int ret;

	*sig = NULL;
	*sig_len = 0;
	mbedtls_pk_init(&pk);
	rng_init(&rng);
	rc = parse_key_file(&pk, key_path, true, err);
	if (rc == SU_OK)
		rc = rng_seed(&rng, err);
	if (rc != SU_OK)
		goto out;
	digest_buf(msg, msg_len, hash);
	ret = mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash),
			      buf, &len, mbedtls_ctr_drbg_random, &rng.drbg);
	if (ret) {
		mbedtls_strerror(ret, why, sizeof(why));
		rc = su_error_set(err, SU_ERR_INTERNAL, "sign with %s: %s",
				  key_path, why);
		goto out;
	}
	*sig = malloc(len);
	if (!*sig) {
		rc = su_error_set(err, SU_ERR_NOMEM, "sign with %s: %m", key_path);
		goto out;
	}
	memcpy(*sig, buf, len);
	*sig_len = len;
out:
	mbedtls_pk_free(&pk);
	rng_free(&rng);
	return rc;
}

/*
 * Create @path (never replacing a file) with exactly @mode, whatever the
 * umask, and write @len bytes of @data durably. Removes it on failure.
 */
static enum su_err write_new_file(const char *path, mode_t mode,
				  const void *data, size_t len,
				  struct su_error *err)
{
	const char *p = data;
	enum su_err rc = SU_OK;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0)
		return su_error_set(err, SU_ERR_IO, "create %s: %m", path);
	if (fchmod(fd, mode) < 0)
		rc = su_error_set(err, SU_ERR_IO, "chmod %s: %m", path);
	if (rc == SU_OK)
		rc = file_write_all(fd, p, len, path, err);
	if (rc == SU_OK && fsync(fd) < 0)
		rc = su_error_set(err, SU_ERR_IO, "fsync %s: %m", path);
	if (close(fd) < 0 && rc == SU_OK)
		rc = su_error_set(err, SU_ERR_IO, "close %s: %m", path);
	if (rc != SU_OK)
		unlink(path);
	return rc;
}

static enum su_err write_pem(mbedtls_pk_context *pk, bool private,
			     const char *path, struct su_error *err)
{
	unsigned char pem[PEM_MAX];
	enum su_err rc;
	char why[128];
	int ret;

	ret = private ? mbedtls_pk_write_key_pem(pk, pem, sizeof(pem)) :
			mbedtls_pk_write_pubkey_pem(pk, pem, sizeof(pem));
	if (ret) {
		mbedtls_strerror(ret, why, sizeof(why));
		rc = su_error_set(err, SU_ERR_INTERNAL, "encode %s: %s",
				  path, why);
	} else {
		rc = write_new_file(path, private ? 0600 : 0644, pem,
				    strlen((char *)pem), err);
	}
	mbedtls_platform_zeroize(pem, sizeof(pem));
	return rc;
}

enum su_err signature_keygen(const char *priv_path, const char *pub_path,
			     struct su_error *err)
{
	mbedtls_pk_context pk;
	struct rng rng;
	enum su_err rc;
	char why[128];
	int ret;

	mbedtls_pk_init(&pk);
	rng_init(&rng);
	rc = rng_seed(&rng, err);
	if (rc != SU_OK)
		goto out;
	ret = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (ret == 0)
		ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
					  mbedtls_pk_ec(pk),
					  mbedtls_ctr_drbg_random, &rng.drbg);
	if (ret) {
		mbedtls_strerror(ret, why, sizeof(why));
		rc = su_error_set(err, SU_ERR_INTERNAL,
				  "generate a P-256 key: %s", why);
		goto out;
	}
	rc = write_pem(&pk, true, priv_path, err);
	if (rc != SU_OK)
		goto out;
	rc = write_pem(&pk, false, pub_path, err);
	if (rc != SU_OK)
		unlink(priv_path);	/* a private key without its public half */
out:
	mbedtls_pk_free(&pk);
	rng_free(&rng);
	return rc;
}
