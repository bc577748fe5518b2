/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_NOTIFY_H
#define SU_DAEMON_NOTIFY_H

/*
 * The service manager's readiness protocol, sd_notify(3): newline-
 * separated KEY=value lines ("READY=1", "STATUS=idle", "STOPPING=1")
 * in one datagram to the AF_UNIX socket that $NOTIFY_SOCKET names (a
 * path, or an abstract name written with a leading '@'). Through
 * libsystemd's sd_notify() when the build found it, else a sendto()
 * of our own.
 *
 * notify_send(): 1 when sent, 0 when NOTIFY_SOCKET is unset (nothing
 * done: not under systemd), -1 with errno on failure. Never blocks.
 */
int notify_send(const char *msg);

#endif
