/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TAR_STREAM_H
#define SU_TAR_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * An incremental reader for the tar container of a bundle: ustar, pax
 * ('x' and 'g' headers; path and size records are honoured) and GNU
 * ('L' long names, base-256 sizes). Fed any number of bytes at a time;
 * it keeps no more than one 512-byte block plus a pax/long-name record
 * (capped at TAR_EXT_MAX) in memory.
 *
 * It does not judge names or types: it reports every member with its
 * typeflag and lets the caller refuse. Headers with a bad checksum,
 * malformed numbers, oversized extended records or a stream that ends
 * before the end-of-archive marker are SU_ERR_BAD_ARCHIVE.
 */

#define TAR_BLOCK	512
#define TAR_EXT_MAX	(64 * 1024)
#define TAR_NAME_MAX	4096

struct tar_member {
	char name[TAR_NAME_MAX];	/* NUL-terminated; pax/GNU long names */
	char type;		/* ustar typeflag; '0' for '\0' regular files */
	uint64_t size;		/* data bytes that follow */
	uint64_t offset;	/* stream offset of the first data byte */
};

struct tar_stream_ops {
	/* A member header has been read. */
	enum su_err (*member)(void *ctx, const struct tar_member *m,
			      struct su_error *err);
	/* Data bytes of the current member, in order, never past its size. */
	enum su_err (*data)(void *ctx, const void *buf, size_t len,
			    struct su_error *err);
	/* All data bytes of the current member have been delivered. */
	enum su_err (*member_end)(void *ctx, struct su_error *err);
};

struct tar_stream;

/* @ops is not copied; it and @ctx must outlive the reader. NULL on ENOMEM. */
struct tar_stream *tar_stream_new(const struct tar_stream_ops *ops, void *ctx);
void tar_stream_free(struct tar_stream *ts);

/*
 * Feed the next @len bytes. Callbacks run from inside this call; an error
 * they return stops the reader and is returned as is. After any error the
 * reader refuses further input with the same code.
 * Bytes after the end-of-archive marker must be zeros (tar pads to a
 * record size); anything else is SU_ERR_BAD_ARCHIVE.
 */
enum su_err tar_stream_feed(struct tar_stream *ts, const void *buf, size_t len,
			    struct su_error *err);

/*
 * The input has ended. SU_OK only when the end-of-archive marker (two
 * zero blocks) has been seen; SU_ERR_BAD_ARCHIVE ("truncated") otherwise.
 */
enum su_err tar_stream_finish(struct tar_stream *ts, struct su_error *err);

/* Bytes consumed so far. */
uint64_t tar_stream_offset(const struct tar_stream *ts);

#endif
