/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_HANDOVER_H
#define SU_HANDOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

/*
 * What stage 1 hands to stage 2 (docs/DESIGN.md §7): a small text file,
 * HANDOVER_STATE_NAME at the top of the ramfs root, one "key=value" per
 * line after the magic line "sysupgraded-handover 1". Paths are the ones
 * inside the root, which mirrors the old root's paths. Unknown keys, a
 * missing key, a value with a control character or an unknown magic make
 * the file invalid: stage 2 then execs /sbin/init.
 */
#define HANDOVER_STATE_NAME "handover.state"
#define HANDOVER_MAGIC "sysupgraded-handover 1"

struct handover_state {
	char *root;		/* the ramfs root as stage 1 saw it */
	char *config;		/* the config file */
	char *exe;		/* sysupgraded */
	char *loader;		/* dynamic loader, or "" for a static exe */
	char *library_path;	/* loader --library-path, may be "" */
	char *keep;		/* keep archive, or "" for none */
	char *version;		/* the bundle version being installed */
	char *method;		/* handover method (busybox, s6, systemd, exec) */
	bool reboot;		/* reboot after a good write */
	bool keep_config;	/* restore the keep archive */
	bool force;		/* install options from POST /install */
	uint64_t event_id;	/* the last /events id stage 1 sent */
};

/* Write @s to @path atomically (a temporary file, fsync, rename), 0600. */
enum su_err handover_state_write(const char *path,
				 const struct handover_state *s,
				 struct su_error *err);
/* Read and check @path; free *@s with handover_state_free(). */
enum su_err handover_state_read(const char *path, struct handover_state *s,
				struct su_error *err);
void handover_state_free(struct handover_state *s);

/* MemAvailable from cfg->meminfo, in bytes. */
enum su_err handover_mem_available(const struct config *cfg, uint64_t *bytes,
				   struct su_error *err);

#endif
