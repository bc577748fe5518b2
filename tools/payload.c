/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "payload.h"

#define READ_BLOCK (64 * 1024)

/* Where compressed bytes go: the temp file, hashed and counted on the way. */
struct sink {
	int fd;
	struct digest d;
	uint64_t size;
};

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *buf,
			     size_t len)
{
	struct sink *s = ctx;
	struct su_error err;

	if (file_write_all(s->fd, buf, len, "the temporary payload", &err)) {
		archive_set_error(a, EIO, "%s", err.message);
		return -1;
	}
	digest_update(&s->d, buf, len);
	s->size += len;
	return (la_ssize_t)len;
}

/* An anonymous file in $TMPDIR: gone by itself when closed. */
static enum su_err open_tmp(int *fd, struct su_error *err)
{
	const char *dir = getenv("TMPDIR");
	char *path;

	if (!dir || !*dir)
		dir = "/tmp";
	if (asprintf(&path, "%s/sysupgrade-bundle-XXXXXX", dir) < 0)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	*fd = mkstemp(path);
	if (*fd < 0) {
		su_error_set(err, SU_ERR_IO, "create %s: %m", path);
		free(path);
		return SU_ERR_IO;
	}
	unlink(path);
	free(path);
	return SU_OK;
}

static int add_filter(struct archive *a, enum compression c)
{
	switch (c) {
	case COMPRESSION_GZIP:
		if (archive_write_add_filter_gzip(a) != ARCHIVE_OK)
			return -1;
		/* no mtime in the gzip header: same input, same bytes */
		return archive_write_set_filter_option(a, "gzip", "timestamp",
						       NULL) < ARCHIVE_WARN ? -1 : 0;
	case COMPRESSION_XZ:
		return archive_write_add_filter_xz(a) == ARCHIVE_OK ? 0 : -1;
	case COMPRESSION_ZSTD:
		return archive_write_add_filter_zstd(a) == ARCHIVE_OK ? 0 : -1;
	default:
		return -1;
	}
}

/* The raw format writes one "entry" with no header: just the stream. */
static int start_compressor(struct archive *a, enum compression c,
			    struct sink *s)
{
	struct archive_entry *e;
	int r;

	if (archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    add_filter(a, c) || archive_write_set_bytes_per_block(a, 0) ||
	    archive_write_open(a, s, NULL, sink_write, NULL) != ARCHIVE_OK)
		return -1;
	e = archive_entry_new();
	if (!e)
		return -1;
	archive_entry_set_pathname(e, "payload");
	archive_entry_set_filetype(e, AE_IFREG);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : -1;
}

/*
 * Feed @in_fd to @a (or, with @a NULL, just hash it into @s) in
 * READ_BLOCK chunks, counting the bytes read into *@in_size.
 */
static enum su_err pump(int in_fd, const char *path, struct archive *a,
			struct sink *s, uint64_t *in_size, struct su_error *err)
{
	char *buf = malloc(READ_BLOCK);
	enum su_err rc = SU_OK;
	ssize_t n;

	if (!buf)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	*in_size = 0;
	while (!rc && (n = read(in_fd, buf, READ_BLOCK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = su_error_set(err, SU_ERR_IO, "read %s: %m", path);
		else if (!a)
			digest_update(&s->d, buf, (size_t)n);
		else if (archive_write_data(a, buf, (size_t)n) != n)
			rc = su_error_set(err, SU_ERR_IO, "compress %s: %s", path,
					  archive_error_string(a) ?: "libarchive error");
		if (n > 0)
			*in_size += (uint64_t)n;
	}
	free(buf);
	return rc;
}

static enum su_err compress_file(int in_fd, const char *path,
				 enum compression c, struct sink *s,
				 uint64_t *in_size, struct su_error *err)
{
	struct archive *a = archive_write_new();
	enum su_err rc;

	if (!a)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	if (start_compressor(a, c, s)) {
		rc = su_error_set(err, SU_ERR_IO, "start %s compressor for %s: %s",
				  compression_name(c), path,
				  archive_error_string(a) ?: "libarchive error");
		goto out;
	}
	rc = pump(in_fd, path, a, s, in_size, err);
	if (!rc && archive_write_close(a) != ARCHIVE_OK)
		rc = su_error_set(err, SU_ERR_IO, "compress %s: %s", path,
				  archive_error_string(a) ?: "libarchive error");
out:
	archive_write_free(a);
	return rc;
}

enum su_err payload_prepare(const char *path, enum compression c,
			    struct payload *p, struct su_error *err)
{
	struct sink s = { .fd = -1 };
	enum su_err rc;
	int in_fd = open(path, O_RDONLY | O_CLOEXEC);

	p->fd = -1;
	if (in_fd < 0)
		return su_error_set(err, SU_ERR_IO, "open %s: %m", path);
	digest_init(&s.d);
	if (c == COMPRESSION_NONE) {
		rc = pump(in_fd, path, NULL, &s, &p->installed_size, err);
		s.fd = in_fd;
		s.size = p->installed_size;
	} else {
		rc = open_tmp(&s.fd, err);
		if (!rc)
			rc = compress_file(in_fd, path, c, &s,
					   &p->installed_size, err);
		close(in_fd);
	}
	if (rc) {
		if (s.fd >= 0)
			close(s.fd);
		return rc;
	}
	p->fd = s.fd;
	p->size = s.size;
	digest_final(&s.d, p->sha256);
	return SU_OK;
}

void payload_close(struct payload *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}
