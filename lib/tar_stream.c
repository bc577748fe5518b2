/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tar_stream.h"

/* Fields of a header block (POSIX ustar layout; GNU and v7 share it). */
#define H_NAME		0
#define H_NAME_LEN	100
#define H_SIZE		124
#define H_SIZE_LEN	12
#define H_CHKSUM	148
#define H_CHKSUM_LEN	8
#define H_TYPE		156
#define H_MAGIC		257
#define H_PREFIX	345
#define H_PREFIX_LEN	155

/* Larger sizes are refused so that offsets can never overflow. */
#define SIZE_LIMIT	(UINT64_C(1) << 62)

enum tar_state {
	ST_HEADER,		/* collecting a header block in blk */
	ST_EXT,			/* collecting a pax or GNU record in ext */
	ST_DATA,		/* handing member data to ops->data */
	ST_PAD,			/* skipping to the next block boundary */
	ST_END,			/* after the end marker: zeros only */
};

struct tar_stream {
	const struct tar_stream_ops *ops;
	void *ctx;
	enum tar_state state;
	uint64_t offset;		/* bytes consumed */
	uint64_t hdr_offset;		/* start of the last header block */
	uint64_t left;			/* data or padding bytes still due */
	unsigned char blk[TAR_BLOCK];
	size_t blk_len;
	bool zero_seen;			/* the previous block was all zeros */
	bool in_member;			/* PAD follows cur's data */

	/* The record being collected, and what it left for the next member. */
	char ext_type;
	size_t ext_len, ext_got;
	bool ext_pending;
	bool has_long_name, has_pax_path, has_pax_size;
	uint64_t pax_size;
	char long_name[TAR_NAME_MAX];
	char pax_path[TAR_NAME_MAX];

	struct tar_member cur;
	enum su_err failed;		/* first error, repeated from then on */
	struct su_error error;
	unsigned char ext[TAR_EXT_MAX];
};

#define bad(ts, ...) su_error_set(&(ts)->error, SU_ERR_BAD_ARCHIVE, __VA_ARGS__)

static const struct tar_stream_ops no_ops;

struct tar_stream *tar_stream_new(const struct tar_stream_ops *ops, void *ctx)
{
	struct tar_stream *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	ts->ops = ops ? ops : &no_ops;
	ts->ctx = ctx;
	return ts;
}

void tar_stream_free(struct tar_stream *ts)
{
	free(ts);
}

uint64_t tar_stream_offset(const struct tar_stream *ts)
{
	return ts->offset;
}

static size_t field_len(const unsigned char *f, size_t max)
{
	const unsigned char *nul = memchr(f, '\0', max);

	return nul ? (size_t)(nul - f) : max;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Octal, maybe after leading spaces, ended by NUL, space or the field end. */
static int parse_octal(const unsigned char *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0, start;

	while (i < len && f[i] == ' ')
		i++;
	for (start = i; i < len && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (f[i] - '0');	/* 12 digits fit easily */
	if (i == start || (i < len && f[i] != ' ' && f[i] != '\0'))
		return -1;
	*out = v;
	return 0;
}

/* Octal or GNU base-256 (high bit of the first byte set; bit 6 = sign). */
static int parse_size(const unsigned char *f, uint64_t *out)
{
	uint64_t v;

	if (!(f[0] & 0x80)) {
		if (parse_octal(f, H_SIZE_LEN, &v))
			return -1;
	} else {
		if (f[0] & 0x40)
			return -1;
		v = f[0] & 0x3f;
		for (size_t i = 1; i < H_SIZE_LEN; i++) {
			if (v > SIZE_LIMIT >> 8)
				return -1;
			v = v << 8 | f[i];
		}
	}
	if (v > SIZE_LIMIT)
		return -1;
	*out = v;
	return 0;
}

/* Old tars summed signed chars; accept either sum. */
static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	int64_t s = 0;
	uint64_t u = 0;

	if (parse_octal(h + H_CHKSUM, H_CHKSUM_LEN, &want))
		return false;
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		unsigned char c = h[i];

		if (i >= H_CHKSUM && i < H_CHKSUM + H_CHKSUM_LEN)
			c = ' ';
		u += c;
		s += (signed char)c;
	}
	return want == u || (s >= 0 && want == (uint64_t)s);
}

