/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The install engine: plan (image -> target -> backend -> slot), run
 * (payload -> hash -> decompress -> backend, then read-back), and the
 * boot-environment transaction around it. Backends only ever see bytes;
 * reading and decompressing payloads lives in install_stream.c.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "bootenv.h"
#include "bundle_reader.h"
#include "install.h"
#include "install_stream.h"
#include "last_install.h"
#include "signature.h"
#include "slot.h"

#define PROGRESS_STEP	(64u << 10)	/* report at most every 64 KiB */
/* An in-place install writes from stage 2, where the system and the
 * bundle are all in RAM: smaller buffers for less speed (decompressed
 * blocks, the backend's; test/bench/RESULTS.md has the figures). */
#define IN_PLACE_CHUNK	(256u << 10)
#define IN_PLACE_BUFFER	(256u << 10)

static const struct backend_ops *(*lookup_backend)(const char *name) =
	backend_find;

void install_set_backend_lookup(const struct backend_ops *(*fn)(const char *name))
{
	lookup_backend = fn ? fn : backend_find;
}

/* ---- the plan ---- */

/* Write the slot that is not running; the boot variable only says what
 * boots next, and after an install without reboot it names the new one. */
static enum su_err pick_slot(const struct config *cfg,
			     const struct config_target *t,
			     const struct manifest_image *img,
			     struct bootenv *env, int *slot,
			     struct su_error *err)
{
	int booted;

	if (!env)
		return su_error_set(err, SU_ERR_CONFIG,
				    "image %s: target '%s' has A/B slots but no boot environment is open to flip %s",
				    img->file, t->name, t->slot_var);
	if (slot_booted(cfg, t, &booted, err))
		return err->code;
	*slot = !booted;
	return SU_OK;
}

enum su_err install_check_targets(const struct config *cfg,
				  const struct manifest *m,
				  struct su_error *err)
{
	for (size_t i = 0; i < m->n_images; i++) {
		const struct manifest_image *img = &m->images[i];
		const struct config_target *t =
			config_find_target(cfg, img->target);

		if (!t)
			return su_error_set(err, SU_ERR_UNKNOWN_TARGET,
					    "image %s: target '%s' is not defined in %s",
					    img->file, img->target, cfg->path);
		if (strcmp(t->type, img->type))
			return su_error_set(err, SU_ERR_UNKNOWN_TARGET,
					    "image %s: its type %s differs from type %s of target '%s' in %s",
					    img->file, img->type, t->type, t->name,
					    cfg->path);
	}
	return SU_OK;
}

/* @img's target exists and has its type: install_check_targets(). */
static enum su_err plan_step(const struct config *cfg,
			     const struct manifest_image *img, uint64_t offset,
			     struct bootenv *env, struct install_step *st,
			     struct su_error *err)
{
	const struct config_target *t = config_find_target(cfg, img->target);
	enum su_err rc;

	st->backend = lookup_backend(t->type);
	if (!st->backend)
		return su_error_set(err, SU_ERR_CONFIG,
				    "image %s: target '%s' has type %s, for which this build has no backend",
				    img->file, t->name, t->type);
	st->image = img;
	st->target = t;
	st->offset = offset;
	st->slot = -1;
	st->device = t->device;
	if (!config_target_is_ab(t))
		return SU_OK;
	rc = pick_slot(cfg, t, img, env, &st->slot, err);
	if (!rc)
		st->device = t->slot_device[st->slot];
	return rc;
}

enum su_err install_plan_build(const struct config *cfg,
			       const struct manifest *m,
			       const struct bundle_payload *payloads,
			       const char *bundle_path,
			       struct bootenv *env,
			       struct install_plan **out,
			       struct su_error *err)
{
	struct install_plan *plan;
	bool ab = false;
	enum su_err rc;

	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return su_error_set(err, SU_ERR_NOMEM, "plan for %s: %m",
				    bundle_path);
	plan->config = cfg;
	plan->manifest = m;
	plan->bundle_fd = -1;
	plan->bundle_path = strdup(bundle_path);
	plan->steps = calloc(m->n_images, sizeof(*plan->steps));
	if (!plan->bundle_path || !plan->steps) {
		install_plan_free(plan);
		return su_error_set(err, SU_ERR_NOMEM, "plan for %s: %m",
				    bundle_path);
	}
	if ((rc = install_check_targets(cfg, m, err))) {
		install_plan_free(plan);
		return rc;
	}
	for (size_t i = 0; i < m->n_images; i++) {
		struct install_step *st = &plan->steps[i];

		rc = plan_step(cfg, &m->images[i], payloads[i].offset, env, st,
			       err);
		if (rc) {
			install_plan_free(plan);
			return rc;
		}
		plan->n_steps++;
		plan->total += m->images[i].installed_size;
		plan->in_place |= st->target->in_use;
		ab |= st->slot >= 0;
	}
	/* A second A/B install before the reboot would undo the first. */
	if (ab && (rc = slot_check_pending(cfg, env, err))) {
		install_plan_free(plan);
		return rc;
	}
	*out = plan;
	return SU_OK;
}

