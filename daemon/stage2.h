/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_STAGE2_H
#define SU_DAEMON_STAGE2_H

#include <stdbool.h>

#include "error.h"
#include "install.h"
#include "install_worker.h"
#include "shared.h"

/*
 * Stage 2 (docs/DESIGN.md §7): `sysupgraded --stage2 STATE`, exec'd by
 * PID 1. Without a valid state file it execs /sbin/init. Otherwise it
 * re-execs itself through the ramfs's own loader (so no file of the old
 * root stays mapped), moves /proc, /sys and /dev into the ramfs,
 * pivot_root()s, kills every other process, unmounts the old root, and
 * serves the API again on the same addresses while it installs the
 * bundle stage 1 moved in. After a good write: kept files restored,
 * last_install recorded, sync, a short linger, reboot(RB_AUTOBOOT).
 * After a failed one it stays up, reports failed and takes a retry.
 *
 * @how it was started:
 * STAGE2_EXEC   exec'd by PID 1 from the old root (busybox, s6, exec);
 * STAGE2_SYSTEMD exec'd as /shutdown VERB by systemd-shutdown after it
 *               switched root into /run/initramfs (the ramfs is already
 *               /, the old root is /oldroot);
 * STAGE2_PROCD  exec'd by procd as ROOT/sbin/upgraded STATE, chroot'd
 *               into ROOT with its working directory still the old
 *               root's / (procd's sysupgrade_exec_upgraded()): it
 *               leaves the chroot as procd's own upgraded does, then
 *               goes on as STAGE2_EXEC; WDTFD is procd's open watchdog.
 */
enum stage2_start { STAGE2_EXEC, STAGE2_SYSTEMD, STAGE2_PROCD };
int stage2_main(const char *state_path, enum stage2_start how, int verbose);

/*
 * The install worker's end of an install in stage 2, with install_run()'s
 * result @rc and its still open @env: on success restore the kept files
 * (when @o asks for them: the first install takes stage 1's options, a
 * retry its own POST /install body's),
 * record last_install, sync and reboot (does not return); on failure
 * record it (bootenv only) and return @rc, so the daemon reports failed
 * and serves on. A failed restore of the kept files is a failure too.
 */
enum su_err stage2_installed(struct daemon *d, const struct install_plan *plan,
			     struct bootenv *env, const struct install_options *o,
			     enum su_err rc, struct su_error *err);

/* Log the uptime of the first bytes the install hands its backend:
 * the end of the downtime, as test/bench/handover.sh counts it. */
void stage2_first_write(void);

/* Before each install in stage 2: what of the old root stayed busy at
 * the handover may have come free since; try it again (nothing to do
 * once it is all unmounted). Not only on a retry: the handover's own
 * install may never have reached its worker. */
void stage2_unmount_again(void);

/* POST /reboot in stage 2: sync, linger, reboot(RB_AUTOBOOT). */
void stage2_reboot(struct daemon *d);

#endif