/* Only POSIX ustar has a prefix field; GNU keeps times in that space. */
static void header_name(const unsigned char *h, char *out)
{
	size_t n = field_len(h + H_NAME, H_NAME_LEN), p = 0;

	if (!memcmp(h + H_MAGIC, "ustar\0" "00", 8)) {
		p = field_len(h + H_PREFIX, H_PREFIX_LEN);
		memcpy(out, h + H_PREFIX, p);
		if (p)
			out[p++] = '/';
	}
	memcpy(out + p, h + H_NAME, n);
	out[p + n] = '\0';
}

/*
 * Callbacks fill ts->error themselves; make sure it carries the code they
 * returned even when they did not, so the stored error is consistent.
 */
static enum su_err callback_done(struct tar_stream *ts, enum su_err rc)
{
	if (rc == SU_OK || ts->error.code == rc)
		return rc;
	ts->error.code = rc;
	if (!ts->error.message[0])
		snprintf(ts->error.message, sizeof(ts->error.message),
			 "tar member callback failed at offset %" PRIu64,
			 ts->offset);
	return rc;
}

static enum su_err end_member(struct tar_stream *ts)
{
	enum su_err rc = SU_OK;

	if (ts->ops->member_end) {
		su_error_clear(&ts->error);
		rc = ts->ops->member_end(ts->ctx, &ts->error);
		rc = callback_done(ts, rc);
	}
	ts->left = -ts->cur.size % TAR_BLOCK;
	ts->state = ts->left ? ST_PAD : ST_HEADER;
	ts->in_member = ts->left > 0;
	return rc;
}

static enum su_err start_member(struct tar_stream *ts, char type,
				uint64_t size)
{
	struct tar_member *m = &ts->cur;
	enum su_err rc = SU_OK;

	if (ts->has_pax_path)
		strcpy(m->name, ts->pax_path);
	else if (ts->has_long_name)
		strcpy(m->name, ts->long_name);
	else
		header_name(ts->blk, m->name);
	m->type = type;
	m->size = ts->has_pax_size ? ts->pax_size : size;
	m->offset = ts->offset;
	ts->ext_pending = false;
	ts->has_pax_path = ts->has_long_name = ts->has_pax_size = false;

	ts->left = m->size;
	ts->state = ST_DATA;
	if (ts->ops->member) {
		su_error_clear(&ts->error);
		rc = ts->ops->member(ts->ctx, m, &ts->error);
		rc = callback_done(ts, rc);
	}
	if (rc == SU_OK && !m->size)
		rc = end_member(ts);
	return rc;
}

static bool key_is(const char *key, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(key, want, len);
}

static enum su_err pax_value(struct tar_stream *ts, const char *key,
			     size_t klen, const char *val, size_t vlen)
{
	uint64_t v = 0;

	/* An empty value deletes the keyword (POSIX pax). */
	if (key_is(key, klen, "path")) {
		if (memchr(val, '\0', vlen))
			return bad(ts, "pax header at offset %" PRIu64 ": NUL byte in path",
				   ts->hdr_offset);
		if (vlen >= TAR_NAME_MAX)
			return bad(ts, "pax header at offset %" PRIu64 ": path of %zu bytes is longer than %d",
				   ts->hdr_offset, vlen, TAR_NAME_MAX - 1);
		memcpy(ts->pax_path, val, vlen);
		ts->pax_path[vlen] = '\0';
		ts->has_pax_path = vlen > 0;
	} else if (key_is(key, klen, "size")) {
		for (size_t i = 0; i < vlen; i++) {
			if (val[i] < '0' || val[i] > '9' || v > SIZE_LIMIT / 10)
				return bad(ts, "pax header at offset %" PRIu64 ": bad size \"%.*s\"",
					   ts->hdr_offset,
					   (int)(vlen > 40 ? 40 : vlen), val);
			v = v * 10 + (val[i] - '0');
		}
		if (v > SIZE_LIMIT)
			return bad(ts, "pax header at offset %" PRIu64 ": size %" PRIu64 " too large",
				   ts->hdr_offset, v);
		ts->pax_size = v;
		ts->has_pax_size = vlen > 0;
	}
	return SU_OK;
}

/* Records are "LEN key=value\n", LEN counting the whole record. */
static enum su_err parse_pax(struct tar_stream *ts, bool per_file)
{
	const char *text = (const char *)ts->ext, *p = text;
	const char *end = text + ts->ext_len;
	enum su_err rc;

