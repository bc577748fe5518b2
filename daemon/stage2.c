/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stage 2: PID 1 in the ramfs. Its first duty is never to leave the
 * system without init: whatever goes wrong before the old root is given
 * up ends in exec("/sbin/init"). After the pivot there is no way back;
 * it serves until a good write has rebooted the device, or an admin
 * asks for a reboot.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/watchdog.h>

#include "daemon.h"
#include "events.h"
#include "handover.h"
#include "keep.h"
#include "last_install.h"
#include "log.h"
#include "stage2.h"
#include "state.h"

#define OLD_ROOT	"/oldroot"
#define KEEP_MOUNT	"/run/sysupgraded-keep"
#define LINGER_S	2	/* the final status is served this long */
#define STRAGGLER_MS	2000	/* TERM to KILL */
#define UNBUSY_MS	3000	/* a busy old root's last tries */
#define MMAP_THRESHOLD	(128 << 10)	/* glibc's default, kept fixed */

static struct {
	int watchdog;		/* fd, or -1 */
	struct handover_state hs;
} s2 = { .watchdog = -1 };

/* Seconds since boot, for the console log: the downtime is measured
 * from these (test/bench/RESULTS.md). */
static double uptime(void)
{
	double up = -1;
	FILE *f = fopen("/proc/uptime", "re");

	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = -1;
		fclose(f);
	}
	return up;
}

/* ---- never without init ---- */

static void __attribute__((noreturn)) exec_init(const char *why)
{
	static const char *const inits[] = { "/sbin/init", "/etc/init",
					     "/bin/init", "/bin/sh" };

	log_err("stage 2: %s; starting init", why);
	for (size_t i = 0; i < sizeof(inits) / sizeof(inits[0]); i++)
		execl(inits[i], inits[i], (char *)NULL);
	log_err("stage 2: no init could be run: %m; rebooting");
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

/* ---- into the ramfs ---- */

static bool in_ramfs(const char *root)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len = strlen(root);

	if (n < 0)
		return false;
	exe[n] = 0;
	return !strncmp(exe, root, len) && exe[len] == '/';
}

/* Run the ramfs's copy with the ramfs's loader and libraries: a stage 2
 * mapping the old root's libc would keep the old root busy. */
static void reexec(const struct handover_state *s, const char *state_path,
		   int verbose)
{
	char loader[PATH_MAX], exe[PATH_MAX];
	char *libs = handover_path_list(s->library_path, s->root, false);
	const char *argv[10];
	int n = 0;

	snprintf(loader, sizeof(loader), "%s%s", s->root, s->loader);
	snprintf(exe, sizeof(exe), "%s%s", s->root, s->exe);
	if (*s->loader) {
		argv[n++] = loader;
		argv[n++] = "--library-path";
		argv[n++] = libs ? libs : "";
	}
	argv[n++] = exe;
	argv[n++] = "--stage2";
	argv[n++] = state_path;
	if (verbose)
		argv[n++] = "-v";
	argv[n] = NULL;
	log_notice("stage 2: re-exec from the ramfs: %s", argv[0]);
	execv(argv[0], (char *const *)argv);
	log_err("stage 2: exec %s: %m", argv[0]);
	free(libs);
}

/* @what (/dev, /proc, /sys) into ROOT: moved when it is a mount point,
 * else (a static /dev on the old root) a fresh one of @fstype. */
static int move_in(const char *root, const char *what, const char *fstype)
{
	char to[PATH_MAX];
	struct stat st;

	if (stat(what, &st))
		return 0;	/* not there (no /sys in a rig): nothing to move */
	snprintf(to, sizeof(to), "%s%s", root, what);
	if (mkdir(to, 0755) && errno != EEXIST) {
		log_err("stage 2: mkdir %s: %m", to);
		return -1;
	}
	if (!mount(what, to, NULL, MS_MOVE, NULL))
		return 0;
	if (errno == EINVAL && !mount(fstype, to, fstype, MS_NOSUID, NULL)) {
		log_notice("stage 2: %s is no mount point; mounted a new %s", what,
			   fstype);
		return 0;
	}
	log_err("stage 2: move %s to %s: %m", what, to);
	return -1;
}

/* /proc, /sys, /dev into ROOT, then ROOT becomes / and the old root
 * /oldroot. Returns -1 while the old root is still whole. */
