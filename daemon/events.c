/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Server-Sent Events over suspended MHD connections. */
#include <errno.h>
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

/* Last-Event-ID: the id the client saw last, or 0 (none, or not one
 * of ours). */
static uint64_t last_event_id(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    "Last-Event-ID");
	unsigned long long id;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	id = strtoull(v, &end, 10);
	return errno || *end ? 0 : id;
}

enum MHD_Result events_serve(struct MHD_Connection *c)
{
	struct MHD_Response *resp;
	struct reader *r = calloc(1, sizeof(*r));
	uint64_t seen = last_event_id(c);
	enum MHD_Result ret;
	char *now;

	if (!r)
		return MHD_NO;
	r->conn = c;
	pthread_mutex_lock(&ev.lock);
	r->next_seq = ev.seq + 1;
	r->heartbeat = ev.heartbeat;
	/* A reconnecting reader gets what it missed, from the ring (and
	 * across the handover, from the ring stage 1 left). */
	bool resume = seen && seen <= ev.seq;

	if (resume)
		r->next_seq = seen + 1;
	pthread_mutex_unlock(&ev.lock);
	if (resume)	/* what it missed, or nothing until the next */
		goto queue;
	/* The current state first, so a reader never starts blind. */
	now = state_json();
	r->pending = now ? format_event(now, r->next_seq - 1) : NULL;
	free(now);
queue:

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

enum su_err events_save(const char *path, uint64_t *last,
			struct su_error *err)
{
	FILE *f = fopen(path, "we");
	uint64_t oldest;

	if (!f)
		return su_error_set(err, SU_ERR_IO, "create %s: %m", path);
	pthread_mutex_lock(&ev.lock);
	oldest = ev.seq >= EVENTS_KEPT ? ev.seq - EVENTS_KEPT + 1 : 1;
	for (uint64_t s = oldest; ev.seq && s <= ev.seq; s++) {
		size_t slot = s % EVENTS_KEPT;

		if (ev.ring[slot].text && ev.ring[slot].seq == s)
			fputs(ev.ring[slot].text, f);
	}
	*last = ev.seq;
	pthread_mutex_unlock(&ev.lock);
	if (fflush(f) || ferror(f)) {
		fclose(f);
		return su_error_set(err, SU_ERR_IO, "write %s: %m", path);
	}
	fclose(f);
	return SU_OK;
}

/* One saved event: "id: N\n...\n\n"; false at the end or a bad one. */
static bool load_one(FILE *f, uint64_t *seq, char **text)
{
	char *buf = NULL, *line = NULL;
	size_t len = 0, cap = 0;
	FILE *m;
	bool ok = false;

	if (fscanf(f, "id: %" SCNu64 "\n", seq) != 1)
		return false;
	m = open_memstream(&buf, &len);
	if (!m)
		return false;
	fprintf(m, "id: %" PRIu64 "\n", *seq);
	while (getline(&line, &cap, f) > 0) {
		fputs(line, m);
		if (line[0] == '\n') {
			ok = true;
			break;
		}
	}
	free(line);
	fclose(m);
	if (!ok) {
		free(buf);
		return false;
	}
	*text = buf;
	return true;
}

void events_load(const char *path)
{
	FILE *f = fopen(path, "re");
	uint64_t seq;
	char *text;

	if (!f)
		return;
	pthread_mutex_lock(&ev.lock);
	while (load_one(f, &seq, &text)) {
		size_t slot = seq % EVENTS_KEPT;

		free(ev.ring[slot].text);
		ev.ring[slot].text = text;
		ev.ring[slot].seq = seq;
		if (seq > ev.seq)
			ev.seq = seq;
	}
	pthread_mutex_unlock(&ev.lock);
	fclose(f);
	state_set_seq(ev.seq);
}
