/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_BLOCKDEV_H
#define SU_BLOCKDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"

/*
 * What the block-device backends (ext4, tar) share: checking a target's
 * options, refusing a device that is in use, and its size.
 */

/*
 * Refuse an option of @t that is not in @known (NULL-terminated), and a
 * flag of @flags (NULL-terminated, a subset of @known) whose value is not
 * a boolean. Errors: SU_ERR_CONFIG naming the target and the key.
 */
enum su_err blockdev_check_options(const struct config_target *t,
				   const char *const *known,
				   const char *const *flags,
				   struct su_error *err);

/*
 * Where the block device @rdev is mounted, from /proc/self/mountinfo:
 * 1 with the first mount point in @where, 0 when it is not mounted,
 * -1 when mountinfo cannot be read (errno set).
 */
int blockdev_mount_point(dev_t rdev, char *where, size_t len);

/*
 * Open the block device @dev with @flags | O_EXCL | O_CLOEXEC, refusing
 * it when it is mounted anywhere ("... (mounted at /mnt/x)") or held by
 * another exclusive opener (EBUSY). With @direct not NULL, as
 * blockdev_open_direct() does.
 * On success *@fd is the open device. Errors: SU_ERR_WRITE_FAILED, with
 * detail "mounted" or "busy" when the device is in use.
 */
enum su_err blockdev_open_excl(const char *dev, int flags, int *fd,
			       bool *direct, struct su_error *err);

/*
 * open(@path, @flags | O_DIRECT | O_CLOEXEC), or without O_DIRECT where
 * the filesystem or device refuses it (EINVAL: tmpfs). *@direct says
 * which. Returns the fd, or -1 with errno set.
 */
int blockdev_open_direct(const char *path, int flags, bool *direct);

/* Size in bytes of the block device or regular file open as @fd. */
int blockdev_size(int fd, uint64_t *size);

#endif
