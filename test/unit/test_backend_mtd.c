/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The mtd backend's writer over a fake flash that behaves as flash does:
 * programming only clears bits (so a write onto an unerased block shows
 * up as corrupt data), NAND programs whole pages onto erased pages only,
 * and erase or program failures (EIO) can be injected per block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend.h"
#include "mtd_internal.h"

#define MAX_EB 32

struct fake {
	struct mtdb_geom geom;
	struct mtdb_io io;
	uint8_t *mem;
	bool bad[MAX_EB];
	bool erase_eio[MAX_EB];	/* erasing this block fails with EIO */
	bool write_eio[MAX_EB];	/* programming it fails with EIO */
	bool stuck[MAX_EB];	/* its last byte's low bit stays 0 */
	bool compare;		/* write_all's writer reads back */
	int erases[MAX_EB];
	int writes[MAX_EB];
	int marks;
};

static uint8_t *block(struct fake *f, int eb)
{
	return f->mem + (size_t)eb * (size_t)f->geom.eb_size;
}

static int f_is_bad(void *ctx, int eb)
{
	struct fake *f = ctx;

	assert_in_range(eb, 0, f->geom.eb_cnt - 1);
	return f->bad[eb];
}

static int f_mark_bad(void *ctx, int eb)
{
	struct fake *f = ctx;

	assert_true(f->geom.bb_allowed);
	f->bad[eb] = true;
	f->marks++;
	return 0;
}

static int f_erase(void *ctx, int eb)
{
	struct fake *f = ctx;

	assert_in_range(eb, 0, f->geom.eb_cnt - 1);
	assert_false(f->bad[eb]);	/* nobody erases a bad block */
	if (f->erase_eio[eb]) {
		errno = EIO;
		return -1;
	}
	memset(block(f, eb), 0xFF, (size_t)f->geom.eb_size);
	f->erases[eb]++;
	return 0;
}

static int f_read(void *ctx, int eb, void *buf, int len)
{
	struct fake *f = ctx;

	assert_in_range(len, 1, f->geom.eb_size);
	memcpy(buf, block(f, eb), (size_t)len);
	return 0;
}

static int f_write(void *ctx, int eb, const void *buf, int len)
{
	struct fake *f = ctx;
	const uint8_t *p = buf;
	uint8_t *m = block(f, eb);

	assert_false(f->bad[eb]);
	assert_in_range(len, 1, f->geom.eb_size);
	if (f->geom.nand) {
		/* Whole pages, onto erased pages. */
		assert_int_equal(len % f->geom.min_io, 0);
		for (int i = 0; i < len; i++)
			assert_int_equal(m[i], 0xFF);
	}
	f->writes[eb]++;
	if (f->write_eio[eb]) {
		m[0] &= 0x0F;		/* half-programmed */
		errno = EIO;
		return -1;
	}
	for (int i = 0; i < len; i++)
		m[i] &= p[i];		/* bits only go from 1 to 0 */
	if (f->stuck[eb])
		m[len - 1] &= 0xFE;	/* success reported, wrong data */
	return 0;
}

static struct fake *fake_new(int eb_cnt, int eb_size, int min_io, bool nand)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(eb_cnt <= MAX_EB);
	f->geom = (struct mtdb_geom){
		.eb_cnt = eb_cnt, .eb_size = eb_size, .min_io = min_io,
		.nand = nand, .bb_allowed = nand,
	};
	f->io = (struct mtdb_io){
		.ctx = f, .is_bad = f_is_bad, .mark_bad = f_mark_bad,
		.erase = f_erase, .read = f_read, .write = f_write,
	};
	f->mem = malloc((size_t)eb_cnt * (size_t)eb_size);
	assert_non_null(f->mem);
	/* Old content everywhere: nothing is erased yet. */
	for (size_t i = 0; i < (size_t)eb_cnt * (size_t)eb_size; i++)
		f->mem[i] = (uint8_t)(i * 7 + 3);
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->mem);
	free(f);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
	return p;
}

/* Write @img in chunks of @chunk bytes (0: all at once). */
static enum su_err write_all(struct fake *f, struct mtdb_writer *w,
			     const uint8_t *img, size_t len, size_t chunk,
			     bool erase_rest, struct su_error *err)
{
	enum su_err rc;

	rc = mtdb_writer_init(w, &f->geom, &f->io, "fake", f->compare, err);
	if (rc)
		return rc;
	for (size_t off = 0; off < len;) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;

		rc = mtdb_writer_put(w, img + off, n, err);
		if (rc)
			goto out;
		off += n;
	}
	rc = mtdb_writer_finish(w, erase_rest, err);
