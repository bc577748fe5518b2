/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bundle reader must give the same verdict, and the same payload
 * bytes and offsets, however the stream is chunked. Bundles are built
 * at test time: keys and signature by sysupgrade-format, the container by
 * GNU tar, as a user following the README would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle_reader.h"
#include "digest_thread.h"
#include "signature.h"

extern char **environ;

struct fixture {
	char dir[64];
	struct keyring *keys;
	unsigned char *good;	/* a valid bundle */
	size_t good_len;
};

static struct fixture fx;

/* What the ops saw: a digest over every payload byte and event. */
struct trace {
	struct digest d;
	unsigned verified, begins, ends;
	uint64_t offsets[4];
};

static char *path_in(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", fx.dir, name);
	return buf[i];
}

static void run(char *const argv[])
{
	pid_t pid;
	int status;

	assert_int_equal(posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size + 1);	/* NUL-terminated for text files */
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = st.st_size;
	return buf;
}

static void make_payload(const char *name, size_t len, unsigned seed,
			 char hex[DIGEST_HEX_LEN + 1])
{
	unsigned char *buf = malloc(len ? len : 1);
	uint8_t d[DIGEST_LEN];

	assert_non_null(buf);
	srand(seed);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)rand();
	write_file(path_in(name), buf, len);
	digest_buf(buf, len, d);
	digest_to_hex(d, hex);
	free(buf);
}

/* Sign manifest.json in the fixture dir and tar it up with the payloads. */
static unsigned char *make_bundle(const char *manifest, const char *format,
				  size_t *len)
{
	unsigned char *sig;
	size_t sig_len;
	struct su_error err;
	char fmt[32];

	write_file(path_in("manifest.json"), manifest, strlen(manifest));
	assert_int_equal(signature_sign(path_in("key.pem"), manifest,
					strlen(manifest), &sig, &sig_len, &err),
			 SU_OK);
	write_file(path_in("manifest.json.sig"), sig, sig_len);
	free(sig);
	snprintf(fmt, sizeof(fmt), "--format=%s", format);
	run((char *[]){ "tar", "-C", fx.dir, fmt, "-cf", path_in("b.tar"),
			"manifest.json", "manifest.json.sig", "rootfs.img",
			"kernel.bin", NULL });
	return read_file(path_in("b.tar"), len);
}

static char *test_manifest_json(const char *rootfs_hex, size_t rootfs_len,
			   const char *kernel_hex, size_t kernel_len)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"format\":1,\"version\":\"2.1.0\","
		 "\"compatible\":[\"acme,router-x1\"],"
		 "\"images\":["
		 "{\"file\":\"rootfs.img\",\"size\":%zu,\"sha256\":\"%s\","
		 "\"type\":\"ext4\",\"target\":\"rootfs\"},"
		 "{\"file\":\"kernel.bin\",\"size\":%zu,\"sha256\":\"%s\","
		 "\"type\":\"mtd\",\"target\":\"kernel\"}]}",
		 rootfs_len, rootfs_hex, kernel_len, kernel_hex);
	return buf;
}

