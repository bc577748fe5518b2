/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sd_notify(3) for Type=notify units (contrib/init/systemd). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

#ifdef SU_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

int notify_send(const char *msg)
{
	int rc = sd_notify(0, msg);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc > 0;
}
#else

int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((*path != '/' && *path != '@') || len >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (*path == '@')
		sa.sun_path[0] = 0;	/* abstract: no terminating NUL */
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
		   (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	if (n < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 1;
}
#endif
