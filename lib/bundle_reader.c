/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streaming verification of a bundle (docs/DESIGN.md §4). The tar container is
 * parsed by tar_stream; this file holds the bundle rules: which member
 * may come when, the signature, the policy and per-payload hashes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_reader.h"
#include "digest_thread.h"
#include "signature.h"
#include "tar_stream.h"
#include "version.h"

#define MAP_WINDOW	((off_t)BUNDLE_MAP_WINDOW)

struct bundle_reader {
	const struct bundle_policy *policy;
	const struct bundle_reader_ops *ops;
	void *ctx;
	struct tar_stream *tar;
	enum bundle_reader_stage stage;

	/* manifest.json and its signature, collected before verification */
	char *manifest_buf;
	size_t manifest_len;
	unsigned char sig_buf[SIGNATURE_MAX_SIZE];
	size_t sig_len;

	struct manifest *manifest;
	const char *key_name;
	struct bundle_payload *payloads;
	struct bundle_payload *current;	/* payload being streamed */
	struct digest payload_digest;

	struct digest bundle_digest;
	bool hash_elsewhere;	/* bundle_digest is not ours to update */
	uint64_t hashed;	/* bytes through our digests, for the log */
	uint8_t sum[DIGEST_LEN];	/* what the caller's hash gave */
	uint64_t bytes;
	struct su_error error;		/* first error, repeated afterwards */
};

static const char *type_name(char type)
{
	switch (type) {
	case '0': return "regular file";
	case '1': return "hard link";
	case '2': return "symbolic link";
	case '3': return "character device";
	case '4': return "block device";
	case '5': return "directory";
	case '6': return "FIFO";
	default: return "special member";
	}
}

static enum su_err want_manifest(struct bundle_reader *br,
				 const struct tar_member *m,
				 struct su_error *err)
{
	if (strcmp(m->name, MANIFEST_NAME) || m->type != '0')
		return su_error_set(err, SU_ERR_BAD_ARCHIVE,
			"first member is '%s' (%s); a bundle starts with %s",
			m->name, type_name(m->type), MANIFEST_NAME);
	if (m->size > MANIFEST_MAX_SIZE)
		return su_error_setd(err, SU_ERR_BAD_MANIFEST, "too_large",
			"%s is %llu bytes; at most %d allowed", MANIFEST_NAME,
			(unsigned long long)m->size, MANIFEST_MAX_SIZE);
	br->manifest_buf = malloc(m->size ? m->size : 1);
	if (!br->manifest_buf)
		return su_error_set(err, SU_ERR_NOMEM, "%s: %m", MANIFEST_NAME);
	return SU_OK;
}

static enum su_err want_signature(struct bundle_reader *br,
				  const struct tar_member *m,
				  struct su_error *err)
{
	(void)br;
	if (!strcmp(m->name, MANIFEST_NAME))
		return su_error_setd(err, SU_ERR_UNEXPECTED_MEMBER, "duplicate",
			"%s appears twice", MANIFEST_NAME);
	if (strcmp(m->name, MANIFEST_SIG_NAME) || m->type != '0')
		return su_error_setd(err, SU_ERR_BAD_SIGNATURE, "unsigned",
			"bundle is not signed: second member is '%s', expected %s",
			m->name, MANIFEST_SIG_NAME);
	if (m->size == 0 || m->size > SIGNATURE_MAX_SIZE)
		return su_error_set(err, SU_ERR_BAD_SIGNATURE,
			"%s is %llu bytes; a signature is 1 to %d bytes",
			MANIFEST_SIG_NAME, (unsigned long long)m->size,
			SIGNATURE_MAX_SIZE);
	return SU_OK;
}

static struct bundle_payload *find_payload(struct bundle_reader *br,
					   const char *name)
{
	for (size_t i = 0; i < br->manifest->n_images; i++)
		if (!strcmp(br->payloads[i].image->file, name))
			return &br->payloads[i];
	return NULL;
}

static enum su_err want_payload(struct bundle_reader *br,
				const struct tar_member *m,
				struct su_error *err)
{
	struct bundle_payload *p = find_payload(br, m->name);

