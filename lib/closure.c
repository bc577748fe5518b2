/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stage-2 closure: the plan (which files, and the symlinks on their
 * way) and the copy into the ramfs root.
 *
 * Every path is walked one component at a time, as the kernel would:
 * a symlink met on the way becomes a node of its own (kept as the same
 * link inside ROOT) and the walk goes on through its target. What is
 * left are nodes whose parents hold no symlink, so the copy creates
 * them beneath ROOT with openat(O_NOFOLLOW) and never leaves it, even
 * through an absolute link such as Debian's
 * /usr/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/....
 * Nodes are listed parents first, so the copy is one pass in order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "closure.h"
#include "elf_file.h"

#define PAGE		4096ULL
#define MAX_LINKS	40	/* as the kernel's ELOOP */
#define MAX_DEPTH	32	/* directories beneath www */
#define LIST_MAX	(256 * 1024)	/* the loader's --list output */
#define SHOWN		160
#define DELETED		" (deleted)"

enum node_type { NODE_DIR, NODE_FILE, NODE_LINK };

struct node {
	char *path;		/* absolute: in the old root and in ROOT */
	char *src;		/* NODE_FILE read from here, when not path */
	char *target;		/* NODE_LINK: the link's text */
	enum node_type type;
	bool loaded;		/* NODE_FILE run or loaded: copied sparsely */
	uint64_t bytes;		/* what it adds to closure_bytes */
	/* NODE_DIR and NODE_LINK, as planned; a file's come with its data */
	uid_t uid;
	gid_t gid;
	mode_t mode;
	struct timespec times[2];
};

struct closure {
	struct node *nodes;
	size_t n, cap;
	void *index;		/* tsearch() of node paths */
	uint64_t bytes;
	char *exe;
	char *loader;		/* real path of the exe's PT_INTERP */
	char *library_path;
	char **libdirs;
	size_t n_libdirs;
	char *skip;		/* the staging directory: never copied */
};

static const char *shown(char *buf, const char *s)
{
	return su_shown(buf, SHOWN, s, strlen(s));
}

/* ---- nodes ---- */

static int path_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool known(const struct closure *c, const char *path)
{
	return tfind(path, &c->index, path_cmp) != NULL;
}

/* Files in pages; a directory, link or empty file counts one page for
 * its inode and dentry, which ramfs keeps in RAM too. */
static uint64_t pages(const struct stat *st)
{
	uint64_t size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;

	return size ? (size + PAGE - 1) / PAGE * PAGE : PAGE;
}

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : PAGE;
}

/* The bytes of @fd's ranges the loader needs (elf_file_ranges()), or
 * -1: not such an ELF file, to be copied whole. */
