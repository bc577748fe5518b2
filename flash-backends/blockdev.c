/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers of the block-device backends (ext4.c, tar.c): option checks,
 * refusing a device in use, device size.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"

static bool in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return true;
	return false;
}

enum su_err blockdev_check_options(const struct config_target *t,
				   const char *const *known,
				   const char *const *flags,
				   struct su_error *err)
{
	for (size_t i = 0; i < t->n_options; i++) {
		const char *key = t->options[i].key;

		if (!in_list(known, key))
			return su_error_set(err, SU_ERR_CONFIG,
					    "target %s: unknown option '%s' for type %s",
					    t->name, key, t->type);
		/* config_target_flag() falls back to the default on a
		 * value that is not a boolean: it differs between the two
		 * defaults exactly then. */
		if (in_list(flags, key) && config_target_flag(t, key, true) !=
					   config_target_flag(t, key, false))
			return su_error_set(err, SU_ERR_CONFIG,
					    "target %s: option %s = '%s' is not yes or no",
					    t->name, key, t->options[i].value);
	}
	return SU_OK;
}

int blockdev_mount_point(dev_t rdev, char *where, size_t len)
{
	char want[32], line[4096], point[4096];
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%u:%u", major(rdev), minor(rdev));
	/* "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...": a source name can be
	 * anything, the device number cannot. */
	while (!found && fgets(line, sizeof(line), f)) {
		char devno[32];

		if (sscanf(line, "%*s %*s %31s %*s %4095s", devno, point) == 2 &&
		    !strcmp(devno, want)) {
			snprintf(where, len, "%s", point);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static enum su_err refuse_mounted(const char *dev, dev_t rdev, int busy,
				  struct su_error *err)
{
	char where[256];
	int r = blockdev_mount_point(rdev, where, sizeof(where));

	if (r < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "open %s: cannot read /proc/self/mountinfo: %m",
				    dev);
	if (r > 0)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "mounted",
				     "open %s: Device or resource busy (mounted at %s)",
				     dev, where);
	if (busy)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "busy",
				     "open %s: Device or resource busy (held by another exclusive opener: a mount in another namespace, a mounted partition, device-mapper, md or a swap area)",
				     dev);
	return SU_OK;
}

enum su_err blockdev_open_excl(const char *dev, int flags, int *fd,
			       bool *direct, struct su_error *err)
{
	struct stat st;
	enum su_err rc;

	if (stat(dev, &st) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED, "open %s: %m", dev);
	if (!S_ISBLK(st.st_mode))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "open %s: not a block device", dev);
	/* mountinfo first, to say where it is mounted; O_EXCL then catches
	 * what mountinfo cannot see (other namespaces, holders). */
	rc = refuse_mounted(dev, st.st_rdev, 0, err);
	if (rc)
		return rc;
	if (direct)
		*fd = blockdev_open_direct(dev, flags | O_EXCL, direct);
	else
		*fd = open(dev, flags | O_EXCL | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == EBUSY)
			return refuse_mounted(dev, st.st_rdev, 1, err);
		return su_error_set(err, SU_ERR_WRITE_FAILED, "open %s: %m", dev);
	}
	return SU_OK;
}

int blockdev_open_direct(const char *path, int flags, bool *direct)
{
	int fd = open(path, flags | O_DIRECT | O_CLOEXEC);

	*direct = fd >= 0 || errno != EINVAL;
	if (!*direct)
		fd = open(path, flags | O_CLOEXEC);
	return fd;
}

int blockdev_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size);
	*size = (uint64_t)st.st_size;
	return 0;
}
