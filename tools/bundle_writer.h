/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TOOLS_BUNDLE_WRITER_H
#define SU_TOOLS_BUNDLE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct archive_entry;

/*
 * Writes a bundle's tar (pax_restricted: plain ustar headers unless a
 * member needs more) to a temporary file next to the destination, which
 * only appears, by rename(), when bundle_writer_commit() succeeds.
 * Members get mode 0644, owner root:root (0:0) and an mtime of
 * $SOURCE_DATE_EPOCH when set, else now, so builds can be reproducible.
 */
struct bundle_writer;

/*
 * Create "@path.tmp-XXXXXX" and start the archive. On success *@out is a
 * writer that the caller ends with bundle_writer_commit() or
 * bundle_writer_abort().
 */
enum su_err bundle_writer_open(const char *path, struct bundle_writer **out,
			       struct su_error *err);

/* Start a regular-file member of @size bytes; bundle_writer_data() follows. */
enum su_err bundle_writer_begin(struct bundle_writer *bw, const char *name,
				uint64_t size, struct su_error *err);

/* Start a member with the header of @e as it is (to copy a member). */
enum su_err bundle_writer_begin_entry(struct bundle_writer *bw,
				      struct archive_entry *e,
				      struct su_error *err);

/* Data of the current member; all of it, in order, in any chunking. */
enum su_err bundle_writer_data(struct bundle_writer *bw, const void *buf,
			       size_t len, struct su_error *err);

/* A whole member from memory. */
enum su_err bundle_writer_add_buf(struct bundle_writer *bw, const char *name,
				  const void *buf, size_t len,
				  struct su_error *err);

/*
 * A whole member of @size bytes read from @fd from its start, in 64 KiB
 * blocks. Fails if @fd ends early (the file shrank meanwhile). @what names
 * the file in messages.
 */
enum su_err bundle_writer_add_fd(struct bundle_writer *bw, const char *name,
				 int fd, uint64_t size, const char *what,
				 struct su_error *err);

/*
 * Finish the archive, sync it and rename it to the destination. Frees
 * @bw whatever happens; on failure the temporary file is removed.
 */
enum su_err bundle_writer_commit(struct bundle_writer *bw,
				 struct su_error *err);

/* Drop the temporary file and free @bw. NULL is allowed. */
void bundle_writer_abort(struct bundle_writer *bw);

#endif
