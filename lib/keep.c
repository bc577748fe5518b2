/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The keep-config archive: written by stage 1 from the running system,
 * extracted by stage 2 onto the freshly written target.
 *
 * Names in the archive are the old absolute paths without their leading
 * "/" ("etc/config/network"). The restore puts each beneath the target
 * directory by prefixing its name, not by chdir(): stage 2 is threaded
 * and the working directory is the process's. A prefixed name is
 * absolute, so ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS cannot be given to
 * libarchive; absolute names are refused here, before the prefix, and
 * libarchive's _SECURE_NODOTDOT and _SECURE_SYMLINKS judge the rest
 * (the prefix is the directory's realpath, so they only ever find the
 * archive's own ".." or a symlink below the directory).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <search.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keep.h"

#define RESTORE_FLAGS	(ARCHIVE_EXTRACT_SECURE_NODOTDOT |		\
			 ARCHIVE_EXTRACT_SECURE_SYMLINKS |		\
			 ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |	\
			 ARCHIVE_EXTRACT_TIME)
/* Not ARCHIVE_EXTRACT_UNLINK: with it _SECURE_SYMLINKS removes a symlink
 * met on the way instead of refusing the entry. libarchive replaces an
 * existing file (or a symlink at the name itself) anyway. */
#define NAME_SHOWN	160
/* libarchive's private ARCHIVE_ERRNO_FILE_FORMAT: EILSEQ on Linux. */
#define ERRNO_FILE_FORMAT	EILSEQ

/* What keep_archive_create() carries from one path to the next. */
struct writer {
	const char *archive;	/* its path, for messages */
	struct archive *out;
	struct archive *disk;
	void *names;		/* tsearch() set of the names written */
	struct su_error *err;
};

static const char *shown(char *buf, const char *s)
{
	return su_shown(buf, NAME_SHOWN, s, strlen(s));
}

/* ---- the list of paths ---- */

/*
 * Collapse "//" and "/./", drop a trailing "/"; a ".." component is
 * refused (-1): the restore would refuse the entry, so refuse it while
 * the config can still be fixed.
 */
static int normalise(char *path)
{
	char *r = path, *w = path;

	while (*r) {
		if (r[0] == '/' && (r[1] == '/' || r[1] == '\0')) {
			r++;
			continue;
		}
		if (r[0] == '/' && r[1] == '.' && (r[2] == '/' || !r[2])) {
			r += 2;
			continue;
		}
		if (r[0] == '/' && r[1] == '.' && r[2] == '.' &&
		    (r[3] == '/' || !r[3]))
			return -1;
		*w++ = *r++;
	}
	*w = '\0';
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* True the first time @name is seen. */
static enum su_err first_time(struct writer *w, const char *name, bool *first)
{
	char *copy = strdup(name);
	char **found;

	if (!copy)
		return su_error_set(w->err, SU_ERR_NOMEM, "keep archive %s: %m",
				    w->archive);
	found = tsearch(copy, &w->names, name_cmp);
	if (!found) {
		free(copy);
		return su_error_set(w->err, SU_ERR_NOMEM, "keep archive %s: %m",
				    w->archive);
	}
	*first = *found == copy;
	if (!*first)
		free(copy);
	return SU_OK;
}

static enum su_err copy_data(struct writer *w, const char *path)
{
	char buf[16384];
	la_ssize_t n;

	while ((n = archive_read_data(w->disk, buf, sizeof(buf))) > 0)
		if (archive_write_data(w->out, buf, (size_t)n) != n)
			return su_error_set(w->err, SU_ERR_IO,
					    "keep archive %s: write %s: %s",
					    w->archive, path,
					    archive_error_string(w->out));
	if (n < 0)
		return su_error_set(w->err, SU_ERR_IO,
				    "keep archive %s: read %s: %s", w->archive,
				    path, archive_error_string(w->disk));
	return SU_OK;
}

/* One entry archive_read_disk found: descend, dedupe, write. */
static enum su_err add_entry(struct writer *w, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e);
	const char *name = path + strspn(path, "/");
	char sb[SU_SHOWN_SIZE(NAME_SHOWN)];
	bool first = false;
	enum su_err rc;

	rc = first_time(w, name, &first);
	if (rc || !first)
		return rc;	/* a repeated directory is not walked again */
	if (archive_read_disk_can_descend(w->disk) &&
	    archive_read_disk_descend(w->disk) != ARCHIVE_OK)
		return su_error_set(w->err, SU_ERR_IO,
				    "keep archive %s: %s: %s", w->archive,
				    shown(sb, path),
				    archive_error_string(w->disk));
	if (!*name)
		return SU_OK;	/* "/" itself: its contents only */
	archive_entry_copy_pathname(e, name);
	if (archive_write_header(w->out, e) != ARCHIVE_OK)
		return su_error_set(w->err, SU_ERR_IO,
				    "keep archive %s: %s: %s", w->archive,
				    shown(sb, path), archive_error_string(w->out));
	if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0)
		return copy_data(w, shown(sb, path));
	return SU_OK;
}

