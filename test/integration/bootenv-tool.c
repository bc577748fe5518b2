/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * su-bootenv: lib/bootenv.h from the command line, for the tests.
 *   su-bootenv FW_ENV_CONFIG set NAME=VALUE|NAME ...   one commit; a
 *                                                     bare NAME deletes;
 *                                                     each word "then"
 *                                                     commits, and the
 *                                                     rest is one more
 *                                                     commit from the
 *                                                     same open (as an
 *                                                     install's marker,
 *                                                     then its final
 *                                                     store)
 *   su-bootenv FW_ENV_CONFIG get NAME                  exit 1 when unset
 */
#include <stdio.h>
#include <string.h>

#include "bootenv.h"

static int fail(const struct su_error *err)
{
	fprintf(stderr, "su-bootenv: %s: %s\n", su_err_name(err->code),
		err->message);
	return 1;
}

static int set(struct bootenv *env, int n, char **args, struct su_error *err)
{
	for (int i = 0; i < n; i++) {
		char *eq = strchr(args[i], '=');

		if (!strcmp(args[i], "then")) {
			if (bootenv_commit(env, err))
				return fail(err);
			continue;
		}
		if (eq)
			*eq = '\0';
		if (bootenv_set(env, args[i], eq ? eq + 1 : NULL, err))
			return fail(err);
	}
	return bootenv_commit(env, err) ? fail(err) : 0;
}

static int get(struct bootenv *env, const char *name)
{
	const char *v = bootenv_get(env, name);

	if (!v)
		return 1;
	printf("%s\n", v);
	return 0;
}

int main(int argc, char **argv)
{
	struct bootenv *env;
	struct su_error err;
	int status;

	if (argc < 4 || (strcmp(argv[2], "set") && strcmp(argv[2], "get")) ||
	    (!strcmp(argv[2], "get") && argc != 4)) {
		fprintf(stderr, "usage: su-bootenv FW_ENV_CONFIG set NAME=VALUE|NAME...\n"
			"       su-bootenv FW_ENV_CONFIG get NAME\n");
		return 2;
	}
	if (bootenv_open(argv[1], &env, &err))
		return fail(&err);
	if (!strcmp(argv[2], "set"))
		status = set(env, argc - 3, argv + 3, &err);
	else
		status = get(env, argv[3]);
	bootenv_close(env);
	return status;
}
