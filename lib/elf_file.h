/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_ELF_FILE_H
#define SU_ELF_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* The loading facts of one file, for the stage-2 closure. */
struct elf_file {
	bool is_elf;		/* starts with the ELF magic */
	bool dynamic;		/* has PT_DYNAMIC: needs a loader */
	char interp[PATH_MAX];	/* PT_INTERP (absolute), or "" */
	char soname[NAME_MAX + 1];	/* DT_SONAME (no '/'), or "" */
};

/*
 * Read @path's ELF header, program headers and dynamic section into
 * *@elf. A file that is not ELF is no error (is_elf false). Errors:
 * SU_ERR_IO when it cannot be opened, is ELF of another class or byte
 * order, its program headers are unreadable, or PT_INTERP is not an
 * absolute path. A DT_SONAME that cannot be read is left "".
 */
enum su_err elf_file_read(const char *path, struct elf_file *elf,
			  struct su_error *err);

/* A byte range [start, end) of a file. */
struct elf_range {
	uint64_t start, end;
};

/*
 * The parts of the ELF file open on @fd (@size bytes long) that its
 * loader reads or maps: the ELF header, the program header table and
 * the file bytes of every segment, each widened to whole @page (a power
 * of two) pages as mmap() maps them, sorted and merged; the rest
 * (section headers, symbol tables, debug info) is never read to run it.
 * *@out is malloc'd, *@n ranges long. Returns -1 with errno EINVAL when
 * @fd is not ELF of this machine's byte order, its headers are
 * unreadable or a segment reaches past @size; ENOMEM.
 */
int elf_file_ranges(int fd, uint64_t size, uint64_t page,
		    struct elf_range **out, size_t *n);

#endif
