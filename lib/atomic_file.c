/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Files that survive a power cut whole: write, fsync, rename, fsync. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

enum su_err file_write_all(int fd, const void *p, size_t len,
			   const char *shown, struct su_error *err)
{
	const char *s = p;

	while (len) {
		ssize_t w = write(fd, s, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return su_error_set(err, SU_ERR_IO, "write %s: %m",
					    shown);
		s += w;
		len -= (size_t)w;
	}
	return SU_OK;
}

enum su_err file_replace_at(int dfd, const char *name, const void *data,
			    size_t len, mode_t mode, const char *shown,
			    struct su_error *err)
{
	char tmp[NAME_MAX + 1];
	enum su_err rc;
	int fd;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return su_error_set(err, SU_ERR_IO, "%s: file name too long",
				    shown);
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, mode);
	if (fd < 0)
		return su_error_set(err, SU_ERR_IO, "create %s beside %s: %m",
				    tmp, shown);
	rc = file_write_all(fd, data, len, shown, err);
	if (!rc && fsync(fd) < 0)
		rc = su_error_set(err, SU_ERR_IO, "fsync %s: %m", shown);
	if (close(fd) < 0 && !rc)
		rc = su_error_set(err, SU_ERR_IO, "close %s: %m", shown);
	if (!rc && renameat(dfd, tmp, dfd, name) < 0)
		rc = su_error_set(err, SU_ERR_IO, "rename %s to %s: %m", tmp,
				  shown);
	if (rc) {
		unlinkat(dfd, tmp, 0);
		return rc;
	}
	if (fsync(dfd) < 0)
		return su_error_set(err, SU_ERR_IO,
				    "fsync the directory of %s: %m", shown);
	return SU_OK;
}
