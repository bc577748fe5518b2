// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdint.h>

#include "bundle_report.h"
#include "json_put.h"

static int add_offsets(json_object *images, const struct bundle_reader *br)
{
	const struct bundle_payload *p = bundle_reader_payloads(br);
	size_t n = json_object_array_length(images);

	for (size_t i = 0; i < n; i++)
		if (json_put(json_object_array_get_idx(images, i), "offset",
			     json_object_new_uint64(p[i].offset)))
			return -1;
	return 0;
}

struct json_object *bundle_report(const struct bundle_reader *br, bool offsets)
{
	const struct manifest *m = bundle_reader_manifest(br);
	json_object *r = json_object_new_object();
	json_object *images = manifest_images_json(m);
	const char *key = bundle_reader_key_name(br);
	uint8_t sum[DIGEST_LEN];
	char hex[DIGEST_HEX_LEN + 1];

	bundle_reader_sha256(br, sum);
	digest_to_hex(sum, hex);
	if (!r || !images || (offsets && add_offsets(images, br)) ||
	    json_put_str(r, "version", m->version) ||
	    json_put(r, "compatible", manifest_compatible_json(m)) ||
	    json_put_str(r, "description", m->description) ||
	    json_put(r, "images", json_object_get(images)) ||
	    json_put_str(r, "sha256", hex) ||
	    json_put(r, "size", json_object_new_uint64(bundle_reader_bytes(br))) ||
	    (key ? json_put_str(r, "key", key) :
		   json_object_object_add(r, "key", NULL))) {
		json_object_put(images);
		json_object_put(r);
		return NULL;
	}
	json_object_put(images);
	return r;
}