/* @path (normalised, existing) and, for a directory, all beneath it. */
static enum su_err add_tree(struct writer *w, const char *path)
{
	char sb[SU_SHOWN_SIZE(NAME_SHOWN)];
	struct archive_entry *e;
	enum su_err rc = SU_OK;
	int r;

	if (archive_read_disk_open(w->disk, path) != ARCHIVE_OK)
		return su_error_set(w->err, SU_ERR_IO, "keep %s: %s",
				    shown(sb, path),
				    archive_error_string(w->disk));
	e = archive_entry_new();
	if (!e)
		rc = su_error_set(w->err, SU_ERR_NOMEM, "keep %s: %m",
				  shown(sb, path));
	while (!rc) {
		archive_entry_clear(e);
		r = archive_read_next_header2(w->disk, e);
		if (r == ARCHIVE_EOF)
			break;
		/* A warning is a directory or file that could not be read:
		 * an unreadable kept path is an error. */
		if (r != ARCHIVE_OK) {
			rc = su_error_set(w->err, SU_ERR_IO, "keep %s: %s",
					  shown(sb, path),
					  archive_error_string(w->disk));
			break;
		}
		rc = add_entry(w, e);
	}
	archive_entry_free(e);
	archive_read_close(w->disk);
	return rc;
}

/* One listed path: missing is fine, anything else unreadable is not. */
static enum su_err add_path(struct writer *w, const char *path)
{
	char sb[SU_SHOWN_SIZE(NAME_SHOWN)];
	struct stat st;

	if (lstat(path, &st) == 0)
		return add_tree(w, path);
	if (errno == ENOENT || errno == ENOTDIR)
		return SU_OK;
	return su_error_set(w->err, SU_ERR_IO, "keep %s: %m", shown(sb, path));
}

/* glob(3)'s error callback takes no context: the first error, per thread. */
static __thread struct {
	char path[PATH_MAX];
	int err;
} glob_failure;

static int glob_error(const char *path, int e)
{
	/* A directory of the pattern that does not exist matches nothing. */
	if (e == ENOENT || e == ENOTDIR)
		return 0;
	snprintf(glob_failure.path, sizeof(glob_failure.path), "%s", path);
	glob_failure.err = e;
	return 1;
}

static enum su_err add_glob(struct writer *w, const char *pattern,
			    const char *where)
{
	char sb[SU_SHOWN_SIZE(NAME_SHOWN)];
	enum su_err rc = SU_OK;
	glob_t g;
	int r;

	glob_failure.err = 0;
	r = glob(pattern, 0, glob_error, &g);
	if (r == GLOB_NOMATCH)
		return SU_OK;
	if (r == GLOB_NOSPACE)
		rc = su_error_set(w->err, SU_ERR_NOMEM, "%s: %s: %m",
				  where, shown(sb, pattern));
	else if (r) {
		errno = glob_failure.err;
		rc = su_error_set(w->err, SU_ERR_IO, "%s: %s: %s: %m",
				  where, shown(sb, pattern), glob_failure.path);
	}
	for (size_t i = 0; !rc && i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/');

		/* ".*" matches "." and "..": not the directory, nor its
		 * parent. */
		if (base && (!strcmp(base, "/.") || !strcmp(base, "/..")))
			continue;
		if (!normalise(g.gl_pathv[i]))
			rc = add_path(w, g.gl_pathv[i]);
	}
	globfree(&g);
	return rc;
}

