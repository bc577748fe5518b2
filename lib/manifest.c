/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manifest.json (docs/DESIGN.md §4): strict parsing, validation and
 * serialisation.
 *
 * The manifest is parsed only after its signature verified, but it still
 * decides what gets written where, so every field is checked for type,
 * range and charset, and each refusal names the field ("images[1].sha256").
 */
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_put.h"
#include "manifest.h"

#define MAX_ENTRIES		64	/* compatible, images, bootenv */
#define VERSION_MAX		64
#define COMPATIBLE_MAX		128
#define TARGET_MAX		64
#define SHOWN_MAX		32	/* bytes of a bad value quoted in messages */

/* The JSON object being validated and where it sits in the document. */
struct obj_ctx {
	json_object *obj;
	const char *name;	/* "images[1]", "bootenv", or "" at the top */
	struct su_error *err;
};

static const char *const compression_names[] = {
	[COMPRESSION_NONE] = "none",
	[COMPRESSION_GZIP] = "gzip",
	[COMPRESSION_XZ] = "xz",
	[COMPRESSION_ZSTD] = "zstd",
};

static const char *const image_types[] = { "mtd", "ubi", "ext4", "tar" };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *compression_name(enum compression c)
{
	if ((unsigned)c >= ARRAY_SIZE(compression_names))
		return "unknown";
	return compression_names[c];
}

int compression_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(compression_names); i++)
		if (!strcmp(compression_names[i], name))
			return (int)i;
	return -1;
}

bool image_type_known(const char *type)
{
	if (!type)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(image_types); i++)
		if (!strcmp(image_types[i], type))
			return true;
	return false;
}

/* [A-Za-z0-9._-]: payload names and target names. */
static bool name_chars_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '.' && ch != '_' &&
		    ch != '-')
			return false;
	}
	return true;
}

bool payload_name_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, PAYLOAD_NAME_MAX + 1);
	if (len == 0 || len > PAYLOAD_NAME_MAX)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return name_chars_ok(name, len);
}

/* Control characters, including NUL from a "\u0000" escape. */
static bool has_ctrl(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			return true;
	}
	return false;
}

/* Refuse the manifest: "manifest: <object>.<key>: <why>". */
__attribute__((format(printf, 4, 5)))
static enum su_err bad(const struct obj_ctx *c, const char *key,
		       const char *detail, const char *fmt, ...)
{
	const char *sep = c->name[0] && key[0] ? "." : "";
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return su_error_setd(c->err, SU_ERR_BAD_MANIFEST, detail,
			     "manifest: %s%s%s: %s", c->name, sep, key, why);
}

static enum su_err nomem(struct su_error *err)
{
	return su_error_set(err, SU_ERR_NOMEM, "manifest: out of memory");
}

/* JSON null counts as a mistyped field, not as an absent one. */
static enum su_err check_type(const struct obj_ctx *c, const char *key,
			      json_object *v, enum json_type type)
{
	if (json_object_is_type(v, type))
		return SU_OK;
	return bad(c, key, "bad_field_type", "expected %s, got %s",
		   json_type_to_name(type),
		   json_type_to_name(json_object_get_type(v)));
}

/* Fetch @key of type @type; *@out is NULL when absent and !@required. */
static enum su_err get_field(const struct obj_ctx *c, const char *key,
			     enum json_type type, bool required,
			     json_object **out)
{
	json_object *v;
	enum su_err rc;

	*out = NULL;
	if (!json_object_object_get_ex(c->obj, key, &v)) {
		if (required)
			return bad(c, key, "missing_field",
				   "required field is missing");
		return SU_OK;
	}
	rc = check_type(c, key, v, type);
	if (!rc)
		*out = v;
	return rc;
}

static enum su_err get_string(const struct obj_ctx *c, const char *key,
			      bool required, const char **s, size_t *len)
{
	json_object *v;
	enum su_err rc;

	*s = NULL;
	*len = 0;
	rc = get_field(c, key, json_type_string, required, &v);
	if (rc || !v)
		return rc;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return SU_OK;
}

