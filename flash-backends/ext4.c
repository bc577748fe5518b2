/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ext4: an ext2/3/4 filesystem image written raw to a block device or
 * partition, with O_DIRECT (buffered + fsync where the device refuses
 * it), and an optional read-back.
 *
 * Target options:
 *   allow_file = yes|no   (default no) accept a regular file as the
 *                         device, for disk images and tests; it must
 *                         already be as large as the image.
 *
 * Refused before any byte is written: a missing device, something that
 * is neither a block device nor (with allow_file) a regular file, a
 * device mounted anywhere or held by another exclusive opener, a device
 * smaller than the image, and an image whose first 2 KiB carry no ext
 * superblock magic.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "blockdev.h"

/* Writes of 4 MiB: measured at or above dd bs=1M oflag=direct, where
 * 1 MiB writes plus the copy into the buffer fell ~10 % behind. Less
 * when the install asks (t->buffer: in place, from RAM). */
#define EXT4_BUF	(4u << 20)
#define EXT4_ALIGN	4096u	/* O_DIRECT: buffer, length, offset */
#define SB_OFFSET	1024u	/* the superblock, in the image */
#define SB_MAGIC_AT	(SB_OFFSET + 56)
#define SB_MAGIC	0xEF53
#define SB_END		2048u	/* the whole superblock is in here */

struct ext4 {
	int fd;
	char *device;
	bool direct;		/* fd has O_DIRECT */
	bool checked;		/* the superblock magic was seen */
	uint64_t size;		/* of the image */
	uint64_t given;		/* bytes handed to write() so far */
	uint64_t written;	/* bytes on the device */
	uint8_t *buf;		/* cap bytes, EXT4_ALIGN aligned */
	size_t cap;
	size_t fill;
};

static const char *const known_options[] = { "allow_file", NULL };

/* EXT4_BUF, or the install's smaller wish in whole O_DIRECT blocks
 * (never below one: the superblock check needs SB_END bytes first). */
static size_t buffer_size(const struct backend_target *t)
{
	size_t n = t->buffer && t->buffer < EXT4_BUF ? t->buffer : EXT4_BUF;

	n -= n % EXT4_ALIGN;
	return n ? n : EXT4_ALIGN;
}

static void ext4_free(struct ext4 *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->buf);
	free(e->device);
	free(e);
}

static enum su_err open_device(const struct backend_target *t, struct ext4 *e,
			       struct su_error *err)
{
	struct stat st;

	if (stat(t->device, &st) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED, "open %s: %m",
				    t->device);
	if (!S_ISREG(st.st_mode))
		return blockdev_open_excl(t->device, O_WRONLY, &e->fd,
					  &e->direct, err);
	/* A regular file stands in for a device only when the target
	 * says so. */
	if (!config_target_flag(t->cfg, "allow_file", false))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "open %s: a regular file, not a block device (target %s has no allow_file = yes)",
				    t->device, t->cfg->name);
	e->fd = blockdev_open_direct(t->device, O_WRONLY, &e->direct);
	if (e->fd < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED, "open %s: %m",
				    t->device);
	return SU_OK;
}

static enum su_err ext4_open(const struct backend_target *t, uint64_t size,
			     void **handle, struct su_error *err)
{
	struct ext4 *e;
	uint64_t dev_size;
	enum su_err rc;

	rc = blockdev_check_options(t->cfg, known_options, known_options, err);
	if (rc)
		return rc;
	if (size < SB_END)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "not_ext4",
				     "write %s: not an ext4 image (%llu bytes cannot hold a superblock)",
				     t->device, (unsigned long long)size);
	e = calloc(1, sizeof(*e));
	if (!e)
		return su_error_set(err, SU_ERR_NOMEM, "ext4 %s: %m", t->device);
	e->fd = -1;
	e->size = size;
	e->cap = buffer_size(t);
	e->device = strdup(t->device);
	if (!e->device ||
	    posix_memalign((void **)&e->buf, EXT4_ALIGN, e->cap)) {
		rc = su_error_set(err, SU_ERR_NOMEM, "ext4 %s: out of memory",
				  t->device);
		goto fail;
	}
	rc = open_device(t, e, err);
	if (rc)
		goto fail;
	if (blockdev_size(e->fd, &dev_size) < 0) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "size of %s: %m",
				  t->device);
		goto fail;
	}
	if (dev_size < size) {
		rc = su_error_setd(err, SU_ERR_WRITE_FAILED, "too_small",
				   "write %s: device too small: %llu bytes, the image is %llu",
				   t->device, (unsigned long long)dev_size,
				   (unsigned long long)size);
		goto fail;
	}
	*handle = e;
	return SU_OK;
fail:
	ext4_free(e);
	return rc;
}

/* O_DIRECT wants the buffer, the length and the offset aligned; the
 * last, partial block of an image goes through the page cache. */
static enum su_err drop_direct(struct ext4 *e, struct su_error *err)
{
	int fl = fcntl(e->fd, F_GETFL);

	if (fl < 0 || fcntl(e->fd, F_SETFL, fl & ~O_DIRECT) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot leave O_DIRECT: %m", e->device);
	e->direct = false;
	return SU_OK;
}

static enum su_err write_out(struct ext4 *e, const uint8_t *p, size_t len,
			     struct su_error *err)
{
	enum su_err rc;
	ssize_t n;

