/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Static files of the web UI. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "reply.h"
#include "www.h"

#define WWW_PATH_MAX 200

/*
 * The page may run only its own files: no inline script or style, no
 * other origin, no framing. Fetches and the event stream go to the
 * device itself.
 */
#define WWW_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
		"img-src 'self' data:; connect-src 'self'; base-uri 'none'; " \
		"form-action 'self'; frame-ancestors 'none'"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".woff2", "font/woff2" },
};

static const char *content_type(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && !strcmp(path + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

/* A relative path of plain segments, or false. */
static bool plain_path(const char *p)
{
	bool start = true;

	if (!*p || strlen(p) > WWW_PATH_MAX)
		return false;
	for (; *p; p++) {
		if (*p == '/') {
			if (start)
				return false;	/* empty segment */
			start = true;
			continue;
		}
		if (start && *p == '.')
			return false;		/* ., .., dotfiles */
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
			return false;
		start = false;
	}
	return !start;
}

static void security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", WWW_CSP);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static bool wants_html(struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_ACCEPT);

	return a && strstr(a, "text/html");
}

/* @s with <>&" as entities; malloc'd. */
static char *html_escape(const char *s)
{
	size_t n = 1;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += strchr("<>&\"", *p) ? 6 : 1;
	out = o = malloc(n);
	if (!out)
		return NULL;
	for (; *s; s++) {
		switch (*s) {
		case '<': o = stpcpy(o, "&lt;"); break;
		case '>': o = stpcpy(o, "&gt;"); break;
		case '&': o = stpcpy(o, "&amp;"); break;
		case '"': o = stpcpy(o, "&quot;"); break;
		default: *o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static enum MHD_Result queue_html(struct MHD_Connection *c, unsigned status,
				  char *body)
{
	struct MHD_Response *r = reply_response(body, "text/html; charset=utf-8");
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	security_headers(r);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result queue_error(struct MHD_Connection *c, const char *code,
				   const char *message)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(message));
	return reply_json(c, MHD_HTTP_NOT_FOUND, o);
}

/*
 * No index.html: a device built without the UI (or a wrong [server]
 * www) says so, to a browser as a page, to anything else as JSON,
 * instead of a bare 404.
 */
static enum MHD_Result not_installed(struct MHD_Connection *c,
				     const char *dir, int errnum)
{
	char msg[512];
	char *body = NULL, *where;

	snprintf(msg, sizeof(msg),
		 "the web UI is not installed: %.300s/index.html: %s; "
		 "the HTTP API is at /api/v1 (GET /api/v1/info)",
		 dir ? dir : "([server] www not set)", strerror(errnum));
	if (!wants_html(c))
		return queue_error(c, "not_installed", msg);
	where = html_escape(msg + strlen("the web UI is not installed: "));
	if (!where)
		return MHD_NO;
	if (asprintf(&body,
		     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		     "<title>sysupgraded: web UI not installed</title></head>\n"
		     "<body>\n"
		     "<h1>The web UI is not installed</h1>\n"
		     "<p>This device runs sysupgraded, but the files of its web UI "
		     "are missing: %s.</p>\n"
		     "<p>Install them (<code>cmake --install</code> puts them in "
		     "<code>share/sysupgraded/www</code>) or point <code>[server] www</code> "
		     "in the configuration at them. Uploads and installs work without "
		     "them, through the HTTP API: <a href=\"/api/v1/info\">/api/v1/info</a>.</p>\n"
		     "</body></html>\n", where) < 0)
		body = NULL;
	free(where);
	return queue_html(c, MHD_HTTP_NOT_FOUND, body);
}

static enum MHD_Result not_found(struct MHD_Connection *c, const char *url)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "no such file in the web UI: %.120s", url);
	return queue_error(c, "not_found", msg);
}

/* Strong validator of the file as it is: size and modification time. */
static void etag_of(const struct stat *st, char *buf, size_t size)
{
	snprintf(buf, size, "\"%" PRIx64 "-%" PRIx64 ".%lx\"",
		 (uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec,
		 (unsigned long)st->st_mtim.tv_nsec);
}

static bool etag_matches(struct MHD_Connection *c, const char *etag)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_IF_NONE_MATCH);

	return inm && (strstr(inm, etag) || !strcmp(inm, "*"));
}

/* 200 with the file, or 304 when the client's copy is current. Every
 * file is revalidated (no-cache): an upgrade brings a new UI. */
static enum MHD_Result send_file(struct MHD_Connection *c, const char *rel,
				 int fd, const struct stat *st)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;
	char etag[64];

	etag_of(st, etag, sizeof(etag));
	if (etag_matches(c, etag)) {
		close(fd);
		status = MHD_HTTP_NOT_MODIFIED;
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_fd64((uint64_t)st->st_size, fd);
		if (!r)
			close(fd);
	}
	if (!r)
		return MHD_NO;
	if (status == MHD_HTTP_OK)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					content_type(rel));
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	security_headers(r);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result www_serve(struct MHD_Connection *c, const char *dir,
			  const char *url)
{
	const char *rel = url[0] == '/' ? url + 1 : url;
	bool index;
	struct stat st;
	int dfd, fd, e;

	if (!*rel)
		rel = "index.html";
	index = !strcmp(rel, "index.html");
	if (!plain_path(rel))
		return not_found(c, url);
	if (!dir)
		return index ? not_installed(c, dir, ENOENT) : not_found(c, url);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return index ? not_installed(c, dir, errno) : not_found(c, url);
	/* O_NONBLOCK: a FIFO (or a device) placed in www must not block the
	 * event thread in open(); fstat() then refuses anything not regular. */
	fd = beneath_open(dfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	e = errno;
	close(dfd);
	if (fd < 0)
		return index && e == ENOENT ? not_installed(c, dir, e) :
		       not_found(c, url);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return not_found(c, url);
	}
	return send_file(c, rel, fd, &st);
}