/* A non-negative JSON integer that fits int64 (json-c saturates the rest). */
static enum su_err get_size(const struct obj_ctx *c, const char *key,
			    bool required, bool *present, uint64_t *out)
{
	json_object *v;
	enum su_err rc;
	int64_t n;

	*present = false;
	rc = get_field(c, key, json_type_int, required, &v);
	if (rc || !v)
		return rc;
	n = json_object_get_int64(v);
	if (n < 0)
		return bad(c, key, "bad_value", "must not be negative");
	if (n == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
		return bad(c, key, "bad_value", "larger than %lld",
			   (long long)INT64_MAX);
	*present = true;
	*out = (uint64_t)n;
	return SU_OK;
}

/*
 * The array @key with 1..MAX_ENTRIES elements, and a zeroed table of as
 * many @size-byte items for the caller to fill and, in the end, free.
 */
static enum su_err get_list(const struct obj_ctx *c, const char *key,
			    size_t size, json_object **arr, void **items)
{
	enum su_err rc;
	size_t n;

	rc = get_field(c, key, json_type_array, true, arr);
	if (rc)
		return rc;
	n = json_object_array_length(*arr);
	if (n == 0)
		return bad(c, key, "bad_value", "must not be empty");
	if (n > MAX_ENTRIES)
		return bad(c, key, "bad_value", "%zu entries, at most %d allowed",
			   n, MAX_ENTRIES);
	*items = calloc(n, size);
	return *items ? SU_OK : nomem(c->err);
}

static enum su_err dup_string(const char *s, char **out, struct su_error *err)
{
	*out = strdup(s);
	return *out ? SU_OK : nomem(err);
}

/* Returns the offset of the first byte that is not RFC 3629 UTF-8, or @len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char ch = s[i];
		uint32_t cp, min;
		size_t n;

		if (ch < 0x80) {
			i++;
			continue;
		}
		if (ch >= 0xc2 && ch <= 0xdf) {
			n = 1, cp = ch & 0x1f, min = 0x80;
		} else if ((ch & 0xf0) == 0xe0) {
			n = 2, cp = ch & 0x0f, min = 0x800;
		} else if (ch >= 0xf0 && ch <= 0xf4) {
			n = 3, cp = ch & 0x07, min = 0x10000;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond Unicode */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

static bool json_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

__attribute__((format(printf, 2, 3)))
static enum su_err bad_json(struct su_error *err, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return su_error_setd(err, SU_ERR_BAD_MANIFEST, "bad_json",
			     "manifest: not a valid JSON object: %s", why);
}

/* The ':' outside strings of (strict) JSON text: one per object member. */
static size_t json_colons(const char *buf, size_t len)
{
	bool in_string = false;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (buf[i] == '\\')
				i++;
			else if (buf[i] == '"')
				in_string = false;
		} else if (buf[i] == '"') {
			in_string = true;
		} else if (buf[i] == ':') {
			n++;
		}
	}
	return n;
}

/* The members of every object in @o; json-c's depth limit bounds the
 * recursion. */
static size_t json_members(json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v) {
			(void)key;
			n += 1 + json_members(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += json_members(json_object_array_get_idx(o, i));
	}
	return n;
}

/* Byte-level checks, then json-c; the buffer must be one object exactly. */
static enum su_err parse_json(const char *buf, size_t len, json_object **out,
			      struct su_error *err)
{
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	const char *nul;
	json_object *obj;
	size_t end;

	*out = NULL;
	if (len > MANIFEST_MAX_SIZE)
		return su_error_setd(err, SU_ERR_BAD_MANIFEST, "too_large",
			"manifest: %zu bytes, more than the %d byte limit",
			len, MANIFEST_MAX_SIZE);
	if (len == 0)
		return bad_json(err, "empty");
	nul = memchr(buf, '\0', len);
	if (nul)
		return bad_json(err, "NUL byte at offset %zu",
				(size_t)(nul - buf));
	end = utf8_check((const unsigned char *)buf, len);
	if (end != len)
		return bad_json(err, "invalid UTF-8 at offset %zu", end);