static int64_t loaded_bytes(int fd, uint64_t size)
{
	struct elf_range *r;
	uint64_t sum = 0;
	size_t n;

	if (elf_file_ranges(fd, size, page_size(), &r, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		sum += r[i].end - r[i].start;
	free(r);
	return (int64_t)sum;
}

static enum su_err append(struct closure *c, enum node_type type,
			  const char *path, const char *src,
			  const char *target, const struct stat *st,
			  struct su_error *err)
{
	struct node *n;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct node *nodes = realloc(c->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
		c->nodes = nodes;
		c->cap = cap;
	}
	n = &c->nodes[c->n];
	*n = (struct node){
		.type = type, .uid = st->st_uid, .gid = st->st_gid,
		.mode = st->st_mode & 07777,
		.times = { st->st_atim, st->st_mtim },
	};
	n->path = strdup(path);
	n->src = src ? strdup(src) : NULL;
	n->target = target ? strdup(target) : NULL;
	if (!n->path || (src && !n->src) || (target && !n->target) ||
	    !tsearch(n->path, &c->index, path_cmp)) {
		free(n->path);
		free(n->src);
		free(n->target);
		return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
	}
	n->bytes = pages(st);
	c->n++;
	c->bytes += n->bytes;
	return SU_OK;
}

/* The directories above @path (real ones: @path's parents hold no link). */
static enum su_err add_parents(struct closure *c, const char *path,
			       struct su_error *err)
{
	char buf[PATH_MAX];
	struct stat st;
	enum su_err rc;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = strchr(buf + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (!known(c, buf)) {
			if (lstat(buf, &st) < 0)
				return su_error_set(err, SU_ERR_IO,
						    "closure: %s: %m", buf);
			rc = append(c, NODE_DIR, buf, NULL, NULL, &st, err);
			if (rc)
				return rc;
		}
		*s = '/';
	}
	return SU_OK;
}

/* Add @path once, after its parents. */
static enum su_err add_node(struct closure *c, enum node_type type,
			    const char *path, const char *src,
			    const char *target, const struct stat *st,
			    struct su_error *err)
{
	enum su_err rc;

	if (!strcmp(path, "/") || known(c, path))
		return SU_OK;	/* ROOT itself is the caller's */
	rc = add_parents(c, path, err);
	return rc ? rc : append(c, type, path, src, target, st, err);
}

/* ---- walking a path ---- */

/* @path made absolute against the working directory. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *abs;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)) ||
	    asprintf(&abs, "%s/%s", strcmp(cwd, "/") ? cwd : "", path) < 0)
		return NULL;
	return abs;
}

/*
 * Resolve @path into @real (PATH_MAX bytes) as the kernel would, adding
 * a NODE_LINK for every symlink met; *@st is the end's lstat. When a
 * component does not exist and @missing is not NULL, *@missing is set
 * and SU_OK returned.
 */
static enum su_err resolve(struct closure *c, const char *path, char *real,
			   struct stat *st, bool *missing,
			   struct su_error *err)
{
	char sb[SU_SHOWN_SIZE(SHOWN)];
	char *rest = absolute(path);
	char target[PATH_MAX];
	enum su_err rc = SU_OK;
	int links = 0;

	if (!rest)
		return su_error_set(err, SU_ERR_NOMEM, "closure %s: %m",
				    shown(sb, path));
	real[0] = '\0';		/* "" is "/" */
	if (missing)
		*missing = false;
	for (char *p = rest; !rc && *p;) {
		size_t len, have = strlen(real);
		char *next;
		ssize_t n;

		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (!len)
			break;
		if (len == 1 && p[0] == '.') {
			p += len;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			/* @real holds no link: ".." is its parent */
			*(strrchr(real, '/') ? strrchr(real, '/') : real) = '\0';
			p += len;
			continue;
		}
		if (have + 1 + len >= PATH_MAX) {
			errno = ENAMETOOLONG;
			rc = su_error_set(err, SU_ERR_IO, "closure %s: %m",
					  shown(sb, path));
			break;
		}
		real[have] = '/';
		memcpy(real + have + 1, p, len);
		real[have + 1 + len] = '\0';
		p += len;
		if (lstat(real, st) < 0) {
			if (missing && (errno == ENOENT || errno == ENOTDIR)) {
				*missing = true;
				break;
			}
			rc = su_error_set(err, SU_ERR_IO, "closure %s: %s: %m",
					  shown(sb, path), real);
			break;
		}
		if (!S_ISLNK(st->st_mode)) {
			if (*p && !S_ISDIR(st->st_mode)) {
				errno = ENOTDIR;
				rc = su_error_set(err, SU_ERR_IO,
						  "closure %s: %s: %m",
						  shown(sb, path), real);
			}
			continue;
		}
		n = readlink(real, target, sizeof(target) - 1);
		if (n < 0 || ++links > MAX_LINKS) {
			if (n >= 0)
				errno = ELOOP;
			rc = su_error_set(err, SU_ERR_IO, "closure %s: %s: %m",
					  shown(sb, path), real);
			break;
		}
		target[n] = '\0';
		rc = add_node(c, NODE_LINK, real, NULL, target, st, err);
		if (rc)
			break;
		/* Go on through the target, from the link's directory. */
		if (asprintf(&next, "%s%s", target, p) < 0) {
			rc = su_error_set(err, SU_ERR_NOMEM, "closure: %m");
			break;
		}
		free(rest);
		p = rest = next;
		real[target[0] == '/' ? 0 : have] = '\0';
	}
	free(rest);
	if (!real[0])
		strcpy(real, "/");
	/* The end's own lstat (not its child's, after a ".."). */
	if (!rc && !(missing && *missing) && lstat(real, st) < 0)
		rc = su_error_set(err, SU_ERR_IO, "closure %s: %s: %m",
				  shown(sb, path), real);
	return rc;
}

/* @dir joins the library path once. */
static enum su_err add_libdir(struct closure *c, const char *file,
			      struct su_error *err)
{
	const char *slash = strrchr(file, '/');
	size_t len = slash > file ? (size_t)(slash - file) : 1;
	char **dirs;

	for (size_t i = 0; i < c->n_libdirs; i++)
		if (strlen(c->libdirs[i]) == len &&
		    !strncmp(c->libdirs[i], file, len))
			return SU_OK;
	dirs = realloc(c->libdirs, (c->n_libdirs + 1) * sizeof(*dirs));
	if (!dirs)
		return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
	c->libdirs = dirs;
	dirs[c->n_libdirs] = strndup(file, len);
	if (!dirs[c->n_libdirs])
		return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
	c->n_libdirs++;
	return SU_OK;
}

enum want { REQUIRED, OPTIONAL };

/*
 * The regular file @path (its links kept); @real gets its real path.
 * OPTIONAL: a path that does not exist is skipped (*@real is "").
 */
static enum su_err add_file(struct closure *c, const char *path,
			    enum want want, char *real, struct su_error *err)
{
	char sb[SU_SHOWN_SIZE(SHOWN)];
	struct stat st;
	bool missing;
	enum su_err rc;

	rc = resolve(c, path, real, &st, want == OPTIONAL ? &missing : NULL,
		     err);
	if (rc)
		return rc;
	if (want == OPTIONAL && missing) {
		real[0] = '\0';
		return SU_OK;
	}
	if (!S_ISREG(st.st_mode))
		return su_error_set(err, SU_ERR_IO,
				    "closure %s: %s is not a regular file",
				    shown(sb, path), real);
	return add_node(c, NODE_FILE, real, NULL, NULL, &st, err);
}

/* ---- directories ---- */

static enum su_err add_dir_entries(struct closure *c, const char *dir,
				   int depth, struct su_error *err);

/* @path found inside a copied directory: taken as it is (a symlink is
 * not followed; www serves none). */
static enum su_err add_dir_entry(struct closure *c, const char *path,
				 int depth, struct su_error *err)
{
	char target[PATH_MAX];
	struct stat st;
	enum su_err rc;
	ssize_t n;

	if (lstat(path, &st) < 0)
		return su_error_set(err, SU_ERR_IO, "closure: %s: %m", path);
	if (S_ISREG(st.st_mode))
		return add_node(c, NODE_FILE, path, NULL, NULL, &st, err);
	if (S_ISDIR(st.st_mode)) {
		rc = add_node(c, NODE_DIR, path, NULL, NULL, &st, err);
		return rc ? rc : add_dir_entries(c, path, depth + 1, err);
	}
	if (!S_ISLNK(st.st_mode))
		return SU_OK;	/* sockets, fifos, devices: nothing to copy */
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return su_error_set(err, SU_ERR_IO, "closure: readlink %s: %m",
				    path);
	target[n] = '\0';
	return add_node(c, NODE_LINK, path, NULL, target, &st, err);
}

static enum su_err add_dir_entries(struct closure *c, const char *dir,
				   int depth, struct su_error *err)
{
	enum su_err rc = SU_OK;
	struct dirent *e;
	DIR *d;

	if (depth > MAX_DEPTH)
		return su_error_set(err, SU_ERR_IO,
				    "closure: %s: more than %d directories deep",
				    dir, MAX_DEPTH);
	d = opendir(dir);
	if (!d)
		return su_error_set(err, SU_ERR_IO, "closure: opendir %s: %m",
				    dir);
	while (!rc && (errno = 0, e = readdir(d))) {
		char path[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s",
				     strcmp(dir, "/") ? dir : "", e->d_name) >=
		    sizeof(path)) {
			errno = ENAMETOOLONG;
			rc = su_error_set(err, SU_ERR_IO, "closure: %s/%s: %m",
					  dir, e->d_name);
			break;
		}
		rc = add_dir_entry(c, path, depth, err);
	}
	if (!rc && errno)
		rc = su_error_set(err, SU_ERR_IO, "closure: readdir %s: %m", dir);
	closedir(d);
	return rc;
}

/* A directory and all beneath it; a missing one is skipped. */
static enum su_err add_tree(struct closure *c, const char *path,
			    struct su_error *err)
{
	char real[PATH_MAX];
	struct stat st;
	bool missing;
	enum su_err rc;

	rc = resolve(c, path, real, &st, &missing, err);
	if (rc || missing)
		return rc;
	if (!S_ISDIR(st.st_mode))
		return add_node(c, NODE_FILE, real, NULL, NULL, &st, err);
	rc = add_node(c, NODE_DIR, real, NULL, NULL, &st, err);
	return rc ? rc : add_dir_entries(c, real, 0, err);
}

/*
 * The file node of @real is run or loaded, never read as data: only
 * what its loader needs is copied (holes cost a tmpfs nothing), so
 * debug info and symbol tables stay behind. Not an ELF file: whole.
 */
static void mark_loaded(struct closure *c, const char *real)
{
	struct node *n = NULL;
	struct stat st;
	int64_t bytes;
	int fd;

	for (size_t i = c->n; i-- > 0;)
		if (c->nodes[i].type == NODE_FILE && !strcmp(c->nodes[i].path, real)) {
			n = &c->nodes[i];
			break;
		}
	if (!n || n->loaded)
		return;
	fd = open(n->src ? n->src : n->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* the copy will say why */
	bytes = fstat(fd, &st) == 0 ? loaded_bytes(fd, (uint64_t)st.st_size) : -1;
	close(fd);
	if (bytes < 0)
		return;
	n->loaded = true;
	c->bytes -= n->bytes;
	n->bytes = bytes ? (uint64_t)bytes : PAGE;
	c->bytes += n->bytes;
}

/*
 * A library @real (a real path) joins the library path, and the link
 * named by its DT_SONAME in the same directory comes along: the loader
 * opens "libinih.so.1", and maps names its target "libinih.so.55".
 */
static enum su_err add_library(struct closure *c, const char *real,
			       struct su_error *err)
{
	char link[PATH_MAX], file[PATH_MAX];
	const char *slash = strrchr(real, '/');
	struct stat st;
	struct elf_file elf;
	enum su_err rc;

	rc = elf_file_read(real, &elf, err);
	if (rc || !elf.is_elf)
		return rc;
	mark_loaded(c, real);
	rc = add_libdir(c, real, err);
	if (rc || !elf.soname[0] || !strcmp(slash + 1, elf.soname))
		return rc;
	if ((size_t)snprintf(link, sizeof(link), "%.*s/%s",
			     (int)(slash - real), real, elf.soname) >=
	    sizeof(link) || lstat(link, &st) < 0)
		return SU_OK;	/* not installed by that name here */
	return add_file(c, link, REQUIRED, file, err);
}

/* ---- the loader's --list ---- */

/*
 * Run @loader --list @file: its output (stdout and stderr) into *@out,
 * its wait status into *@status.
 */
static enum su_err run_list(const char *loader, const char *file, char **out,
			    int *status, struct su_error *err)
{
	char *const argv[] = { (char *)loader, "--list", (char *)file, NULL };
	char *const envp[] = { NULL };	/* no LD_* of ours */
	char sb[SU_SHOWN_SIZE(SHOWN)];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *buf = malloc(LIST_MAX + 1);
	enum su_err rc = SU_OK;
	bool overflow = false;
	size_t len = 0;
	int pfd[2], r;
	pid_t pid;

	if (!buf)
		return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(buf);
		return su_error_set(err, SU_ERR_IO, "closure: pipe: %m");
	}
	r = child_spawnattr_init(&attr);
	if (!r) {
		r = posix_spawn_file_actions_init(&fa);
		if (r)
			posix_spawnattr_destroy(&attr);
	}
	if (!r) {
		if (!(r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
							    O_RDONLY, 0)) &&
		    !(r = posix_spawn_file_actions_adddup2(&fa, pfd[1], 1)) &&
		    !(r = posix_spawn_file_actions_adddup2(&fa, pfd[1], 2)) &&
		    !(r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)))
			r = posix_spawn(&pid, loader, &fa, &attr, argv, envp);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
	}
	close(pfd[1]);
	if (r) {
		close(pfd[0]);
		free(buf);
		errno = r;
		return su_error_set(err, SU_ERR_IO, "closure: run %s --list %s: %m",
				    loader, shown(sb, file));
	}
	/* Read to the end, so the child never blocks on a full pipe. */
	for (;;) {
		char scratch[4096];
		ssize_t n = len < LIST_MAX ?
			read(pfd[0], buf + len, LIST_MAX - len) :
			read(pfd[0], scratch, sizeof(scratch));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < LIST_MAX)
			len += (size_t)n;
		else
			overflow = true;
	}
	close(pfd[0]);
	buf[len] = '\0';
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR) {
			rc = su_error_set(err, SU_ERR_IO, "closure: waitpid %s: %m",
					  loader);
			break;
		}
	if (!rc && overflow)
		rc = su_error_set(err, SU_ERR_CONFIG,
				  "closure: %s --list %s: more than %d bytes of output",
				  loader, shown(sb, file), LIST_MAX);
	if (rc)
		free(buf);
	else
		*out = buf;
	return rc;
}