/* One keep line or value: an absolute path or glob. */
static enum su_err add_pattern(struct writer *w, const char *value,
			       const char *where)
{
	char sb[SU_SHOWN_SIZE(NAME_SHOWN)];
	enum su_err rc;
	char *p;

	if (value[0] != '/')
		return su_error_set(w->err, SU_ERR_CONFIG,
				    "%s: %s: not an absolute path", where,
				    shown(sb, value));
	p = strdup(value);
	if (!p)
		return su_error_set(w->err, SU_ERR_NOMEM, "%s: %m", where);
	if (normalise(p))
		rc = su_error_set(w->err, SU_ERR_CONFIG,
				  "%s: %s: a '..' component", where,
				  shown(sb, value));
	else if (strpbrk(p, "*?["))
		rc = add_glob(w, p, where);
	else
		rc = add_path(w, p[0] ? p : "/");
	free(p);
	return rc;
}

/* Each line of @path: a path or glob; '#' comments and blanks skipped. */
static enum su_err add_list_file(struct writer *w, const char *path)
{
	enum su_err rc = SU_OK;
	char where[PATH_MAX + 16];
	size_t cap = 0;
	unsigned no = 0;
	char *line = NULL;
	ssize_t n;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return su_error_set(w->err, SU_ERR_IO, "open %s: %m", path);
	while (!rc && (n = getline(&line, &cap, f)) >= 0) {
		char *s = line + strspn(line, " \t");
		char *end = s + strlen(s);

		no++;
		while (end > s && strchr(" \t\r\n", end[-1]))
			*--end = '\0';
		if (!*s || *s == '#')
			continue;
		snprintf(where, sizeof(where), "%s:%u", path, no);
		rc = add_pattern(w, s, where);
	}
	if (!rc && ferror(f))
		rc = su_error_set(w->err, SU_ERR_IO, "read %s: %m", path);
	free(line);
	fclose(f);
	return rc;
}

