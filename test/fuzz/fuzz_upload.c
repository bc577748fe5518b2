/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The upload path as a client sees it: the real daemon runs in-process
 * (daemon_open() + daemon_listen(): plain HTTP on a loopback port,
 * staging in a tmpfs directory, the keys of keys/, a token) and every
 * input becomes one HTTP/1.1 request over a loopback socket.
 *
 * Input: byte 0 picks the request's shape, then three lines (query,
 * one extra header, a parameter), then the body:
 *   bits 0-2  template: 0 POST raw, 1 PUT chunked, 2 POST multipart,
 *             3 PUT multipart chunked (boundary = parameter),
 *             4 POST with Content-Length = the parameter's digits
 *             (shorter: the body is cut; longer: the client breaks off),
 *             5 POST chunked with the body as the chunk framing, then
 *             the client breaks off unless answered, 6 method = the
 *             parameter's A-Z, 7 POST with Content-Type = parameter
 *   bits 3-4  authorization: the token, the token, none, or the
 *             extra-header line as the Authorization value
 *   bits 5-6  chunk size for the chunked templates
 *   bit 7     append 16 KiB of zeros (legal tar padding) to the body:
 *             past the staging limit
 *
 * After each request: a complete HTTP/1.1 answer with a documented
 * status (500 aborts), JSON error documents, no success without the
 * token, the daemon back to a resting state, nothing but bundle.tar in
 * staging and no upload file left open; a staged bundle is the bytes
 * sent and its report says so, and follows a success, or no answer to
 * a chunk framing that the client sent whole and then broke off (it may
 * have been a complete request: abandon() cannot know). DELETE /bundle and GET /status then reset
 * and check the daemon, so inputs are independent.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "daemon.h"
#include "digest.h"
#include "log.h"
#include "staging.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define TOKEN		"fuzz-token-0123456789"
#define STAGING_MAX	16384
#define PAD_BYTES	16384
#define ENV_SIZE	0x4000
#define PARAM_MAX	256
#define RESP_MAX	(64 * 1024)
/* Hang detectors, not speed goals: an answer takes 70-130 ms here, but
 * a long run at nice 19 beside a load of 20 once starved the daemon's
 * threads past 3 s (the input then answered 30 times in 30). */
#define ANSWER_MS	15000	/* a complete request is answered by then */
#define REST_MS		15000	/* the daemon is at rest again by then */

static struct daemon dmn = { .lock = PTHREAD_MUTEX_INITIALIZER };
static char work[64];
static char staging[128];
static uint16_t port;
static bool running;
static bool trace;	/* FUZZ_UPLOAD_TRACE=1: each input's status */

static void remove_work(void);

/* A finding: say what, leave no directory behind, let libFuzzer know. */
#define FAIL(...) do { fprintf(stderr, "fuzz_upload: " __VA_ARGS__); \
		       fputc('\n', stderr); remove_work(); abort(); } while (0)

/* ---- setup ---- */

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		FAIL("write %s: %m", path);
}

/* A valid U-Boot environment: a good bundle with ?install=1 gets as far
 * as the install plan, which refuses the in-use targets (409). */
static void write_env(void)
{
	static uint8_t env[ENV_SIZE];
	char path[160], conf[256];
	uint32_t crc;

	memcpy(env + 4, "bootcount=0", 12);
	crc = crc32(env + 4, ENV_SIZE - 4);
	for (int i = 0; i < 4; i++)
		env[i] = (uint8_t)(crc >> (8 * i));
	snprintf(path, sizeof(path), "%s/env.bin", work);
	write_file(path, env, sizeof(env));
	snprintf(conf, sizeof(conf), "%s 0x0 0x%x\n", path, ENV_SIZE);
	snprintf(path, sizeof(path), "%s/fw_env.config", work);
	write_file(path, conf, strlen(conf));
}

static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		FAIL("pick a loopback port: %m");
	close(fd);
	return ntohs(a.sin_port);
}

