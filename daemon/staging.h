/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_STAGING_H
#define SU_DAEMON_STAGING_H

#include <stdint.h>

#include "config.h"
#include "error.h"

/*
 * The staging area: a tmpfs (or ramfs) directory holding at most one
 * staged bundle, STAGING_BUNDLE_NAME. An upload is written to an
 * anonymous O_TMPFILE (a named ".upload-*" file where O_TMPFILE is not
 * supported) and only gets the staged name, by link and rename, once the
 * bundle reader accepted all of it. So a refused or interrupted upload,
 * even a crash, never leaves a file behind and never touches the bundle
 * staged before.
 */
#define STAGING_BUNDLE_NAME "bundle.tar"

/*
 * Check that cfg->staging_dir is a tmpfs or ramfs, creating the
 * directory when missing; otherwise mount a tmpfs there (size: the
 * configured max_size plus 1 MiB, or half of RAM). Stale upload files
 * are removed.
 */
enum su_err staging_init(const struct config *cfg, struct su_error *err);
/* Unmount what staging_init() mounted. */
void staging_shutdown(void);

/* The staged bundle's path (it may not exist). */
const char *staging_bundle_path(void);

/*
 * The largest bundle accepted now: min(configured max_size,
 * 3/4 of MemAvailable). Without max_size only MemAvailable decides.
 */
uint64_t staging_limit(void);
/* Free bytes of the staging filesystem. */
uint64_t staging_free(void);

struct staging_upload;

enum su_err staging_upload_begin(struct staging_upload **out,
				 struct su_error *err);
/* The upload file, open for reading too (pread it, do not move it). */
int staging_upload_fd(const struct staging_upload *up);
/* Append to the upload; past its first MiB the bytes may wait in a
 * buffer for a larger write. SU_ERR_TOO_LARGE past the limit,
 * SU_ERR_NO_SPACE when the filesystem is full. */
enum su_err staging_upload_write(struct staging_upload *up, const void *buf,
				 size_t len, struct su_error *err);
/* Write out what waits in the buffer. */
enum su_err staging_upload_flush(struct staging_upload *up,
				 struct su_error *err);
/* The bytes in the file, the ones a reader of its fd can see. */
uint64_t staging_upload_written(const struct staging_upload *up);
/* Make the upload the staged bundle (replacing one staged before) and
 * free @up; *@fd keeps the file open (the caller closes it), so an
 * install reads what was verified, never a file found again by name. */
enum su_err staging_upload_commit(struct staging_upload *up, int *fd,
				  struct su_error *err);
/* Drop the upload and free @up; NULL is fine. */
void staging_upload_abort(struct staging_upload *up);

/* Remove the staged bundle. */
void staging_discard(void);

#endif
