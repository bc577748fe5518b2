/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stage 1: from the running daemon to PID 1 exec'ing stage 2. Until the
 * trigger has worked, every step can be undone, and a failure undoes
 * them all: the bundle goes back to staging, ROOT goes away, and the
 * services that were stopped are started again. Never a device with its
 * services stopped and no install under way.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "closure.h"
#include "decoder_mem.h"
#include "events.h"
#include "stage1.h"
#include "keep.h"
#include "log.h"
#include "staging.h"
#include "state.h"

#define S6_FINISH_SAVED "finish.sysupgraded-saved"

/* Who passed first: the main thread's stop signal (CANCELLED: the
 * trigger never runs, all is undone) or the worker about to tell PID 1
 * (TRIGGERED: a stop signal now is PID 1's, and the daemon leaves at
 * once, undoing nothing). One compare-and-swap decides. */
enum { RUNNING, CANCELLED, TRIGGERED };
static atomic_int phase = RUNNING;

struct handover {
	struct daemon *d;
	const struct config *cfg;
	struct install_options opts;
	char *version;
	struct closure *closure;
	char root[PATH_MAX];
	char bundle_in[PATH_MAX];	/* the bundle's path inside ROOT */
	bool keep;			/* ROOT/keep.cpio written */
	bool mounted;			/* ROOT bound on itself */
	bool moved;			/* the bundle is in ROOT */
	bool stopped;			/* the stop command ran */
	bool s6_finish;			/* finish replaced, old one saved */
	bool initramfs;			/* ROOT bound on /run/initramfs */
};

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT)
		log_warn("remove %s: %m", path);
	return 0;
}

/* Remove @dir and all below it, never crossing into another mount. */
static void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static enum su_err mkdirs(const char *path, struct su_error *err)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return su_error_set(err, SU_ERR_IO, "%s: path too long", path);
	for (char *p = buf + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return su_error_set(err, SU_ERR_IO, "mkdir %s: %m", buf);
		if (!(*p = c))
			return SU_OK;
	}
}

/* ROOT and the directories stage 2 writes to (libubootenv's lock in
 * /var/lock, the mount point of the kept files in /run). */
static enum su_err make_root(struct handover *h, struct su_error *err)
{
	static const char *const dirs[] = { "", "/var/lock", "/run", "/tmp" };
	char path[PATH_MAX + 16];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", h->root, dirs[i]);
		if (mkdirs(path, err))
			return err->code;
	}
	return SU_OK;
}

/* ---- admission ---- */

/* The largest decompressor stage 2 will run: one at a time. */
static uint64_t decoder_bytes(const struct install_plan *plan)
{
	int fd = plan->bundle_fd >= 0 ? plan->bundle_fd :
		 open(plan->bundle_path, O_RDONLY | O_CLOEXEC);
	uint64_t max = 0;

	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct install_step *st = &plan->steps[i];
		uint64_t m = decoder_mem_payload(st->image->compression, fd,
						 st->offset);

		max = m > max ? m : max;
	}
	if (fd >= 0 && fd != plan->bundle_fd)
		close(fd);
	return max;
}

static enum su_err admit(struct handover *h, uint64_t avail, uint64_t keep,
			 uint64_t decoder, struct su_error *err)
{
	uint64_t ramfs = closure_bytes(h->closure);
	uint64_t need = ramfs + keep + h->cfg->stage2_memory + decoder;

	log_info("handover needs %" PRIu64 " bytes (ramfs %" PRIu64
		 ", keep archive %" PRIu64 ", stage 2 %" PRIu64
		 ", decompressor %" PRIu64 "); MemAvailable %" PRIu64, need,
		 ramfs, keep, h->cfg->stage2_memory, decoder, avail);
	if (need <= avail)
		return SU_OK;
	return su_error_set(err, SU_ERR_NO_MEMORY,
			    "the in-place install needs %" PRIu64 " bytes of RAM (ramfs %" PRIu64
			    ", keep archive %" PRIu64 ", stage 2 %" PRIu64
			    ", decompressor %" PRIu64
			    ") beyond the staged bundle, but MemAvailable is %" PRIu64
			    " bytes; nothing was stopped", need, ramfs, keep,
			    h->cfg->stage2_memory, decoder, avail);
}