	if (!p)
		return su_error_set(err, SU_ERR_UNEXPECTED_MEMBER,
			"member '%s' is not listed in the manifest", m->name);
	if (m->type != '0')
		return su_error_set(err, SU_ERR_UNEXPECTED_MEMBER,
			"member '%s' is a %s; payloads are regular files",
			m->name, type_name(m->type));
	if (p->seen)
		return su_error_setd(err, SU_ERR_UNEXPECTED_MEMBER, "duplicate",
			"payload '%s' appears twice", m->name);
	if (m->size != p->image->size)
		return su_error_set(err, SU_ERR_SIZE_MISMATCH,
			"payload '%s' is %llu bytes; the manifest says %llu",
			m->name, (unsigned long long)m->size,
			(unsigned long long)p->image->size);
	p->seen = true;
	p->offset = m->offset;
	br->current = p;
	digest_init(&br->payload_digest);
	if (br->ops && br->ops->payload_begin)
		return br->ops->payload_begin(br->ctx, p->image, p->offset, err);
	return SU_OK;
}

static enum su_err on_member(void *ctx, const struct tar_member *m,
			     struct su_error *err)
{
	struct bundle_reader *br = ctx;

	switch (br->stage) {
	case BUNDLE_WANT_MANIFEST:
		return want_manifest(br, m, err);
	case BUNDLE_WANT_SIGNATURE:
		return want_signature(br, m, err);
	case BUNDLE_VERIFIED:
		return want_payload(br, m, err);
	default:
		return su_error_set(err, SU_ERR_INTERNAL,
			"bundle reader: member '%s' after completion", m->name);
	}
}

static enum su_err on_data(void *ctx, const void *buf, size_t len,
			   struct su_error *err)
{
	struct bundle_reader *br = ctx;

	switch (br->stage) {
	case BUNDLE_WANT_MANIFEST:
		memcpy(br->manifest_buf + br->manifest_len, buf, len);
		br->manifest_len += len;
		return SU_OK;
	case BUNDLE_WANT_SIGNATURE:
		memcpy(br->sig_buf + br->sig_len, buf, len);
		br->sig_len += len;
		return SU_OK;
	default:
		digest_update(&br->payload_digest, buf, len);
		br->hashed += len;
		if (br->ops && br->ops->payload_data)
			return br->ops->payload_data(br->ctx, buf, len, err);
		return SU_OK;
	}
}

/* Signature first, then JSON: untrusted bytes never reach the parser. */
static enum su_err verify_manifest(struct bundle_reader *br,
				   struct su_error *err)
{
	const struct bundle_policy *pol = br->policy;
	enum su_err rc;

	rc = signature_verify(pol->keys, br->manifest_buf, br->manifest_len,
			      br->sig_buf, br->sig_len, &br->key_name, err);
	if (rc)
		return rc;
	rc = manifest_parse(br->manifest_buf, br->manifest_len,
			    &br->manifest, err);
	if (rc)
		return rc;
	rc = manifest_check_policy(br->manifest, pol->compatible,
				   pol->current_version, pol->force, err);
	if (rc)
		return rc;
	br->payloads = calloc(br->manifest->n_images, sizeof(*br->payloads));
	if (!br->payloads)
		return su_error_set(err, SU_ERR_NOMEM, "payload table: %m");
	for (size_t i = 0; i < br->manifest->n_images; i++)
		br->payloads[i].image = &br->manifest->images[i];
	br->stage = BUNDLE_VERIFIED;
	if (br->ops && br->ops->verified)
		return br->ops->verified(br->ctx, br->manifest, br->key_name,
					 err);
	return SU_OK;
}

static enum su_err end_payload(struct bundle_reader *br, struct su_error *err)
{
	const struct manifest_image *img = br->current->image;
	uint8_t got[DIGEST_LEN];
	char got_hex[DIGEST_HEX_LEN + 1], want_hex[DIGEST_HEX_LEN + 1];

	br->current = NULL;
	digest_final(&br->payload_digest, got);
	if (memcmp(got, img->sha256, DIGEST_LEN)) {
		digest_to_hex(got, got_hex);
		digest_to_hex(img->sha256, want_hex);
		return su_error_set(err, SU_ERR_HASH_MISMATCH,
			"payload '%s' has SHA-256 %s; the manifest says %s",
			img->file, got_hex, want_hex);
	}
	if (br->ops && br->ops->payload_end)
		return br->ops->payload_end(br->ctx, img, err);
	return SU_OK;
}

static enum su_err on_member_end(void *ctx, struct su_error *err)
{
	struct bundle_reader *br = ctx;

	switch (br->stage) {
	case BUNDLE_WANT_MANIFEST:
		br->stage = BUNDLE_WANT_SIGNATURE;
		return SU_OK;
	case BUNDLE_WANT_SIGNATURE:
		return verify_manifest(br, err);
	default:
		return end_payload(br, err);
	}
}

