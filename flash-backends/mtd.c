/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mtd: a raw image written to an MTD partition, NOR or NAND, through
 * libmtd, as flashcp (NOR) and flash_erase + nandwrite (NAND) would.
 *
 * Target device:
 *   mtd:NAME     the MTD device called NAME (/proc/mtd, sysfs "name")
 *   /dev/mtdN    or mtdN: MTD device number N
 *
 * Target options:
 *   erase_rest = yes|no   (default no) after the image, erase every
 *                         remaining good block of the partition, so that
 *                         nothing of an older image follows the new one
 *                         (a JFFS2 image, or a ubinize'd one, needs this:
 *                         they would find the old blocks' contents).
 *
 * How it writes: one eraseblock at a time, each erased just before it is
 * written. A NOR block that already reads as all 0xFF is not erased
 * again. On NAND, bad blocks are stepped over, and a block whose erase or
 * write fails with EIO is marked bad and its data written to the next
 * good block, as nandwrite does. The last page is padded with 0xFF (NAND
 * writes whole pages). No OOB is written: the driver computes the ECC.
 *
 * Refused before anything is written: a device that is not there, is
 * read-only, is attached to UBI or mounted, has erase regions of several
 * sizes, or whose good blocks (size minus bad blocks) cannot hold the
 * image.
 *
 * With the target's readback, each block is read back right after it is
 * written and compared with the image's bytes (flashcp's check), so the
 * install engine runs no separate pass (compares_on_write). The verify
 * op, for a later check of the device, reads the first `size` bytes
 * again, stepping over bad blocks the same way, and compares their
 * SHA-256.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>		/* before libmtd.h, which uses but lacks it */
#include <libmtd.h>
#include <libubi.h>
#include <mtd/mtd-abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "blockdev.h"
#include "flash_mounts.h"
#include "mtd_internal.h"

/* ---- the writer, independent of libmtd (see mtd_internal.h) ---- */

int mtdb_parse_device(const char *spec, int *num, const char **name)
{
	const char *digits;
	char *end;
	long n;

	if (!strncmp(spec, "mtd:", 4)) {
		if (!spec[4] || strlen(spec + 4) > MTD_NAME_MAX)
			return -1;
		*name = spec + 4;
		*num = -1;
		return 0;
	}
	if (!strncmp(spec, "/dev/mtd", 8))
		digits = spec + 8;
	else if (!strncmp(spec, "mtd", 3))
		digits = spec + 3;
	else
		return -1;
	/* Digits only: "mtdblock2", "mtd2ro" and "-1" are not MTD devices. */
	if (digits[0] < '0' || digits[0] > '9')
		return -1;
	errno = 0;
	n = strtol(digits, &end, 10);
	if (errno || *end || n > 65535)
		return -1;
	*num = (int)n;
	*name = NULL;
	return 0;
}

bool mtdb_is_erased(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* All bytes equal to their neighbour and the first one 0xFF. */
	return !len || (p[0] == 0xFF && !memcmp(p, p + 1, len - 1));
}

enum su_err mtdb_count_bad(const struct mtdb_geom *g, const struct mtdb_io *io,
			   const char *label, int *nbad, struct su_error *err)
{
	*nbad = 0;
	if (!g->bb_allowed)
		return SU_OK;
	for (int eb = 0; eb < g->eb_cnt; eb++) {
		int r = io->is_bad(io->ctx, eb);

		if (r < 0)
			return su_error_set(err, SU_ERR_WRITE_FAILED,
					    "%s: cannot read the bad-block mark of eraseblock %d: %m",
					    label, eb);
		*nbad += r > 0;
	}
	return SU_OK;
}

enum su_err mtdb_check_fit(const struct mtdb_geom *g, int nbad, uint64_t size,
			   const char *label, struct su_error *err)
{
	uint64_t good = (uint64_t)(g->eb_cnt - nbad) * (uint64_t)g->eb_size;

	if (size <= good)
		return SU_OK;
	return su_error_setd(err, SU_ERR_WRITE_FAILED, "too_large",
			     "%s: image of %llu bytes does not fit: %d of %d eraseblocks of %d bytes are good (%llu bytes, %d bad)",
			     label, (unsigned long long)size, g->eb_cnt - nbad,
			     g->eb_cnt, g->eb_size, (unsigned long long)good,
			     nbad);
}