out:
	mtdb_writer_free(w);
	return rc;
}

/* The image's bytes, block by block, are in @ebs (in order). */
static void assert_layout(struct fake *f, const uint8_t *img, size_t len,
			  const int *ebs)
{
	size_t eb_size = (size_t)f->geom.eb_size;

	for (size_t off = 0, i = 0; off < len; off += eb_size, i++) {
		size_t n = len - off < eb_size ? len - off : eb_size;

		assert_memory_equal(block(f, ebs[i]), img + off, n);
	}
}

static void test_parse_device(void **state)
{
	const char *name;
	int num;

	(void)state;
	assert_int_equal(mtdb_parse_device("mtd:kernel", &num, &name), 0);
	assert_string_equal(name, "kernel");
	assert_int_equal(num, -1);
	assert_int_equal(mtdb_parse_device("mtd:u-boot env", &num, &name), 0);
	assert_string_equal(name, "u-boot env");
	assert_int_equal(mtdb_parse_device("/dev/mtd3", &num, &name), 0);
	assert_int_equal(num, 3);
	assert_null(name);
	assert_int_equal(mtdb_parse_device("mtd12", &num, &name), 0);
	assert_int_equal(num, 12);

	static const char *const bad[] = {
		"mtd:", "/dev/mtdblock3", "mtdblock3", "/dev/mtd3ro", "mtd",
		"/dev/mtd", "mtd-1", "/dev/sda", "kernel", "", "mtd99999",
		"/dev/mtd/by-name/kernel", "mtd 3",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mtdb_parse_device(bad[i], &num, &name), -1);
}

static void test_is_erased(void **state)
{
	uint8_t buf[4096];

	(void)state;
	memset(buf, 0xFF, sizeof(buf));
	assert_true(mtdb_is_erased(buf, sizeof(buf)));
	assert_true(mtdb_is_erased(buf, 1));
	assert_true(mtdb_is_erased(buf, 0));
	buf[4095] = 0xFE;
	assert_false(mtdb_is_erased(buf, sizeof(buf)));
	assert_true(mtdb_is_erased(buf, 4095));
	buf[4095] = 0xFF;
	buf[0] = 0x7F;
	assert_false(mtdb_is_erased(buf, sizeof(buf)));
	memset(buf, 0, sizeof(buf));
	assert_false(mtdb_is_erased(buf, sizeof(buf)));
}

/* NOR: only blocks that are not already empty are erased. */
static void test_nor_skips_empty_blocks(void **state)
{
	struct fake *f = fake_new(16, 4096, 1, false);
	size_t len = 6 * 4096 + 1000;
	uint8_t *img = pattern(len, 1);
	static const int ebs[] = { 0, 1, 2, 3, 4, 5, 6 };
	struct mtdb_writer w;
	struct su_error err;

	(void)state;
	/* Blocks 1, 2 and 5 are erased already; 0, 3, 4, 6 hold data. */
	memset(block(f, 1), 0xFF, 4096);
	memset(block(f, 2), 0xFF, 4096);
	memset(block(f, 5), 0xFF, 4096);
	assert_int_equal(write_all(f, &w, img, len, 0, false, &err), SU_OK);
	assert_layout(f, img, len, ebs);
	assert_int_equal(w.erased, 4);
	assert_int_equal(w.erase_skipped, 3);
	for (int eb = 0; eb < 7; eb++)
		assert_int_equal(f->erases[eb], eb == 1 || eb == 2 || eb == 5 ? 0 : 1);
	/* No padding on NOR: after the image the last block is erased. */
	assert_true(mtdb_is_erased(block(f, 6) + 1000, 4096 - 1000));
	/* The rest of the partition is not touched. */
	assert_int_equal(f->erases[7], 0);
	assert_int_equal(block(f, 7)[0], (uint8_t)(7 * 4096 * 7 + 3));
	free(img);
	fake_free(f);
}

/* A second write of the same image over it erases every block again:
 * a block that holds data is never taken for empty. */
static void test_nor_rewrite_erases(void **state)
{
	struct fake *f = fake_new(8, 4096, 1, false);
	size_t len = 3 * 4096;
	uint8_t *img = pattern(len, 2), *img2 = pattern(len, 3);
	static const int ebs[] = { 0, 1, 2 };
	struct mtdb_writer w;
	struct su_error err;

	(void)state;
	assert_int_equal(write_all(f, &w, img, len, 777, false, &err), SU_OK);
	assert_int_equal(write_all(f, &w, img2, len, 777, false, &err), SU_OK);
	assert_int_equal(w.erased, 3);
	assert_layout(f, img2, len, ebs);
	free(img);
	free(img2);
	fake_free(f);
}

