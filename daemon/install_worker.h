/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_INSTALL_WORKER_H
#define SU_DAEMON_INSTALL_WORKER_H

#include <stdbool.h>

#include "shared.h"
#include "error.h"

/* The body of POST /install; all false by default. */
struct install_options {
	bool reboot;		/* run reboot_command after a good install */
	bool keep_config;	/* in-place installs (a later issue) */
	bool force;		/* accepted; policy was checked at upload */
};

/*
 * Install the staged bundle on a worker thread: plan (A/B slot from the
 * boot environment), write with progress into the state, commit the
 * environment, then reboot when asked. Returns once the worker runs
 * (answer 202) or with the reason it cannot: SU_ERR_BUSY (another
 * upload or install, nothing staged, or an in-place target, which needs
 * the handover that is not built yet), SU_ERR_UNKNOWN_TARGET,
 * SU_ERR_CONFIG.
 */
/* SU_ERR_REBOOT_PENDING when an A/B install waits for its reboot (see
 * slot_check_pending()); checked before an ?install=1 body is read. */
enum su_err install_check_pending(struct daemon *d, struct su_error *err);

enum su_err install_start(struct daemon *d, const struct install_options *o,
			  struct su_error *err);

/* POST /reboot: run reboot_command on a thread (never through a shell).
 * SU_ERR_BUSY during an upload or install. */
enum su_err reboot_start(struct daemon *d, struct su_error *err);

/* At shutdown: wait for a running install or reboot command to end
 * (flash is not left half-written by a SIGTERM). */
void install_wait(void);

#endif
