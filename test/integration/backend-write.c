/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * su-backend-write: drive one flash backend by hand, for the integration
 * tests.
 *
 *   su-backend-write TYPE DEVICE IMAGE [KEY=VALUE ...]
 *	open the backend TYPE on DEVICE for IMAGE's size, write IMAGE in
 *	chunks of random sizes, finish; with readback=yes, then run the
 *	backend's verify against IMAGE's SHA-256, unless the backend
 *	compares each block as it writes it (compares_on_write), as the
 *	install engine does.
 *   su-backend-write --verify-only SHA256 TYPE DEVICE IMAGE [KEY=VALUE ...]
 *	only the verify, of IMAGE's size, against SHA256.
 *
 * KEY=VALUE are the target's backend options. Prints "ok" on stdout and
 * exits 0, or "error: CODE: MESSAGE" on stderr and exits 1 (2: usage).
 * SU_SEED=N repeats a run's chunk sizes. SU_CHUNK=N writes chunks of N
 * bytes (at most MAX_CHUNK) from a page-aligned buffer instead, as the
 * install engine feeds a backend (benchmarks). SU_IMAGE_SIZE=N is IMAGE's size
 * when it has none of its own (a FIFO a test feeds by hand).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

#define MAX_CHUNK (3u << 20)	/* crosses the backends' buffers */

struct run {
	const struct backend_ops *ops;
	struct config_target cfg;
	struct backend_target target;
	const char *image;
	uint64_t size;
	unsigned seed;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* SU_TIMING: the time since the last mark, under @what. */
static void mark(const char *what)
{
	static double last;
	static int on = -1;
	double t = now_ms();

	if (on < 0)
		on = getenv("SU_TIMING") != NULL;
	if (on && last)
		fprintf(stderr, "timing: %s %.2f ms\n", what, t - last);
	last = t;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: su-backend-write [--verify-only SHA256] TYPE DEVICE IMAGE [KEY=VALUE ...]\n");
	return 2;
}

static int report(enum su_err rc, const struct su_error *err,
		  const struct run *r)
{
	if (!rc) {
		printf("ok\n");
		return 0;
	}
	fprintf(stderr, "error: %s: %s\n", su_err_name(rc), err->message);
	fprintf(stderr, "(chunk sizes: SU_SEED=%u)\n", r->seed);
	return 1;
}

/* Mostly large chunks, sometimes a few bytes, to split headers; or the
 * fixed SU_CHUNK. */
static size_t chunk_size(void)
{
	static size_t fixed;

	if (!fixed && getenv("SU_CHUNK"))
		fixed = strtoul(getenv("SU_CHUNK"), NULL, 0);
	if (fixed)
		return fixed < MAX_CHUNK ? fixed : MAX_CHUNK;
	switch (rand() % 4) {
	case 0:
		return 1 + (size_t)rand() % 100;
	case 1:
		return 1 + (size_t)rand() % 8192;
	default:
		return 1 + (size_t)rand() % MAX_CHUNK;
	}
}

/* As the install engine: a backend that compares on write needs no pass. */
static bool driver_verifies(const struct run *r)
{
	return r->cfg.readback && r->ops->verify && !r->ops->compares_on_write;
}

static enum su_err stream(struct run *r, int fd, void *h, struct digest *d,
			  struct su_error *err)
{
	static unsigned char buf[MAX_CHUNK] __attribute__((aligned(4096)));
	uint64_t left = r->size;
	enum su_err rc;

	while (left) {
		size_t want = chunk_size();
		ssize_t n;

		if (want > left)
			want = left;
		n = read(fd, buf, want);
		if (n <= 0)
			return su_error_set(err, SU_ERR_IO, "read %s: %s",
					    r->image, n ? strerror(errno) :
					    "shorter than it was");
		if (driver_verifies(r))
			digest_update(d, buf, (size_t)n);
		rc = r->ops->write(h, buf, (size_t)n, err);
		if (rc)
			return rc;
		left -= (uint64_t)n;
	}
	return SU_OK;
}

static enum su_err write_image(struct run *r, struct su_error *err)
{
	uint8_t sha[DIGEST_LEN];
	struct digest d;
	enum su_err rc;
	void *h;
	int fd;

	fd = open(r->image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return su_error_set(err, SU_ERR_IO, "open %s: %m", r->image);
	digest_init(&d);
	mark("start");
	rc = r->ops->open(&r->target, r->size, &h, err);
	mark("open");
	if (rc)
		goto out;
	rc = stream(r, fd, h, &d, err);
	mark("write");
	if (rc) {
		r->ops->abort(h);
		goto out;
	}
	rc = r->ops->finish(h, err);
	mark("finish");
	digest_final(&d, sha);
	if (!rc && driver_verifies(r))
		rc = r->ops->verify(&r->target, r->size, sha, err);
	mark("verify");
out:
	close(fd);
	return rc;
}

static int parse_options(struct run *r, char **kv, int n)
{
	r->cfg.options = calloc((size_t)n + 1, sizeof(*r->cfg.options));
	if (!r->cfg.options)
		return -1;
	for (int i = 0; i < n; i++) {
		char *eq = strchr(kv[i], '=');

		if (!eq || eq == kv[i])
			return -1;
		*eq = '\0';
		if (!strcmp(kv[i], "readback")) {
			r->cfg.readback = !strcmp(eq + 1, "yes");
			continue;
		}
		r->cfg.options[r->cfg.n_options].key = kv[i];
		r->cfg.options[r->cfg.n_options++].value = eq + 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	struct su_error err;
	uint8_t want[DIGEST_LEN];
	const char *verify_only = NULL;
	struct stat st;
	enum su_err rc;

	mark("main");
	if (argc > 2 && !strcmp(argv[1], "--verify-only")) {
		verify_only = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 4 || (verify_only && digest_from_hex(verify_only, want)))
		return usage();
	r.ops = backend_find(argv[1]);
	if (!r.ops) {
		fprintf(stderr, "error: no backend called %s\n", argv[1]);
		return 2;
	}
	r.cfg.name = (char *)"test";
	r.cfg.type = argv[1];
	r.cfg.device = argv[2];
	r.target.cfg = &r.cfg;
	r.target.device = argv[2];
	r.image = argv[3];
	if (parse_options(&r, argv + 4, argc - 4))
		return usage();
	r.seed = getenv("SU_SEED") ? (unsigned)strtoul(getenv("SU_SEED"), NULL, 0) :
				     (unsigned)time(NULL) ^ (unsigned)getpid();
	srand(r.seed);
	su_error_clear(&err);
	if (stat(r.image, &st) < 0) {
		rc = su_error_set(&err, SU_ERR_IO, "stat %s: %m", r.image);
	} else if (verify_only) {
		r.size = (uint64_t)st.st_size;
		rc = r.ops->verify ?
		     r.ops->verify(&r.target, r.size, want, &err) :
		     su_error_set(&err, SU_ERR_INTERNAL,
				  "backend %s has no verify", r.ops->name);
	} else {
		r.size = getenv("SU_IMAGE_SIZE") ?
			 strtoull(getenv("SU_IMAGE_SIZE"), NULL, 10) :
			 (uint64_t)st.st_size;
		rc = write_image(&r, &err);
	}
	free(r.cfg.options);
	return report(rc, &err, &r);
}
