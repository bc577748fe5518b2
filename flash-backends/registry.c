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
