/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_BACKEND_H
#define SU_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "digest.h"
#include "error.h"

/*
 * A flash backend writes one image to one device. It sees only bytes:
 * decompression, hashing, hash-on-write and progress live once, in the
 * install engine (lib/install.c). Adding a backend is one file here and
 * one line in registry.c.
 *
 * Life of a write:  open -> write ... -> finish -> [verify]
 *                   open -> write ... -> abort         (on any error)
 * finish and abort free the handle; verify works from the device alone.
 * A backend with compares_on_write does the read-back itself, while it
 * writes, when the target asks for it: the engine then runs no verify.
 */

/* Where one image goes: a config target with its slot resolved. */
struct backend_target {
	const struct config_target *cfg;	/* options, readback, ... */
	const char *device;	/* the device to write (slot resolved) */
	/* The most a backend should buffer for a write or a read-back, or
	 * 0 for its own (fastest) choice. An in-place install asks for
	 * little: stage 2 and everything it uses live in RAM. */
	size_t buffer;
};

struct backend_ops {
	const char *name;	/* the manifest's and config's "type" */
	/*
	 * With the target's readback, write compares each block with what
	 * it just wrote, as flashcp does, and fails with SU_ERR_WRITE_FAILED
	 * (detail "readback") on a mismatch; verify then is only for
	 * callers that check a device later (su-backend-write --verify-only).
	 */
	bool compares_on_write;

	/*
	 * Prepare to write exactly @size bytes (the decompressed length) to
	 * @t. Refuse here what can be refused early: a missing or mounted
	 * device, an image larger than the device, bad options.
	 * On success *@handle is the backend's state.
	 */
	enum su_err (*open)(const struct backend_target *t, uint64_t size,
			    void **handle, struct su_error *err);

	/* The next @len bytes, in order; the sum of all is @size. */
	enum su_err (*write)(void *handle, const void *buf, size_t len,
			     struct su_error *err);

	/* All bytes given: flush, sync, close. Frees @handle. */
	enum su_err (*finish)(void *handle, struct su_error *err);

	/* Give up after an error; frees @handle. Must not fail. */
	void (*abort)(void *handle);

	/*
	 * Optional read-back: read @size bytes back from @t and compare
	 * their SHA-256 with @sha256. SU_ERR_WRITE_FAILED on a mismatch.
	 */
	enum su_err (*verify)(const struct backend_target *t, uint64_t size,
			      const uint8_t sha256[DIGEST_LEN],
			      struct su_error *err);
};

/*
 * For a backend's verify: SU_OK when @got equals @want, else
 * SU_ERR_WRITE_FAILED (detail "readback") naming @what and both hashes.
 */
enum su_err backend_check_readback(const char *what, uint64_t size,
				   const uint8_t got[DIGEST_LEN],
				   const uint8_t want[DIGEST_LEN],
				   struct su_error *err);

/* The backend called @name, or NULL. */
const struct backend_ops *backend_find(const char *name);

/* NULL-terminated list of every backend built in. */
const struct backend_ops *const *backend_list(void);

#endif
