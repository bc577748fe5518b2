/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "backend.h"

/* Each backend's file defines one of these; a new backend adds its
 * declaration and its table entry here. */
extern const struct backend_ops backend_ext4;
extern const struct backend_ops backend_tar;
extern const struct backend_ops backend_mtd;
extern const struct backend_ops backend_ubi;

static const struct backend_ops *const backends[] = {
	&backend_ext4,
	&backend_tar,
	&backend_mtd,
	&backend_ubi,
	NULL,
};

const struct backend_ops *backend_find(const char *name)
{
	for (size_t i = 0; backends[i]; i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

const struct backend_ops *const *backend_list(void)
{
	return backends;
}

enum su_err backend_check_readback(const char *what, uint64_t size,
				   const uint8_t got[DIGEST_LEN],
				   const uint8_t want[DIGEST_LEN],
				   struct su_error *err)
{
	char got_hex[DIGEST_HEX_LEN + 1], want_hex[DIGEST_HEX_LEN + 1];

	if (!memcmp(got, want, DIGEST_LEN))
		return SU_OK;
	digest_to_hex(got, got_hex);
	digest_to_hex(want, want_hex);
	return su_error_setd(err, SU_ERR_WRITE_FAILED, "readback",
		"read back %s: SHA-256 of the first %llu bytes is %s, expected %s",
		what, (unsigned long long)size, got_hex, want_hex);
}
