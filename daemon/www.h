/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_WWW_H
#define SU_DAEMON_WWW_H

#include <microhttpd.h>

/*
 * The web UI: static files from [server] www for GET (and HEAD) of any
 * path outside /api/, "/" meaning index.html. Public like a login page:
 * the UI itself calls the API with a token. Only plain names of
 * [A-Za-z0-9._-] segments are served, none starting with '.', resolved
 * beneath the directory without following symlinks (beneath_open:
 * openat2, or its walk on kernels without it); anything
 * else, or a missing file, is 404 not_found. Every file goes out with
 * its MIME type, an ETag (304 to a matching If-None-Match), no-cache
 * and a Content-Security-Policy that allows no inline script. Without
 * an index.html, "/" answers 404 not_installed: a short page to a
 * browser (Accept: text/html), JSON to anything else.
 */
enum MHD_Result www_serve(struct MHD_Connection *c, const char *dir,
			  const char *url);

#endif
