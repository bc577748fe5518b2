/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sysupgrade-bundle create: image files -> signed bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_writer.h"
#include "commands.h"
#include "manifest.h"
#include "payload.h"
#include "report.h"
#include "signature.h"

struct image_spec {
	char *buf;		/* a copy of the --image argument, cut at ':' */
	const char *path;
	const char *type;
	const char *target;
	enum compression compression;
	char *name;		/* payload member name */
	struct payload payload;
};

struct create_opts {
	const char *version;
	const char *description;
	const char *key;
	const char *output;
	const char **compatible;
	size_t n_compatible;
	const char **bootenv;	/* "KEY=VALUE" as given */
	size_t n_bootenv;
	struct image_spec *images;
	size_t n_images;
};

static void create_help(void)
{
	printf("Usage: %s create --version V --compatible C [--compatible C]...\n"
	       "         --image FILE:TYPE:TARGET[:COMPRESSION] [--image ...]...\n"
	       "         --key PRIV.pem [--description TEXT]\n"
	       "         [--bootenv KEY=VALUE]... --output OUT\n\n"
	       "Build a bundle: manifest.json, its signature, then the payloads\n"
	       "in --image order. Each payload is named after FILE's base name\n"
	       "(plus .gz, .xz or .zst when compressed), which must be made of\n"
	       "[A-Za-z0-9._-]. FILE may contain ':'; the last fields are taken\n"
	       "as TYPE, TARGET and the optional COMPRESSION.\n\n"
	       "  -V, --version V         version of the firmware in the bundle\n"
	       "  -c, --compatible C      device compatible string (repeatable)\n"
	       "  -i, --image SPEC        TYPE is mtd, ubi, ext4 or tar; TARGET a\n"
	       "                          target name of the device config;\n"
	       "                          COMPRESSION none, gzip, xz or zstd\n"
	       "  -k, --key FILE          private key (PEM, ECDSA P-256 or RSA)\n"
	       "  -d, --description TEXT  free text shown to users\n"
	       "  -b, --bootenv K=V       U-Boot variable to set (repeatable)\n"
	       "  -o, --output FILE       bundle to write (replaced atomically)\n"
	       "  -h, --help              show this help\n\n"
	       "Compressed payloads are staged in $TMPDIR (default /tmp).\n"
	       "Member mtimes come from $SOURCE_DATE_EPOCH when set.\n",
	       TOOL_NAME);
}

static int out_of_memory(void)
{
	fprintf(stderr, "create: out_of_memory: parsing the arguments\n");
	return 1;
}

static char *pop_field(char *s)
{
	char *colon = strrchr(s, ':');

	if (!colon)
		return NULL;
	*colon = '\0';
	return colon + 1;
}

/* FILE:TYPE:TARGET[:COMPRESSION], read from the right so FILE may hold ':'. */
static int parse_image_spec(const char *spec, struct image_spec *img)
{
	size_t fields = 1;
	int c;

	for (const char *p = spec; *p; p++)
		fields += *p == ':';
	if (fields < 3)
		return cli_usage("create", "--image %s: expected FILE:TYPE:TARGET[:COMPRESSION]",
				 spec);
	img->buf = strdup(spec);
	if (!img->buf)
		return out_of_memory();
	c = compression_from_name(strrchr(img->buf, ':') + 1);
	if (fields >= 4 && c >= 0) {
		img->compression = (enum compression)c;
		pop_field(img->buf);
	}
	img->target = pop_field(img->buf);
	img->type = pop_field(img->buf);
	img->path = img->buf;
	if (!*img->path || !*img->type || !*img->target)
		return cli_usage("create", "--image %s: FILE, TYPE and TARGET must not be empty",
				 spec);
	if (!image_type_known(img->type))
		return cli_usage("create", "--image %s: unknown image type '%s' (mtd, ubi, ext4 or tar)",
				 spec, img->type);
	return 0;
}

static const char *compression_ext(enum compression c)
{
	switch (c) {
	case COMPRESSION_GZIP:
		return ".gz";
	case COMPRESSION_XZ:
		return ".xz";
	case COMPRESSION_ZSTD:
		return ".zst";
	default:
		return "";
	}
}

/* Name image @i of @o after its file; refuse bad and duplicate names. */
static int name_payload(struct create_opts *o, size_t i)
{
	struct image_spec *img = &o->images[i];
	const char *base = strrchr(img->path, '/');

	base = base ? base + 1 : img->path;
	if (asprintf(&img->name, "%s%s", base,
		     compression_ext(img->compression)) < 0) {
		img->name = NULL;
		return out_of_memory();
	}
	if (!payload_name_valid(img->name))
		return cli_usage("create", "%s: payload name '%s' is not 1-%d characters of [A-Za-z0-9._-]; rename the file",
				 img->path, img->name, PAYLOAD_NAME_MAX);
	if (!strcmp(img->name, MANIFEST_NAME) ||
	    !strcmp(img->name, MANIFEST_SIG_NAME))
		return cli_usage("create", "%s: payload name '%s' is reserved",
				 img->path, img->name);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(o->images[j].name, img->name))
			return cli_usage("create", "%s and %s: both would be payload '%s'",
					 o->images[j].path, img->path, img->name);
	return 0;
}