static enum su_err build_keep(struct handover *h, uint64_t *bytes,
			      struct su_error *err)
{
	char path[PATH_MAX + 16];

	*bytes = 0;
	if (!h->opts.keep_config)
		return SU_OK;
	snprintf(path, sizeof(path), "%s/keep.cpio", h->root);
	if (keep_archive_create(h->cfg, path, bytes, err))
		return err->code;
	h->keep = true;
	return SU_OK;
}

enum su_err handover_prepare(struct daemon *d, const struct install_options *o,
			     const struct install_plan *plan,
			     struct handover **out, struct su_error *err)
{
	struct handover *h = calloc(1, sizeof(*h));
	uint64_t avail, keep;

	if (!h)
		return su_error_set(err, SU_ERR_NOMEM, "handover: %m");
	h->d = d;
	h->cfg = d->cfg;
	h->opts = *o;
	h->version = strdup(plan->manifest->version);
	snprintf(h->root, sizeof(h->root), "%s/" HANDOVER_ROOT_NAME,
		 d->cfg->staging_dir);
	snprintf(h->bundle_in, sizeof(h->bundle_in), "%s%s", h->root,
		 plan->bundle_path);
	*out = h;
	if (!strcmp(h->cfg->handover, "none"))
		return su_error_set(err, SU_ERR_BUSY,
				    "the bundle writes a target in use by the running system, and [install] handover = none");
	remove_tree(h->root);	/* what a failed stage 1 may have left */
	if (!h->version)
		return su_error_set(err, SU_ERR_NOMEM, "handover: %m");
	if (make_root(h, err))
		return err->code;
	if (handover_mem_available(h->cfg, &avail, err) ||
	    closure_plan(h->cfg, &h->closure, err) ||
	    build_keep(h, &keep, err) ||
	    admit(h, avail, keep, decoder_bytes(plan), err))
		return err->code;
	return SU_OK;
}

/* ---- the steps ---- */

/* ROOT on itself: a mount point for pivot_root, without staging's noexec. */
static enum su_err bind_root(struct handover *h, struct su_error *err)
{
	if (mount(h->root, h->root, NULL, MS_BIND, NULL))
		return su_error_set(err, SU_ERR_IO, "bind %s on itself: %m", h->root);
	h->mounted = true;
	if (mount(NULL, h->root, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV,
		  NULL))
		return su_error_set(err, SU_ERR_IO, "remount %s executable: %m",
				    h->root);
	return SU_OK;
}

static enum su_err move_bundle(struct handover *h, struct su_error *err)
{
	char dir[PATH_MAX];
	const char *from = staging_bundle_path();

	snprintf(dir, sizeof(dir), "%s", h->bundle_in);
	*strrchr(dir, '/') = 0;
	if (mkdirs(dir, err))
		return err->code;
	if (rename(from, h->bundle_in))
		return su_error_set(err, SU_ERR_IO, "rename %s to %s: %m", from,
				    h->bundle_in);
	h->moved = true;
	return SU_OK;
}

/* Canonical paths: before the pivot, ROOT + path must resolve to the
 * copy (a symlink like /lib64 -> /usr/lib64 would leave ROOT). */
static char *canonical(const char *path)
{
	char *r = realpath(path, NULL);

	return r ? r : strdup(path);
}

static enum su_err write_state(struct handover *h, struct su_error *err)
{
	const char *loader = closure_loader(h->closure);
	struct handover_state s = {
		.root = h->root,
		.config = h->cfg->path,
		.exe = canonical(closure_exe(h->closure)),
		.loader = loader ? canonical(loader) : strdup(""),
		.library_path = handover_path_list(closure_library_path(h->closure),
						   "", true),
		.keep = h->keep ? "/keep.cpio" : "",
		.version = h->version,
		.method = h->cfg->handover,
		.reboot = h->opts.reboot,
		.keep_config = h->opts.keep_config,
		.force = h->opts.force,
	};
	char path[PATH_MAX + 32];
	enum su_err rc;

