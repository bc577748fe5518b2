/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manifest_parse() on arbitrary bytes. A refusal must be a bad_manifest
 * with a detail and a message; an accepted manifest must survive
 * manifest_to_json() and parse back to the same manifest.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool image_same(const struct manifest_image *a,
		       const struct manifest_image *b)
{
	return str_same(a->file, b->file) && a->size == b->size &&
	       !memcmp(a->sha256, b->sha256, DIGEST_LEN) &&
	       str_same(a->type, b->type) && str_same(a->target, b->target) &&
	       a->compression == b->compression &&
	       a->installed_size == b->installed_size;
}

static bool manifest_same(const struct manifest *a, const struct manifest *b)
{
	if (a->format != b->format || !str_same(a->version, b->version) ||
	    !str_same(a->description, b->description) ||
	    a->n_compatible != b->n_compatible ||
	    a->n_images != b->n_images || a->n_bootenv != b->n_bootenv)
		return false;
	for (size_t i = 0; i < a->n_compatible; i++)
		if (!str_same(a->compatible[i], b->compatible[i]))
			return false;
	for (size_t i = 0; i < a->n_images; i++)
		if (!image_same(&a->images[i], &b->images[i]))
			return false;
	for (size_t i = 0; i < a->n_bootenv; i++)
		if (!str_same(a->bootenv[i].key, b->bootenv[i].key) ||
		    !str_same(a->bootenv[i].value, b->bootenv[i].value))
			return false;
	return true;
}

static void refusal_ok(enum su_err rc, const struct su_error *err)
{
	if (rc == SU_ERR_NOMEM)
		return;
	if (rc != SU_ERR_BAD_MANIFEST || err->code != rc || !err->detail ||
	    strncmp(err->message, "manifest: ", strlen("manifest: "))) {
		fprintf(stderr, "bad refusal %d (%s): %s\n", rc,
			err->detail ? err->detail : "no detail", err->message);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m, *again;
	struct su_error err;
	enum su_err rc;
	char *json;

	rc = manifest_parse((const char *)data, size, &m, &err);
	if (rc) {
		refusal_ok(rc, &err);
		if (m)
			abort();
		return 0;
	}
	json = manifest_to_json(m);
	if (!json)
		abort();
	rc = manifest_parse(json, strlen(json), &again, &err);
	/* escapes and spelt-out defaults can push the output past 64 KiB */
	if (rc && strlen(json) > MANIFEST_MAX_SIZE && err.detail &&
	    !strcmp(err.detail, "too_large")) {
		free(json);
		manifest_free(m);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "own output refused: %s\n%s\n", err.message,
			json);
		abort();
	}
	if (!manifest_same(m, again)) {
		fprintf(stderr, "round trip changed the manifest:\n%s\n", json);
		abort();
	}
	free(json);
	manifest_free(again);
	manifest_free(m);
	return 0;
}