/*
 * One line of --list output. glibc and musl both write
 *	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)
 *	/lib64/ld-linux-x86-64.so.2 (0x...)
 *	linux-vdso.so.1 (0x...)		(no file: skipped)
 *	libfoo.so.1 => not found
 */
static enum su_err list_line(struct closure *c, char *line, const char *file,
			     struct su_error *err)
{
	char sb[SU_SHOWN_SIZE(SHOWN)], lb[SU_SHOWN_SIZE(SHOWN)];
	char *arrow = strstr(line, " => ");
	char real[PATH_MAX];
	char *path, *end;
	enum su_err rc;

	path = arrow ? arrow + 4 : line + strspn(line, " \t");
	if (arrow && !strncmp(path, "not found", 9))
		return su_error_set(err, SU_ERR_CONFIG,
				    "closure: %s needs %s, which its loader does not find",
				    shown(sb, file),
				    su_shown(lb, SHOWN, line + strspn(line, " \t"),
					     (size_t)(arrow - line) -
					     strspn(line, " \t")));
	if (path[0] != '/')
		return SU_OK;
	end = strstr(path, " (0x");
	if (end)
		*end = '\0';
	rc = add_file(c, path, REQUIRED, real, err);
	return rc ? rc : add_library(c, real, err);
}

static enum su_err add_libraries(struct closure *c, const char *loader,
				 const char *file, struct su_error *err)
{
	char *out = NULL, *save = NULL;
	char sb[SU_SHOWN_SIZE(SHOWN)], ob[SU_SHOWN_SIZE(SHOWN)];
	enum su_err rc;
	int status;

	rc = run_list(loader, file, &out, &status, err);
	if (rc)
		return rc;
	/* The lines first: a library not found says which. */
	for (char *l = strtok_r(out, "\n", &save); !rc && l;
	     l = strtok_r(NULL, "\n", &save))
		rc = list_line(c, l, file, err);
	if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status)))
		rc = su_error_set(err, SU_ERR_CONFIG,
				  "closure: %s --list %s failed (status 0x%x): %s",
				  loader, shown(sb, file), (unsigned)status,
				  su_shown(ob, SHOWN, out, strlen(out)));
	free(out);
	return rc;
}

