/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "tar_stream.h"

/*
 * Archives written by GNU tar, bsdtar and Python's tarfile are read whole,
 * one byte at a time and in random chunks; the member lists must agree
 * and every member's data must hash like the file it came from. Refusals
 * use archives crafted block by block below.
 */

#define MAX_MEMBERS 32

struct rec {
	char name[TAR_NAME_MAX];
	char type;
	uint64_t size, offset, got;
	uint8_t sha[DIGEST_LEN];
	bool ended;
};

struct collect {
	struct rec v[MAX_MEMBERS];
	size_t n;
	bool open;
	struct digest d;
	/* Fail with fail_code in member() of member number fail_member. */
	size_t fail_member;
	enum su_err fail_code;
	bool fail_in_data;
};

static enum su_err on_member(void *ctx, const struct tar_member *m,
			     struct su_error *err)
{
	struct collect *c = ctx;
	struct rec *r;

	assert_false(c->open);
	assert_true(c->n < MAX_MEMBERS);
	r = &c->v[c->n++];
	memset(r, 0, sizeof(*r));
	assert_non_null(memchr(m->name, '\0', sizeof(m->name)));
	strcpy(r->name, m->name);
	r->type = m->type;
	r->size = m->size;
	r->offset = m->offset;
	digest_init(&c->d);
	c->open = true;
	if (c->fail_code && !c->fail_in_data && c->n == c->fail_member)
		return su_error_setd(err, c->fail_code, "test_detail",
				     "refused member %s", m->name);
	return SU_OK;
}

static enum su_err on_data(void *ctx, const void *buf, size_t len,
			   struct su_error *err)
{
	struct collect *c = ctx;
	struct rec *r = &c->v[c->n - 1];

	assert_true(c->open);
	assert_true(len > 0);
	assert_true(r->got + len <= r->size);
	digest_update(&c->d, buf, len);
	r->got += len;
	if (c->fail_code && c->fail_in_data && c->n == c->fail_member)
		return su_error_set(err, c->fail_code, "data refused");
	return SU_OK;
}

static enum su_err on_end(void *ctx, struct su_error *err)
{
	struct collect *c = ctx;
	struct rec *r = &c->v[c->n - 1];

	(void)err;
	assert_true(c->open);
	assert_int_equal(r->got, r->size);
	digest_final(&c->d, r->sha);
	r->ended = true;
	c->open = false;
	return SU_OK;
}

static const struct tar_stream_ops collect_ops = {
	.member = on_member,
	.data = on_data,
	.member_end = on_end,
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum chunking { WHOLE, BYTES, RANDOM };

/* Chunk lengths from 1 byte to 64 KiB, spread over the magnitudes. */
static size_t next_chunk(enum chunking how, uint64_t *seed)
{
	uint64_t r;

	if (how == WHOLE)
		return SIZE_MAX;
	if (how == BYTES)
		return 1;
	r = rng_next(seed);
	return 1 + (r >> 8) % ((size_t)1 << (r % 17));
}

/* Feed @buf as @how says, then finish; the first error is returned. */
static enum su_err run(const void *buf, size_t len, enum chunking how,
		       struct collect *c, struct su_error *err)
{
	struct tar_stream *ts = tar_stream_new(&collect_ops, c);
	uint64_t seed = 0x9e3779b97f4a7c15;
	enum su_err rc = SU_OK;
	size_t pos = 0;

	assert_non_null(ts);
	while (pos < len && rc == SU_OK) {
		size_t n = next_chunk(how, &seed);

		if (n > len - pos)
			n = len - pos;
		rc = tar_stream_feed(ts, (const char *)buf + pos, n, err);
		pos += n;
	}
	if (rc == SU_OK) {
		assert_int_equal(tar_stream_offset(ts), len);
		rc = tar_stream_finish(ts, err);
	}
	tar_stream_free(ts);
	return rc;
}

static void assert_same_members(const struct collect *a,
				const struct collect *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->v[i].name, b->v[i].name);
		assert_int_equal(a->v[i].type, b->v[i].type);
		assert_int_equal(a->v[i].size, b->v[i].size);
		assert_int_equal(a->v[i].offset, b->v[i].offset);
		assert_memory_equal(a->v[i].sha, b->v[i].sha, DIGEST_LEN);
		assert_true(a->v[i].ended && b->v[i].ended);
	}
}

