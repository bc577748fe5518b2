/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tls_version_max() on arbitrary ClientHello bodies: it reads only
 * within the message (ASan watches a copy of exactly @size bytes), and
 * a version it returns is one the message holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls_version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int holds(const uint8_t *p, size_t n, unsigned v)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (((unsigned)p[i] << 8 | p[i + 1]) == v)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	unsigned v;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	v = tls_version_max(copy, size);
	if (v && !holds(copy, size, v))
		abort();
	free(copy);
	return 0;
}