static void test_nand_skips_bad_blocks(void **state)
{
	struct fake *f = fake_new(12, 2048, 512, true);
	size_t len = 5 * 2048 + 700;	/* last page padded */
	uint8_t *img = pattern(len, 4), digest[DIGEST_LEN], want[DIGEST_LEN];
	static const int ebs[] = { 0, 2, 4, 5, 6, 7 };
	struct mtdb_writer w;
	struct su_error err;
	int nbad;

	(void)state;
	f->bad[1] = f->bad[3] = true;
	assert_int_equal(mtdb_count_bad(&f->geom, &f->io, "fake", &nbad, &err),
			 SU_OK);
	assert_int_equal(nbad, 2);
	assert_int_equal(write_all(f, &w, img, len, 1000, false, &err), SU_OK);
	assert_layout(f, img, len, ebs);
	assert_int_equal(w.bad_skipped, 2);
	assert_int_equal(w.marked_bad, 0);
	/* NAND erases every block it writes, even an all-0xFF one. */
	assert_int_equal(w.erased, 6);
	assert_int_equal(f->erases[1] + f->erases[3], 0);
	/* The last page: 700 image bytes, then 0xFF to the page end, and
	 * it was programmed in whole pages (f_write checks). */
	assert_true(mtdb_is_erased(block(f, 7) + 700, 2048 - 700));
	assert_int_equal(f->erases[8], 0);

	assert_int_equal(mtdb_read_digest(&f->geom, &f->io, "fake", len,
					  digest, &err), SU_OK);
	digest_buf(img, len, want);
	assert_memory_equal(digest, want, DIGEST_LEN);
	free(img);
	fake_free(f);
}

/* An erase EIO: the block is marked bad and its data goes one further. */
static void test_nand_erase_eio_marks_bad(void **state)
{
	struct fake *f = fake_new(8, 2048, 512, true);
	size_t len = 3 * 2048;
	uint8_t *img = pattern(len, 5), digest[DIGEST_LEN], want[DIGEST_LEN];
	static const int ebs[] = { 0, 2, 3 };
	struct mtdb_writer w;
	struct su_error err;

	(void)state;
	f->erase_eio[1] = true;
	assert_int_equal(write_all(f, &w, img, len, 0, false, &err), SU_OK);
	assert_true(f->bad[1]);
	assert_int_equal(w.marked_bad, 1);
	assert_int_equal(f->writes[1], 0);
	assert_layout(f, img, len, ebs);
	assert_int_equal(mtdb_read_digest(&f->geom, &f->io, "fake", len,
					  digest, &err), SU_OK);
	digest_buf(img, len, want);
	assert_memory_equal(digest, want, DIGEST_LEN);
	free(img);
	fake_free(f);
}

/* A program EIO, as nandwrite: erase it, mark it bad, rewrite the same
 * data into the next good block (here after a bad one). */
static void test_nand_write_eio_rewrites(void **state)
{
	struct fake *f = fake_new(8, 2048, 512, true);
	size_t len = 3 * 2048 + 10;
	uint8_t *img = pattern(len, 6), digest[DIGEST_LEN], want[DIGEST_LEN];
	static const int ebs[] = { 0, 3, 4, 5 };
	struct mtdb_writer w;
	struct su_error err;

	(void)state;
	f->write_eio[1] = true;
	f->bad[2] = true;
	assert_int_equal(write_all(f, &w, img, len, 333, false, &err), SU_OK);
	assert_true(f->bad[1]);
	assert_int_equal(f->erases[1], 2);	/* before and after the failure */
	assert_int_equal(w.marked_bad, 1);
	assert_int_equal(w.bad_skipped, 1);
	assert_layout(f, img, len, ebs);
	assert_int_equal(mtdb_read_digest(&f->geom, &f->io, "fake", len,
					  digest, &err), SU_OK);
	digest_buf(img, len, want);
	assert_memory_equal(digest, want, DIGEST_LEN);
	free(img);
	fake_free(f);
}