/* ---- what goes in ---- */

/* /proc/self/exe, read from there: the running binary even when the
 * file on disk has been replaced since. */
static enum su_err add_exe(struct closure *c, struct su_error *err)
{
	char path[PATH_MAX];
	struct elf_file elf;
	struct stat st;
	size_t len;
	ssize_t n;
	enum su_err rc;

	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n < 0 || stat("/proc/self/exe", &st) < 0)
		return su_error_set(err, SU_ERR_IO, "closure: /proc/self/exe: %m");
	path[n] = '\0';
	len = (size_t)n;
	if (len > strlen(DELETED) &&
	    !strcmp(path + len - strlen(DELETED), DELETED))
		path[len - strlen(DELETED)] = '\0';
	c->exe = strdup(path);
	if (!c->exe)
		return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
	rc = add_node(c, NODE_FILE, path, "/proc/self/exe", NULL, &st, err);
	if (!rc)
		rc = elf_file_read("/proc/self/exe", &elf, err);
	if (!rc && elf.is_elf)
		mark_loaded(c, path);
	if (rc || !elf.interp[0])
		return rc;	/* static: no loader */
	rc = add_file(c, elf.interp, REQUIRED, path, err);
	if (rc)
		return rc;
	c->loader = strdup(path);
	if (!c->loader)
		return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
	return add_library(c, path, err);
}

