/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * last_install_parse() on arbitrary bytes, as a record read back from a
 * U-Boot variable or a file may be: a refusal is an io_error with a
 * message; an accepted record survives last_install_json() and parses
 * back to the same record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "last_install.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct last_install r, back;
	struct su_error err;
	enum su_err rc;
	char *json;

	rc = last_install_parse((const char *)data, size, &r, &err);
	if (rc == SU_ERR_NOMEM)
		return 0;
	if (rc) {
		if (rc != SU_ERR_IO || err.code != rc || !err.message[0] ||
		    r.version || r.error)
			abort();
		return 0;
	}
	json = last_install_json(&r);
	if (!json)
		abort();
	if (last_install_parse(json, strlen(json), &back, &err)) {
		fprintf(stderr, "own output refused: %s\n%s\n", err.message, json);
		abort();
	}
	if (strcmp(r.version, back.version) || r.ok != back.ok ||
	    strcmp(r.error, back.error) || r.time != back.time) {
		fprintf(stderr, "round trip changed the record:\n%s\n", json);
		abort();
	}
	free(json);
	last_install_free(&back);
	last_install_free(&r);
	return 0;
}
