/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_LAST_INSTALL_H
#define SU_LAST_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

struct bootenv;

/*
 * The result of the last install, kept where the next boot can read it
 * ([install] last_install): a U-Boot variable (bootenv), a file
 * (file:/PATH) or nowhere (none). It is one compact JSON object, the
 * same text stored and served as "last_install" in /status and /info:
 *   {"version":"2.0.0","result":"success","error":"",
 *    "time":"2026-12-02T14:00:00Z"}
 * "result" is "success" or "failed"; "error" is "" on success, else
 * "<API error code>: <message>"; "time" is UTC, ISO 8601, to the second.
 */
struct last_install {
	char *version;
	bool ok;
	char *error;		/* "" on success */
	int64_t time;		/* unix seconds */
};

/* A stored error string is cut at this many bytes: a U-Boot environment
 * is small, and the record shares it with the boot variables. */
#define LAST_INSTALL_ERROR_MAX	256
/* A stored record longer than this is not one of ours. */
#define LAST_INSTALL_MAX	2048

enum last_install_mode {
	LAST_INSTALL_NONE,
	LAST_INSTALL_BOOTENV,
	LAST_INSTALL_FILE,
};

/*
 * Where @cfg keeps the record. [install] last_install unset means
 * bootenv where the fw_env_config file exists, else none. For
 * LAST_INSTALL_FILE, *@path (when @path is not NULL) is the absolute
 * PATH of "file:PATH", owned by @cfg.
 */
enum last_install_mode last_install_mode(const struct config *cfg,
					 const char **path);

/*
 * Fill @r for an install of @version that ended now: a success when
 * @failure is NULL, else failed with "<code>: <message>" of @failure
 * (cut to LAST_INSTALL_ERROR_MAX bytes). Free with last_install_free().
 * Errors: SU_ERR_NOMEM.
 */
enum su_err last_install_set(struct last_install *r, const char *version,
			     const struct su_error *failure,
			     struct su_error *err);

/* Free what @r holds and clear it; @r itself is the caller's. */
void last_install_free(struct last_install *r);

/* The JSON text of @r (malloc'd, caller frees), or NULL on ENOMEM. */
char *last_install_json(const struct last_install *r);

/*
 * Parse @len bytes of @text into @r. Unknown keys are ignored; the four
 * keys must be there with their types, "result" success or failed, and
 * "time" of the form above and a real date. Errors: SU_ERR_IO naming
 * what is wrong (@r is then empty), SU_ERR_NOMEM.
 */
enum su_err last_install_parse(const char *text, size_t len,
			       struct last_install *r, struct su_error *err);

/*
 * Store @r where @cfg says:
 *  - bootenv: set [install] last_install_var to the JSON and commit
 *    (with whatever else @env has staged). With @env NULL, the
 *    environment of fw_env_config is opened, written and closed here;
 *  - file:PATH: @prefix + PATH is replaced atomically (a temporary file
 *    beside it, fsync, rename, fsync of the directory), its missing
 *    parent directories made. @prefix NULL means "/" (stage 2 passes the
 *    mount point of the new root);
 *  - none: nothing.
 * Errors: SU_ERR_CONFIG (the environment cannot be opened or set),
 * SU_ERR_WRITE_FAILED (its store), SU_ERR_IO (the file), SU_ERR_NOMEM.
 */
enum su_err last_install_write(const struct config *cfg, struct bootenv *env,
			       const char *prefix,
			       const struct last_install *r,
			       struct su_error *err);

/*
 * In bootenv mode, only stage @r in @env (bootenv_set() without a
 * commit), so that the caller's next bootenv_commit() carries it; in
 * the other modes nothing. Errors: SU_ERR_CONFIG, SU_ERR_NOMEM.
 */
enum su_err last_install_stage(const struct config *cfg, struct bootenv *env,
			       const struct last_install *r,
			       struct su_error *err);

/*
 * Read the record @cfg says where to find (bootenv: opens and closes the
 * environment; file: PATH, without prefix). *@found is false, and
 * SU_OK returned, when there is none: mode none, the variable unset or
 * the file missing. Errors: SU_ERR_CONFIG (the environment cannot be
 * read), SU_ERR_IO (the file cannot be read, or the record is
 * malformed: the message says where it came from and what is wrong),
 * SU_ERR_NOMEM. Free @r with last_install_free() when found.
 */
enum su_err last_install_read(const struct config *cfg,
			      struct last_install *r, bool *found,
			      struct su_error *err);

#endif
