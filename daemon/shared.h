/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_SHARED_H
#define SU_DAEMON_SHARED_H

#include <pthread.h>
#include <stdbool.h>

#include "bundle_reader.h"
#include "config.h"
#include "error.h"

/*
 * What the daemon's threads share. The config is read-only after start
 * (SIGHUP only swaps the keyring and, in auth.c, the tokens). The staged
 * bundle and the keyring are guarded by @lock; an upload keeps the
 * keyring it started with alive through a reference.
 */
struct keys_ref {
	struct keyring *kr;
	unsigned refs;
};

struct daemon {
	struct config *cfg;
	int run_lock;		/* run_lock.h: one installer per device */
	char *running_version;	/* the running version; downgrade check */
	pthread_mutex_t lock;
	struct keys_ref *keys;
	/* The staged bundle: its reader (manifest, payload offsets) and
	 * the verification report sent for it. NULL when none. */
	struct bundle_reader *staged;
	char *staged_report;
	int staged_fd;		/* the staged file, open; valid with @staged */
	bool stage2;		/* PID 1 in the ramfs: in-place writes allowed */
};

/* Use @kr from now on; an upload keeps the keyring it took. */
void daemon_set_keys(struct daemon *d, struct keyring *kr);
/* A reference to the current keyring; give it back with _put(). */
struct keys_ref *daemon_keys_get(struct daemon *d);
void daemon_keys_put(struct daemon *d, struct keys_ref *k);

/* Replace the staged bundle (ownership of @br and @report passes). */
/* Replace the staged bundle; ownership of @br, @report and the open
 * file @fd (or -1) passes. */
void daemon_stage(struct daemon *d, struct bundle_reader *br, char *report,
		  int fd);
/* Forget the staged bundle and delete its file. */
void daemon_unstage(struct daemon *d);
bool daemon_has_staged(struct daemon *d);
/* DELETE /bundle: unstage unless an upload or install runs
 * (SU_ERR_BUSY). */
enum su_err daemon_discard(struct daemon *d, struct su_error *err);
/* A copy of the staged bundle's report, or NULL. */
char *daemon_staged_report(struct daemon *d);

#endif
