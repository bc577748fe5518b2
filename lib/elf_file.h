/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_ELF_FILE_H
#define SU_ELF_FILE_H

#include <limits.h>
#include <stdbool.h>

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

#endif