static int setup(void **state)
{
	char rootfs_hex[DIGEST_HEX_LEN + 1], kernel_hex[DIGEST_HEX_LEN + 1];
	struct su_error err;

	(void)state;
	strcpy(fx.dir, "/tmp/su-test-br-XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	assert_int_equal(mkdir(path_in("keys"), 0755), 0);
	assert_int_equal(signature_keygen(path_in("key.pem"),
					  path_in("keys/key.pub.pem"), &err),
			 SU_OK);
	assert_int_equal(keyring_load_dir(path_in("keys"), &fx.keys, &err),
			 SU_OK);
	make_payload("rootfs.img", 200000, 1, rootfs_hex);
	make_payload("kernel.bin", 4097, 2, kernel_hex);
	fx.good = make_bundle(test_manifest_json(rootfs_hex, 200000,
					    kernel_hex, 4097),
			      "gnu", &fx.good_len);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	run((char *[]){ "rm", "-rf", fx.dir, NULL });
	keyring_free(fx.keys);
	free(fx.good);
	return 0;
}

static enum su_err t_verified(void *ctx, const struct manifest *m,
			      const char *key, struct su_error *err)
{
	struct trace *t = ctx;

	(void)err;
	assert_string_equal(key, "key.pub.pem");
	assert_int_equal(m->n_images, 2);
	t->verified++;
	return SU_OK;
}

static enum su_err t_begin(void *ctx, const struct manifest_image *img,
			   uint64_t offset, struct su_error *err)
{
	struct trace *t = ctx;

	(void)err;
	digest_update(&t->d, img->file, strlen(img->file));
	t->offsets[t->begins++ % 4] = offset;
	return SU_OK;
}

static enum su_err t_data(void *ctx, const void *buf, size_t len,
			  struct su_error *err)
{
	struct trace *t = ctx;

	(void)err;
	digest_update(&t->d, buf, len);
	return SU_OK;
}

static enum su_err t_end(void *ctx, const struct manifest_image *img,
			 struct su_error *err)
{
	struct trace *t = ctx;

	(void)img;
	(void)err;
	t->ends++;
	return SU_OK;
}

static const struct bundle_reader_ops trace_ops = {
	.verified = t_verified,
	.payload_begin = t_begin,
	.payload_data = t_data,
	.payload_end = t_end,
};

struct result {
	enum su_err rc;
	enum bundle_reader_stage stage;
	struct trace trace;
	uint8_t trace_sha[DIGEST_LEN];
	uint8_t bundle_sha[DIGEST_LEN];
	char message[512];
};

/* Feed @buf in chunks: 0 = whole, 1 = byte by byte, else random sizes
 * up to @chunking. */
static void feed(const unsigned char *buf, size_t len, size_t chunking,
		 const struct bundle_policy *pol, struct result *r)
{
	struct bundle_reader *br;
	struct su_error err = { 0 };
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	digest_init(&r->trace.d);
	br = bundle_reader_new(pol, &trace_ops, &r->trace);
	assert_non_null(br);
	srand(42);
	r->rc = SU_OK;
	while (off < len && !r->rc) {
		size_t n = len - off;

		if (chunking == 1)
			n = 1;
		else if (chunking > 1 && n > chunking)
			n = 1 + (size_t)rand() % chunking;
		r->rc = bundle_reader_feed(br, buf + off, n, &err);
		off += n;
	}
	if (!r->rc)
		r->rc = bundle_reader_finish(br, &err);
	r->stage = bundle_reader_stage(br);
	digest_final(&r->trace.d, r->trace_sha);
	bundle_reader_sha256(br, r->bundle_sha);
	if (r->rc)
		memcpy(r->message, err.message, sizeof(r->message));
	bundle_reader_free(br);
}

static void assert_same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->rc, b->rc);
	assert_int_equal(a->stage, b->stage);
	assert_string_equal(a->message, b->message);
	assert_int_equal(a->trace.verified, b->trace.verified);
	assert_int_equal(a->trace.begins, b->trace.begins);
	assert_int_equal(a->trace.ends, b->trace.ends);
	assert_memory_equal(a->trace.offsets, b->trace.offsets,
			    sizeof(a->trace.offsets));
	assert_memory_equal(a->trace_sha, b->trace_sha, DIGEST_LEN);
}

/* Whole, byte-by-byte and random chunks agree; returns the verdict. */
static enum su_err check_chunkings(const unsigned char *buf, size_t len,
				   const struct bundle_policy *pol)
{
	static const size_t chunkings[] = { 1, 7, 512, 4096, 65536 };
	struct result whole, other;

	feed(buf, len, 0, pol, &whole);
	for (size_t i = 0; i < sizeof(chunkings) / sizeof(chunkings[0]); i++) {
		feed(buf, len, chunkings[i], pol, &other);
		assert_same(&whole, &other);
	}
	return whole.rc;
}