static bool under(const char *path, const char *dir)
{
	size_t len = dir ? strlen(dir) : 0;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	return len && !strncmp(path, dir, len) &&
		(path[len] == '/' || !path[len]);
}

/*
 * One /proc/self/maps line: "addr perms offset dev inode   path".
 * Only regular files count; "[vdso]", anonymous and "memfd:" maps have
 * no file to copy. A "(deleted)" file was replaced or removed on disk:
 * what the path holds now, if anything, is what a new exec would load.
 */
static enum su_err maps_line(struct closure *c, char *line,
			     struct su_error *err)
{
	char real[PATH_MAX];
	struct stat st;
	enum su_err rc;
	char *path;
	size_t len;
	int at = -1;

	if (sscanf(line, "%*s %*s %*s %*s %*s %n", &at) < 0 || at < 0 ||
	    line[at] != '/')
		return SU_OK;
	path = line + at;
	len = strlen(path);
	if (len > strlen(DELETED) && !strcmp(path + len - strlen(DELETED),
					     DELETED))
		path[len - strlen(DELETED)] = '\0';
	if (!strncmp(path, "/memfd:", 7) || under(path, c->skip) ||
	    known(c, path) || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return SU_OK;
	rc = add_file(c, path, REQUIRED, real, err);
	return rc ? rc : add_library(c, real, err);
}

static enum su_err add_maps(struct closure *c, struct su_error *err)
{
	enum su_err rc = SU_OK;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return su_error_set(err, SU_ERR_IO, "closure: open /proc/self/maps: %m");
	while (!rc && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		rc = maps_line(c, line, err);
	}
	free(line);
	fclose(f);
	return rc;
}

/* keys_dir and every regular file in it, as keyring_load_dir() reads
 * them (dot files skipped, links followed). */
static enum su_err add_keys(struct closure *c, const char *dir,
			    struct su_error *err)
{
	char real[PATH_MAX], file[PATH_MAX];
	enum su_err rc;
	struct dirent *e;
	struct stat st;
	DIR *d;