	if (!s.exe || !s.loader || !s.library_path) {
		rc = su_error_set(err, SU_ERR_NOMEM, "handover state: %m");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/events", h->root);
	rc = events_save(path, &s.event_id, err);
	snprintf(path, sizeof(path), "%s/" HANDOVER_STATE_NAME, h->root);
	if (!rc)
		rc = handover_state_write(path, &s, err);
out:
	free(s.exe);
	free(s.loader);
	free(s.library_path);
	return rc;
}

/* ROOT/sbin/upgraded, stage 2 by the name procd execs in its prefix
 * (handover = procd). Made for every method: a link costs nothing, and
 * ns.stage2-procd starts stage 2 procd's way after an exec handover. */
static enum su_err link_upgraded(struct handover *h, struct su_error *err)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/sbin", h->root);
	if (mkdirs(path, err))
		return err->code;
	snprintf(path, sizeof(path), "%s/sbin/upgraded", h->root);
	unlink(path);
	if (symlink(closure_exe(h->closure), path))
		return su_error_set(err, SU_ERR_IO, "symlink %s: %m", path);
	return SU_OK;
}

/* ---- triggers: make PID 1 exec stage 2 ---- */

static enum su_err check_inittab(struct su_error *err)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/etc/inittab", "re");

	if (!f)
		return su_error_set(err, SU_ERR_CONFIG,
				    "handover = busybox: open /etc/inittab: %m");
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, ":restart:") && strstr(line, "--stage2");
	fclose(f);
	if (!found)
		return su_error_set(err, SU_ERR_CONFIG,
				    "handover = busybox: /etc/inittab has no ::restart: entry running sysupgraded --stage2 (see contrib/init/busybox)");
	return SU_OK;
}

/* PID 1 must be the init the config names: a signal meant for busybox
 * init does something else to another init. */
static enum su_err check_pid1(const char *method, const char *want,
			      struct su_error *err)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/1/exe", exe, sizeof(exe) - 1);
	const char *base;

	if (n < 0)
		return su_error_set(err, SU_ERR_CONFIG,
				    "handover = %s: readlink /proc/1/exe: %m", method);
	exe[n] = 0;
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (strcmp(base, want))
		return su_error_set(err, SU_ERR_CONFIG,
				    "handover = %s: PID 1 is %s, not %s", method,
				    exe, want);
	return SU_OK;
}

static enum su_err trigger_busybox(struct handover *h, struct su_error *err)
{
	(void)h;
	if (check_pid1("busybox", "busybox", err) || check_inittab(err))
		return err->code;
	/* busybox init: ::shutdown: actions, kill all, exec ::restart: */
	if (kill(1, SIGQUIT))
		return su_error_set(err, SU_ERR_INTERNAL, "SIGQUIT to PID 1: %m");
	return SU_OK;
}

/* Replace .s6-svscan/finish atomically with the route to stage 2; the
 * old finish is kept and is the route's fallback. */
static enum su_err s6_write_finish(struct handover *h, struct su_error *err)
{
	char dir[PATH_MAX], fin[PATH_MAX + 16], saved[PATH_MAX + 32],
	     tmp[PATH_MAX + 32];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/.s6-svscan", h->cfg->s6_scandir);
	snprintf(fin, sizeof(fin), "%s/finish", dir);
	snprintf(saved, sizeof(saved), "%s/" S6_FINISH_SAVED, dir);
	snprintf(tmp, sizeof(tmp), "%s/finish.sysupgraded-new", dir);
	if (access(saved, F_OK) && link(fin, saved) && errno != ENOENT)
		return su_error_set(err, SU_ERR_IO, "keep %s as %s: %m", fin, saved);
	f = fopen(tmp, "we");
	if (!f)
		return su_error_set(err, SU_ERR_IO, "create %s: %m", tmp);
	fprintf(f, "#!/bin/sh\n# sysupgraded: in-place upgrade pending\n"
		"test -f %s/" HANDOVER_STATE_NAME " && exec %s --stage2 %s/" HANDOVER_STATE_NAME "\n"
		"test -x %s && exec %s\nexec reboot -f\n",
		h->root, closure_exe(h->closure), h->root, saved, saved);
	if (fchmod(fileno(f), 0755) || fclose(f) || rename(tmp, fin)) {
		su_error_set(err, SU_ERR_IO, "write %s: %m", fin);
		unlink(tmp);
		return err->code;
	}
	h->s6_finish = true;
	return SU_OK;
}

