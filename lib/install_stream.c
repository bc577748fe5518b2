/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Payload reading for the install engine: pread() of the stored bytes
 * from the staged bundle file, hashed as they are read, and for a
 * compressed payload libarchive's filter on top (raw format: no
 * container, just the decompressed stream). libarchive pulls the stored
 * bytes through feed(), so every byte it decompresses has been hashed.
 */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "install_stream.h"

struct payload_stream {
	int fd;
	const char *path;
	const struct manifest_image *img;
	uint64_t offset;	/* of the stored bytes in the file */
	uint64_t done;		/* stored bytes read and hashed */
	struct digest stored;
	size_t chunk;		/* of each buffer */
	unsigned char *in;	/* stored bytes for libarchive */
	/* What read() hands out, in turn: the block before the last one
	 * stays valid, so the engine can hold one back. */
	unsigned char *out[2];
	unsigned turn;
	struct archive *a;	/* NULL when not compressed */
	bool eof;
	/* Set by feed(): the real cause behind a libarchive error. */
	bool read_failed;
	struct su_error read_err;
};

/* The next stored chunk into @buf, hashed; *@len 0 at the end. */
static enum su_err read_stored(struct payload_stream *s, unsigned char *buf,
			       size_t *len, struct su_error *err)
{
	uint64_t left = s->img->size - s->done;
	size_t want = left < s->chunk ? (size_t)left : s->chunk;
	size_t got = 0;

	while (got < want) {
		ssize_t n = pread(s->fd, buf + got, want - got,
				  (off_t)(s->offset + s->done + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return su_error_set(err, SU_ERR_IO, "read %s: %m",
					    s->path);
		if (n == 0)
			return su_error_set(err, SU_ERR_IO,
					    "read %s: payload %s ends at byte %" PRIu64 " of %" PRIu64 " (file truncated since it was verified)",
					    s->path, s->img->file,
					    s->done + got, s->img->size);
		got += (size_t)n;
	}
	digest_update(&s->stored, buf, got);
	s->done += got;
	*len = got;
	return SU_OK;
}

static la_ssize_t feed(struct archive *a, void *ctx, const void **buf)
{
	struct payload_stream *s = ctx;
	size_t len;

	if (read_stored(s, s->in, &len, &s->read_err)) {
		s->read_failed = true;
		archive_set_error(a, EIO, "%s", s->read_err.message);
		return -1;
	}
	*buf = s->in;
	return (la_ssize_t)len;
}

static const struct {
	enum compression c;
	int (*support)(struct archive *a);
	int code;
} filters[] = {
	{ COMPRESSION_GZIP, archive_read_support_filter_gzip, ARCHIVE_FILTER_GZIP },
	{ COMPRESSION_XZ, archive_read_support_filter_xz, ARCHIVE_FILTER_XZ },
	{ COMPRESSION_ZSTD, archive_read_support_filter_zstd, ARCHIVE_FILTER_ZSTD },
};

static enum su_err archive_fail(struct payload_stream *s, const char *what,
				struct su_error *err)
{
	if (s->read_failed) {
		*err = s->read_err;
		return err->code;
	}
	return su_error_set(err, SU_ERR_BAD_ARCHIVE, "%s payload %s: %s: %s",
			    compression_name(s->img->compression),
			    s->img->file, what, archive_error_string(s->a));
}

/*
 * Only the declared filter is enabled, and the stream must be exactly
 * one layer of it: data that is not what the manifest says (plain bytes
 * libarchive would pass through, or a second layer it would also strip)
 * is refused rather than written.
 */
static enum su_err open_filter(struct payload_stream *s, struct su_error *err)
{
	struct archive_entry *entry;
	size_t i = 0;
	int r;

	while (i < sizeof(filters) / sizeof(filters[0]) &&
	       filters[i].c != s->img->compression)
		i++;
	s->a = archive_read_new();
	if (!s->a)
		return su_error_set(err, SU_ERR_NOMEM, "payload %s: %m",
				    s->img->file);
	if (i == sizeof(filters) / sizeof(filters[0]) ||
	    filters[i].support(s->a) != ARCHIVE_OK ||
	    archive_read_support_format_raw(s->a) != ARCHIVE_OK)
		return su_error_set(err, SU_ERR_INTERNAL,
				    "payload %s: libarchive has no built-in %s decoder",
				    s->img->file,
				    compression_name(s->img->compression));
	if (archive_read_open(s->a, s, NULL, feed, NULL) != ARCHIVE_OK)
		return archive_fail(s, "cannot start decompressing", err);
	r = archive_read_next_header(s->a, &entry);
	if (r == ARCHIVE_EOF) {
		s->eof = true;
		return SU_OK;
	}
	if (r != ARCHIVE_OK)
		return archive_fail(s, "cannot start decompressing", err);
	if (archive_filter_count(s->a) != 2 ||
	    archive_filter_code(s->a, 0) != filters[i].code)
		return su_error_set(err, SU_ERR_BAD_ARCHIVE,
				    "payload %s: not a single layer of %s data, as its manifest entry says",
				    s->img->file,
				    compression_name(s->img->compression));
	return SU_OK;
}

static void *page_alloc(size_t size)
{
	void *p;

	return posix_memalign(&p, 4096, size) ? NULL : p;
}

enum su_err payload_stream_open(int fd, const char *path,
				const struct manifest_image *img,
				uint64_t offset, size_t chunk,
				struct payload_stream **out,
				struct su_error *err)
{
	struct payload_stream *s;
	enum su_err rc = SU_OK;

	s = calloc(1, sizeof(*s));
	if (!s)
		return su_error_set(err, SU_ERR_NOMEM, "payload %s: %m",
				    img->file);
	s->fd = fd;
	s->path = path;
	s->img = img;
	s->offset = offset;
	s->chunk = chunk ? chunk : PAYLOAD_CHUNK;
	digest_init(&s->stored);
	/* page-aligned: a backend writing O_DIRECT takes them as they are */
	s->in = page_alloc(s->chunk);
	s->out[0] = page_alloc(s->chunk);
	s->out[1] = page_alloc(s->chunk);
	if (!s->in || !s->out[0] || !s->out[1])
		rc = su_error_set(err, SU_ERR_NOMEM, "payload %s: %m",
				  img->file);
	if (!rc && img->compression != COMPRESSION_NONE)
		rc = open_filter(s, err);
	if (rc) {
		payload_stream_free(s);
		return rc;
	}
	*out = s;
	return SU_OK;
}

enum su_err payload_stream_read(struct payload_stream *s, const void **buf,
				size_t *len, struct su_error *err)
{
	unsigned char *out = s->out[s->turn];
	la_ssize_t n;

	*len = 0;
	if (s->eof)
		return SU_OK;
	s->turn ^= 1;
	*buf = out;
	if (!s->a)
		return read_stored(s, out, len, err);
	n = archive_read_data(s->a, out, s->chunk);
	if (n < 0)
		return archive_fail(s, "corrupt data", err);
	s->eof = n == 0;
	*len = (size_t)n;
	return SU_OK;
}

enum su_err payload_stream_check(struct payload_stream *s,
				 struct su_error *err)
{
	uint8_t sum[DIGEST_LEN];
	char got[DIGEST_HEX_LEN + 1], want[DIGEST_HEX_LEN + 1];
	size_t len = 0;

	do {
		enum su_err rc = read_stored(s, s->in, &len, err);

		if (rc)
			return rc;
	} while (len);
	digest_final(&s->stored, sum);
	if (!memcmp(sum, s->img->sha256, DIGEST_LEN))
		return SU_OK;
	digest_to_hex(sum, got);
	digest_to_hex(s->img->sha256, want);
	return su_error_set(err, SU_ERR_HASH_MISMATCH,
			    "payload %s in %s changed since it was verified: sha256 %s, manifest says %s",
			    s->img->file, s->path, got, want);
}

void payload_stream_free(struct payload_stream *s)
{
	if (!s)
		return;
	if (s->a)
		archive_read_free(s->a);
	free(s->in);
	free(s->out[0]);
	free(s->out[1]);
	free(s);
}