void install_plan_free(struct install_plan *plan)
{
	if (!plan)
		return;
	free(plan->steps);
	free(plan->bundle_path);
	free(plan);
}

/* ---- the run ---- */

struct run {
	const struct install_plan *plan;
	int fd;			/* the staged bundle */
	install_progress_fn fn;
	void *ctx;
	struct install_progress p;
	uint64_t reported;	/* all_bytes at the last report */
};

static void report(struct run *r, const char *phase, bool always)
{
	struct install_progress *p = &r->p;

	if (!r->fn || (!always && p->all_bytes - r->reported < PROGRESS_STEP))
		return;
	p->phase = phase;
	p->percent = p->all_total ?
		(unsigned)(p->all_bytes * 100 / p->all_total) : 100;
	r->reported = p->all_bytes;
	r->fn(r->ctx, p);
}

/* Say which image, target and device an error concerns. */
static enum su_err step_fail(const struct install_step *st,
			     struct su_error *err)
{
	char why[sizeof(err->message)];

	memcpy(why, err->message, sizeof(why));
	snprintf(err->message, sizeof(err->message),
		 "image %s -> target %s (%s): %.400s", st->image->file,
		 st->target->name, st->device, why);
	return err->code;
}

static enum su_err put(struct run *r, const struct install_step *st, void *h,
		       const void *buf, size_t len, struct su_error *err)
{
	enum su_err rc = st->backend->write(h, buf, len, err);

	if (rc)
		return rc;
	r->p.bytes += len;
	r->p.all_bytes += len;
	report(r, "writing", r->p.bytes == st->image->installed_size);
	return SU_OK;
}

/* True when the engine reads the image back after writing it. */
static bool engine_verifies(const struct install_step *st)
{
	return st->target->readback && st->backend->verify &&
	       !st->backend->compares_on_write;
}

/*
 * Stream the payload into the backend; *@installed gets the SHA-256 of
 * the bytes written, for the read-back (only when the engine verifies:
 * nothing else uses it). The last block is held back
 * until the stored bytes' hash has passed: a UBI volume update completes
 * with its final byte, so a payload changed since it was verified must
 * never reach it whole.
 */
static enum su_err copy(struct run *r, const struct install_step *st,
			struct payload_stream *s, void *h,
			uint8_t installed[DIGEST_LEN], struct su_error *err)
{
	const uint64_t limit = st->image->installed_size;
	const void *buf, *held = NULL;
	size_t len, held_len = 0;
	const bool hash = engine_verifies(st);
	uint64_t seen = 0;
	struct digest d;
	enum su_err rc;

	digest_init(&d);
	while (!(rc = payload_stream_read(s, &buf, &len, err)) && len) {
		if (len > limit - seen)
			return su_error_set(err, SU_ERR_SIZE_MISMATCH,
					    "payload %s decompresses to more than its installed_size of %" PRIu64 " bytes; stopped before writing past it",
					    st->image->file, limit);
		if (hash)
			digest_update(&d, buf, len);
		seen += len;
		if (held_len && (rc = put(r, st, h, held, held_len, err)))
			return rc;
		held = buf;
		held_len = len;
	}
	if (!rc && seen != limit)
		rc = su_error_set(err, SU_ERR_SIZE_MISMATCH,
				  "payload %s decompresses to %" PRIu64 " bytes, its installed_size says %" PRIu64,
				  st->image->file, seen, limit);
	if (!rc)
		rc = payload_stream_check(s, err);
	if (!rc && held_len)
		rc = put(r, st, h, held, held_len, err);
	digest_final(&d, installed);
	return rc;
}

/*
 * A payload changed in staging can fail as bad data or a wrong size
 * before its hash is complete: when its stored bytes no longer match the
 * manifest, that is the error to report.
 */
