/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes start clean: default signal actions and an empty mask,
 * whatever the daemon set for itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

void child_reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	sigemptyset(&sa.sa_mask);
	/* Fails harmlessly for SIGKILL, SIGSTOP and the C library's own. */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int child_spawnattr_init(posix_spawnattr_t *attr)
{
	sigset_t all, none;
	int r;

	r = posix_spawnattr_init(attr);
	if (r)
		return r;
	sigfillset(&all);
	sigemptyset(&none);
	r = posix_spawnattr_setsigdefault(attr, &all);
	if (!r)
		r = posix_spawnattr_setsigmask(attr, &none);
	if (!r)
		r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF |
					     POSIX_SPAWN_SETSIGMASK);
	if (r)
		posix_spawnattr_destroy(attr);
	return r;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Split on blanks into a NULL-terminated argv; NULL when empty or out
 * of memory. */
static char **split_argv(const char *cmd)
{
	size_t n = 0, cap = 4;
	char **argv = calloc(cap, sizeof(*argv));
	const char *s = cmd;

	while (argv && *s) {
		size_t len;

		s += strspn(s, " \t");
		len = strcspn(s, " \t");
		if (!len)
			break;
		if (n + 2 > cap) {
			char **grown = realloc(argv, (cap *= 2) * sizeof(*argv));

			if (!grown)
				break;
			argv = grown;
		}
		if (!(argv[n] = strndup(s, len)))
			break;
		argv[++n] = NULL;
		s += len;
	}
	if (argv && (!n || *s)) {	/* empty, or stopped short */
		free_argv(argv);
		return NULL;
	}
	return argv;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait for @pid; past @deadline_ms (0: none) TERM it, a second later
 * KILL it. *@late tells whether it had to be stopped. */
static int wait_child(pid_t pid, long long deadline_ms, int *status, bool *late)
{
	int sig = SIGTERM;

	*late = false;
	for (;;) {
		pid_t r = waitpid(pid, status, deadline_ms ? WNOHANG : 0);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (!deadline_ms || now_ms() < deadline_ms) {
			if (deadline_ms)
				usleep(20000);
			continue;
		}
		*late = true;
		kill(pid, sig);
		sig = SIGKILL;
		deadline_ms = now_ms() + 1000;
	}
}

/* @cmd names the program in messages. */
static enum su_err run_argv(const char *what, const char *cmd,
			    char *const argv[], unsigned timeout,
			    struct su_error *err)
{
	bool late;
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		child_reset_signals();
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return su_error_set(err, SU_ERR_INTERNAL, "%s: fork for '%s': %m",
				    what, cmd);
	if (wait_child(pid, timeout ? now_ms() + timeout * 1000LL : 0,
		       &status, &late))
		return su_error_set(err, SU_ERR_INTERNAL, "%s: waitpid: %m", what);
	if (late)
		return su_error_set(err, SU_ERR_INTERNAL,
				    "%s '%s' did not finish within %u s; stopped it",
				    what, cmd, timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return SU_OK;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return su_error_set(err, SU_ERR_INTERNAL,
				    "%s '%s' could not be run (exit status 127: not found?)",
				    what, cmd);
	if (WIFEXITED(status))
		return su_error_set(err, SU_ERR_INTERNAL,
				    "%s '%s' exited with status %d", what, cmd,
				    WEXITSTATUS(status));
	return su_error_set(err, SU_ERR_INTERNAL,
			    "%s '%s' was killed by signal %d", what, cmd,
			    WTERMSIG(status));
}

enum su_err child_run_argv(const char *what, char *const argv[],
			   unsigned timeout, struct su_error *err)
{
	return run_argv(what, argv[0], argv, timeout, err);
}

enum su_err child_run(const char *what, const char *cmd, unsigned timeout,
		      struct su_error *err)
{
	char **argv = split_argv(cmd);
	enum su_err rc;

	if (!argv)
		return su_error_set(err, SU_ERR_CONFIG,
				    "%s '%s' is empty or out of memory", what, cmd);
	rc = run_argv(what, cmd, argv, timeout, err);
	free_argv(argv);
	return rc;
}