/* ---- archives written by real tools ---- */

static char scratch[4096];
static char srcdir[4200];

#define LONG_NAME "long-" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"x.bin"
#define DEEP_A "deep-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DEEP_B DEEP_A "/deep-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DEEP_NAME DEEP_B "/file.bin"

struct want {
	const char *name;	/* as the member must be reported */
	char type;
	size_t size;
};

static const struct want base_members[] = {
	{ "empty", '0', 0 },
	{ "one", '0', 1 },
	{ "b511", '0', 511 },
	{ "b512", '0', 512 },
	{ "b513", '0', 513 },
	{ "big", '0', 100000 },
	{ "dir/", '5', 0 },
	{ "link", '2', 0 },
};
#define N_BASE (sizeof(base_members) / sizeof(base_members[0]))

static const struct want long_member = { LONG_NAME, '0', 777 };
static const struct want deep_member = { DEEP_NAME, '0', 777 };

static void write_random(const char *name, size_t size, uint64_t seed)
{
	char path[8192];
	uint8_t *buf = malloc(size + 1);
	FILE *f;

	assert_non_null(buf);
	for (size_t i = 0; i < size; i++)
		buf[i] = rng_next(&seed) >> 24;
	snprintf(path, sizeof(path), "%s/%s", srcdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	free(buf);
}

static void *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap);

	assert_non_null(f);
	assert_non_null(buf);
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

static void sh(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

static int make_dir(const char *rel)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", srcdir, rel);
	return mkdir(path, 0755);
}

