/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_DECODER_MEM_H
#define SU_DECODER_MEM_H

#include <stdint.h>

#include "manifest.h"

/*
 * The RAM a payload's decompressor needs, read off the stream's own
 * header: the xz LZMA2 dictionary, the zstd frame's window (a stream
 * made with `zstd --long` or `xz -9` needs 64 MiB or more, gzip 32 KiB).
 * Stage 1's admission adds it to what stage 2 needs, since stage 2
 * decompresses from the ramfs with nothing else to take memory from.
 *
 * decoder_mem_header(): @hdr holds the first @len bytes of a payload of
 * compression @c. A header it cannot read (too short, not the format,
 * an xz stream without blocks) gives the format's usual figure
 * (DECODER_MEM_XZ_DEFAULT, DECODER_MEM_ZSTD_DEFAULT): the install then
 * fails on the stream itself, and admission should not refuse first.
 * decoder_mem_payload(): the same for the payload at @offset of @fd;
 * a failed read gives the usual figure too.
 */
#define DECODER_MEM_HEADER	64		/* bytes it reads */
#define DECODER_MEM_GZIP	(48 * 1024)	/* zlib: 32 KiB window + state */
#define DECODER_MEM_XZ_DEFAULT	(8u << 20)	/* xz -6, the default preset */
#define DECODER_MEM_ZSTD_DEFAULT (8u << 20)	/* zstd -19 */

uint64_t decoder_mem_header(enum compression c, const uint8_t *hdr,
			    size_t len);
uint64_t decoder_mem_payload(enum compression c, int fd, uint64_t offset);

#endif
