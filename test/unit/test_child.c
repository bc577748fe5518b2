/* SPDX-License-Identifier: GPL-2.0-or-later */
/* child_run(): the configured stop, start, reboot and handover commands. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "child.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_ok(void **state)
{
	struct su_error err;

	(void)state;
	assert_int_equal(child_run("stop_command", "true", 5, &err), SU_OK);
	/* words, not a shell: the ';' reaches test(1) as an argument */
	assert_int_equal(child_run("stop_command", "test a = a", 5, &err), SU_OK);
	assert_int_not_equal(child_run("stop_command", "test a = a ; true", 5, &err),
			     SU_OK);
}

static void test_status(void **state)
{
	struct su_error err;

	(void)state;
	assert_int_equal(child_run("stop_command", "false", 5, &err),
			 SU_ERR_INTERNAL);
	assert_non_null(strstr(err.message, "stop_command 'false' exited with status 1"));
	assert_int_equal(child_run("start_command", "/nonexistent/cmd a", 5, &err),
			 SU_ERR_INTERNAL);
	assert_non_null(strstr(err.message, "start_command '/nonexistent/cmd a' could not be run"));
	assert_int_equal(child_run("stop_command", " \t ", 5, &err), SU_ERR_CONFIG);
	assert_non_null(strstr(err.message, "is empty"));
}

/* A stop command that hangs is stopped at its timeout, also one that
 * ignores SIGTERM (KILL a second later). */
static void test_timeout(void **state)
{
	struct su_error err;
	double t = now();

	(void)state;
	assert_int_equal(child_run("stop_command", "sleep 30", 1, &err),
			 SU_ERR_INTERNAL);
	assert_non_null(strstr(err.message, "did not finish within 1 s"));
	assert_true(now() - t < 3);
	t = now();
	assert_int_equal(child_run("stop_command",
				   "perl -e $SIG{TERM}='IGNORE';sleep(30)", 1, &err),
			 SU_ERR_INTERNAL);
	assert_non_null(strstr(err.message, "did not finish within 1 s"));
	assert_true(now() - t < 4);
}

/* The daemon blocks signals for its signalfd; the child must not. */
static void test_clean_signals(void **state)
{
	struct su_error err;
	sigset_t set;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(child_run("stop_command",
				   "grep -q ^SigBlk:.0000000000000000$ /proc/self/status",
				   5, &err), SU_OK);
	assert_int_equal(child_run("stop_command",
				   "grep -q ^SigIgn:.0000000000000000$ /proc/self/status",
				   5, &err), SU_OK);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_clean_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
