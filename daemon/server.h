/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_SERVER_H
#define SU_DAEMON_SERVER_H

#include "shared.h"
#include "error.h"

/*
 * One MHD daemon per configured address ("listen" with TLS, and
 * "http_listen" without, only when configured), each with its own event
 * thread (epoll where available). TLS 1.2 or newer with the configured
 * certificate and key; with client_ca, client certificates are
 * requested and auth.c verifies them. max_connections bounds all
 * connections of an address, less than half of that those from one
 * client address; connection_timeout closes idle ones, and a connection
 * without a complete request header 5 s after it opened (or after its
 * previous request ended) is closed.
 */
/* Check the addresses and read the TLS material: what can fail before
 * the daemon detaches. */
enum su_err server_prepare(const struct config *cfg, struct su_error *err);
/* Start listening (after server_prepare()). */
enum su_err server_start(struct daemon *d, struct su_error *err);
void server_stop(void);

/* From the access handler's first call of a request, and from the
 * request-completed callback: a request's headers are in, or a
 * keep-alive connection waits for the next one. */
void server_request_begins(struct MHD_Connection *c);
void server_request_ends(struct MHD_Connection *c);

#endif
