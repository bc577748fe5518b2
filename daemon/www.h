/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_WWW_H
#define SU_DAEMON_WWW_H

#include <microhttpd.h>

/*
 * The web UI: static files from [server] www for GET (and HEAD) of any
 * path outside /api/, "/" meaning index.html. Public like a login page:
 * the UI itself calls the API with a token. Only plain names of
 * [A-Za-z0-9._-] segments are served, none starting with '.', resolved
 * beneath the directory without following symlinks (openat2); anything
 * else, or a missing file, is 404.
 */
enum MHD_Result www_serve(struct MHD_Connection *c, const char *dir,
			  const char *url);

#endif