	rc = resolve(c, dir, real, &st, NULL, err);
	if (rc)
		return rc;
	if (!S_ISDIR(st.st_mode))
		return su_error_set(err, SU_ERR_CONFIG,
				    "closure: keys %s is not a directory", dir);
	rc = add_node(c, NODE_DIR, real, NULL, NULL, &st, err);
	if (rc)
		return rc;
	d = opendir(real);
	if (!d)
		return su_error_set(err, SU_ERR_IO, "closure: keys %s: %m", dir);
	while (!rc && (e = readdir(d))) {
		char path[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", real,
				     e->d_name) >= sizeof(path))
			continue;	/* keyring_load_dir cannot open it either */
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = add_file(c, path, REQUIRED, file, err);
	}
	closedir(d);
	return rc;
}

/*
 * fw_env_config and the environment copies it names that are regular
 * files (a rig's, or one on a data partition): "DEVICE OFFSET SIZE ...",
 * '#' comments. MTD and block devices come with /dev.
 */
static enum su_err add_fw_env(struct closure *c, const char *config,
			      struct su_error *err)
{
	char real[PATH_MAX], file[PATH_MAX];
	enum su_err rc;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	rc = add_file(c, config, OPTIONAL, real, err);
	if (rc || !real[0])
		return rc;
	f = fopen(real, "re");
	if (!f)
		return su_error_set(err, SU_ERR_IO, "closure: open %s: %m", real);
	while (!rc && getline(&line, &cap, f) > 0) {
		char *dev = line + strspn(line, " \t");
		struct stat st;

		dev[strcspn(dev, " \t\r\n")] = '\0';
		if (dev[0] == '/' && stat(dev, &st) == 0 && S_ISREG(st.st_mode))
			rc = add_file(c, dev, REQUIRED, file, err);
	}
	free(line);
	fclose(f);
	return rc;
}

/* One of extra_files: a file (an ELF one brings its libraries) or a
 * directory, taken whole. */
static enum su_err add_extra(struct closure *c, const char *path,
			     struct su_error *err)
{
	char real[PATH_MAX], sb[SU_SHOWN_SIZE(SHOWN)];
	const char *loader;
	struct stat st;
	struct elf_file elf;
	enum su_err rc;

	if (stat(path, &st) < 0)
		return su_error_set(err, SU_ERR_CONFIG,
				    "closure: extra_files %s: %m", shown(sb, path));
	if (S_ISDIR(st.st_mode))
		return add_tree(c, path, err);
	rc = add_file(c, path, REQUIRED, real, err);
	if (!rc)
		rc = elf_file_read(real, &elf, err);
	if (rc || !elf.is_elf || (!elf.dynamic && !elf.interp[0]))
		return rc;	/* a script, data, a static program */
	/* A library has no PT_INTERP of its own: ours loads it. */
	if (elf.interp[0]) {
		rc = add_file(c, elf.interp, REQUIRED, real, err);
		if (rc)
			return rc;
		rc = add_library(c, real, err);
		if (rc)
			return rc;
		loader = elf.interp;
	} else if (c->loader) {
		loader = c->loader;
	} else {
		return su_error_set(err, SU_ERR_CONFIG,
				    "closure: extra_files %s is a shared object, and this static sysupgraded has no loader to list its libraries",
				    shown(sb, path));
	}
	return add_libraries(c, loader, path, err);
}

static enum su_err join_libdirs(struct closure *c, struct su_error *err)
{
	size_t len = 1;
	char *p;

	for (size_t i = 0; i < c->n_libdirs; i++)
		len += strlen(c->libdirs[i]) + 1;
	p = c->library_path = malloc(len);
	if (!p)
		return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
	*p = '\0';
	for (size_t i = 0; i < c->n_libdirs; i++)
		p += sprintf(p, "%s%s", i ? ":" : "", c->libdirs[i]);
	return SU_OK;
}

static enum su_err plan(struct closure *c, const struct config *cfg,
			struct su_error *err)
{
	/* the files the daemon reads at start, besides keys and www */
	const char *files[] = { cfg->tls_cert, cfg->tls_key, cfg->client_ca,
				cfg->version_file };
	char real[PATH_MAX];
	enum su_err rc;

	rc = add_exe(c, err);
	if (!rc)
		rc = add_maps(c, err);
	if (!rc)
		rc = add_file(c, cfg->path, REQUIRED, real, err);
	if (!rc && cfg->keys_dir)
		rc = add_keys(c, cfg->keys_dir, err);
	for (size_t i = 0; !rc && i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i])
			rc = add_file(c, files[i], REQUIRED, real, err);
	/* a command line file of the rig's own (not /proc/cmdline) */
	if (!rc && cfg->cmdline && strncmp(cfg->cmdline, "/proc/", 6))
		rc = add_file(c, cfg->cmdline, OPTIONAL, real, err);
	if (!rc && cfg->www_dir)
		rc = add_tree(c, cfg->www_dir, err);
	if (!rc && cfg->fw_env_config)
		rc = add_fw_env(c, cfg->fw_env_config, err);
	for (size_t i = 0; !rc && i < cfg->n_extra_files; i++)
		rc = add_extra(c, cfg->extra_files[i], err);
	return rc ? rc : join_libdirs(c, err);
}

