/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "manifest.h"

#define SHA_LO "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define SHA_UP "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
#define SHA_B  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

/* Top-level fields and image bodies that are valid on their own. */
#define TOP "\"format\":1,\"version\":\"2.1.0\",\"compatible\":[\"acme,router-x1\"]"
#define Q(s) "\"" s "\""
#define IMAGE(file, size, sha256, type, target) \
	"\"file\":" file ",\"size\":" size ",\"sha256\":" sha256 "," \
	"\"type\":" type ",\"target\":" target
#define IMG_FIELDS(file) IMAGE(Q(file), "10", Q(SHA_LO), Q("ubi"), Q("rootfs"))
#define IMG "{" IMG_FIELDS("rootfs.ubifs") "}"
/* A manifest from top-level fields and the images array's contents. */
#define DOC(top, images) "{" top ",\"images\":[" images "]}"
/* One image with @fields; the rest of the manifest valid. */
#define DOC_IMG(fields) DOC(TOP, "{" fields "}")

static const char full_example[] =
	"{\n"
	"  \"format\": 1,\n"
	"  \"version\": \"2.1.0\",\n"
	"  \"compatible\": [\"acme,router-x1\", \"acme,router-x2\"],\n"
	"  \"description\": \"optional text \\u00e9\",\n"
	"  \"images\": [\n"
	"    {\"file\": \"rootfs.ubifs\", \"size\": 31457280, \"sha256\": \"" SHA_UP "\",\n"
	"     \"type\": \"ubi\", \"target\": \"rootfs\", \"compression\": \"none\"},\n"
	"    {\"file\": \"kernel.bin\", \"size\": 4194304, \"sha256\": \"" SHA_B "\",\n"
	"     \"type\": \"mtd\", \"target\": \"kernel\"}\n"
	"  ],\n"
	"  \"bootenv\": {\"boot_version\": \"2.1.0\", \"upgrade_available\": \"1\"},\n"
	"  \"future_field\": {\"ignored\": [1, 2, 3]}\n"
	"}\n";

/*
 * Parse from a heap copy of exactly @len bytes with no NUL after it, so
 * ASan reports any read past the end.
 */
static enum su_err parse_n(const char *json, size_t len, struct manifest **m,
			   struct su_error *err)
{
	char *copy = malloc(len ? len : 1);
	enum su_err rc;

	assert_non_null(copy);
	memcpy(copy, json, len);
	rc = manifest_parse(copy, len, m, err);
	free(copy);
	return rc;
}

static struct manifest *parse_ok(const char *json)
{
	struct su_error err = { 0 };
	struct manifest *m = NULL;
	enum su_err rc = parse_n(json, strlen(json), &m, &err);

	if (rc != SU_OK)
		fail_msg("unexpected refusal: %s (%s)", err.message,
			 err.detail ? err.detail : "-");
	assert_non_null(m);
	return m;
}

/* Refused with bad_manifest/@detail, the message naming @path. */
static void expect_bad_n(const char *json, size_t len, const char *detail,
			 const char *path)
{
	struct su_error err = { 0 };
	struct manifest *m = (struct manifest *)1;
	char prefix[160];

	assert_int_equal(parse_n(json, len, &m, &err), SU_ERR_BAD_MANIFEST);
	assert_null(m);
	assert_int_equal(err.code, SU_ERR_BAD_MANIFEST);
	if (!err.detail || strcmp(err.detail, detail))
		fail_msg("want detail %s, got %s: %s", detail,
			 err.detail ? err.detail : "NULL", err.message);
	if (path) {
		snprintf(prefix, sizeof(prefix), "manifest: %s: ", path);
		if (strncmp(err.message, prefix, strlen(prefix)))
			fail_msg("message \"%s\" does not start with \"%s\"",
				 err.message, prefix);
	}
}

static void expect_bad(const char *json, const char *detail, const char *path)
{
	expect_bad_n(json, strlen(json), detail, path);
}

struct bad_case {
	const char *json;
	const char *path;	/* the field the message must name */
};

static void expect_all_bad(const struct bad_case *cases, size_t n,
			   const char *detail)
{
	for (size_t i = 0; i < n; i++)
		expect_bad(cases[i].json, detail, cases[i].path);
}

