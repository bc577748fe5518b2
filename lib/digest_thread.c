/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 of a stream on its own thread, one buffer in flight. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "digest_thread.h"

struct digest_thread {
	struct digest d;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock: the buffer to hash, until the thread is done with it */
	const void *buf;
	size_t len;
	bool end;
	uint64_t bytes;
};

static void *run(void *arg)
{
	struct digest_thread *dt = arg;

	pthread_mutex_lock(&dt->lock);
	for (;;) {
		while (!dt->buf && !dt->end)
			pthread_cond_wait(&dt->cond, &dt->lock);
		if (!dt->buf)
			break;
		pthread_mutex_unlock(&dt->lock);
		digest_update(&dt->d, dt->buf, dt->len);
		pthread_mutex_lock(&dt->lock);
		dt->buf = NULL;
		pthread_cond_broadcast(&dt->cond);
	}
	pthread_mutex_unlock(&dt->lock);
	return NULL;
}

enum su_err digest_thread_start(struct digest_thread **out,
				struct su_error *err)
{
	struct digest_thread *dt = calloc(1, sizeof(*dt));
	int rc;

	if (!dt)
		return su_error_set(err, SU_ERR_NOMEM, "bundle hash thread: %m");
	digest_init(&dt->d);
	pthread_mutex_init(&dt->lock, NULL);
	pthread_cond_init(&dt->cond, NULL);
	rc = pthread_create(&dt->thread, NULL, run, dt);
	if (rc) {
		pthread_mutex_destroy(&dt->lock);
		pthread_cond_destroy(&dt->cond);
		free(dt);
		errno = rc;
		return su_error_set(err, SU_ERR_INTERNAL, "start the bundle hash thread: %m");
	}
	*out = dt;
	return SU_OK;
}

/* With dt->lock held: until the thread is done with its buffer. */
static void wait_idle(struct digest_thread *dt)
{
	while (dt->buf)
		pthread_cond_wait(&dt->cond, &dt->lock);
}

void digest_thread_feed(struct digest_thread *dt, const void *buf, size_t len)
{
	if (!len)
		return;
	pthread_mutex_lock(&dt->lock);
	wait_idle(dt);
	dt->buf = buf;
	dt->len = len;
	dt->bytes += len;
	pthread_cond_broadcast(&dt->cond);
	pthread_mutex_unlock(&dt->lock);
}

void digest_thread_sync(struct digest_thread *dt)
{
	pthread_mutex_lock(&dt->lock);
	wait_idle(dt);
	pthread_mutex_unlock(&dt->lock);
}

uint64_t digest_thread_end(struct digest_thread *dt, uint8_t out[DIGEST_LEN])
{
	uint64_t bytes;

	if (!dt)
		return 0;
	pthread_mutex_lock(&dt->lock);
	wait_idle(dt);
	dt->end = true;
	pthread_cond_broadcast(&dt->cond);
	pthread_mutex_unlock(&dt->lock);
	pthread_join(dt->thread, NULL);
	if (out)
		digest_final(&dt->d, out);
	bytes = dt->bytes;
	pthread_mutex_destroy(&dt->lock);
	pthread_cond_destroy(&dt->cond);
	free(dt);
	return bytes;
}
