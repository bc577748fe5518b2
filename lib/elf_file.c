/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an ELF file's program headers say about loading it: the
 * interpreter, whether it is dynamic, its DT_SONAME. 64- and 32-bit, in
 * this machine's byte order; only pread(), nothing is mapped or run.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_file.h"

#define SHOWN		160

static const char *shown(char *buf, const char *s)
{
	return su_shown(buf, SHOWN, s, strlen(s));
}

struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

/* *@table: the file bytes of the header and the program header table */
static int read_phdrs(int fd, bool is64, struct phdr **out, size_t *n,
		      uint64_t *table)
{
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	uint64_t phoff;
	size_t phnum, entsize, want = is64 ? sizeof(Elf64_Phdr) :
		sizeof(Elf32_Phdr);

	if (is64) {
		if (pread(fd, &e64, sizeof(e64), 0) != (ssize_t)sizeof(e64))
			return -1;
		phoff = e64.e_phoff;
		phnum = e64.e_phnum;
		entsize = e64.e_phentsize;
	} else {
		if (pread(fd, &e32, sizeof(e32), 0) != (ssize_t)sizeof(e32))
			return -1;
		phoff = e32.e_phoff;
		phnum = e32.e_phnum;
		entsize = e32.e_phentsize;
	}
	if (phnum > 1024 || (phnum && entsize != want) ||
	    phoff > UINT64_MAX - phnum * want)
		return -1;
	*table = phoff + phnum * want;
	if (*table < (is64 ? sizeof(e64) : sizeof(e32)))
		*table = is64 ? sizeof(e64) : sizeof(e32);
	*out = calloc(phnum ? phnum : 1, sizeof(**out));
	if (!*out)
		return -1;
	for (size_t i = 0; i < phnum; i++) {
		Elf64_Phdr p64;
		Elf32_Phdr p32;
		off_t at = (off_t)(phoff + i * entsize);

		if (is64 ? pread(fd, &p64, want, at) != (ssize_t)want :
		    pread(fd, &p32, want, at) != (ssize_t)want) {
			free(*out);
			return -1;
		}
		(*out)[i] = is64 ?
			(struct phdr){ p64.p_type, p64.p_offset, p64.p_vaddr,
				       p64.p_filesz } :
			(struct phdr){ p32.p_type, p32.p_offset, p32.p_vaddr,
				       p32.p_filesz };
	}
	*n = phnum;
	return 0;
}

/* The file offset of the address @vaddr, or -1. */
static int64_t file_offset(const struct phdr *ph, size_t n, uint64_t vaddr)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].type == PT_LOAD && vaddr >= ph[i].vaddr &&
		    vaddr - ph[i].vaddr < ph[i].filesz)
			return (int64_t)(ph[i].offset + (vaddr - ph[i].vaddr));
	return -1;
}

/*
 * DT_SONAME of the dynamic section @dyn: the name the loader looks a
 * library up by ("libinih.so.1"), often a link to the file maps names
 * ("libinih.so.55"). Left "" when there is none or it cannot be read.
 */
static void read_soname(int fd, bool is64, const struct phdr *ph, size_t n,
			const struct phdr *dyn, struct elf_file *elf)
{
	size_t size = is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	uint64_t strtab = 0, soname = 0;
	bool have_soname = false;
	int64_t at;
	ssize_t len;

	for (uint64_t off = 0; off + size <= dyn->filesz && off < 65536;
	     off += size) {
		Elf64_Dyn d64;
		Elf32_Dyn d32;
		int64_t tag;
		uint64_t val;

		if (pread(fd, is64 ? (void *)&d64 : (void *)&d32, size,
			  (off_t)(dyn->offset + off)) != (ssize_t)size)
			return;
		tag = is64 ? d64.d_tag : d32.d_tag;
		val = is64 ? d64.d_un.d_val : d32.d_un.d_val;
		if (tag == DT_NULL)
			break;
		if (tag == DT_STRTAB)
			strtab = val;
		if (tag == DT_SONAME) {
			soname = val;
			have_soname = true;
		}
	}
	at = have_soname ? file_offset(ph, n, strtab) : -1;
	if (at < 0)
		return;
	len = pread(fd, elf->soname, sizeof(elf->soname) - 1,
		    (off_t)((uint64_t)at + soname));
	elf->soname[len > 0 ? len : 0] = '\0';
	if (strlen(elf->soname) == (size_t)(len > 0 ? len : 0) ||
	    strchr(elf->soname, '/') || !strcmp(elf->soname, ".") ||
	    !strcmp(elf->soname, ".."))
		elf->soname[0] = '\0';	/* not NUL-terminated, or a path */
}

