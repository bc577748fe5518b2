/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sysupgrade-bundle inspect: show what a bundle holds without trusting
 * it or needing keys. Also works on broken bundles, to see why.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "report.h"
#include "tar_stream.h"

#define READ_BLOCK (64 * 1024)

struct inspect_member {
	char *name;
	char type;
	uint64_t size;
	uint64_t offset;
};

struct inspect {
	struct inspect_member *members;
	size_t n_members, cap;
	char *manifest_buf;	/* the first member's bytes, if manifest.json */
	size_t manifest_len;	/* bytes received so far */
	bool capturing;		/* the current member is that manifest */
	bool manifest_done;	/* all its bytes arrived */
	struct manifest *manifest;
	struct su_error manifest_err;	/* SU_OK while there is no problem */
	struct su_error archive_err;
	struct digest whole;
	char sha256[DIGEST_HEX_LEN + 1];	/* of the whole file */
	uint64_t bytes;
};

static void inspect_help(void)
{
	printf("Usage: %s inspect [--json] BUNDLE\n\n"
	       "Show the manifest (unverified: no keys are used) and the archive\n"
	       "members with their sizes and data offsets. A bundle whose\n"
	       "manifest or archive is broken is still listed, with the error,\n"
	       "and the exit status is 1.\n\n"
	       "  -j, --json   one JSON object: manifest, manifest_error,\n"
	       "               archive_error, members, sha256, size\n"
	       "  -h, --help   show this help\n", TOOL_NAME);
}

static enum su_err add_member(struct inspect *in, const struct tar_member *m,
			      struct su_error *err)
{
	struct inspect_member *slot;

	if (in->n_members == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 16;
		void *p = reallocarray(in->members, cap, sizeof(*in->members));

		if (!p)
			return su_error_set(err, SU_ERR_NOMEM, "out of memory");
		in->members = p;
		in->cap = cap;
	}
	slot = &in->members[in->n_members];
	slot->name = strdup(m->name);
	if (!slot->name)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	slot->type = m->type;
	slot->size = m->size;
	slot->offset = m->offset;
	in->n_members++;
	return SU_OK;
}

/* The first member decides whether there is a manifest to show. */
static enum su_err start_manifest(struct inspect *in, const struct tar_member *m,
				  struct su_error *err)
{
	if (strcmp(m->name, MANIFEST_NAME) || m->type != '0') {
		su_error_set(&in->manifest_err, SU_ERR_BAD_ARCHIVE,
			     "first member is '%s', not a regular file %s",
			     m->name, MANIFEST_NAME);
		return SU_OK;
	}
	if (m->size > MANIFEST_MAX_SIZE) {
		su_error_setd(&in->manifest_err, SU_ERR_BAD_MANIFEST, "too_large",
			      "%s: %" PRIu64 " bytes, more than %d", MANIFEST_NAME,
			      m->size, MANIFEST_MAX_SIZE);
		return SU_OK;
	}
	in->manifest_buf = malloc(m->size + 1);
	if (!in->manifest_buf)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	in->capturing = true;
	return SU_OK;
}

static enum su_err on_member(void *ctx, const struct tar_member *m,
			     struct su_error *err)
{
	struct inspect *in = ctx;
	bool first = !in->n_members;
	enum su_err rc = add_member(in, m, err);

	if (rc || !first)
		return rc;
	return start_manifest(in, m, err);
}

static enum su_err on_data(void *ctx, const void *buf, size_t len,
			   struct su_error *err)
{
	struct inspect *in = ctx;

	(void)err;
	if (in->capturing) {
		memcpy(in->manifest_buf + in->manifest_len, buf, len);
		in->manifest_len += len;
	}
	return SU_OK;
}

static enum su_err on_member_end(void *ctx, struct su_error *err)
{
	struct inspect *in = ctx;

	(void)err;
	if (in->capturing)
		in->manifest_done = true;
	in->capturing = false;
	return SU_OK;
}

static const struct tar_stream_ops inspect_ops = {
	.member = on_member,
	.data = on_data,
	.member_end = on_member_end,
};

/* Feed the whole file to @ts (until it fails) and to the file's hash. */
static enum su_err read_bundle(int fd, const char *path, struct tar_stream *ts,
			       struct inspect *in, struct su_error *err)
{
	char *buf = malloc(READ_BLOCK);
	uint8_t sum[DIGEST_LEN];
	bool tar_ok = true;
	ssize_t n;