#define EXPECT_ALL_BAD(cases, detail) \
	expect_all_bad(cases, sizeof(cases) / sizeof(cases[0]), detail)

/* A manifest whose list @key has @n entries made by @entry. */
static char *many(const char *key, size_t n, const char *open,
		  const char *close, const char *entry_fmt)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	fprintf(f, "{\"format\":1,\"version\":\"1\",");
	if (strcmp(key, "compatible"))
		fprintf(f, "\"compatible\":[\"a\"],");
	if (strcmp(key, "images"))
		fprintf(f, "\"images\":[" IMG "],");
	fprintf(f, "\"%s\":%s", key, open);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, i ? "," : "");
		fprintf(f, entry_fmt, i);
	}
	fprintf(f, "%s}", close);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_full_example(void **state)
{
	struct manifest *m = parse_ok(full_example);
	static const uint8_t lo[DIGEST_LEN] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};

	(void)state;
	assert_int_equal(m->format, 1);
	assert_string_equal(m->version, "2.1.0");
	assert_int_equal(m->n_compatible, 2);
	assert_string_equal(m->compatible[0], "acme,router-x1");
	assert_string_equal(m->compatible[1], "acme,router-x2");
	assert_string_equal(m->description, "optional text \xc3\xa9");
	assert_int_equal(m->n_images, 2);
	assert_string_equal(m->images[0].file, "rootfs.ubifs");
	assert_int_equal(m->images[0].size, 31457280);
	assert_memory_equal(m->images[0].sha256, lo, DIGEST_LEN);
	assert_string_equal(m->images[0].type, "ubi");
	assert_string_equal(m->images[0].target, "rootfs");
	assert_int_equal(m->images[0].compression, COMPRESSION_NONE);
	assert_int_equal(m->images[0].installed_size, 31457280);
	assert_string_equal(m->images[1].file, "kernel.bin");
	assert_int_equal(m->images[1].size, 4194304);
	assert_int_equal(m->images[1].sha256[31], 0xff);
	assert_string_equal(m->images[1].type, "mtd");
	assert_string_equal(m->images[1].target, "kernel");
	assert_int_equal(m->images[1].compression, COMPRESSION_NONE);
	assert_int_equal(m->images[1].installed_size, 4194304);
	assert_int_equal(m->n_bootenv, 2);
	assert_string_equal(m->bootenv[0].key, "boot_version");
	assert_string_equal(m->bootenv[0].value, "2.1.0");
	assert_string_equal(m->bootenv[1].key, "upgrade_available");
	assert_string_equal(m->bootenv[1].value, "1");
	manifest_free(m);
}

static void test_minimal(void **state)
{
	struct manifest *m = parse_ok(DOC(TOP, IMG));

	(void)state;
	assert_int_equal(m->format, 1);
	assert_int_equal(m->n_compatible, 1);
	assert_null(m->description);
	assert_int_equal(m->n_images, 1);
	assert_int_equal(m->images[0].compression, COMPRESSION_NONE);
	assert_int_equal(m->images[0].installed_size, 10);
	assert_int_equal(m->n_bootenv, 0);
	assert_null(m->bootenv);
	manifest_free(m);

	/* an empty bootenv and an empty description are fine */
	m = parse_ok(DOC(TOP ",\"bootenv\":{},\"description\":\"\"", IMG));
	assert_int_equal(m->n_bootenv, 0);
	assert_string_equal(m->description, "");
	manifest_free(m);

	/* size 0 and the largest int64 */
	m = parse_ok(DOC_IMG(IMAGE(Q("e"), "0", Q(SHA_LO), Q("tar"), Q("data"))));
	assert_int_equal(m->images[0].size, 0);
	manifest_free(m);
	m = parse_ok(DOC_IMG(IMG_FIELDS("x") ",\"compression\":\"xz\","
			     "\"installed_size\":9223372036854775807"));
	assert_true(m->images[0].installed_size == INT64_MAX);
	manifest_free(m);
}