static void write_config(const char *path)
{
	uint8_t sum[DIGEST_LEN];
	char hex[DIGEST_HEX_LEN + 1];
	FILE *f = fopen(path, "we");

	digest_buf(TOKEN, strlen(TOKEN), sum);
	digest_to_hex(sum, hex);
	if (!f)
		FAIL("write %s: %m", path);
	fprintf(f, "[device]\ncompatible = fuzz,device\nversion = 1.0\n"
		"keys = %s\nfw_env_config = %s/fw_env.config\n\n"
		"[server]\nhttp_listen = 127.0.0.1:%u\nhttp_token = yes\ntoken_sha256 = %s\n"
		"max_connections = 64\nconnection_timeout = 10\nwww = %s/www\n\n"
		"[staging]\ndir = %s\nmax_size = %d\n\n"
		"[install]\nreboot_command = %s/no-reboot\n\n",
		SU_FUZZ_KEYS_DIR, work, port, hex, work, staging, STAGING_MAX,
		work);
	/* the manifests of corpus/bundle_reader: ta (mtd), tb (ext4) */
	fprintf(f, "[target:ta]\ntype = mtd\ndevice = %s/ta\nin_use = yes\n\n"
		"[target:tb]\ntype = ext4\ndevice = %s/tb\nin_use = yes\n",
		work, work);
	if (fclose(f))
		FAIL("write %s: %m", path);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_work(void)
{
	if (work[0])
		nftw(work, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void stop(void)
{
	if (running)
		daemon_close(&dmn);
	running = false;
	log_close();
	remove_work();
}

/*
 * The daemon's threads (MHD's, and every thread they start) block
 * signals, as sysupgraded's do (daemon/main.c blocks them before any
 * thread starts). Only this thread, the client, then takes libFuzzer's
 * SIGALRM (its -timeout check, every timeout/2 + 1 s), and the client
 * retries what it interrupts.
 */
static void start_daemon(const char *conf)
{
	struct su_error err;
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (daemon_open(&dmn, conf, &err) || daemon_listen(&dmn, &err))
		FAIL("start the daemon: %s", err.message);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char conf[160];

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	trace = getenv("FUZZ_UPLOAD_TRACE");
	/* /dev/shm is a tmpfs: staging needs no mount of its own */
	strcpy(work, "/dev/shm/sysupgraded-fuzz.XXXXXX");
	if (!mkdtemp(work)) {
		strcpy(work, "/tmp/sysupgraded-fuzz.XXXXXX");
		if (!mkdtemp(work))
			FAIL("mkdtemp: %m");
	}
	snprintf(staging, sizeof(staging), "%s/staging", work);
	snprintf(conf, sizeof(conf), "%s/daemon.conf", work);
	write_env();
	port = free_port();
	write_config(conf);
	log_open(0, false);	/* syslog only: no line per refused upload */
	atexit(stop);
	__sanitizer_set_death_callback(remove_work);
	start_daemon(conf);
	running = true;
	return 0;
}

/* ---- evidence of a stall ---- */

static void run_tool(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Before a hang detector aborts: the daemon's state, both ends of every
 * connection to its port (queues, timers), and every thread's stack.
 * The stalled input alone is answered at once, so this is the only look
 * at what the daemon was doing.
 */
static void dump_stall(void)
{
	char pid[16], filter[64];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(filter, sizeof(filter), "( sport = :%u or dport = :%u )",
		 port, port);
	fprintf(stderr, "fuzz_upload: stalled; daemon state %s\n",
		state_name(state_get()));
	run_tool((char *[]){ "ss", "-tanoi", filter, NULL });
	run_tool((char *[]){ "gdb", "-batch", "-nx", "-p", pid,
			     "-ex", "info threads",
			     "-ex", "thread apply all bt 30", NULL });
}

#define STALL(...) do { dump_stall(); FAIL(__VA_ARGS__); } while (0)

/* ---- the client ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			FAIL("out of memory");
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* poll() of one descriptor for @ms (-1: for ever), again after a
 * signal with the time left. */
static int poll_one(struct pollfd *p, long long ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		int r = poll(p, 1, ms < 0 ? -1 : (int)ms);

		if (r >= 0 || errno != EINTR)
			return r;
		if (ms >= 0 && (ms = end - now_ms()) < 0)
			ms = 0;
	}
}

/* connect(), which an interrupted call leaves going on: wait for it. */
static int connect_retry(int fd, const struct sockaddr_in *a)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int e = 0;

	if (!connect(fd, (const struct sockaddr *)a, sizeof(*a)))
		return 0;
	if (errno != EINTR)
		return -1;
	if (poll_one(&p, ANSWER_MS) <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len))
		return -1;
	errno = e;
	return e ? -1 : 0;
}

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect_retry(fd, &a))
		FAIL("connect to the daemon on port %u: %m", port);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The daemon may answer and close before the body is in: stop there. */
