/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TOOLS_PAYLOAD_H
#define SU_TOOLS_PAYLOAD_H

#include <stdint.h>

#include "digest.h"
#include "error.h"
#include "manifest.h"

/* The bytes of one image as they will be stored in a bundle. */
struct payload {
	int fd;			/* the stored bytes: the source file itself, or
				 * an unlinked temp file holding its compressed
				 * form; -1 when closed */
	uint64_t size;		/* stored bytes */
	uint8_t sha256[DIGEST_LEN];	/* of the stored bytes */
	uint64_t installed_size;	/* bytes of the source file */
};

/*
 * Read @path once, in 64 KiB blocks: with @c other than COMPRESSION_NONE
 * compress it (libarchive's raw format and the gzip/xz/zstd filter) into
 * an unlinked temp file in $TMPDIR (default /tmp), and hash the stored
 * bytes. Memory use does not depend on the file's size.
 * On success @p holds an open fd the caller releases with payload_close().
 */
enum su_err payload_prepare(const char *path, enum compression c,
			    struct payload *p, struct su_error *err);

void payload_close(struct payload *p);

#endif
