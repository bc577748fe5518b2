/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bearer tokens, client certificates and the failure throttle. */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "auth.h"
#include "digest.h"
#include "log.h"

/* A fixed table with least-recently-seen eviction: any number of
 * addresses fit, the oldest is forgotten first. */
#define THROTTLE_SLOTS 128

struct failure {
	struct sockaddr_storage addr;
	time_t first;		/* start of the window */
	unsigned count;
	bool used;
};

static struct {
	pthread_mutex_t lock;
	uint8_t (*tokens)[DIGEST_LEN];
	size_t n_tokens;
	bool http_token;	/* [server] http_token */
	struct failure fail[THROTTLE_SLOTS];
} au = { .lock = PTHREAD_MUTEX_INITIALIZER };

enum su_err auth_set_tokens(const struct config *cfg, struct su_error *err)
{
	uint8_t (*t)[DIGEST_LEN] = NULL;

	if (cfg->n_tokens && !(t = calloc(cfg->n_tokens, sizeof(*t))))
		return su_error_set(err, SU_ERR_NOMEM, "tokens: %m");
	for (size_t i = 0; i < cfg->n_tokens; i++)
		digest_from_hex(cfg->token_sha256[i], t[i]);	/* checked by config */
	pthread_mutex_lock(&au.lock);
	free(au.tokens);
	au.tokens = t;
	au.n_tokens = cfg->n_tokens;
	au.http_token = cfg->http_token;
	pthread_mutex_unlock(&au.lock);
	return SU_OK;
}

void auth_free(void)
{
	pthread_mutex_lock(&au.lock);
	free(au.tokens);
	au.tokens = NULL;
	au.n_tokens = 0;
	pthread_mutex_unlock(&au.lock);
}

/* Every configured hash is compared, all bytes of each: the time taken
 * says nothing about which byte or which token differed. */
static bool token_ok(const char *token)
{
	uint8_t d[DIGEST_LEN];
	unsigned match = 0;

	digest_buf(token, strlen(token), d);
	pthread_mutex_lock(&au.lock);
	for (size_t i = 0; i < au.n_tokens; i++) {
		unsigned diff = 0;

		for (size_t j = 0; j < DIGEST_LEN; j++)
			diff |= au.tokens[i][j] ^ d[j];
		match |= (diff == 0);
	}
	pthread_mutex_unlock(&au.lock);
	return match;
}

/* Why a request is not authorized; NULL when it is. The reasons name
 * what was missing or wrong, never the token. */
static const char *bearer_refusal(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h)
		return "no Authorization header";
	if (strncasecmp(h, "Bearer ", 7))
		return "the Authorization header is not a Bearer token";
	h += 7;
	while (*h == ' ')
		h++;
	if (!*h)
		return "the Bearer token is empty";
	return token_ok(h) ? NULL : "the bearer token matches no token_sha256";
}

static const char *cert_refusal(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	unsigned status = 0;

	if (!ci || !ci->tls_session)
		return "no TLS session";
	if (!gnutls_certificate_get_peers(ci->tls_session, &(unsigned){ 0 }))
		return "no client certificate";
	/* with the key purpose: a certificate whose extended key usage
	 * leaves out clientAuth (a server's, say) is not a client's */
	if (gnutls_certificate_verify_peers(ci->tls_session, &purpose, 1,
					    &status) < 0)
		return "the client certificate does not verify against client_ca";
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "the client certificate's extended key usage lacks clientAuth (TLS client)";
	if (status)
		return "the client certificate does not verify against client_ca";
	return NULL;
}

/* IPv4 addresses count one by one, IPv6 ones by their /64: a host is
 * given a whole /64 and can rotate through it at will. */
static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr,
			       sizeof(struct in_addr));
	if (b->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 8);
	return false;
}

/* The slot of @addr; else, when @create, a free one or the oldest. */
static struct failure *slot_of(const struct sockaddr *addr, bool create)
{
	struct failure *victim = NULL;

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct failure *f = &au.fail[i];

		if (f->used && same_addr(&f->addr, addr))
			return f;
		if (!f->used) {
			if (!victim || victim->used)
				victim = f;
		} else if (!victim || (victim->used && f->first < victim->first)) {
			victim = f;
		}
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(&victim->addr, addr, addr->sa_family == AF_INET6 ?
	       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	victim->used = true;
	return victim;
}

static const struct sockaddr *client_addr(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *a = ci ? ci->client_addr : NULL;

	if (a && a->sa_family != AF_INET && a->sa_family != AF_INET6)
		return NULL;
	return a;
}

void auth_peer(struct MHD_Connection *c, char *buf, size_t size)
{
	const struct sockaddr *a = client_addr(c);
	const void *in = NULL;

	if (a && a->sa_family == AF_INET)
		in = &((const struct sockaddr_in *)a)->sin_addr;
	else if (a && a->sa_family == AF_INET6)
		in = &((const struct sockaddr_in6 *)a)->sin6_addr;
	if (!in || !inet_ntop(a->sa_family, in, buf, (socklen_t)size))
		snprintf(buf, size, "an unknown address");
}

/* A token that does not match says more than a missing certificate.
 * Over plain HTTP a token crosses the network in the clear: it is
 * refused unless [server] http_token says otherwise. */
static const char *refusal(struct MHD_Connection *c, bool tls)
{
	const char *bearer = bearer_refusal(c);
	const char *cert;
	bool http_token;

	if (!tls) {
		pthread_mutex_lock(&au.lock);
		http_token = au.http_token;
		pthread_mutex_unlock(&au.lock);
		if (bearer || http_token)
			return bearer;
		return "a bearer token over plain HTTP is refused ([server] http_token = no)";
	}
	if (!bearer)
		return bearer;
	cert = cert_refusal(c);
	if (!cert)
		return NULL;
	return strcmp(cert, "no client certificate") ? cert : bearer;
}

bool auth_client_certificate(struct MHD_Connection *c, bool tls)
{
	return tls && !cert_refusal(c);
}

enum auth_result auth_check(struct MHD_Connection *c, bool tls,
			    unsigned *retry_after, const char **why)
{
	const struct sockaddr *addr = client_addr(c);
	time_t now = time(NULL);
	enum auth_result r = AUTH_OK;
	struct failure *f;
	bool ok;

	*why = NULL;
	pthread_mutex_lock(&au.lock);
	f = addr ? slot_of(addr, false) : NULL;
	if (f && now - f->first >= AUTH_WINDOW)
		f->used = false;	/* the window has passed */
	else if (f && f->count >= AUTH_MAX_FAILURES) {
		*retry_after = (unsigned)(AUTH_WINDOW - (now - f->first));
		r = AUTH_THROTTLED;
	}
	pthread_mutex_unlock(&au.lock);
	if (r)
		return r;

	*why = refusal(c, tls);
	ok = !*why;

	pthread_mutex_lock(&au.lock);
	f = addr ? slot_of(addr, !ok) : NULL;
	if (ok && f) {
		f->used = false;
	} else if (!ok && f) {
		if (!f->count)
			f->first = now;
		f->count++;
	}
	pthread_mutex_unlock(&au.lock);
	return ok ? AUTH_OK : AUTH_DENIED;
}
