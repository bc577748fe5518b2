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
#include "stage1.h"
#include "install.h"
#include "install_worker.h"
#include "log.h"
#include "slot.h"
#include "stage2.h"
#include "staging.h"
#include "state.h"

struct job {
	struct daemon *d;
	struct install_options opts;
	struct install_plan *plan;
	struct bootenv *env;
	struct handover *handover;	/* in place, under the normal init */
	enum su_state shown;	/* last state set from progress */
	bool written;		/* some bytes reached the backend */
};

static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t worker;
static bool worker_running;

static void do_reboot(struct daemon *d)
{
	struct su_error err;

	if (d->stage2) {
		stage2_reboot(d);	/* no reboot command in the ramfs */
		return;
	}
	log_notice("rebooting: %s", d->cfg->reboot_command);
	state_set(ST_REBOOTING);
	if (child_run("reboot_command", d->cfg->reboot_command, 0, &err)) {
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
	if (j->d->stage2 && !j->written && p->all_bytes) {
		j->written = true;
		stage2_first_write();
	}
}

/* For the next boot's last_install (lib/last_install.h). */
static void record(struct job *j, const struct su_error *failure)
{
	struct su_error err;

	if (install_record(j->plan, j->env, NULL, failure, &err))
		log_warn("install of %s: last_install not recorded: %s",
			 j->plan->manifest->version, err.message);
}

/* In place under the normal init: returns only if nothing took over. */
static void *handover_thread(void *arg)
{
	struct job *j = arg;
	struct su_error err;

	handover_run(j->handover, &err);
	handover_free(j->handover);
	install_plan_free(j->plan);
	bootenv_close(j->env);
	state_fail(ST_FAILED, &err);
	free(j);
	return NULL;
}

static void *install_thread(void *arg)
{
	struct job *j = arg;
	struct su_error err;
	enum su_err rc;

	if (j->d->stage2)
		stage2_unmount_again();
	rc = install_run(j->plan, j->env, on_progress, j, &err);
	if (!rc)
		log_notice("install of %s complete", j->plan->manifest->version);
	if (j->d->stage2)	/* keep files, record, reboot; or stay */
		rc = stage2_installed(j->d, j->plan, j->env, &j->opts, rc, &err);
	else
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
	/* In place: stage 1 now (admission answers here), or stage 2 writes. */
	if (!rc && j->plan->in_place && !d->stage2)
		rc = handover_prepare(d, &j->opts, j->plan, &j->handover, err);
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
	if (pthread_create(&worker, NULL, j->handover ? handover_thread :
			   install_thread, j)) {
		pthread_mutex_unlock(&worker_lock);
		su_error_set(err, SU_ERR_INTERNAL, "start the install thread: %m");
		goto fail;
	}
	worker_running = true;
	pthread_mutex_unlock(&worker_lock);
	return SU_OK;
fail:
	handover_free(j->handover);
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
