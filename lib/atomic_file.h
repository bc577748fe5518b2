/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_ATOMIC_FILE_H
#define SU_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* write(2) all of @len bytes of @p to @fd, again on EINTR; @shown names
 * the file in the error. */
enum su_err file_write_all(int fd, const void *p, size_t len,
			   const char *shown, struct su_error *err);

/*
 * Replace @name in the directory @dfd with @len bytes of @data, so that a
 * reader (or a boot after a power cut) finds the old file or the new one,
 * whole: a temporary ".NAME.tmp" beside it (created O_EXCL | O_NOFOLLOW
 * with @mode; one left by a power cut is removed first), fsync, rename
 * over @name, fsync of the directory. @shown names the file in errors.
 */
enum su_err file_replace_at(int dfd, const char *name, const void *data,
			    size_t len, mode_t mode, const char *shown,
			    struct su_error *err);

#endif
