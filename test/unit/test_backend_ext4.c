/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ext4 backend on regular files (allow_file = yes): what is refused
 * before a byte is written, and the write and read-back themselves. The
 * same on loop devices: test/integration/backend-ext4.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend_fixture.h"

#define MiB (1u << 20)

struct fixture {
	struct backend_fixture b;
	char dir[64];
	char path[96];		/* the "device", a regular file */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/su-ext4.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/dev", f->dir);
	backend_fixture_init(&f->b, "ext4", "rootfs", f->path);
	backend_fixture_option(&f->b, "allow_file", "yes");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A "device" of @size bytes of 0xA5. */
static void make_device(struct fixture *f, size_t size)
{
	uint8_t *buf = malloc(size);
	FILE *fp = fopen(f->path, "w");

	assert_non_null(buf);
	assert_non_null(fp);
	memset(buf, 0xA5, size);
	assert_int_equal(fwrite(buf, 1, size, fp), size);
	assert_int_equal(fclose(fp), 0);
	free(buf);
}

static void assert_device_untouched(struct fixture *f, size_t size)
{
	uint8_t *buf = malloc(size + 1);
	FILE *fp = fopen(f->path, "r");

	assert_non_null(buf);
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, size + 1, fp), size);
	fclose(fp);
	for (size_t i = 0; i < size; i++)
		if (buf[i] != 0xA5)
			fail_msg("byte %zu of the device changed", i);
	free(buf);
}

/* @size bytes of a pattern; with @magic, the ext superblock magic. */
static uint8_t *make_image(size_t size, int magic)
{
	uint8_t *img = malloc(size);

	assert_non_null(img);
	for (size_t i = 0; i < size; i++)
		img[i] = (uint8_t)(i * 7 + i / 4096);
	img[1080] = magic ? 0x53 : 0x00;
	img[1081] = magic ? 0xEF : 0x00;
	return img;
}

/* The backend's operations on the fixture's target; errors in f->b.err. */
static enum su_err open_image(struct fixture *f, uint64_t size, void **h)
{
	return f->b.ops->open(&f->b.target, size, h, &f->b.err);
}

static enum su_err put(struct fixture *f, void *h, const uint8_t *p,
		       size_t len)
{
	return f->b.ops->write(h, p, len, &f->b.err);
}

static enum su_err verify(struct fixture *f, uint64_t size,
			  const uint8_t sha[DIGEST_LEN])
{
	return f->b.ops->verify(&f->b.target, size, sha, &f->b.err);
}

static void assert_message_has(struct fixture *f, const char *text)
{
	if (!strstr(f->b.err.message, text))
		fail_msg("expected '%s' in '%s'", text, f->b.err.message);
}

static void test_registered(void **state)
{
	(void)state;
	assert_backend_registered("ext4", true);
}

/* Junk is refused at the write that completes the first 2 KiB, and
 * nothing reached the device. */
static void test_not_ext4_refused_before_writing(void **state)
{
	struct fixture *f = *state;
	size_t size = 3 * MiB;
	uint8_t *img = make_image(size, 0);
	void *h;

	make_device(f, 4 * MiB);
	assert_int_equal(open_image(f, size, &h), SU_OK);
	assert_int_equal(put(f, h, img, 1000), SU_OK);
	assert_int_equal(put(f, h, img + 1000, 1000), SU_OK);
	assert_int_equal(put(f, h, img + 2000, size - 2000),
			 SU_ERR_WRITE_FAILED);
	assert_string_equal(f->b.err.detail, "not_ext4");
	assert_message_has(f, "not an ext4 image (no superblock magic)");
	assert_message_has(f, f->path);
	f->b.ops->abort(h);
	assert_device_untouched(f, 4 * MiB);
	free(img);
}

static void test_image_smaller_than_superblock(void **state)
{
	struct fixture *f = *state;
	void *h;

	make_device(f, MiB);
	assert_int_equal(open_image(f, 1500, &h), SU_ERR_WRITE_FAILED);
	assert_string_equal(f->b.err.detail, "not_ext4");
	assert_device_untouched(f, MiB);
}

static void test_device_too_small(void **state)
{
	struct fixture *f = *state;
	void *h;

	make_device(f, MiB);
	assert_int_equal(open_image(f, 2 * MiB, &h), SU_ERR_WRITE_FAILED);
	assert_string_equal(f->b.err.detail, "too_small");
	assert_message_has(f, "device too small: 1048576 bytes, the image is 2097152");
	assert_device_untouched(f, MiB);
}

static void test_missing_device(void **state)
{
	struct fixture *f = *state;
	void *h;

	assert_int_equal(open_image(f, MiB, &h), SU_ERR_WRITE_FAILED);
	assert_message_has(f, f->path);
	assert_message_has(f, "No such file or directory");
}

static void test_not_a_block_device(void **state)
{
	struct fixture *f = *state;
	struct backend_target null_dev = { &f->b.cfg, "/dev/null", 0 };
	void *h;

	make_device(f, MiB);
	f->b.cfg.n_options = 0;	/* no allow_file */
	assert_int_equal(open_image(f, MiB, &h), SU_ERR_WRITE_FAILED);
	assert_message_has(f, "no allow_file = yes");
	assert_int_equal(f->b.ops->open(&null_dev, MiB, &h, &f->b.err),
			 SU_ERR_WRITE_FAILED);
	assert_string_equal(f->b.err.message,
			    "open /dev/null: not a block device");
	assert_device_untouched(f, MiB);
}