static int pivot(const char *root)
{
	char old[PATH_MAX];

	snprintf(old, sizeof(old), "%s" OLD_ROOT, root);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		log_err("stage 2: make / private: %m");
		return -1;
	}
	if (mkdir(old, 0700) && errno != EEXIST) {
		log_err("stage 2: mkdir %s: %m", old);
		return -1;
	}
	if (move_in(root, "/dev", "devtmpfs") || move_in(root, "/proc", "proc") ||
	    move_in(root, "/sys", "sysfs"))
		return -1;
	if (chdir(root) || syscall(SYS_pivot_root, ".", "." OLD_ROOT) ||
	    chroot(".") || chdir("/")) {
		log_err("stage 2: pivot_root into %s: %m", root);
		return -1;
	}
	return 0;
}

/* systemd-shutdown binds the old /run over the ramfs's own /run, which
 * holds the bundle (ROOT/<staging dir>, by default under /run) and the
 * mount point of the kept files: take it away again. */
static void uncover_run(void)
{
	if (umount2("/run", MNT_DETACH) && errno != EINVAL)
		log_err("stage 2: umount the old /run over the ramfs's: %m");
}

/* ---- take over ---- */

#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */

/* Is /proc/@name a process of user space (not a kernel thread)? */
static bool user_process(const char *name)
{
	char path[64], buf[512], *p;
	unsigned long flags = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;	/* gone already */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* after "PID (COMM)": state ppid pgrp session tty tpgid flags */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return true;
	return !(flags & PF_KTHREAD);
}

/* Any process left but us? kill(-1, 0) cannot tell: on a real PID 1 it
 * also finds the kernel threads, which no signal ends. */
static bool others_left(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool left = false;
	char self[16];

	if (!d)
		return kill(-1, 0) == 0 || errno != ESRCH;
	snprintf(self, sizeof(self), "%d", (int)getpid());
	while (!left && (e = readdir(d)))
		left = e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		       strcmp(e->d_name, self) && user_process(e->d_name);
	closedir(d);
	return left;
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Who outlived the SIGTERM: "PID (comm)", for the log. */
static void log_survivors(void)
{
	char list[512] = "";
	size_t len = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	while (d && (e = readdir(d)) && len < sizeof(list) - 1) {
		char path[64], comm[32] = "?";
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' || !strcmp(e->d_name, "1"))
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/comm", e->d_name);
		f = fopen(path, "re");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				strcpy(comm, "?");
			comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		len += (size_t)snprintf(list + len, sizeof(list) - len, " %s (%s)",
					e->d_name, comm);
	}
	if (d)
		closedir(d);
	log_warn("stage 2: processes left %d ms after SIGTERM:%s; SIGKILL",
		 STRAGGLER_MS, list);
}

/* TERM to every other process, a grace period, then KILL. */
static void kill_stragglers(void)
{
	kill(-1, SIGTERM);
	for (int ms = 0; ms < STRAGGLER_MS && others_left(); ms += 50) {
		reap();
		usleep(50000);
	}
	if (others_left()) {
		log_survivors();
		kill(-1, SIGKILL);
		for (int ms = 0; ms < STRAGGLER_MS && others_left(); ms += 20) {
			reap();
			usleep(20000);
		}
	}
	reap();
}

/* Mount points under /oldroot, deepest (latest) first. */
static size_t old_mounts(char ***out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, **list = NULL;
	size_t cap = 0, n = 0;

	while (f && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX], **grown;

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
		    strncmp(mp, OLD_ROOT, strlen(OLD_ROOT)) ||
		    (mp[strlen(OLD_ROOT)] && mp[strlen(OLD_ROOT)] != '/'))
			continue;
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown)
			break;
		list = grown;
		list[n++] = strdup(mp);
	}
	free(line);
	if (f)
		fclose(f);
	*out = list;
	return n;
}

