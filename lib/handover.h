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
 * missing key, a key given twice, a value with a control character
 * (< 0x20, 0x7f), an unknown magic or a last line without its newline
 * (a truncated file) make the file invalid: stage 2 then execs
 * /sbin/init. Strings are bytes up to the newline ('=' and spaces kept);
 * bools are 0 or 1; event_id is decimal without sign or leading zero.
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

/*
 * Write @s to @path atomically (a temporary file beside it, fsync,
 * rename, fsync of the directory), 0600. A NULL string is written as "".
 * Errors: SU_ERR_INTERNAL (a value with a control character; nothing is
 * written), SU_ERR_IO, SU_ERR_NOMEM.
 */
enum su_err handover_state_write(const char *path,
				 const struct handover_state *s,
				 struct su_error *err);
/*
 * Read and check @path (at most 64 KiB); free *@s with
 * handover_state_free(). Errors: SU_ERR_CONFIG for an invalid file,
 * "PATH:LINE: why" or "PATH: why"; SU_ERR_IO when it cannot be read.
 * On failure *@s is all NULL and zero (freeing it again is harmless).
 */
enum su_err handover_state_read(const char *path, struct handover_state *s,
				struct su_error *err);
void handover_state_free(struct handover_state *s);

/*
 * A copy of the colon-separated path @list with @prefix ("" for none)
 * before each element, each resolved with realpath(3) first when
 * @canonical (elements that do not resolve stay as they are): stage 1
 * writes library_path canonical, stage 2 prefixes it with the root.
 * NULL when out of memory.
 */
char *handover_path_list(const char *list, const char *prefix, bool canonical);

/*
 * The argv of handover = procd, `ubus call system sysupgrade MSG`, in
 * @argv (NULL-terminated); MSG is {"prefix":ROOT,"path":STATE,
 * "force":true}, built by json-c. procd chroots into ROOT and execs
 * /sbin/upgraded there (stage 2) as PID 1 with STATE as its argv[1]
 * (contrib/init/procd). Returns MSG for the caller to free, NULL (and
 * argv[4] NULL) when out of memory.
 */
#define HANDOVER_PROCD_ARGC 5
char *handover_procd_argv(const char *root, const char *state,
			  char *argv[HANDOVER_PROCD_ARGC + 1]);

/* MemAvailable from cfg->meminfo ("MemAvailable:  N kB"), in bytes.
 * Errors: SU_ERR_IO when the file cannot be read, has no such line, or
 * the line is not N kB. */
enum su_err handover_mem_available(const struct config *cfg, uint64_t *bytes,
				   struct su_error *err);

#endif