static const struct bundle_policy *policy(void)
{
	static struct bundle_policy pol;

	pol.keys = fx.keys;
	pol.compatible = "acme,router-x1";
	pol.current_version = "2.0.0";
	pol.force = false;
	return &pol;
}

static void test_good_bundle(void **state)
{
	struct result r;
	uint8_t file_sha[DIGEST_LEN];

	(void)state;
	assert_int_equal(check_chunkings(fx.good, fx.good_len, policy()), SU_OK);
	feed(fx.good, fx.good_len, 0, policy(), &r);
	assert_int_equal(r.stage, BUNDLE_COMPLETE);
	assert_int_equal(r.trace.verified, 1);
	assert_int_equal(r.trace.begins, 2);
	assert_int_equal(r.trace.ends, 2);
	/* offsets point at the payload bytes in the file */
	assert_true(r.trace.offsets[0] % 512 == 0 && r.trace.offsets[0] > 0);
	digest_buf(fx.good, fx.good_len, file_sha);
	assert_memory_equal(r.bundle_sha, file_sha, DIGEST_LEN);
}

static void test_payload_offsets(void **state)
{
	struct bundle_reader *br;
	struct su_error err;
	const struct bundle_payload *p;
	size_t len;
	unsigned char *rootfs = read_file(path_in("rootfs.img"), &len);

	(void)state;
	br = bundle_reader_new(policy(), NULL, NULL);
	assert_int_equal(bundle_reader_feed(br, fx.good, fx.good_len, &err), SU_OK);
	assert_int_equal(bundle_reader_finish(br, &err), SU_OK);
	p = bundle_reader_payloads(br);
	assert_non_null(p);
	assert_string_equal(p[0].image->file, "rootfs.img");
	assert_true(p[0].seen && p[1].seen);
	assert_memory_equal(fx.good + p[0].offset, rootfs, len);
	assert_string_equal(bundle_reader_key_name(br), "key.pub.pem");
	assert_string_equal(bundle_reader_manifest(br)->version, "2.1.0");
	bundle_reader_free(br);
	free(rootfs);
}

static void test_other_tar_formats(void **state)
{
	static const char *const formats[] = { "pax", "ustar", "v7", "gnu" };
	size_t mlen, len;
	char *manifest = (char *)read_file(path_in("manifest.json"), &mlen);

	(void)state;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		unsigned char *b = make_bundle(manifest, formats[i], &len);

		assert_int_equal(check_chunkings(b, len, policy()), SU_OK);
		free(b);
	}
	free(manifest);
}

static void expect(const unsigned char *buf, size_t len, enum su_err want)
{
	enum su_err got = check_chunkings(buf, len, policy());

	if (got != want)
		fail_msg("expected %s, got %s", su_err_name(want),
			 su_err_name(got));
}

static void test_flipped_bytes(void **state)
{
	unsigned char *b = malloc(fx.good_len);
	struct result r;

	(void)state;
	feed(fx.good, fx.good_len, 0, policy(), &r);

	/* in manifest.json (data starts at 512) */
	memcpy(b, fx.good, fx.good_len);
	b[512 + 20] ^= 0x01;
	expect(b, fx.good_len, SU_ERR_BAD_SIGNATURE);

	/* in each payload: first, middle and last byte */
	for (int i = 0; i < 2; i++) {
		uint64_t off = r.trace.offsets[i];
		size_t size = i == 0 ? 200000 : 4097;
		size_t where[] = { 0, size / 2, size - 1 };

		for (int j = 0; j < 3; j++) {
			memcpy(b, fx.good, fx.good_len);
			b[off + where[j]] ^= 0x80;
			expect(b, fx.good_len, SU_ERR_HASH_MISMATCH);
		}
	}
	free(b);
}

