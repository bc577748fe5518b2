/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DIGEST_THREAD_H
#define SU_DIGEST_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"

/*
 * SHA-256 of a byte stream on a thread of its own. A bundle's reader
 * hashes each payload as it parses; the bundle's own hash, of the same
 * bytes, runs here beside it, on another core when one is free, so
 * that the bundle costs one pass of wall time, not two.
 *
 * The caller hands over its buffers in stream order. A buffer must not
 * change until the next digest_thread_feed() returns, or
 * digest_thread_sync() or digest_thread_end(): each waits until the
 * bytes before are hashed.
 * Two buffers used in turn keep both threads busy.
 */
struct digest_thread;

enum su_err digest_thread_start(struct digest_thread **out,
				struct su_error *err);
void digest_thread_feed(struct digest_thread *dt, const void *buf, size_t len);
/* Wait until every byte fed is hashed: the buffers are free again. */
void digest_thread_sync(struct digest_thread *dt);
/* Wait for the last bytes, write the SHA-256 to @out (if not NULL),
 * stop the thread and free @dt; NULL is fine. Returns the bytes hashed. */
uint64_t digest_thread_end(struct digest_thread *dt, uint8_t out[DIGEST_LEN]);

#endif
