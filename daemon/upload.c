/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The upload data path: HTTP body -> (multipart decoder) -> bundle
 * reader (verify as it streams) -> staging file. The bundle never sits
 * in memory: each piece MHD hands over is verified and written, then
 * dropped.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bundle_report.h"
#include "install.h"
#include "install_worker.h"
#include "log.h"
#include "reply.h"
#include "signature.h"
#include "staging.h"
#include "state.h"
#include "upload.h"
#include "verifier.h"

#define MULTIPART_BUFFER 4096	/* the post processor's own buffer */

struct upload {
	struct daemon *d;
	bool tls, install, reboot, force;
	enum su_state prev;	/* to go back to on failure */
	struct keys_ref *keys;
	struct bundle_policy policy;
	struct bundle_reader_ops ops;
	struct bundle_reader *br;
	struct staging_upload *st;
	struct verifier *v;	/* the reader's thread */
	struct MHD_PostProcessor *pp;
	bool multipart;
	uint64_t field_bytes;	/* of the multipart field "bundle" */
	uint64_t bytes, total;	/* body bytes fed; Content-Length or 0 */
	const char *image;	/* payload being received (manifest's) */
	struct su_error err;
	bool failed;		/* err holds the reason */
	bool ended;		/* staged, or the failure recorded */
};

/* The bundle reader's hook: a signed manifest must also name only
 * targets this device has, with the type it has. */
static enum su_err check_targets(void *ctx, const struct manifest *m,
				 const char *key_name, struct su_error *err)
{
	struct upload *u = ctx;

	(void)key_name;
	if (install_check_targets(u->d->cfg, m, err))
		return err->code;
	log_info("upload: manifest of version %s verified with key %s",
		 m->version, key_name);
	return SU_OK;
}

static enum su_err payload_begin(void *ctx, const struct manifest_image *img,
				 uint64_t offset, struct su_error *err)
{
	struct upload *u = ctx;

	(void)offset;
	(void)err;
	u->image = img->file;
	return SU_OK;
}

/* Record the first failure, drop the upload file, publish the reason. */
static void fail_upload(struct upload *u)
{
	if (u->ended)
		return;
	u->ended = true;
	verifier_free(u->v);	/* before its file goes */
	u->v = NULL;
	staging_upload_abort(u->st);
	u->st = NULL;
	log_notice("upload refused after %" PRIu64 " bytes: %s: %s", u->bytes, su_err_name(u->err.code),
		   u->err.message);
	state_fail(daemon_has_staged(u->d) ? ST_STAGED : ST_IDLE, &u->err);
}

/* Into the staging file; the verifier thread reads it from there, so
 * it is told how many bytes the file holds. A refusal by the reader
 * comes first: it says more than a full disk. */
static enum su_err feed(struct upload *u, const char *data, size_t size)
{
	if (verifier_more(u->v, staging_upload_written(u->st), &u->err))
		return u->err.code;
	if (staging_upload_write(u->st, data, size, &u->err))
		return u->err.code;
	u->bytes += size;
	return verifier_more(u->v, staging_upload_written(u->st), &u->err);
}

/* The buffered rest into the file, for the verifier's last read. */
static enum su_err flush(struct upload *u)
{
	if (staging_upload_flush(u->st, &u->err))
		return u->err.code;
	return verifier_more(u->v, staging_upload_written(u->st), &u->err);
}

/* On the verifier thread, like the reader's hooks. */
static void verified_bytes(void *ctx, uint64_t bytes)
{
	struct upload *u = ctx;

	state_progress(u->image, bytes, u->total);
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *filename,
				const char *content_type,
				const char *transfer_encoding,
				const char *data, uint64_t off, size_t size)
{
	struct upload *u = cls;

	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	if (!key || strcmp(key, "bundle") || !size)
		return MHD_YES;		/* other fields are ignored */
	if (off == 0 && u->field_bytes) {
		su_error_set(&u->err, SU_ERR_BAD_REQUEST,
			     "the multipart body has more than one field 'bundle'");
		return MHD_NO;
	}
	u->field_bytes += size;
	return feed(u, data, size) ? MHD_NO : MHD_YES;
}

static uint64_t content_length(struct MHD_Connection *c, bool *known)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	*known = false;
	if (!v)
		return 0;
	n = strtoull(v, &end, 10);
	*known = end != v && !*end;
	return *known ? n : 0;
}

static bool is_multipart(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_TYPE);

	return v && !strncasecmp(v, "multipart/form-data", 19);
}

/* Everything but the size check: reader, staging file, decoder. */
static enum su_err open_upload(struct upload *u, struct MHD_Connection *c)
{
	u->keys = daemon_keys_get(u->d);
	u->policy = (struct bundle_policy) {
		.keys = u->keys->kr,
		.compatible = u->d->cfg->compatible,
		.current_version = u->d->running_version,
		.force = u->force,
	};
	u->ops = (struct bundle_reader_ops) {
		.verified = check_targets,
		.payload_begin = payload_begin,
	};
	u->br = bundle_reader_new(&u->policy, &u->ops, u);
	if (!u->br)
		return su_error_set(&u->err, SU_ERR_NOMEM, "bundle reader: %m");
	if (staging_upload_begin(&u->st, &u->err))
		return u->err.code;
	if (verifier_start(u->br, staging_upload_fd(u->st), verified_bytes, u,
			   &u->v, &u->err))
		return u->err.code;
	if (is_multipart(c)) {
		u->multipart = true;
		u->pp = MHD_create_post_processor(c, MULTIPART_BUFFER, on_field, u);
		if (!u->pp)
			return su_error_set(&u->err, SU_ERR_BAD_REQUEST,
					    "the multipart/form-data header has no usable boundary");
	}
	return SU_OK;
}

