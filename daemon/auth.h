/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_AUTH_H
#define SU_DAEMON_AUTH_H

#include <microhttpd.h>
#include <stdbool.h>

#include "config.h"
#include "error.h"

/*
 * Who may use the API: a bearer token whose SHA-256 is one of the
 * configured token_sha256 (every hash is compared, in constant time), or
 * a TLS client certificate that verifies against client_ca.
 *
 * Failed attempts are counted per client address: after AUTH_MAX_FAILURES
 * failures within AUTH_WINDOW seconds the address gets 429 with
 * Retry-After until the window has passed. A success resets the count.
 */
#define AUTH_MAX_FAILURES	5
#define AUTH_WINDOW		60	/* seconds */

/* Take the token hashes of @cfg (a copy; call again on SIGHUP). */
enum su_err auth_set_tokens(const struct config *cfg, struct su_error *err);
void auth_free(void);

enum auth_result {
	AUTH_OK,
	AUTH_DENIED,		/* answer 401 */
	AUTH_THROTTLED,		/* answer 429; *retry_after set */
};

/* On AUTH_DENIED, *@why says what was missing or wrong (a static
 * string, never the token); NULL otherwise. */
enum auth_result auth_check(struct MHD_Connection *c, bool tls,
			    unsigned *retry_after, const char **why);

/*
 * The connection carries a client certificate that verifies against
 * client_ca: the web UI needs no token then (GET /info says so). Unlike
 * auth_check() it counts nothing: a certificate cannot be guessed.
 */
bool auth_client_certificate(struct MHD_Connection *c, bool tls);

/* The client's address as text, for the log. */
void auth_peer(struct MHD_Connection *c, char *buf, size_t size);

#endif