	tok = json_tokener_new();
	if (!tok)
		return nomem(err);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (jerr == json_tokener_continue)
		return bad_json(err, "truncated: input ends at offset %zu inside the JSON value",
				len);
	if (jerr != json_tokener_success)
		return bad_json(err, "at offset %zu: %s", end,
				json_tokener_error_desc(jerr));
	while (end < len && json_space(buf[end]))
		end++;
	if (end < len) {
		json_object_put(obj);
		return bad_json(err, "trailing data at offset %zu", end);
	}
	if (!json_object_is_type(obj, json_type_object)) {
		enum json_type t = json_object_get_type(obj);

		json_object_put(obj);
		return bad_json(err, "the top-level value is of type %s, not an object",
				json_type_to_name(t));
	}
	/* json-c keeps the last of two equal keys, where another reader
	 * may keep the first: a manifest must mean one thing to all */
	if (json_members(obj) != json_colons(buf, len)) {
		json_object_put(obj);
		return bad_json(err, "a key appears twice in one object");
	}
	*out = obj;
	return SU_OK;
}

static enum su_err parse_format(const struct obj_ctx *c, struct manifest *m)
{
	json_object *v;
	enum su_err rc;
	int64_t n;

	rc = get_field(c, "format", json_type_int, true, &v);
	if (rc)
		return rc;
	n = json_object_get_int64(v);
	if (n != MANIFEST_FORMAT)
		return bad(c, "format", "bad_format",
			   "format %lld is not supported (this build reads format %d)",
			   (long long)n, MANIFEST_FORMAT);
	m->format = MANIFEST_FORMAT;
	return SU_OK;
}

static enum su_err parse_version(const struct obj_ctx *c, struct manifest *m)
{
	enum su_err rc;
	const char *s;
	size_t len;

	rc = get_string(c, "version", true, &s, &len);
	if (rc)
		return rc;
	if (len == 0)
		return bad(c, "version", "bad_value", "must not be empty");
	if (len > VERSION_MAX)
		return bad(c, "version", "bad_value",
			   "%zu bytes, at most %d allowed", len, VERSION_MAX);
	if (has_ctrl(s, len))
		return bad(c, "version", "bad_value",
			   "contains a control character");
	return dup_string(s, &m->version, c->err);
}

static enum su_err parse_compatible_entry(const struct obj_ctx *c,
					  const char *key, json_object *v,
					  char **out)
{
	enum su_err rc;
	const char *s;
	size_t len;

	rc = check_type(c, key, v, json_type_string);
	if (rc)
		return rc;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > COMPATIBLE_MAX)
		return bad(c, key, "bad_value", "%zu bytes, expected 1 to %d",
			   len, COMPATIBLE_MAX);
	if (has_ctrl(s, len))
		return bad(c, key, "bad_value", "contains a control character");
	return dup_string(s, out, c->err);
}

static enum su_err parse_compatible(const struct obj_ctx *c,
				    struct manifest *m)
{
	json_object *arr;
	enum su_err rc;
	void *items;

	rc = get_list(c, "compatible", sizeof(*m->compatible), &arr, &items);
	if (rc)
		return rc;
	m->compatible = items;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		char key[40];

		snprintf(key, sizeof(key), "compatible[%zu]", i);
		m->n_compatible = i + 1;
		rc = parse_compatible_entry(c, key,
					    json_object_array_get_idx(arr, i),
					    &m->compatible[i]);
		if (rc)
			return rc;
	}
	return SU_OK;
}

static enum su_err parse_description(const struct obj_ctx *c,
				     struct manifest *m)
{
	enum su_err rc;
	const char *s;
	size_t len;

	rc = get_string(c, "description", false, &s, &len);
	if (rc || !s)
		return rc;
	if (strlen(s) != len)
		return bad(c, "description", "bad_value",
			   "contains a NUL character");
	return dup_string(s, &m->description, c->err);
}

static enum su_err parse_file(const struct obj_ctx *c,
			      struct manifest_image *img)
{
	char show[SU_SHOWN_SIZE(SHOWN_MAX)];
	enum su_err rc;
	const char *s;
	size_t len;