static int check_bootenv(const struct create_opts *o)
{
	for (size_t i = 0; i < o->n_bootenv; i++) {
		const char *eq = strchr(o->bootenv[i], '=');
		size_t klen = eq ? (size_t)(eq - o->bootenv[i]) : 0;

		if (!klen)
			return cli_usage("create", "--bootenv %s: expected KEY=VALUE",
					 o->bootenv[i]);
		for (size_t j = 0; j < i; j++)
			if (!strncmp(o->bootenv[j], o->bootenv[i], klen + 1))
				return cli_usage("create", "--bootenv: '%.*s' given twice",
						 (int)klen, o->bootenv[i]);
	}
	return 0;
}

static int check_opts(struct create_opts *o)
{
	int rc;

	if (!o->version || !*o->version)
		return cli_usage("create", "--version is required");
	if (!o->n_compatible)
		return cli_usage("create", "at least one --compatible is required");
	if (!o->n_images)
		return cli_usage("create", "at least one --image is required");
	if (!o->key)
		return cli_usage("create", "--key is required");
	if (!o->output)
		return cli_usage("create", "--output is required");
	for (size_t i = 0; i < o->n_images; i++) {
		rc = name_payload(o, i);
		if (rc)
			return rc;
	}
	return check_bootenv(o);
}

static int parse_args(int argc, char **argv, struct create_opts *o)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'V' },
		{ "compatible", required_argument, NULL, 'c' },
		{ "image", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'k' },
		{ "description", required_argument, NULL, 'd' },
		{ "bootenv", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, "V:c:i:k:d:b:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			o->version = optarg;
			break;
		case 'c':
			o->compatible[o->n_compatible++] = optarg;
			break;
		case 'i':
			rc = parse_image_spec(optarg, &o->images[o->n_images++]);
			if (rc)
				return rc;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'd':
			o->description = optarg;
			break;
		case 'b':
			o->bootenv[o->n_bootenv++] = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			create_help();
			return -1;
		default:
			return cli_usage_hint("create");
		}
	}
	if (optind < argc)
		return cli_usage("create", "unexpected argument '%s'", argv[optind]);
	return check_opts(o);
}

/* json_array_of() item: images[i] of the create_opts at @ctx */
static struct json_object *image_json(const void *ctx, size_t i)
{
	const struct image_spec *img = &((const struct create_opts *)ctx)->images[i];
	struct json_object *o = json_object_new_object();
	const struct payload *p = &img->payload;
	char hex[DIGEST_HEX_LEN + 1];