enum su_err closure_plan(const struct config *cfg, struct closure **out,
			 struct su_error *err)
{
	struct closure *c = calloc(1, sizeof(*c));
	enum su_err rc;

	*out = NULL;
	if (!c)
		return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
	/* Real, as /proc/self/maps names files. */
	if (cfg->staging_dir) {
		c->skip = realpath(cfg->staging_dir, NULL);
		if (!c->skip)
			c->skip = strdup(cfg->staging_dir);
		if (!c->skip) {
			free(c);
			return su_error_set(err, SU_ERR_NOMEM, "closure: %m");
		}
	}
	rc = plan(c, cfg, err);
	if (rc) {
		closure_free(c);
		return rc;
	}
	*out = c;
	return SU_OK;
}

uint64_t closure_bytes(const struct closure *c)
{
	return c->bytes;
}

const char *closure_loader(const struct closure *c)
{
	return c->loader;
}

const char *closure_library_path(const struct closure *c)
{
	return c->library_path;
}

const char *closure_exe(const struct closure *c)
{
	return c->exe;
}

void closure_free(struct closure *c)
{
	if (!c)
		return;
	tdestroy(c->index, free);	/* the node paths */
	for (size_t i = 0; i < c->n; i++) {
		free(c->nodes[i].src);
		free(c->nodes[i].target);
	}
	free(c->nodes);
	for (size_t i = 0; i < c->n_libdirs; i++)
		free(c->libdirs[i]);
	free(c->libdirs);
	free(c->exe);
	free(c->loader);
	free(c->library_path);
	free(c->skip);
	free(c);
}

/* ---- the copy ---- */

static enum su_err copy_failed(const char *root, const char *path,
			       const char *what, struct su_error *err)
{
	return su_error_set(err, errno == ENOSPC || errno == EDQUOT ?
			    SU_ERR_NO_SPACE : SU_ERR_IO,
			    "closure: %s %s%s: %m", what, root, path);
}

/*
 * The directory of @path inside ROOT (@rootfd), every component opened
 * O_NOFOLLOW: nothing the copy made, and nothing put there meanwhile,
 * leads out of ROOT. *@name points at @path's last component.
 */
static int open_parent(int rootfd, const char *path, const char **name)
{
	char comp[NAME_MAX + 1];
	const char *p = path + strspn(path, "/");
	int fd = dup(rootfd);

	for (;;) {
		if (fd < 0)
			return -1;
		size_t len = strcspn(p, "/");
		int next;

		if (!p[len]) {
			*name = p;
			return fd;
		}
		if (len > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		fd = next;
		p += len + strspn(p + len, "/");
	}
}

/* [@from, @to) of @in at the same offsets of @out: copy_file_range
 * where the kernel can (same filesystem type), else sendfile. */
static int copy_range(int in, int out, uint64_t from, uint64_t to)
{
	off_t at = (off_t)from;
	bool range = true;
	ssize_t n;

	if (lseek(in, at, SEEK_SET) < 0 || lseek(out, at, SEEK_SET) < 0)
		return -1;
	while ((uint64_t)at < to) {
		size_t len = to - (uint64_t)at > (1u << 30) ? 1u << 30 :
			(size_t)(to - (uint64_t)at);

		if (range) {
			n = copy_file_range(in, NULL, out, NULL, len, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
				      errno == ENOSYS || errno == EOPNOTSUPP)) {
				range = false;
				continue;
			}
		} else {
			n = sendfile(out, in, NULL, len);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;	/* shorter than it was a moment ago */
			return -1;
		}
		at += n;
	}
	return 0;
}

/* All of @in, or for a loaded file only what its loader needs, the
 * rest a hole of the same length. */
static int copy_bytes(int in, int out, uint64_t size, bool loaded)
{
	struct elf_range *r;
	size_t n;
	int rc = 0;

	if (!loaded || elf_file_ranges(in, size, page_size(), &r, &n) < 0)
		return copy_range(in, out, 0, size);
	if (ftruncate(out, (off_t)size) < 0)
		rc = -1;
	for (size_t i = 0; !rc && i < n; i++)
		rc = copy_range(in, out, r[i].start, r[i].end);
	free(r);
	return rc;
}

static int open_target(int dir, const char *name)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
			O_CLOEXEC, 0600);

	/* A symlink there from an earlier copy: replace it. */
	if (fd < 0 && errno == ELOOP && unlinkat(dir, name, 0) == 0)
		fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd;
}