/* Does the link /proc/@pid/@what point beneath @mp? */
static bool link_beneath(const char *pid, const char *what, const char *mp,
			 char *target, size_t size)
{
	char path[PATH_MAX];
	size_t len = strlen(mp);
	ssize_t n;

	if (snprintf(path, sizeof(path), "/proc/%s/%s", pid, what) >=
	    (int)sizeof(path))
		return false;
	n = readlink(path, target, size - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return !strncmp(target, mp, len) && (!target[len] || target[len] == '/');
}

/* Who keeps @mp busy, for the log: each process's root, cwd, exe and
 * descriptors beneath it, and the mounts whose lines name it. */
static void log_holders(const char *mp)
{
	DIR *d = opendir("/proc"), *fds;
	struct dirent *e, *f;
	char target[PATH_MAX], what[PATH_MAX], line[1024];
	FILE *m;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		for (const char *const *w = (const char *const[]){ "root", "cwd", "exe", NULL };
		     *w; w++)
			if (link_beneath(e->d_name, *w, mp, target, sizeof(target)))
				log_err("stage 2: %s busy: PID %s %s %s", mp, e->d_name,
					*w, target);
		snprintf(what, sizeof(what), "/proc/%s/fd", e->d_name);
		fds = opendir(what);
		while (fds && (f = readdir(fds))) {
			snprintf(what, sizeof(what), "fd/%.200s", f->d_name);
			if (f->d_name[0] != '.' &&
			    link_beneath(e->d_name, what, mp, target, sizeof(target)))
				log_err("stage 2: %s busy: PID %s %s %s", mp,
					e->d_name, what, target);
		}
		if (fds)
			closedir(fds);
	}
	if (d)
		closedir(d);
	m = fopen("/proc/self/mountinfo", "re");
	while (m && fgets(line, sizeof(line), m))
		if (strstr(line, mp))
			log_err("stage 2: %s busy: mountinfo %s", mp, line);
	if (m)
		fclose(m);
}

/* Latest first is not always deepest first: under systemd-shutdown the
 * initramfs's /dev is older than the root moved over it. So pass after
 * pass, while a pass unmounts something; returns how many are left. */
static size_t unmount_passes(char **mps, size_t n, size_t left)
{
	size_t before;

	do {
		before = left;
		for (size_t i = n; i-- > 0;)
			if (mps[i] && !umount2(mps[i], 0)) {
				free(mps[i]);
				mps[i] = NULL;
				left--;
			}
	} while (left && left < before);
	return left;
}

/* Unmount the old root and everything below it. What is busy gets
 * more tries for UNBUSY_MS, since the kernel drops some references
 * after the fact (a detached mount's, a reaped process's last files);
 * what stays busy is made read-only and reported (the backends refuse
 * a mounted device). */
static int unmount_old(void)
{
	char **mps;
	size_t n = old_mounts(&mps), left = unmount_passes(mps, n, n);
	int busy = 0, ms = 0;

	if (left)
		log_notice("stage 2: %zu mount(s) under %s busy; trying again for up to %d ms",
			   left, OLD_ROOT, UNBUSY_MS);
	for (; left && ms < UNBUSY_MS; ms += 100) {
		reap();
		usleep(100000);
		left = unmount_passes(mps, n, left);
	}
	if (ms && !left)
		log_notice("stage 2: the old root was busy for %d ms, then unmounted", ms);
	for (size_t i = n; i-- > 0;) {
		if (!mps[i] || !umount2(mps[i], 0))
			goto next;
		log_err("stage 2: umount %s: %m; still in use, remounting read-only",
			mps[i]);
		log_holders(mps[i]);
		busy++;
		if (mount(NULL, mps[i], NULL, MS_REMOUNT | MS_RDONLY, NULL))
			log_err("stage 2: remount %s read-only: %m", mps[i]);
next:
		free(mps[i]);
	}
	free(mps);
	if (!busy)
		rmdir(OLD_ROOT);
	return busy ? -1 : 0;
}

void stage2_unmount_again(void)
{
	if (!rmdir(OLD_ROOT) || errno == ENOENT)
		return;		/* nothing of the old root is left */
	if (!unmount_old())
		log_notice("stage 2: the old root, busy before, is unmounted now");
}

/* ---- the watchdog ---- */

static void watchdog_feed(void)
{
	if (s2.watchdog >= 0 && ioctl(s2.watchdog, WDIOC_KEEPALIVE, 0) &&
	    write(s2.watchdog, "k", 1) != 1)
		log_warn("stage 2: feed the watchdog: %m");
}

/* As soon as its old keeper is gone (killed with the stragglers), and
 * fed at once: opening a running watchdog does not feed it, and the
 * bundle's verification in daemon_open() may outlast its timeout. The
 * config is read here for it alone; daemon_open() reports its errors. */
static void watchdog_take(const char *config_path)
{
	struct config *cfg;
	struct su_error err;

	if (s2.watchdog >= 0) {	/* procd's, handed over open */
		log_notice("stage 2: feeding procd's watchdog (fd %d) at uptime %.2f s",
			   s2.watchdog, uptime());
		watchdog_feed();
		return;
	}
	if (config_load(config_path, &cfg, &err))
		return;
	/* a busy device may take a moment to be let go */
	for (int i = 0; cfg->watchdog && i < 50 && s2.watchdog < 0; i++) {
		s2.watchdog = open(cfg->watchdog, O_WRONLY | O_CLOEXEC);
		if (s2.watchdog < 0 && errno == EBUSY)
			usleep(100000);
		else if (s2.watchdog < 0)
			break;
	}
	if (cfg->watchdog && s2.watchdog < 0)
		log_err("stage 2: open watchdog %s: %m", cfg->watchdog);
	else if (cfg->watchdog)
		log_notice("stage 2: feeding watchdog %s at uptime %.2f s",
			   cfg->watchdog, uptime());
	watchdog_feed();
	config_free(cfg);
}

