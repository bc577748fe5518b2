/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle_writer.h"

#define COPY_BLOCK (64 * 1024)

struct bundle_writer {
	struct archive *a;
	int fd;
	char *path;		/* destination */
	char *tmp_path;		/* where the archive is written until commit */
	bool tmp_created;	/* tmp_path exists and is ours to remove */
	time_t mtime;
};

static enum su_err archive_fail(struct bundle_writer *bw, const char *what,
				struct su_error *err)
{
	return su_error_set(err, SU_ERR_IO, "%s %s: %s", what, bw->tmp_path,
			    archive_error_string(bw->a) ?: "libarchive error");
}

/* $SOURCE_DATE_EPOCH (reproducible-builds.org) when set, else now. */
static enum su_err member_mtime(time_t *out, struct su_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!s || !*s) {
		*out = time(NULL);
		return SU_OK;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return su_error_set(err, SU_ERR_BAD_REQUEST,
				    "SOURCE_DATE_EPOCH=%s is not a number of seconds",
				    s);
	*out = (time_t)v;
	return SU_OK;
}

/* A temp file beside @bw->path, with the mode a plain creat() would give. */
static enum su_err create_tmp(struct bundle_writer *bw, struct su_error *err)
{
	mode_t mask = umask(0);

	umask(mask);
	if (asprintf(&bw->tmp_path, "%s.tmp-XXXXXX", bw->path) < 0) {
		bw->tmp_path = NULL;
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	}
	bw->fd = mkstemp(bw->tmp_path);
	if (bw->fd < 0)
		return su_error_set(err, SU_ERR_IO, "create %s: %m", bw->tmp_path);
	bw->tmp_created = true;
	if (fchmod(bw->fd, 0666 & ~mask))
		return su_error_set(err, SU_ERR_IO, "chmod %s: %m", bw->tmp_path);
	return SU_OK;
}

static enum su_err start_archive(struct bundle_writer *bw, struct su_error *err)
{
	bw->a = archive_write_new();
	if (!bw->a)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	if (archive_write_set_format_pax_restricted(bw->a) != ARCHIVE_OK ||
	    archive_write_open_fd(bw->a, bw->fd) != ARCHIVE_OK)
		return archive_fail(bw, "start archive", err);
	return SU_OK;
}

enum su_err bundle_writer_open(const char *path, struct bundle_writer **out,
			       struct su_error *err)
{
	struct bundle_writer *bw = calloc(1, sizeof(*bw));
	enum su_err rc;

	if (!bw)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	bw->fd = -1;
	bw->path = strdup(path);
	if (!bw->path) {
		rc = su_error_set(err, SU_ERR_NOMEM, "out of memory");
		goto fail;
	}
	rc = member_mtime(&bw->mtime, err);
	if (!rc)
		rc = create_tmp(bw, err);
	if (!rc)
		rc = start_archive(bw, err);
	if (rc)
		goto fail;
	*out = bw;
	return SU_OK;
fail:
	bundle_writer_abort(bw);
	return rc;
}

enum su_err bundle_writer_begin_entry(struct bundle_writer *bw,
				      struct archive_entry *e,
				      struct su_error *err)
{
	if (archive_write_header(bw->a, e) < ARCHIVE_WARN)
		return archive_fail(bw, "write header to", err);
	return SU_OK;
}

enum su_err bundle_writer_begin(struct bundle_writer *bw, const char *name,
				uint64_t size, struct su_error *err)
{
	struct archive_entry *e = archive_entry_new();
	enum su_err rc;

	if (!e)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_mtime(e, bw->mtime, 0);
	rc = bundle_writer_begin_entry(bw, e, err);
	archive_entry_free(e);
	return rc;
}

enum su_err bundle_writer_data(struct bundle_writer *bw, const void *buf,
			       size_t len, struct su_error *err)
{
	const char *p = buf;

	while (len) {
		la_ssize_t n = archive_write_data(bw->a, p, len);

		if (n <= 0)
			return archive_fail(bw, "write", err);
		p += n;
		len -= (size_t)n;
	}
	return SU_OK;
}

enum su_err bundle_writer_add_buf(struct bundle_writer *bw, const char *name,
				  const void *buf, size_t len,
				  struct su_error *err)
{
	enum su_err rc = bundle_writer_begin(bw, name, len, err);

	return rc ?: bundle_writer_data(bw, buf, len, err);
}

static enum su_err copy_fd(struct bundle_writer *bw, int fd, uint64_t size,
			   const char *what, struct su_error *err)
{
	char *buf = malloc(COPY_BLOCK);
	enum su_err rc = SU_OK;

	if (!buf)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	while (size && !rc) {
		size_t want = size < COPY_BLOCK ? (size_t)size : COPY_BLOCK;
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = su_error_set(err, SU_ERR_IO, "read %s: %m", what);
		else if (n == 0)
			rc = su_error_set(err, SU_ERR_IO,
					  "read %s: file shrank while the bundle was written",
					  what);
		else
			rc = bundle_writer_data(bw, buf, (size_t)n, err);
		if (n > 0)
			size -= (uint64_t)n;
	}
	free(buf);
	return rc;
}

enum su_err bundle_writer_add_fd(struct bundle_writer *bw, const char *name,
				 int fd, uint64_t size, const char *what,
				 struct su_error *err)
{
	enum su_err rc;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return su_error_set(err, SU_ERR_IO, "seek %s: %m", what);
	rc = bundle_writer_begin(bw, name, size, err);
	return rc ?: copy_fd(bw, fd, size, what, err);
}

static enum su_err finish_file(struct bundle_writer *bw, struct su_error *err)
{
	int fd = bw->fd;

	if (archive_write_close(bw->a) != ARCHIVE_OK)
		return archive_fail(bw, "finish", err);
	bw->fd = -1;
	if (fsync(fd)) {
		su_error_set(err, SU_ERR_IO, "sync %s: %m", bw->tmp_path);
		close(fd);
		return SU_ERR_IO;
	}
	if (close(fd))
		return su_error_set(err, SU_ERR_IO, "close %s: %m", bw->tmp_path);
	if (rename(bw->tmp_path, bw->path))
		return su_error_set(err, SU_ERR_IO, "rename %s to %s: %m",
				    bw->tmp_path, bw->path);
	return SU_OK;
}

enum su_err bundle_writer_commit(struct bundle_writer *bw, struct su_error *err)
{
	enum su_err rc = finish_file(bw, err);

	if (rc) {
		bundle_writer_abort(bw);
		return rc;
	}
	archive_write_free(bw->a);
	free(bw->tmp_path);
	free(bw->path);
	free(bw);
	return SU_OK;
}

void bundle_writer_abort(struct bundle_writer *bw)
{
	if (!bw)
		return;
	if (bw->a)		/* closes first: may still write to the temp file */
		archive_write_free(bw->a);
	if (bw->fd >= 0)
		close(bw->fd);
	if (bw->tmp_created)
		unlink(bw->tmp_path);
	free(bw->tmp_path);
	free(bw->path);
	free(bw);
}
