/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_INSTALL_STREAM_H
#define SU_INSTALL_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"

/*
 * Internal to the install engine: one image's payload, read from the
 * staged bundle file and decompressed. The stored bytes are hashed as
 * they are read, so what reaches the backend is exactly what was hashed.
 */
struct payload_stream;

#define PAYLOAD_CHUNK	(1u << 20)	/* read and decompress 1 MiB at a time */

/*
 * Start reading @img's stored bytes at @offset of the open bundle file
 * @fd (@path names it in messages), @chunk bytes at a time (0:
 * PAYLOAD_CHUNK); three buffers of that size are held. Caller frees
 * with payload_stream_free().
 */
enum su_err payload_stream_open(int fd, const char *path,
				const struct manifest_image *img,
				uint64_t offset, size_t chunk,
				struct payload_stream **out,
				struct su_error *err);

/*
 * The next block of installed (decompressed) bytes, at most the
 * stream's chunk; *@len is 0 at the end of the data. *@buf stays valid
 * until the second call after this one, so a caller can hold one block
 * back while it reads the next.
 * Errors: SU_ERR_IO (reading the bundle), SU_ERR_BAD_ARCHIVE (the
 * payload is not valid data of its declared compression).
 */
enum su_err payload_stream_read(struct payload_stream *s, const void **buf,
				size_t *len, struct su_error *err);

/*
 * Read and hash whatever stored bytes decompression left unread, then
 * compare the SHA-256 of all of them with the manifest's.
 * Errors: SU_ERR_HASH_MISMATCH, SU_ERR_IO.
 */
enum su_err payload_stream_check(struct payload_stream *s,
				 struct su_error *err);

void payload_stream_free(struct payload_stream *s);

#endif
