/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Static files of the web UI. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "reply.h"
#include "www.h"

#define WWW_PATH_MAX 200

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && !strcmp(path + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

/* A relative path of plain segments, or false. */
static bool plain_path(const char *p)
{
	bool start = true;

	if (!*p || strlen(p) > WWW_PATH_MAX)
		return false;
	for (; *p; p++) {
		if (*p == '/') {
			if (start)
				return false;	/* empty segment */
			start = true;
			continue;
		}
		if (start && *p == '.')
			return false;		/* ., .., dotfiles */
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
			return false;
		start = false;
	}
	return !start;
}

static int open_beneath(const char *dir, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (dfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)	/* before Linux 5.6: plain_path() holds */
		fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dfd);
	return fd;
}

enum MHD_Result www_serve(struct MHD_Connection *c, const char *dir,
			  const char *url)
{
	const char *rel = url[0] == '/' ? url + 1 : url;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct stat st;
	int fd;

	if (!*rel)
		rel = "index.html";
	if (!dir || !plain_path(rel))
		return reply_not_found(c, url);
	fd = open_beneath(dir, rel);
	if (fd < 0)
		return reply_not_found(c, url);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return reply_not_found(c, url);
	}
	r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(rel));
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; frame-ancestors 'none'");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
