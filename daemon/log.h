/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_LOG_H
#define SU_DAEMON_LOG_H

#include <stdbool.h>

/*
 * The daemon's log: every line goes to stderr and to syslog (facility
 * daemon). Levels are syslog's; -v shows LOG_INFO, -vv LOG_DEBUG; the
 * default shows LOG_NOTICE and more severe.
 */
#include <syslog.h>

void log_open(int verbose, bool use_stderr);
/* Stop (or resume) writing to stderr, e.g. once detached. */
void log_use_stderr(bool on);
void log_close(void);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
