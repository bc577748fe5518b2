/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_STATE_H
#define SU_DAEMON_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct json_object;

/*
 * The daemon's state machine (docs/DESIGN.md §6), shared by the HTTP
 * threads and the install worker under one mutex:
 *
 *   idle/staged/failed --upload--> receiving --> verifying --> staged
 *                 (a refused upload goes back to idle, or staged when a
 *                  previous good bundle is still staged)
 *   staged/failed --install--> installing --> writing --> finalizing
 *                 --> idle, or rebooting when a reboot was asked for;
 *                 any failure --> failed (the staged bundle is kept)
 *   handover is for in-place installs (a later issue).
 *
 * receiving, verifying, installing, handover, writing, finalizing and
 * rebooting are "busy": a second upload or install gets 409 busy.
 * Every change is published to the subscriber (the /events stream);
 * progress is published at most 10 times a second.
 */
enum su_state {
	ST_IDLE,
	ST_RECEIVING,
	ST_VERIFYING,
	ST_STAGED,
	ST_INSTALLING,
	ST_HANDOVER,
	ST_WRITING,
	ST_FINALIZING,
	ST_REBOOTING,
	ST_FAILED,
};

const char *state_name(enum su_state s);
bool state_is_busy(enum su_state s);

enum su_state state_get(void);

/*
 * Enter the busy state @s when the daemon is not busy: clears the last
 * error and the progress. False (nothing changed) when busy; @was gets
 * the state found.
 */
bool state_begin(enum su_state s, enum su_state *was);

/* Move to @s (keeps the last error). */
void state_set(enum su_state s);

/* Record @e as the last error and move to @s. */
void state_fail(enum su_state s, const struct su_error *e);

/* Progress of the current step; @image may be NULL. */
void state_progress(const char *image, uint64_t bytes, uint64_t total);

/*
 * The record of the last install, as read at start (lib/last_install.h):
 * its JSON text, copied, or NULL for none. /status and /info show it as
 * "last_install", an object or null.
 */
void state_set_last_install(const char *json);
/* A new object of it (caller puts), or NULL. */
struct json_object *state_last_install(void);

/* The /status document: malloc'd JSON, caller frees; NULL on ENOMEM. */
char *state_json(void);

/* Called (with the state lock held: keep it short) with every new
 * /status document and a sequence number that grows by one per event. */
/* Go on numbering events after @seq (stage 2, after stage 1's). */
void state_set_seq(uint64_t seq);
typedef void (*state_listener_fn)(const char *json, uint64_t seq);
void state_listen(state_listener_fn fn);

#endif