	rc = get_string(c, "file", true, &s, &len);
	if (rc)
		return rc;
	if (strlen(s) != len || !payload_name_valid(s))
		return bad(c, "file", "bad_name",
			   "\"%s\" is not a payload name (1 to %d characters of [A-Za-z0-9._-], not \".\" or \"..\")",
			   su_shown(show, SHOWN_MAX, s, len), PAYLOAD_NAME_MAX);
	if (!strcmp(s, MANIFEST_NAME) || !strcmp(s, MANIFEST_SIG_NAME))
		return bad(c, "file", "bad_name",
			   "\"%s\" is reserved for the bundle's manifest", s);
	return dup_string(s, &img->file, c->err);
}

static enum su_err parse_sha256(const struct obj_ctx *c,
				struct manifest_image *img)
{
	enum su_err rc;
	const char *s;
	size_t len;

	rc = get_string(c, "sha256", true, &s, &len);
	if (rc)
		return rc;
	if (len != DIGEST_HEX_LEN)
		return bad(c, "sha256", "bad_hex",
			   "expected %d hex digits, got %zu characters",
			   DIGEST_HEX_LEN, len);
	if (digest_from_hex(s, img->sha256) < 0)
		return bad(c, "sha256", "bad_hex",
			   "expected %d hex digits, got a character that is not one",
			   DIGEST_HEX_LEN);
	return SU_OK;
}

static enum su_err parse_type(const struct obj_ctx *c,
			      struct manifest_image *img)
{
	char show[SU_SHOWN_SIZE(SHOWN_MAX)];
	enum su_err rc;
	const char *s;
	size_t len;

	rc = get_string(c, "type", true, &s, &len);
	if (rc)
		return rc;
	if (strlen(s) != len || !image_type_known(s))
		return bad(c, "type", "bad_type",
			   "unknown image type \"%s\" (known: mtd, ubi, ext4, tar)",
			   su_shown(show, SHOWN_MAX, s, len));
	return dup_string(s, &img->type, c->err);
}

static enum su_err parse_target(const struct obj_ctx *c,
				struct manifest_image *img)
{
	char show[SU_SHOWN_SIZE(SHOWN_MAX)];
	enum su_err rc;
	const char *s;
	size_t len;

	rc = get_string(c, "target", true, &s, &len);
	if (rc)
		return rc;
	if (len == 0 || len > TARGET_MAX || !name_chars_ok(s, len))
		return bad(c, "target", "bad_value",
			   "\"%s\" is not a target name (1 to %d characters of [A-Za-z0-9._-])",
			   su_shown(show, SHOWN_MAX, s, len), TARGET_MAX);
	return dup_string(s, &img->target, c->err);
}

static enum su_err parse_compression(const struct obj_ctx *c,
				     struct manifest_image *img)
{
	char show[SU_SHOWN_SIZE(SHOWN_MAX)];
	enum su_err rc;
	const char *s;
	size_t len;
	int comp;

	rc = get_string(c, "compression", false, &s, &len);
	if (rc)
		return rc;
	if (!s) {
		img->compression = COMPRESSION_NONE;
		return SU_OK;
	}
	comp = strlen(s) == len ? compression_from_name(s) : -1;
	if (comp < 0)
		return bad(c, "compression", "bad_compression",
			   "unknown compression \"%s\" (known: none, gzip, xz, zstd)",
			   su_shown(show, SHOWN_MAX, s, len));
	img->compression = (enum compression)comp;
	return SU_OK;
}

/* After "size" and "compression": the decompressed length. */
static enum su_err parse_installed_size(const struct obj_ctx *c,
					struct manifest_image *img)
{
	bool present;
	enum su_err rc;

	rc = get_size(c, "installed_size", false, &present,
		      &img->installed_size);
	if (rc)
		return rc;
	if (img->compression != COMPRESSION_NONE) {
		if (!present)
			return bad(c, "installed_size", "missing_installed_size",
				   "required for a %s compressed payload",
				   compression_name(img->compression));
		return SU_OK;
	}
	if (!present)
		img->installed_size = img->size;
	else if (img->installed_size != img->size)
		return bad(c, "installed_size", "bad_value",
			   "%llu differs from size %llu of an uncompressed payload",
			   (unsigned long long)img->installed_size,
			   (unsigned long long)img->size);
	return SU_OK;
}

