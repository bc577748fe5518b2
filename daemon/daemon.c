/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon mode: load, restore a staged bundle, serve, and handle
 * signals in the main thread through a signalfd (no work in handlers):
 *   SIGTERM, SIGINT  graceful stop: the event threads end, an upload in
 *                    progress loses its file, a running install is
 *                    waited for;
 *   SIGHUP           reload the trusted keys and the token list.
 *
 * A staged bundle across a restart: a bundle found in the staging
 * directory at start is verified again, whole, with the current keys,
 * policy and targets. Still good: it is staged again (state "staged").
 * Otherwise it is deleted. (A tmpfs the daemon mounted itself goes away
 * with the daemon, and the bundle with it.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "auth.h"
#include "daemon.h"
#include "events.h"
#include "install.h"
#include "install_worker.h"
#include "last_install.h"
#include "log.h"
#include "notify.h"
#include "run_lock.h"
#include "server.h"
#include "signature.h"
#include "stage1.h"
#include "staging.h"
#include "state.h"
#include "upload.h"

#define HEARTBEAT_MAX_MS 10000

/* ---- start ---- */

/* A bundle staged before a restart is kept only if it verifies again. */
static void restore_staged(struct daemon *d)
{
	const char *path = staging_bundle_path();
	struct bundle_policy policy = {
		.keys = d->keys->kr,
		.compatible = d->cfg->compatible,
		.current_version = d->running_version,
		/* stage 2: stage 1 applied the policy at upload; the
		 * signature and hashes are still checked again */
		.force = d->stage2,
	};
	struct bundle_reader *br = NULL;
	struct su_error err;
	char *report;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (bundle_verify_fd(fd, path, &policy, &br, &err) ||
	    install_check_targets(d->cfg, bundle_reader_manifest(br), &err)) {
		log_warn("staged %s no longer verifies (%s: %s); removed",
			 path, su_err_name(err.code), err.message);
		close(fd);
		bundle_reader_free(br);
		staging_discard();
		return;
	}
	report = upload_report(br);
	daemon_stage(d, br, report, fd);
	state_set(ST_STAGED);
	log_notice("kept the bundle staged before the restart: %s", path);
}

/* The record the install before this boot left, for /status and /info;
 * a broken one is only worth a warning. */
static void load_last_install(const struct config *cfg)
{
	struct last_install r;
	struct su_error err;
	bool found;
	char *json;

	if (last_install_read(cfg, &r, &found, &err)) {
		log_warn("last_install not shown: %s", err.message);
		return;
	}
	if (!found)
		return;
	json = last_install_json(&r);
	state_set_last_install(json);
	free(json);
	last_install_free(&r);
}

static enum su_err load(struct daemon *d, const char *path,
			struct su_error *err)
{
	struct keyring *kr;

	if (config_load(path, &d->cfg, err))
		return err->code;
	d->running_version = config_running_version(d->cfg, err);
	if (!d->running_version)
		return err->code;
	if (keyring_load_dir(d->cfg->keys_dir, &kr, err))
		return err->code;
	daemon_set_keys(d, kr);
	if (auth_set_tokens(d->cfg, err))
		return err->code;
	if (!d->cfg->n_tokens && !d->cfg->client_ca)
		log_warn("%s: no token_sha256 and no client_ca: nobody can upload",
			 path);
	load_last_install(d->cfg);
	return SU_OK;
}

/* SIGHUP: new keys and tokens; the rest of the config stays. */
static void reload(struct daemon *d)
{
	struct config *cfg;
	struct keyring *kr;
	struct su_error err;

	if (config_load(d->cfg->path, &cfg, &err)) {
		log_err("reload: %s; keeping keys and tokens", err.message);
		return;
	}
	if (keyring_load_dir(cfg->keys_dir, &kr, &err)) {
		log_err("reload: %s; keeping keys and tokens", err.message);
		config_free(cfg);
		return;
	}
	if (auth_set_tokens(cfg, &err))
		log_err("reload: %s", err.message);
	daemon_set_keys(d, kr);
	log_notice("reloaded %zu key(s) from %s and %zu token(s)",
		   keyring_count(kr), cfg->keys_dir, cfg->n_tokens);
	config_free(cfg);
}

int daemon_signals(bool pid1)
{
	static const int pid1_too[] = { SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2 };
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (size_t i = 0; pid1 && i < sizeof(pid1_too) / sizeof(pid1_too[0]); i++)
		sigaddset(&set, pid1_too[i]);
	/* before any thread starts, so every thread blocks them */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | (pid1 ? SFD_NONBLOCK : 0));
}