enum su_err mtdb_writer_init(struct mtdb_writer *w, const struct mtdb_geom *g,
			     const struct mtdb_io *io, const char *label,
			     bool compare, struct su_error *err)
{
	memset(w, 0, sizeof(*w));
	w->geom = g;
	w->io = io;
	w->label = label;
	w->compare = compare;
	w->buf = malloc(g->eb_size);
	if (!g->nand || compare)
		w->check = malloc(g->eb_size);
	if (!w->buf || ((!g->nand || compare) && !w->check)) {
		mtdb_writer_free(w);
		return su_error_set(err, SU_ERR_NOMEM,
				    "%s: cannot allocate a %d-byte eraseblock buffer",
				    label, g->eb_size);
	}
	return SU_OK;
}

void mtdb_writer_free(struct mtdb_writer *w)
{
	free(w->buf);
	free(w->check);
	w->buf = w->check = NULL;
}

/* Set *@bad when @eb is bad and must be stepped over. */
static enum su_err check_bad(struct mtdb_writer *w, int eb, bool *bad,
			     struct su_error *err)
{
	int r;

	*bad = false;
	if (!w->geom->bb_allowed)
		return SU_OK;
	r = w->io->is_bad(w->io->ctx, eb);
	if (r < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot read the bad-block mark of eraseblock %d: %m",
				    w->label, eb);
	if (r) {
		w->bad_skipped++;
		*bad = true;
	}
	return SU_OK;
}

/* After an EIO: give the block up, as nandwrite does. */
static enum su_err mark_bad(struct mtdb_writer *w, int eb, const char *what,
			    struct su_error *err)
{
	if (w->io->mark_bad(w->io->ctx, eb) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: %s of eraseblock %d failed with an I/O error and marking it bad failed too: %m",
				    w->label, what, eb);
	w->marked_bad++;
	return SU_OK;
}

/*
 * Make @eb ready to program: erase it, unless it is NOR and already
 * empty. *@lost is set when the erase failed with EIO and the block has
 * been marked bad instead.
 */
static enum su_err prepare_block(struct mtdb_writer *w, int eb, bool *lost,
				 struct su_error *err)
{
	const struct mtdb_io *io = w->io;
	int eb_size = w->geom->eb_size;

	*lost = false;
	/* Only NOR may trust what it reads: a NAND page that reads as all
	 * 0xFF may have been programmed (its ECC sits in the OOB) and
	 * must not be programmed again. A read error here just means:
	 * erase. */
	if (!w->geom->nand && !io->read(io->ctx, eb, w->check, eb_size) &&
	    mtdb_is_erased(w->check, eb_size)) {
		w->erase_skipped++;
		return SU_OK;
	}
	if (!io->erase(io->ctx, eb)) {
		w->erased++;
		return SU_OK;
	}
	if (errno != EIO || !w->geom->bb_allowed)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: erase eraseblock %d: %m", w->label, eb);
	*lost = true;
	return mark_bad(w, eb, "erase", err);
}

/* With compare: @eb, just written, must read back as @data. */
static enum su_err compare_block(struct mtdb_writer *w, int eb,
				 const uint8_t *data, int len,
				 struct su_error *err)
{
	const struct mtdb_io *io = w->io;

	if (io->read(io->ctx, eb, w->check, len))
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "readback",
				     "%s: read back eraseblock %d: %m",
				     w->label, eb);
	if (memcmp(w->check, data, (size_t)len))
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "readback",
				     "%s: eraseblock %d reads back other bytes than were written to it",
				     w->label, eb);
	return SU_OK;
}

