/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DIGEST_H
#define SU_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_LEN 32		/* SHA-256 */
#define DIGEST_HEX_LEN 64

/*
 * The one SHA-256 interface of the project. The implementation is chosen
 * at build time: nettle (SHA-NI where the CPU has it; GnuTLS already
 * pulls it in through libmicrohttpd) or mbedtls. digest_impl() names the
 * one in use so benchmarks can report it.
 */
#ifdef SU_DIGEST_NETTLE
#include <nettle/sha2.h>
struct digest { struct sha256_ctx ctx; };
#else
#include <mbedtls/sha256.h>
struct digest { mbedtls_sha256_context ctx; };
#endif

void digest_init(struct digest *d);
void digest_update(struct digest *d, const void *buf, size_t len);
/* Writes the SHA-256 to @out and re-initialises @d. */
void digest_final(struct digest *d, uint8_t out[DIGEST_LEN]);
/* One-shot SHA-256 of a buffer. */
void digest_buf(const void *buf, size_t len, uint8_t out[DIGEST_LEN]);
/* "nettle" or "mbedtls". */
const char *digest_impl(void);

/* Lower-case hex of a digest into @hex (65 bytes with the NUL). */
void digest_to_hex(const uint8_t d[DIGEST_LEN], char hex[DIGEST_HEX_LEN + 1]);
/* Parse exactly 64 hex digits (either case); -1 otherwise. */
int digest_from_hex(const char *hex, uint8_t d[DIGEST_LEN]);

#endif
