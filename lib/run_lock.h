/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_RUN_LOCK_H
#define SU_RUN_LOCK_H

#include "config.h"
#include "error.h"

/*
 * One installer at a time on a device: the daemon holds this lock for
 * its whole life and `sysupgraded --install` for its run, so neither can
 * write flash while the other does. The lock is flock(2) on the file
 * "<[staging] dir>.lock" (beside the staging directory, not in it: the
 * daemon may mount a tmpfs there), which holds the holder's PID.
 */

/*
 * Take the lock for @cfg without waiting. On success *@fd holds it
 * (close it, or run_lock_release(), to let go; it is close-on-exec).
 * Errors: SU_ERR_BUSY naming the holder's PID, SU_ERR_IO.
 */
enum su_err run_lock_take(const struct config *cfg, int *fd,
			  struct su_error *err);

/* Write our PID into the lock file again (after a fork). */
void run_lock_update(int fd);

void run_lock_release(int fd);

#endif