static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Everything until the daemon closes; false when it did not in time. */
static bool recv_all(int fd, struct buf *out)
{
	long long deadline = now_ms() + ANSWER_MS;
	char tmp[8192];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll_one(&p, left) <= 0)
			return false;
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;	/* closed (or reset) */
		if (out->len + (size_t)n > RESP_MAX)
			FAIL("more than %d bytes of answer", RESP_MAX);
		put(out, tmp, (size_t)n);
	}
}

/* ---- answers ---- */

struct answer {
	unsigned status;
	bool json;
	const char *body;
	size_t body_len;
};

static const char *header(const char *head, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l < end;
	     l = strstr(l + 2, "\r\n"))
		if (!strncasecmp(l + 2, name, n) && l[2 + n] == ':')
			return l + 3 + n + strspn(l + 3 + n, " \t");
	return NULL;
}

/* One response at *@p (interim 1xx skipped); advances *@p past it. */
static bool parse_answer(const char **p, const char *end, struct answer *a)
{
	const char *s, *h, *v;
	unsigned long long len = 0;
	char *e;

	do {
		s = *p;
		h = memmem(s, (size_t)(end - s), "\r\n\r\n", 4);
		if (!h || strncmp(s, "HTTP/1.1 ", 9) ||
		    sscanf(s + 9, "%3u", &a->status) != 1)
			return false;
		*p = h + 4;
	} while (a->status < 200);
	v = header(s, h, "Content-Length");
	if (v) {
		len = strtoull(v, &e, 10);
		if (e == v)
			return false;
	} else if (a->status != 204) {
		return false;
	}
	if (len > (size_t)(end - *p))
		return false;
	a->body = *p;
	a->body_len = (size_t)len;
	v = header(s, h, "Content-Type");
	a->json = v && !strncasecmp(v, "application/json", 16);
	*p += len;
	return true;
}

static void check_json(const struct answer *a)
{
	json_tokener *tok = json_tokener_new();
	json_object *o, *e, *m;

	o = json_tokener_parse_ex(tok, a->body, (int)a->body_len);
	if (!o || json_tokener_get_parse_end(tok) != a->body_len ||
	    !json_object_is_type(o, json_type_object))
		FAIL("status %u: the body is not one JSON object: %.*s",
		     a->status, (int)a->body_len, a->body);
	json_tokener_free(tok);
	if (a->status >= 400 &&
	    (!json_object_object_get_ex(o, "error", &e) ||
	     !json_object_is_type(e, json_type_string) ||
	     !json_object_object_get_ex(o, "message", &m) ||
	     !json_object_is_type(m, json_type_string) ||
	     !json_object_get_string_len(m)))
		FAIL("status %u: not an error document: %.*s", a->status,
		     (int)a->body_len, a->body);
	json_object_put(o);
}