static enum su_err blame_staging(struct payload_stream *s, enum su_err rc,
				 struct su_error *err)
{
	struct su_error check;

	if (rc != SU_ERR_SIZE_MISMATCH && rc != SU_ERR_BAD_ARCHIVE)
		return rc;
	if (payload_stream_check(s, &check) != SU_ERR_HASH_MISMATCH)
		return rc;
	*err = check;
	return err->code;
}

static enum su_err write_image(struct run *r, const struct install_step *st,
			       const struct backend_target *bt,
			       uint8_t installed[DIGEST_LEN],
			       struct su_error *err)
{
	struct payload_stream *s = NULL;
	void *h;
	enum su_err rc;

	rc = st->backend->open(bt, st->image->installed_size, &h, err);
	if (rc)
		return rc;
	rc = payload_stream_open(r->fd, r->plan->bundle_path, st->image,
				 st->offset, r->plan->in_place ? IN_PLACE_CHUNK : 0,
				 &s, err);
	/* copy() checks the hash before the last block: a bad payload is
	 * never committed. */
	if (!rc)
		rc = copy(r, st, s, h, installed, err);
	if (rc && s)
		rc = blame_staging(s, rc, err);
	payload_stream_free(s);
	if (rc) {
		st->backend->abort(h);
		return rc;
	}
	return st->backend->finish(h, err);
}

static enum su_err run_step(struct run *r, size_t i, struct su_error *err)
{
	const struct install_step *st = &r->plan->steps[i];
	const struct backend_target bt = {
		st->target, st->device,
		r->plan->in_place ? IN_PLACE_BUFFER : 0,
	};
	uint8_t installed[DIGEST_LEN];
	enum su_err rc;

	r->p.image = st->image->file;
	r->p.index = i;
	r->p.bytes = 0;
	r->p.total = st->image->installed_size;
	report(r, "writing", true);
	rc = write_image(r, st, &bt, installed, err);
	if (!rc && engine_verifies(st)) {
		report(r, "verifying", true);
		rc = st->backend->verify(&bt, st->image->installed_size,
					 installed, err);
	}
	return rc ? step_fail(st, err) : SU_OK;
}

/* Sets the marker; *@before keeps its old value (malloc'd, or NULL). */
static enum su_err begin_transaction(const struct install_plan *plan,
				     struct bootenv *env, char **before,
				     struct su_error *err)
{
	const char *var = plan->config->transaction_var;
	const char *old = bootenv_get(env, var);
	enum su_err rc;

	*before = old ? strdup(old) : NULL;
	if (old && !*before)
		return su_error_set(err, SU_ERR_NOMEM, "%s: %m", var);
	rc = bootenv_set(env, var, plan->manifest->version, err);
	return rc ? rc : bootenv_commit(env, err);
}

/*
 * A failure the engine saw and stopped at wrote only to slots that are
 * not running: nothing was committed, so the environment goes back to
 * what it was. In place, the running system may be half-written: the
 * marker stays for the bootloader or recovery to see.
 */
static void rollback_transaction(const struct install_plan *plan,
				 struct bootenv *env, const char *before)
{
	struct su_error ignored;

	if (plan->in_place)
		return;
	if (!bootenv_set(env, plan->config->transaction_var, before, &ignored))
		bootenv_commit(env, &ignored);
}

/* The success record, made at the commit that makes it true. */
static enum su_err stage_record(const struct install_plan *plan,
				struct bootenv *env, struct su_error *err)
{
	struct last_install r;
	enum su_err rc;

	rc = last_install_set(&r, plan->manifest->version, NULL, err);
	if (rc)
		return rc;
	rc = last_install_stage(plan->config, env, &r, err);
	last_install_free(&r);
	return rc;
}

/*
 * Everything in one commit. The bundle's own variables go first so that
 * they cannot undo the slot flip, the boot counting, the marker or the
 * record.
 */
static enum su_err end_transaction(const struct install_plan *plan,
				   struct bootenv *env, struct su_error *err)
{
	const struct config *c = plan->config;
	const struct manifest *m = plan->manifest;
	enum su_err rc = SU_OK;