/* ---- after the write ---- */

static const char *keep_fstype(const struct config_target *t)
{
	const char *o = config_target_option(t, "fstype");

	if (o)
		return o;
	return !strcmp(t->type, "ubi") ? "ubifs" : "ext4";
}

static const struct config_target *keep_target(const struct config *cfg)
{
	if (cfg->keep_target)
		return config_find_target(cfg, cfg->keep_target);
	for (size_t i = 0; i < cfg->n_targets; i++)
		if (cfg->targets[i].in_use)
			return &cfg->targets[i];
	return NULL;
}

/* The new system's filesystem at KEEP_MOUNT, for the kept files and a
 * file record. */
static enum su_err mount_new(const struct config_target *t, struct su_error *err)
{
	if (!t || !t->device)
		return su_error_set(err, SU_ERR_CONFIG,
				    "kept files: no single-slot keep_target to restore them to");
	if (mkdir(KEEP_MOUNT, 0700) && errno != EEXIST)
		return su_error_set(err, SU_ERR_IO, "mkdir " KEEP_MOUNT ": %m");
	if (mount(t->device, KEEP_MOUNT, keep_fstype(t), MS_NOSUID | MS_NODEV, NULL))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "mount %s (%s) of target %s for the kept files: %m",
				    t->device, keep_fstype(t), t->name);
	return SU_OK;
}

/* After a good write: the kept files beneath keep_path, and the
 * record where the config wants it. */
static enum su_err finish_new(const struct config *cfg,
			      const struct install_plan *plan,
			      struct bootenv *env, bool keep_config,
			      struct su_error *err)
{
	const struct config_target *t = keep_target(cfg);
	bool keep = *s2.hs.keep && keep_config;
	bool file = last_install_mode(cfg, NULL) == LAST_INSTALL_FILE;
	char dir[PATH_MAX];
	enum su_err rc = SU_OK;

	if ((keep || file) && mount_new(t, err))
		return err->code;
	snprintf(dir, sizeof(dir), KEEP_MOUNT "%s", cfg->keep_path);
	if (keep && !(rc = keep_archive_restore(s2.hs.keep, dir, err)))
		log_notice("stage 2: kept files restored to %s:%s", t->name,
			   cfg->keep_path);
	if (!rc && install_record(plan, env, keep || file ? KEEP_MOUNT : NULL,
				  NULL, err))
		log_warn("stage 2: last_install not recorded: %s", err->message);
	sync();
	if ((keep || file) && umount2(KEEP_MOUNT, 0) && !rc)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "umount %s: %m", KEEP_MOUNT);
	return rc;
}

/* Stage 2's own memory, for the RAM figure (test/bench/RESULTS.md):
 * its peak RSS, and what of it is anonymous (beyond the ramfs files). */
static void log_memory(void)
{
	static const char *const keys[] = { "VmHWM:", "VmRSS:", "RssAnon:",
					    "RssFile:", "RssShmem:" };
	char line[128], out[256] = "";
	size_t len = 0;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			unsigned long kb;

			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    sscanf(line + strlen(keys[i]), "%lu", &kb) == 1 &&
			    len < sizeof(out))
				len += (size_t)snprintf(out + len, sizeof(out) - len,
							" %.*s %lu kB",
							(int)strlen(keys[i]) - 1,
							keys[i], kb);
		}
	if (f)
		fclose(f);
	log_notice("stage 2: memory:%s", out);
}

void stage2_first_write(void)
{
	log_notice("stage 2: first bytes written at uptime %.2f s", uptime());
}

static void __attribute__((noreturn)) reboot_now(void)
{
	state_set(ST_REBOOTING);
	log_memory();
	log_notice("stage 2: rebooting");
	sync();
	sleep(LINGER_S);	/* let /status and /events tell it */
	reboot(RB_AUTOBOOT);
	log_err("stage 2: reboot: %m");
	for (;;)
		pause();
}

enum su_err stage2_installed(struct daemon *d, const struct install_plan *plan,
			     struct bootenv *env, const struct install_options *o,
			     enum su_err rc, struct su_error *err)
{
	struct su_error e;

