/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_CHILD_H
#define SU_CHILD_H

#include <spawn.h>

#include "error.h"

/*
 * What a child process of the daemon must not inherit: the daemon blocks
 * SIGTERM, SIGINT and SIGHUP for its signalfd and ignores SIGPIPE. A
 * program started with that mask cannot be stopped, and one that ignores
 * SIGPIPE writes on into a closed pipe.
 */

/*
 * In a child after fork(): every signal's action back to the default,
 * and an empty signal mask. Async-signal-safe; cannot fail in a way
 * that matters (SIGKILL and SIGSTOP keep their only action).
 */
void child_reset_signals(void);

/*
 * Initialise @attr for posix_spawn() so that the program starts with an
 * empty signal mask and every signal's default action. Returns 0 or an
 * error number; on success the caller destroys @attr.
 */
int child_spawnattr_init(posix_spawnattr_t *attr);

/*
 * Run the configured command @cmd (split on blanks into an argv: no
 * shell, so nothing is interpreted) with clean signals, and wait for it.
 * @timeout seconds (0: no limit) later it is sent SIGTERM, and SIGKILL
 * a second after that. @what names it in messages ("stop_command").
 * Errors: SU_ERR_CONFIG (empty), SU_ERR_INTERNAL (fork, exit status,
 * signal, timeout), each naming @what, the command and why.
 */
enum su_err child_run(const char *what, const char *cmd, unsigned timeout,
		      struct su_error *err);
/* child_run() with the argv given (NULL-terminated), for arguments that
 * hold blanks; messages name argv[0]. */
enum su_err child_run_argv(const char *what, char *const argv[],
			   unsigned timeout, struct su_error *err);

#endif