static int setup_tree(void **state)
{
	const char *bin = getenv("SU_TEST_BIN");
	char path[8192];

	(void)state;
	snprintf(scratch, sizeof(scratch), "%s/tar_stream.XXXXXX",
		 bin ? bin : "/tmp");
	if (!mkdtemp(scratch))
		return -1;
	snprintf(srcdir, sizeof(srcdir), "%s/src", scratch);
	if (mkdir(srcdir, 0755) || make_dir(DEEP_A) || make_dir(DEEP_B) ||
	    make_dir("dir"))
		return -1;
	snprintf(path, sizeof(path), "%s/link", srcdir);
	if (symlink("one", path))
		return -1;
	for (size_t i = 0; i < N_BASE; i++)
		if (base_members[i].type == '0')
			write_random(base_members[i].name,
				     base_members[i].size, i + 1);
	write_random(LONG_NAME, long_member.size, 100);
	write_random(DEEP_NAME, deep_member.size, 101);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown_tree(void **state)
{
	(void)state;
	return nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Check one reading against what went into the archive. */
static void check_members(const struct collect *c, const uint8_t *tar,
			  size_t tar_len, const struct want *extra)
{
	assert_int_equal(c->n, N_BASE + (extra != NULL));
	for (size_t i = 0; i < c->n; i++) {
		const struct want *w = i < N_BASE ? &base_members[i] : extra;
		const struct rec *r = &c->v[i];
		uint8_t sha[DIGEST_LEN];

		assert_string_equal(r->name, w->name);
		assert_int_equal(r->type, w->type);
		assert_int_equal(r->size, w->size);
		assert_true(r->offset % TAR_BLOCK == 0);
		assert_true(r->offset + r->size <= tar_len);
		/* the offset points at the data in the archive */
		digest_buf(tar + r->offset, r->size, sha);
		assert_memory_equal(sha, r->sha, DIGEST_LEN);
		if (w->type == '0') {
			char path[8192];
			size_t len;
			void *file;

			snprintf(path, sizeof(path), "%s/%s", srcdir, w->name);
			file = read_all(path, &len);
			assert_int_equal(len, w->size);
			digest_buf(file, len, sha);
			assert_memory_equal(sha, r->sha, DIGEST_LEN);
			free(file);
		}
	}
}

static void check_archive(const char *tar_path, const struct want *extra)
{
	static struct collect whole, bytes, chunks;
	struct su_error err;
	size_t len;
	uint8_t *tar = read_all(tar_path, &len);

	memset(&whole, 0, sizeof(whole));
	memset(&bytes, 0, sizeof(bytes));
	memset(&chunks, 0, sizeof(chunks));
	if (run(tar, len, WHOLE, &whole, &err) != SU_OK)
		fail_msg("%s: %s", tar_path, err.message);
	check_members(&whole, tar, len, extra);
	assert_int_equal(run(tar, len, BYTES, &bytes, &err), SU_OK);
	assert_same_members(&whole, &bytes);
	assert_int_equal(run(tar, len, RANDOM, &chunks, &err), SU_OK);
	assert_same_members(&whole, &chunks);
	free(tar);
}

static const char base_list[] = "empty one b511 b512 b513 big dir link";

/* @tool is a tar command without its recursion, e.g. "bsdtar -n". */
static void tool_tar(const char *tool, const char *format,
		     const struct want *extra)
{
	static int n;
	char out[8192];

	snprintf(out, sizeof(out), "%s/archive-%d.tar", scratch, n++);
	sh("cd '%s' && %s --format=%s -cf '%s' %s %s", srcdir, tool, format,
	   out, base_list, extra ? extra->name : "");
	check_archive(out, extra);
}

static void python_tar(const char *format)
{
	char out[8192];

	snprintf(out, sizeof(out), "%s/python-%s.tar", scratch, format);
	sh("cd '%s' && python3 -c 'import sys, tarfile\n"
	   "fmt = getattr(tarfile, sys.argv[2])\n"
	   "with tarfile.open(sys.argv[1], \"w\", format=fmt) as t:\n"
	   "    for f in sys.argv[3:]: t.add(f, recursive=False)\n"
	   "' '%s' %s %s %s", srcdir, out, format, base_list, LONG_NAME);
	check_archive(out, &long_member);
}

#define GNU_TAR "tar --no-recursion"
#define BSDTAR "bsdtar -n"

static void test_gnu_tar(void **state)
{
	(void)state;
	tool_tar(GNU_TAR, "gnu", &long_member);
	tool_tar(GNU_TAR, "pax", &long_member);
	tool_tar(GNU_TAR, "ustar", &deep_member);
	tool_tar(GNU_TAR, "v7", NULL);
}

static void test_bsdtar(void **state)
{
	(void)state;
	tool_tar(BSDTAR, "ustar", &deep_member);
	tool_tar(BSDTAR, "pax", &long_member);
	tool_tar(BSDTAR, "gnutar", &long_member);
}

static void test_python_tarfile(void **state)
{
	(void)state;
	python_tar("DEFAULT_FORMAT");
	python_tar("GNU_FORMAT");
}

/* ---- archives crafted block by block ---- */

struct tarbuf {
	uint8_t buf[256 * 1024];
	size_t len;
};

#define USTAR_MAGIC	"ustar\0" "00"
#define GNU_MAGIC	"ustar  \0"

static void set_checksum(uint8_t *h, bool signed_sum)
{
	long sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += signed_sum ? (signed char)h[i] : h[i];
	snprintf((char *)h + 148, 8, "%06lo", sum);
}

/* A header block; @magic NULL makes a v7 header. Returns it for tweaks. */
static uint8_t *add_header(struct tarbuf *t, const char *name, char type,
			   uint64_t size, const char *magic)
{
	uint8_t *h = t->buf + t->len;

	assert_true(t->len + TAR_BLOCK <= sizeof(t->buf));
	memset(h, 0, TAR_BLOCK);
	memcpy(h, name, strnlen(name, 100));
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	memcpy(h + 136, "14000000000", 12);
	h[156] = type;
	if (magic)
		memcpy(h + 257, magic, 8);
	set_checksum(h, false);
	t->len += TAR_BLOCK;
	return h;
}

/* @len bytes of data (a repeating pattern when @data is NULL), padded. */
static void add_data(struct tarbuf *t, const void *data, size_t len)
{
	size_t padded = (len + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;

	assert_true(t->len + padded <= sizeof(t->buf));
	for (size_t i = 0; i < len; i++)
		t->buf[t->len + i] = data ? ((const uint8_t *)data)[i] : i * 7;
	memset(t->buf + t->len + len, 0, padded - len);
	t->len += padded;
}

static void add_member(struct tarbuf *t, const char *name, const void *data,
		       size_t len)
{
	add_header(t, name, '0', len, USTAR_MAGIC);
	add_data(t, data, len);
}

static void add_ext(struct tarbuf *t, char type, const void *data, size_t len)
{
	add_header(t, "././@LongLink", type, len, type == 'L' || type == 'K' ?
		   GNU_MAGIC : USTAR_MAGIC);
	add_data(t, data, len);
}

static void add_end(struct tarbuf *t)
{
	add_data(t, NULL, 0);
	memset(t->buf + t->len, 0, 2 * TAR_BLOCK);
	t->len += 2 * TAR_BLOCK;
}

static struct tarbuf *tarbuf_new(void)
{
	struct tarbuf *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	return t;
}

static int tarbuf_setup(void **state)
{
	*state = tarbuf_new();
	return 0;
}

static int tarbuf_teardown(void **state)
{
	free(*state);
	return 0;
}

/* Read @t in all three ways; all must give @want_rc, the same members. */
static void read_all_ways(const struct tarbuf *t, enum su_err want_rc,
			  struct collect *c, struct su_error *err)
{
	static struct collect other;
	struct su_error err2;
	enum su_err rc;

	memset(c, 0, sizeof(*c));
	rc = run(t->buf, t->len, WHOLE, c, err);
	if (rc != want_rc)
		fail_msg("got %s (%s), want %s", su_err_name(rc),
			 rc ? err->message : "", su_err_name(want_rc));
	for (enum chunking how = BYTES; how <= RANDOM; how++) {
		memset(&other, 0, sizeof(other));
		assert_int_equal(run(t->buf, t->len, how, &other, &err2),
				 want_rc);
		if (want_rc != SU_OK)
			assert_string_equal(err->message, err2.message);
		assert_int_equal(other.n, c->n);
	}
}

static void expect_bad(const struct tarbuf *t, const char *msg_part)
{
	static struct collect c;
	struct su_error err;

	read_all_ways(t, SU_ERR_BAD_ARCHIVE, &c, &err);
	assert_int_equal(err.code, SU_ERR_BAD_ARCHIVE);
	if (!strstr(err.message, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err.message, msg_part);
}

static void test_crafted_formats(void **state)
{
	static struct collect c;
	struct tarbuf *t = *state;
	struct su_error err;
	uint8_t *h;

	/* v7: no magic, '\0' typeflag reported as '0' */
	add_header(t, "v7file", '\0', 3, NULL);
	add_data(t, "abc", 3);
	/* ustar prefix is joined; GNU's prefix area is not a prefix */
	h = add_header(t, "name", '0', 0, USTAR_MAGIC);
	memcpy(h + 345, "pre/fix", 7);
	set_checksum(h, false);
	h = add_header(t, "gname", '0', 0, GNU_MAGIC);
	memcpy(h + 345, "junk", 4);
	set_checksum(h, false);
	/* old tars summed signed chars */
	h = add_header(t, "caf\xc3\xa9", '0', 1, USTAR_MAGIC);
	set_checksum(h, true);
	add_data(t, "x", 1);
	add_member(t, "after", NULL, 1000);
	add_end(t);
	read_all_ways(t, SU_OK, &c, &err);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.v[0].name, "v7file");
	assert_int_equal(c.v[0].type, '0');
	assert_int_equal(c.v[0].offset, 512);
	assert_string_equal(c.v[1].name, "pre/fix/name");
	assert_int_equal(c.v[1].offset, 1536);	/* where data would start */
	assert_true(c.v[1].ended);
	assert_string_equal(c.v[2].name, "gname");
	assert_string_equal(c.v[3].name, "caf\xc3\xa9");
	assert_int_equal(c.v[4].size, 1000);
}

static void test_sizes(void **state)
{
	static const uint8_t bad_sizes[][12] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* base-256 -1 */
		  0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x80, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 1 },	/* > 2^62 */
		{ 0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },	/* 2^80 */
		"0000000012x",
		"           ",
		"-0000000012",
	};
	static struct collect c;
	struct tarbuf *t = *state;
	struct su_error err;
	uint8_t *h;

	/* GNU base-256: 0x80 then big-endian */
	h = add_header(t, "b256", '0', 0, GNU_MAGIC);
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[134] = 0x03;
	h[135] = 0xe8;
	set_checksum(h, false);
	add_data(t, NULL, 1000);
	/* octal after leading spaces, space-terminated */
	h = add_header(t, "spaces", '0', 0, USTAR_MAGIC);
	memcpy(h + 124, "       1750 ", 12);
	set_checksum(h, false);
	add_data(t, NULL, 1000);
	add_end(t);
	read_all_ways(t, SU_OK, &c, &err);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.v[0].size, 1000);
	assert_int_equal(c.v[1].size, 1000);
	assert_int_equal(c.v[1].offset, 512 + 1024 + 512);

	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		t->len = 0;
		h = add_header(t, "bad", '0', 0, USTAR_MAGIC);
		memcpy(h + 124, bad_sizes[i], 12);
		set_checksum(h, false);
		add_end(t);
		expect_bad(t, "bad size field in header at offset 0");
	}
}