	for (size_t i = 0; !rc && i < m->n_bootenv; i++)
		rc = bootenv_set(env, m->bootenv[i].key, m->bootenv[i].value,
				 err);
	for (size_t i = 0; !rc && i < plan->n_steps; i++) {
		const struct install_step *st = &plan->steps[i];

		if (st->slot >= 0)
			rc = bootenv_set(env, st->target->slot_var,
					 st->target->slot_value[st->slot], err);
	}
	rc = rc ? rc : bootenv_set(env, c->upgrade_available_var, "1", err);
	rc = rc ? rc : bootenv_set(env, c->bootcount_var, "0", err);
	rc = rc ? rc : bootenv_set(env, c->transaction_var, NULL, err);
	if (plan->record)
		rc = rc ? rc : stage_record(plan, env, err);
	return rc ? rc : bootenv_commit(env, err);
}

/*
 * The final store failed: what is on the storage is the copy with the
 * marker set. Put the marker back as it was from that copy, and say
 * exactly what is left when even that fails.
 */
static void undo_failed_commit(const struct install_plan *plan,
			       struct bootenv *env, const char *before,
			       struct su_error *err)
{
	const char *var = plan->config->transaction_var;
	char why[sizeof(err->message)];
	struct su_error e;
	size_t len = strlen(err->message);

	if (plan->in_place)
		return;
	if (!bootenv_reload(env, &e) && !bootenv_set(env, var, before, &e) &&
	    !bootenv_commit(env, &e)) {
		snprintf(err->message + len, sizeof(err->message) - len,
			 "; the boot environment was put back as it was (no slot flipped, %s restored)",
			 var);
		return;
	}
	memcpy(why, e.message, sizeof(why));
	snprintf(err->message + len, sizeof(err->message) - len,
		 "; restoring it failed too (%.160s): it may still hold %s=%s and no slot flipped",
		 why, var, plan->manifest->version);
}

enum su_err install_run(const struct install_plan *plan, struct bootenv *env,
			install_progress_fn progress, void *ctx,
			struct su_error *err)
{
	struct su_error local;
	struct run r = {
		.plan = plan, .fn = progress, .ctx = ctx,
		.p = { .count = plan->n_steps, .all_total = plan->total },
	};
	enum su_err rc = SU_OK;
	char *marker_before = NULL;

	err = err ? err : &local;
	r.fd = plan->bundle_fd >= 0 ? dup(plan->bundle_fd) :
		open(plan->bundle_path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0)
		return su_error_set(err, SU_ERR_IO, "open %s: %m",
				    plan->bundle_path);
	posix_fadvise(r.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (env)
		rc = begin_transaction(plan, env, &marker_before, err);
	if (rc) {
		close(r.fd);
		return rc;
	}
	for (size_t i = 0; !rc && i < plan->n_steps; i++)
		rc = run_step(&r, i, err);
	if (!rc && env) {
		report(&r, "bootenv", true);
		rc = end_transaction(plan, env, err);
		if (rc)
			undo_failed_commit(plan, env, marker_before, err);
	} else if (rc && env) {
		rollback_transaction(plan, env, marker_before);
	}
	free(marker_before);
	close(r.fd);
	return rc;
}

enum su_err install_record(const struct install_plan *plan,
			   struct bootenv *env, const char *prefix,
			   const struct su_error *failure,
			   struct su_error *err)
{
	const struct config *cfg = plan->config;
	bool in_env = last_install_mode(cfg, NULL) == LAST_INSTALL_BOOTENV;
	struct last_install r;
	enum su_err rc;

	if (!failure && env && plan->record && in_env)
		return SU_OK;	/* in the final commit */
	/* After a failure only the stored copy is known to be sane. */
	if (failure && env && in_env && (rc = bootenv_reload(env, err)))
		return rc;
	rc = last_install_set(&r, plan->manifest->version, failure, err);
	if (rc)
		return rc;
	rc = last_install_write(cfg, env, prefix, &r, err);
	last_install_free(&r);
	return rc;
}

/* ---- sysupgraded --install / --mark-good ---- */

bool install_needs_bootenv(const struct config *cfg, const struct manifest *m)
{
	/* Where there is an environment, a power cut while writing any
	 * target that matters must leave the marker for the bootloader. */
	bool have_env = !access(cfg->fw_env_config, F_OK);

	if (m->n_bootenv)
		return true;
	for (size_t i = 0; i < m->n_images; i++) {
		const struct config_target *t =
			config_find_target(cfg, m->images[i].target);

		if (t && (config_target_is_ab(t) || (have_env && t->critical)))
			return true;
	}
	return false;
}

static enum su_err refuse_in_place(const struct install_plan *plan,
				   struct su_error *err)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if (plan->steps[i].target->in_use)
			return su_error_set(err, SU_ERR_BUSY,
					    "target %s is in use by the running system; install in place through the daemon",
					    plan->steps[i].target->name);
	return SU_OK;
}

