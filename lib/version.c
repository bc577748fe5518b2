/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "manifest.h"
#include "version.h"

int version_compare(const char *a, const char *b)
{
	/* glibc and musl have it; docs/DESIGN.md §4 asks for its rules. */
	return strverscmp(a, b);
}

bool manifest_is_compatible(const struct manifest *m, const char *compatible)
{
	for (size_t i = 0; i < m->n_compatible; i++)
		if (!strcmp(m->compatible[i], compatible))
			return true;
	return false;
}

enum su_err manifest_check_policy(const struct manifest *m,
				  const char *compatible, const char *current,
				  bool force, struct su_error *err)
{
	if (compatible && !manifest_is_compatible(m, compatible) && !force)
		return su_error_set(err, SU_ERR_INCOMPATIBLE,
			"bundle is not for this device: it does not list \"%s\" in \"compatible\"",
			compatible);
	if (current && version_compare(m->version, current) < 0 && !force)
		return su_error_set(err, SU_ERR_DOWNGRADE,
			"bundle version %s is older than the running version %s (use force to downgrade)",
			m->version, current);
	return SU_OK;
}