/* Good space is the size minus the bad blocks. */
static void test_check_fit(void **state)
{
	struct fake *f = fake_new(10, 2048, 512, true);
	struct su_error err;
	int nbad;

	(void)state;
	f->bad[0] = f->bad[4] = f->bad[9] = true;
	assert_int_equal(mtdb_count_bad(&f->geom, &f->io, "fake", &nbad, &err),
			 SU_OK);
	assert_int_equal(nbad, 3);
	assert_int_equal(mtdb_check_fit(&f->geom, nbad, 7 * 2048, "fake", &err),
			 SU_OK);
	assert_int_equal(mtdb_check_fit(&f->geom, nbad, 0, "fake", &err), SU_OK);
	su_error_clear(&err);
	assert_int_equal(mtdb_check_fit(&f->geom, nbad, 7 * 2048 + 1, "fake",
					&err), SU_ERR_WRITE_FAILED);
	assert_string_equal(err.detail, "too_large");
	assert_non_null(strstr(err.message, "7 of 10 eraseblocks"));
	assert_non_null(strstr(err.message, "3 bad"));
	fake_free(f);
}

/* Blocks going bad during the write can still leave too little room. */
static void test_nand_runs_out_of_blocks(void **state)
{
	struct fake *f = fake_new(4, 2048, 512, true);
	size_t len = 3 * 2048;
	uint8_t *img = pattern(len, 7);
	struct mtdb_writer w;
	struct su_error err;

	(void)state;
	f->erase_eio[2] = true;
	f->write_eio[3] = true;
	su_error_clear(&err);
	assert_int_equal(write_all(f, &w, img, len, 0, false, &err),
			 SU_ERR_WRITE_FAILED);
	assert_string_equal(err.detail, "too_large");
	assert_non_null(strstr(err.message, "no good eraseblock left"));
	assert_int_equal(f->marks, 2);
	free(img);
	fake_free(f);
}

/* NOR cannot mark blocks bad: an EIO there is an error, not a skip. */
static void test_nor_eio_is_an_error(void **state)
{
	struct fake *f = fake_new(4, 4096, 1, false);
	uint8_t *img = pattern(4096, 8);
	struct mtdb_writer w;
	struct su_error err;

	(void)state;
	f->erase_eio[0] = true;
	su_error_clear(&err);
	assert_int_equal(write_all(f, &w, img, 4096, 0, false, &err),
			 SU_ERR_WRITE_FAILED);
	assert_non_null(strstr(err.message, "erase eraseblock 0"));
	assert_int_equal(f->marks, 0);
	free(img);
	fake_free(f);
}

static void test_erase_rest(void **state)
{
	struct fake *f = fake_new(8, 4096, 1, false);
	size_t len = 2 * 4096 + 5;
	uint8_t *img = pattern(len, 9);
	struct mtdb_writer w;
	struct su_error err;

	(void)state;
	memset(block(f, 6), 0xFF, 4096);
	assert_int_equal(write_all(f, &w, img, len, 0, true, &err), SU_OK);
	for (int eb = 3; eb < 8; eb++)
		assert_true(mtdb_is_erased(block(f, eb), 4096));
	assert_int_equal(f->erases[6], 0);	/* was empty: left alone */
	assert_int_equal(f->erases[7], 1);
	assert_int_equal(w.erase_skipped, 1);
	free(img);
	fake_free(f);

	/* NAND: bad blocks stay untouched, the others are erased. */
	f = fake_new(8, 2048, 512, true);
	img = pattern(2048, 10);
	f->bad[5] = true;
	assert_int_equal(write_all(f, &w, img, 2048, 0, true, &err), SU_OK);
	for (int eb = 1; eb < 8; eb++)
		assert_int_equal(f->erases[eb], eb == 5 ? 0 : 1);
	free(img);
	fake_free(f);
}

