/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_UPLOAD_H
#define SU_DAEMON_UPLOAD_H

#include <microhttpd.h>
#include <stdbool.h>

#include "shared.h"

/*
 * POST/PUT /bundle: the body (raw, chunked or multipart/form-data field
 * "bundle") streams through the bundle reader into a staging file. The
 * MHD access handler calls upload_begin() on the request's first call,
 * upload_data() for each piece of body and upload_end() on the last call;
 * upload_free() from the request-completed callback.
 */
struct upload;

/* The query of an upload: ?install=1&reboot=1&force=1. */
struct upload_query {
	bool install;	/* install right after a good verification */
	bool reboot;	/* ... and reboot after it */
	bool force;	/* accept an incompatible or older bundle */
};

/*
 * Start an upload. May answer at once (409 busy, 413 too large, 500):
 * then *@out is NULL and the result is that of MHD_queue_response.
 */
enum MHD_Result upload_begin(struct MHD_Connection *c, struct daemon *d,
			     bool tls, const struct upload_query *q,
			     struct upload **out);
enum MHD_Result upload_data(struct upload *u, struct MHD_Connection *c,
			    const char *data, size_t size);
enum MHD_Result upload_end(struct upload *u, struct MHD_Connection *c);
/* Also ends an interrupted upload: its file goes, the error is kept. */
void upload_free(struct upload *u);

/* The verification report of a complete reader (docs/DESIGN.md §6): malloc'd
 * JSON, or NULL on ENOMEM. */
char *upload_report(const struct bundle_reader *br);

#endif
