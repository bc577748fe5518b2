/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the daemon's threads share: the refcounted keyring and the staged
 * bundle, under struct daemon's lock. daemon.c (start, signals),
 * upload.c and install_worker.c use it; it uses none of them.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "shared.h"
#include "signature.h"
#include "staging.h"
#include "state.h"


struct keys_ref *daemon_keys_get(struct daemon *d)
{
	struct keys_ref *k;

	pthread_mutex_lock(&d->lock);
	k = d->keys;
	k->refs++;
	pthread_mutex_unlock(&d->lock);
	return k;
}

void daemon_keys_put(struct daemon *d, struct keys_ref *k)
{
	bool last;

	pthread_mutex_lock(&d->lock);
	last = !--k->refs;
	pthread_mutex_unlock(&d->lock);
	if (last) {
		keyring_free(k->kr);
		free(k);
	}
}

void daemon_set_keys(struct daemon *d, struct keyring *kr)
{
	struct keys_ref *k = calloc(1, sizeof(*k)), *old;

	if (!k) {
		keyring_free(kr);
		log_err("reload: %m; keeping the old keys");
		return;
	}
	k->kr = kr;
	k->refs = 1;
	pthread_mutex_lock(&d->lock);
	old = d->keys;
	d->keys = k;
	pthread_mutex_unlock(&d->lock);
	if (old)
		daemon_keys_put(d, old);
}

void daemon_stage(struct daemon *d, struct bundle_reader *br, char *report,
		  int fd)
{
	struct bundle_reader *old;
	char *old_report;
	int old_fd;

	pthread_mutex_lock(&d->lock);
	old = d->staged;
	old_report = d->staged_report;
	old_fd = old ? d->staged_fd : -1;
	d->staged = br;
	d->staged_report = report;
	d->staged_fd = fd;
	pthread_mutex_unlock(&d->lock);
	if (old_fd >= 0)
		close(old_fd);
	bundle_reader_free(old);
	free(old_report);
}

/* With @d->lock held: the file, the reader and the report go. */
static void drop_staged(struct daemon *d)
{
	staging_discard();
	if (d->staged && d->staged_fd >= 0)
		close(d->staged_fd);
	d->staged_fd = -1;
	bundle_reader_free(d->staged);
	free(d->staged_report);
	d->staged = NULL;
	d->staged_report = NULL;
}

void daemon_unstage(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	drop_staged(d);
	pthread_mutex_unlock(&d->lock);
}

bool daemon_has_staged(struct daemon *d)
{
	bool has;

	pthread_mutex_lock(&d->lock);
	has = d->staged != NULL;
	pthread_mutex_unlock(&d->lock);
	return has;
}

char *daemon_staged_report(struct daemon *d)
{
	char *s = NULL;

	pthread_mutex_lock(&d->lock);
	if (d->staged_report)
		s = strdup(d->staged_report);
	pthread_mutex_unlock(&d->lock);
	return s;
}

enum su_err daemon_discard(struct daemon *d, struct su_error *err)
{
	enum su_state s;
	enum su_err rc = SU_OK;

	pthread_mutex_lock(&d->lock);
	s = state_get();
	if (state_is_busy(s)) {
		rc = su_error_set(err, SU_ERR_BUSY,
				  "the daemon is %s; the bundle is in use", state_name(s));
	} else {
		drop_staged(d);
		if (s == ST_STAGED || s == ST_FAILED)
			state_set(ST_IDLE);
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