static void test_bad_checksum(void **state)
{
	struct tarbuf *t = *state;
	uint8_t *h;

	add_member(t, "first", NULL, 100);
	h = add_header(t, "second", '0', 10, USTAR_MAGIC);
	add_data(t, NULL, 10);
	add_end(t);
	h[0] = 'S';
	expect_bad(t, "bad header checksum at offset 1024");
	/* a checksum field that is not a number */
	h[0] = 's';
	memcpy(h + 148, "zzzzzz\0 ", 8);
	expect_bad(t, "bad header checksum at offset 1024");
}

static void expect_truncated(const struct tarbuf *t, size_t cut,
			     const char *msg_part)
{
	struct tarbuf *p = tarbuf_new();

	memcpy(p->buf, t->buf, cut);
	p->len = cut;
	expect_bad(p, "truncated: archive ends at offset");
	expect_bad(p, msg_part);
	free(p);
}

static void test_truncated(void **state)
{
	struct tarbuf *t = *state;
	static const char rec[] = "12 path=foo\n";

	add_member(t, "a", NULL, 700);		/* header 0, data 512..1212 */
	add_ext(t, 'x', rec, strlen(rec));	/* header 1536, record 2048 */
	add_member(t, "b", NULL, 0);		/* header 2560 */
	add_end(t);				/* zero blocks 3072, 3584 */
	assert_int_equal(t->len, 4096);

	expect_truncated(t, 0, "before the end-of-archive marker");
	expect_truncated(t, 100, "inside a header block");
	expect_truncated(t, 512, "inside member 'a'");
	expect_truncated(t, 600, "at offset 600 inside member 'a'");
	expect_truncated(t, 1212, "in the padding after member 'a'");
	expect_truncated(t, 1300, "in the padding after member 'a'");
	expect_truncated(t, 1536, "before the end-of-archive marker");
	expect_truncated(t, 2050, "inside an extended header");
	expect_truncated(t, 2100, "before the end-of-archive marker");
	expect_truncated(t, 3072, "before the end-of-archive marker");
	expect_truncated(t, 3584, "before the end-of-archive marker");
	expect_truncated(t, 4000, "inside a header block");
}

