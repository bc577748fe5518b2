/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_BENEATH_H
#define SU_BENEATH_H

/*
 * Open @path below the directory @dfd and never outside it:
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV). Where the kernel has no openat2 (before Linux 5.6,
 * and under valgrind 3.19, which does not know it), beneath_walk().
 * @flags are open(2)'s, without O_CREAT; O_CLOEXEC is added. Returns the
 * descriptor, or -1 with errno: EXDEV for an absolute path, a ".." that
 * leaves @dfd, or another filesystem; ELOOP for a symlink anywhere on
 * the way.
 */
int beneath_open(int dfd, const char *path, int flags);

/*
 * The same guarantees without openat2: @path walked one component at a
 * time from @dfd, each directory opened O_PATH | O_NOFOLLOW and checked
 * (a symlink: ELOOP; not a directory: ENOTDIR; another filesystem than
 * @dfd's: EXDEV), the last component opened with @flags | O_NOFOLLOW.
 * Stricter than openat2 in one way: every ".." is refused (EXDEV), even
 * one that would stay below @dfd. Public so that the tests drive it on
 * kernels that have openat2.
 */
int beneath_walk(int dfd, const char *path, int flags);

#endif