	while (p < end) {
		size_t avail = end - p, at = p - text, len = 0, i = 0;
		const char *key, *eq, *nl;

		for (; i < avail && p[i] >= '0' && p[i] <= '9'; i++) {
			len = len * 10 + (p[i] - '0');
			if (len > avail)
				break;
		}
		if (!i || len > avail || len < i + 3 || p[i] != ' ')
			return bad(ts, "pax header at offset %" PRIu64 ": bad record length at byte %zu",
				   ts->hdr_offset, at);
		key = p + i + 1;
		nl = p + len - 1;
		eq = memchr(key, '=', nl - key);
		if (*nl != '\n' || !eq || eq == key ||
		    memchr(key, '\0', eq - key))
			return bad(ts, "pax header at offset %" PRIu64 ": malformed record at byte %zu",
				   ts->hdr_offset, at);
		if (per_file) {
			rc = pax_value(ts, key, eq - key, eq + 1, nl - eq - 1);
			if (rc)
				return rc;
		}
		p += len;
	}
	return SU_OK;
}

static enum su_err long_name(struct tar_stream *ts)
{
	size_t n = field_len(ts->ext, ts->ext_len);

	if (!n)
		return bad(ts, "GNU long name at offset %" PRIu64 " is empty",
			   ts->hdr_offset);
	if (n >= TAR_NAME_MAX)
		return bad(ts, "GNU long name at offset %" PRIu64 " is %zu bytes, longer than %d",
			   ts->hdr_offset, n, TAR_NAME_MAX - 1);
	memcpy(ts->long_name, ts->ext, n);
	ts->long_name[n] = '\0';
	ts->has_long_name = true;
	return SU_OK;
}

static enum su_err end_ext(struct tar_stream *ts)
{
	enum su_err rc = SU_OK;

	switch (ts->ext_type) {
	case 'x':
		rc = parse_pax(ts, true);
		break;
	case 'g':
		rc = parse_pax(ts, false);
		break;
	case 'L':
		rc = long_name(ts);
		break;
	}
	ts->ext_pending |= ts->ext_type != 'g';
	ts->in_member = false;
	ts->left = -(uint64_t)ts->ext_len % TAR_BLOCK;
	ts->state = ts->left ? ST_PAD : ST_HEADER;
	return rc;
}

static enum su_err start_ext(struct tar_stream *ts, char type, uint64_t size)
{
	if (size > TAR_EXT_MAX)
		return bad(ts, "extended header '%c' at offset %" PRIu64 " is %" PRIu64 " bytes, more than %d",
			   type, ts->hdr_offset, size, TAR_EXT_MAX);
	ts->ext_type = type;
	ts->ext_len = size;
	ts->ext_got = 0;
	ts->state = ST_EXT;
	return size ? SU_OK : end_ext(ts);
}

static enum su_err zero_block(struct tar_stream *ts)
{
	if (ts->ext_pending)
		return bad(ts, "extended header not followed by a member: zero block at offset %" PRIu64,
			   ts->hdr_offset);
	if (ts->zero_seen)
		ts->state = ST_END;
	ts->zero_seen = true;
	return SU_OK;
}

static enum su_err parse_header(struct tar_stream *ts)
{
	const unsigned char *h = ts->blk;
	char type = h[H_TYPE] ? (char)h[H_TYPE] : '0';
	uint64_t size;

	if (all_zero(h, TAR_BLOCK))
		return zero_block(ts);
	if (ts->zero_seen)
		return bad(ts, "lone zero block followed by a header at offset %" PRIu64,
			   ts->hdr_offset);
	if (!checksum_ok(h))
		return bad(ts, "bad header checksum at offset %" PRIu64,
			   ts->hdr_offset);
	if (parse_size(h + H_SIZE, &size))
		return bad(ts, "bad size field in header at offset %" PRIu64,
			   ts->hdr_offset);
	switch (type) {
	case 'x':
	case 'g':
	case 'L':
	case 'K':
		return start_ext(ts, type, size);
	}
	return start_member(ts, type, size);
}

/* Each feed_* step consumes part of *p and advances it. */
static void advance(struct tar_stream *ts, const unsigned char **p,
		    size_t *len, size_t n)
{
	*p += n;
	*len -= n;
	ts->offset += n;
}

