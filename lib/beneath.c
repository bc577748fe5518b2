/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening a file below a directory, openat2 or its walk. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "beneath.h"

int beneath_open(int dfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		return beneath_walk(dfd, path, flags);
	return fd;
}

/* @fd is on @dev and, unless @last, a directory; else closed, -1. */
static int checked(int fd, dev_t dev, int last)
{
	struct stat st;
	int e = 0;

	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISLNK(st.st_mode))
		e = ELOOP;
	else if (st.st_dev != dev)
		e = EXDEV;
	else if (!last && !S_ISDIR(st.st_mode))
		e = ENOTDIR;
	if (!e)
		return fd;
	close(fd);
	errno = e;
	return -1;
}

int beneath_walk(int dfd, const char *path, int flags)
{
	char comp[NAME_MAX + 1];
	struct stat top;
	const char *p = path;
	int fd;

	if (flags & O_CREAT) {
		errno = EINVAL;
		return -1;
	}
	if (*p == '/') {
		errno = EXDEV;
		return -1;
	}
	if (!*p) {
		errno = ENOENT;
		return -1;
	}
	if (fstat(dfd, &top) < 0)
		return -1;
	fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	while (fd >= 0) {
		size_t len = strcspn(p, "/");
		const char *next = p + len + strspn(p + len, "/");
		int last = !*next, sub;

		if (len > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (!strcmp(comp, "..")) {
			close(fd);
			errno = EXDEV;
			return -1;
		}
		if (last) {
			/* "name/" must be a directory, as for open(2) */
			int dir = p[len] ? O_DIRECTORY : 0;

			sub = openat(fd, comp, flags | dir | O_NOFOLLOW |
				     O_CLOEXEC);
		} else {
			sub = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		close(fd);
		if (sub < 0)
			return -1;
		fd = checked(sub, top.st_dev, last);
		if (last)
			return fd;
		p = next;
	}
	return -1;
}
