/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_MTD_INTERNAL_H
#define SU_MTD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"

/*
 * The inside of the mtd backend (mtd.c), kept apart from libmtd so that
 * test/unit/test_backend_mtd.c can drive it over a fake flash. Nothing
 * but mtd.c and that test includes this header.
 *
 * The writer takes the image as a byte stream and puts it on flash one
 * eraseblock at a time, as nandwrite and flashcp do: each block is
 * erased just before it is written (NOR: unless it already reads as all
 * 0xFF), bad blocks are stepped over, and a block whose erase or write
 * fails with EIO is marked bad and its data goes to the next good block.
 */

/* The flash as the writer sees it. */
struct mtdb_geom {
	int eb_cnt;		/* eraseblocks in the partition */
	int eb_size;		/* bytes per eraseblock */
	int min_io;		/* NAND page; 1 on NOR */
	bool nand;		/* reading 0xFF does not mean erased */
	bool bb_allowed;	/* may have (and mark) bad blocks */
};

/*
 * Flash access, libmtd's in mtd.c, an array in the unit test. Each
 * returns 0, or -1 with errno set; is_bad returns 1 for a bad block.
 * Offsets are always 0: whole blocks are read and written from the start.
 */
struct mtdb_io {
	void *ctx;
	int (*is_bad)(void *ctx, int eb);
	int (*mark_bad)(void *ctx, int eb);
	int (*erase)(void *ctx, int eb);
	int (*read)(void *ctx, int eb, void *buf, int len);
	int (*write)(void *ctx, int eb, const void *buf, int len);
};

struct mtdb_writer {
	const struct mtdb_geom *geom;
	const struct mtdb_io *io;
	const char *label;	/* "mtd:kernel (/dev/mtd3)", for messages */
	uint8_t *buf;		/* the block being filled */
	uint8_t *check;		/* NOR: the block's old content; and
				 * with compare, what was just written */
	bool compare;		/* read each block back and compare it */
	size_t fill;
	int next_eb;		/* first block not yet used */
	/* What happened, for tests and logs. */
	unsigned erased;	/* erase calls made */
	unsigned erase_skipped;	/* NOR blocks found empty */
	unsigned bad_skipped;	/* bad blocks stepped over */
	unsigned marked_bad;	/* blocks this write marked bad */
};

/*
 * Parse a target device: "mtd:NAME" sets *@name (pointing into @spec)
 * and *@num = -1; "/dev/mtdN" and "mtdN" set *@num = N and *@name = NULL.
 * Returns 0, or -1 when @spec is none of these.
 */
int mtdb_parse_device(const char *spec, int *num, const char **name);

/* True when all @len bytes of @buf are 0xFF (erased NOR). */
bool mtdb_is_erased(const void *buf, size_t len);

/*
 * Count the bad blocks of the whole partition into *@nbad (0 when the
 * flash has no bad-block support). Errors: SU_ERR_WRITE_FAILED.
 */
enum su_err mtdb_count_bad(const struct mtdb_geom *g, const struct mtdb_io *io,
			   const char *label, int *nbad, struct su_error *err);

/*
 * Refuse an image of @size bytes that does not fit the good blocks
 * (eb_cnt - @nbad): SU_ERR_WRITE_FAILED with detail "too_large".
 */
enum su_err mtdb_check_fit(const struct mtdb_geom *g, int nbad, uint64_t size,
			   const char *label, struct su_error *err);

/*
 * Start writing at block 0. With @compare, each block is read back right
 * after it is written and compared with what was given, as flashcp does:
 * a mismatch or a read error is SU_ERR_WRITE_FAILED (detail "readback").
 * Errors: SU_ERR_NOMEM.
 */
enum su_err mtdb_writer_init(struct mtdb_writer *w, const struct mtdb_geom *g,
			     const struct mtdb_io *io, const char *label,
			     bool compare, struct su_error *err);

/* The next @len bytes of the image; full blocks go to flash at once. */
enum su_err mtdb_writer_put(struct mtdb_writer *w, const void *data,
			    size_t len, struct su_error *err);

/*
 * Write what is left, padded with 0xFF to a whole page. With
 * @erase_rest, then erase every remaining good block (NOR: those not
 * already empty), so nothing of an older image follows the new one.
 */
enum su_err mtdb_writer_finish(struct mtdb_writer *w, bool erase_rest,
			       struct su_error *err);

/* Free the buffers; the flash is left as it is. */
void mtdb_writer_free(struct mtdb_writer *w);

/*
 * SHA-256 of the first @size bytes of the image, read back block by
 * block from block 0 and stepping over bad blocks as the writer did.
 * Errors: SU_ERR_WRITE_FAILED (read error, not enough good blocks),
 * SU_ERR_NOMEM.
 */
enum su_err mtdb_read_digest(const struct mtdb_geom *g,
			     const struct mtdb_io *io, const char *label,
			     uint64_t size, uint8_t out[DIGEST_LEN],
			     struct su_error *err);

#endif
