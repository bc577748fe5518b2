/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * su-keep: lib/keep.h from the command line, for keep.sh.
 *   su-keep create CONFIG ARCHIVE   prints the archive's size in bytes
 *   su-keep restore ARCHIVE DIR
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "keep.h"

static int fail(const char *what, const struct su_error *err)
{
	fprintf(stderr, "su-keep: %s: %s: %s\n", what, su_err_name(err->code),
		err->message);
	return 1;
}

int main(int argc, char **argv)
{
	struct su_error err;
	struct config *cfg;
	uint64_t bytes;
	int status = 0;

	if (argc == 4 && !strcmp(argv[1], "restore"))
		return keep_archive_restore(argv[2], argv[3], &err) ?
			fail("restore", &err) : 0;
	if (argc != 4 || strcmp(argv[1], "create")) {
		fprintf(stderr, "usage: su-keep create CONFIG ARCHIVE\n"
			"       su-keep restore ARCHIVE DIR\n");
		return 2;
	}
	if (config_load(argv[2], &cfg, &err))
		return fail("config", &err);
	if (keep_archive_create(cfg, argv[3], &bytes, &err))
		status = fail("create", &err);
	else
		printf("%" PRIu64 "\n", bytes);
	config_free(cfg);
	return status;
}
