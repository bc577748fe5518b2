/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_VERIFIER_H
#define SU_DAEMON_VERIFIER_H

#include <stdint.h>

#include "bundle_reader.h"
#include "error.h"

/*
 * The bundle reader on its own thread, so that hashing overlaps the
 * network: the HTTP thread writes each piece of the body to the staging
 * file and says so (verifier_more); the verifier thread reads the new
 * bytes back from the file (tmpfs: page cache, no copy through the
 * heap beyond one buffer) and feeds them to the reader. A refusal is
 * seen by the next verifier_more(), a moment after the bytes that cause
 * it were written. Over the first MiB verifier_more() waits (100 ms per
 * upload at most) while the reader is more than 64 KiB behind, so that
 * a bad signature stops the upload within its first pieces even when
 * the verifier thread got no CPU at first. The reader's hooks and
 * @progress run on the verifier thread.
 */
struct verifier;

typedef void (*verifier_progress_fn)(void *ctx, uint64_t bytes);

enum su_err verifier_start(struct bundle_reader *br, int fd,
			   verifier_progress_fn progress, void *ctx,
			   struct verifier **out, struct su_error *err);

/* The file holds @in_file bytes now (the same count is only a check).
 * The reader's error once it refused. */
enum su_err verifier_more(struct verifier *v, uint64_t in_file,
			  struct su_error *err);

/* Every byte is in: wait until all are fed; the reader's result so far
 * (bundle_reader_finish() is the caller's, afterwards). */
enum su_err verifier_end(struct verifier *v, struct su_error *err);

/* Stop the thread if it runs, free @v; NULL is fine. */
void verifier_free(struct verifier *v);

#endif
