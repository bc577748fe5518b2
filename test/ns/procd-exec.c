/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * procd-exec PREFIX PATH [COMMAND]: what procd's sysupgrade_exec_upgraded()
 * (procd's sysupgrade.c) does to start its upgraded, for ns.stage2-procd:
 * chroot(PREFIX) without a chdir, then execvp("/sbin/upgraded") with
 * argv { "/sbin/upgraded", PATH, COMMAND }. Run by the rig's PID 1 with
 * exec, so that upgraded is PID 1 as under procd.
 */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *args[] = { "/sbin/upgraded", NULL, NULL, NULL };

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: procd-exec PREFIX PATH [COMMAND]\n");
		return 2;
	}
	if (chroot(argv[1]) < 0) {
		perror("procd-exec: chroot");
		return 1;
	}
	args[1] = argv[2];
	args[2] = argc > 3 ? argv[3] : NULL;
	execvp(args[0], args);
	perror("procd-exec: exec /sbin/upgraded");
	return 1;
}
