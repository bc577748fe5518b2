/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_EVENTS_H
#define SU_DAEMON_EVENTS_H

#include <microhttpd.h>
#include <stdint.h>

#include "error.h"

/*
 * GET /events: Server-Sent Events, one `event: status` per state change
 * with the /status document as data (progress at most 10 Hz, see
 * state.c). A reader whose stream has nothing to send is suspended
 * (MHD_suspend_connection) and resumed on the next event, so waiting
 * readers cost no CPU and never hold up the event thread. The last
 * EVENTS_KEPT events are kept so a slow reader still sees each change;
 * one that fell further behind skips to the oldest kept.
 */
#define EVENTS_KEPT 64

void events_init(void);

/* Queue the stream on @c (the access handler's answer). */
enum MHD_Result events_serve(struct MHD_Connection *c);

/* A comment line to every reader: keeps idle streams inside the
 * connection timeout and finds readers that went away. */
void events_heartbeat(void);

/* The ring of kept events, written to @path for stage 2; *@last gets
 * the newest id. */
enum su_err events_save(const char *path, uint64_t *last,
			struct su_error *err);
/* Refill the ring from what events_save() wrote (stage 2), and go on
 * numbering after it. A missing file is no error. */
void events_load(const char *path);
/* End every stream (before MHD_stop_daemon: none may stay suspended). */
void events_shutdown(void);

#endif
