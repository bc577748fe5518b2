/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_INSTALL_H
#define SU_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "manifest.h"

struct backend_ops;
struct bundle_payload;
struct bootenv;

/*
 * The install engine: from a verified, staged bundle to written flash.
 *
 * install_plan_build() maps every image to its config target and backend
 * and, for A/B targets, picks the inactive slot from the boot environment.
 * install_run() then, for each image in manifest order: reads the stored
 * payload from the staged bundle, hashes those bytes (hash-on-write: what
 * is written is what was verified), decompresses (libarchive; output past
 * installed_size is an error the moment it happens), hands the bytes to
 * the backend, holding the last block back until the hash of the stored
 * bytes has passed (a UBI volume update completes with its final byte),
 * and runs the backend's read-back when the target asks for it.
 *
 * Boot environment, when the caller passes one (install_bundle_file()
 * opens it when any target is A/B or the manifest sets bootenv variables):
 *   before the first write:   transaction_var = <bundle version>
 *   after every image passed: each A/B slot_var flipped, manifest bootenv
 *                             variables, upgrade_available_var = 1,
 *                             bootcount_var = 0, transaction_var unset,
 *                             and with plan->record a success record
 *                             (lib/last_install.h, bootenv mode) —
 *                             all in one bootenv_commit(); the bundle's
 *                             variables cannot override the others.
 * On a failure the engine sees (a write error, a hash or size mismatch)
 * the slot variables are untouched, so the old slot still boots, and the
 * marker goes back to its old value: nothing was committed. In place
 * (plan->in_place) the marker stays, since the running system may be
 * half-written. An update cut short by power loss leaves the marker set,
 * so a bootloader or recovery can tell that it was interrupted.
 */

struct install_step {
	const struct manifest_image *image;
	const struct config_target *target;
	const char *device;		/* slot resolved */
	int slot;			/* 0 = a, 1 = b, -1 = single */
	const struct backend_ops *backend;
	uint64_t offset;		/* of the payload in the bundle file */
};

struct install_plan {
	const struct config *config;
	const struct manifest *manifest;
	char *bundle_path;
	int bundle_fd;			/* the bundle open, or -1: open bundle_path */
	struct install_step *steps;
	size_t n_steps;
	uint64_t total;			/* sum of installed sizes */
	bool in_place;			/* some target is in_use */
	/* Set by the caller: install_run() carries a success record in
	 * its final commit ([install] last_install = bootenv); see
	 * install_record() for the rest. False: no record, as before. */
	bool record;
};

struct install_progress {
	const char *image;		/* file name of the current image */
	size_t index, count;		/* image index (0-based) and count */
	uint64_t bytes, total;		/* of the current image (installed) */
	uint64_t all_bytes, all_total;	/* over every image */
	unsigned percent;		/* all_bytes * 100 / all_total */
	const char *phase;		/* "writing", "verifying", "bootenv" */
};

typedef void (*install_progress_fn)(void *ctx, const struct install_progress *p);

/*
 * Build the plan. @payloads comes from the bundle reader (offsets of
 * each image in @bundle_path). @env may be NULL when no target is A/B.
 * Errors: SU_ERR_UNKNOWN_TARGET (no such target in the config, or its
 * type differs from the image's), SU_ERR_CONFIG (no backend, A/B slot
 * variable unreadable or holding neither slot value).
 * Caller frees with install_plan_free().
 */
enum su_err install_plan_build(const struct config *cfg,
			       const struct manifest *m,
			       const struct bundle_payload *payloads,
			       const char *bundle_path,
			       struct bootenv *env,
			       struct install_plan **out,
			       struct su_error *err);
void install_plan_free(struct install_plan *plan);

/*
 * Write every image of @plan, then commit the boot environment (when @env
 * is not NULL). @progress may be NULL; it is called at most every 64 KiB
 * written and at each phase change.
 * Errors: SU_ERR_HASH_MISMATCH (staged payload changed since it was
 * verified), SU_ERR_SIZE_MISMATCH (decompressed length differs from
 * installed_size), SU_ERR_WRITE_FAILED (backend or read-back),
 * SU_ERR_IO (reading the staged bundle), SU_ERR_BAD_ARCHIVE (a payload
 * that is not exactly one layer of its declared compression); an
 * image's error names the image, its target and the device.
 */
enum su_err install_run(const struct install_plan *plan, struct bootenv *env,
			install_progress_fn progress, void *ctx,
			struct su_error *err);

/*
 * After install_run(@plan, @env, ...) ended, with the same @env still
 * open (or NULL): record its result for the next boot
 * (lib/last_install.h) where the final commit did not already carry it.
 * @failure is install_run()'s error, NULL for a success. A failure is
 * written in every mode (bootenv: @env is read again first, so nothing
 * uncommitted goes with it); a success in file mode, at @prefix (NULL:
 * "/") + PATH; a success in bootenv mode only when install_run() had no
 * @env or plan->record was not set. Errors: those of
 * last_install_write(); the install's own result stands either way.
 */
enum su_err install_record(const struct install_plan *plan,
			   struct bootenv *env, const char *prefix,
			   const struct su_error *failure,
			   struct su_error *err);

/*
 * Every image of @m names a target of @cfg that has the image's type:
 * the one rule, used when the manifest is verified, when a staged
 * bundle is restored and when an install is planned.
 * Errors: SU_ERR_UNKNOWN_TARGET naming the image, the target and @cfg.
 */
enum su_err install_check_targets(const struct config *cfg,
				  const struct manifest *m,
				  struct su_error *err);

/* True when installing @m touches the boot environment: an A/B target,
 * bootenv variables in the manifest, or, where the fw_env_config file
 * exists, any target not marked critical = no (its write is covered by
 * the transaction marker). */
bool install_needs_bootenv(const struct config *cfg, const struct manifest *m);

/*
 * `sysupgraded --install FILE`: verify the bundle file against the config
 * (keys, compatible, running version unless @force), build the plan and
 * run it. In-place targets are refused here (they need the handover).
 * The file is opened once, verified and installed from that one open
 * file, and refused when users other than its owner (root or us) can
 * write it: what was verified is what is written. Once the run began,
 * its result is recorded (install_record()); when the install worked
 * but that record could not be written, the record's error is returned,
 * its message saying that the install itself completed.
 */
enum su_err install_bundle_file(const struct config *cfg, const char *path,
				bool force, install_progress_fn progress,
				void *ctx, struct su_error *err);

/*
 * For unit tests only: make install_plan_build() look backends up with
 * @fn instead of backend_find(), so a test can plan onto a fake backend
 * without a device. NULL restores backend_find().
 */
void install_set_backend_lookup(const struct backend_ops *(*fn)(const char *name));

/* `sysupgraded --mark-good`: after a healthy boot, delete
 * upgrade_available_var and set bootcount_var to 0, in one commit
 * (RAUC's mark-good, Mender's commit). */
enum su_err install_mark_good(const struct config *cfg, struct su_error *err);

#endif