static void test_bad_options(void **state)
{
	struct fixture *f = *state;
	void *h;

	make_device(f, MiB);
	f->b.opts[0].value = "maybe";
	assert_int_equal(open_image(f, MiB, &h), SU_ERR_CONFIG);
	assert_message_has(f, "allow_file = 'maybe'");
	f->b.opts[0].value = "yes";
	backend_fixture_option(&f->b, "mkfs", "yes");
	assert_int_equal(open_image(f, MiB, &h), SU_ERR_CONFIG);
	assert_message_has(f, "target rootfs: unknown option 'mkfs' for type ext4");
}

/* Write @img in chunks of @chunk bytes; finish. */
static enum su_err write_all(struct fixture *f, const uint8_t *img,
			     size_t size, size_t chunk)
{
	enum su_err rc;
	void *h;

	rc = open_image(f, size, &h);
	if (rc)
		return rc;
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = put(f, h, img + off, n);
		if (rc) {
			f->b.ops->abort(h);
			return rc;
		}
	}
	return f->b.ops->finish(h, &f->b.err);
}

static void assert_device_holds(struct fixture *f, const uint8_t *img,
				size_t size, size_t dev_size)
{
	uint8_t *buf = malloc(dev_size);
	FILE *fp = fopen(f->path, "r");

	assert_non_null(buf);
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, dev_size, fp), dev_size);
	fclose(fp);
	assert_memory_equal(buf, img, size);
	for (size_t i = size; i < dev_size; i++)
		if (buf[i] != 0xA5)
			fail_msg("byte %zu past the image changed", i);
	free(buf);
}

/* An unaligned size: whole 4 MiB blocks, then a buffered tail. Then the
 * read-back: the right hash passes, a wrong one does not. */
static void test_write_and_verify(void **state)
{
	static const size_t chunks[] = { 1, 777, 65536, 3 * MiB };
	struct fixture *f = *state;
	size_t size = 9 * MiB + 12345;
	uint8_t *img = make_image(size, 1);
	uint8_t sha[DIGEST_LEN];

	digest_buf(img, size, sha);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		make_device(f, 10 * MiB);
		assert_int_equal(write_all(f, img, size, chunks[i]), SU_OK);
		assert_device_holds(f, img, size, 10 * MiB);
		assert_int_equal(verify(f, size, sha), SU_OK);
	}
	sha[0] ^= 1;
	assert_int_equal(verify(f, size, sha), SU_ERR_WRITE_FAILED);
	assert_string_equal(f->b.err.detail, "readback");
	assert_message_has(f, "read back");
	free(img);
}

static void test_verify_short_device(void **state)
{
	struct fixture *f = *state;
	uint8_t sha[DIGEST_LEN] = { 0 };

	/* The second 4 MiB read comes short. */
	make_device(f, 5 * MiB);
	assert_int_equal(verify(f, 6 * MiB, sha), SU_ERR_WRITE_FAILED);
	assert_message_has(f, "read back");
	assert_message_has(f, "offset 4194304");
}

/* The buffer an in-place install asks for (whole 4 KiB blocks, at least
 * one): the same bytes reach the device, and the read-back goes in
 * steps of it (a short device fails at the first step past its end). */
static void test_small_buffer(void **state)
{
	static const size_t wishes[] = { 1, 10000, 256 * 1024 };
	struct fixture *f = *state;
	size_t size = 2 * MiB + 12345;
	uint8_t *img = make_image(size, 1);
	uint8_t sha[DIGEST_LEN];

	digest_buf(img, size, sha);
	for (size_t i = 0; i < sizeof(wishes) / sizeof(wishes[0]); i++) {
		f->b.target.buffer = wishes[i];
		make_device(f, 3 * MiB);
		assert_int_equal(write_all(f, img, size, 65536 + 3), SU_OK);
		assert_device_holds(f, img, size, 3 * MiB);
		assert_int_equal(verify(f, size, sha), SU_OK);
	}
	f->b.target.buffer = MiB;
	make_device(f, 5 * MiB + 4096);
	assert_int_equal(verify(f, 6 * MiB, sha), SU_ERR_WRITE_FAILED);
	assert_message_has(f, "offset 5242880");
	/* not ext4: still refused before the device sees a byte */
	f->b.target.buffer = 1;
	free(img);
	img = make_image(size, 0);
	make_device(f, 3 * MiB);
	assert_int_equal(write_all(f, img, size, 4096), SU_ERR_WRITE_FAILED);
	assert_device_untouched(f, 3 * MiB);
	free(img);
}

static void test_wrong_length(void **state)
{
	struct fixture *f = *state;
	size_t size = MiB;
	uint8_t *img = make_image(size, 1);
	void *h;

	make_device(f, 2 * MiB);
	/* Fewer bytes than announced: finish refuses. */
	assert_int_equal(open_image(f, size, &h), SU_OK);
	assert_int_equal(put(f, h, img, size - 1), SU_OK);
	assert_int_equal(f->b.ops->finish(h, &f->b.err), SU_ERR_WRITE_FAILED);
	assert_message_has(f, "got 1048575 of 1048576 bytes");
	/* More: the write that passes the size is refused. */
	assert_int_equal(open_image(f, size - 1, &h), SU_OK);
	assert_int_equal(put(f, h, img, size), SU_ERR_WRITE_FAILED);
	assert_message_has(f, "more than the 1048575 bytes");
	f->b.ops->abort(h);
	free(img);
}

#define T(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_registered),
		T(test_not_ext4_refused_before_writing),
		T(test_image_smaller_than_superblock),
		T(test_device_too_small),
		T(test_missing_device),
		T(test_not_a_block_device),
		T(test_bad_options),
		T(test_write_and_verify),
		T(test_verify_short_device),
		T(test_small_buffer),
		T(test_wrong_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