static enum su_err parse_image(const struct obj_ctx *c,
			       struct manifest_image *img)
{
	bool present;
	enum su_err rc;

	rc = parse_file(c, img);
	if (!rc)
		rc = get_size(c, "size", true, &present, &img->size);
	if (!rc)
		rc = parse_sha256(c, img);
	if (!rc)
		rc = parse_type(c, img);
	if (!rc)
		rc = parse_target(c, img);
	if (!rc)
		rc = parse_compression(c, img);
	if (!rc)
		rc = parse_installed_size(c, img);
	return rc;
}

static enum su_err parse_images(const struct obj_ctx *c, struct manifest *m)
{
	json_object *arr;
	enum su_err rc;
	void *items;

	rc = get_list(c, "images", sizeof(*m->images), &arr, &items);
	if (rc)
		return rc;
	m->images = items;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		char name[40];
		const struct obj_ctx ic = { v, name, c->err };

		snprintf(name, sizeof(name), "images[%zu]", i);
		rc = check_type(c, name, v, json_type_object);
		if (rc)
			return rc;
		m->n_images = i + 1;	/* so manifest_free() sees a half-parsed one */
		rc = parse_image(&ic, &m->images[i]);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->images[j].file, m->images[i].file))
				return bad(&ic, "file", "duplicate_file",
					   "\"%s\" is already listed by images[%zu]",
					   m->images[i].file, j);
	}
	return SU_OK;
}

static enum su_err parse_bootenv_entry(const struct obj_ctx *c,
				       const char *key, json_object *v,
				       struct manifest_kv *kv)
{
	const char *s;
	enum su_err rc;

	if (!key[0])
		return bad(c, "", "bad_value", "empty variable name");
	if (has_ctrl(key, strlen(key)))
		return bad(c, "", "bad_value",
			   "a variable name contains a control character");
	if (strchr(key, '='))
		return bad(c, key, "bad_value", "variable name contains '='");
	rc = check_type(c, key, v, json_type_string);
	if (rc)
		return rc;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return bad(c, key, "bad_value", "contains a NUL character");
	rc = dup_string(key, &kv->key, c->err);
	if (!rc)
		rc = dup_string(s, &kv->value, c->err);
	return rc;
}

static enum su_err parse_bootenv(const struct obj_ctx *c, struct manifest *m)
{
	struct json_object_iterator it, end;
	struct obj_ctx env = { NULL, "bootenv", c->err };
	enum su_err rc;
	size_t n;

	rc = get_field(c, "bootenv", json_type_object, false, &env.obj);
	if (rc || !env.obj)
		return rc;
	n = (size_t)json_object_object_length(env.obj);
	if (n == 0)
		return SU_OK;
	if (n > MAX_ENTRIES)
		return bad(c, "bootenv", "bad_value",
			   "%zu variables, at most %d allowed", n, MAX_ENTRIES);
	m->bootenv = calloc(n, sizeof(*m->bootenv));
	if (!m->bootenv)
		return nomem(c->err);
	it = json_object_iter_begin(env.obj);
	end = json_object_iter_end(env.obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		m->n_bootenv++;
		rc = parse_bootenv_entry(&env, json_object_iter_peek_name(&it),
					 json_object_iter_peek_value(&it),
					 &m->bootenv[m->n_bootenv - 1]);
		if (rc)
			return rc;
	}
	return SU_OK;
}

static enum su_err parse_manifest(json_object *root, struct manifest *m,
				  struct su_error *err)
{
	const struct obj_ctx c = { root, "", err };
	enum su_err rc;