	if (!buf)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	while ((n = read(fd, buf, READ_BLOCK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		digest_update(&in->whole, buf, (size_t)n);
		in->bytes += (uint64_t)n;
		if (tar_ok)
			tar_ok = !tar_stream_feed(ts, buf, (size_t)n, &in->archive_err);
	}
	free(buf);
	if (n < 0)
		return su_error_set(err, SU_ERR_IO, "read %s: %m", path);
	digest_final(&in->whole, sum);
	digest_to_hex(sum, in->sha256);
	if (tar_ok)
		tar_stream_finish(ts, &in->archive_err);
	return SU_OK;
}

/* Parse the manifest if it arrived whole, or say why there is none. */
static void parse_manifest(struct inspect *in)
{
	if (in->manifest_err.code)
		return;
	if (!in->manifest_done) {
		su_error_set(&in->manifest_err, SU_ERR_BAD_ARCHIVE,
			     "%s is missing or incomplete", MANIFEST_NAME);
		return;
	}
	manifest_parse(in->manifest_buf, in->manifest_len, &in->manifest,
		       &in->manifest_err);
}

static enum su_err scan(const char *path, struct inspect *in,
			struct su_error *err)
{
	struct tar_stream *ts;
	enum su_err rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return su_error_set(err, SU_ERR_IO, "open %s: %m", path);
	ts = tar_stream_new(&inspect_ops, in);
	if (!ts) {
		close(fd);
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	}
	digest_init(&in->whole);
	rc = read_bundle(fd, path, ts, in, err);
	tar_stream_free(ts);
	close(fd);
	if (!rc && in->archive_err.code == SU_ERR_NOMEM)
		rc = su_error_set(err, SU_ERR_NOMEM, "%s", in->archive_err.message);
	if (!rc)
		parse_manifest(in);
	return rc;
}

static const char *type_name(char type)
{
	switch (type) {
	case '0':
	case '7':
		return "file";
	case '1':
		return "hardlink";
	case '2':
		return "symlink";
	case '3':
		return "char";
	case '4':
		return "block";
	case '5':
		return "directory";
	case '6':
		return "fifo";
	default:
		return "other";
	}
}

static void print_text(const struct inspect *in)
{
	if (in->manifest)
		report_manifest(stdout, in->manifest);
	printf("members:\n");
	printf("  %12s %12s  %-9s %s\n", "OFFSET", "SIZE", "TYPE", "NAME");
	for (size_t i = 0; i < in->n_members; i++) {
		const struct inspect_member *m = &in->members[i];

		printf("  %12" PRIu64 " %12" PRIu64 "  %-9s %s\n", m->offset,
		       m->size, type_name(m->type), m->name);
	}
	printf("size:        %" PRIu64 "\nsha256:      %s\n", in->bytes,
	       in->sha256);
}

/* json_array_of() item: members[i] of the struct inspect at @ctx */
static struct json_object *member_json(const void *ctx, size_t i)
{
	const struct inspect_member *m = &((const struct inspect *)ctx)->members[i];
	struct json_object *o = json_object_new_object();

	if (o && (json_put(o, "name", json_object_new_string(m->name)) ||
		  json_put(o, "size", json_object_new_int64((int64_t)m->size)) ||
		  json_put(o, "offset", json_object_new_int64((int64_t)m->offset)) ||
		  json_put(o, "type", json_object_new_string(type_name(m->type))))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int add_error(struct json_object *o, const char *key,
		     const struct su_error *e)
{
	return e->code ? json_put(o, key, report_error_json(e)) : 0;
}

static int print_json(const struct inspect *in)
{
	struct json_object *o = json_object_new_object();
	struct json_object *m = NULL;

	if (in->manifest) {
		m = manifest_json(in->manifest);
		if (!m)
			goto oom;
	}
	/* json-c stores NULL as JSON null: "manifest": null when unparsed */
	if (!o || json_object_object_add(o, "manifest", m)) {
		json_object_put(m);
		goto oom;
	}
	if (add_error(o, "manifest_error", &in->manifest_err) ||
	    add_error(o, "archive_error", &in->archive_err) ||
	    json_put(o, "members",
		       json_array_of(in->n_members, member_json, in)) ||
	    json_put(o, "sha256", json_object_new_string(in->sha256)) ||
	    json_put(o, "size", json_object_new_int64((int64_t)in->bytes)))
		goto oom;
	return report_print_json(o);
oom:
	json_object_put(o);
	return -1;
}

static void inspect_free(struct inspect *in)
{
	for (size_t i = 0; i < in->n_members; i++)
		free(in->members[i].name);
	free(in->members);
	free(in->manifest_buf);
	manifest_free(in->manifest);
}

static int parse_args(int argc, char **argv, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			inspect_help();
			return -1;
		default:
			return cli_usage_hint("inspect");
		}
	}
	if (argc - optind != 1)
		return cli_usage("inspect", "expected exactly one BUNDLE");
	return 0;
}

int cmd_inspect(int argc, char **argv)
{
	struct inspect in = { 0 };
	struct su_error err;
	bool json = false;
	int rc = parse_args(argc, argv, &json);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (scan(argv[optind], &in, &err)) {
		inspect_free(&in);
		return cli_fail("inspect", &err);
	}
	if (!json)
		print_text(&in);
	else if (print_json(&in)) {
		su_error_set(&err, SU_ERR_NOMEM, "building the JSON output");
		rc = cli_fail("inspect", &err);
	}
	if (in.archive_err.code)
		rc = cli_fail("inspect", &in.archive_err);
	if (in.manifest_err.code)
		rc = cli_fail("inspect", &in.manifest_err);
	inspect_free(&in);
	return rc;
}
