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
 * comments, blank lines ignored; dot files skipped). Directories are
 * taken recursively, symlinks as symlinks, each path once. A path that
 * does not exist is not an error (configs list optional files); an
 * unreadable one is. Paths must be absolute and free of "..".
 * Names in the archive are the paths without their leading "/".
 */

/*
 * Write the archive (cpio newc, libarchive; see keep.c for why not tar)
 * to @archive
 * (created 0600, replaced if there; removed again on failure); *@bytes
 * gets its size. Owners are numeric; xattrs and ACLs are not kept.
 * Errors: SU_ERR_CONFIG (a relative or ".." path, naming the config file
 * or the keep.d file and line), SU_ERR_IO, SU_ERR_NOMEM.
 */
enum su_err keep_archive_create(const struct config *cfg, const char *archive,
				uint64_t *bytes, struct su_error *err);
/*
 * Extract @archive (cpio as written above, or tar) beneath @dir (the kept files land at @dir/<old path>),
 * with owners, modes and times. Nothing escapes @dir: absolute names
 * (refused here, as the names are prefixed with @dir's realpath rather
 * than extracted after a chdir), ".." and paths through symlinks
 * (libarchive's ARCHIVE_EXTRACT_SECURE_NODOTDOT and _SYMLINKS), also in
 * hardlink targets. An existing file, or a symlink at the name itself,
 * is replaced. The first refused entry ends the restore; entries before
 * it stay. Errors: SU_ERR_BAD_ARCHIVE (a refused or unreadable entry),
 * SU_ERR_NO_SPACE, SU_ERR_IO (@dir, the disk), SU_ERR_NOMEM.
 */
enum su_err keep_archive_restore(const char *archive, const char *dir,
				 struct su_error *err);

#endif
