/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Installs over the API: plan on the request's thread (so the answer can
 * say why not), write on a worker thread with progress into the state.
 * The reboot command runs through fork/execvp with a whitespace-split
 * argv: nothing reaches a shell.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootenv.h"
#include "child.h"
#include "install.h"
#include "install_worker.h"
#include "log.h"
#include "slot.h"
#include "staging.h"
#include "state.h"

struct job {
	struct daemon *d;
	struct install_options opts;
	struct install_plan *plan;
	struct bootenv *env;
	enum su_state shown;	/* last state set from progress */
};

static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t worker;
static bool worker_running;

/* Split on blanks into a NULL-terminated argv; free with free_argv(). */
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
				goto nomem;
			argv = grown;
		}
		if (!(argv[n++] = strndup(s, len)))
			goto nomem;
		argv[n] = NULL;
		s += len;
	}
	if (argv && !n)
		goto nomem;	/* an empty command is no command */
	return argv;
nomem:
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	return NULL;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Run @cmd and wait for it. */
static enum su_err run_command(const char *cmd, struct su_error *err)
{
	char **argv = split_argv(cmd);
	int status;
	pid_t pid;

	if (!argv)
		return su_error_set(err, SU_ERR_CONFIG,
				    "reboot_command '%s' is empty or out of memory", cmd);
	pid = fork();
	if (pid == 0) {
		/* Not the daemon's blocked mask nor its ignored SIGPIPE. */
		child_reset_signals();
		execvp(argv[0], argv);
		_exit(127);
	}
	free_argv(argv);
	if (pid < 0)
		return su_error_set(err, SU_ERR_INTERNAL, "fork for '%s': %m", cmd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return su_error_set(err, SU_ERR_INTERNAL, "waitpid: %m");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return SU_OK;
	if (WIFEXITED(status))
		return su_error_set(err, SU_ERR_INTERNAL,
				    "reboot command '%s' exited with status %d",
				    cmd, WEXITSTATUS(status));
	return su_error_set(err, SU_ERR_INTERNAL,
			    "reboot command '%s' was killed by signal %d",
			    cmd, WTERMSIG(status));
}

static void do_reboot(struct daemon *d)
{
	struct su_error err;

	log_notice("rebooting: %s", d->cfg->reboot_command);
	state_set(ST_REBOOTING);
	if (run_command(d->cfg->reboot_command, &err)) {
		log_err("%s", err.message);
		state_fail(ST_FAILED, &err);
	}
}

static void on_progress(void *ctx, const struct install_progress *p)
{
	struct job *j = ctx;
	enum su_state s = !strcmp(p->phase, "bootenv") ? ST_FINALIZING : ST_WRITING;

	if (s != j->shown) {
		j->shown = s;
		state_set(s);
	}
	state_progress(p->image, p->all_bytes, p->all_total);
}

/* For the next boot's last_install (lib/last_install.h). */
static void record(struct job *j, const struct su_error *failure)
{
	struct su_error err;

	if (install_record(j->plan, j->env, NULL, failure, &err))
		log_warn("install of %s: last_install not recorded: %s",
			 j->plan->manifest->version, err.message);
}

static void *install_thread(void *arg)
{
	struct job *j = arg;
	struct su_error err;
	enum su_err rc;

	rc = install_run(j->plan, j->env, on_progress, j, &err);
	if (!rc)
		log_notice("install of %s complete", j->plan->manifest->version);
	record(j, rc ? &err : NULL);
	/* Done with the staged bundle before leaving the busy state. */
	install_plan_free(j->plan);
	bootenv_close(j->env);
	if (rc) {
		log_err("install failed: %s: %s", su_err_name(err.code), err.message);
		state_fail(ST_FAILED, &err);
	} else {
		daemon_unstage(j->d);	/* written: never install it twice */
		if (j->opts.reboot)
			do_reboot(j->d);
		else
			state_set(ST_IDLE);
	}
	free(j);
	return NULL;
}

enum su_err install_check_pending(struct daemon *d, struct su_error *err)
{
	struct bootenv *env;
	bool ab = false;
	enum su_err rc;