static void test_truncation(void **state)
{
	struct result r;
	size_t cuts[8];
	int n = 0;

	(void)state;
	feed(fx.good, fx.good_len, 0, policy(), &r);
	cuts[n++] = 100;			/* inside the first header */
	cuts[n++] = 512 + 10;			/* inside the manifest */
	cuts[n++] = 1024 + 600;			/* inside the signature */
	cuts[n++] = r.trace.offsets[0] + 1000;	/* inside payload 1 */
	cuts[n++] = r.trace.offsets[1] - 512;	/* at a header boundary */
	cuts[n++] = r.trace.offsets[1] + 4096;	/* inside payload 2 */
	cuts[n++] = r.trace.offsets[1] + 4608;	/* before the end marker */
	for (int i = 0; i < n; i++)
		expect(fx.good, cuts[i], SU_ERR_BAD_ARCHIVE);
	expect(fx.good, 0, SU_ERR_BAD_ARCHIVE);
}

static void test_policy_refusals(void **state)
{
	struct bundle_policy pol = *policy();
	struct result r;

	(void)state;
	pol.compatible = "acme,other";
	feed(fx.good, fx.good_len, 0, &pol, &r);
	assert_int_equal(r.rc, SU_ERR_INCOMPATIBLE);
	assert_int_equal(r.trace.verified, 0);

	pol = *policy();
	pol.current_version = "2.10";
	feed(fx.good, fx.good_len, 0, &pol, &r);
	assert_int_equal(r.rc, SU_ERR_DOWNGRADE);

	pol.force = true;
	pol.compatible = "acme,other";
	feed(fx.good, fx.good_len, 0, &pol, &r);
	assert_int_equal(r.rc, SU_OK);
}

/* The refusal comes right after the signature, not at the end. */
static void test_early_refusal(void **state)
{
	struct bundle_policy pol = *policy();
	struct bundle_reader *br;
	struct su_error err;
	struct result r;

	(void)state;
	feed(fx.good, fx.good_len, 0, policy(), &r);
	pol.compatible = "acme,other";
	br = bundle_reader_new(&pol, NULL, NULL);
	/* everything up to the first payload header */
	assert_int_equal(bundle_reader_feed(br, fx.good,
					    r.trace.offsets[0] - 512, &err),
			 SU_ERR_INCOMPATIBLE);
	assert_int_equal(bundle_reader_stage(br), BUNDLE_FAILED);
	/* and it sticks */
	assert_int_equal(bundle_reader_feed(br, fx.good, 1, &err),
			 SU_ERR_INCOMPATIBLE);
	assert_int_equal(bundle_reader_finish(br, &err), SU_ERR_INCOMPATIBLE);
	bundle_reader_free(br);
}

static enum su_err refuse_begin(void *ctx, const struct manifest_image *img,
				uint64_t offset, struct su_error *err)
{
	(void)ctx;
	(void)offset;
	return su_error_set(err, SU_ERR_NO_SPACE, "no room for %s", img->file);
}

static void test_callback_error(void **state)
{
	static const struct bundle_reader_ops ops = {
		.payload_begin = refuse_begin,
	};
	struct bundle_reader *br;
	struct su_error err;

	(void)state;
	br = bundle_reader_new(policy(), &ops, NULL);
	assert_int_equal(bundle_reader_feed(br, fx.good, fx.good_len, &err),
			 SU_ERR_NO_SPACE);
	assert_string_equal(err.message, "no room for rootfs.img");
	bundle_reader_free(br);
}

/* Pieces of random sizes through two buffers in turn, each rewritten as
 * soon as the rule allows: a thread still reading the other buffer
 * would hash the wrong bytes. */
static void test_digest_thread(void **state)
{
	enum { LEN = 3 << 20, MAXP = 300 * 1024 };
	unsigned char *src = malloc(LEN), *buf[2] = { malloc(MAXP), malloc(MAXP) };
	uint8_t want[DIGEST_LEN], got[DIGEST_LEN];
	struct digest_thread *dt;
	struct su_error err;
	size_t off = 0;
	unsigned i = 0, seed = 7;

	(void)state;
	assert_non_null(src);
	for (size_t k = 0; k < LEN; k++)
		src[k] = (unsigned char)rand_r(&seed);
	digest_buf(src, LEN, want);
	assert_int_equal(digest_thread_start(&dt, &err), SU_OK);
	while (off < LEN) {
		size_t n = 1 + (size_t)rand_r(&seed) % MAXP;

		if (n > LEN - off)
			n = LEN - off;
		memcpy(buf[i], src + off, n);
		digest_thread_feed(dt, buf[i], n);
		memset(buf[i ^ 1], 0xa5, MAXP);	/* the one the thread gave back */
		off += n;
		i ^= 1;
	}
	digest_thread_end(dt, got);
	assert_memory_equal(got, want, DIGEST_LEN);
	/* ended without a result, as a refused bundle ends it */
	assert_int_equal(digest_thread_start(&dt, &err), SU_OK);
	digest_thread_feed(dt, src, 4096);
	digest_thread_end(dt, NULL);
	digest_thread_end(NULL, NULL);
	free(src);
	free(buf[0]);
	free(buf[1]);
}