enum su_err elf_file_read(const char *path, struct elf_file *elf,
			  struct su_error *err)
{
	unsigned char ident[EI_NIDENT];
	char sb[SU_SHOWN_SIZE(SHOWN)];
	enum su_err rc = SU_OK;
	struct phdr *ph = NULL;
	uint64_t table;
	size_t n = 0;
	int fd;

	*elf = (struct elf_file){ .is_elf = false };
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return su_error_set(err, SU_ERR_IO, "open %s: %m",
				    shown(sb, path));
	if (pread(fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) ||
	    memcmp(ident, ELFMAG, SELFMAG))
		goto out;	/* a script, a key, a page: not ELF */
	elf->is_elf = true;
	if ((ident[EI_CLASS] != ELFCLASS64 && ident[EI_CLASS] != ELFCLASS32) ||
	    ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ?
			       ELFDATA2LSB : ELFDATA2MSB) ||
	    read_phdrs(fd, ident[EI_CLASS] == ELFCLASS64, &ph, &n, &table) < 0) {
		rc = su_error_set(err, SU_ERR_IO,
				  "%s: not an ELF file for this machine, or its program headers are unreadable",
				  shown(sb, path));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (ph[i].type == PT_DYNAMIC && !elf->dynamic) {
			elf->dynamic = true;
			read_soname(fd, ident[EI_CLASS] == ELFCLASS64, ph, n,
				    &ph[i], elf);
		}
		if (ph[i].type != PT_INTERP)
			continue;
		if (ph[i].filesz < 2 || ph[i].filesz > sizeof(elf->interp) ||
		    pread(fd, elf->interp, ph[i].filesz, (off_t)ph[i].offset) !=
		    (ssize_t)ph[i].filesz ||
		    elf->interp[ph[i].filesz - 1] ||
		    strlen(elf->interp) != ph[i].filesz - 1 ||
		    elf->interp[0] != '/') {
			rc = su_error_set(err, SU_ERR_IO,
					  "%s: PT_INTERP is not an absolute path",
					  shown(sb, path));
			goto out;
		}
	}
out:
	free(ph);
	close(fd);
	return rc;
}

static int range_cmp(const void *a, const void *b)
{
	const struct elf_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int elf_file_ranges(int fd, uint64_t size, uint64_t page,
		    struct elf_range **out, size_t *count)
{
	unsigned char ident[EI_NIDENT];
	struct elf_range *r;
	struct phdr *ph;
	uint64_t table;
	size_t n, k = 0;

	*out = NULL;
	*count = 0;
	if (!page || (page & (page - 1)) ||
	    pread(fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) ||
	    memcmp(ident, ELFMAG, SELFMAG) ||
	    (ident[EI_CLASS] != ELFCLASS64 && ident[EI_CLASS] != ELFCLASS32) ||
	    ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ?
			       ELFDATA2LSB : ELFDATA2MSB) ||
	    read_phdrs(fd, ident[EI_CLASS] == ELFCLASS64, &ph, &n, &table) < 0) {
		errno = EINVAL;
		return -1;
	}
	r = calloc(n + 1, sizeof(*r));
	if (!r) {
		free(ph);
		return -1;
	}
	r[k++] = (struct elf_range){ 0, table };
	for (size_t i = 0; i < n; i++)
		if (ph[i].filesz)
			r[k++] = (struct elf_range){
				ph[i].offset,
				ph[i].offset > UINT64_MAX - ph[i].filesz ?
				UINT64_MAX : ph[i].offset + ph[i].filesz };
	free(ph);
	for (size_t i = 0; i < k; i++) {
		if (r[i].end > size) {
			/* a truncated file: no loader could map it either */
			free(r);
			errno = EINVAL;
			return -1;
		}
		r[i].start &= ~(page - 1);
		r[i].end = r[i].end > size - size % page ?
			size : (r[i].end + page - 1) & ~(page - 1);
	}
	qsort(r, k, sizeof(*r), range_cmp);
	n = 0;
	for (size_t i = 0; i < k; i++) {
		if (n && r[i].start <= r[n - 1].end) {
			if (r[i].end > r[n - 1].end)
				r[n - 1].end = r[i].end;
		} else {
			r[n++] = r[i];
		}
	}
	*out = r;
	*count = n;
	return 0;
}
