/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTTP API v1 (docs/DESIGN.md §6): routing, authorization and the small JSON
 * answers. Uploads live in upload.c, installs in install_worker.c, the
 * event stream in events.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "auth.h"
#include "events.h"
#include "install_worker.h"
#include "log.h"
#include "reply.h"
#include "server.h"
#include "slot.h"
#include "staging.h"
#include "state.h"
#include "upload.h"
#include "www.h"

enum body {
	BODY_NONE,	/* answered on the first call */
	BODY_JSON,	/* small JSON, collected */
	BODY_UPLOAD,	/* a bundle, streamed */
};

struct request;
typedef enum MHD_Result (*handler_fn)(struct listener *l,
				      struct MHD_Connection *c,
				      struct request *r);

struct method {
	const char *name;
	handler_fn fn;
	enum body body;
	bool open;		/* no authorization needed (see info_public) */
};

struct route {
	const char *path;
	const char *allow;
	struct method methods[3];
};

struct request {
	const struct method *m;
	struct upload *upload;
	char *body;
	size_t len;
	bool done;		/* answered or refused */
	bool www;		/* a file of www, served at the last call */
};

static bool query_flag(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						    name);

	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") ||
		     !strcasecmp(v, "yes") || !*v);
}

/* ---- GET /info ---- */

static json_object *target_json(const struct config *cfg,
				const struct config_target *t)
{
	json_object *o = json_object_new_object();
	struct su_error err;
	int slot;

	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "type", json_object_new_string(t->type));
	json_object_object_add(o, "ab", json_object_new_boolean(config_target_is_ab(t)));
	json_object_object_add(o, "in_use", json_object_new_boolean(t->in_use));
	if (t->slot_var)
		json_object_object_add(o, "slot_var",
				       json_object_new_string(t->slot_var));
	/* the slot the running system booted from: "a", "b" or null */
	if (config_target_is_ab(t))
		json_object_object_add(o, "booted",
				       slot_booted(cfg, t, &slot, &err) ? NULL :
				       json_object_new_string(slot ? "b" : "a"));
	return o;
}

static enum MHD_Result get_info(struct listener *l, struct MHD_Connection *c,
				struct request *r)
{
	const struct config *cfg = l->d->cfg;
	json_object *o = json_object_new_object();
	json_object *t = json_object_new_array();

	(void)r;
	json_object_object_add(o, "version",
			       json_object_new_string(l->d->running_version));
	json_object_object_add(o, "compatible",
			       json_object_new_string(cfg->compatible));
	json_object_object_add(o, "state",
			       json_object_new_string(state_name(state_get())));
	for (size_t i = 0; i < cfg->n_targets; i++)
		json_object_array_add(t, target_json(cfg, &cfg->targets[i]));
	json_object_object_add(o, "targets", t);
	json_object_object_add(o, "staging_free",
			       json_object_new_int64((int64_t)staging_free()));
	json_object_object_add(o, "max_bundle_size",
			       json_object_new_int64((int64_t)staging_limit()));
	json_object_object_add(o, "last_install", state_last_install());
	json_object_object_add(o, "client_certificate",
			       json_object_new_boolean(auth_client_certificate(c, l->tls)));
	return reply_json(c, MHD_HTTP_OK, o);
}

/* ---- GET /status, GET /events ---- */

static enum MHD_Result get_status(struct listener *l, struct MHD_Connection *c,
				  struct request *r)
{
	char *s = state_json();
	char *report = daemon_staged_report(l->d);
	json_object *o = s ? json_tokener_parse(s) : NULL;

	(void)r;
	free(s);
	if (!o) {
		free(report);
		return MHD_NO;
	}
	/* the staged bundle's verification report, or null */
	json_object_object_add(o, "bundle", report ? json_tokener_parse(report) : NULL);
	free(report);
	return reply_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result get_events(struct listener *l, struct MHD_Connection *c,
				  struct request *r)
{
	(void)l;
	(void)r;
	return events_serve(c);
}

/* ---- /bundle ---- */

static enum MHD_Result put_bundle(struct listener *l, struct MHD_Connection *c,
				  struct request *r)
{
	(void)l;
	return upload_end(r->upload, c);
}

static enum MHD_Result delete_bundle(struct listener *l,
				     struct MHD_Connection *c,
				     struct request *r)
{
	struct su_error err;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)r;
	if (daemon_discard(l->d, &err))
		return reply_error(c, &err);
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- POST /install, POST /reboot ---- */

static enum su_err parse_options(const struct request *r,
				 struct install_options *o,
				 struct su_error *err)
{
	static const char *const names[] = { "reboot", "keep_config", "force" };
	bool *fields[] = { &o->reboot, &o->keep_config, &o->force };
	json_tokener *tok;
	json_object *j;