	if (!o)
		return NULL;
	digest_to_hex(p->sha256, hex);
	if (json_put(o, "file", json_object_new_string(img->name)) ||
	    json_put(o, "size", json_object_new_int64((int64_t)p->size)) ||
	    json_put(o, "sha256", json_object_new_string(hex)) ||
	    json_put(o, "type", json_object_new_string(img->type)) ||
	    json_put(o, "target", json_object_new_string(img->target)) ||
	    json_put(o, "compression",
		       json_object_new_string(compression_name(img->compression))) ||
	    (img->compression != COMPRESSION_NONE &&
	     json_put(o, "installed_size",
			json_object_new_int64((int64_t)p->installed_size)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* json_array_of() item: string i of the array at @ctx */
static struct json_object *string_json(const void *ctx, size_t i)
{
	return json_object_new_string(((const char *const *)ctx)[i]);
}

static struct json_object *bootenv_json(const struct create_opts *o)
{
	struct json_object *env = json_object_new_object();

	for (size_t i = 0; env && i < o->n_bootenv; i++) {
		const char *eq = strchr(o->bootenv[i], '=');
		char *key = strndup(o->bootenv[i], (size_t)(eq - o->bootenv[i]));
		int bad = !key || json_put(env, key, json_object_new_string(eq + 1));

		free(key);
		if (bad) {
			json_object_put(env);
			return NULL;
		}
	}
	return env;
}

/* The manifest object, keys in docs/DESIGN.md §4 order. NULL on ENOMEM. */
static struct json_object *new_manifest_json(const struct create_opts *o)
{
	struct json_object *m = json_object_new_object();

	if (!m)
		return NULL;
	if (json_put(m, "format", json_object_new_int(MANIFEST_FORMAT)) ||
	    json_put(m, "version", json_object_new_string(o->version)) ||
	    json_put(m, "compatible",
		       json_array_of(o->n_compatible, string_json, o->compatible)) ||
	    (o->description &&
	     json_put(m, "description", json_object_new_string(o->description))) ||
	    json_put(m, "images", json_array_of(o->n_images, image_json, o)) ||
	    (o->n_bootenv && json_put(m, "bootenv", bootenv_json(o)))) {
		json_object_put(m);
		return NULL;
	}
	return m;
}

/* Render the manifest and check it with the parser devices use. */
static enum su_err render_manifest(const struct create_opts *o, char **out,
				   size_t *len, struct su_error *err)
{
	struct json_object *m = new_manifest_json(o);
	struct manifest *parsed;
	const char *text;
	enum su_err rc;
	int n = -1;

	if (!m)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	text = json_object_to_json_string_ext(m, JSON_STYLE);
	if (text)
		n = asprintf(out, "%s\n", text);
	json_object_put(m);
	if (n < 0)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	*len = (size_t)n;
	rc = manifest_parse(*out, *len, &parsed, err);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	manifest_free(parsed);
	return SU_OK;
}

static enum su_err prepare_payloads(struct create_opts *o, struct su_error *err)
{
	for (size_t i = 0; i < o->n_images; i++) {
		struct image_spec *img = &o->images[i];
		enum su_err rc = payload_prepare(img->path, img->compression,
						 &img->payload, err);

		if (rc)
			return rc;
	}
	return SU_OK;
}

static enum su_err write_bundle(struct bundle_writer *bw,
				const struct create_opts *o,
				const char *manifest, size_t manifest_len,
				const unsigned char *sig, size_t sig_len,
				struct su_error *err)
{
	enum su_err rc;

	rc = bundle_writer_add_buf(bw, MANIFEST_NAME, manifest, manifest_len, err);
	if (!rc)
		rc = bundle_writer_add_buf(bw, MANIFEST_SIG_NAME, sig, sig_len, err);
	for (size_t i = 0; !rc && i < o->n_images; i++) {
		const struct image_spec *img = &o->images[i];

		rc = bundle_writer_add_fd(bw, img->name, img->payload.fd,
					  img->payload.size, img->path, err);
	}
	return rc;
}

/*
 * Signing a few bytes first finds a bad key before minutes of
 * compression rather than after.
 */
static enum su_err check_key(const char *key, struct su_error *err)
{
	unsigned char *sig;
	size_t len;
	enum su_err rc = signature_sign(key, "", 0, &sig, &len, err);

	if (!rc)
		free(sig);
	return rc;
}

static enum su_err create_bundle(struct create_opts *o, struct su_error *err)
{
	struct bundle_writer *bw = NULL;
	unsigned char *sig = NULL;
	char *manifest = NULL;
	size_t manifest_len = 0, sig_len = 0;
	enum su_err rc;

	rc = check_key(o->key, err);
	if (!rc)
		rc = bundle_writer_open(o->output, &bw, err);
	if (!rc)
		rc = prepare_payloads(o, err);
	if (!rc)
		rc = render_manifest(o, &manifest, &manifest_len, err);
	if (rc)
		goto out;
	rc = signature_sign(o->key, manifest, manifest_len, &sig, &sig_len, err);
	if (!rc)
		rc = write_bundle(bw, o, manifest, manifest_len, sig, sig_len, err);
	if (!rc) {
		rc = bundle_writer_commit(bw, err);
		bw = NULL;
	}
out:
	bundle_writer_abort(bw);
	free(manifest);
	free(sig);
	return rc;
}

static void free_opts(struct create_opts *o)
{
	for (size_t i = 0; o->images && i < o->n_images; i++) {
		payload_close(&o->images[i].payload);
		free(o->images[i].buf);
		free(o->images[i].name);
	}
	free(o->images);
	free(o->compatible);
	free(o->bootenv);
}

int cmd_create(int argc, char **argv)
{
	struct create_opts o = { 0 };
	struct su_error err;
	int rc;

	/* no option repeats more often than there are arguments */
	o.compatible = calloc((size_t)argc, sizeof(*o.compatible));
	o.bootenv = calloc((size_t)argc, sizeof(*o.bootenv));
	o.images = calloc((size_t)argc, sizeof(*o.images));
	if (!o.compatible || !o.bootenv || !o.images) {
		free_opts(&o);
		return out_of_memory();
	}
	for (int i = 0; i < argc; i++)
		o.images[i].payload.fd = -1;
	rc = parse_args(argc, argv, &o);
	if (rc < 0)
		rc = 0;		/* --help */
	else if (!rc && create_bundle(&o, &err))
		rc = cli_fail("create", &err);
	free_opts(&o);
	return rc;
}