static size_t min_size(size_t len, uint64_t want)
{
	return want < len ? (size_t)want : len;
}

static enum su_err feed_header(struct tar_stream *ts, const unsigned char **p,
			       size_t *len)
{
	size_t n = min_size(*len, TAR_BLOCK - ts->blk_len);

	memcpy(ts->blk + ts->blk_len, *p, n);
	ts->blk_len += n;
	advance(ts, p, len, n);
	if (ts->blk_len < TAR_BLOCK)
		return SU_OK;
	ts->blk_len = 0;
	ts->hdr_offset = ts->offset - TAR_BLOCK;
	return parse_header(ts);
}

static enum su_err feed_ext(struct tar_stream *ts, const unsigned char **p,
			    size_t *len)
{
	size_t n = min_size(*len, ts->ext_len - ts->ext_got);

	memcpy(ts->ext + ts->ext_got, *p, n);
	ts->ext_got += n;
	advance(ts, p, len, n);
	return ts->ext_got < ts->ext_len ? SU_OK : end_ext(ts);
}

static enum su_err feed_data(struct tar_stream *ts, const unsigned char **p,
			     size_t *len)
{
	size_t n = min_size(*len, ts->left);
	const unsigned char *buf = *p;
	enum su_err rc = SU_OK;

	advance(ts, p, len, n);
	ts->left -= n;
	if (ts->ops->data) {
		su_error_clear(&ts->error);
		rc = ts->ops->data(ts->ctx, buf, n, &ts->error);
		rc = callback_done(ts, rc);
	}
	if (rc == SU_OK && !ts->left)
		rc = end_member(ts);
	return rc;
}

static enum su_err feed_pad(struct tar_stream *ts, const unsigned char **p,
			    size_t *len)
{
	size_t n = min_size(*len, ts->left);

	advance(ts, p, len, n);
	ts->left -= n;
	if (!ts->left) {
		ts->state = ST_HEADER;
		ts->in_member = false;
	}
	return SU_OK;
}

static enum su_err feed_end(struct tar_stream *ts, const unsigned char **p,
			    size_t *len)
{
	size_t n = 0;

	while (n < *len && !(*p)[n])
		n++;
	advance(ts, p, len, n);
	if (*len)
		return bad(ts, "data after end of archive at offset %" PRIu64,
			   ts->offset);
	return SU_OK;
}

typedef enum su_err (*feed_fn)(struct tar_stream *ts,
			       const unsigned char **p, size_t *len);

static const feed_fn feeders[] = {
	[ST_HEADER] = feed_header,
	[ST_EXT] = feed_ext,
	[ST_DATA] = feed_data,
	[ST_PAD] = feed_pad,
	[ST_END] = feed_end,
};

static enum su_err fail(struct tar_stream *ts, enum su_err rc,
			struct su_error *err)
{
	if (!ts->failed)
		ts->failed = rc;
	if (err)
		*err = ts->error;
	return ts->failed;
}

enum su_err tar_stream_feed(struct tar_stream *ts, const void *buf, size_t len,
			    struct su_error *err)
{
	const unsigned char *p = buf;
	enum su_err rc = SU_OK;

	if (ts->failed)
		return fail(ts, ts->failed, err);
	while (len && rc == SU_OK)
		rc = feeders[ts->state](ts, &p, &len);
	return rc ? fail(ts, rc, err) : SU_OK;
}

static enum su_err truncated(struct tar_stream *ts)
{
	const char *where = "before the end-of-archive marker";

	if (ts->state == ST_DATA)
		return bad(ts, "truncated: archive ends at offset %" PRIu64 " inside member '%s'",
			   ts->offset, ts->cur.name);
	if (ts->in_member)
		return bad(ts, "truncated: archive ends at offset %" PRIu64 " in the padding after member '%s'",
			   ts->offset, ts->cur.name);
	if (ts->state == ST_EXT)
		where = "inside an extended header";
	else if (ts->state == ST_HEADER && ts->blk_len)
		where = "inside a header block";
	return bad(ts, "truncated: archive ends at offset %" PRIu64 " %s",
		   ts->offset, where);
}

enum su_err tar_stream_finish(struct tar_stream *ts, struct su_error *err)
{
	if (ts->failed)
		return fail(ts, ts->failed, err);
	if (ts->state == ST_END)
		return SU_OK;
	return fail(ts, truncated(ts), err);
}
