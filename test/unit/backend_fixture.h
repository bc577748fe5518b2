/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TEST_BACKEND_FIXTURE_H
#define SU_TEST_BACKEND_FIXTURE_H

/*
 * For the backend unit tests: one config target in memory, with up to
 * BACKEND_FIXTURE_OPTIONS options, and its backend. Include after
 * <cmocka.h>.
 */
#include <stdbool.h>

#include "backend.h"

#define BACKEND_FIXTURE_OPTIONS 4

struct backend_fixture {
	struct config_option opts[BACKEND_FIXTURE_OPTIONS];
	struct config_target cfg;
	struct backend_target target;
	const struct backend_ops *ops;
	struct su_error err;
};

/* Target @name of backend @type on @device, no options yet. The strings
 * must outlive @b. */
static inline void backend_fixture_init(struct backend_fixture *b,
					const char *type, const char *name,
					const char *device)
{
	b->cfg = (struct config_target){
		.name = (char *)name, .type = (char *)type,
		.device = (char *)device, .options = b->opts,
	};
	b->target = (struct backend_target){ &b->cfg, device, 0 };
	b->ops = backend_find(type);
	assert_non_null(b->ops);
}

static inline void backend_fixture_option(struct backend_fixture *b,
					  const char *key, const char *value)
{
	assert_true(b->cfg.n_options < BACKEND_FIXTURE_OPTIONS);
	b->opts[b->cfg.n_options++] = (struct config_option){
		(char *)key, (char *)value
	};
}

/* The backend is registered as @name, with every operation, and with
 * a read-back exactly when @verify. */
static inline void assert_backend_registered(const char *name, bool verify)
{
	const struct backend_ops *ops = backend_find(name);

	assert_non_null(ops);
	assert_string_equal(ops->name, name);
	assert_non_null(ops->open);
	assert_non_null(ops->write);
	assert_non_null(ops->finish);
	assert_non_null(ops->abort);
	assert_int_equal(ops->verify != NULL, verify);
}

#endif
