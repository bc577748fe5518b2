/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * su-closure: lib/closure.h from the command line, for closure.sh.
 *   su-closure plan CONFIG         the closure of this very program
 *   su-closure copy CONFIG ROOT [MAP...]  ... copied into ROOT, with
 *                                  files mapped first, as dlopen() would:
 *       --map FILE             FILE mapped
 *       --map-deleted FILE     FILE mapped, then removed
 *       --map-replaced FILE    FILE mapped, then replaced by a new file
 *                              holding "replaced\n"
 *       --map-memfd            a memfd mapped
 *   su-closure --selftest CONFIG   what a copy must be able to do on its
 *                                  own: start (every library there),
 *                                  read the config and its keys
 * plan and copy print exe=, loader=, library_path= and bytes= lines.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "closure.h"
#include "config.h"
#include "signature.h"

static int fail(const char *what, const struct su_error *err)
{
	fprintf(stderr, "su-closure: %s: %s: %s\n", what,
		su_err_name(err->code), err->message);
	return 1;
}

/* Map @file (or a memfd for NULL) and keep it mapped. */
static int map(const char *file)
{
	int fd = file ? open(file, O_RDONLY | O_CLOEXEC) :
		memfd_create("su-closure-test", MFD_CLOEXEC);

	if (fd < 0 || (!file && write(fd, "memfd\n", 6) != 6) ||
	    mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED) {
		perror(file ? file : "memfd");
		return -1;
	}
	close(fd);
	return 0;
}

static int map_args(int n, char **args)
{
	for (int i = 0; i < n; i++) {
		const char *opt = args[i], *file = i + 1 < n ? args[i + 1] : NULL;
		FILE *f;

		if (!strcmp(opt, "--map-memfd")) {
			if (map(NULL))
				return -1;
			continue;
		}
		if (!file || map(file))
			return -1;
		i++;
		if (!strcmp(opt, "--map"))
			continue;
		if (unlink(file) < 0) {
			perror(file);
			return -1;
		}
		if (!strcmp(opt, "--map-deleted"))
			continue;
		f = fopen(file, "we");
		if (!f || fputs("replaced\n", f) < 0 || fclose(f)) {
			perror(file);
			return -1;
		}
	}
	return 0;
}

static int selftest(const char *path)
{
	struct su_error err;
	struct keyring *kr;
	struct config *cfg;

	if (config_load(path, &cfg, &err))
		return fail("config", &err);
	if (keyring_load_dir(cfg->keys_dir, &kr, &err)) {
		config_free(cfg);
		return fail("keys", &err);
	}
	printf("selftest ok: %s, %zu keys in %s\n", path, keyring_count(kr),
	       cfg->keys_dir);
	keyring_free(kr);
	config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	struct su_error err;
	struct closure *c;
	struct config *cfg;
	int status = 0;

	if (argc == 3 && !strcmp(argv[1], "--selftest"))
		return selftest(argv[2]);
	if (!(argc == 3 && !strcmp(argv[1], "plan")) &&
	    !(argc >= 4 && !strcmp(argv[1], "copy"))) {
		fprintf(stderr, "usage: su-closure plan CONFIG\n"
			"       su-closure copy CONFIG ROOT [--map FILE|--map-deleted FILE|--map-replaced FILE|--map-memfd]...\n"
			"       su-closure --selftest CONFIG\n");
		return 2;
	}
	if (argc > 4 && map_args(argc - 4, argv + 4))
		return 1;
	if (config_load(argv[2], &cfg, &err))
		return fail("config", &err);
	if (closure_plan(cfg, &c, &err)) {
		config_free(cfg);
		return fail("plan", &err);
	}
	if (argc >= 4 && closure_copy(c, argv[3], &err))
		status = fail("copy", &err);
	printf("exe=%s\nloader=%s\nlibrary_path=%s\nbytes=%" PRIu64 "\n",
	       closure_exe(c), closure_loader(c) ? closure_loader(c) : "",
	       closure_library_path(c), closure_bytes(c));
	closure_free(c);
	config_free(cfg);
	return status;
}