/* Put @len bytes (a block, or the padded tail) into the next good block. */
static enum su_err put_block(struct mtdb_writer *w, const uint8_t *data,
			     int len, struct su_error *err)
{
	const struct mtdb_io *io = w->io;
	enum su_err rc;
	bool bad, lost;

	for (;;) {
		int eb = w->next_eb;

		if (eb >= w->geom->eb_cnt)
			return su_error_setd(err, SU_ERR_WRITE_FAILED, "too_large",
					     "%s: no good eraseblock left for the image (%u blocks went bad during this write)",
					     w->label, w->marked_bad);
		w->next_eb++;
		rc = check_bad(w, eb, &bad, err);
		if (rc)
			return rc;
		if (bad)
			continue;
		rc = prepare_block(w, eb, &lost, err);
		if (rc)
			return rc;
		if (lost)
			continue;
		if (!io->write(io->ctx, eb, data, len))
			return w->compare ? compare_block(w, eb, data, len, err)
					  : SU_OK;
		if (errno != EIO || !w->geom->bb_allowed)
			return su_error_set(err, SU_ERR_WRITE_FAILED,
					    "%s: write %d bytes to eraseblock %d: %m",
					    w->label, len, eb);
		/* Half-programmed: erase what can be erased and give the
		 * block up; the same data goes to the next good block. */
		io->erase(io->ctx, eb);
		rc = mark_bad(w, eb, "write", err);
		if (rc)
			return rc;
	}
}

enum su_err mtdb_writer_put(struct mtdb_writer *w, const void *data,
			    size_t len, struct su_error *err)
{
	size_t eb_size = (size_t)w->geom->eb_size;
	const uint8_t *p = data;
	enum su_err rc;

	while (len) {
		size_t n;

		/* Whole blocks straight from the caller's buffer. */
		if (!w->fill && len >= eb_size) {
			rc = put_block(w, p, (int)eb_size, err);
			if (rc)
				return rc;
			p += eb_size;
			len -= eb_size;
			continue;
		}
		n = eb_size - w->fill < len ? eb_size - w->fill : len;
		memcpy(w->buf + w->fill, p, n);
		w->fill += n;
		p += n;
		len -= n;
		if (w->fill == eb_size) {
			w->fill = 0;
			rc = put_block(w, w->buf, (int)eb_size, err);
			if (rc)
				return rc;
		}
	}
	return SU_OK;
}

static enum su_err erase_rest(struct mtdb_writer *w, struct su_error *err)
{
	enum su_err rc;
	bool bad, lost;

	for (int eb = w->next_eb; eb < w->geom->eb_cnt; eb++) {
		rc = check_bad(w, eb, &bad, err);
		if (rc)
			return rc;
		if (bad)
			continue;
		rc = prepare_block(w, eb, &lost, err);
		if (rc)
			return rc;
	}
	w->next_eb = w->geom->eb_cnt;
	return SU_OK;
}

enum su_err mtdb_writer_finish(struct mtdb_writer *w, bool erase,
			       struct su_error *err)
{
	size_t page = (size_t)w->geom->min_io;
	enum su_err rc;

	if (w->fill) {
		size_t padded = (w->fill + page - 1) / page * page;

		memset(w->buf + w->fill, 0xFF, padded - w->fill);
		rc = put_block(w, w->buf, (int)padded, err);
		w->fill = 0;
		if (rc)
			return rc;
	}
	return erase ? erase_rest(w, err) : SU_OK;
}

enum su_err mtdb_read_digest(const struct mtdb_geom *g,
			     const struct mtdb_io *io, const char *label,
			     uint64_t size, uint8_t out[DIGEST_LEN],
			     struct su_error *err)
{
	enum su_err rc = SU_OK;
	struct digest d;
	uint8_t *buf;
	int eb = 0;

