/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_ERROR_H
#define SU_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Error codes shared by the library, the tools and the HTTP API.
 * su_err_name() gives the exact string used in API answers and by
 * `sysupgrade-bundle verify`, so the two always agree.
 */
enum su_err {
	SU_OK = 0,
	SU_ERR_UNAUTHORIZED,
	SU_ERR_BUSY,
	SU_ERR_NOTHING_STAGED,
	SU_ERR_REBOOT_PENDING,	/* an install waits for its reboot */
	SU_ERR_NO_MEMORY,	/* the handover does not fit in RAM */
	SU_ERR_TOO_LARGE,
	SU_ERR_NO_SPACE,
	SU_ERR_BAD_ARCHIVE,
	SU_ERR_BAD_MANIFEST,
	SU_ERR_BAD_SIGNATURE,
	SU_ERR_UNTRUSTED_KEY,
	SU_ERR_INCOMPATIBLE,
	SU_ERR_DOWNGRADE,
	SU_ERR_HASH_MISMATCH,
	SU_ERR_SIZE_MISMATCH,
	SU_ERR_MISSING_PAYLOAD,
	SU_ERR_UNEXPECTED_MEMBER,
	SU_ERR_UNKNOWN_TARGET,
	SU_ERR_WRITE_FAILED,
	SU_ERR_BAD_REQUEST,
	SU_ERR_IO,		/* local I/O: reading a file, staging */
	SU_ERR_NOMEM,
	SU_ERR_CONFIG,		/* device configuration, keys directory */
	SU_ERR_INTERNAL,
	SU_ERR_COUNT
};

/*
 * An error as a value: the code, an optional finer-grained detail
 * (a static string such as "duplicate_file", or NULL) and a sentence for
 * humans that says what failed, on which object, and why.
 */
struct su_error {
	enum su_err code;
	const char *detail;
	char message[512];
};

/* The API name of @code, e.g. "bad_signature". Never NULL. */
const char *su_err_name(enum su_err code);

/* Reverse of su_err_name(); SU_ERR_COUNT when unknown. */
enum su_err su_err_from_name(const char *name);

/*
 * Fill @e (which may be NULL) and return @code, so callers can write
 * `return su_error_set(err, SU_ERR_IO, "open %s: %m", path);`.
 * The message is formatted with printf rules; %m works because errno is
 * saved first.
 */
enum su_err su_error_set(struct su_error *e, enum su_err code,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* As su_error_set(), also recording a detail code. */
enum su_err su_error_setd(struct su_error *e, enum su_err code,
			  const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reset @e to SU_OK with an empty message. */
void su_error_clear(struct su_error *e);

/*
 * @s (@len bytes, NULs included) as it may appear in a message, so that
 * no signed but hostile string (a tar member's name, a manifest value)
 * can forge or colour log lines: printable ASCII as it is, a backslash
 * as \\, any other byte as \n, \r, \t or \xHH; at most
 * @max bytes of @s, then "..." if it is longer. @buf holds
 * SU_SHOWN_SIZE(@max) bytes. Returns @buf.
 */
#define SU_SHOWN_SIZE(max)	(4 * (max) + 4)
const char *su_shown(char *buf, size_t max, const char *s, size_t len);

#endif
