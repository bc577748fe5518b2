/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tar_stream on arbitrary bytes. The first byte says how many of the
 * following bytes give chunk sizes (low 3 bits; 0 = feed in one piece)
 * and whether to fix up header checksums (bit 3), so the fuzzer gets past
 * them to the extended headers. Fed in chunks and in one piece, the input
 * must give the same events and the same result, data must never pass a
 * member's size, and an error must stick.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tar_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	uint64_t hash;		/* FNV-1a over every event */
	uint64_t left;		/* data the open member still owes */
	bool open;
};

static void mix(struct trace *t, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		t->hash = (t->hash ^ b[i]) * 0x100000001b3;
}

static enum su_err on_member(void *ctx, const struct tar_member *m,
			     struct su_error *err)
{
	struct trace *t = ctx;
	size_t n = strnlen(m->name, sizeof(m->name));

	if (t->open || n == sizeof(m->name))
		abort();
	mix(t, m->name, n + 1);
	mix(t, &m->type, 1);
	mix(t, &m->size, sizeof(m->size));
	mix(t, &m->offset, sizeof(m->offset));
	t->left = m->size;
	t->open = true;
	/* exercise a callback refusing, as the bundle reader does */
	if (m->type == 'F')
		return su_error_set(err, SU_ERR_UNEXPECTED_MEMBER, "refused");
	return SU_OK;
}

static enum su_err on_data(void *ctx, const void *buf, size_t len,
			   struct su_error *err)
{
	struct trace *t = ctx;

	(void)err;
	if (!t->open || !len || len > t->left)
		abort();
	mix(t, buf, len);
	t->left -= len;
	return SU_OK;
}

static enum su_err on_end(void *ctx, struct su_error *err)
{
	struct trace *t = ctx;

	(void)err;
	if (!t->open || t->left)
		abort();
	t->open = false;
	mix(t, "end", 3);
	return SU_OK;
}

static const struct tar_stream_ops ops = {
	.member = on_member,
	.data = on_data,
	.member_end = on_end,
};

static void fix_checksums(uint8_t *buf, size_t len)
{
	for (size_t off = 0; off + TAR_BLOCK <= len; off += TAR_BLOCK) {
		uint8_t *h = buf + off;
		unsigned sum = 0;

		memset(h + 148, ' ', 8);
		for (size_t i = 0; i < TAR_BLOCK; i++)
			sum += h[i];
		if (sum == 8 * ' ')	/* leave zero blocks alone */
			memset(h + 148, 0, 8);
		else
			snprintf((char *)h + 148, 8, "%06o", sum);
	}
}

static enum su_err run(const uint8_t *buf, size_t len, const uint8_t *sizes,
		       size_t n_sizes, struct trace *t, struct su_error *err)
{
	struct tar_stream *ts = tar_stream_new(&ops, t);
	enum su_err rc = SU_OK;
	struct su_error again;
	size_t pos = 0;

	if (!ts)
		abort();
	for (size_t i = 0; pos < len && rc == SU_OK; i++) {
		size_t n = len - pos;

		if (n_sizes) {
			uint8_t b = sizes[i % n_sizes];
			size_t want = 1 + (size_t)b * b / 8;

			n = want < n ? want : n;
		}
		rc = tar_stream_feed(ts, buf + pos, n, err);
		pos += n;
	}
	if (rc == SU_OK)
		rc = tar_stream_finish(ts, err);
	if (tar_stream_offset(ts) > len)
		abort();
	if (rc != SU_OK) {
		if (err->code != rc || !err->message[0])
			abort();
		if (tar_stream_feed(ts, buf, len ? 1 : 0, &again) != rc ||
		    tar_stream_finish(ts, &again) != rc ||
		    strcmp(again.message, err->message))
			abort();
	}
	tar_stream_free(ts);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace chunked = { 0 }, whole = { 0 };
	struct su_error err_chunked, err_whole;
	size_t n_sizes;
	uint8_t *tar;
	enum su_err rc;

	if (!size)
		return 0;
	n_sizes = data[0] & 7;
	if (n_sizes >= size)
		return 0;
	size -= 1 + n_sizes;
	tar = malloc(size ? size : 1);
	if (!tar)
		abort();
	memcpy(tar, data + 1 + n_sizes, size);
	if (data[0] & 8)
		fix_checksums(tar, size);

	rc = run(tar, size, data + 1, n_sizes, &chunked, &err_chunked);
	if (run(tar, size, NULL, 0, &whole, &err_whole) != rc ||
	    chunked.hash != whole.hash ||
	    (rc && strcmp(err_chunked.message, err_whole.message)))
		abort();
	free(tar);
	return 0;
}
