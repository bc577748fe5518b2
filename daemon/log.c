/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stderr and syslog, filtered by level. Safe from any thread. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static int max_level = LOG_NOTICE;
static bool to_stderr = true;

void log_open(int verbose, bool use_stderr)
{
	max_level = verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : LOG_NOTICE;
	to_stderr = use_stderr;
	openlog("sysupgraded", LOG_PID, LOG_DAEMON);
}

void log_use_stderr(bool on)
{
	to_stderr = on;
}

void log_close(void)
{
	closelog();
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice",
		"info", "debug",
	};
	int saved = errno;	/* %m must see the caller's errno */
	char line[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);	/* truncates, never overflows */
	va_end(ap);
	errno = saved;
	if (to_stderr)
		fprintf(stderr, "sysupgraded: %s: %s\n", names[level & 7], line);
	syslog(level, "%s", line);
}
