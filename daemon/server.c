/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starting and stopping the MHD daemons. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api.h"
#include "log.h"
#include "server.h"
#include "tls_version.h"

#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define PEM_MAX		(1 << 20)
#define CONN_MEMORY	(64 * 1024)	/* per connection: headers + body buffer */
#define HEADER_DEADLINE_MS	5000	/* to send a complete request header */
#define WATCH_PERIOD_MS		250	/* how often the deadline is checked */

/*
 * A connection between requests: from its accept, or from the end of
 * its previous request, until the access handler's first call (all
 * headers in). MHD's connection_timeout restarts with every byte, so a
 * client trickling a header a byte at a time would hold its connection
 * for ever; the watch thread shuts down the socket of one that is
 * still without a complete header after HEADER_DEADLINE_MS, and MHD
 * then closes it as closed by the client.
 */
struct waiting {
	int fd;
	const struct listener *l;
	long long since;	/* 0: in a request */
	bool shut;
	struct waiting *prev, *next;
};

static struct {
	struct listener *l;
	size_t n;
	char *cert, *key, *ca;	/* PEM text: MHD keeps pointers to them */
	pthread_t watch;
	bool watching, stop;
	pthread_mutex_t lock;	/* of the list, stop */
	pthread_cond_t cond;
	struct waiting *head;
} srv = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * A listener past max_connections: MHD's own limit is twice that, so a
 * new connection is accepted, and the one that has waited longest
 * without a request (the new one, when every other is in a request) is
 * shut down. Idle and slow clients, from however many addresses, then
 * cannot keep a new client out: each newcomer pushes the oldest of them
 * out. Under srv.lock.
 */
static void evict(const struct listener *l, unsigned max)
{
	struct waiting *oldest = NULL;
	unsigned n = 0;

	for (struct waiting *w = srv.head; w; w = w->next) {
		if (w->l != l || w->shut)
			continue;
		n++;
		if (w->since && (!oldest || w->since <= oldest->since))
			oldest = w;
	}
	if (n <= max || !oldest)
		return;
	oldest->shut = true;
	shutdown(oldest->fd, SHUT_RDWR);
	log_info("http: %s has %u connections, max_connections is %u: closed the one waiting longest without a request (%lld ms)",
		 l->address, n, max, now_ms() - oldest->since);
}

/* MHD calls this on its event thread, and NOTIFY_CLOSED before it
 * closes the socket: under srv.lock, the watch thread never shuts down
 * a descriptor that has been closed and reused. */
static void notify_connection(void *cls, struct MHD_Connection *c,
			      void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	const struct listener *l = cls;
	struct waiting *w = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if (l->tls &&
		    (ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION)))
			tls_version_watch(ci->tls_session);
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		w = calloc(1, sizeof(*w));
		if (!w || !ci) {
			free(w);
			return;	/* not watched: connection_timeout still holds */
		}
		w->fd = ci->connect_fd;
		w->l = l;
		w->since = now_ms();
		pthread_mutex_lock(&srv.lock);
		w->next = srv.head;
		if (srv.head)
			srv.head->prev = w;
		srv.head = w;
		evict(l, l->d->cfg->max_connections);
		pthread_mutex_unlock(&srv.lock);
		*socket_context = w;
		return;
	}
	if (!w)
		return;
	pthread_mutex_lock(&srv.lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		srv.head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&srv.lock);
	free(w);
	*socket_context = NULL;
}

static struct waiting *waiting_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void server_request_begins(struct MHD_Connection *c)
{
	struct waiting *w = waiting_of(c);

	if (!w)
		return;
	pthread_mutex_lock(&srv.lock);
	w->since = 0;
	pthread_mutex_unlock(&srv.lock);
}

void server_request_ends(struct MHD_Connection *c)
{
	struct waiting *w = waiting_of(c);

	if (!w)
		return;
	pthread_mutex_lock(&srv.lock);
	w->since = now_ms();
	pthread_mutex_unlock(&srv.lock);
}

static void shut_late(long long now)
{
	for (struct waiting *w = srv.head; w; w = w->next) {
		if (!w->since || w->shut || now - w->since < HEADER_DEADLINE_MS)
			continue;
		w->shut = true;
		shutdown(w->fd, SHUT_RDWR);
		log_info("http: closed a connection without a complete request header after %d ms",
			 HEADER_DEADLINE_MS);
	}
}

static void *watch(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&srv.lock);
	while (!srv.stop) {
		shut_late(now_ms());
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WATCH_PERIOD_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&srv.cond, &srv.lock, &ts);
	}
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

static enum su_err watch_start(struct su_error *err)
{
	int rc;

	srv.stop = false;
	rc = pthread_create(&srv.watch, NULL, watch, NULL);
	if (rc) {
		errno = rc;
		return su_error_set(err, SU_ERR_INTERNAL,
				    "start the header-deadline thread: %m");
	}
	srv.watching = true;
	return SU_OK;
}