	/* format first: a newer format may legitimately lack the rest */
	rc = parse_format(&c, m);
	if (!rc)
		rc = parse_version(&c, m);
	if (!rc)
		rc = parse_compatible(&c, m);
	if (!rc)
		rc = parse_description(&c, m);
	if (!rc)
		rc = parse_images(&c, m);
	if (!rc)
		rc = parse_bootenv(&c, m);
	return rc;
}

enum su_err manifest_parse(const char *buf, size_t len, struct manifest **out,
			   struct su_error *err)
{
	struct manifest *m = NULL;
	json_object *root;
	enum su_err rc;

	*out = NULL;
	rc = parse_json(buf, len, &root, err);
	if (rc)
		return rc;
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = nomem(err);
		goto out;
	}
	rc = parse_manifest(root, m, err);
	if (rc)
		goto out;
	*out = m;
	m = NULL;
	su_error_clear(err);
out:
	manifest_free(m);
	json_object_put(root);
	return rc;
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	free(m->version);
	for (size_t i = 0; i < m->n_compatible; i++)
		free(m->compatible[i]);
	free(m->compatible);
	free(m->description);
	for (size_t i = 0; i < m->n_images; i++) {
		free(m->images[i].file);
		free(m->images[i].type);
		free(m->images[i].target);
	}
	free(m->images);
	for (size_t i = 0; i < m->n_bootenv; i++) {
		free(m->bootenv[i].key);
		free(m->bootenv[i].value);
	}
	free(m->bootenv);
	free(m);
}

const struct manifest_image *manifest_find_image(const struct manifest *m,
						 const char *name)
{
	if (!m || !name)
		return NULL;
	for (size_t i = 0; i < m->n_images; i++)
		if (m->images[i].file && !strcmp(m->images[i].file, name))
			return &m->images[i];
	return NULL;
}

/* Serialisation, with the checked builders of json_put.h. */

static json_object *image_to_json(const struct manifest_image *img)
{
	json_object *o = json_object_new_object();
	char hex[DIGEST_HEX_LEN + 1];

	if (!o)
		return NULL;
	digest_to_hex(img->sha256, hex);
	if (json_put_str(o, "file", img->file) ||
	    json_put(o, "size", json_object_new_uint64(img->size)) ||
	    json_put_str(o, "sha256", hex) ||
	    json_put_str(o, "type", img->type) ||
	    json_put_str(o, "target", img->target) ||
	    json_put_str(o, "compression", compression_name(img->compression)) ||
	    json_put(o, "installed_size",
		json_object_new_uint64(img->installed_size))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *compatible_item(const void *ctx, size_t i)
{
	const struct manifest *m = ctx;

	return json_object_new_string(m->compatible[i]);
}

static json_object *image_item(const void *ctx, size_t i)
{
	const struct manifest *m = ctx;

	return image_to_json(&m->images[i]);
}

static json_object *bootenv_to_json(const struct manifest *m)
{
	json_object *env = json_object_new_object();

	for (size_t i = 0; env && i < m->n_bootenv; i++) {
		const struct manifest_kv *kv = &m->bootenv[i];

		if (kv->key && json_put_str(env, kv->key, kv->value)) {
			json_object_put(env);
			return NULL;
		}
	}
	return env;
}

json_object *manifest_images_json(const struct manifest *m)
{
	return json_array_of(m->n_images, image_item, m);
}

json_object *manifest_compatible_json(const struct manifest *m)
{
	return json_array_of(m->n_compatible, compatible_item, m);
}

json_object *manifest_json(const struct manifest *m)
{
	json_object *root = json_object_new_object();

	if (root &&
	    (json_put(root, "format", json_object_new_int(m->format)) ||
	     json_put_str(root, "version", m->version) ||
	     json_put(root, "compatible", manifest_compatible_json(m)) ||
	     json_put_str(root, "description", m->description) ||
	     json_put(root, "images", manifest_images_json(m)) ||
	     json_put(root, "bootenv", bootenv_to_json(m)))) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

char *manifest_to_json(const struct manifest *m)
{
	json_object *root = manifest_json(m);
	const char *s;
	char *copy = NULL;

	if (!root)
		return NULL;
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		copy = strdup(s);
	json_object_put(root);
	return copy;
}
