/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_KEEP_H
#define SU_KEEP_H

#include <stdint.h>

#include "config.h"
#include "error.h"

/*
 * The keep-config archive: the files an in-place upgrade carries over.
 * The list is cfg->keep (paths and glob(3) patterns) plus every line of
 * every regular file in cfg->keep_d (one path or glob per line, '#'
 * comments, blank lines ignored). Directories are taken recursively.
 * A path that does not exist is not an error (configs list optional
 * files); an unreadable one is.
 */

/* Write the archive (a plain ustar/pax tar, libarchive) to @archive;
 * *@bytes gets its size. */
enum su_err keep_archive_create(const struct config *cfg, const char *archive,
				uint64_t *bytes, struct su_error *err);
/*
 * Extract @archive beneath @dir (the kept files land at @dir/<old path>),
 * with owners, modes and times. Nothing escapes @dir: absolute names,
 * ".." and paths through symlinks are refused (libarchive's
 * ARCHIVE_EXTRACT_SECURE_* flags), an existing file is replaced.
 */
enum su_err keep_archive_restore(const char *archive, const char *dir,
				 struct su_error *err);

#endif