/* sd_notify (a Type=notify unit); a failure costs a warning only */
static void tell_manager(const char *msg)
{
	if (notify_send(msg) < 0)
		log_warn("sd_notify to %s: %m", getenv("NOTIFY_SOCKET"));
}

static void serve(struct daemon *d, int sfd)
{
	int beat = (int)d->cfg->connection_timeout * 1000 / 2;
	struct pollfd p = { .fd = sfd, .events = POLLIN };

	if (beat > HEARTBEAT_MAX_MS || beat <= 0)
		beat = HEARTBEAT_MAX_MS;
	for (;;) {
		struct signalfd_siginfo si;
		int n = poll(&p, 1, beat);

		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0) {
			events_heartbeat();
			continue;
		}
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload(d);
			continue;
		}
		if (stage1_cancel()) {
			/* PID 1 is taking over: leave the ramfs, the bundle
			 * and the staging mount to stage 2 */
			log_notice("signal %u: the handover is under way; exiting",
				   si.ssi_signo);
			tell_manager("STOPPING=1\nSTATUS=handover: PID 1 takes over");
			_exit(0);
		}
		log_notice("signal %u: stopping", si.ssi_signo);
		tell_manager("STOPPING=1\nSTATUS=stopping");
		break;
	}
}

/*
 * Without --foreground: run on in a child that reports through a pipe
 * once it listens, so the command's exit status still says whether the
 * daemon started (0) or not (1).
 */
static int detach(void)
{
	int p[2];
	pid_t pid;
	char ok;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &ok, 1) == 1 && ok == 0 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0 || chdir("/"))
		log_warn("detach: %m");
	return p[1];
}

static void detached_ready(int fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (write(fd, "", 1) != 1)
		log_warn("detach: tell the parent: %m");
	close(fd);
	log_use_stderr(false);	/* from here on, syslog only */
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
}

static void unload(struct daemon *d)
{
	daemon_stage(d, NULL, NULL, -1);	/* the file stays for a restart */
	if (d->keys)
		daemon_keys_put(d, d->keys);
	auth_free();
	staging_shutdown();
	run_lock_release(d->run_lock);
	d->run_lock = -1;
	free(d->running_version);
	config_free(d->cfg);
	pthread_mutex_destroy(&d->lock);
}

/* Split out of daemon_run() so that the upload fuzzer runs the same
 * start and stop without detach and signals. */
enum su_err daemon_open(struct daemon *d, const char *config_path,
			struct su_error *err)
{
	d->run_lock = -1;
	if (load(d, config_path, err))
		return err->code;
	if (run_lock_take(d->cfg, &d->run_lock, err))
		return err->code;
	/* what can fail without side effects first, then the tmpfs */
	if (server_prepare(d->cfg, err) || staging_init(d->cfg, err))
		return err->code;
	restore_staged(d);
	return SU_OK;
}

enum su_err daemon_listen(struct daemon *d, struct su_error *err)
{
	events_init();
	return server_start(d, err);
}

void daemon_close(struct daemon *d)
{
	events_shutdown();
	server_stop();
	install_wait();
	unload(d);
}

int daemon_run(const char *config_path, bool foreground, int verbose)
{
	struct daemon d = { .lock = PTHREAD_MUTEX_INITIALIZER, .run_lock = -1 };
	struct su_error err;
	char status[64];
	int sfd = -1, notify = -1;

	log_open(verbose, true);
	if (daemon_open(&d, config_path, &err)) {
		log_err("%s", err.message);
		goto out;
	}
	if (!foreground && (notify = detach()) < 0) {
		log_err("detach: %m");
		goto out;
	}
	sfd = daemon_signals(false);
	if (sfd < 0) {
		log_err("signalfd: %m");
		goto out;
	}
	if (daemon_listen(&d, &err)) {
		log_err("%s", err.message);
		goto out;
	}
	if (notify >= 0) {
		run_lock_update(d.run_lock);	/* the detached PID */
		detached_ready(notify);
	}
	log_notice("ready: version %s, %s", d.running_version,
		   state_name(state_get()));
	/* after daemon_listen(): every listener accepts connections */
	snprintf(status, sizeof(status), "READY=1\nSTATUS=%s",
		 state_name(state_get()));
	tell_manager(status);
	serve(&d, sfd);
	close(sfd);
	daemon_close(&d);
	log_close();
	return 0;
out:
	server_stop();		/* also frees what server_prepare() read */
	if (sfd >= 0)
		close(sfd);
	unload(&d);
	log_close();
	return 1;
}