	buf = malloc(g->eb_size);
	if (!buf)
		return su_error_set(err, SU_ERR_NOMEM,
				    "%s: cannot allocate a %d-byte read buffer",
				    label, g->eb_size);
	digest_init(&d);
	while (size) {
		int n = size < (uint64_t)g->eb_size ? (int)size : g->eb_size;
		int r;

		if (eb >= g->eb_cnt) {
			rc = su_error_set(err, SU_ERR_WRITE_FAILED,
					  "%s: read-back ran out of good eraseblocks %llu bytes before the end of the image",
					  label, (unsigned long long)size);
			goto out;
		}
		r = g->bb_allowed ? io->is_bad(io->ctx, eb) : 0;
		if (r < 0) {
			rc = su_error_set(err, SU_ERR_WRITE_FAILED,
					  "%s: cannot read the bad-block mark of eraseblock %d: %m",
					  label, eb);
			goto out;
		}
		if (r) {
			eb++;
			continue;
		}
		if (io->read(io->ctx, eb, buf, n)) {
			rc = su_error_set(err, SU_ERR_WRITE_FAILED,
					  "%s: read-back of eraseblock %d: %m",
					  label, eb);
			goto out;
		}
		digest_update(&d, buf, (size_t)n);
		size -= (uint64_t)n;
		eb++;
	}
	digest_final(&d, out);
out:
	free(buf);
	return rc;
}

/* ---- the device, through libmtd ---- */

struct mtd_dev {
	libmtd_t lib;
	struct mtd_dev_info info;
	int fd;
	char node[32];
	char label[MTD_NAME_MAX + 48];
	struct mtdb_geom geom;
	struct mtdb_io io;
};

static int io_is_bad(void *ctx, int eb)
{
	struct mtd_dev *m = ctx;

	return mtd_is_bad(&m->info, m->fd, eb);
}

static int io_mark_bad(void *ctx, int eb)
{
	struct mtd_dev *m = ctx;

	return mtd_mark_bad(&m->info, m->fd, eb);
}

static int io_erase(void *ctx, int eb)
{
	struct mtd_dev *m = ctx;

	return mtd_erase(m->lib, &m->info, m->fd, eb);
}

static int io_read(void *ctx, int eb, void *buf, int len)
{
	struct mtd_dev *m = ctx;

	return mtd_read(&m->info, m->fd, eb, 0, buf, len);
}

static int io_write(void *ctx, int eb, const void *buf, int len)
{
	struct mtd_dev *m = ctx;

	/* libmtd's prototype is not const-correct; with no OOB it only
	 * passes @buf to write(2). */
	return mtd_write(m->lib, &m->info, m->fd, eb, 0, (void *)buf, len,
			 NULL, 0, 0);
}

static void mtd_dev_close(struct mtd_dev *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->lib)
		libmtd_close(m->lib);
	m->lib = NULL;
}

/* The number of the one MTD device called @name. */
static enum su_err find_by_name(struct mtd_dev *m, const char *name, int *num,
				struct su_error *err)
{
	struct mtd_info mi;
	int found = -1;

	if (mtd_get_info(m->lib, &mi))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "mtd:%s: cannot list the MTD devices: %m", name);
	for (int i = mi.lowest_mtd_num; mi.mtd_dev_cnt && i <= mi.highest_mtd_num; i++) {
		struct mtd_dev_info info;

		if (!mtd_dev_present(m->lib, i) ||
		    mtd_get_dev_info1(m->lib, i, &info) ||
		    strcmp(info.name, name))
			continue;
		/* Writing the wrong one of two is not an option. */
		if (found >= 0)
			return su_error_set(err, SU_ERR_CONFIG,
					    "mtd:%s: two MTD devices have this name (mtd%d and mtd%d); name the device as /dev/mtdN",
					    name, found, i);
		found = i;
	}
	if (found < 0)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "no_device",
				     "mtd:%s: no MTD device has this name (see /proc/mtd)",
				     name);
	*num = found;
	return SU_OK;
}

