/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static const char *const names[SU_ERR_COUNT] = {
	[SU_OK] = "ok",
	[SU_ERR_UNAUTHORIZED] = "unauthorized",
	[SU_ERR_BUSY] = "busy",
	[SU_ERR_NOTHING_STAGED] = "nothing_staged",
	[SU_ERR_REBOOT_PENDING] = "reboot_pending",
	[SU_ERR_NO_MEMORY] = "no_memory",
	[SU_ERR_TOO_LARGE] = "too_large",
	[SU_ERR_NO_SPACE] = "no_space",
	[SU_ERR_BAD_ARCHIVE] = "bad_archive",
	[SU_ERR_BAD_MANIFEST] = "bad_manifest",
	[SU_ERR_BAD_SIGNATURE] = "bad_signature",
	[SU_ERR_UNTRUSTED_KEY] = "untrusted_key",
	[SU_ERR_INCOMPATIBLE] = "incompatible",
	[SU_ERR_DOWNGRADE] = "downgrade",
	[SU_ERR_HASH_MISMATCH] = "hash_mismatch",
	[SU_ERR_SIZE_MISMATCH] = "size_mismatch",
	[SU_ERR_MISSING_PAYLOAD] = "missing_payload",
	[SU_ERR_UNEXPECTED_MEMBER] = "unexpected_member",
	[SU_ERR_UNKNOWN_TARGET] = "unknown_target",
	[SU_ERR_WRITE_FAILED] = "write_failed",
	[SU_ERR_BAD_REQUEST] = "bad_request",
	[SU_ERR_IO] = "io_error",
	[SU_ERR_NOMEM] = "out_of_memory",
	[SU_ERR_CONFIG] = "config_error",
	[SU_ERR_INTERNAL] = "internal_error",
};

const char *su_err_name(enum su_err code)
{
	if ((unsigned)code >= SU_ERR_COUNT)
		return "internal_error";
	return names[code];
}

enum su_err su_err_from_name(const char *name)
{
	for (int i = 0; i < SU_ERR_COUNT; i++)
		if (!strcmp(names[i], name))
			return i;
	return SU_ERR_COUNT;
}

static enum su_err vset(struct su_error *e, enum su_err code,
			const char *detail, const char *fmt, va_list ap)
{
	if (!e)
		return code;
	e->code = code;
	e->detail = detail;
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	return code;
}

enum su_err su_error_set(struct su_error *e, enum su_err code,
			 const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	errno = saved;
	vset(e, code, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
	return code;
}

enum su_err su_error_setd(struct su_error *e, enum su_err code,
			  const char *detail, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	errno = saved;
	vset(e, code, detail, fmt, ap);
	va_end(ap);
	errno = saved;
	return code;
}

void su_error_clear(struct su_error *e)
{
	if (!e)
		return;
	e->code = SU_OK;
	e->detail = NULL;
	e->message[0] = '\0';
}

/* The escape of byte @c into @out (4 bytes), and its length. */
static size_t escape(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";

	if (c >= 0x20 && c < 0x7f && c != '\\') {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '\\';
	switch (c) {
	case '\\': out[1] = '\\'; return 2;
	case '\n': out[1] = 'n'; return 2;
	case '\r': out[1] = 'r'; return 2;
	case '\t': out[1] = 't'; return 2;
	}
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

const char *su_shown(char *buf, size_t max, const char *s, size_t len)
{
	size_t n = len < max ? len : max, o = 0;

	for (size_t i = 0; i < n; i++)
		o += escape((unsigned char)s[i], buf + o);
	strcpy(buf + o, len > n ? "..." : "");
	return buf;
}