/* Statuses of the API; MHD's own refusals (HTML) besides. */
static bool documented(unsigned s)
{
	static const unsigned ok[] = {
		200, 202, 204, 400, 401, 404, 405, 409, 413, 429, 507,
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (s == ok[i])
			return true;
	return false;
}

static bool from_mhd(unsigned s)
{
	return s == 400 || s == 413 || s == 414 || s == 417 || s == 431 ||
	       s == 501 || s == 505;
}

/* ---- requests ---- */

enum {
	T_RAW, T_CHUNKED, T_MULTIPART, T_MULTIPART_CHUNKED,
	T_LENGTH, T_FRAMING, T_METHOD, T_TYPE,
};

struct input {
	unsigned tmpl, auth;
	size_t chunk;
	bool pad;
	char query[PARAM_MAX], extra[PARAM_MAX], param[PARAM_MAX];
	struct buf body;
};

struct request {
	struct buf text;
	char method[16];
	bool half_close;	/* the client breaks off: maybe no answer */
	bool maybe_whole;	/* ...but may have sent a complete request */
	bool token;		/* the request may carry the token */
	const char *raw;	/* what must be staged, when known */
	size_t raw_len;
};

static int query_ok(int c)
{
	return c > 0x20 && c < 0x7f && c != '#';
}

static int text_ok(int c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int method_ok(int c)
{
	return c >= 'A' && c <= 'Z';
}

/* The next line of the input, keeping the bytes @ok allows. */
static void take_line(const uint8_t **p, size_t *n, char *out,
		      int (*ok)(int c))
{
	const uint8_t *nl = memchr(*p, '\n', *n);
	size_t len = nl ? (size_t)(nl - *p) : *n, o = 0;

	for (size_t i = 0; i < len && o < PARAM_MAX - 1; i++)
		if (ok((*p)[i]))
			out[o++] = (char)(*p)[i];
	out[o] = '\0';
	len += nl ? 1 : 0;
	*p += len;
	*n -= len;
}

static void parse_input(const uint8_t *data, size_t size, struct input *in)
{
	static const size_t chunks[] = { 7, 100, 1000, SIZE_MAX };
	static const char zeros[PAD_BYTES];

	memset(in, 0, sizeof(*in));
	in->tmpl = data[0] & 7;
	in->auth = (data[0] >> 3) & 3;
	in->chunk = chunks[(data[0] >> 5) & 3];
	in->pad = data[0] & 0x80;
	data++;
	size--;
	take_line(&data, &size, in->query, query_ok);
	take_line(&data, &size, in->extra, text_ok);
	take_line(&data, &size, in->param, text_ok);
	put(&in->body, "", 0);
	put(&in->body, data, size);
	if (in->pad)
		put(&in->body, zeros, sizeof(zeros));
}

static void put_chunked(struct buf *r, const char *b, size_t len,
			size_t chunk)
{
	char line[32];

	while (len) {
		size_t n = len < chunk ? len : chunk;

		snprintf(line, sizeof(line), "%zx\r\n", n);
		puts_(r, line);
		put(r, b, n);
		puts_(r, "\r\n");
		b += n;
		len -= n;
	}
	puts_(r, "0\r\n\r\n");
}

static void put_header(struct buf *r, const char *name, const char *value)
{
	puts_(r, name);
	puts_(r, ": ");
	puts_(r, value);
	puts_(r, "\r\n");
}

static void put_headers(const struct input *in, struct request *rq)
{
	struct buf *r = &rq->text;
	const char *extra = in->extra + strspn(in->extra, " \t");
	char ct[PARAM_MAX + 64];

	puts_(r, "Host: 127.0.0.1\r\n");
	if (in->auth < 2)
		put_header(r, "Authorization", "Bearer " TOKEN);
	else if (in->auth == 3)
		put_header(r, "Authorization", in->extra);
	if (in->auth != 3 && *extra) {
		if (!strchr(extra, ':'))
			puts_(r, "X-Fuzz: ");
		puts_(r, extra);
		puts_(r, "\r\n");
	}
	rq->token = in->auth < 2 || strstr(in->extra, TOKEN);
	if (in->tmpl == T_MULTIPART || in->tmpl == T_MULTIPART_CHUNKED) {
		snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s",
			 in->param);
		put_header(r, "Content-Type", ct);
	} else if (in->tmpl == T_TYPE && in->param[0]) {
		put_header(r, "Content-Type", in->param);
	}
}

/* Content-Length of T_LENGTH: the body cut to it, or sent whole and
 * then the sending side closed. */
static void put_declared(const struct input *in, struct request *rq)
{
	size_t len = in->body.len, n = 0;
	unsigned long long declared;
	char v[20];

	/* digits only: MHD 0.9.75 garbles its own 400 for a bad value */
	for (const char *c = in->param; *c && n < sizeof(v) - 2; c++)
		if (*c >= '0' && *c <= '9')
			v[n++] = *c;
	if (!n)
		n = (size_t)snprintf(v, sizeof(v), "%zu", len);
	v[n] = '\0';
	declared = strtoull(v, NULL, 10);
	put_header(&rq->text, "Content-Length", v);
	puts_(&rq->text, "Connection: close\r\n\r\n");
	if (declared <= len) {
		len = (size_t)declared;
		rq->raw = in->body.p;
		rq->raw_len = len;
	} else {
		rq->half_close = true;
	}
	put(&rq->text, in->body.p, len);
}

static bool multipart(const char *type)
{
	return !strncasecmp(type + strspn(type, " \t"), "multipart/form-data",
			    19);
}

/* The extra header changes how the body is read: no raw comparison. */
static bool framing_header(const struct input *in)
{
	const char *h = in->extra + strspn(in->extra, " \t");

	return in->auth != 3 && (!strncasecmp(h, "content-", 8) ||
				 !strncasecmp(h, "transfer-", 9));
}

static void build(const struct input *in, struct request *rq)
{
	const char *method = in->tmpl == T_CHUNKED ||
			     in->tmpl == T_MULTIPART_CHUNKED ? "PUT" : "POST";
	struct buf *r = &rq->text;
	char len[32];

	memset(rq, 0, sizeof(*rq));
	if (in->tmpl == T_METHOD) {
		size_t n = 0;

		for (const char *c = in->param; *c && n < sizeof(rq->method) - 1; c++)
			if (method_ok(*c))
				rq->method[n++] = *c;
		if (n)
			method = rq->method;
	}
	puts_(r, method);
	puts_(r, " /api/v1/bundle");
	if (in->query[0]) {
		puts_(r, "?");
		puts_(r, in->query);
	}
	puts_(r, " HTTP/1.1\r\n");
	put_headers(in, rq);
	switch (in->tmpl) {
	case T_LENGTH:
		put_declared(in, rq);
		return;
	case T_CHUNKED:
	case T_MULTIPART_CHUNKED:
	case T_FRAMING:
		puts_(r, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
		if (in->tmpl == T_FRAMING) {
			put(r, in->body.p, in->body.len);
			rq->half_close = true;
			rq->maybe_whole = true;
		} else {
			put_chunked(r, in->body.p, in->body.len, in->chunk);
		}
		break;
	default:
		snprintf(len, sizeof(len), "%zu", in->body.len);
		put_header(r, "Content-Length", len);
		puts_(r, "Connection: close\r\n\r\n");
		put(r, in->body.p, in->body.len);
		break;
	}
	if (in->tmpl == T_RAW || in->tmpl == T_CHUNKED ||
	    in->tmpl == T_METHOD ||
	    (in->tmpl == T_TYPE && !multipart(in->param))) {
		rq->raw = in->body.p;
		rq->raw_len = in->body.len;
	}
	if (framing_header(in))
		rq->raw = NULL;
}

/* Nothing but interim answers (100 Continue) in @b, whole: the daemon
 * waits for the body, which is no answer yet. */
static bool interim_only(const struct buf *b)
{
	const char *p = b->p, *end = b->p + b->len;

	if (!b->len)
		return false;
	while (p < end) {
		const char *e = strstr(p, "\r\n\r\n");

		if (end - p < 10 || memcmp(p, "HTTP/1.1 1", 10) || !e)
			return false;
		p = e + 4;
	}
	return true;
}

/* ---- checks ---- */

static unsigned check_answer(const struct request *rq, const struct buf *resp)
{
	const char *p = resp->p, *end;
	struct answer a;

	if (!resp->len || (rq->half_close && interim_only(resp))) {
		if (!rq->half_close)
			FAIL("no answer to a complete request:\n%.*s",
			     (int)(rq->text.len > 600 ? 600 : rq->text.len),
			     rq->text.p);
		return 0;
	}
	end = p + resp->len;
	if (!parse_answer(&p, end, &a))
		FAIL("not a complete HTTP/1.1 answer:\n%s", resp->p);
	/* ... or, for an empty Content-Length, its 400's head twice, the
	 * first without the body: the "body" is the second answer */
	if (!a.json && from_mhd(a.status) && a.body_len >= 9 &&
	    !strncmp(a.body, "HTTP/1.1 ", 9))
		p = a.body;
	/* MHD 0.9.75 may send its own 400 page after an answer (to a
	 * header line without a name), and garbles it for a bad
	 * Content-Length: what follows is only checked to be MHD's */
	if (p != end) {
		struct answer more;

		if (!parse_answer(&p, end, &more) || more.json ||
		    !from_mhd(more.status))
			FAIL("more than one answer:\n%s", resp->p);
	}
	if (a.status == 500)
		FAIL("500: an internal failure:\n%s", resp->p);
	if (!documented(a.status) && !from_mhd(a.status))
		FAIL("undocumented status %u:\n%s", a.status, resp->p);
	if (!rq->token && (a.status < 300 || a.status == 409 ||
			   a.status == 413 || a.status == 507))
		FAIL("status %u without the token:\n%s", a.status, resp->p);
	if (a.json)
		check_json(&a);
	else if (a.body_len && !from_mhd(a.status))
		FAIL("status %u without a JSON body:\n%s", a.status, resp->p);
	return a.status;
}

static void wait_rest(void)
{
	long long deadline = now_ms() + REST_MS;
	enum su_state s;

	while (state_is_busy(s = state_get())) {
		if (now_ms() > deadline)
			STALL("the daemon is still %s %d ms after the request",
			     state_name(s), REST_MS);
		usleep(100);
	}
}

/* Upload files are O_TMPFILE: only an open descriptor shows them. */
/* No file of staging is open, but the staged bundle the daemon holds. */
static void check_no_open_upload(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = strlen(staging);
	int held = dmn.staged ? dmn.staged_fd : -1;
	struct dirent *e;

	if (!d)
		FAIL("/proc/self/fd: %m");
	while ((e = readdir(d))) {
		char path[64], target[256];
		ssize_t len;

		if (held >= 0 && atoi(e->d_name) == held)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (!strncmp(target, staging, n) && target[n] == '/')
			FAIL("an upload file is still open: %s", target);
	}
	closedir(d);
}

static bool staging_has_bundle(void)
{
	DIR *d = opendir(staging);
	struct dirent *e;
	bool found = false;

	if (!d)
		FAIL("%s: %m", staging);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (strcmp(e->d_name, STAGING_BUNDLE_NAME))
			FAIL("left in staging: %s", e->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

static char *read_staged(size_t *len)
{
	FILE *f = fopen(staging_bundle_path(), "re");
	char *b = malloc(STAGING_MAX + 1);

	if (!f || !b)
		FAIL("%s: %m", staging_bundle_path());
	*len = fread(b, 1, STAGING_MAX + 1, f);
	fclose(f);
	return b;
}

/* The staged file: what was sent, and what its report says. */
static void check_staged(const struct request *rq)
{
	char *report = daemon_staged_report(&dmn);
	json_object *o = report ? json_tokener_parse(report) : NULL, *v;
	uint8_t sum[DIGEST_LEN];
	char hex[DIGEST_HEX_LEN + 1];
	size_t len;
	char *b = read_staged(&len);

	if (!o)
		FAIL("staged, but no report: %s", report ? report : "(null)");
	digest_buf(b, len, sum);
	digest_to_hex(sum, hex);
	if (!json_object_object_get_ex(o, "sha256", &v) ||
	    strcmp(json_object_get_string(v), hex))
		FAIL("the report's sha256 is not the staged file's %s: %s",
		     hex, report);
	if (!json_object_object_get_ex(o, "size", &v) ||
	    json_object_get_int64(v) != (int64_t)len)
		FAIL("the report's size is not the staged file's %zu: %s",
		     len, report);
	if (rq->raw && (len != rq->raw_len || memcmp(b, rq->raw, len)))
		FAIL("the staged file (%zu bytes) is not the body sent (%zu)",
		     len, rq->raw_len);
	json_object_put(o);
	free(report);
	free(b);
}

static void check_staging(const struct request *rq, unsigned status)
{
	bool staged = daemon_has_staged(&dmn);

	check_no_open_upload();
	if (staging_has_bundle() != staged)
		FAIL("staged %d, but the file says otherwise", staged);
	if (status == 200 && !staged)
		FAIL("200, but nothing is staged");
	/* A framing sent whole can be a complete request, which the daemon
	 * finishes although the client broke off before its answer. */
	if (staged && status != 200 && status != 202 && status != 409 &&
	    !(status == 0 && rq->maybe_whole))
		FAIL("a bundle is staged after status %u", status);
	if (staged)
		check_staged(rq);
}

/* One request of the harness itself: its answer, which must be @status. */
static void ask(const char *req, unsigned status, struct buf *resp,
		struct answer *a)
{
	const char *p, *end;
	int fd = dial();

	send_all(fd, req, strlen(req));
	if (!recv_all(fd, resp))
		STALL("no answer to %.40s", req);
	if (!resp->len)
		FAIL("no answer to %.40s", req);
	close(fd);
	p = resp->p;
	end = p + resp->len;
	if (!parse_answer(&p, end, a) || a->status != status || p != end)
		FAIL("%.40s: expected %u:\n%s", req, status, resp->p);
}

/* DELETE /bundle: the next input starts from idle; GET /status: the
 * daemon still answers, and says so. One connection each, closed. */
static void reset(void)
{
	struct buf r1 = { 0 }, r2 = { 0 };
	struct answer a;
	json_object *o, *v;

	ask("DELETE /api/v1/bundle HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Authorization: Bearer " TOKEN "\r\nConnection: close\r\n\r\n",
	    204, &r1, &a);
	ask("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Authorization: Bearer " TOKEN "\r\nConnection: close\r\n\r\n",
	    200, &r2, &a);
	o = json_tokener_parse(a.body);
	if (!o || !json_object_object_get_ex(o, "state", &v) ||
	    strcmp(json_object_get_string(v), "idle") ||
	    !json_object_object_get_ex(o, "bundle", &v) || v)
		FAIL("GET /status after DELETE /bundle: %s", a.body);
	json_object_put(o);
	free(r1.p);
	free(r2.p);
}

/* What has come: what is readable now, and more while it is still the
 * beginning of an interim answer (one read can end inside it). */
static void recv_ready(int fd, struct buf *out)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char tmp[8192];

	do {
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);

		if (n <= 0)
			return;
		put(out, tmp, (size_t)n);
	} while (!strstr(out->p, "\r\n\r\n") && out->len >= 10 &&
		 !memcmp(out->p, "HTTP/1.1 1", 10) && poll_one(&p, 100) > 0);
}

/*
 * A request the client never finishes. MHD 0.9.75 keeps a half-closed
 * connection until connection_timeout, so the client breaks it (RST),
 * as a crashed one would: at once when the daemon answered (refused at
 * the headers), else once the upload is under way.
 */
static void abandon(int fd, struct buf *resp)
{
	long long deadline = now_ms() + ANSWER_MS;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (state_get() != ST_RECEIVING) {
		if (poll_one(&p, 1) > 0) {
			recv_ready(fd, resp);
			if (interim_only(resp))
				break;	/* 100 Continue: still unanswered */
			recv_all(fd, resp);
			return;
		}
		if (now_ms() > deadline)
			STALL("no answer and no upload %d ms after the request",
			     ANSWER_MS);
	}
	usleep(1000);	/* the rest of what was sent, mostly: see check_staging() */
	if (!resp->len && poll_one(&p, 0) > 0) {
		recv_ready(fd, resp);
		/* a 100 Continue that came after the upload began is no
		 * answer either: the daemon waits for the body */
		if (!interim_only(resp)) {
			recv_all(fd, resp);
			return;
		}
	}
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	struct request rq;
	struct buf resp = { 0 };
	unsigned status;
	int fd;

	if (size < 1)
		return 0;
	parse_input(data, size, &in);
	build(&in, &rq);
	fd = dial();
	send_all(fd, rq.text.p, rq.text.len);
	if (rq.half_close)
		abandon(fd, &resp);
	else if (!recv_all(fd, &resp))
		STALL("the daemon neither answered nor closed in %d ms",
		     ANSWER_MS);
	close(fd);
	status = check_answer(&rq, &resp);
	if (trace)
		fprintf(stderr, "fuzz_upload: template %u auth %u: %u\n",
			in.tmpl, in.auth, status);
	wait_rest();
	check_staging(&rq, status);
	reset();
	free(resp.p);
	free(rq.text.p);
	free(in.body.p);
	return 0;
}