static void s6_restore_finish(struct handover *h)
{
	char fin[PATH_MAX + 16], saved[PATH_MAX + 32];

	snprintf(fin, sizeof(fin), "%s/.s6-svscan/finish", h->cfg->s6_scandir);
	snprintf(saved, sizeof(saved), "%s/.s6-svscan/" S6_FINISH_SAVED,
		 h->cfg->s6_scandir);
	if (rename(saved, fin) && errno == ENOENT)
		unlink(fin);
	h->s6_finish = false;
}

static enum su_err trigger_s6(struct handover *h, struct su_error *err)
{
	char cmd[PATH_MAX + 32];

	if (check_pid1("s6", "s6-svscan", err) || s6_write_finish(h, err))
		return err->code;
	/* -b: finish at once; stage 2 stops what is still running. */
	snprintf(cmd, sizeof(cmd), "s6-svscanctl -b %s", h->cfg->s6_scandir);
	return child_run("s6 handover", cmd, h->cfg->stop_timeout, err);
}

/* systemd-shutdown switches root into /run/initramfs and execs
 * /shutdown there. */
static enum su_err trigger_systemd(struct handover *h, struct su_error *err)
{
	char link_path[PATH_MAX + 16];

	/* sd_booted(3)'s test. /proc/1/exe would need ptrace access to
	 * PID 1: CAP_SYS_PTRACE under the unit's smaller bounding set. */
	if (access("/run/systemd/system", F_OK))
		return su_error_set(err, SU_ERR_CONFIG,
				    "handover = systemd: /run/systemd/system: %m (PID 1 is not systemd)");
	snprintf(link_path, sizeof(link_path), "%s/shutdown", h->root);
	unlink(link_path);
	if (symlink(closure_exe(h->closure), link_path))
		return su_error_set(err, SU_ERR_IO, "symlink %s: %m", link_path);
	if (mkdirs("/run/initramfs", err))
		return err->code;
	if (mount(h->root, "/run/initramfs", NULL, MS_BIND, NULL))
		return su_error_set(err, SU_ERR_IO, "bind %s on /run/initramfs: %m",
				    h->root);
	h->initramfs = true;
	return child_run("systemd handover", "systemctl reboot",
			 h->cfg->stop_timeout, err);
}

/* Is PID 1 now a program in ROOT (stage 2, exec'd by procd)? */
static bool pid1_in_root(const struct handover *h)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/1/exe", exe, sizeof(exe) - 1);
	size_t len = strlen(h->root);

	if (n < 0)
		return false;
	exe[n] = 0;
	return !strncmp(exe, h->root, len) && exe[len] == '/';
}

/* procd's `system sysupgrade`: it stops its services, chroots into the
 * prefix (ROOT) and execs /sbin/upgraded there as PID 1 (link_upgraded:
 * stage 2), with
 * the state file as its argv[1]. procd answers only a refusal; once it
 * has exec'd, ubus may end any way it likes (the socket closed, its
 * timeout), so its status counts only while PID 1 is still procd. */
static enum su_err trigger_procd(struct handover *h, struct su_error *err)
{
	char path[PATH_MAX + 32], *msg, *argv[HANDOVER_PROCD_ARGC + 1];
	enum su_err rc;

	if (check_pid1("procd", "procd", err))
		return err->code;
	snprintf(path, sizeof(path), "%s/" HANDOVER_STATE_NAME, h->root);
	msg = handover_procd_argv(h->root, path, argv);
	if (!msg)
		return su_error_set(err, SU_ERR_NOMEM, "procd handover: %m");
	rc = child_run_argv("procd handover (ubus call system sysupgrade)", argv,
			    h->cfg->stop_timeout, err);
	free(msg);
	if (rc && pid1_in_root(h)) {
		log_notice("procd exec'd stage 2; ubus ended: %s", err->message);
		return SU_OK;
	}
	return rc;
}

static enum su_err trigger(struct handover *h, struct su_error *err)
{
	const char *m = h->cfg->handover;
	struct timespec up;

