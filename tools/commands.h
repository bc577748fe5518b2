/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TOOLS_COMMANDS_H
#define SU_TOOLS_COMMANDS_H

#include "error.h"

#define TOOL_NAME	"sysupgrade-bundle"
#define EXIT_USAGE	2	/* bad command line; 1 is "the operation failed" */

/*
 * The verbs of sysupgrade-bundle. Each gets the arguments after the tool
 * name (argv[0] is the verb itself) and returns the process exit status:
 * 0 done, 1 failed (message on stderr), EXIT_USAGE for a bad command line.
 */
int cmd_keygen(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* "VERB: <code>: <message>" on stderr; returns 1. */
int cli_fail(const char *verb, const struct su_error *err);

/*
 * "sysupgrade-bundle VERB: <message>" and a hint to --help on stderr;
 * returns EXIT_USAGE.
 */
int cli_usage(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * For getopt_long's '?' and for missing operands: the standard hint
 * (getopt already printed why); returns EXIT_USAGE.
 */
int cli_usage_hint(const char *verb);

#endif