static int not_dotfile(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* strcmp, not alphasort's strcoll: the same order whatever the locale. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every regular file (or link to one) in keep_d; none when it is missing. */
static enum su_err add_keep_d(struct writer *w, const char *dir)
{
	struct dirent **ents = NULL;
	enum su_err rc = SU_OK;
	int n;

	n = scandir(dir, &ents, not_dotfile, by_name);
	if (n < 0)
		return errno == ENOENT ? SU_OK :
			su_error_set(w->err, SU_ERR_IO, "keep_d %s: %m", dir);
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;

		if (!rc) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 ents[i]->d_name);
			if (stat(path, &st) < 0)
				rc = su_error_set(w->err, SU_ERR_IO,
						  "keep_d %s: %m", path);
			else if (S_ISREG(st.st_mode))
				rc = add_list_file(w, path);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

/* ---- create ---- */

static enum su_err open_writer(struct writer *w, int fd)
{
	w->out = archive_write_new();
	w->disk = archive_read_disk_new();
	if (!w->out || !w->disk)
		return su_error_set(w->err, SU_ERR_NOMEM,
				    "keep archive %s: libarchive: %m",
				    w->archive);
	/* Symlinks are kept as links; owners stay numeric (no user
	 * database lookup); xattrs, ACLs and file flags are not kept. */
	archive_read_disk_set_symlink_physical(w->disk);
	archive_read_disk_set_behavior(w->disk, ARCHIVE_READDISK_NO_XATTR |
				       ARCHIVE_READDISK_NO_ACL |
				       ARCHIVE_READDISK_NO_FFLAGS);
	/* cpio (newc), not tar: libarchive's tar writers pull in its table
	 * of every format, xar among them, and with it libxml2 and ICU
	 * (33 MB the stage-2 ramfs would have to hold). Every byte is RAM
	 * in the ramfs: no padding to 10 KiB records. */
	if (archive_write_set_format_cpio_newc(w->out) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->out, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(w->out, fd) != ARCHIVE_OK)
		return su_error_set(w->err, SU_ERR_IO, "keep archive %s: %s",
				    w->archive, archive_error_string(w->out));
	return SU_OK;
}

static enum su_err write_all(struct writer *w, const struct config *cfg)
{
	char where[PATH_MAX + 32];
	enum su_err rc = SU_OK;

	snprintf(where, sizeof(where), "%s: [install] keep", cfg->path);
	for (size_t i = 0; !rc && i < cfg->n_keep; i++)
		rc = add_pattern(w, cfg->keep[i], where);
	if (!rc && cfg->keep_d)
		rc = add_keep_d(w, cfg->keep_d);
	if (!rc && archive_write_close(w->out) != ARCHIVE_OK)
		rc = su_error_set(w->err, SU_ERR_IO, "keep archive %s: %s",
				  w->archive, archive_error_string(w->out));
	return rc;
}

enum su_err keep_archive_create(const struct config *cfg, const char *archive,
				uint64_t *bytes, struct su_error *err)
{
	struct writer w = { .archive = archive, .err = err };
	enum su_err rc;
	struct stat st;
	int fd;

	/* 0600: kept files may be secrets (shadow, keys). */
	fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		  O_NOFOLLOW, 0600);
	if (fd < 0)
		return su_error_set(err, SU_ERR_IO, "keep archive: create %s: %m",
				    archive);
	rc = open_writer(&w, fd);
	if (!rc)
		rc = write_all(&w, cfg);
	if (!rc && fstat(fd, &st) < 0)
		rc = su_error_set(err, SU_ERR_IO, "keep archive %s: %m",
				  archive);
	if (!rc)
		*bytes = (uint64_t)st.st_size;
	archive_write_free(w.out);
	archive_read_free(w.disk);
	tdestroy(w.names, free);
	if (close(fd) < 0 && !rc)
		rc = su_error_set(err, SU_ERR_IO, "keep archive %s: %m",
				  archive);
	if (rc)
		unlink(archive);
	return rc;
}

/* ---- restore ---- */

/* libarchive's errno says whether the disk failed or the archive is at
 * fault (its security checks set none, a bad format its own code). */
static enum su_err archive_code(struct archive *a)
{
	int e = archive_errno(a);

	if (e <= 0 || e == ERRNO_FILE_FORMAT)
		return SU_ERR_BAD_ARCHIVE;
	return e == ENOSPC || e == EDQUOT ? SU_ERR_NO_SPACE : SU_ERR_IO;
}

static enum su_err restore_failed(struct archive *a, const char *archive,
				  const char *name, struct su_error *err)
{
	char sb[SU_SHOWN_SIZE(NAME_SHOWN)];

	return su_error_set(err, archive_code(a), "keep archive %s: %s: %s",
			    archive, shown(sb, name), archive_error_string(a));
}

/* "@base/@name" into @buf (PATH_MAX bytes), or why not. */
static const char *beneath(const char *base, const char *name, char *buf)
{
	if (!*name)
		return "empty name refused";
	if (name[0] == '/')
		return "absolute name refused";
	/* libarchive chdir()s into a name longer than PATH_MAX. */
	if ((size_t)snprintf(buf, PATH_MAX, "%s/%s", base, name) >= PATH_MAX)
		return "name too long";
	return NULL;
}

static enum su_err copy_entry_data(struct archive *in, struct archive *out,
				   const char *archive, const char *name,
				   struct su_error *err)
{
	char sb[SU_SHOWN_SIZE(NAME_SHOWN)];
	const void *buf;
	la_int64_t off;
	size_t len;
	int r;

