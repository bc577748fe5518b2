/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_REPLY_H
#define SU_DAEMON_REPLY_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "error.h"

/*
 * Answers of the API. Every error is JSON
 * {"error": "<su_err_name>", "message": "<sentence>"}.
 */

/* The HTTP status of an error code (400 for bundle problems, ...). */
unsigned reply_status(enum su_err code);

/* A response of @body (malloc'd, taken even on failure) of @type, not to
 * be cached; NULL when out of memory. */
struct MHD_Response *reply_response(char *body, const char *type);
/* Queue @body (JSON text, copied) with @status. */
enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
			   const char *body);
/* Queue @o (released) with @status. */
enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status,
			   json_object *o);
/* Queue the error @e with reply_status(e->code). */
enum MHD_Result reply_error(struct MHD_Connection *c, const struct su_error *e);
/* Queue an error with an explicit status and code. */
enum MHD_Result reply_errorf(struct MHD_Connection *c, unsigned status,
			     enum su_err code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * Refusals on a request's first call, before its body. A request that
 * announces a body (Content-Length above 0, or Transfer-Encoding) gets
 * them as reply_early() writes them: a client that streams without
 * Expect: 100-continue would otherwise lose the answer to the reset of
 * a close with its body unread. Any other request gets them queued.
 */
/* The error @e with reply_status(e->code). */
enum MHD_Result reply_refuse(struct MHD_Connection *c, bool tls,
			     const struct su_error *e);
/* 401 with WWW-Authenticate, or 429 with Retry-After. */
enum MHD_Result reply_unauthorized(struct MHD_Connection *c, bool tls);
enum MHD_Result reply_throttled(struct MHD_Connection *c, bool tls,
				unsigned retry_after);
/* 404 {"error": "not_found"} for a path no route has, as a refusal. */
enum MHD_Result reply_no_route(struct MHD_Connection *c, bool tls,
			       const char *url);
/* 405 {"error": "method_not_allowed"} with Allow: @allow. */
enum MHD_Result reply_bad_method(struct MHD_Connection *c, bool tls,
				 const char *allow);

/*
 * Mid-body refusal. MHD 0.9.75 refuses MHD_queue_response once the body
 * has started, so write one complete HTTP/1.1 response with
 * Connection: close straight to the socket (through the TLS session when
 * @tls) and return MHD_NO, which makes MHD close the connection without
 * reading the rest of the body. Before that close: a FIN, and a short
 * bounded drain of what the client still sends (on a thread of its own,
 * so the listener's event thread goes on serving) that lasts at least
 * until the client acknowledged the answer, since a close with unread
 * data resets the connection and can destroy the answer.
 */
enum MHD_Result reply_early(struct MHD_Connection *c, bool tls,
			    const struct su_error *e);

/* The error document as a malloc'd string. */
char *reply_error_body(enum su_err code, const char *message);

#endif
