/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "digest.h"

#ifdef SU_DIGEST_NETTLE
void digest_init(struct digest *d)
{
	sha256_init(&d->ctx);
}

void digest_update(struct digest *d, const void *buf, size_t len)
{
	sha256_update(&d->ctx, len, buf);
}

void digest_final(struct digest *d, uint8_t out[DIGEST_LEN])
{
	sha256_digest(&d->ctx, DIGEST_LEN, out);
}

const char *digest_impl(void)
{
	return "nettle";
}
#else
void digest_init(struct digest *d)
{
	mbedtls_sha256_init(&d->ctx);
	mbedtls_sha256_starts_ret(&d->ctx, 0);
}

void digest_update(struct digest *d, const void *buf, size_t len)
{
	mbedtls_sha256_update_ret(&d->ctx, buf, len);
}

void digest_final(struct digest *d, uint8_t out[DIGEST_LEN])
{
	mbedtls_sha256_finish_ret(&d->ctx, out);
	mbedtls_sha256_free(&d->ctx);
	digest_init(d);
}

const char *digest_impl(void)
{
	return "mbedtls";
}
#endif

void digest_buf(const void *buf, size_t len, uint8_t out[DIGEST_LEN])
{
	struct digest d;

	digest_init(&d);
	digest_update(&d, buf, len);
	digest_final(&d, out);
}

void digest_to_hex(const uint8_t d[DIGEST_LEN], char hex[DIGEST_HEX_LEN + 1])
{
	static const char x[] = "0123456789abcdef";

	for (int i = 0; i < DIGEST_LEN; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[DIGEST_HEX_LEN] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int digest_from_hex(const char *hex, uint8_t d[DIGEST_LEN])
{
	if (strlen(hex) != DIGEST_HEX_LEN)
		return -1;
	for (int i = 0; i < DIGEST_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		d[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
