/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device-wide installer lock: flock(2) on a file that names its
 * holder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "run_lock.h"

void run_lock_update(int fd)
{
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pid, (size_t)n, 0);
}

/* The PID the holder wrote, or 0. */
static long holder(int fd)
{
	char buf[24];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

enum su_err run_lock_take(const struct config *cfg, int *fd,
			  struct su_error *err)
{
	char path[4096];
	enum su_err rc;

	snprintf(path, sizeof(path), "%s.lock", cfg->staging_dir);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return su_error_set(err, SU_ERR_IO, "open the lock %s: %m",
				    path);
	if (!flock(*fd, LOCK_EX | LOCK_NB)) {
		run_lock_update(*fd);
		return SU_OK;
	}
	if (errno != EWOULDBLOCK)
		rc = su_error_set(err, SU_ERR_IO, "lock %s: %m", path);
	else
		rc = su_error_set(err, SU_ERR_BUSY,
				  "another sysupgraded (PID %ld) holds %s: one installer at a time; install through that daemon, or stop it first",
				  holder(*fd), path);
	close(*fd);
	*fd = -1;
	return rc;
}

void run_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