/*
 * The result of a run that began, for the next boot. An install that
 * failed keeps its own error; one that worked but whose record could
 * not be written says both.
 */
static enum su_err record(const struct install_plan *plan,
			  struct bootenv *env, enum su_err rc,
			  struct su_error *err)
{
	char why[sizeof(err->message)];
	struct su_error e;

	if (!install_record(plan, env, NULL, rc ? err : NULL, &e) || rc)
		return rc;
	memcpy(why, e.message, sizeof(why));
	return su_error_set(err, e.code,
			    "installed %.64s, but its [install] last_install record was not written: %.400s",
			    plan->manifest->version, why);
}

/* Verified bundle -> boot environment (if needed) -> plan -> run. */
static enum su_err install_verified(const struct config *cfg,
				   const char *path, int fd,
				   const struct bundle_reader *br,
				   install_progress_fn progress, void *ctx,
				   struct su_error *err)
{
	const struct manifest *m = bundle_reader_manifest(br);
	struct install_plan *plan = NULL;
	struct bootenv *env = NULL;
	enum su_err rc = SU_OK;

	if (install_needs_bootenv(cfg, m))
		rc = bootenv_open(cfg->fw_env_config, &env, err);
	if (!rc)
		rc = install_plan_build(cfg, m, bundle_reader_payloads(br),
					path, env, &plan, err);
	if (!rc) {
		plan->bundle_fd = fd;
		plan->record = true;
		rc = refuse_in_place(plan, err);
	}
	if (!rc) {
		rc = install_run(plan, env, progress, ctx, err);
		rc = record(plan, env, rc, err);
	}
	install_plan_free(plan);
	bootenv_close(env);
	return rc;
}

/* Open the bundle once; refuse one that someone else could change
 * between verification and the write. */
static enum su_err open_bundle(const char *path, int *fd,
			       struct su_error *err)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (*fd < 0)
		return su_error_set(err, SU_ERR_IO, "open %s: %m", path);
	if (fstat(*fd, &st) < 0)
		return su_error_set(err, SU_ERR_IO, "stat %s: %m", path);
	if (!S_ISREG(st.st_mode))
		return su_error_set(err, SU_ERR_IO, "%s is not a regular file",
				    path);
	if ((st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != 0 && st.st_gid != getegid()) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()))
		return su_error_set(err, SU_ERR_IO,
				    "%s can be written by other users (mode %04o, owner %u:%u); refusing to install what may change after it was verified",
				    path, (unsigned)(st.st_mode & 07777),
				    (unsigned)st.st_uid, (unsigned)st.st_gid);
	return SU_OK;
}

enum su_err install_bundle_file(const struct config *cfg, const char *path,
				bool force, install_progress_fn progress,
				void *ctx, struct su_error *err)
{
	struct su_error local;
	struct bundle_policy policy = {
		.compatible = cfg->compatible, .force = force,
	};
	struct keyring *keys = NULL;
	struct bundle_reader *br = NULL;
	char *running = NULL;
	enum su_err rc;
	int fd = -1;

	err = err ? err : &local;
	rc = keyring_load_dir(cfg->keys_dir, &keys, err);
	if (rc)
		return rc;
	if (!force && !(running = config_running_version(cfg, err))) {
		rc = err->code;
		goto out;
	}
	policy.keys = keys;
	policy.current_version = running;
	if ((rc = open_bundle(path, &fd, err)))
		goto out;
	rc = bundle_verify_fd(fd, path, &policy, &br, err);
	if (!rc)
		rc = install_verified(cfg, path, fd, br, progress, ctx, err);
out:
	if (fd >= 0)
		close(fd);
	bundle_reader_free(br);
	free(running);
	keyring_free(keys);
	return rc;
}

enum su_err install_mark_good(const struct config *cfg, struct su_error *err)
{
	struct bootenv *env;
	enum su_err rc;

	rc = bootenv_open(cfg->fw_env_config, &env, err);
	if (rc)
		return rc;
	rc = bootenv_set(env, cfg->upgrade_available_var, NULL, err);
	rc = rc ? rc : bootenv_set(env, cfg->bootcount_var, "0", err);
	rc = rc ? rc : bootenv_commit(env, err);
	bootenv_close(env);
	return rc;
}
