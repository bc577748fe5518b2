/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DAEMON_STAGE1_H
#define SU_DAEMON_STAGE1_H

#include <stdbool.h>

#include "error.h"
#include "handover.h"
#include "install.h"
#include "install_worker.h"
#include "shared.h"

/*
 * Stage 1 of an in-place install (docs/DESIGN.md §7), in the daemon under
 * the normal init. handover_prepare() runs on the request's thread, so
 * that POST /install can answer 507 no_memory with every service still
 * running; handover_run() does the rest on the install worker.
 *
 * The ramfs root is ROOT = <[staging] dir>/root, in the staging tmpfs,
 * bind-mounted on itself (a mount point for pivot_root, and executable:
 * the staging mount is noexec). It mirrors the old root's paths, and the
 * staged bundle moves in by rename to ROOT/<[staging] dir>/bundle.tar,
 * so stage 2 finds it where the config says.
 */
#define HANDOVER_ROOT_NAME "root"
/* How long PID 1 may take to end stage 1 after the trigger. */
#define HANDOVER_WAIT_S 30

struct handover;

/* Admission: the closure, the keep archive (built now, in ROOT) and
 * stage 2's memory against MemAvailable. SU_ERR_NO_MEMORY names both
 * numbers. Nothing has stopped when this fails. */
enum su_err handover_prepare(struct daemon *d, const struct install_options *o,
			     const struct install_plan *plan,
			     struct handover **out, struct su_error *err);
/*
 * Copy the closure, move the bundle in, stop services, write the state
 * file and trigger PID 1. Returns only when the handover did not happen:
 * everything is put back (bundle, services started again) and @err says
 * why. On success PID 1 ends this process.
 */
enum su_err handover_run(struct handover *h, struct su_error *err);
/*
 * The daemon got SIGTERM: a handover not yet triggered is not triggered
 * any more (undone instead). True when PID 1 was already told: then the
 * ramfs, the bundle and the stopped services belong to stage 2, and the
 * daemon must exit at once without any cleanup or waiting for the worker
 * (busybox, systemd and s6 TERM stage 1; s6's supervisor would hold
 * stage 2 for its KILL grace).
 */
bool stage1_cancel(void);
/* Free @h; an unrun or failed handover's ROOT is removed. */
void handover_free(struct handover *h);

#endif
