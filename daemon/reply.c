/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON answers, error statuses and the mid-body early answer. */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reply.h"

#define EARLY_WRITE_MS	2000	/* give up on a client that reads nothing */
#define LINGER_MS	500	/* time for the client to read the answer */
#define LINGER_MAX	(8 << 20)	/* bytes discarded meanwhile, at most */
#define LINGER_THREADS	16	/* drains running off the event thread, at most */
#define ACK_POLL_MS	5	/* after LINGER_MAX: how often to look for the ack */

static atomic_int lingering;

unsigned reply_status(enum su_err code)
{
	switch (code) {
	case SU_OK:
		return MHD_HTTP_OK;
	case SU_ERR_UNAUTHORIZED:
		return MHD_HTTP_UNAUTHORIZED;
	case SU_ERR_BUSY:
	case SU_ERR_NOTHING_STAGED:
	case SU_ERR_REBOOT_PENDING:
		return MHD_HTTP_CONFLICT;
	case SU_ERR_NO_MEMORY:
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	case SU_ERR_TOO_LARGE:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case SU_ERR_NO_SPACE:
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	case SU_ERR_BAD_ARCHIVE:
	case SU_ERR_BAD_MANIFEST:
	case SU_ERR_BAD_SIGNATURE:
	case SU_ERR_UNTRUSTED_KEY:
	case SU_ERR_INCOMPATIBLE:
	case SU_ERR_DOWNGRADE:
	case SU_ERR_HASH_MISMATCH:
	case SU_ERR_SIZE_MISMATCH:
	case SU_ERR_MISSING_PAYLOAD:
	case SU_ERR_UNEXPECTED_MEMBER:
	case SU_ERR_UNKNOWN_TARGET:
	case SU_ERR_BAD_REQUEST:
		return MHD_HTTP_BAD_REQUEST;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

struct MHD_Response *reply_response(char *body, const char *type)
{
	struct MHD_Response *r;

	if (!body)
		return NULL;
	r = MHD_create_response_from_buffer(strlen(body), body,
					    MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return r;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status,
			     char *body, const char *hname, const char *hvalue)
{
	struct MHD_Response *r = reply_response(body, "application/json");
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (hname)
		MHD_add_response_header(r, hname, hvalue);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
			   const char *body)
{
	return queue(c, status, strdup(body), NULL, NULL);
}

enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status,
			   json_object *o)
{
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return queue(c, status, s, NULL, NULL);
}

static char *error_body(const char *code, const char *message)
{
	json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(message));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

char *reply_error_body(enum su_err code, const char *message)
{
	return error_body(su_err_name(code), message);
}

enum MHD_Result reply_error(struct MHD_Connection *c, const struct su_error *e)
{
	return queue(c, reply_status(e->code),
		     reply_error_body(e->code, e->message), NULL, NULL);
}

enum MHD_Result reply_errorf(struct MHD_Connection *c, unsigned status,
			     enum su_err code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return queue(c, status, reply_error_body(code, msg), NULL, NULL);
}

static const char *reason(unsigned status)
{
	const char *r = MHD_get_reason_phrase_for(status);

	return r && *r ? r : "Error";
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* MHD's sockets are non-blocking: wait for room, within a deadline. */
static bool wait_writable(int fd, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	long long left = deadline - now_ms();

	return left > 0 && poll(&p, 1, (int)left) > 0;
}

/* Bytes of the answer the client has not acknowledged yet. */
static int unacked(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCOUTQ, &n) ? 0 : n;
}

/* Past LINGER_MAX: read no more, but keep the socket until the answer is
 * acknowledged (no event says so: look every few ms) or the client goes. */
static void wait_acked(int fd, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	long long left;

	while (unacked(fd) && (left = deadline - now_ms()) > 0)
		if (poll(&p, 1, left < ACK_POLL_MS ? (int)left : ACK_POLL_MS) > 0 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return;
}

/*
 * Discard what the client still sends, until it closes (having read the
 * answer), briefly and boundedly, never reading the rest of a large
 * body. A close while the answer is unacknowledged would reset the
 * connection, and a lost segment of it could never be sent again.
 */
static void drain(int fd)
{
	long long deadline = now_ms() + LINGER_MS;
	size_t total = 0;
	char buf[16384];

	while (total < LINGER_MAX) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return;
		if (n > 0)
			total += (size_t)n;
	}
	wait_acked(fd, deadline);
}

static void *drain_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;

	drain(fd);
	close(fd);
	atomic_fetch_sub(&lingering, 1);
	return NULL;
}

/* A second descriptor of the socket keeps it open after MHD closes its
 * own, so the drain runs on a thread of its own. */
static bool drain_elsewhere(int fd)
{
	pthread_attr_t attr;
	pthread_t t;
	int dup_fd;
	bool ok;

	if (atomic_fetch_add(&lingering, 1) >= LINGER_THREADS) {
		atomic_fetch_sub(&lingering, 1);
		return false;
	}
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		atomic_fetch_sub(&lingering, 1);
		return false;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = !pthread_create(&t, &attr, drain_thread, (void *)(intptr_t)dup_fd);
	pthread_attr_destroy(&attr);
	if (!ok) {
		close(dup_fd);
		atomic_fetch_sub(&lingering, 1);
	}
	return ok;
}

/*
 * The answer is out. Closing now, with the client's body still arriving,
 * would make the kernel reset the connection, and a reset can destroy
 * the answer before the client reads it. So: FIN, then drain. The drain
 * (up to LINGER_MS) runs off the event thread, which serves every other
 * connection of the listener; only with LINGER_THREADS drains already
 * running does it run here.
 */
static void linger(int fd)
{
	shutdown(fd, SHUT_WR);
	if (!drain_elsewhere(fd))
		drain(fd);
}

static bool send_all(struct MHD_Connection *c, bool tls, const char *buf,
		     size_t len)
{
	const union MHD_ConnectionInfo *fdi =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *tli = tls ?
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
	long long deadline = now_ms() + EARLY_WRITE_MS;
	int fd = fdi ? fdi->connect_fd : -1;

	if (fd < 0 || (tls && (!tli || !tli->tls_session)))
		return false;
	while (len) {
		ssize_t n;

		if (tls)
			n = gnutls_record_send(tli->tls_session, buf, len);
		else
			n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (tls ? (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			: (n < 0 && (errno == EAGAIN || errno == EINTR))) {
			/* (gnutls wants the same buffer again: it is) */
			if (!wait_writable(fd, deadline))
				return false;
			continue;
		}
		return false;
	}
	linger(fd);
	return true;
}

/* Write @status with @body (taken) and one optional header straight to
 * the connection, then the staged close; MHD_NO for MHD to drop it. */
static enum MHD_Result write_early(struct MHD_Connection *c, bool tls,
				   unsigned status, char *body,
				   const char *hname, const char *hvalue)
{
	char extra[256] = "";
	char *msg = NULL;
	int len;

	if (!body)
		return MHD_NO;
	if (hname)
		snprintf(extra, sizeof(extra), "%s: %s\r\n", hname, hvalue);
	len = asprintf(&msg, "HTTP/1.1 %u %s\r\n"
		       "Content-Type: application/json\r\n"
		       "Cache-Control: no-store\r\n%s"
		       "Content-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s",
		       status, reason(status), extra, strlen(body), body);
	free(body);
	if (len < 0)
		return MHD_NO;
	if (!send_all(c, tls, msg, (size_t)len))
		log_info("early answer %u could not be sent", status);
	free(msg);
	return MHD_NO;
}

/* A request whose headers announce a body the handler will not read. */
static bool has_body(struct MHD_Connection *c)
{
	const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return len && strspn(len, "0") != strlen(len);
}

static enum MHD_Result refuse(struct MHD_Connection *c, bool tls,
			      unsigned status, char *body,
			      const char *hname, const char *hvalue)
{
	if (has_body(c))
		return write_early(c, tls, status, body, hname, hvalue);
	return queue(c, status, body, hname, hvalue);
}

enum MHD_Result reply_refuse(struct MHD_Connection *c, bool tls,
			     const struct su_error *e)
{
	return refuse(c, tls, reply_status(e->code),
		      reply_error_body(e->code, e->message), NULL, NULL);
}

enum MHD_Result reply_unauthorized(struct MHD_Connection *c, bool tls)
{
	return refuse(c, tls, MHD_HTTP_UNAUTHORIZED,
		      reply_error_body(SU_ERR_UNAUTHORIZED,
				       "this request needs a valid bearer token or client certificate"),
		      MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		      "Bearer realm=\"sysupgraded\"");
}

enum MHD_Result reply_throttled(struct MHD_Connection *c, bool tls,
				unsigned retry_after)
{
	char msg[160], secs[16];

	snprintf(msg, sizeof(msg),
		 "too many failed authorizations from this address; retry in %u s",
		 retry_after);
	snprintf(secs, sizeof(secs), "%u", retry_after);
	return refuse(c, tls, MHD_HTTP_TOO_MANY_REQUESTS,
		      reply_error_body(SU_ERR_UNAUTHORIZED, msg),
		      MHD_HTTP_HEADER_RETRY_AFTER, secs);
}

static char *not_found_body(const char *url)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "no such API path: %.120s", url);
	return error_body("not_found", msg);
}

enum MHD_Result reply_no_route(struct MHD_Connection *c, bool tls,
			       const char *url)
{
	return refuse(c, tls, MHD_HTTP_NOT_FOUND, not_found_body(url),
		      NULL, NULL);
}

enum MHD_Result reply_bad_method(struct MHD_Connection *c, bool tls,
				 const char *allow)
{
	char msg[120];

	snprintf(msg, sizeof(msg), "this path allows only %s", allow);
	return refuse(c, tls, MHD_HTTP_METHOD_NOT_ALLOWED,
		      error_body("method_not_allowed", msg),
		      MHD_HTTP_HEADER_ALLOW, allow);
}

enum MHD_Result reply_early(struct MHD_Connection *c, bool tls,
			    const struct su_error *e)
{
	return write_early(c, tls, reply_status(e->code),
			   reply_error_body(e->code, e->message), NULL, NULL);
}
