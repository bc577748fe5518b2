// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Decoder memory from the xz and zstd stream headers (decoder_mem.h).
 * Formats: xz-file-format-1.2.0 (stream header, block header, LZMA2
 * filter properties) and RFC 8878 §3.1.1.1 (zstd frame header).
 */
#include <string.h>
#include <unistd.h>

#include "decoder_mem.h"

/* What liblzma and libzstd allocate beside the window: their contexts
 * and the block buffers (zstd: 2 x 128 KiB), with room to spare. */
#define XZ_OVERHEAD	(64 * 1024)
#define ZSTD_OVERHEAD	(384 * 1024)

/* A multibyte integer of the xz format: 7 bits a byte, at most 9. */
static int xz_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
	*v = 0;
	for (unsigned i = 0; i < 9 && *at < len; i++) {
		uint8_t b = p[(*at)++];

		*v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* The dictionary of the first block's LZMA2 filter (the last filter of
 * the chain; BCJ or delta filters may come before it). */
static uint64_t xz_mem(const uint8_t *p, size_t len)
{
	static const uint8_t magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	size_t at = 14;
	uint64_t v, id = 0, props = 0;
	unsigned filters, bits;

	if (len < 14 || memcmp(p, magic, sizeof(magic)) || !p[12])
		return DECODER_MEM_XZ_DEFAULT;	/* p[12] == 0: the index, no block */
	filters = (p[13] & 3) + 1;
	if ((p[13] & 0x40 && xz_varint(p, len, &at, &v)) ||
	    (p[13] & 0x80 && xz_varint(p, len, &at, &v)))
		return DECODER_MEM_XZ_DEFAULT;
	for (unsigned i = 0; i < filters; i++) {
		if (xz_varint(p, len, &at, &id) || xz_varint(p, len, &at, &props) ||
		    props > len - at)
			return DECODER_MEM_XZ_DEFAULT;
		at += props;
	}
	if (id != 0x21 || props != 1)	/* LZMA2, one property byte */
		return DECODER_MEM_XZ_DEFAULT;
	bits = p[at - 1] & 0x3f;
	if (bits > 40)
		return DECODER_MEM_XZ_DEFAULT;
	if (bits == 40)
		return UINT32_MAX + (uint64_t)XZ_OVERHEAD;
	return ((uint64_t)(2 | (bits & 1)) << (bits / 2 + 11)) + XZ_OVERHEAD;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The first frame's window; a single-segment frame's window is its
 * content size. */
static uint64_t zstd_mem(const uint8_t *p, size_t len)
{
	static const unsigned did_size[4] = { 0, 1, 2, 4 };
	unsigned fhd, fcs_size, exp;
	uint64_t base, fcs;

	if (len < 6 || le(p, 4) != 0xfd2fb528)
		return DECODER_MEM_ZSTD_DEFAULT;
	fhd = p[4];
	if (!(fhd & 0x20)) {
		exp = p[5] >> 3;
		base = (uint64_t)1 << (10 + exp);
		return base + base / 8 * (p[5] & 7) + ZSTD_OVERHEAD;
	}
	fcs_size = (unsigned[]){ 1, 2, 4, 8 }[fhd >> 6];
	if (5 + did_size[fhd & 3] + fcs_size > len)
		return DECODER_MEM_ZSTD_DEFAULT;
	fcs = le(p + 5 + did_size[fhd & 3], fcs_size);
	if (fcs_size == 2)
		fcs += 256;
	return fcs + ZSTD_OVERHEAD;
}

uint64_t decoder_mem_header(enum compression c, const uint8_t *hdr,
			    size_t len)
{
	switch (c) {
	case COMPRESSION_GZIP:
		return DECODER_MEM_GZIP;
	case COMPRESSION_XZ:
		return xz_mem(hdr, len);
	case COMPRESSION_ZSTD:
		return zstd_mem(hdr, len);
	default:
		return 0;
	}
}

uint64_t decoder_mem_payload(enum compression c, int fd, uint64_t offset)
{
	uint8_t hdr[DECODER_MEM_HEADER];
	ssize_t n = 0;

	if (c == COMPRESSION_XZ || c == COMPRESSION_ZSTD)
		n = pread(fd, hdr, sizeof(hdr), (off_t)offset);
	return decoder_mem_header(c, hdr, n > 0 ? (size_t)n : 0);
}
