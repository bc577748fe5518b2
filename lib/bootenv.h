/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_BOOTENV_H
#define SU_BOOTENV_H

#include <stddef.h>

#include "error.h"

/*
 * The U-Boot environment through libubootenv, described by an
 * fw_env.config file. Changes are collected with bootenv_set() and
 * written together by bootenv_commit(): one libuboot_env_store(), so a
 * group of variables changes atomically (libubootenv writes the
 * redundant copy and flips the flag, or rewrites the single copy).
 */
struct bootenv;

/* Open and read the environment. SU_ERR_CONFIG when @fw_env_config or
 * the environment cannot be read. Caller frees with bootenv_close(). */
enum su_err bootenv_open(const char *fw_env_config, struct bootenv **out,
			 struct su_error *err);
void bootenv_close(struct bootenv *env);

/* The current value of @name (owned by @env, valid until the next
 * bootenv_set/commit/close), or NULL when unset. Pending changes are
 * visible. */
const char *bootenv_get(struct bootenv *env, const char *name);

/* Stage @name = @value; @value NULL deletes the variable. */
enum su_err bootenv_set(struct bootenv *env, const char *name,
			const char *value, struct su_error *err);

/* Write every staged change at once. SU_ERR_WRITE_FAILED on error. */
/*
 * Forget every change not committed and read the environment again from
 * its storage. Errors: SU_ERR_CONFIG as bootenv_open().
 */
enum su_err bootenv_reload(struct bootenv *env, struct su_error *err);

enum su_err bootenv_commit(struct bootenv *env, struct su_error *err);

#endif