static void test_after_end(void **state)
{
	static struct collect c;
	struct tarbuf *t = *state;
	struct su_error err;

	add_member(t, "a", NULL, 10);
	add_end(t);
	t->len = 10240;		/* zeros up to a tar record: fine */
	read_all_ways(t, SU_OK, &c, &err);
	assert_int_equal(c.n, 1);
	t->buf[5000] = 'x';
	expect_bad(t, "data after end of archive at offset 5000");
	t->buf[5000] = 0;
	t->buf[t->len++] = 1;
	expect_bad(t, "data after end of archive at offset 10240");
}

static void test_lone_zero_block(void **state)
{
	struct tarbuf *t = *state;

	add_member(t, "a", NULL, 10);
	memset(t->buf + t->len, 0, TAR_BLOCK);
	t->len += TAR_BLOCK;
	add_member(t, "b", NULL, 10);
	add_end(t);
	expect_bad(t, "lone zero block followed by a header at offset 1536");
}

static void test_pax(void **state)
{
	static struct collect c;
	struct tarbuf *t = *state;
	static const char recs[] = "12 path=foo\n" "12 size=700\n"
				   "28 SCHILY.xattr.user.a=\0\x01\x02\xff\n";
	static const char global[] = "19 comment=ignored\n";
	struct su_error err;

	add_ext(t, 'g', global, strlen(global));
	add_ext(t, 'x', recs, sizeof(recs) - 1);
	add_header(t, "short", '0', 0, USTAR_MAGIC);
	add_data(t, NULL, 700);
	/* an empty value deletes the keyword: the header name counts */
	add_ext(t, 'x', "12 path=bar\n8 path=\n", 20);
	add_member(t, "plain", NULL, 5);
	add_ext(t, 'L', "gnu-long-name\0", 14);
	add_member(t, "trunc", NULL, 3);
	add_ext(t, 'K', "some-link-target", 16);
	add_header(t, "hardlink", '1', 0, GNU_MAGIC);
	add_end(t);
	read_all_ways(t, SU_OK, &c, &err);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.v[0].name, "foo");
	assert_int_equal(c.v[0].size, 700);
	assert_int_equal(c.v[0].offset, 2048 + 512);
	assert_string_equal(c.v[1].name, "plain");
	assert_string_equal(c.v[2].name, "gnu-long-name");
	assert_string_equal(c.v[3].name, "hardlink");
	assert_int_equal(c.v[3].type, '1');
}