static void watch_stop(void)
{
	if (!srv.watching)
		return;
	pthread_mutex_lock(&srv.lock);
	srv.stop = true;
	pthread_cond_signal(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
	pthread_join(srv.watch, NULL);
	srv.watching = false;
}

static enum su_err read_pem(const char *path, char **out, struct su_error *err)
{
	FILE *f = fopen(path, "re");
	size_t n;
	char *buf;

	if (!f)
		return su_error_set(err, SU_ERR_CONFIG, "open %s: %m", path);
	buf = malloc(PEM_MAX + 1);
	if (!buf) {
		fclose(f);
		return su_error_set(err, SU_ERR_NOMEM, "%s: %m", path);
	}
	n = fread(buf, 1, PEM_MAX + 1, f);
	fclose(f);
	if (!n || n > PEM_MAX) {
		free(buf);
		return su_error_set(err, SU_ERR_CONFIG, "%s: empty or larger than 1 MiB",
				    path);
	}
	buf[n] = '\0';
	*out = realloc(buf, n + 1) ?: buf;
	return SU_OK;
}

/* "0.0.0.0:8443", "[::]:8443", "127.0.0.1:8443". */
static enum su_err parse_address(const char *s, struct addrinfo **out,
				 struct su_error *err)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	};
	const char *colon = strrchr(s, ':');
	char host[64];
	size_t len;
	int rc;

	if (!colon || !colon[1])
		goto bad;
	len = (size_t)(colon - s);
	if (s[0] == '[') {
		if (len < 2 || s[len - 1] != ']')
			goto bad;
		s++;
		len -= 2;
	}
	if (len >= sizeof(host))
		goto bad;
	memcpy(host, s, len);
	host[len] = '\0';
	rc = getaddrinfo(host, colon + 1, &hints, out);
	if (rc)
		return su_error_set(err, SU_ERR_CONFIG, "listen address %s: %s",
				    s, gai_strerror(rc));
	return SU_OK;
bad:
	return su_error_set(err, SU_ERR_CONFIG,
			    "listen address '%s': expected HOST:PORT or [V6]:PORT", s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_info("http: %s", line);
}

static enum su_err start_one(struct daemon *d, struct listener *l,
			     const struct config_listen *cl,
			     struct su_error *err)
{
	const struct config *cfg = d->cfg;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_ERROR_LOG;
	struct MHD_OptionItem o[16];
	struct addrinfo *ai;
	size_t n = 0;
	/* below half: two addresses cannot take every connection */
	unsigned per_ip = (cfg->max_connections - 1) / 2 ?: 1;

	if (parse_address(cl->address, &ai, err))
		return err->code;
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ?
		 MHD_USE_EPOLL : MHD_USE_POLL;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
#define OPT(opt, v, p) o[n++] = (struct MHD_OptionItem){ opt, (intptr_t)(v), p }
	OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL);	/* first, says MHD */
	OPT(MHD_OPTION_SOCK_ADDR, 0, ai->ai_addr);
	OPT(MHD_OPTION_CONNECTION_LIMIT, 2 * cfg->max_connections, NULL); /* evict() */
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, api_completed, l);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, notify_connection, l);
	if (cl->tls) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, srv.cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, srv.key);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, TLS_PRIORITIES);
		if (srv.ca)
			OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, srv.ca);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	l->d = d;
	l->tls = cl->tls;
	l->address = cl->address;
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, api_handler, l,
				  MHD_OPTION_ARRAY, o, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!l->mhd)
		return su_error_set(err, SU_ERR_CONFIG,
				    "cannot listen on %s (%s); see the log for why",
				    cl->address, cl->tls ? "https" : "http");
	log_notice("listening on %s://%s", cl->tls ? "https" : "http",
		   cl->address);
	return SU_OK;
}

static bool any_tls(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_listen; i++)
		if (cfg->listen[i].tls)
			return true;
	return false;
}

static enum su_err load_tls(const struct config *cfg, struct su_error *err)
{
	if (!cfg->tls_cert || !cfg->tls_key)
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: [server] listen needs cert and key", cfg->path);
	if (read_pem(cfg->tls_cert, &srv.cert, err) ||
	    read_pem(cfg->tls_key, &srv.key, err))
		return err->code;
	if (cfg->client_ca && read_pem(cfg->client_ca, &srv.ca, err))
		return err->code;
	return SU_OK;
}

enum su_err server_prepare(const struct config *cfg, struct su_error *err)
{
	struct addrinfo *ai;

	if (!cfg->n_listen)
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: [server] has neither listen nor http_listen",
				    cfg->path);
	for (size_t i = 0; i < cfg->n_listen; i++) {
		if (parse_address(cfg->listen[i].address, &ai, err))
			return err->code;
		freeaddrinfo(ai);
	}
	if (any_tls(cfg) && load_tls(cfg, err)) {
		server_stop();
		return err->code;
	}
	return SU_OK;
}

enum su_err server_start(struct daemon *d, struct su_error *err)
{
	const struct config *cfg = d->cfg;

	srv.l = calloc(cfg->n_listen, sizeof(*srv.l));
	if (!srv.l) {
		su_error_set(err, SU_ERR_NOMEM, "listeners: %m");
		goto fail;
	}
	if (watch_start(err))
		goto fail;
	for (srv.n = 0; srv.n < cfg->n_listen; srv.n++)
		if (start_one(d, &srv.l[srv.n], &cfg->listen[srv.n], err))
			goto fail;
	return SU_OK;
fail:
	server_stop();
	return err->code;
}

void server_stop(void)
{
	for (size_t i = 0; i < srv.n; i++)
		if (srv.l[i].mhd)
			MHD_stop_daemon(srv.l[i].mhd);
	watch_stop();	/* after the daemons: their connections are gone */
	free(srv.l);
	srv.l = NULL;
	srv.n = 0;
	/* the key is secret: do not leave it in freed memory */
	if (srv.key)
		explicit_bzero(srv.key, strlen(srv.key));
	free(srv.cert);
	free(srv.key);
	free(srv.ca);
	srv.cert = srv.key = srv.ca = NULL;
}
