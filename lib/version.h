/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_VERSION_H
#define SU_VERSION_H

#include <stdbool.h>

#include "error.h"

struct manifest;

/*
 * Compare two version strings the way strverscmp(3) does: runs of digits
 * compare as numbers, so "2.10.0" > "2.9.1". Returns <0, 0 or >0.
 */
int version_compare(const char *a, const char *b);

/* True when @compatible is one of the manifest's compatible strings. */
bool manifest_is_compatible(const struct manifest *m, const char *compatible);

/*
 * The policy check run once the manifest is verified: the bundle must name
 * @compatible (when not NULL) and must not be older than @current (when
 * not NULL). @force accepts a bundle that fails only these two checks.
 * Returns SU_OK, SU_ERR_INCOMPATIBLE or SU_ERR_DOWNGRADE.
 */
enum su_err manifest_check_policy(const struct manifest *m,
				  const char *compatible, const char *current,
				  bool force, struct su_error *err);

#endif
