/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state machine: one struct under one mutex, published on change. */
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "notify.h"
#include "state.h"

#define PROGRESS_INTERVAL_NS	100000000LL	/* 10 Hz */

static struct {
	pthread_mutex_t lock;
	enum su_state state;
	char image[256];
	uint64_t bytes, total;
	bool has_error;
	enum su_err error;
	char message[512];
	long long last_progress_ns;
	uint64_t seq;
	state_listener_fn listener;
	char *last_install;	/* JSON of the record read at start, or NULL */
	int told;		/* the state the service manager was told, or -1 */
} st = { .lock = PTHREAD_MUTEX_INITIALIZER, .told = -1 };

static const char *const names[] = {
	[ST_IDLE] = "idle",
	[ST_RECEIVING] = "receiving",
	[ST_VERIFYING] = "verifying",
	[ST_STAGED] = "staged",
	[ST_INSTALLING] = "installing",
	[ST_HANDOVER] = "handover",
	[ST_WRITING] = "writing",
	[ST_FINALIZING] = "finalizing",
	[ST_REBOOTING] = "rebooting",
	[ST_FAILED] = "failed",
};

const char *state_name(enum su_state s)
{
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

bool state_is_busy(enum su_state s)
{
	return s != ST_IDLE && s != ST_STAGED && s != ST_FAILED;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned percent(void)
{
	if (!st.total)
		return 0;
	if (st.bytes >= st.total)
		return 100;
	return (unsigned)(st.bytes * 100 / st.total);
}

static json_object *build_locked(void)
{
	json_object *o = json_object_new_object();
	json_object *p = json_object_new_object();
	json_object *e = NULL;

	json_object_object_add(o, "state",
			       json_object_new_string(state_name(st.state)));
	json_object_object_add(p, "image", st.image[0] ?
			       json_object_new_string(st.image) : NULL);
	json_object_object_add(p, "bytes", json_object_new_int64((int64_t)st.bytes));
	json_object_object_add(p, "total", json_object_new_int64((int64_t)st.total));
	json_object_object_add(p, "percent", json_object_new_int((int)percent()));
	json_object_object_add(o, "progress", p);
	if (st.has_error) {
		e = json_object_new_object();
		json_object_object_add(e, "error",
				       json_object_new_string(su_err_name(st.error)));
		json_object_object_add(e, "message",
				       json_object_new_string(st.message));
	}
	json_object_object_add(o, "last_error", e);
	json_object_object_add(o, "last_install", st.last_install ?
			       json_tokener_parse(st.last_install) : NULL);
	return o;
}

static char *json_locked(void)
{
	json_object *o = build_locked();
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

/* STATUS= for `systemctl status`, once per change of state: cheap (one
 * datagram), and nothing at all outside a Type=notify unit. */
static void notify_locked(void)
{
	char msg[600];

	if ((int)st.state == st.told)
		return;
	st.told = (int)st.state;
	snprintf(msg, sizeof(msg), "STATUS=%s%s%s", state_name(st.state),
		 st.state == ST_FAILED && st.has_error ? ": " : "",
		 st.state == ST_FAILED && st.has_error ? st.message : "");
	/* one line: a message naming a bundle's text must not add keys */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < ' ')
			*c = ' ';
	if (notify_send(msg) < 0)
		log_warn("sd_notify %s: %m", msg);
}

static void publish_locked(void)
{
	char *s;

	notify_locked();

	if (!st.listener)
		return;
	s = json_locked();
	if (s)
		st.listener(s, ++st.seq);
	free(s);
}

void state_set_seq(uint64_t seq)
{
	pthread_mutex_lock(&st.lock);
	if (seq > st.seq)
		st.seq = seq;
	pthread_mutex_unlock(&st.lock);
}

enum su_state state_get(void)
{
	enum su_state s;

	pthread_mutex_lock(&st.lock);
	s = st.state;
	pthread_mutex_unlock(&st.lock);
	return s;
}

bool state_begin(enum su_state s, enum su_state *was)
{
	bool ok;

	pthread_mutex_lock(&st.lock);
	if (was)
		*was = st.state;
	ok = !state_is_busy(st.state);
	if (ok) {
		st.state = s;
		st.has_error = false;
		st.message[0] = '\0';
		st.image[0] = '\0';
		st.bytes = st.total = 0;
		publish_locked();
	}
	pthread_mutex_unlock(&st.lock);
	return ok;
}

void state_set(enum su_state s)
{
	pthread_mutex_lock(&st.lock);
	st.state = s;
	publish_locked();
	pthread_mutex_unlock(&st.lock);
}

void state_fail(enum su_state s, const struct su_error *e)
{
	pthread_mutex_lock(&st.lock);
	st.state = s;
	st.has_error = true;
	st.error = e->code;
	snprintf(st.message, sizeof(st.message), "%s", e->message);
	publish_locked();
	pthread_mutex_unlock(&st.lock);
}

void state_progress(const char *image, uint64_t bytes, uint64_t total)
{
	long long now = now_ns();
	bool changed;

	pthread_mutex_lock(&st.lock);
	changed = image && strncmp(st.image, image, sizeof(st.image) - 1);
	if (image)
		snprintf(st.image, sizeof(st.image), "%s", image);
	st.bytes = bytes;
	st.total = total;
	if (changed || now - st.last_progress_ns >= PROGRESS_INTERVAL_NS ||
	    (total && bytes == total)) {
		st.last_progress_ns = now;
		publish_locked();
	}
	pthread_mutex_unlock(&st.lock);
}

char *state_json(void)
{
	char *s;

	pthread_mutex_lock(&st.lock);
	s = json_locked();
	pthread_mutex_unlock(&st.lock);
	return s;
}

void state_listen(state_listener_fn fn)
{
	pthread_mutex_lock(&st.lock);
	st.listener = fn;
	pthread_mutex_unlock(&st.lock);
}

void state_set_last_install(const char *json)
{
	char *copy = json ? strdup(json) : NULL;

	pthread_mutex_lock(&st.lock);
	free(st.last_install);
	st.last_install = copy;
	publish_locked();
	pthread_mutex_unlock(&st.lock);
}

struct json_object *state_last_install(void)
{
	json_object *o = NULL;

	pthread_mutex_lock(&st.lock);
	if (st.last_install)
		o = json_tokener_parse(st.last_install);
	pthread_mutex_unlock(&st.lock);
	return o;
}
