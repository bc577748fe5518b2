/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_API_H
#define SU_DAEMON_API_H

#include <microhttpd.h>
#include <stdbool.h>

#include "shared.h"

/* One MHD daemon: the access handler's cls. */
struct listener {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	bool tls;
	char *address;
};

#define API_PREFIX	"/api/v1"
#define API_BODY_MAX	4096	/* JSON request bodies (POST /install) */

/* MHD's access handler and request-completed callback (docs/DESIGN.md §6). */
enum MHD_Result api_handler(void *cls, struct MHD_Connection *c,
			    const char *url, const char *method,
			    const char *version, const char *upload_data,
			    size_t *upload_data_size, void **con_cls);
void api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		   enum MHD_RequestTerminationCode toe);

#endif
