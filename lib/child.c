/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes start clean: default signal actions and an empty mask,
 * whatever the daemon set for itself.
 */
#include <signal.h>
#include <stddef.h>

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