	for (size_t i = 0; i < d->cfg->n_targets; i++)
		ab |= config_target_is_ab(&d->cfg->targets[i]);
	if (!ab)
		return SU_OK;
	if (bootenv_open(d->cfg->fw_env_config, &env, err))
		return err->code;
	rc = slot_check_pending(d->cfg, env, err);
	bootenv_close(env);
	return rc;
}

/* With the daemon in "installing": the plan, or why there is none. */
static enum su_err plan(struct job *j, struct su_error *err)
{
	struct daemon *d = j->d;
	const struct manifest *m;
	enum su_err rc = SU_OK;

	pthread_mutex_lock(&d->lock);
	if (!d->staged) {
		rc = su_error_set(err, SU_ERR_NOTHING_STAGED,
				  "nothing is staged; upload a bundle first");
		goto out;
	}
	m = bundle_reader_manifest(d->staged);
	if (install_needs_bootenv(d->cfg, m))
		rc = bootenv_open(d->cfg->fw_env_config, &j->env, err);
	if (!rc)
		rc = install_plan_build(d->cfg, m, bundle_reader_payloads(d->staged),
					staging_bundle_path(), j->env, &j->plan, err);
	/* The file verified, held open since: never found again by name. */
	if (!rc) {
		j->plan->bundle_fd = d->staged_fd;
		j->plan->record = true;
	}
	if (!rc && j->plan->in_place)
		rc = su_error_set(err, SU_ERR_BUSY,
				  "the bundle writes a target in use by the running system; in-place install needs the handover, which is not built yet");
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

enum su_err install_start(struct daemon *d, const struct install_options *o,
			  struct su_error *err)
{
	struct job *j;
	enum su_state was;

	if (!state_begin(ST_INSTALLING, &was))
		return su_error_set(err, SU_ERR_BUSY,
				    "the daemon is %s; one upload or install at a time",
				    state_name(was));
	j = calloc(1, sizeof(*j));
	if (!j) {
		state_set(was);
		return su_error_set(err, SU_ERR_NOMEM, "install: %m");
	}
	j->d = d;
	j->opts = *o;
	j->shown = ST_INSTALLING;
	if (plan(j, err))
		goto fail;
	install_wait();		/* reap the previous worker */
	/* j is the worker's from pthread_create() on: log first */
	log_notice("install of %s starting", j->plan->manifest->version);
	pthread_mutex_lock(&worker_lock);
	if (pthread_create(&worker, NULL, install_thread, j)) {
		pthread_mutex_unlock(&worker_lock);
		su_error_set(err, SU_ERR_INTERNAL, "start the install thread: %m");
		goto fail;
	}
	worker_running = true;
	pthread_mutex_unlock(&worker_lock);
	return SU_OK;
fail:
	install_plan_free(j->plan);
	bootenv_close(j->env);
	free(j);
	/* Nothing happened: back where we were, the error kept. */
	state_fail(daemon_has_staged(d) ? (was == ST_FAILED ? ST_FAILED : ST_STAGED)
				       : ST_IDLE, err);
	return err->code;
}

void install_wait(void)
{
	pthread_mutex_lock(&worker_lock);
	if (worker_running) {
		pthread_join(worker, NULL);
		worker_running = false;
	}
	pthread_mutex_unlock(&worker_lock);
}

static void *reboot_thread(void *arg)
{
	do_reboot(arg);
	return NULL;
}

enum su_err reboot_start(struct daemon *d, struct su_error *err)
{
	enum su_state was;
	int rc;

	if (!state_begin(ST_REBOOTING, &was))
		return su_error_set(err, SU_ERR_BUSY,
				    "the daemon is %s; it reboots when that ends",
				    state_name(was));
	install_wait();		/* reap the previous worker */
	pthread_mutex_lock(&worker_lock);
	rc = pthread_create(&worker, NULL, reboot_thread, d);
	worker_running = !rc;
	pthread_mutex_unlock(&worker_lock);
	if (rc) {
		errno = rc;
		su_error_set(err, SU_ERR_INTERNAL, "start the reboot thread: %m");
		state_fail(was, err);
		return err->code;
	}
	return SU_OK;
}