enum MHD_Result upload_begin(struct MHD_Connection *c, struct daemon *d,
			     bool tls, const struct upload_query *q,
			     struct upload **out)
{
	struct su_error pending;
	struct upload *u;
	enum su_state was;
	uint64_t limit;
	bool known;

	*out = NULL;
	if (!state_begin(ST_RECEIVING, &was)) {
		struct su_error busy;

		su_error_set(&busy, SU_ERR_BUSY,
			     "the daemon is %s; one upload or install at a time",
			     state_name(was));
		return reply_refuse(c, tls, &busy);
	}
	if (q->install && install_check_pending(d, &pending)) {
		/* Before the body: it would be received for nothing. */
		state_fail(was, &pending);
		return reply_refuse(c, tls, &pending);
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		state_set(was);
		return MHD_NO;
	}
	u->d = d;
	u->tls = tls;
	u->install = q->install;
	u->reboot = q->reboot;
	u->force = q->force;
	u->prev = was;
	u->total = content_length(c, &known);
	limit = staging_limit();
	if (known && u->total > limit)
		su_error_set(&u->err, SU_ERR_TOO_LARGE,
			     "the bundle (%" PRIu64 " bytes) is larger than the %" PRIu64 " bytes this device can stage",
			     u->total, limit);
	else
		open_upload(u, c);
	if (u->err.code) {
		enum MHD_Result ret;

		fail_upload(u);
		ret = reply_refuse(c, tls, &u->err);
		upload_free(u);
		return ret;
	}
	state_progress(NULL, 0, u->total);
	*out = u;
	return MHD_YES;
}

enum MHD_Result upload_data(struct upload *u, struct MHD_Connection *c,
			    const char *data, size_t size)
{
	if (u->ended)
		return MHD_NO;
	if (u->pp) {
		if (MHD_post_process(u->pp, data, size) == MHD_NO && !u->err.code)
			su_error_set(&u->err, SU_ERR_BAD_REQUEST,
				     "the multipart/form-data body is malformed");
	} else {
		feed(u, data, size);
	}
	if (!u->err.code)
		return MHD_YES;
	fail_upload(u);
	return reply_early(c, u->tls, &u->err);
}

char *upload_report(const struct bundle_reader *br)
{
	json_object *o = bundle_report(br, false);
	char *s = NULL;

	if (o)
		s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* Body complete: finish the verification and stage. */
static enum su_err stage(struct upload *u, char **text)
{
	int fd;

	if (u->multipart) {
		if (MHD_destroy_post_processor(u->pp) == MHD_NO && !u->err.code)
			su_error_set(&u->err, SU_ERR_BAD_REQUEST,
				     "the multipart/form-data body is malformed or truncated");
		u->pp = NULL;
		if (!u->err.code && !u->field_bytes)
			su_error_set(&u->err, SU_ERR_BAD_REQUEST,
				     "the multipart/form-data body has no field 'bundle'");
		if (u->err.code)
			return u->err.code;
	}
	if (flush(u))
		return u->err.code;
	state_set(ST_VERIFYING);
	if (verifier_end(u->v, &u->err))
		return u->err.code;
	verifier_free(u->v);
	u->v = NULL;
	if (bundle_reader_finish(u->br, &u->err))
		return u->err.code;
	*text = upload_report(u->br);
	if (!*text)
		return su_error_set(&u->err, SU_ERR_NOMEM, "report: %m");
	if (staging_upload_commit(u->st, &fd, &u->err)) {
		u->st = NULL;
		free(*text);
		return u->err.code;
	}
	u->st = NULL;
	log_notice("staged bundle of %" PRIu64 " bytes", u->bytes);
	daemon_stage(u->d, u->br, strdup(*text), fd);
	u->br = NULL;
	u->ended = true;
	state_set(ST_STAGED);
	return SU_OK;
}

enum MHD_Result upload_end(struct upload *u, struct MHD_Connection *c)
{
	struct install_options opts = { .reboot = u->reboot, .keep_config = true };
	struct su_error ierr;
	enum MHD_Result ret;
	char *text = NULL;

	if (u->ended)
		return MHD_NO;
	if (stage(u, &text)) {
		fail_upload(u);
		return reply_error(c, &u->err);
	}
	if (!u->install) {
		ret = reply_text(c, MHD_HTTP_OK, text);
	} else if (install_start(u->d, &opts, &ierr)) {
		ret = reply_error(c, &ierr);
	} else {
		ret = reply_text(c, MHD_HTTP_ACCEPTED, text);
	}
	free(text);
	return ret;
}

void upload_free(struct upload *u)
{
	if (!u)
		return;
	if (!u->ended) {
		if (!u->err.code)
			su_error_set(&u->err, SU_ERR_BAD_REQUEST,
				     "the upload ended after %" PRIu64 " bytes: the connection was closed or broke",
				     u->bytes);
		fail_upload(u);
	}
	verifier_free(u->v);
	if (u->pp)
		MHD_destroy_post_processor(u->pp);
	bundle_reader_free(u->br);
	if (u->keys)
		daemon_keys_put(u->d, u->keys);
	free(u);
}