	while (len) {
		if (e->direct && ((uintptr_t)p | len) % EXT4_ALIGN) {
			rc = drop_direct(e, err);
			if (rc)
				return rc;
		}
		n = write(e->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return su_error_set(err, SU_ERR_WRITE_FAILED,
					    "write %s at offset %llu: %m",
					    e->device,
					    (unsigned long long)e->written);
		}
		p += n;
		len -= (size_t)n;
		e->written += (uint64_t)n;
	}
	return SU_OK;
}

static bool has_magic(const uint8_t *sb)
{
	return (sb[SB_MAGIC_AT] | sb[SB_MAGIC_AT + 1] << 8) == SB_MAGIC;
}

/* Checked once, on the first SB_END bytes, before any reaches the device. */
static enum su_err check_magic(struct ext4 *e, const uint8_t *sb,
			       struct su_error *err)
{
	if (!has_magic(sb))
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "not_ext4",
				     "write %s: not an ext4 image (no superblock magic)",
				     e->device);
	e->checked = true;
	return SU_OK;
}

/*
 * How much of @p goes to the device straight from the caller's buffer:
 * whole O_DIRECT blocks of an aligned buffer (the install engine's are)
 * when nothing waits in ours, so they are not copied first.
 */
static size_t direct_span(const struct ext4 *e, const uint8_t *p, size_t len)
{
	if (!e->direct || e->fill || !e->checked ||
	    (uintptr_t)p % EXT4_ALIGN || len < EXT4_ALIGN)
		return 0;
	return len - len % EXT4_ALIGN;
}

/* Into our aligned buffer; written out when full. */
static enum su_err buffer(struct ext4 *e, const uint8_t *p, size_t n,
			  struct su_error *err)
{
	memcpy(e->buf + e->fill, p, n);
	e->fill += n;
	/* The buffer is far larger than the superblock, so nothing
	 * reaches the device before this check. */
	if (!e->checked && e->fill >= SB_END && check_magic(e, e->buf, err))
		return err->code;
	if (e->fill < e->cap)
		return SU_OK;
	e->fill = 0;
	return write_out(e, e->buf, e->cap, err);
}

static enum su_err ext4_write(void *handle, const void *buf, size_t len,
			      struct su_error *err)
{
	struct ext4 *e = handle;
	const uint8_t *p = buf;
	enum su_err rc;

	if (len > e->size - e->given)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "write %s: more than the %llu bytes announced",
				    e->device, (unsigned long long)e->size);
	e->given += len;
	if (!e->checked && !e->fill && len >= SB_END && check_magic(e, p, err))
		return err->code;
	while (len) {
		size_t n = direct_span(e, p, len);

		if (n) {
			rc = write_out(e, p, n, err);
		} else {
			n = e->cap - e->fill < len ? e->cap - e->fill : len;
			rc = buffer(e, p, n, err);
		}
		if (rc)
			return rc;
		p += n;
		len -= n;
	}
	return SU_OK;
}

static enum su_err ext4_finish(void *handle, struct su_error *err)
{
	struct ext4 *e = handle;
	enum su_err rc = SU_OK;

	if (e->given != e->size)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED,
				  "write %s: got %llu of %llu bytes", e->device,
				  (unsigned long long)e->given,
				  (unsigned long long)e->size);
	if (!rc && e->fill)
		rc = write_out(e, e->buf, e->fill, err);
	if (!rc && fsync(e->fd) < 0)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "fsync %s: %m",
				  e->device);
	if (!rc && close(e->fd) < 0)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "close %s: %m",
				  e->device);
	else if (rc)
		close(e->fd);
	e->fd = -1;
	ext4_free(e);
	return rc;
}

static void ext4_abort(void *handle)
{
	ext4_free(handle);
}

/* Read up to @len bytes; fewer only at the end of the device. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static enum su_err hash_device(const char *dev, int fd, bool direct,
			       uint64_t size, size_t cap, uint8_t out[DIGEST_LEN],
			       struct su_error *err)
{
	struct digest d;
	uint64_t pos = 0;
	uint8_t *buf;

	if (posix_memalign((void **)&buf, EXT4_ALIGN, cap))
		return su_error_set(err, SU_ERR_NOMEM, "verify %s: out of memory",
				    dev);
	digest_init(&d);
	while (pos < size) {
		size_t want = size - pos < cap ? size - pos : cap;
		/* O_DIRECT reads whole blocks: round the tail up. */
		size_t ask = direct ? (want + EXT4_ALIGN - 1) / EXT4_ALIGN *
				      EXT4_ALIGN : want;
		ssize_t n = read_full(fd, buf, ask);

		if (n < 0 || (size_t)n < want) {
			if (n >= 0)
				errno = ENODATA;
			free(buf);
			return su_error_set(err, SU_ERR_WRITE_FAILED,
					    "read back %s at offset %llu: %m",
					    dev, (unsigned long long)pos);
		}
		digest_update(&d, buf, want);
		pos += want;
	}
	digest_final(&d, out);
	free(buf);
	return SU_OK;
}

static enum su_err ext4_verify(const struct backend_target *t, uint64_t size,
			       const uint8_t sha256[DIGEST_LEN],
			       struct su_error *err)
{
	uint8_t got[DIGEST_LEN];
	enum su_err rc;
	bool direct;
	int fd;

	/* Past the page cache: what the device holds, not what we wrote. */
	fd = blockdev_open_direct(t->device, O_RDONLY, &direct);
	if (fd < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED, "read back %s: %m",
				    t->device);
	rc = hash_device(t->device, fd, direct, size, buffer_size(t), got, err);
	close(fd);
	if (rc)
		return rc;
	return backend_check_readback(t->device, size, got, sha256, err);
}

const struct backend_ops backend_ext4 = {
	.name = "ext4",
	.open = ext4_open,
	.write = ext4_write,
	.finish = ext4_finish,
	.abort = ext4_abort,
	.verify = ext4_verify,
};