/* Open the MTD device @spec names with @oflags and fill @m. */
static enum su_err mtd_dev_open(const char *spec, int oflags, struct mtd_dev *m,
				struct su_error *err)
{
	const char *name;
	enum su_err rc;
	int num;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (mtdb_parse_device(spec, &num, &name))
		return su_error_set(err, SU_ERR_CONFIG,
				    "device '%s' is not mtd:NAME, /dev/mtdN or mtdN",
				    spec);
	m->lib = libmtd_open();
	if (!m->lib) {
		if (!errno)
			return su_error_setd(err, SU_ERR_WRITE_FAILED, "no_device",
					     "%s: this kernel has no MTD support (no /sys/class/mtd)",
					     spec);
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot open libmtd: %m", spec);
	}
	if (name) {
		rc = find_by_name(m, name, &num, err);
		if (rc)
			goto fail;
	}
	snprintf(m->node, sizeof(m->node), "/dev/mtd%d", num);
	if (mtd_get_dev_info(m->lib, m->node, &m->info)) {
		rc = su_error_setd(err, SU_ERR_WRITE_FAILED, "no_device",
				   "%s: %s is not an MTD device: %m", spec,
				   m->node);
		goto fail;
	}
	if (name)
		snprintf(m->label, sizeof(m->label), "%s (%s)", spec, m->node);
	else
		snprintf(m->label, sizeof(m->label), "%s (mtd:%s)", m->node,
			 m->info.name);
	if (m->info.region_cnt > 1) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED,
				  "%s: has %d erase regions of different sizes, which this backend does not handle",
				  m->label, m->info.region_cnt);
		goto fail;
	}
	if (m->info.eb_size <= 0 || m->info.eb_cnt <= 0 ||
	    m->info.min_io_size <= 0 || m->info.eb_size % m->info.min_io_size) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED,
				  "%s: odd geometry: %d eraseblocks of %d bytes, pages of %d",
				  m->label, m->info.eb_cnt, m->info.eb_size,
				  m->info.min_io_size);
		goto fail;
	}
	m->fd = open(m->node, oflags | O_CLOEXEC);
	if (m->fd < 0) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "open %s: %m",
				  m->label);
		goto fail;
	}
	m->geom = (struct mtdb_geom){
		.eb_cnt = m->info.eb_cnt,
		.eb_size = m->info.eb_size,
		.min_io = m->info.min_io_size,
		.nand = m->info.type == MTD_NANDFLASH ||
			m->info.type == MTD_MLCNANDFLASH,
		.bb_allowed = m->info.bb_allowed,
	};
	m->io = (struct mtdb_io){
		.ctx = m,
		.is_bad = io_is_bad,
		.mark_bad = io_mark_bad,
		.erase = io_erase,
		.read = io_read,
		.write = io_write,
	};
	return SU_OK;
fail:
	mtd_dev_close(m);
	return rc;
}

struct mount_want {
	char src[4][MTD_NAME_MAX + 16];
};

static bool mount_is_mtd(const char *source, const char *fstype, void *ctx)
{
	const struct mount_want *w = ctx;

	(void)fstype;
	for (int i = 0; i < 4; i++)
		if (!strcmp(source, w->src[i]))
			return true;
	return false;
}

/* Another user of the flash would be destroyed, or would destroy us. */
static enum su_err refuse_in_use(const struct mtd_dev *m, struct su_error *err)
{
	struct mount_want want;
	char where[256], type[64];
	libubi_t ubi;
	int r, ubi_dev;

	ubi = libubi_open();
	if (ubi) {
		r = mtd_num2ubi_dev(ubi, m->info.mtd_num, &ubi_dev);
		libubi_close(ubi);
		if (!r)
			return su_error_setd(err, SU_ERR_WRITE_FAILED, "busy",
					     "%s: in use: attached to UBI as ubi%d (write its volumes with type ubi, or ubidetach it first)",
					     m->label, ubi_dev);
	}
	/* JFFS2 and friends are mounted as mtd:NAME, mtdN or /dev/mtdblockN. */
	snprintf(want.src[0], sizeof(want.src[0]), "mtd:%s", m->info.name);
	snprintf(want.src[1], sizeof(want.src[1]), "mtd%d", m->info.mtd_num);
	snprintf(want.src[2], sizeof(want.src[2]), "/dev/mtdblock%d",
		 m->info.mtd_num);
	snprintf(want.src[3], sizeof(want.src[3]), "/dev/mtd%d",
		 m->info.mtd_num);
	r = flash_mount_find("/proc/self/mountinfo", mount_is_mtd, &want,
			     where, sizeof(where), type, sizeof(type));
	if (r < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot read /proc/self/mountinfo: %m",
				    m->label);
	if (r > 0)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "mounted",
				     "%s: in use: mounted at %s (%s)", m->label,
				     where, type);
	return SU_OK;
}

/* ---- backend ops ---- */