static void test_pax_malformed(void **state)
{
	static const struct {
		const char *rec;
		size_t len;
		const char *msg;
	} cases[] = {
		{ "abc path=foo\n", 13, "bad record length" },
		{ "11 pathfoo\n", 11, "malformed record" },
		{ "99 path=foo\n", 12, "bad record length" },
		{ "13 path=foo\n", 12, "bad record length" },
		{ "12 path=fooX", 12, "malformed record" },
		{ "11 path=foo\n\n", 13, "malformed record" },
		{ "12path=foo\n", 11, "bad record length" },
		{ "0 \n", 3, "bad record length" },
		{ "6 =xy\n", 6, "malformed record" },
		{ "12 size=7x0\n", 12, "bad size" },
		{ "29 size=99999999999999999999\n", 29, "bad size" },
		{ "14 path=a\0bcd\n", 14, "NUL byte in path" },
		{ "12 path=foo\nX", 13, "bad record length" },
	};
	struct tarbuf *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t->len = 0;
		add_ext(t, 'x', cases[i].rec, cases[i].len);
		add_member(t, "m", NULL, 1);
		add_end(t);
		expect_bad(t, cases[i].msg);
	}
	/* a global header is checked as strictly, though ignored */
	t->len = 0;
	add_ext(t, 'g', "11 pathfoo\n", 11);
	add_end(t);
	expect_bad(t, "pax header at offset 0: malformed record");
}

