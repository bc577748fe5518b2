/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_CLOSURE_H
#define SU_CLOSURE_H

#include <stdint.h>

#include "config.h"
#include "error.h"

/*
 * The stage-2 ramfs (docs/DESIGN.md §7): the files the daemon needs to
 * run again after the old root is gone, copied into a directory ROOT at
 * their absolute paths (ROOT/usr/lib/x86_64-linux-gnu/libc.so.6 ...):
 *   - /proc/self/exe, at its own path;
 *   - every regular file mapped in /proc/self/maps (libraries, the
 *     dynamic loader);
 *   - the config file, every file in keys_dir, cert, key, client_ca,
 *     version_file, a cmdline file outside /proc,
 *     the www directory (recursively), fw_env_config and the files it
 *     names when they are regular files;
 *   - cfg->extra_files (a directory is taken whole); an ELF file among
 *     them brings its loader and libraries (found by running its
 *     PT_INTERP, or our loader for a shared object, with --list: a fixed
 *     argv, an empty environment, no shell).
 * Symlinks on the way are kept as symlinks (/lib64 -> usr/lib64 stays a
 * link inside ROOT, and its target is copied), so every path the daemon
 * used resolves inside ROOT too; a mapped library also brings the link
 * its DT_SONAME names (libinih.so.1 -> libinih.so.55), which is what the
 * loader opens. The executable, the loader and every library are
 * copied sparsely: only what the loader reads or maps (elf_file_ranges():
 * the headers and each segment's pages), the rest left a hole of the
 * same length, which takes no RAM on a tmpfs; so debug info and symbol
 * tables stay behind. Other files (extra files too) are copied whole.
 * Links inside www are copied as links, not followed.
 * Modes, owners and times are kept. Nothing under cfg->staging_dir is
 * taken (the ramfs root lives there). Relative paths in @cfg are taken
 * against the working directory.
 */
struct closure;

/*
 * List the files and add up their sizes; nothing is copied yet.
 * Errors: SU_ERR_IO (a file that must be there is not, or is not a
 * regular file), SU_ERR_CONFIG (an extra file is missing, or a library
 * of one is not found), SU_ERR_NOMEM. On success the caller frees *@out
 * with closure_free().
 */
enum su_err closure_plan(const struct config *cfg, struct closure **out,
			 struct su_error *err);
/* Bytes the copy will take: file sizes (of a sparse copy, the bytes
 * it copies) rounded up to 4 KiB pages, and one page for each
 * directory, symlink and empty file. */
uint64_t closure_bytes(const struct closure *c);
/* The dynamic loader's absolute path, or NULL for a static executable;
 * the same path inside ROOT. This is the exe's PT_INTERP with its
 * symlinks resolved (the file /proc/self/maps names): ROOT/<loader>
 * reaches the copy without following a link, where PT_INTERP itself may
 * go through an absolute one (Debian: /usr/lib64/ld-linux-x86-64.so.2
 * -> /lib/x86_64-linux-gnu/...) that, before the pivot, leads to the
 * old root's loader. */
const char *closure_loader(const struct closure *c);
/* Colon-separated directories of every copied library (real paths, no
 * links), for the loader's --library-path; "" when there is none. */
const char *closure_library_path(const struct closure *c);
/* The executable's absolute path (inside ROOT too): the real path of
 * /proc/self/exe, whose bytes are the ones copied. */
const char *closure_exe(const struct closure *c);
/*
 * Copy every file into @root (created 0755 when missing); an earlier
 * copy there is overwritten. Every path is opened beneath @root with
 * O_NOFOLLOW, so nothing is written outside it. Errors: SU_ERR_NO_SPACE
 * (ENOSPC, EDQUOT: the staging tmpfs is full), SU_ERR_IO.
 */
enum su_err closure_copy(const struct closure *c, const char *root,
			 struct su_error *err);
void closure_free(struct closure *c);

#endif
