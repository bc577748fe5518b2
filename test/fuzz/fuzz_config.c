/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config_load() on arbitrary bytes, read through a memfd as a file. A
 * refusal must be SU_ERR_CONFIG with a message naming the file and
 * leave no config; an accepted config must find each of its targets by
 * name, and free cleanly (the leak checker watches every path).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

static void check_refusal(enum su_err rc, const struct su_error *err,
			  const struct config *c)
{
	if (rc == SU_ERR_NOMEM)
		return;
	if (rc != SU_ERR_CONFIG || err->code != rc || c ||
	    !strstr(err->message, path)) {
		fprintf(stderr, "bad refusal %d: %s\n", rc, err->message);
		abort();
	}
}

static void check_config(const struct config *c)
{
	for (size_t i = 0; i < c->n_targets; i++) {
		const struct config_target *t = &c->targets[i];

		if (!t->name || !t->type || config_find_target(c, t->name) != t) {
			fprintf(stderr, "target %zu not found by its name %s\n",
				i, t->name ? t->name : "(null)");
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct su_error err;
	enum su_err rc;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-config", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	rc = config_load(path, &c, &err);
	if (rc) {
		check_refusal(rc, &err, c);
		return 0;
	}
	check_config(c);
	config_free(c);
	return 0;
}
