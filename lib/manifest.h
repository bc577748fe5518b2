/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_MANIFEST_H
#define SU_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"

#define MANIFEST_NAME		"manifest.json"
#define MANIFEST_SIG_NAME	"manifest.json.sig"
#define MANIFEST_MAX_SIZE	(64 * 1024)
#define MANIFEST_FORMAT		1
#define PAYLOAD_NAME_MAX	100	/* fits a plain ustar name field */

enum compression {
	COMPRESSION_NONE,
	COMPRESSION_GZIP,
	COMPRESSION_XZ,
	COMPRESSION_ZSTD,
};

struct manifest_image {
	char *file;		/* flat name of the payload member */
	uint64_t size;		/* bytes as stored in the bundle */
	uint8_t sha256[DIGEST_LEN];
	char *type;		/* "mtd", "ubi", "ext4", "tar" */
	char *target;		/* a target name from the device config */
	enum compression compression;
	uint64_t installed_size; /* decompressed length; == size when none */
};

struct manifest_kv {
	char *key;
	char *value;
};

struct manifest {
	int format;
	char *version;
	char **compatible;
	size_t n_compatible;
	char *description;	/* NULL when absent */
	struct manifest_image *images;
	size_t n_images;
	struct manifest_kv *bootenv;	/* string values only */
	size_t n_bootenv;
};

/*
 * Parse and validate manifest.json (docs/DESIGN.md §4). Strict: on any problem
 * returns SU_ERR_BAD_MANIFEST with err->detail set to one of:
 *   "too_large", "bad_json", "bad_format" (unknown "format"),
 *   "missing_field", "bad_field_type", "bad_hex", "duplicate_file",
 *   "bad_name", "bad_type", "bad_compression", "missing_installed_size",
 *   "bad_value" (e.g. empty version, empty images or compatible list)
 * and err->message naming the field ("images[1].sha256: ...").
 * Unknown keys are ignored so later format-1 additions stay readable.
 * On success *@out is a new manifest the caller frees with manifest_free().
 */
enum su_err manifest_parse(const char *buf, size_t len, struct manifest **out,
			   struct su_error *err);

void manifest_free(struct manifest *m);

/* The image whose "file" is @name, or NULL. */
const struct manifest_image *manifest_find_image(const struct manifest *m,
						 const char *name);

/* True for a payload name: 1..PAYLOAD_NAME_MAX chars of [A-Za-z0-9._-], not "." or "..". */
bool payload_name_valid(const char *name);

/* "none", "gzip", "xz", "zstd". */
const char *compression_name(enum compression c);
/* -1 when unknown. */
int compression_from_name(const char *name);

/* True for the image types this build knows ("mtd", "ubi", "ext4", "tar"). */
bool image_type_known(const char *type);

/*
 * Serialise @m back to JSON (for `inspect --json` and API reports).
 * Returns a malloc'd NUL-terminated string, or NULL on ENOMEM.
 */
char *manifest_to_json(const struct manifest *m);

/* The same as a json-c object, and two of its parts; NULL on ENOMEM. */
struct json_object;
struct json_object *manifest_json(const struct manifest *m);
struct json_object *manifest_images_json(const struct manifest *m);
struct json_object *manifest_compatible_json(const struct manifest *m);

#endif
