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
 *     the www directory (recursively), fw_env_config and the files it
 *     names when they are regular files;
 *   - cfg->extra_files; an ELF file among them brings its libraries
 *     (found by running the loader with --list: a fixed argv, no shell).
 * Symlinks on the way are kept as symlinks (/lib64 -> usr/lib64 stays a
 * link inside ROOT, and its target is copied), so every path the daemon
 * used resolves inside ROOT too. Modes and owners are kept.
 */
struct closure;

/* List the files and add up their sizes; nothing is copied yet. */
enum su_err closure_plan(const struct config *cfg, struct closure **out,
			 struct su_error *err);
/* Bytes the copy will take (file sizes rounded up to 4 KiB pages). */
uint64_t closure_bytes(const struct closure *c);
/* The dynamic loader's absolute path (the exe's PT_INTERP), or NULL
 * for a static executable; the same path inside ROOT. */
const char *closure_loader(const struct closure *c);
/* Colon-separated directories of every copied library, for the
 * loader's --library-path; "" when there is none. */
const char *closure_library_path(const struct closure *c);
/* The executable's absolute path (inside ROOT too). */
const char *closure_exe(const struct closure *c);
/* Copy every file into @root (created 0755 when missing). */
enum su_err closure_copy(const struct closure *c, const char *root,
			 struct su_error *err);
void closure_free(struct closure *c);

#endif