	while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(out, buf, len, off) != ARCHIVE_OK)
			return restore_failed(out, archive, name, err);
	if (r != ARCHIVE_EOF)
		return su_error_set(err, SU_ERR_BAD_ARCHIVE,
				    "keep archive %s: %s: %s", archive,
				    shown(sb, name), archive_error_string(in));
	return SU_OK;
}

static enum su_err restore_entry(struct archive *in, struct archive *out,
				 struct archive_entry *e, const char *base,
				 const char *archive, struct su_error *err)
{
	const char *name = archive_entry_pathname(e);
	const char *link = archive_entry_hardlink(e);
	char sb[SU_SHOWN_SIZE(NAME_SHOWN)], lb[SU_SHOWN_SIZE(NAME_SHOWN)];
	char path[PATH_MAX], target[PATH_MAX];
	const char *why;
	enum su_err rc;

	if (!name)
		return su_error_set(err, SU_ERR_BAD_ARCHIVE,
				    "keep archive %s: an entry without a name",
				    archive);
	why = beneath(base, name, path);
	if (why)
		return su_error_set(err, SU_ERR_BAD_ARCHIVE,
				    "keep archive %s: %s: %s", archive,
				    shown(sb, name), why);
	why = link ? beneath(base, link, target) : NULL;
	if (why)
		return su_error_set(err, SU_ERR_BAD_ARCHIVE,
				    "keep archive %s: %s: hardlink to %s: %s",
				    archive, shown(sb, name), shown(lb, link),
				    why);
	archive_entry_copy_pathname(e, path);
	if (link)
		archive_entry_copy_hardlink(e, target);
	name = path + strlen(base) + 1;	/* the entry's own, for messages */
	/* A warning is an owner, mode or time not kept. */
	if (archive_write_header(out, e) != ARCHIVE_OK)
		return restore_failed(out, archive, name, err);
	if (archive_entry_size(e) > 0) {
		rc = copy_entry_data(in, out, archive, name, err);
		if (rc)
			return rc;
	}
	if (archive_write_finish_entry(out) != ARCHIVE_OK)
		return restore_failed(out, archive, name, err);
	return SU_OK;
}

static enum su_err restore_all(struct archive *in, struct archive *out,
			       const char *base, const char *archive,
			       struct su_error *err)
{
	struct archive_entry *e;
	enum su_err rc;
	int r;

	while ((r = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK)
			return su_error_set(err, SU_ERR_BAD_ARCHIVE,
					    "keep archive %s: %s", archive,
					    archive_error_string(in));
		rc = restore_entry(in, out, e, base, archive, err);
		if (rc)
			return rc;
	}
	/* Directory modes and times are set here, last. */
	if (archive_write_close(out) != ARCHIVE_OK)
		return restore_failed(out, archive, "(directories)", err);
	return SU_OK;
}

enum su_err keep_archive_restore(const char *archive, const char *dir,
				 struct su_error *err)
{
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	char *base = NULL;
	enum su_err rc;

	if (!in || !out) {
		rc = su_error_set(err, SU_ERR_NOMEM,
				  "keep archive %s: libarchive: %m", archive);
		goto out;
	}
	/* Symlinks above @dir are the system's, not the archive's: resolve
	 * them so _SECURE_SYMLINKS only judges what lies beneath. */
	base = realpath(dir, NULL);
	if (!base) {
		rc = su_error_set(err, SU_ERR_IO, "keep archive %s: restore into %s: %m",
				  archive, dir);
		goto out;
	}
	if (!strcmp(base, "/"))
		base[0] = '\0';	/* "" + "/" + name */
	/* No user lookup is set on @out: owners stay numeric. */
	archive_write_disk_set_options(out, RESTORE_FLAGS);
	archive_read_support_format_cpio(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_empty(in);
	if (archive_read_open_filename(in, archive, 64 * 1024) != ARCHIVE_OK)
		rc = su_error_set(err, archive_code(in), "keep archive %s: %s",
				  archive, archive_error_string(in));
	else
		rc = restore_all(in, out, base, archive, err);
out:
	free(base);
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}