	if (!r->len)
		return SU_OK;
	tok = json_tokener_new();
	if (!tok)
		return su_error_set(err, SU_ERR_NOMEM, "json: %m");
	j = json_tokener_parse_ex(tok, r->body, (int)r->len);
	if (!j || json_tokener_get_parse_end(tok) != r->len) {
		json_tokener_free(tok);
		json_object_put(j);
		return su_error_set(err, SU_ERR_BAD_REQUEST,
				    "the request body is not one JSON object");
	}
	json_tokener_free(tok);
	if (!json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return su_error_set(err, SU_ERR_BAD_REQUEST,
				    "the request body must be a JSON object");
	}
	for (size_t i = 0; i < 3; i++) {
		json_object *v;

		if (!json_object_object_get_ex(j, names[i], &v))
			continue;
		if (!json_object_is_type(v, json_type_boolean)) {
			json_object_put(j);
			return su_error_set(err, SU_ERR_BAD_REQUEST,
					    "\"%s\" must be true or false", names[i]);
		}
		*fields[i] = json_object_get_boolean(v);
	}
	json_object_put(j);
	return SU_OK;
}

static enum MHD_Result post_install(struct listener *l,
				    struct MHD_Connection *c,
				    struct request *r)
{
	struct install_options o = { .keep_config = true };
	struct su_error err;

	if (parse_options(r, &o, &err) || install_start(l->d, &o, &err))
		return reply_error(c, &err);
	return reply_text(c, MHD_HTTP_ACCEPTED, "{\"state\":\"installing\"}");
}

static enum MHD_Result post_reboot(struct listener *l, struct MHD_Connection *c,
				   struct request *r)
{
	struct su_error err;

	(void)r;
	if (reboot_start(l->d, &err))
		return reply_error(c, &err);
	return reply_text(c, MHD_HTTP_ACCEPTED, "{\"state\":\"rebooting\"}");
}

static const struct route routes[] = {
	{ "/info", "GET", { { "GET", get_info, BODY_NONE, true } } },
	{ "/status", "GET", { { "GET", get_status, BODY_NONE, false } } },
	{ "/events", "GET", { { "GET", get_events, BODY_NONE, false } } },
	{ "/bundle", "POST, PUT, DELETE", {
		{ "POST", put_bundle, BODY_UPLOAD, false },
		{ "PUT", put_bundle, BODY_UPLOAD, false },
		{ "DELETE", delete_bundle, BODY_NONE, false } } },
	{ "/install", "POST", { { "POST", post_install, BODY_JSON, false } } },
	{ "/reboot", "POST", { { "POST", post_reboot, BODY_NONE, false } } },
};

/* ---- dispatch ---- */

static const struct route *find_route(const char *url)
{
	size_t n = strlen(API_PREFIX);

	if (strncmp(url, API_PREFIX, n))
		return NULL;
	url += n;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(url, routes[i].path))
			return &routes[i];
	return NULL;
}

static const struct method *find_method(const struct route *rt,
					const char *method)
{
	for (size_t i = 0; i < 3 && rt->methods[i].name; i++)
		if (!strcmp(method, rt->methods[i].name))
			return &rt->methods[i];
	return NULL;
}

static bool too_long(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return v && strtoull(v, NULL, 10) > API_BODY_MAX;
}

static bool in_api(const char *url)
{
	return !strncmp(url, "/api/", 5);
}

/* 401 or 429 unless @m (NULL: no such route or method) is open, or
 * the request is authorized: MHD_YES to go on. Anonymous clients learn
 * nothing of the routes, so this comes before 404 and 405. */
static bool authorized(struct listener *l, struct MHD_Connection *c,
		       const char *url, const char *method,
		       const struct method *m, enum MHD_Result *ret)
{
	unsigned retry = 0;
	const char *why;
	char peer[64];

	if (m && m->open && l->d->cfg->info_public)
		return true;
	switch (auth_check(c, l->tls, &retry, &why)) {
	case AUTH_OK:
		return true;
	case AUTH_DENIED:
		auth_peer(c, peer, sizeof(peer));
		log_notice("401 %s %s from %s: %s", method, url, peer, why);
		*ret = reply_unauthorized(c, l->tls);
		return false;
	case AUTH_THROTTLED:
		auth_peer(c, peer, sizeof(peer));
		log_notice("429 %s %s from %s: throttled for %u s more",
			   method, url, peer, retry);
		*ret = reply_throttled(c, l->tls, retry);
		return false;
	}
	return false;
}