static const struct tar_stream_ops tar_ops = {
	.member = on_member,
	.data = on_data,
	.member_end = on_member_end,
};

struct bundle_reader *bundle_reader_new(const struct bundle_policy *policy,
					const struct bundle_reader_ops *ops,
					void *ctx)
{
	struct bundle_reader *br = calloc(1, sizeof(*br));

	if (!br)
		return NULL;
	br->tar = tar_stream_new(&tar_ops, br);
	if (!br->tar) {
		free(br);
		return NULL;
	}
	br->policy = policy;
	br->ops = ops;
	br->ctx = ctx;
	br->stage = BUNDLE_WANT_MANIFEST;
	digest_init(&br->bundle_digest);
	return br;
}

void bundle_reader_free(struct bundle_reader *br)
{
	if (!br)
		return;
	tar_stream_free(br->tar);
	free(br->manifest_buf);
	manifest_free(br->manifest);
	free(br->payloads);
	free(br);
}

static enum su_err fail(struct bundle_reader *br, enum su_err rc,
			struct su_error *err)
{
	br->stage = BUNDLE_FAILED;
	br->error = *err;
	br->error.code = rc;
	return rc;
}

static enum su_err failed(const struct bundle_reader *br, struct su_error *err)
{
	if (err)
		*err = br->error;
	return br->error.code;
}

enum su_err bundle_reader_feed(struct bundle_reader *br, const void *buf,
			       size_t len, struct su_error *err)
{
	struct su_error local;
	enum su_err rc;

	if (br->stage == BUNDLE_FAILED)
		return failed(br, err);
	if (!err)
		err = &local;
	if (!br->hash_elsewhere) {
		digest_update(&br->bundle_digest, buf, len);
		br->hashed += len;
	}
	br->bytes += len;
	rc = tar_stream_feed(br->tar, buf, len, err);
	return rc ? fail(br, rc, err) : SU_OK;
}

static enum su_err check_complete(struct bundle_reader *br,
				  struct su_error *err)
{
	switch (br->stage) {
	case BUNDLE_WANT_MANIFEST:
		return su_error_set(err, SU_ERR_BAD_ARCHIVE,
				    "archive holds no %s", MANIFEST_NAME);
	case BUNDLE_WANT_SIGNATURE:
		return su_error_setd(err, SU_ERR_BAD_SIGNATURE, "unsigned",
			"bundle is not signed: no %s", MANIFEST_SIG_NAME);
	default:
		break;
	}
	for (size_t i = 0; i < br->manifest->n_images; i++)
		if (!br->payloads[i].seen)
			return su_error_set(err, SU_ERR_MISSING_PAYLOAD,
				"payload '%s' is listed in the manifest but not in the bundle",
				br->payloads[i].image->file);
	return SU_OK;
}

enum su_err bundle_reader_finish(struct bundle_reader *br,
				 struct su_error *err)
{
	struct su_error local;
	enum su_err rc;

	if (br->stage == BUNDLE_FAILED)
		return failed(br, err);
	if (br->stage == BUNDLE_COMPLETE)
		return SU_OK;
	if (!err)
		err = &local;
	rc = tar_stream_finish(br->tar, err);
	if (!rc)
		rc = check_complete(br, err);
	if (rc)
		return fail(br, rc, err);
	br->stage = BUNDLE_COMPLETE;
	return SU_OK;
}

enum bundle_reader_stage bundle_reader_stage(const struct bundle_reader *br)
{
	return br->stage;
}

const struct manifest *bundle_reader_manifest(const struct bundle_reader *br)
{
	return br->payloads ? br->manifest : NULL;
}

const char *bundle_reader_key_name(const struct bundle_reader *br)
{
	return br->payloads ? br->key_name : NULL;
}

const struct bundle_payload *bundle_reader_payloads(const struct bundle_reader *br)
{
	return br->payloads;
}

void bundle_reader_sha256(const struct bundle_reader *br, uint8_t out[DIGEST_LEN])
{
	struct digest copy = br->bundle_digest;

	if (br->hash_elsewhere)
		memcpy(out, br->sum, DIGEST_LEN);
	else
		digest_final(&copy, out);
}

void bundle_reader_hash_elsewhere(struct bundle_reader *br)
{
	br->hash_elsewhere = true;
}

void bundle_reader_set_sha256(struct bundle_reader *br,
			      const uint8_t sum[DIGEST_LEN])
{
	memcpy(br->sum, sum, DIGEST_LEN);
}