	clock_gettime(CLOCK_BOOTTIME, &up);	/* /proc/uptime's clock */
	log_notice("handover (%s): PID 1 takes over from here, at uptime %.2f s",
		   m, (double)up.tv_sec + (double)up.tv_nsec / 1e9);
	if (!strcmp(m, "busybox"))
		return trigger_busybox(h, err);
	if (!strcmp(m, "s6"))
		return trigger_s6(h, err);
	if (!strcmp(m, "systemd"))
		return trigger_systemd(h, err);
	if (!strcmp(m, "procd"))
		return trigger_procd(h, err);
	return child_run("handover_command", h->cfg->handover_command,
			 h->cfg->stop_timeout, err);
}

/* ---- run and undo ---- */

/* Undo in reverse; @err keeps the first failure. */
static void undo(struct handover *h)
{
	struct su_error err;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/" HANDOVER_STATE_NAME, h->root);
	unlink(path);		/* a late PID 1 must find no state: init */
	if (h->s6_finish)
		s6_restore_finish(h);
	if (h->initramfs && umount2("/run/initramfs", MNT_DETACH))
		log_warn("umount /run/initramfs: %m");
	h->initramfs = false;
	if (h->mounted && umount2(h->root, MNT_DETACH))
		log_warn("umount %s: %m", h->root);
	h->mounted = false;
	if (h->moved && rename(h->bundle_in, staging_bundle_path()))
		log_err("move the bundle back from %s: %m", h->bundle_in);
	h->moved = false;
	remove_tree(h->root);
	if (h->stopped && h->cfg->start_command) {
		log_notice("starting services again: %s", h->cfg->start_command);
		if (child_run("start_command", h->cfg->start_command,
			      h->cfg->stop_timeout, &err))
			log_err("%s", err.message);
	}
	h->stopped = false;
}

static enum su_err stop_services(struct handover *h, struct su_error *err)
{
	if (!h->cfg->stop_command)
		return SU_OK;
	struct timespec t0, t1;
	enum su_err rc;

	log_notice("stopping services: %s", h->cfg->stop_command);
	h->stopped = true;	/* even a failed stop may have stopped some */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = child_run("stop_command", h->cfg->stop_command,
		       h->cfg->stop_timeout, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* part of the downtime (test/bench/handover.sh) */
	log_info("stop_command took %.3f s", (double)(t1.tv_sec - t0.tv_sec) +
		 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return rc;
}

enum su_err handover_run(struct handover *h, struct su_error *err)
{
	enum su_err rc;

	/* the bundle moves in before ROOT is its own mount: rename() does
	 * not cross mounts, even of one filesystem */
	rc = closure_copy(h->closure, h->root, err);
	rc = rc ? rc : move_bundle(h, err);
	rc = rc ? rc : link_upgraded(h, err);
	rc = rc ? rc : bind_root(h, err);
	rc = rc ? rc : stop_services(h, err);
	if (!rc)
		state_set(ST_HANDOVER);
	rc = rc ? rc : write_state(h, err);
	if (!rc) {
		int running = RUNNING;

		/* before the trigger: PID 1 may TERM us at once */
		if (!atomic_compare_exchange_strong(&phase, &running, TRIGGERED))
			rc = su_error_set(err, SU_ERR_INTERNAL,
					  "the daemon is stopping; the handover was not triggered");
	}
	rc = rc ? rc : trigger(h, err);
	if (!rc) {
		/* PID 1 ends us; if it does not, nothing took over. */
		for (unsigned i = 0; i < HANDOVER_WAIT_S * 10; i++)
			usleep(100000);
		rc = su_error_set(err, SU_ERR_INTERNAL,
				  "PID 1 did not take over within %u s of the %s handover",
				  HANDOVER_WAIT_S, h->cfg->handover);
	}
	atomic_store(&phase, RUNNING);	/* nothing took over: ours again */
	log_err("handover failed: %s; putting everything back", err->message);
	undo(h);
	return rc;
}

bool stage1_cancel(void)
{
	int running = RUNNING;

	return !atomic_compare_exchange_strong(&phase, &running, CANCELLED) &&
	       running == TRIGGERED;
}

void handover_free(struct handover *h)
{
	if (!h)
		return;
	if (!h->moved)		/* never remove a root stage 2 uses */
		undo(h);
	closure_free(h->closure);
	free(h->version);
	free(h);
}
