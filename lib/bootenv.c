/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The U-Boot environment through libubootenv. The library keeps the
 * variables in memory between libuboot_open() and libuboot_env_store(),
 * so bootenv_set() only edits that copy and bootenv_commit() is the one
 * write: a group of changes lands together or not at all.
 */
#include <errno.h>
#include <stddef.h>		/* before libuboot.h, which uses size_t */
#include <libuboot.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootenv.h"

struct bootenv {
	struct uboot_ctx *ctx;
	char *config;		/* the fw_env.config path, for messages */
	/* Strings handed out by bootenv_get(), freed on the next change. */
	char **got;
	size_t n_got;
};

static void forget_values(struct bootenv *env)
{
	for (size_t i = 0; i < env->n_got; i++)
		free(env->got[i]);
	free(env->got);
	env->got = NULL;
	env->n_got = 0;
}

void bootenv_close(struct bootenv *env)
{
	if (!env)
		return;
	forget_values(env);
	if (env->ctx) {
		libuboot_close(env->ctx);	/* also drops the lock */
		libuboot_exit(env->ctx);
	}
	free(env->config);
	free(env);
}

enum su_err bootenv_open(const char *fw_env_config, struct bootenv **out,
			 struct su_error *err)
{
	struct bootenv *env;
	int ret;

	/* libubootenv says only "-EBADF" for a missing file. */
	if (access(fw_env_config, R_OK))
		return su_error_set(err, SU_ERR_CONFIG, "open %s: %m",
				    fw_env_config);
	env = calloc(1, sizeof(*env));
	if (!env || !(env->config = strdup(fw_env_config))) {
		free(env);
		return su_error_set(err, SU_ERR_NOMEM, "open %s: %m",
				    fw_env_config);
	}
	ret = libuboot_initialize(&env->ctx, NULL);
	if (ret < 0) {
		bootenv_close(env);
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: cannot initialise libubootenv: %s",
				    fw_env_config, strerror(-ret));
	}
	ret = libuboot_read_config(env->ctx, fw_env_config);
	if (ret < 0) {
		bootenv_close(env);
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: not a usable fw_env.config (\"device offset envsize [sectorsize [sectors]]\" per line): %s",
				    fw_env_config, strerror(-ret));
	}
	ret = libuboot_open(env->ctx);
	if (ret < 0) {
		bootenv_close(env);
		return su_error_set(err, SU_ERR_CONFIG,
				    "read the environment described by %s: %s (no copy with a valid CRC, or the device cannot be read)",
				    fw_env_config, strerror(-ret));
	}
	*out = env;
	return SU_OK;
}

const char *bootenv_get(struct bootenv *env, const char *name)
{
	char **grown;
	char *v = libuboot_get_env(env->ctx, name);

	if (!v)
		return NULL;
	grown = realloc(env->got, (env->n_got + 1) * sizeof(*grown));
	if (!grown) {
		free(v);
		return NULL;
	}
	env->got = grown;
	grown[env->n_got++] = v;
	return v;
}

enum su_err bootenv_set(struct bootenv *env, const char *name,
			const char *value, struct su_error *err)
{
	int ret;

	forget_values(env);
	ret = libuboot_set_env(env->ctx, name, value);
	if (ret < 0 && value)
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s: set %s=%s: %s", env->config, name,
				    value, strerror(-ret));
	if (ret < 0)
		return su_error_set(err, SU_ERR_CONFIG, "%s: delete %s: %s",
				    env->config, name, strerror(-ret));
	return SU_OK;
}

enum su_err bootenv_reload(struct bootenv *env, struct su_error *err)
{
	int ret;

	forget_values(env);
	libuboot_close(env->ctx);
	ret = libuboot_open(env->ctx);
	if (ret < 0)
		return su_error_set(err, SU_ERR_CONFIG,
				    "read the environment described by %s again: %s",
				    env->config, strerror(-ret));
	return SU_OK;
}

enum su_err bootenv_commit(struct bootenv *env, struct su_error *err)
{
	int ret;

	forget_values(env);
	ret = libuboot_env_store(env->ctx);
	if (ret < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "write the environment described by %s: %s",
				    env->config, strerror(-ret));
	/*
	 * libubootenv 0.3.2 does not note the flag it just wrote: a second
	 * store from the same open context writes the other copy of a
	 * redundant pair with a flag no higher than the first store's, so
	 * the bootloader reads the first (an install's transaction marker
	 * wins over its final store). Reading the pair again after every
	 * store makes each store the newest copy.
	 */
	libuboot_close(env->ctx);
	ret = libuboot_open(env->ctx);
	if (ret < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "the environment described by %s was written, but reading it back failed: %s",
				    env->config, strerror(-ret));
	return SU_OK;
}