/* bundle_verify_file() hashes the bundle on a digest thread: its hash is
 * the file's, and a refused bundle ends that thread as well. */
static void test_verify_file(void **state)
{
	const char *path = path_in("verify.bundle");
	uint8_t file_sha[DIGEST_LEN], got[DIGEST_LEN];
	struct bundle_reader *br = NULL;
	struct su_error err;

	(void)state;
	write_file(path, fx.good, fx.good_len);
	assert_int_equal(bundle_verify_file(path, policy(), &br, &err), SU_OK);
	bundle_reader_sha256(br, got);
	digest_buf(fx.good, fx.good_len, file_sha);
	assert_memory_equal(got, file_sha, DIGEST_LEN);
	assert_int_equal(bundle_reader_bytes(br), fx.good_len);
	bundle_reader_free(br);
	write_file(path, fx.good, fx.good_len / 2);
	assert_int_not_equal(bundle_verify_file(path, policy(), NULL, &err), SU_OK);
	unlink(path);
}

/* A bundle over two of bundle_verify_file()'s map windows, whole and
 * cut inside the second: the mapped file and the read one agree. */
static void test_verify_windows(void **state)
{
	char rootfs_hex[DIGEST_HEX_LEN + 1], kernel_hex[DIGEST_HEX_LEN + 1];
	const size_t big = BUNDLE_MAP_WINDOW + 1048576 + 17;
	uint8_t mapped[DIGEST_LEN], in_read[DIGEST_LEN], want[DIGEST_LEN];
	struct bundle_reader *br = NULL;
	struct su_error err;
	unsigned char *b;
	size_t len;
	int fd;

	(void)state;
	make_payload("rootfs.img", big, 3, rootfs_hex);
	make_payload("kernel.bin", 4097, 2, kernel_hex);
	b = make_bundle(test_manifest_json(rootfs_hex, big, kernel_hex, 4097),
			"gnu", &len);
	digest_buf(b, len, want);
	assert_int_equal(bundle_verify_file(path_in("b.tar"), policy(), &br, &err),
			 SU_OK);
	bundle_reader_sha256(br, mapped);
	assert_int_equal(bundle_reader_bytes(br), len);
	bundle_reader_free(br);
	fd = open(path_in("b.tar"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(bundle_verify_fd(fd, "b.tar", policy(), &br, &err), SU_OK);
	close(fd);
	bundle_reader_sha256(br, in_read);
	bundle_reader_free(br);
	assert_memory_equal(mapped, want, DIGEST_LEN);
	assert_memory_equal(in_read, want, DIGEST_LEN);
	write_file(path_in("b.tar"), b, BUNDLE_MAP_WINDOW + 4096 + 100);
	assert_int_equal(bundle_verify_file(path_in("b.tar"), policy(), NULL, &err),
			 SU_ERR_BAD_ARCHIVE);
	free(b);
	unlink(path_in("b.tar"));
	unlink(path_in("rootfs.img"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_bundle),
		cmocka_unit_test(test_payload_offsets),
		cmocka_unit_test(test_other_tar_formats),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_policy_refusals),
		cmocka_unit_test(test_early_refusal),
		cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_digest_thread),
		cmocka_unit_test(test_verify_file),
		cmocka_unit_test(test_verify_windows),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
