/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdlib.h>

#include "report.h"

static void report_image(FILE *f, const struct manifest_image *img)
{
	char hex[DIGEST_HEX_LEN + 1];

	digest_to_hex(img->sha256, hex);
	fprintf(f, "image %s\n", img->file);
	fprintf(f, "  type:           %s\n", img->type);
	fprintf(f, "  target:         %s\n", img->target);
	fprintf(f, "  size:           %" PRIu64 "\n", img->size);
	fprintf(f, "  compression:    %s\n", compression_name(img->compression));
	if (img->compression != COMPRESSION_NONE)
		fprintf(f, "  installed_size: %" PRIu64 "\n", img->installed_size);
	fprintf(f, "  sha256:         %s\n", hex);
}

void report_manifest(FILE *f, const struct manifest *m)
{
	fprintf(f, "version:     %s\n", m->version);
	fprintf(f, "compatible: ");
	for (size_t i = 0; i < m->n_compatible; i++)
		fprintf(f, " %s", m->compatible[i]);
	fputc('\n', f);
	if (m->description)
		fprintf(f, "description: %s\n", m->description);
	for (size_t i = 0; i < m->n_images; i++)
		report_image(f, &m->images[i]);
	if (m->n_bootenv)
		fprintf(f, "bootenv:\n");
	for (size_t i = 0; i < m->n_bootenv; i++)
		fprintf(f, "  %s=%s\n", m->bootenv[i].key, m->bootenv[i].value);
}

struct json_object *report_error_json(const struct su_error *err)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (json_put(o, "error", json_object_new_string(su_err_name(err->code))) ||
	    json_put(o, "message", json_object_new_string(err->message))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int report_print_json(struct json_object *o)
{
	const char *s;
	int rc = -1;

	if (!o)
		return -1;
	s = json_object_to_json_string_ext(o, JSON_STYLE);
	if (s && printf("%s\n", s) >= 0)
		rc = 0;
	json_object_put(o);
	return rc;
}