static void test_compressed(void **state)
{
	static const struct {
		const char *name;
		enum compression c;
	} cases[] = {
		{ "gzip", COMPRESSION_GZIP },
		{ "xz", COMPRESSION_XZ },
		{ "zstd", COMPRESSION_ZSTD },
	};
	struct manifest *m;

	(void)state;
	m = parse_ok(DOC(TOP,
		"{" IMG_FIELDS("a.gz") ",\"compression\":\"gzip\",\"installed_size\":100},"
		"{" IMG_FIELDS("b.xz") ",\"compression\":\"xz\",\"installed_size\":0},"
		"{" IMG_FIELDS("c.zst") ",\"compression\":\"zstd\",\"installed_size\":5},"
		"{" IMG_FIELDS("d") ",\"compression\":\"none\",\"installed_size\":10}"));
	assert_int_equal(m->n_images, 4);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(m->images[i].compression, cases[i].c);
		assert_string_equal(compression_name(cases[i].c), cases[i].name);
		assert_int_equal(compression_from_name(cases[i].name), cases[i].c);
	}
	assert_int_equal(m->images[0].installed_size, 100);
	assert_int_equal(m->images[1].installed_size, 0);
	assert_int_equal(m->images[2].installed_size, 5);
	assert_int_equal(m->images[3].compression, COMPRESSION_NONE);
	assert_int_equal(m->images[3].installed_size, 10);
	manifest_free(m);

	assert_string_equal(compression_name(COMPRESSION_NONE), "none");
	assert_int_equal(compression_from_name("none"), COMPRESSION_NONE);
	assert_int_equal(compression_from_name("GZIP"), -1);
	assert_int_equal(compression_from_name("bzip2"), -1);
	assert_int_equal(compression_from_name(""), -1);
	assert_int_equal(compression_from_name(NULL), -1);
}

static void test_too_large(void **state)
{
	size_t head = strlen("{" TOP ",\"images\":[" IMG "],\"description\":\"");
	size_t tail = strlen("\"}");
	char *buf = malloc(MANIFEST_MAX_SIZE + 2);

	(void)state;
	assert_non_null(buf);
	/* exactly 64 KiB: accepted */
	memcpy(buf, "{" TOP ",\"images\":[" IMG "],\"description\":\"", head);
	memset(buf + head, 'x', MANIFEST_MAX_SIZE - head - tail);
	memcpy(buf + MANIFEST_MAX_SIZE - tail, "\"}", tail);
	{
		struct su_error err = { 0 };
		struct manifest *m = NULL;

		assert_int_equal(parse_n(buf, MANIFEST_MAX_SIZE, &m, &err),
				 SU_OK);
		assert_int_equal(strlen(m->description),
				 MANIFEST_MAX_SIZE - head - tail);
		manifest_free(m);
	}
	/* one byte more, even if only whitespace: refused before parsing */
	buf[MANIFEST_MAX_SIZE] = '\n';
	expect_bad_n(buf, MANIFEST_MAX_SIZE + 1, "too_large", NULL);
	memset(buf, '{', MANIFEST_MAX_SIZE + 2);
	expect_bad_n(buf, MANIFEST_MAX_SIZE + 2, "too_large", NULL);
	{
		struct su_error err = { 0 };
		struct manifest *m = NULL;

		assert_int_equal(manifest_parse(buf, SIZE_MAX, &m, &err),
				 SU_ERR_BAD_MANIFEST);
		assert_string_equal(err.detail, "too_large");
		assert_null(m);
	}
	free(buf);
}