uint64_t bundle_reader_hashed(const struct bundle_reader *br)
{
	return br->hashed;
}

uint64_t bundle_reader_bytes(const struct bundle_reader *br)
{
	return br->bytes;
}

/* Read @fd to its end into @br, the bundle's hash on @dt: two buffers
 * in turn, so that one is hashed while the other is read and parsed. */
static enum su_err feed_read(int fd, const char *path, struct bundle_reader *br,
			     struct digest_thread *dt, struct su_error *err)
{
	enum { CHUNK = 1 << 20 };
	unsigned char *buf[2] = { malloc(CHUNK), malloc(CHUNK) };
	enum su_err rc = SU_OK;
	unsigned i = 0;
	ssize_t n = 0;

	if (!buf[0] || !buf[1])
		rc = su_error_set(err, SU_ERR_NOMEM, "verify %s: %m", path);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (!rc && (n = read(fd, buf[i], CHUNK)) > 0) {
		digest_thread_feed(dt, buf[i], (size_t)n);
		rc = bundle_reader_feed(br, buf[i], (size_t)n, err);
		i ^= 1;
	}
	if (!rc && n < 0)
		rc = su_error_set(err, SU_ERR_IO, "read %s: %m", path);
	digest_thread_sync(dt);	/* done with the buffers */
	free(buf[0]);
	free(buf[1]);
	return rc;
}

/*
 * The same for the regular file @fd of @size bytes, in place: each
 * window of its page cache is mapped and given to the reader and the
 * hash thread, so that the reading thread copies nothing (the copy was
 * most of what verify took over one pass: test/bench/RESULTS.md).
 */
static enum su_err feed_mapped(int fd, const char *path, off_t size,
			       struct bundle_reader *br,
			       struct digest_thread *dt, struct su_error *err)
{
	enum su_err rc = SU_OK;
	void *prev = NULL;
	size_t prev_len = 0;

	for (off_t off = 0; !rc && off < size; off += MAP_WINDOW) {
		size_t n = size - off < MAP_WINDOW ? (size_t)(size - off) : MAP_WINDOW;
		void *p = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, off);

		if (p == MAP_FAILED) {
			rc = su_error_set(err, SU_ERR_IO, "map %s: %m", path);
			break;
		}
		madvise(p, n, MADV_SEQUENTIAL);
		digest_thread_feed(dt, p, n);	/* the previous window is hashed */
		if (prev)
			munmap(prev, prev_len);
		prev = p;
		prev_len = n;
		rc = bundle_reader_feed(br, p, n, err);
	}
	digest_thread_sync(dt);
	if (prev)
		munmap(prev, prev_len);
	return rc;
}

/* @map: a regular file is mapped rather than read. */
static enum su_err verify_fd(int fd, const char *path, bool map,
			     const struct bundle_policy *policy,
			     struct bundle_reader **out, struct su_error *err)
{
	struct bundle_reader *br = bundle_reader_new(policy, NULL, NULL);
	struct digest_thread *dt = NULL;
	uint8_t sum[DIGEST_LEN];
	struct stat st;
	enum su_err rc;

	if (!br)
		rc = su_error_set(err, SU_ERR_NOMEM, "verify %s: %m", path);
	else
		rc = digest_thread_start(&dt, err);
	if (!rc) {
		bundle_reader_hash_elsewhere(br);
		if (map && !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size)
			rc = feed_mapped(fd, path, st.st_size, br, dt, err);
		else
			rc = feed_read(fd, path, br, dt, err);
	}
	digest_thread_end(dt, rc ? NULL : sum);
	if (!rc) {
		bundle_reader_set_sha256(br, sum);
		rc = bundle_reader_finish(br, err);
	}
	if (out) {
		*out = br;
	} else {
		bundle_reader_free(br);
	}
	return rc;
}

/* Mapped: a file cut short meanwhile raises SIGBUS, which a tool may
 * die of, but not the daemon's checks of its own staged file
 * (bundle_verify_fd). */
enum su_err bundle_verify_file(const char *path,
			       const struct bundle_policy *policy,
			       struct bundle_reader **out,
			       struct su_error *err)
{
	enum su_err rc;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return su_error_set(err, SU_ERR_IO, "open %s: %m", path);
	rc = verify_fd(fd, path, true, policy, out, err);
	close(fd);
	return rc;
}

enum su_err bundle_verify_fd(int fd, const char *path,
			     const struct bundle_policy *policy,
			     struct bundle_reader **out,
			     struct su_error *err)
{
	return verify_fd(fd, path, false, policy, out, err);
}
