/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bundle reader on a thread, fed from the staging file. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "digest_thread.h"
#include "log.h"
#include "verifier.h"

#define VERIFY_BUF (128 * 1024)
/*
 * Over the first GATE_BYTES the HTTP thread does not run more than
 * GATE_LAG ahead of the reader: it waits, GATE_MS in all at most. A
 * refusal there (signature, manifest, targets) then stops the upload
 * within a few pieces, not megabytes later when the reader's thread got
 * no CPU at first. Within GATE_LAG it never waits: small pieces cost no
 * hand-over each.
 */
#define GATE_BYTES	(1024 * 1024)
#define GATE_LAG	(64 * 1024)
#define GATE_MS		100

struct verifier {
	struct bundle_reader *br;
	int fd;
	verifier_progress_fn progress;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* more bytes, eof or stop: for the thread */
	pthread_cond_t fed_cond;	/* bytes fed, or done: for the gate */
	long long gate_ns;	/* the gate's time left */
	/* under lock */
	uint64_t written;	/* bytes in the file */
	uint64_t fed;		/* bytes given to the reader */
	bool eof, stop, done;
	enum su_err rc;
	struct su_error err;
};

/* The next span to feed; 0 when the thread should end. */
static uint64_t wait_for_bytes(struct verifier *v)
{
	uint64_t n;

	pthread_mutex_lock(&v->lock);
	while (v->fed == v->written && !v->eof && !v->stop)
		pthread_cond_wait(&v->cond, &v->lock);
	n = v->stop ? 0 : v->written - v->fed;
	pthread_mutex_unlock(&v->lock);
	return n;
}

/* The bundle's hash on @dt while the reader hashes the payloads. */
static enum su_err feed_span(struct verifier *v, char *buf, uint64_t n,
			     struct digest_thread *dt, struct su_error *err)
{
	size_t len = n > VERIFY_BUF ? VERIFY_BUF : (size_t)n;
	ssize_t got;

	/* no return without feeding: run() turns to the other buffer */
	do
		got = pread(v->fd, buf, len, (off_t)v->fed);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return su_error_set(err, SU_ERR_IO, "read back the staged upload: %m");
	digest_thread_feed(dt, buf, (size_t)got);
	if (bundle_reader_feed(v->br, buf, (size_t)got, err))
		return err->code;
	pthread_mutex_lock(&v->lock);
	v->fed += (uint64_t)got;
	pthread_cond_signal(&v->fed_cond);
	pthread_mutex_unlock(&v->lock);
	if (v->progress)
		v->progress(v->ctx, v->fed);
	return SU_OK;
}

/* Two buffers in turn: one is hashed on the digest thread while the
 * next is read and parsed. */
static void *run(void *arg)
{
	struct verifier *v = arg;
	struct digest_thread *dt = NULL;
	uint8_t sum[DIGEST_LEN];
	struct su_error err;
	enum su_err rc = SU_OK;
	char *buf[2] = { malloc(VERIFY_BUF), malloc(VERIFY_BUF) };
	unsigned i = 0;
	uint64_t n, hashed;

	if (!buf[0] || !buf[1])
		rc = su_error_set(&err, SU_ERR_NOMEM, "verifier buffer: %m");
	else
		rc = digest_thread_start(&dt, &err);
	while (!rc && (n = wait_for_bytes(v))) {
		rc = feed_span(v, buf[i], n, dt, &err);
		i ^= 1;
	}
	hashed = digest_thread_end(dt, rc ? NULL : sum);
	if (!rc)
		bundle_reader_set_sha256(v->br, sum);
	/* one pass per payload byte here, one per bundle byte there */
	log_debug("verifier: SHA-256 over %" PRIu64 " bytes on this thread (payloads), %" PRIu64 " on the bundle hash thread",
		  bundle_reader_hashed(v->br), hashed);
	free(buf[0]);
	free(buf[1]);
	pthread_mutex_lock(&v->lock);
	v->rc = rc;
	if (rc)
		v->err = err;
	v->done = true;
	pthread_cond_broadcast(&v->cond);
	pthread_cond_signal(&v->fed_cond);
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

enum su_err verifier_start(struct bundle_reader *br, int fd,
			   verifier_progress_fn progress, void *ctx,
			   struct verifier **out, struct su_error *err)
{
	struct verifier *v = calloc(1, sizeof(*v));
	pthread_condattr_t ca;
	int rc;

	if (!v)
		return su_error_set(err, SU_ERR_NOMEM, "verifier: %m");
	v->br = br;
	bundle_reader_hash_elsewhere(br);
	v->fd = fd;
	v->progress = progress;
	v->ctx = ctx;
	v->gate_ns = GATE_MS * 1000000LL;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->fed_cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&v->thread, NULL, run, v);
	if (rc) {
		pthread_mutex_destroy(&v->lock);
		pthread_cond_destroy(&v->cond);
		pthread_cond_destroy(&v->fed_cond);
		free(v);
		errno = rc;
		return su_error_set(err, SU_ERR_INTERNAL, "start the verifier: %m");
	}
	*out = v;
	return SU_OK;
}

/* With v->lock held: the reader's error, if it has one. */
static enum su_err result_locked(struct verifier *v, struct su_error *err)
{
	if (v->done && v->rc)
		*err = v->err;
	return v->done ? v->rc : SU_OK;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* With v->lock held: over the first GATE_BYTES, wait until the reader
 * is within GATE_LAG of the bytes written, or what is left of GATE_MS
 * is spent. */
static void gate_locked(struct verifier *v)
{
	long long start, end;
	struct timespec ts;

	if (v->fed >= GATE_BYTES || v->gate_ns <= 0)
		return;
	start = now_ns();
	end = start + v->gate_ns;
	ts.tv_sec = end / 1000000000LL;
	ts.tv_nsec = end % 1000000000LL;
	while (v->written - v->fed > GATE_LAG && v->fed < GATE_BYTES &&
	       !v->done &&
	       pthread_cond_timedwait(&v->fed_cond, &v->lock, &ts) != ETIMEDOUT)
		;
	v->gate_ns -= now_ns() - start;
}

enum su_err verifier_more(struct verifier *v, uint64_t in_file,
			  struct su_error *err)
{
	enum su_err rc;

	pthread_mutex_lock(&v->lock);
	if (in_file > v->written) {
		v->written = in_file;
		pthread_cond_signal(&v->cond);
		gate_locked(v);
	}
	rc = result_locked(v, err);
	pthread_mutex_unlock(&v->lock);
	return rc;
}

enum su_err verifier_end(struct verifier *v, struct su_error *err)
{
	enum su_err rc;

	pthread_mutex_lock(&v->lock);
	v->eof = true;
	pthread_cond_signal(&v->cond);
	while (!v->done)
		pthread_cond_wait(&v->cond, &v->lock);
	rc = result_locked(v, err);
	pthread_mutex_unlock(&v->lock);
	return rc;
}

void verifier_free(struct verifier *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	v->stop = true;
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->thread, NULL);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->cond);
	pthread_cond_destroy(&v->fed_cond);
	free(v);
}
