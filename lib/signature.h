/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_SIGNATURE_H
#define SU_SIGNATURE_H

#include <stddef.h>

#include "error.h"

#define SIGNATURE_MAX_SIZE 1024	/* RSA-8192 is 1024 bytes; ECDSA P-256 ~72 */

/* The trusted public keys of a device. Opaque. */
struct keyring;

/*
 * Load every PEM public key in @dir (regular files only; dotfiles are
 * skipped). Accepted: ECDSA on P-256, RSA of at least 2048 bits. Any
 * other key, or a file that is not a PEM public key, makes this fail with
 * SU_ERR_CONFIG naming the file: a typo in a keys directory must not pass
 * silently. An empty directory is also SU_ERR_CONFIG.
 * On success *@out is a keyring the caller frees with keyring_free().
 */
enum su_err keyring_load_dir(const char *dir, struct keyring **out,
			     struct su_error *err);

/* As keyring_load_dir() for a single PEM file. */
enum su_err keyring_load_file(const char *path, struct keyring **out,
			      struct su_error *err);

void keyring_free(struct keyring *kr);
size_t keyring_count(const struct keyring *kr);

/*
 * Verify @sig (DER, as `openssl dgst -sha256 -sign` writes it) over @msg
 * with SHA-256 against every key of @kr: ECDSA, RSA PKCS#1 v1.5 and RSA
 * PSS (any salt length, MGF1-SHA-256). One valid signature suffices; the
 * file name of the key that verified is returned in *@key_name (owned by
 * @kr) when @key_name is not NULL.
 * Errors: SU_ERR_BAD_SIGNATURE when the signature is empty, malformed,
 * or verifies with no trusted key. SU_ERR_UNTRUSTED_KEY when it cannot
 * have been made by any trusted key at all: its form belongs to a key type
 * or size the keyring does not hold (an RSA signature of a length no trusted
 * RSA key has, an ECDSA signature with only RSA keys trusted).
 */
enum su_err signature_verify(const struct keyring *kr,
			     const void *msg, size_t msg_len,
			     const void *sig, size_t sig_len,
			     const char **key_name, struct su_error *err);

/*
 * Sign @msg with SHA-256 using the PEM private key at @key_path (ECDSA
 * P-256 or RSA >= 2048, PKCS#1 v1.5), writing the DER signature that
 * `openssl dgst -sha256 -sign` would write. On success *@sig is malloc'd
 * (caller frees) and *@sig_len set. SU_ERR_CONFIG for an unreadable or
 * unsuitable key.
 */
enum su_err signature_sign(const char *key_path, const void *msg, size_t msg_len,
			   unsigned char **sig, size_t *sig_len,
			   struct su_error *err);

/*
 * Generate an ECDSA P-256 key pair: the private key as PEM at @priv_path
 * (mode 0600, never overwriting an existing file) and the public key as
 * PEM at @pub_path.
 */
enum su_err signature_keygen(const char *priv_path, const char *pub_path,
			     struct su_error *err);

#endif