/* The read-back steps over bad blocks; too few good ones is an error. */
/* With compare, a block that reads back wrong stops the write. */
static void test_compare_catches_mismatch(void **state)
{
	struct fake *f = fake_new(8, 4096, 1, false);
	size_t len = 5 * 4096;
	uint8_t *img = pattern(len, 11);
	struct su_error err = { 0 };
	struct mtdb_writer w;
	int i;

	(void)state;
	/* A byte whose low bit is 1, at the end of block 2. */
	img[3 * 4096 - 1] |= 1;
	f->stuck[2] = true;
	f->compare = true;
	assert_int_equal(write_all(f, &w, img, len, 1000, false, &err),
			 SU_ERR_WRITE_FAILED);
	assert_string_equal(err.detail, "readback");
	assert_non_null(strstr(err.message, "eraseblock 2"));
	/* It stopped there: block 3 was never written. */
	assert_int_equal(f->writes[3], 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(f->writes[i], 1);

	/* Without compare the writer trusts the driver and goes on. */
	fake_free(f);
	f = fake_new(8, 4096, 1, false);
	f->stuck[2] = true;
	su_error_clear(&err);
	assert_int_equal(write_all(f, &w, img, len, 1000, false, &err), SU_OK);
	assert_int_equal(f->writes[4], 1);
	free(img);
	fake_free(f);
}

/* With compare, NAND still steps over bad blocks and pads the tail. */
static void test_compare_nand_bad_blocks(void **state)
{
	struct fake *f = fake_new(12, 2048, 512, true);
	size_t len = 4 * 2048 + 700;
	uint8_t *img = pattern(len, 5);
	const int ebs[] = { 0, 2, 3, 5, 6 };
	struct su_error err = { 0 };
	struct mtdb_writer w;

	(void)state;
	f->bad[1] = f->bad[4] = true;
	f->compare = true;
	assert_int_equal(write_all(f, &w, img, len, 777, false, &err), SU_OK);
	assert_layout(f, img, len, ebs);
	/* A stuck bit in the padded tail (0xFF written) is caught too. */
	fake_free(f);
	f = fake_new(12, 2048, 512, true);
	f->stuck[4] = true;
	f->compare = true;
	assert_int_equal(write_all(f, &w, img, len, 777, false, &err),
			 SU_ERR_WRITE_FAILED);
	assert_string_equal(err.detail, "readback");
	free(img);
	fake_free(f);
}

static void test_read_digest_short(void **state)
{
	struct fake *f = fake_new(3, 2048, 512, true);
	uint8_t digest[DIGEST_LEN];
	struct su_error err;

	(void)state;
	f->bad[1] = true;
	su_error_clear(&err);
	assert_int_equal(mtdb_read_digest(&f->geom, &f->io, "fake", 2 * 2048 + 1,
					  digest, &err), SU_ERR_WRITE_FAILED);
	assert_non_null(strstr(err.message, "ran out of good eraseblocks"));
	fake_free(f);
}

/* The public ops refuse what they can without any flash. */
static void test_ops_errors(void **state)
{
	const struct backend_ops *ops = backend_find("mtd");
	struct config_option opt = { (char *)"erase_rest", (char *)"maybe" };
	struct config_option unknown = { (char *)"volume_size", (char *)"1M" };
	struct config_target cfg = { .name = (char *)"kernel",
				     .type = (char *)"mtd" };
	struct backend_target t = { .cfg = &cfg };
	uint8_t sha[DIGEST_LEN] = { 0 };
	struct su_error err;
	void *h = NULL;

	(void)state;
	assert_non_null(ops);
	assert_string_equal(ops->name, "mtd");

	t.device = "/dev/sda";
	assert_int_equal(ops->open(&t, 1, &h, &err), SU_ERR_CONFIG);
	assert_non_null(strstr(err.message, "mtd:NAME"));

	t.device = "mtd:no-such-partition-here";
	su_error_clear(&err);
	assert_int_equal(ops->open(&t, 1, &h, &err), SU_ERR_WRITE_FAILED);
	assert_string_equal(err.detail, "no_device");
	assert_int_equal(ops->verify(&t, 1, sha, &err),
			 SU_ERR_WRITE_FAILED);

	cfg.options = &opt;
	cfg.n_options = 1;
	assert_int_equal(ops->open(&t, 1, &h, &err), SU_ERR_CONFIG);
	assert_non_null(strstr(err.message, "erase_rest"));
	cfg.options = &unknown;
	assert_int_equal(ops->open(&t, 1, &h, &err), SU_ERR_CONFIG);
	assert_non_null(strstr(err.message, "unknown option 'volume_size'"));
	assert_null(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_device),
		cmocka_unit_test(test_is_erased),
		cmocka_unit_test(test_nor_skips_empty_blocks),
		cmocka_unit_test(test_nor_rewrite_erases),
		cmocka_unit_test(test_nand_skips_bad_blocks),
		cmocka_unit_test(test_nand_erase_eio_marks_bad),
		cmocka_unit_test(test_nand_write_eio_rewrites),
		cmocka_unit_test(test_check_fit),
		cmocka_unit_test(test_nand_runs_out_of_blocks),
		cmocka_unit_test(test_nor_eio_is_an_error),
		cmocka_unit_test(test_erase_rest),
		cmocka_unit_test(test_compare_catches_mismatch),
		cmocka_unit_test(test_compare_nand_bad_blocks),
		cmocka_unit_test(test_read_digest_short),
		cmocka_unit_test(test_ops_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