static void test_oversized(void **state)
{
	static struct collect c;
	struct tarbuf *t = *state;
	static char big[TAR_EXT_MAX + 1];
	char msg[128];
	struct su_error err;

	/* refused at the header, before its body arrives */
	for (const char *type = "xLgK"; *type; type++) {
		t->len = 0;
		add_header(t, "ext", *type, TAR_EXT_MAX + 1, USTAR_MAGIC);
		snprintf(msg, sizeof(msg), "'%c' at offset 0 is %d bytes",
			 *type, TAR_EXT_MAX + 1);
		expect_bad(t, msg);
	}

	/* exactly TAR_EXT_MAX is fine */
	memset(big, 'c', TAR_EXT_MAX);
	memcpy(big, "65536 comment=", 14);
	big[TAR_EXT_MAX - 1] = '\n';
	t->len = 0;
	add_ext(t, 'x', big, TAR_EXT_MAX);
	add_member(t, "m", NULL, 1);
	add_end(t);
	read_all_ways(t, SU_OK, &c, &err);
	assert_int_equal(c.n, 1);

	/* names: TAR_NAME_MAX - 1 bytes fit, one more does not */
	memset(big, 'n', TAR_NAME_MAX);
	big[TAR_NAME_MAX - 1] = '\0';
	t->len = 0;
	add_ext(t, 'L', big, TAR_NAME_MAX);
	add_member(t, "m", NULL, 1);
	add_end(t);
	read_all_ways(t, SU_OK, &c, &err);
	assert_int_equal(strlen(c.v[0].name), TAR_NAME_MAX - 1);

	t->len = 0;
	big[TAR_NAME_MAX - 1] = 'n';
	add_ext(t, 'L', big, TAR_NAME_MAX);
	add_member(t, "m", NULL, 1);
	add_end(t);
	expect_bad(t, "GNU long name at offset 0 is 4096 bytes");

	t->len = 0;
	/* "4107 path=" + 4096 bytes + "\n" */
	snprintf(big, sizeof(big), "%d path=", 10 + TAR_NAME_MAX + 1);
	memset(big + 10, 'p', TAR_NAME_MAX);
	big[10 + TAR_NAME_MAX] = '\n';
	add_ext(t, 'x', big, 10 + TAR_NAME_MAX + 1);
	add_member(t, "m", NULL, 1);
	add_end(t);
	expect_bad(t, "path of 4096 bytes is longer than 4095");
}

static void test_ext_without_member(void **state)
{
	struct tarbuf *t = *state;

	add_ext(t, 'x', "12 path=foo\n", 12);
	add_end(t);
	expect_bad(t, "extended header not followed by a member");
	t->len = 0;
	add_ext(t, 'L', "name", 4);
	add_end(t);
	expect_bad(t, "extended header not followed by a member");
}

static void check_sticky(const struct tarbuf *t, struct collect *c,
			 enum su_err code, const char *msg)
{
	struct tar_stream *ts = tar_stream_new(&collect_ops, c);
	struct su_error err, again;

	assert_non_null(ts);
	assert_int_equal(tar_stream_feed(ts, t->buf, t->len, &err), code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.message, msg);
	assert_int_equal(tar_stream_feed(ts, t->buf, 1, &again), code);
	assert_int_equal(again.code, code);
	assert_string_equal(again.message, msg);
	assert_int_equal(tar_stream_finish(ts, &again), code);
	assert_string_equal(again.message, msg);
	/* a NULL error pointer is allowed too */
	assert_int_equal(tar_stream_feed(ts, t->buf, 1, NULL), code);
	tar_stream_free(ts);
}