struct mtd_handle {
	struct mtd_dev dev;
	struct mtdb_writer w;
	uint64_t size;
	uint64_t given;
	bool erase_rest;
};

static const char *const known_options[] = { "erase_rest", NULL };

static void handle_free(struct mtd_handle *h)
{
	mtdb_writer_free(&h->w);
	mtd_dev_close(&h->dev);
	free(h);
}

static enum su_err mtd_open(const struct backend_target *t, uint64_t size,
			    void **handle, struct su_error *err)
{
	struct mtd_handle *h;
	enum su_err rc;
	int nbad;

	if (t->cfg) {
		rc = blockdev_check_options(t->cfg, known_options,
					    known_options, err);
		if (rc)
			return rc;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return su_error_set(err, SU_ERR_NOMEM, "%s: out of memory",
				    t->device);
	h->size = size;
	h->erase_rest = t->cfg && config_target_flag(t->cfg, "erase_rest",
						     false);
	rc = mtd_dev_open(t->device, O_RDWR, &h->dev, err);
	if (rc) {
		free(h);
		return rc;
	}
	if (!h->dev.info.writable) {
		rc = su_error_setd(err, SU_ERR_WRITE_FAILED, "read_only",
				   "%s: the MTD device is read-only",
				   h->dev.label);
		goto fail;
	}
	rc = refuse_in_use(&h->dev, err);
	if (rc)
		goto fail;
	rc = mtdb_count_bad(&h->dev.geom, &h->dev.io, h->dev.label, &nbad, err);
	if (rc)
		goto fail;
	rc = mtdb_check_fit(&h->dev.geom, nbad, size, h->dev.label, err);
	if (rc)
		goto fail;
	rc = mtdb_writer_init(&h->w, &h->dev.geom, &h->dev.io, h->dev.label,
			      t->cfg && t->cfg->readback, err);
	if (rc)
		goto fail;
	*handle = h;
	return SU_OK;
fail:
	handle_free(h);
	return rc;
}

static enum su_err mtd_write_op(void *handle, const void *buf, size_t len,
				struct su_error *err)
{
	struct mtd_handle *h = handle;

	if (len > h->size - h->given)
		return su_error_set(err, SU_ERR_INTERNAL,
				    "%s: more than the announced %llu bytes",
				    h->dev.label, (unsigned long long)h->size);
	h->given += len;
	return mtdb_writer_put(&h->w, buf, len, err);
}

static enum su_err mtd_finish(void *handle, struct su_error *err)
{
	struct mtd_handle *h = handle;
	enum su_err rc;
	int fd;

	if (h->given != h->size) {
		rc = su_error_set(err, SU_ERR_INTERNAL,
				  "%s: finished after %llu of %llu bytes",
				  h->dev.label, (unsigned long long)h->given,
				  (unsigned long long)h->size);
		goto out;
	}
	rc = mtdb_writer_finish(&h->w, h->erase_rest, err);
	if (rc)
		goto out;
	/* Closing a writable MTD node syncs the device (mtd_sync). */
	fd = h->dev.fd;
	h->dev.fd = -1;
	if (close(fd) < 0)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "close %s: %m",
				  h->dev.label);
out:
	handle_free(h);
	return rc;
}

static void mtd_abort(void *handle)
{
	handle_free(handle);
}

static enum su_err mtd_verify(const struct backend_target *t, uint64_t size,
			      const uint8_t sha256[DIGEST_LEN],
			      struct su_error *err)
{
	uint8_t d[DIGEST_LEN];
	struct mtd_dev m;
	enum su_err rc;

	rc = mtd_dev_open(t->device, O_RDONLY, &m, err);
	if (rc)
		return rc;
	rc = mtdb_read_digest(&m.geom, &m.io, m.label, size, d, err);
	if (!rc)
		rc = backend_check_readback(m.label, size, d, sha256, err);
	mtd_dev_close(&m);
	return rc;
}

const struct backend_ops backend_mtd = {
	.name = "mtd",
	.compares_on_write = true,
	.open = mtd_open,
	.write = mtd_write_op,
	.finish = mtd_finish,
	.abort = mtd_abort,
	.verify = mtd_verify,
};