static enum su_err copy_file(const struct node *n, int dir, const char *name,
			     const char *root, struct su_error *err)
{
	const char *src = n->src ? n->src : n->path;
	struct stat st;
	enum su_err rc = SU_OK;
	int in, out;

	in = open(src, O_RDONLY | O_CLOEXEC | (n->src ? 0 : O_NOFOLLOW));
	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (in >= 0 && !S_ISREG(st.st_mode))
			errno = EINVAL;
		rc = su_error_set(err, SU_ERR_IO,
				  "closure: open %s as a regular file: %m", src);
		if (in >= 0)
			close(in);
		return rc;
	}
	out = open_target(dir, name);
	if (out < 0) {
		rc = copy_failed(root, n->path, "create", err);
		close(in);
		return rc;
	}
	/* chown before chmod: chown clears set-id bits. */
	if (copy_bytes(in, out, (uint64_t)st.st_size, n->loaded) < 0)
		rc = copy_failed(root, n->path, "copy to", err);
	else if (fchown(out, st.st_uid, st.st_gid) < 0 ||
		 fchmod(out, st.st_mode & 07777) < 0 ||
		 futimens(out, (struct timespec[2]){ st.st_atim, st.st_mtim }) < 0)
		rc = copy_failed(root, n->path, "set owner, mode, times of", err);
	if (close(out) < 0 && !rc)
		rc = copy_failed(root, n->path, "write", err);
	close(in);
	return rc;
}

static enum su_err copy_link(const struct node *n, int dir, const char *name,
			     const char *root, struct su_error *err)
{
	char have[PATH_MAX];
	ssize_t len;

	if (symlinkat(n->target, dir, name) < 0) {
		if (errno != EEXIST)
			return copy_failed(root, n->path, "symlink", err);
		/* From an earlier copy: the same link stays. */
		len = readlinkat(dir, name, have, sizeof(have) - 1);
		if (len >= 0)
			have[len] = '\0';
		if ((len < 0 || strcmp(have, n->target)) &&
		    (unlinkat(dir, name, 0) < 0 ||
		     symlinkat(n->target, dir, name) < 0))
			return copy_failed(root, n->path, "symlink", err);
	}
	if (fchownat(dir, name, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(dir, name, n->times, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_failed(root, n->path, "set owner, times of", err);
	return SU_OK;
}

/* Created 0700 and owned now; its mode and times once it is full. */
static enum su_err make_dir(const struct node *n, int dir, const char *name,
			    const char *root, struct su_error *err)
{
	if (mkdirat(dir, name, 0700) < 0 && errno != EEXIST)
		return copy_failed(root, n->path, "mkdir", err);
	if (fchownat(dir, name, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_failed(root, n->path, "chown", err);
	return SU_OK;
}

static enum su_err finish_dir(const struct node *n, int rootfd,
			      const char *root, struct su_error *err)
{
	const char *name;
	enum su_err rc = SU_OK;
	int dir = open_parent(rootfd, n->path, &name);
	int fd;

	if (dir < 0)
		return copy_failed(root, n->path, "open the parent of", err);
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, n->mode) < 0 || futimens(fd, n->times) < 0)
		rc = copy_failed(root, n->path, "set mode, times of", err);
	if (fd >= 0)
		close(fd);
	close(dir);
	return rc;
}

static enum su_err copy_node(const struct node *n, int rootfd, const char *root,
			     struct su_error *err)
{
	const char *name;
	enum su_err rc;
	int dir = open_parent(rootfd, n->path, &name);

	if (dir < 0)
		return copy_failed(root, n->path, "open the parent of", err);
	switch (n->type) {
	case NODE_DIR:
		rc = make_dir(n, dir, name, root, err);
		break;
	case NODE_FILE:
		rc = copy_file(n, dir, name, root, err);
		break;
	default:
		rc = copy_link(n, dir, name, root, err);
		break;
	}
	close(dir);
	return rc;
}

enum su_err closure_copy(const struct closure *c, const char *root,
			 struct su_error *err)
{
	enum su_err rc = SU_OK;
	int rootfd;

	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return su_error_set(err, SU_ERR_IO, "closure: mkdir %s: %m", root);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return su_error_set(err, SU_ERR_IO, "closure: open %s: %m", root);
	for (size_t i = 0; !rc && i < c->n; i++)
		rc = copy_node(&c->nodes[i], rootfd, root, err);
	/* Children first, so a directory's mtime is not touched again. */
	for (size_t i = c->n; !rc && i-- > 0;)
		if (c->nodes[i].type == NODE_DIR)
			rc = finish_dir(&c->nodes[i], rootfd, root, err);
	close(rootfd);
	return rc;
}
