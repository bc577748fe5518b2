/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "manifest.h"
#include "version.h"

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void test_compare(void **state)
{
	static const struct { const char *a, *b; int want; } cases[] = {
		{ "1.0", "1.0", 0 },
		{ "2.1.0", "2.0.9", 1 },
		{ "2.9.1", "2.10.0", -1 },	/* numeric, not lexical */
		{ "1.0.10", "1.0.9", 1 },
		{ "1.0", "1.0.1", -1 },
		{ "10", "9", 1 },
		{ "1.2a", "1.2b", -1 },
		{ "v3", "v12", -1 },
		{ "2024.01", "2023.12", 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sign(version_compare(cases[i].a, cases[i].b)),
				 cases[i].want);
		assert_int_equal(sign(version_compare(cases[i].b, cases[i].a)),
				 -cases[i].want);
	}
}

static void test_policy(void **state)
{
	char *compat[] = { "acme,router-x1", "acme,router-x2" };
	struct manifest m = {
		.format = 1, .version = "2.1.0",
		.compatible = compat, .n_compatible = 2,
	};
	struct su_error err;

	(void)state;
	assert_true(manifest_is_compatible(&m, "acme,router-x2"));
	assert_false(manifest_is_compatible(&m, "acme,router"));

	assert_int_equal(manifest_check_policy(&m, "acme,router-x1", "2.0.0",
					       false, &err), SU_OK);
	assert_int_equal(manifest_check_policy(&m, "acme,router-x1", "2.1.0",
					       false, &err), SU_OK);
	assert_int_equal(manifest_check_policy(&m, "other,box", NULL,
					       false, &err), SU_ERR_INCOMPATIBLE);
	assert_non_null(strstr(err.message, "other,box"));
	assert_int_equal(manifest_check_policy(&m, NULL, "2.10.0",
					       false, &err), SU_ERR_DOWNGRADE);
	assert_string_equal(su_err_name(err.code), "downgrade");
	/* force accepts exactly these two refusals */
	assert_int_equal(manifest_check_policy(&m, "other,box", "3.0",
					       true, &err), SU_OK);
	/* no device policy: anything goes */
	assert_int_equal(manifest_check_policy(&m, NULL, NULL, false, &err),
			 SU_OK);
}

static void test_error_names(void **state)
{
	(void)state;
	for (int i = 0; i < SU_ERR_COUNT; i++)
		assert_int_equal(su_err_from_name(su_err_name(i)), i);
	assert_string_equal(su_err_name(SU_ERR_BAD_SIGNATURE), "bad_signature");
	assert_string_equal(su_err_name(SU_ERR_UNEXPECTED_MEMBER),
			    "unexpected_member");
	assert_int_equal(su_err_from_name("nonsense"), SU_ERR_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_error_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
