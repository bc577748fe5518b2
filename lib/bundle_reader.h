/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_BUNDLE_READER_H
#define SU_BUNDLE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"
#include "manifest.h"

struct keyring;

/* What the device accepts. NULL strings disable that check. */
struct bundle_policy {
	const struct keyring *keys;	/* required */
	const char *compatible;		/* the device's compatible string */
	const char *current_version;	/* the running version */
	bool force;			/* accept incompatible / downgrade */
};

/* Optional hooks, e.g. the daemon's staging writer. Each returns SU_OK or
 * an error that stops the reader. */
struct bundle_reader_ops {
	/* The manifest is signed, parsed and passed the policy. */
	enum su_err (*verified)(void *ctx, const struct manifest *m,
				const char *key_name, struct su_error *err);
	enum su_err (*payload_begin)(void *ctx, const struct manifest_image *img,
				     uint64_t offset, struct su_error *err);
	enum su_err (*payload_data)(void *ctx, const void *buf, size_t len,
				    struct su_error *err);
	/* The payload's size and SHA-256 matched the manifest. */
	enum su_err (*payload_end)(void *ctx, const struct manifest_image *img,
				   struct su_error *err);
};

/* Where each payload's bytes sit in the bundle file. */
struct bundle_payload {
	const struct manifest_image *image;
	uint64_t offset;
	bool seen;
};

enum bundle_reader_stage {
	BUNDLE_WANT_MANIFEST,	/* waiting for manifest.json */
	BUNDLE_WANT_SIGNATURE,	/* waiting for manifest.json.sig */
	BUNDLE_VERIFIED,	/* manifest trusted; payloads streaming */
	BUNDLE_COMPLETE,	/* every payload matched, archive ended */
	BUNDLE_FAILED,
};

struct bundle_reader;

/*
 * A streaming verifier for bundle format v1 (docs/DESIGN.md §4). Feed it the
 * bundle bytes in any chunking; it refuses as early as the bytes allow:
 * a bad order, an unsigned, badly signed, incompatible or downgrade
 * manifest as soon as the first two members are in; an unexpected,
 * duplicate or wrongly sized member at its header; a wrong hash at the
 * member's end; a missing payload or truncation at finish.
 * @ops may be NULL. @policy and @ops are not copied.
 */
struct bundle_reader *bundle_reader_new(const struct bundle_policy *policy,
					const struct bundle_reader_ops *ops,
					void *ctx);
void bundle_reader_free(struct bundle_reader *br);

enum su_err bundle_reader_feed(struct bundle_reader *br, const void *buf,
			       size_t len, struct su_error *err);
/* End of input: SU_OK only if the bundle is complete and valid. */
enum su_err bundle_reader_finish(struct bundle_reader *br,
				 struct su_error *err);

enum bundle_reader_stage bundle_reader_stage(const struct bundle_reader *br);

/* The verified manifest (owned by @br), or NULL before BUNDLE_VERIFIED. */
const struct manifest *bundle_reader_manifest(const struct bundle_reader *br);
/* File name of the trusted key that verified the manifest, or NULL. */
const char *bundle_reader_key_name(const struct bundle_reader *br);
/* One entry per manifest image, in manifest order; NULL before verified. */
const struct bundle_payload *bundle_reader_payloads(const struct bundle_reader *br);
/* SHA-256 of every byte fed so far: the bundle's own hash once complete. */
void bundle_reader_sha256(const struct bundle_reader *br, uint8_t out[DIGEST_LEN]);
/* The caller hashes the bundle itself (a digest_thread beside the
 * reader): the reader hashes only the payloads, and
 * bundle_reader_sha256() answers what bundle_reader_set_sha256() gave. */
void bundle_reader_hash_elsewhere(struct bundle_reader *br);
void bundle_reader_set_sha256(struct bundle_reader *br,
			      const uint8_t sum[DIGEST_LEN]);
uint64_t bundle_reader_bytes(const struct bundle_reader *br);
/* Bytes through the reader's own SHA-256s: the payloads', and the
 * bundle's unless it is hashed elsewhere. */
uint64_t bundle_reader_hashed(const struct bundle_reader *br);

/*
 * Verify the bundle file at @path: feed it whole and finish. Convenience
 * for tools and tests; with @out the caller receives the reader (to read
 * the manifest) and frees it. A regular file is mapped, BUNDLE_MAP_WINDOW
 * bytes at a time, rather than read: if it is cut short meanwhile, the
 * process gets SIGBUS.
 */
#define BUNDLE_MAP_WINDOW	(64 << 20)
enum su_err bundle_verify_file(const char *path,
			       const struct bundle_policy *policy,
			       struct bundle_reader **out,
			       struct su_error *err);

/* The same from the open file @fd, read (never mapped) from its current
 * offset to its end (@path names it in messages); @fd stays open. */
enum su_err bundle_verify_fd(int fd, const char *path,
			       const struct bundle_policy *policy,
			       struct bundle_reader **out,
			       struct su_error *err);

#endif