	if (rc) {
		/* bootenv only: a file would go on a half-written system */
		if (last_install_mode(d->cfg, NULL) == LAST_INSTALL_BOOTENV &&
		    install_record(plan, env, NULL, err, &e))
			log_warn("stage 2: last_install not recorded: %s", e.message);
		return rc;
	}
	if (finish_new(d->cfg, plan, env, o->keep_config, err))
		return err->code;
	reboot_now();
}

void stage2_reboot(struct daemon *d)
{
	(void)d;
	reboot_now();
}

/* ---- serve ---- */

/* PID 1 forever: feed the watchdog, keep SSE readers alive, reap
 * orphans while no install runs (its children are waited for by the
 * code that started them). */
static void __attribute__((noreturn)) serve(int sfd)
{
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	unsigned ticks = 0;

	for (;;) {
		struct signalfd_siginfo si;

		if (poll(&p, 1, 1000) > 0)
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo != SIGCHLD)
					log_notice("stage 2: signal %u ignored", si.ssi_signo);
		watchdog_feed();
		if (!state_is_busy(state_get()))
			reap();
		if (++ticks % 10 == 0)
			events_heartbeat();
	}
}

/* In the ramfs with the old root gone: the daemon again, then the
 * install. */
static void __attribute__((noreturn)) run(void)
{
	static struct daemon d = { .lock = PTHREAD_MUTEX_INITIALIZER,
				   .run_lock = -1, .stage2 = true };
	struct install_options o = {
		.reboot = true, .keep_config = s2.hs.keep_config,
		.force = s2.hs.force,
	};
	struct su_error err;
	int sfd = daemon_signals(true);

	if (daemon_open(&d, s2.hs.config, &err)) {
		/* No API to serve: the only way on is a reboot. */
		log_err("stage 2: %s", err.message);
		reboot_now();
	}
	events_init();
	events_load("/events");
	if (daemon_listen(&d, &err))
		log_err("stage 2: %s", err.message);
	log_notice("stage 2: serving; installing %s at uptime %.2f s",
		   s2.hs.version, uptime());
	if (install_start(&d, &o, &err)) {
		log_err("stage 2: install: %s: %s", su_err_name(err.code),
			err.message);
		state_fail(ST_FAILED, &err);
	}
	serve(sfd);
}

/* procd chroot'd into ROOT without a chdir: "." is still the old
 * root's /, and a chroot there undoes procd's (its upgraded does the
 * same). The watchdog procd kept open comes as WDTFD. */
static void leave_procd_chroot(void)
{
	const char *fd = getenv("WDTFD");

	if (chroot(".") || chdir("/"))
		log_err("stage 2: leave procd's chroot: %m");
	if (fd) {
		s2.watchdog = atoi(fd);
		if (fcntl(s2.watchdog, F_SETFD, FD_CLOEXEC))
			s2.watchdog = -1;
		unsetenv("WDTFD");
	}
}

int stage2_main(const char *state_path, enum stage2_start how, int verbose)
{
	bool systemd = how == STAGE2_SYSTEMD;
	struct su_error err;

	log_open(verbose, true);
	if (getpid() != 1) {
		log_err("stage 2 runs as PID 1 only (exec'd by init); this is PID %d",
			(int)getpid());
		return 1;
	}
	if (how == STAGE2_PROCD)
		leave_procd_chroot();
	if (handover_state_read(state_path, &s2.hs, &err))
		exec_init(err.message);
	/* Everything lives in RAM from here: one malloc arena for all the
	 * threads, and big blocks mmap'd (glibc's threshold would grow past
	 * the install's buffers, which then stay in the heap once freed):
	 * 2.1 -> 0.9 MiB anonymous after an install (test/bench/RESULTS.md). */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	log_notice("stage 2: PID 1 at uptime %.2f s, %s", uptime(),
		   in_ramfs(s2.hs.root) || systemd ? "in the ramfs" : "from the old root");
	if (!systemd && !in_ramfs(s2.hs.root)) {
		reexec(&s2.hs, state_path, verbose);
		exec_init("the ramfs copy could not be run");
	}
	if (!systemd && pivot(s2.hs.root))
		exec_init("could not pivot into the ramfs");
	if (systemd)
		uncover_run();
	/* No way back from here: the old root's processes go next. */
	kill_stragglers();
	if (unmount_old())
		log_err("stage 2: the old root is still partly mounted; writing its device will be refused");
	watchdog_take(s2.hs.config);
	run();
}
