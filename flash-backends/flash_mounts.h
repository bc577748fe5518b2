/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_FLASH_MOUNTS_H
#define SU_FLASH_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Finding the mounts of a flash device (mtd.c, ubi.c). UBIFS and JFFS2
 * sit on anonymous device numbers, so unlike a block device a flash
 * device is known in mountinfo only by its source string ("ubi0:rootfs",
 * "mtd:data", "/dev/mtdblock3"): the caller's @match decides.
 */

typedef bool (*flash_mount_match_fn)(const char *source, const char *fstype,
				     void *ctx);

/*
 * Scan @mountinfo (a /proc/PID/mountinfo file; octal escapes such as
 * \040 undone) for the first mount whose source and type @match accepts.
 * Returns 1 with its mount point and type in @where and @fstype (either
 * may be NULL), 0 when none matches, -1 when the file cannot be read
 * (errno set).
 */
int flash_mount_find(const char *mountinfo, flash_mount_match_fn match,
		     void *ctx, char *where, size_t where_len,
		     char *fstype, size_t fstype_len);

#endif
