/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * decoder_mem: the decompressor's memory read off real xz and zstd
 * streams, made here by the xz and zstd programs with known windows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "decoder_mem.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)

/* The first header bytes of `head -c SIZE /dev/zero | TOOL` (a pipe:
 * the tool does not know the size, as when bundles are built from one). */
/* The first DECODER_MEM_HEADER bytes @cmd prints; it must succeed. */
static size_t head_of(const char *cmd, uint8_t hdr[DECODER_MEM_HEADER])
{
	FILE *f = popen(cmd, "r");
	size_t n;

	assert_non_null(f);
	n = fread(hdr, 1, DECODER_MEM_HEADER, f);
	while (fgetc(f) != EOF)
		;
	assert_int_equal(pclose(f), 0);
	return n;
}

static uint64_t mem_of(enum compression c, const char *tool, unsigned size)
{
	char cmd[256];
	uint8_t hdr[DECODER_MEM_HEADER];
	size_t n;

	snprintf(cmd, sizeof(cmd), "head -c %u /dev/zero | %s", size, tool);
	n = head_of(cmd, hdr);
	return decoder_mem_header(c, hdr, n);
}

static void test_xz(void **state)
{
	(void)state;
	assert_int_equal(mem_of(COMPRESSION_XZ, "xz -0", 4096), 256 * KiB + 64 * KiB);
	assert_int_equal(mem_of(COMPRESSION_XZ, "xz -6", 4096), 8 * MiB + 64 * KiB);
	assert_int_equal(mem_of(COMPRESSION_XZ, "xz -9", 4096), 64 * MiB + 64 * KiB);
	/* an odd dictionary, and a BCJ filter before LZMA2 */
	assert_int_equal(mem_of(COMPRESSION_XZ, "xz --lzma2=dict=3MiB", 4096),
			 3 * MiB + 64 * KiB);
	assert_int_equal(mem_of(COMPRESSION_XZ, "xz --x86 --lzma2=dict=1MiB", 4096),
			 1 * MiB + 64 * KiB);
	/* the block header states its sizes (multi-threaded xz does) */
	assert_int_equal(mem_of(COMPRESSION_XZ, "xz -T2 --block-size=1MiB -1", 3 << 20),
			 1 * MiB + 64 * KiB);
}

static void test_zstd(void **state)
{
	(void)state;
	assert_int_equal(mem_of(COMPRESSION_ZSTD, "zstd -q --zstd=wlog=20", 1 << 20),
			 1 * MiB + 384 * KiB);
	assert_int_equal(mem_of(COMPRESSION_ZSTD, "zstd -q --long=27", 1 << 20),
			 128 * MiB + 384 * KiB);
}

/* Known content size in one segment: the window is the content. */
static void test_zstd_single_segment(void **state)
{
	char path[] = "/tmp/su-decoder-XXXXXX";
	char cmd[256];
	uint8_t hdr[DECODER_MEM_HEADER];
	size_t n;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "head -c 1000 /dev/zero > %s && zstd -q -c %s", path, path);
	n = head_of(cmd, hdr);
	unlink(path);
	assert_true(n > 5 && (hdr[4] & 0x20));	/* what this case is about */
	assert_int_equal(decoder_mem_header(COMPRESSION_ZSTD, hdr, n), 1000 + 384 * KiB);
}

/* Not the format, cut short, or without a block: the usual figure. */
static void test_unreadable(void **state)
{
	static const uint8_t junk[16] = "not a stream";
	static const uint8_t empty_xz[] = {
		0xfd, '7', 'z', 'X', 'Z', 0, 0, 1, 0x69, 0x22, 0xde, 0x36,
		0x00, 0x00, 0x00, 0x00,
	};

	(void)state;
	assert_int_equal(decoder_mem_header(COMPRESSION_XZ, junk, sizeof(junk)),
			 DECODER_MEM_XZ_DEFAULT);
	assert_int_equal(decoder_mem_header(COMPRESSION_ZSTD, junk, sizeof(junk)),
			 DECODER_MEM_ZSTD_DEFAULT);
	assert_int_equal(decoder_mem_header(COMPRESSION_XZ, junk, 0),
			 DECODER_MEM_XZ_DEFAULT);
	assert_int_equal(decoder_mem_header(COMPRESSION_XZ, empty_xz, sizeof(empty_xz)),
			 DECODER_MEM_XZ_DEFAULT);
	assert_int_equal(decoder_mem_header(COMPRESSION_GZIP, junk, 0), DECODER_MEM_GZIP);
	assert_int_equal(decoder_mem_header(COMPRESSION_NONE, junk, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xz),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_zstd_single_segment),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
