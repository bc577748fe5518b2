/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Server-Sent Events over suspended MHD connections. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "state.h"

struct reader {
	struct reader *next, *prev;
	struct MHD_Connection *conn;
	uint64_t next_seq;	/* first event not sent yet */
	unsigned heartbeat;	/* last heartbeat sent */
	char *pending;		/* text being sent */
	size_t off;
	bool suspended;
};

static struct {
	pthread_mutex_t lock;
	struct {
		uint64_t seq;
		char *text;
	} ring[EVENTS_KEPT];
	uint64_t seq;		/* of the newest event; 0: none yet */
	unsigned heartbeat;
	bool closing;
	struct reader head;	/* list of readers */
} ev = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char *format_event(const char *json, uint64_t seq)
{
	char *s;

	if (asprintf(&s, "id: %" PRIu64 "\nevent: status\ndata: %s\n\n",
		     seq, json) < 0)
		return NULL;
	return s;
}

static void resume_all_locked(void)
{
	for (struct reader *r = ev.head.next; r != &ev.head; r = r->next) {
		if (!r->suspended)
			continue;
		r->suspended = false;
		MHD_resume_connection(r->conn);
	}
}

/* The state listener: keep the event, wake the readers. */
static void on_state(const char *json, uint64_t seq)
{
	char *text = format_event(json, seq);
	size_t slot = seq % EVENTS_KEPT;

	pthread_mutex_lock(&ev.lock);
	free(ev.ring[slot].text);
	ev.ring[slot].text = text;	/* NULL on ENOMEM: skipped */
	ev.ring[slot].seq = seq;
	ev.seq = seq;
	resume_all_locked();
	pthread_mutex_unlock(&ev.lock);
}

void events_init(void)
{
	ev.head.next = ev.head.prev = &ev.head;
	state_listen(on_state);
}

/* The next text for @r, or NULL when there is none. */
static char *next_text_locked(struct reader *r)
{
	uint64_t oldest = ev.seq >= EVENTS_KEPT ? ev.seq - EVENTS_KEPT + 1 : 1;

	if (r->next_seq < oldest)
		r->next_seq = oldest;
	while (r->next_seq <= ev.seq) {
		size_t slot = r->next_seq % EVENTS_KEPT;

		r->next_seq++;
		if (ev.ring[slot].text && ev.ring[slot].seq == r->next_seq - 1)
			return strdup(ev.ring[slot].text);
	}
	if (r->heartbeat != ev.heartbeat) {
		r->heartbeat = ev.heartbeat;
		return strdup(": ping\n\n");
	}
	return NULL;
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct reader *r = cls;
	ssize_t n = 0;
	size_t len;

	(void)pos;
	pthread_mutex_lock(&ev.lock);
	if (ev.closing) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
		goto out;
	}
	if (!r->pending)
		r->pending = next_text_locked(r);
	if (!r->pending) {
		/* Nothing to say: sleep until on_state() or a heartbeat. */
		r->suspended = true;
		MHD_suspend_connection(r->conn);
		goto out;
	}
	len = strlen(r->pending + r->off);
	if (len > max)
		len = max;
	memcpy(buf, r->pending + r->off, len);
	r->off += len;
	if (!r->pending[r->off]) {
		free(r->pending);
		r->pending = NULL;
		r->off = 0;
	}
	n = (ssize_t)len;
out:
	pthread_mutex_unlock(&ev.lock);
	return n;
}

static void free_reader(void *cls)
{
	struct reader *r = cls;

	pthread_mutex_lock(&ev.lock);
	r->prev->next = r->next;
	r->next->prev = r->prev;
	pthread_mutex_unlock(&ev.lock);
	free(r->pending);
	free(r);
}

enum MHD_Result events_serve(struct MHD_Connection *c)
{
	struct MHD_Response *resp;
	struct reader *r = calloc(1, sizeof(*r));
	enum MHD_Result ret;
	char *now;

	if (!r)
		return MHD_NO;
	r->conn = c;
	pthread_mutex_lock(&ev.lock);
	r->next_seq = ev.seq + 1;
	r->heartbeat = ev.heartbeat;
	pthread_mutex_unlock(&ev.lock);
	/* The current state first, so a reader never starts blind. */
	now = state_json();
	r->pending = now ? format_event(now, r->next_seq - 1) : NULL;
	free(now);

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
						 read_events, r, free_reader);
	if (!resp) {
		free(r->pending);
		free(r);
		return MHD_NO;
	}
	pthread_mutex_lock(&ev.lock);
	r->next = ev.head.next;
	r->prev = &ev.head;
	ev.head.next->prev = r;
	ev.head.next = r;
	pthread_mutex_unlock(&ev.lock);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

void events_heartbeat(void)
{
	pthread_mutex_lock(&ev.lock);
	ev.heartbeat++;
	resume_all_locked();
	pthread_mutex_unlock(&ev.lock);
}

void events_shutdown(void)
{
	state_listen(NULL);
	pthread_mutex_lock(&ev.lock);
	ev.closing = true;
	resume_all_locked();
	pthread_mutex_unlock(&ev.lock);
}