static void test_bad_json(void **state)
{
	static const char *const cases[] = {
		"", " \n", "[]", "\"a string\"", "1 ", "null", "true ",
		"{\"format\":1,}",		/* trailing comma */
		"{\"format\":1 /* c */}",	/* comment */
		"{format:1}",
		"{\"format\":01}",
		"\xef\xbb\xbf{}",		/* BOM */
		DOC(TOP, IMG) "x",		/* trailing garbage */
		DOC(TOP, IMG) "{}",
		DOC(TOP, IMG) " \n ]",
		/* invalid UTF-8: stray byte, overlong NUL and '/', surrogate,
		 * beyond U+10FFFF, truncated sequence */
		DOC(TOP ",\"description\":\"\xff\"", IMG),
		DOC(TOP ",\"description\":\"\xc0\x80\"", IMG),
		DOC(TOP ",\"description\":\"\xe0\x80\xaf\"", IMG),
		DOC(TOP ",\"description\":\"\xed\xa0\x80\"", IMG),
		DOC(TOP ",\"description\":\"\xf4\x90\x80\x80\"", IMG),
		DOC(TOP ",\"description\":\"\xe2\x82\"", IMG),
		DOC(TOP, IMG) "\xc3",
		"{\"version\xfe\":1}",
	};
#define WITH_LEN(s) { s, sizeof(s) - 1 }
	static const struct { const char *json; size_t len; } nul_docs[] = {
		WITH_LEN("{\"format\":1,\0\"version\":\"1\"}"),
		WITH_LEN(DOC(TOP ",\"description\":\"a\0b\"", IMG)),
		WITH_LEN(DOC(TOP, IMG) "\0"),
	};
#undef WITH_LEN
	const char *ok = DOC(TOP, IMG);
	struct manifest *m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_bad(cases[i], "bad_json", NULL);
	for (size_t i = 0; i < sizeof(nul_docs) / sizeof(nul_docs[0]); i++) {
		struct su_error err = { 0 };

		/* refused for the NUL, not for where json-c stops reading */
		assert_int_equal(parse_n(nul_docs[i].json, nul_docs[i].len, &m,
					 &err), SU_ERR_BAD_MANIFEST);
		assert_string_equal(err.detail, "bad_json");
		assert_non_null(strstr(err.message, "NUL byte at offset"));
		assert_null(m);
	}
	/* every proper prefix is truncated JSON */
	for (size_t len = 0; len < strlen(ok); len++)
		expect_bad_n(ok, len, "bad_json", NULL);
	/* trailing whitespace is fine, and so is valid multi-byte UTF-8 */
	manifest_free(parse_ok(DOC(TOP, IMG) " \t\r\n"));
	m = parse_ok(DOC(TOP ",\"description\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", IMG));
	assert_string_equal(m->description, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	manifest_free(m);
}

static void test_bad_format(void **state)
{
	(void)state;
	expect_bad("{\"format\":2,\"version\":\"1\"}", "bad_format", "format");
	expect_bad(DOC("\"format\":0,\"version\":\"1\",\"compatible\":[\"a\"]", IMG),
		   "bad_format", "format");
	expect_bad("{\"format\":-1}", "bad_format", "format");
	expect_bad("{\"format\":18446744073709551617}", "bad_format", "format");
}

static void test_missing_field(void **state)
{
	static const struct bad_case cases[] = {
		{ "{}", "format" },
		{ "{\"images\":[]}", "format" },
		{ DOC("\"format\":1,\"compatible\":[\"a\"]", IMG), "version" },
		{ DOC("\"format\":1,\"version\":\"1\"", IMG), "compatible" },
		{ "{" TOP "}", "images" },
		{ DOC_IMG("\"size\":1,\"sha256\":\"" SHA_LO "\",\"type\":\"ubi\",\"target\":\"t\""),
		  "images[0].file" },
		{ DOC_IMG("\"file\":\"f\",\"sha256\":\"" SHA_LO "\",\"type\":\"ubi\",\"target\":\"t\""),
		  "images[0].size" },
		{ DOC_IMG("\"file\":\"f\",\"size\":1,\"type\":\"ubi\",\"target\":\"t\""),
		  "images[0].sha256" },
		{ DOC_IMG("\"file\":\"f\",\"size\":1,\"sha256\":\"" SHA_LO "\",\"target\":\"t\""),
		  "images[0].type" },
		{ DOC_IMG("\"file\":\"f\",\"size\":1,\"sha256\":\"" SHA_LO "\",\"type\":\"ubi\""),
		  "images[0].target" },
		{ DOC(TOP, IMG ",{\"file\":\"k\"}"), "images[1].size" },
	};

	(void)state;
	EXPECT_ALL_BAD(cases, "missing_field");
}

static void test_bad_field_type(void **state)
{
	static const struct bad_case cases[] = {
		{ "{\"format\":\"1\"}", "format" },
		{ "{\"format\":1.0}", "format" },
		{ "{\"format\":true}", "format" },
		{ "{\"format\":null}", "format" },
		{ DOC("\"format\":1,\"version\":2,\"compatible\":[\"a\"]", IMG), "version" },
		{ DOC("\"format\":1,\"version\":\"1\",\"compatible\":\"a\"", IMG), "compatible" },
		{ DOC("\"format\":1,\"version\":\"1\",\"compatible\":[\"a\",7]", IMG),
		  "compatible[1]" },
		{ DOC(TOP ",\"description\":5", IMG), "description" },
		{ DOC(TOP ",\"description\":null", IMG), "description" },
		{ "{" TOP ",\"images\":{}}", "images" },
		{ DOC(TOP, IMG ",[]"), "images[1]" },
		{ DOC_IMG(IMAGE("7", "1", Q(SHA_LO), Q("ubi"), Q("t"))),
		  "images[0].file" },
		{ DOC_IMG(IMAGE(Q("f"), "1.5", Q(SHA_LO), Q("ubi"), Q("t"))),
		  "images[0].size" },
		{ DOC_IMG(IMAGE(Q("f"), "1e3", Q(SHA_LO), Q("ubi"), Q("t"))),
		  "images[0].size" },
		{ DOC_IMG(IMAGE(Q("f"), Q("10"), Q(SHA_LO), Q("ubi"), Q("t"))),
		  "images[0].size" },
		{ DOC_IMG(IMAGE(Q("f"), "1", "[]", Q("ubi"), Q("t"))),
		  "images[0].sha256" },
		{ DOC_IMG(IMAGE(Q("f"), "1", Q(SHA_LO), "1", Q("t"))),
		  "images[0].type" },
		{ DOC_IMG(IMAGE(Q("f"), "1", Q(SHA_LO), Q("ubi"), "{}")),
		  "images[0].target" },
		{ DOC_IMG(IMG_FIELDS("f") ",\"compression\":false"), "images[0].compression" },
		{ DOC_IMG(IMG_FIELDS("f") ",\"compression\":\"gzip\",\"installed_size\":\"9\""),
		  "images[0].installed_size" },
		{ DOC(TOP ",\"bootenv\":[]", IMG), "bootenv" },
		{ DOC(TOP ",\"bootenv\":{\"a\":\"1\",\"b\":1}", IMG), "bootenv.b" },
		{ DOC(TOP ",\"bootenv\":{\"a\":null}", IMG), "bootenv.a" },
	};

	(void)state;
	EXPECT_ALL_BAD(cases, "bad_field_type");
}

static void test_bad_hex(void **state)
{
#define SHA_CASE(sha) { DOC_IMG(IMAGE(Q("f"), "1", Q(sha), Q("ubi"), Q("t"))), \
			"images[0].sha256" }
	static const struct bad_case cases[] = {
		SHA_CASE(""),
		SHA_CASE(SHA_LO "0"),
		SHA_CASE("g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
		SHA_CASE("0011223344556677889900112233445566778899 0112233445566778899aabb"),
		SHA_CASE("\\u00000112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
	};
#undef SHA_CASE
	struct su_error err = { 0 };
	struct manifest *m = NULL;
	const char *doc = DOC(TOP, IMG ",{" IMAGE(Q("k"), "1",
		Q("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"),
		Q("mtd"), Q("kernel")) "}");

	(void)state;
	assert_int_equal(parse_n(doc, strlen(doc), &m, &err), SU_ERR_BAD_MANIFEST);
	assert_string_equal(err.detail, "bad_hex");
	assert_string_equal(err.message,
		"manifest: images[1].sha256: expected 64 hex digits, got 63 characters");

	EXPECT_ALL_BAD(cases, "bad_hex");
}

static void test_duplicate_file(void **state)
{
	(void)state;
	expect_bad(DOC(TOP, IMG "," IMG), "duplicate_file", "images[1].file");
	expect_bad(DOC(TOP, "{" IMG_FIELDS("a") "},{" IMG_FIELDS("b") "},{"
		       IMG_FIELDS("a") "}"), "duplicate_file", "images[2].file");
	/* names differ by case only: two files */
	manifest_free(parse_ok(DOC(TOP, "{" IMG_FIELDS("a") "},{" IMG_FIELDS("A") "}")));
}

static void test_bad_name(void **state)
{
	static const char *const docs[] = {
		DOC_IMG(IMG_FIELDS("manifest.json")),
		DOC_IMG(IMG_FIELDS("manifest.json.sig")),
		DOC_IMG(IMG_FIELDS("")),
		DOC_IMG(IMG_FIELDS(".")),
		DOC_IMG(IMG_FIELDS("..")),
		DOC_IMG(IMG_FIELDS("../etc/passwd")),
		DOC_IMG(IMG_FIELDS("dir/file")),
		DOC_IMG(IMG_FIELDS("/abs")),
		DOC_IMG(IMG_FIELDS("with space")),
		DOC_IMG(IMG_FIELDS("nul\\u0000after")),
		DOC_IMG(IMG_FIELDS("caf\xc3\xa9")),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_bad(docs[i], "bad_name", "images[0].file");
}

static void test_bad_type(void **state)
{
	static const char *const types[] = { "raw", "UBI", "", "ubi\\u0000x" };
	char doc[512];

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(doc, sizeof(doc), DOC_IMG(IMAGE(Q("f"), "1", Q(SHA_LO),
			 Q("%s"), Q("t"))), types[i]);
		expect_bad(doc, "bad_type", "images[0].type");
	}
	assert_true(image_type_known("mtd"));
	assert_true(image_type_known("ubi"));
	assert_true(image_type_known("ext4"));
	assert_true(image_type_known("tar"));
	assert_false(image_type_known("ext3"));
	assert_false(image_type_known(""));
	assert_false(image_type_known(NULL));
}

static void test_bad_compression(void **state)
{
	(void)state;
	expect_bad(DOC_IMG(IMG_FIELDS("f") ",\"compression\":\"bzip2\",\"installed_size\":1"),
		   "bad_compression", "images[0].compression");
	expect_bad(DOC_IMG(IMG_FIELDS("f") ",\"compression\":\"\""),
		   "bad_compression", "images[0].compression");
	expect_bad(DOC_IMG(IMG_FIELDS("f") ",\"compression\":\"Gzip\""),
		   "bad_compression", "images[0].compression");
}

static void test_missing_installed_size(void **state)
{
	(void)state;
	expect_bad(DOC_IMG(IMG_FIELDS("f") ",\"compression\":\"gzip\""),
		   "missing_installed_size", "images[0].installed_size");
	expect_bad(DOC(TOP, IMG ",{" IMG_FIELDS("g") ",\"compression\":\"zstd\"}"),
		   "missing_installed_size", "images[1].installed_size");
}

static void test_bad_value(void **state)
{
	static const struct bad_case cases[] = {
		{ DOC("\"format\":1,\"version\":\"\",\"compatible\":[\"a\"]", IMG), "version" },
		{ DOC("\"format\":1,\"version\":\"1.0\\n\",\"compatible\":[\"a\"]", IMG), "version" },
		{ DOC("\"format\":1,\"version\":\"1\\u0000\",\"compatible\":[\"a\"]", IMG), "version" },
		{ DOC("\"format\":1,\"version\":\"1\x7f\",\"compatible\":[\"a\"]", IMG), "version" },
		{ DOC("\"format\":1,\"version\":\""
		      "12345678901234567890123456789012345678901234567890123456789012345"
		      "\",\"compatible\":[\"a\"]", IMG), "version" },
		{ DOC("\"format\":1,\"version\":\"1\",\"compatible\":[]", IMG), "compatible" },
		{ DOC("\"format\":1,\"version\":\"1\",\"compatible\":[\"a\",\"\"]", IMG),
		  "compatible[1]" },
		{ DOC("\"format\":1,\"version\":\"1\",\"compatible\":[\"a\\tb\"]", IMG),
		  "compatible[0]" },
		{ DOC("\"format\":1,\"version\":\"1\",\"compatible\":[\""
		      "1234567890123456789012345678901234567890123456789012345678901234"
		      "12345678901234567890123456789012345678901234567890123456789012345"
		      "\"]", IMG), "compatible[0]" },
		{ DOC(TOP ",\"description\":\"a\\u0000b\"", IMG), "description" },
		{ DOC(TOP, ""), "images" },
		{ DOC_IMG(IMAGE(Q("f"), "-1", Q(SHA_LO), Q("ubi"), Q("t"))),
		  "images[0].size" },
		{ DOC_IMG(IMAGE(Q("f"), "9223372036854775808", Q(SHA_LO), Q("ubi"), Q("t"))),
		  "images[0].size" },
		{ DOC_IMG(IMAGE(Q("f"), "99999999999999999999999", Q(SHA_LO), Q("ubi"), Q("t"))),
		  "images[0].size" },
		{ DOC_IMG(IMAGE(Q("f"), "1", Q(SHA_LO), Q("ubi"), Q(""))),
		  "images[0].target" },
		{ DOC_IMG(IMAGE(Q("f"), "1", Q(SHA_LO), Q("ubi"), Q("/dev/mtd0"))),
		  "images[0].target" },
		{ DOC_IMG(IMAGE(Q("f"), "1", Q(SHA_LO), Q("ubi"),
			  Q("12345678901234567890123456789012345678901234567890123456789012345"))),
		  "images[0].target" },
		{ DOC_IMG(IMG_FIELDS("f") ",\"installed_size\":11"), "images[0].installed_size" },
		{ DOC_IMG(IMG_FIELDS("f") ",\"compression\":\"none\",\"installed_size\":9"),
		  "images[0].installed_size" },
		{ DOC_IMG(IMG_FIELDS("f") ",\"compression\":\"xz\",\"installed_size\":-5"),
		  "images[0].installed_size" },
		{ DOC(TOP ",\"bootenv\":{\"\":\"x\"}", IMG), "bootenv" },
		{ DOC(TOP ",\"bootenv\":{\"a=b\":\"x\"}", IMG), "bootenv.a=b" },
		{ DOC(TOP ",\"bootenv\":{\"a\\nb\":\"x\"}", IMG), "bootenv" },
		{ DOC(TOP ",\"bootenv\":{\"a\":\"x\\u0000y\"}", IMG), "bootenv.a" },
	};

	(void)state;
	EXPECT_ALL_BAD(cases, "bad_value");
}

/* 64 entries in compatible, images and bootenv are fine; 65 are not. */
static void test_list_limits(void **state)
{
	static const struct { const char *key, *open, *close, *entry; } lists[] = {
		{ "compatible", "[", "]", "\"board-%zu\"" },
		{ "images", "[", "]", "{" IMG_FIELDS("p%zu") "}" },
		{ "bootenv", "{", "}", "\"var%zu\":\"v\"" },
	};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char *ok = many(lists[i].key, 64, lists[i].open, lists[i].close,
				lists[i].entry);
		char *over = many(lists[i].key, 65, lists[i].open,
				  lists[i].close, lists[i].entry);
		struct manifest *m = parse_ok(ok);

		assert_int_equal(i == 0 ? m->n_compatible : i == 1 ?
				 m->n_images : m->n_bootenv, 64);
		manifest_free(m);
		expect_bad(over, "bad_value", lists[i].key);
		free(ok);
		free(over);
	}
}

static void test_payload_name_valid(void **state)
{
	char name[PAYLOAD_NAME_MAX + 2];

	(void)state;
	assert_true(payload_name_valid("rootfs.ubifs"));
	assert_true(payload_name_valid("a"));
	assert_true(payload_name_valid("..."));
	assert_true(payload_name_valid(".hidden"));
	assert_true(payload_name_valid("A-Z_0.9"));
	assert_false(payload_name_valid(""));
	assert_false(payload_name_valid("."));
	assert_false(payload_name_valid(".."));
	assert_false(payload_name_valid("a/b"));
	assert_false(payload_name_valid("/a"));
	assert_false(payload_name_valid("a/"));
	assert_false(payload_name_valid("../a"));
	assert_false(payload_name_valid("a b"));
	assert_false(payload_name_valid(" a"));
	assert_false(payload_name_valid("a\tb"));
	assert_false(payload_name_valid("a\\b"));
	assert_false(payload_name_valid("caf\xc3\xa9"));
	assert_false(payload_name_valid(NULL));

	memset(name, 'n', PAYLOAD_NAME_MAX);
	name[PAYLOAD_NAME_MAX] = '\0';
	assert_true(payload_name_valid(name));
	name[PAYLOAD_NAME_MAX] = 'n';
	name[PAYLOAD_NAME_MAX + 1] = '\0';
	assert_false(payload_name_valid(name));
}

static void test_find_image(void **state)
{
	struct manifest *m = parse_ok(full_example);

	(void)state;
	assert_ptr_equal(manifest_find_image(m, "kernel.bin"), &m->images[1]);
	assert_ptr_equal(manifest_find_image(m, "rootfs.ubifs"), &m->images[0]);
	assert_null(manifest_find_image(m, "kernel"));
	assert_null(manifest_find_image(m, "KERNEL.BIN"));
	assert_null(manifest_find_image(m, ""));
	assert_null(manifest_find_image(m, NULL));
	assert_null(manifest_find_image(NULL, "kernel.bin"));
	manifest_free(m);
	manifest_free(NULL);
}

static void assert_manifest_equal(const struct manifest *a,
				  const struct manifest *b)
{
	assert_int_equal(a->format, b->format);
	assert_string_equal(a->version, b->version);
	assert_int_equal(a->n_compatible, b->n_compatible);
	for (size_t i = 0; i < a->n_compatible; i++)
		assert_string_equal(a->compatible[i], b->compatible[i]);
	if (a->description || b->description) {
		assert_non_null(a->description);
		assert_non_null(b->description);
		assert_string_equal(a->description, b->description);
	}
	assert_int_equal(a->n_images, b->n_images);
	for (size_t i = 0; i < a->n_images; i++) {
		const struct manifest_image *x = &a->images[i], *y = &b->images[i];

		assert_string_equal(x->file, y->file);
		assert_int_equal(x->size, y->size);
		assert_memory_equal(x->sha256, y->sha256, DIGEST_LEN);
		assert_string_equal(x->type, y->type);
		assert_string_equal(x->target, y->target);
		assert_int_equal(x->compression, y->compression);
		assert_int_equal(x->installed_size, y->installed_size);
	}
	assert_int_equal(a->n_bootenv, b->n_bootenv);
	for (size_t i = 0; i < a->n_bootenv; i++) {
		assert_string_equal(a->bootenv[i].key, b->bootenv[i].key);
		assert_string_equal(a->bootenv[i].value, b->bootenv[i].value);
	}
}

static void round_trip(const char *json)
{
	struct manifest *m = parse_ok(json), *again;
	char *out = manifest_to_json(m), *out2;

	assert_non_null(out);
	again = parse_ok(out);
	assert_manifest_equal(m, again);
	/* the serialisation is canonical: a second round changes nothing */
	out2 = manifest_to_json(again);
	assert_non_null(out2);
	assert_string_equal(out, out2);
	free(out2);
	free(out);
	manifest_free(again);
	manifest_free(m);
}

static void test_round_trip(void **state)
{
	struct manifest *m = parse_ok(full_example);
	char *out = manifest_to_json(m);

	(void)state;
	assert_non_null(out);
	/* compact, lower-case hex, defaults spelt out */
	assert_null(strchr(out, '\n'));
	assert_null(strstr(out, "\": "));
	assert_non_null(strstr(out, "\"sha256\":\"" SHA_LO "\""));
	assert_null(strstr(out, SHA_UP));
	assert_non_null(strstr(out, "\"file\":\"kernel.bin\",\"size\":4194304,"));
	assert_non_null(strstr(out, "\"compression\":\"none\",\"installed_size\":4194304}"));
	assert_non_null(strstr(out, "\"bootenv\":{\"boot_version\":\"2.1.0\","));
	assert_null(strstr(out, "future_field"));
	assert_int_equal(strncmp(out, "{\"format\":1,\"version\":\"2.1.0\",", 30), 0);
	free(out);
	manifest_free(m);

	round_trip(full_example);
	round_trip(DOC(TOP, IMG));
	round_trip(DOC(TOP ",\"description\":\"quote \\\" slash / back \\\\ tab \\t \xe2\x82\xac\","
		       "\"bootenv\":{\"k\":\"\"}",
		       "{" IMG_FIELDS("a.gz") ",\"compression\":\"gzip\",\"installed_size\":100},"
		       "{" IMG_FIELDS("b.zst") ",\"compression\":\"zstd\",\"installed_size\":9223372036854775807}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_bad_format),
		cmocka_unit_test(test_missing_field),
		cmocka_unit_test(test_bad_field_type),
		cmocka_unit_test(test_bad_hex),
		cmocka_unit_test(test_duplicate_file),
		cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_bad_compression),
		cmocka_unit_test(test_missing_installed_size),
		cmocka_unit_test(test_bad_value),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_payload_name_valid),
		cmocka_unit_test(test_find_image),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
