/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_SERVER_H
#define SU_DAEMON_SERVER_H

#include "daemon.h"
#include "error.h"

/*
 * One MHD daemon per configured address ("listen" with TLS, and
 * "http_listen" without, only when configured), each with its own event
 * thread (epoll where available). TLS 1.2 or newer with the configured
 * certificate and key; with client_ca, client certificates are
 * requested and auth.c verifies them. max_connections bounds all
 * connections of an address, half of that those from one client
 * address; connection_timeout closes idle ones.
 */
/* Check the addresses and read the TLS material: what can fail before
 * the daemon detaches. */
enum su_err server_prepare(const struct config *cfg, struct su_error *err);
/* Start listening (after server_prepare()). */
enum su_err server_start(struct daemon *d, struct su_error *err);
void server_stop(void);

#endif
