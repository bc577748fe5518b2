/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_DAEMON_H
#define SU_DAEMON_DAEMON_H

#include <stdbool.h>

#include "error.h"
#include "shared.h"

/* `sysupgraded` without --install/--mark-good: serve the HTTP API. */
int daemon_run(const char *config_path, bool foreground, int verbose);

/*
 * Block the signals the daemon takes through a signalfd (TERM, INT, HUP;
 * as PID 1 in stage 2 also CHLD, QUIT, USR1, USR2, non-blocking) and
 * ignore SIGPIPE; call before any thread starts. The signalfd, or -1.
 */
int daemon_signals(bool pid1);

/*
 * daemon_run() without detach and signals (test/fuzz/fuzz_upload.c):
 * daemon_open() loads @config_path and does all that comes before any
 * thread starts (keys, tokens, listen addresses, staging, a bundle
 * staged before); daemon_listen() starts the HTTP event threads. After
 * a failure of either, exit. Once both worked, daemon_close() stops
 * the threads, waits for an install and frees what daemon_open() took.
 */
enum su_err daemon_open(struct daemon *d, const char *config_path,
			struct su_error *err);
enum su_err daemon_listen(struct daemon *d, struct su_error *err);
void daemon_close(struct daemon *d);

#endif
