/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sysupgrade-bundle sign: replace (or add) a bundle's manifest signature. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle_writer.h"
#include "commands.h"
#include "manifest.h"
#include "signature.h"

#define COPY_BLOCK (64 * 1024)

struct sign_opts {
	const char *key;
	const char *bundle;
	const char *output;	/* defaults to bundle: re-sign in place */
};

static void sign_help(void)
{
	printf("Usage: %s sign --key PRIV.pem [--output OUT] BUNDLE\n\n"
	       "Sign BUNDLE's manifest.json with PRIV.pem and rewrite the bundle\n"
	       "with the new manifest.json.sig; every other member is copied\n"
	       "unchanged. An unsigned bundle (manifest.json then payloads) gets\n"
	       "a signature. The result replaces OUT atomically.\n\n"
	       "  -k, --key FILE      private key (PEM, ECDSA P-256 or RSA)\n"
	       "  -o, --output FILE   where to write (default: BUNDLE, in place)\n"
	       "  -h, --help          show this help\n", TOOL_NAME);
}

static int parse_args(int argc, char **argv, struct sign_opts *o)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "k:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->key = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			sign_help();
			return -1;
		default:
			return cli_usage_hint("sign");
		}
	}
	if (!o->key)
		return cli_usage("sign", "--key is required");
	if (argc - optind != 1)
		return cli_usage("sign", "expected exactly one BUNDLE");
	o->bundle = argv[optind];
	if (!o->output)
		o->output = o->bundle;
	return 0;
}

static enum su_err read_fail(struct archive *a, const char *path,
			     struct su_error *err)
{
	return su_error_set(err, SU_ERR_BAD_ARCHIVE, "read %s: %s", path,
			    archive_error_string(a) ?: "libarchive error");
}

static enum su_err read_all(struct archive *a, const char *path, char *buf,
			    size_t len, struct su_error *err)
{
	while (len) {
		la_ssize_t n = archive_read_data(a, buf, len);

		if (n <= 0)
			return read_fail(a, path, err);
		buf += n;
		len -= (size_t)n;
	}
	return SU_OK;
}

/* The first member, which must be a manifest a device would accept. */
static enum su_err read_manifest(struct archive *a, const char *path,
				 char **buf, size_t *len, struct su_error *err)
{
	struct archive_entry *e;
	struct manifest *m;
	const char *name;
	int r = archive_read_next_header(a, &e);

	if (r == ARCHIVE_EOF)
		return su_error_set(err, SU_ERR_BAD_ARCHIVE, "%s: empty archive", path);
	if (r < ARCHIVE_WARN)
		return read_fail(a, path, err);
	name = archive_entry_pathname(e) ?: "";
	if (strcmp(name, MANIFEST_NAME) || archive_entry_filetype(e) != AE_IFREG)
		return su_error_set(err, SU_ERR_BAD_ARCHIVE,
				    "%s: first member is '%s', not %s", path,
				    name, MANIFEST_NAME);
	if (archive_entry_size(e) > MANIFEST_MAX_SIZE)
		return su_error_setd(err, SU_ERR_BAD_MANIFEST, "too_large",
				     "%s: %s is larger than %d bytes", path,
				     MANIFEST_NAME, MANIFEST_MAX_SIZE);
	*len = (size_t)archive_entry_size(e);
	*buf = malloc(*len + 1);
	if (!*buf)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	if (read_all(a, path, *buf, *len, err) ||
	    manifest_parse(*buf, *len, &m, err)) {
		free(*buf);
		*buf = NULL;
		return err->code;
	}
	manifest_free(m);
	return SU_OK;
}

static enum su_err copy_data(struct archive *a, const char *path,
			     struct bundle_writer *bw, char *buf,
			     struct su_error *err)
{
	la_ssize_t n;

	while ((n = archive_read_data(a, buf, COPY_BLOCK)) > 0) {
		enum su_err rc = bundle_writer_data(bw, buf, (size_t)n, err);

		if (rc)
			return rc;
	}
	return n < 0 ? read_fail(a, path, err) : SU_OK;
}

/* Everything after the manifest except its old signature, as it is. */
static enum su_err copy_members(struct archive *a, const char *path,
				struct bundle_writer *bw, struct su_error *err)
{
	char *buf = malloc(COPY_BLOCK);
	struct archive_entry *e;
	enum su_err rc = SU_OK;
	bool second = true;
	int r;

	if (!buf)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	while (!rc && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		const char *name = archive_entry_pathname(e) ?: "";

		if (r < ARCHIVE_WARN) {
			rc = read_fail(a, path, err);
		} else if (second && !strcmp(name, MANIFEST_SIG_NAME)) {
			second = false;		/* replaced, not copied */
		} else {
			second = false;
			rc = bundle_writer_begin_entry(bw, e, err);
			if (!rc)
				rc = copy_data(a, path, bw, buf, err);
		}
	}
	free(buf);
	return rc;
}

static enum su_err sign_bundle(const struct sign_opts *o, struct su_error *err)
{
	struct archive *a = archive_read_new();
	struct bundle_writer *bw = NULL;
	unsigned char *sig = NULL;
	char *manifest = NULL;
	size_t len = 0, sig_len = 0;
	enum su_err rc;
	int fd = -1;

	if (!a)
		return su_error_set(err, SU_ERR_NOMEM, "out of memory");
	/* open(2) ourselves: libarchive's open errors lose errno */
	fd = open(o->bundle, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = su_error_set(err, SU_ERR_IO, "open %s: %m", o->bundle);
		goto out;
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, COPY_BLOCK) != ARCHIVE_OK) {
		rc = read_fail(a, o->bundle, err);
		goto out;
	}
	rc = read_manifest(a, o->bundle, &manifest, &len, err);
	if (!rc)
		rc = signature_sign(o->key, manifest, len, &sig, &sig_len, err);
	if (!rc)
		rc = bundle_writer_open(o->output, &bw, err);
	if (!rc)
		rc = bundle_writer_add_buf(bw, MANIFEST_NAME, manifest, len, err);
	if (!rc)
		rc = bundle_writer_add_buf(bw, MANIFEST_SIG_NAME, sig, sig_len, err);
	if (!rc)
		rc = copy_members(a, o->bundle, bw, err);
	if (!rc) {
		rc = bundle_writer_commit(bw, err);
		bw = NULL;
	}
out:
	bundle_writer_abort(bw);
	archive_read_free(a);
	if (fd >= 0)
		close(fd);
	free(manifest);
	free(sig);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	struct sign_opts o = { 0 };
	struct su_error err;
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (sign_bundle(&o, &err))
		return cli_fail("sign", &err);
	return 0;
}
