/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tar backend's refusals that need no block device: options, a
 * missing device, something that is not a block device. Extraction
 * itself, on a loop device: test/integration/backend-tar.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_fixture.h"

static int setup(void **state)
{
	struct backend_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	backend_fixture_init(f, "tar", "data", "/dev/null");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* open() fails with @code and a message containing @text. */
static void assert_refused(struct backend_fixture *f, enum su_err code,
			   const char *text)
{
	void *h = NULL;

	assert_int_equal(f->ops->open(&f->target, 10240, &h, &f->err), code);
	assert_null(h);
	if (!strstr(f->err.message, text))
		fail_msg("expected '%s' in '%s'", text, f->err.message);
}

static void test_registered(void **state)
{
	(void)state;
	/* A tree has no byte stream to read back. */
	assert_backend_registered("tar", false);
}

static void test_unknown_option(void **state)
{
	struct backend_fixture *f = *state;

	backend_fixture_option(f, "mkfs", "yes");
	/* ext4's option, not tar's */
	backend_fixture_option(f, "allow_file", "yes");
	assert_refused(f, SU_ERR_CONFIG,
		       "target data: unknown option 'allow_file' for type tar");
}

static void test_flag_not_boolean(void **state)
{
	static const char *const flags[] = { "mkfs", "clear", "allow_devices" };
	struct backend_fixture *f = *state;
	char want[64];

	for (size_t i = 0; i < 3; i++) {
		f->cfg.n_options = 0;
		backend_fixture_option(f, flags[i], "sometimes");
		snprintf(want, sizeof(want),
			 "option %s = 'sometimes' is not yes or no", flags[i]);
		assert_refused(f, SU_ERR_CONFIG, want);
	}
}

static void test_bad_fstype(void **state)
{
	static const char *const bad[] = {
		"", "../../bin/sh", "ext4 -O x", "EXT4",
		"averyveryverylongfstype",
	};
	struct backend_fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->cfg.n_options = 0;
		backend_fixture_option(f, "fstype", bad[i]);
		assert_refused(f, SU_ERR_CONFIG, "is not a filesystem type");
	}
}

static void test_missing_device(void **state)
{
	struct backend_fixture *f = *state;

	f->target.device = "/nonexistent/sysupgraded-test";
	assert_refused(f, SU_ERR_WRITE_FAILED,
		       "open /nonexistent/sysupgraded-test: No such file or directory");
}

/* Nothing is mounted or made on what is not a block device, even with
 * mkfs = yes: the device check comes first. */
static void test_not_a_block_device(void **state)
{
	struct backend_fixture *f = *state;

	backend_fixture_option(f, "mkfs", "yes");
	backend_fixture_option(f, "fstype", "ext2");
	assert_refused(f, SU_ERR_WRITE_FAILED,
		       "open /dev/null: not a block device");
	f->target.device = "/";
	assert_refused(f, SU_ERR_WRITE_FAILED, "open /: not a block device");
}

#define T(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_registered),
		T(test_unknown_option),
		T(test_flag_not_boolean),
		T(test_bad_fstype),
		T(test_missing_device),
		T(test_not_a_block_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