/* A Content-Length above 0, or a chunked body. */
static bool has_body(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (v && strspn(v, "0") != strlen(v)) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/*
 * The request's first call: headers are in, no body yet. MHD 0.9.75
 * closes the connection after an answer queued here (it cannot know
 * the body is not wanted), so a request without a body, which can keep
 * its connection, is answered at its last call; a refusal here still
 * closes, as it should when a body may follow.
 */
static enum MHD_Result first_call(struct listener *l, struct MHD_Connection *c,
				  const char *url, const char *method,
				  struct request *r)
{
	const struct route *rt = find_route(url);
	struct upload_query q;
	struct su_error err;
	enum MHD_Result ret = MHD_NO;

	if (!in_api(url) && (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) {
		if (!has_body(c))
			return r->www = true, MHD_YES;
		return r->done = true, www_serve(c, l->d->cfg->www_dir, url);
	}
	if (!in_api(url))
		return r->done = true, reply_no_route(c, l->tls, url);
	r->m = rt ? find_method(rt, method) : NULL;
	if (!authorized(l, c, url, method, r->m, &ret))
		return r->done = true, ret;
	if (!rt)
		return r->done = true, reply_no_route(c, l->tls, url);
	if (!r->m)
		return r->done = true, reply_bad_method(c, l->tls, rt->allow);
	switch (r->m->body) {
	case BODY_NONE:
		if (!has_body(c))
			return MHD_YES;
		r->done = true;
		return r->m->fn(l, c, r);
	case BODY_JSON:
		if (!too_long(c))
			return MHD_YES;
		r->done = true;
		su_error_set(&err, SU_ERR_TOO_LARGE,
			     "request bodies are limited to %d bytes", API_BODY_MAX);
		return reply_refuse(c, l->tls, &err);
	case BODY_UPLOAD:
		break;
	}
	q = (struct upload_query) {
		.install = query_flag(c, "install"),
		.reboot = query_flag(c, "reboot"),
		.force = query_flag(c, "force"),
	};
	if (upload_begin(c, l->d, l->tls, &q, &r->upload) == MHD_NO)
		return MHD_NO;
	if (!r->upload)
		r->done = true;
	return MHD_YES;
}

static enum MHD_Result body_data(struct listener *l, struct MHD_Connection *c,
				 struct request *r, const char *data,
				 size_t size)
{
	struct su_error err;
	char *grown;

	if (r->m->body == BODY_UPLOAD)
		return upload_data(r->upload, c, data, size);
	if (r->len + size > API_BODY_MAX) {
		r->done = true;
		su_error_set(&err, SU_ERR_TOO_LARGE,
			     "request bodies are limited to %d bytes", API_BODY_MAX);
		return reply_early(c, l->tls, &err);
	}
	grown = realloc(r->body, r->len + size + 1);
	if (!grown)
		return MHD_NO;
	memcpy(grown + r->len, data, size);
	r->body = grown;
	r->len += size;
	r->body[r->len] = '\0';
	return MHD_YES;
}

enum MHD_Result api_handler(void *cls, struct MHD_Connection *c,
			    const char *url, const char *method,
			    const char *version, const char *upload_data,
			    size_t *upload_data_size, void **con_cls)
{
	struct listener *l = cls;
	struct request *r = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		server_request_begins(c);
		return first_call(l, c, url, method, r);
	}
	if (*upload_data_size) {
		size_t size = *upload_data_size;

		*upload_data_size = 0;	/* all of it is taken, always */
		/* answered before the body, or none was expected: drop it */
		if (r->done || r->www || r->m->body == BODY_NONE)
			return MHD_YES;
		return body_data(l, c, r, upload_data, size);
	}
	if (r->done)
		return MHD_YES;
	r->done = true;
	if (r->www)
		return www_serve(c, l->d->cfg->www_dir, url);
	ret = r->m->fn(l, c, r);
	return ret;
}

void api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		   enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;

	(void)cls;
	(void)toe;
	server_request_ends(c);
	if (!r)
		return;
	upload_free(r->upload);
	free(r->body);
	free(r);
	*con_cls = NULL;
}