static void test_callback_error(void **state)
{
	static struct collect c;
	struct tarbuf *t = *state;
	struct su_error err;

	add_member(t, "a", NULL, 10);
	add_member(t, "b", NULL, 10);
	add_end(t);

	memset(&c, 0, sizeof(c));
	c.fail_member = 2;
	c.fail_code = SU_ERR_UNEXPECTED_MEMBER;
	check_sticky(t, &c, SU_ERR_UNEXPECTED_MEMBER, "refused member b");
	assert_int_equal(c.n, 2);
	assert_false(c.v[1].ended);

	memset(&c, 0, sizeof(c));
	c.fail_member = 1;
	c.fail_code = SU_ERR_HASH_MISMATCH;
	c.fail_in_data = true;
	check_sticky(t, &c, SU_ERR_HASH_MISMATCH, "data refused");
	assert_int_equal(c.n, 1);

	/* detail survives too; every chunking gives the same */
	memset(&c, 0, sizeof(c));
	c.fail_member = 2;
	c.fail_code = SU_ERR_UNEXPECTED_MEMBER;
	for (enum chunking how = WHOLE; how <= RANDOM; how++) {
		c.n = 0;
		c.open = false;
		assert_int_equal(run(t->buf, t->len, how, &c, &err),
				 SU_ERR_UNEXPECTED_MEMBER);
		assert_string_equal(err.detail, "test_detail");
	}

	/* a tar error is sticky in the same way */
	t->buf[1024] ^= 1;
	memset(&c, 0, sizeof(c));
	check_sticky(t, &c, SU_ERR_BAD_ARCHIVE,
		     "bad header checksum at offset 1024");
}

static enum su_err silent_failure(void *ctx, const struct tar_member *m,
				  struct su_error *err)
{
	(void)ctx;
	(void)m;
	(void)err;
	return SU_ERR_IO;
}

static void test_no_callbacks(void **state)
{
	static const struct tar_stream_ops none, silent = {
		.member = silent_failure,
	};
	struct tarbuf *t = *state;
	struct tar_stream *ts;
	struct su_error err;

	add_member(t, "a", NULL, 1000);
	add_member(t, "b", NULL, 0);
	add_end(t);
	ts = tar_stream_new(&none, NULL);
	assert_int_equal(tar_stream_feed(ts, t->buf, t->len, &err), SU_OK);
	assert_int_equal(tar_stream_finish(ts, &err), SU_OK);
	assert_int_equal(tar_stream_offset(ts), t->len);
	tar_stream_free(ts);

	/* a callback that does not fill its error still gets its code back */
	ts = tar_stream_new(&silent, NULL);
	assert_int_equal(tar_stream_feed(ts, t->buf, t->len, &err), SU_ERR_IO);
	assert_int_equal(err.code, SU_ERR_IO);
	assert_int_equal(tar_stream_finish(ts, &err), SU_ERR_IO);
	tar_stream_free(ts);
}

#define crafted(f) \
	cmocka_unit_test_setup_teardown(f, tarbuf_setup, tarbuf_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gnu_tar),
		cmocka_unit_test(test_bsdtar),
		cmocka_unit_test(test_python_tarfile),
		crafted(test_crafted_formats),
		crafted(test_sizes),
		crafted(test_bad_checksum),
		crafted(test_truncated),
		crafted(test_after_end),
		crafted(test_lone_zero_block),
		crafted(test_pax),
		crafted(test_pax_malformed),
		crafted(test_oversized),
		crafted(test_ext_without_member),
		crafted(test_callback_error),
		crafted(test_no_callbacks),
	};

	return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
