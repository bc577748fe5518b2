/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tar: a tarball extracted onto the filesystem of the target's block
 * device, mounted at a private mount point for the time of the write.
 *
 * Target options:
 *   fstype = NAME          (default ext4) the filesystem type, for
 *                          mount(2) and for mkfs.NAME
 *   mkfs = yes|no          (default no) make a fresh filesystem first:
 *                          mkfs.NAME [-q -F for ext2/3/4] [mkfs_options] DEVICE
 *   mkfs_options = ARGS    more mkfs arguments, split on spaces (no shell)
 *   clear = yes|no         (default no) remove the old contents (all but
 *                          the top-level lost+found) before extracting
 *   allow_devices = yes|no (default no) accept character and block
 *                          device nodes (a root filesystem's /dev)
 *
 * Owners are restored as the numeric uid/gid of the archive: the host's
 * user database says nothing about the target's.
 *
 * The target is mounted at /run/sysupgraded-tar.XXXXXX/root: the parent
 * is root's and 0700, so no other user walks the tree while it is being
 * written (the mount's own root is the filesystem's, usually 0755).
 *
 * The archive goes into a hidden directory at the top of the target,
 * STAGE_NAME, and only finish() moves it into place: entry by entry, a
 * new non-directory replaces the old one (rename), a new directory
 * takes the old one's place (RENAME_EXCHANGE, so its mode, owner, times
 * and xattrs are the archive's) and the old one's entries that the
 * archive does not have move into it. Nothing follows a symlink or
 * leaves the target's filesystem. abort() (a payload whose hash did not
 * match, a failed write) removes the directory, so the target keeps its
 * old contents and holds no file of that archive. A directory left by a
 * power cut is removed at open. Hardlinks in the archive name files of
 * the archive, as the extraction runs inside that directory.
 *
 * Design. libarchive pulls its input while the install engine pushes
 * bytes into write(), so the extraction runs elsewhere and reads a
 * stream. That is a fork()ed child, fed through a socketpair:
 *  - the child can chdir() into the mount point and extract relative
 *    names, so ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS, _NODOTDOT and
 *    _SYMLINKS judge the archive's own names, as they are meant to. A
 *    thread would share the daemon's working directory, and prefixing
 *    names with the mount point would make every name absolute;
 *  - a crash or memory corruption while parsing an archive ends the
 *    child, not the daemon, and is reported as a failed write;
 *  - send(MSG_NOSIGNAL) on a socket turns the child's early exit into
 *    EPIPE for write(), where a pipe would raise SIGPIPE.
 * The child reports its error in a shared anonymous page and exits 1.
 * It calls nothing but libarchive and the C library (glibc keeps malloc
 * usable after fork in a threaded program) and leaves with _exit(),
 * its libarchive handles freed first (tar_extract). abort() ends the
 * stream and lets the child stop at its end; SIGKILL only for a child
 * that does not (CHILD_WAIT_MS).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "blockdev.h"
#include "child.h"
#include "tar.h"

#define MKFS_MAX_ARGS	32
#define MOUNT_FLAGS	(MS_NOSUID | MS_NODEV)
#define EXTRACT_FLAGS	(ARCHIVE_EXTRACT_SECURE_NODOTDOT |		\
			 ARCHIVE_EXTRACT_SECURE_SYMLINKS |		\
			 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |	\
			 ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |	\
			 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |	\
			 ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_TIME)
/* Not ARCHIVE_EXTRACT_UNLINK: with it, _SECURE_SYMLINKS removes a
 * symlink met on the way to a name instead of refusing the archive. The
 * extraction starts in an empty directory, so an existing file is one
 * the archive made; libarchive replaces it (O_EXCL, then unlink). */
#define STAGE_NAME	".sysupgraded-new"
#define PATH_SHOWN	160	/* bytes of a file's name in a message */
#define CHILD_WAIT_MS	5000	/* abort: for the child to see the end */

extern char **environ;


struct tar {
	char *device;
	char base[64];		/* 0700, root's: the mount point's parent */
	char mountdir[80];	/* base/root */
	char stagedir[112];	/* mountdir/STAGE_NAME */
	bool made_base, made_dir, mounted;
	bool allow_devices;
	int rootfd;		/* mountdir, while mounted */
	dev_t fs;		/* the target's filesystem */
	pid_t child;
	int sock;		/* our end; the child reads the tar from it */
	struct tar_report *report;	/* shared with the child */
	uint64_t size, given;
};

static const char *const known_options[] = {
	"fstype", "mkfs", "mkfs_options", "clear", "allow_devices", NULL
};
static const char *const flag_options[] = {
	"mkfs", "clear", "allow_devices", NULL
};

/* read(), again after a signal. */
static ssize_t read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Read @fd to its end, keeping nothing. */
static void drain(int fd)
{
	char buf[4096];

	while (read_retry(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- the extraction (the child's, or a fuzzer's in-process) ---- */

/* One extraction: its libarchive handles and its report. */
struct extraction {
	struct archive *in, *out;
	bool allow_devices;
	struct tar_report *report;
};

static const char *why(struct archive *a)
{
	const char *s = archive_error_string(a);

	return s ? s : "unknown libarchive error";
}

static int __attribute__((format(printf, 2, 3)))
extract_fail(struct extraction *x, const char *fmt, ...)
{
	char raw[TAR_RAW_MESSAGE + 1];
	va_list ap;

	/* Names in it are the archive's, libarchive's messages quote them
	 * too: the whole of it is shown safely. */
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	su_shown(x->report->message, TAR_RAW_MESSAGE, raw, strlen(raw));
	return -1;
}

static const char *entry_name(struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);

	return name ? name : "(no name)";
}

static int copy_data(struct extraction *x, struct archive_entry *e)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(x->in, &buf, &len, &off)) ==
	       ARCHIVE_OK)
		if (archive_write_data_block(x->out, buf, len, off) <
		    ARCHIVE_OK)
			return extract_fail(x, "%s: %s", entry_name(e),
					    why(x->out));
	if (r != ARCHIVE_EOF)
		return extract_fail(x, "%s: %s", entry_name(e), why(x->in));
	return 0;
}

/* @name without the "./" and "/" it may start with. */
static const char *relative(const char *name)
{
	for (;;) {
		if (name[0] == '/')
			name++;
		else if (name[0] == '.' && name[1] == '/')
			name += 2;
		else
			return name;
	}
}

/* The archive's "." is the target's top directory: finish() gives that
 * the staging directory's mode, owner and times. A name inside the
 * staging directory's own would be moved onto itself. */
static int check_name(struct extraction *x, struct archive_entry *e)
{
	const char *rel = relative(entry_name(e));
	size_t n = strlen(STAGE_NAME);

	if (!rel[0] || !strcmp(rel, "."))
		x->report->root_entry = true;
	if (!strncmp(rel, STAGE_NAME, n) && (!rel[n] || rel[n] == '/'))
		return extract_fail(x, "%s: name reserved for the extraction (%s)",
				    entry_name(e), STAGE_NAME);
	return 0;
}

static int extract_entry(struct extraction *x, struct archive_entry *e)
{
	mode_t type = archive_entry_filetype(e);

	if (check_name(x, e) < 0)
		return -1;
	if ((type == AE_IFCHR || type == AE_IFBLK) && !x->allow_devices)
		return extract_fail(x, "%s: device node refused (allow_devices = no)",
				    entry_name(e));
	/* A warning here is a mode, owner, xattr or ACL that was not
	 * kept: for a root filesystem that is a broken image. */
	if (archive_write_header(x->out, e) != ARCHIVE_OK)
		return extract_fail(x, "%s: %s", entry_name(e), why(x->out));
	if (archive_entry_size(e) > 0 && copy_data(x, e) < 0)
		return -1;
	if (archive_write_finish_entry(x->out) != ARCHIVE_OK)
		return extract_fail(x, "%s: %s", entry_name(e), why(x->out));
	return 0;
}

static int extract_stream(struct extraction *x, int fd, const char *root)
{
	struct archive_entry *e;
	int r;

	if (!x->in || !x->out)
		return extract_fail(x, "libarchive: out of memory");
	if (chdir(root) < 0)
		return extract_fail(x, "chdir %s: %s", root, strerror(errno));
	umask(022);	/* for parents the archive does not list */
	/* tar covers ustar, pax and GNU tar. No user-database lookup is
	 * set on @out, so owners stay numeric. */
	archive_read_support_format_tar(x->in);
	archive_write_disk_set_options(x->out, EXTRACT_FLAGS);
	if (archive_read_open_fd(x->in, fd, 64 * 1024) != ARCHIVE_OK)
		return extract_fail(x, "%s", why(x->in));
	while ((r = archive_read_next_header(x->in, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			return extract_fail(x, "%s", why(x->in));
		if (extract_entry(x, e) < 0)
			return -1;
	}
	/* Directory modes and times are set here, last. */
	if (archive_write_close(x->out) != ARCHIVE_OK)
		return extract_fail(x, "%s", why(x->out));
	/* Take what follows the end marker (tar pads to a record), so the
	 * parent's last write() does not meet a closed socket. */
	drain(fd);
	return 0;
}

/* The handles are freed on every path: the child leaves with _exit(),
 * which skips atexit(), where LeakSanitizer would look (valgrind saw
 * them leak on every install, LSan could not). After a failure,
 * freeing the output still sets the modes and times of the directories
 * made so far, in the stage that abort() removes; archive_write_fail()
 * would spare that, but then libarchive 3.6 never frees its list of
 * them. */
int tar_extract(int fd, const char *root, bool allow_devices,
		struct tar_report *report)
{
	struct extraction x = {
		.in = archive_read_new(),
		.out = archive_write_disk_new(),
		.allow_devices = allow_devices,
		.report = report,
	};
	int r = extract_stream(&x, fd, root);

	if (x.out)
		archive_write_free(x.out);
	if (x.in)
		archive_read_free(x.in);
	return r;
}

/* ---- the parent ---- */

static enum su_err start_child(struct tar *t, struct su_error *err)
{
	int sv[2];

	t->report = mmap(NULL, sizeof(*t->report), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->report == MAP_FAILED) {
		t->report = NULL;
		return su_error_set(err, SU_ERR_NOMEM, "tar %s: mmap: %m",
				    t->device);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "tar %s: socketpair: %m", t->device);
	t->child = fork();
	if (t->child < 0) {
		close(sv[0]);
		close(sv[1]);
		return su_error_set(err, SU_ERR_WRITE_FAILED, "tar %s: fork: %m",
				    t->device);
	}
	if (t->child == 0) {
		child_reset_signals();
		/* Hold nothing of the daemon's (client sockets, devices). */
		if (sv[1] > 3)
			close_range(3, (unsigned)sv[1] - 1, 0);
		close_range((unsigned)sv[1] + 1, ~0u, 0);
		_exit(tar_extract(sv[1], t->stagedir, t->allow_devices,
				  t->report) < 0);
	}
	close(sv[1]);
	t->sock = sv[0];
	return SU_OK;
}

/* Wait for the child and say how the extraction went. */
static enum su_err reap_child(struct tar *t, struct su_error *err)
{
	int status;
	pid_t pid;

	if (t->child <= 0)
		return su_error_set(err, SU_ERR_INTERNAL,
				    "extract onto %s: no extraction process",
				    t->device);
	do
		pid = waitpid(t->child, &status, 0);
	while (pid < 0 && errno == EINTR);
	t->child = -1;
	if (pid < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "extract onto %s: waitpid: %m", t->device);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return SU_OK;
	if (WIFEXITED(status)) {
		t->report->message[sizeof(t->report->message) - 1] = '\0';
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "extract onto %s: %s", t->device,
				    t->report->message[0] ? t->report->message :
				    "extraction failed");
	}
	return su_error_set(err, SU_ERR_WRITE_FAILED,
			    "extract onto %s: extraction process killed by signal %d",
			    t->device, WTERMSIG(status));
}

/* mkfs.FSTYPE's stderr, kept for the error message. */
static void read_output(int fd, char *out, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len &&
	       (n = read_retry(fd, out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	drain(fd);
	while (got && (out[got - 1] == '\n' || out[got - 1] == ' '))
		got--;
	out[got] = '\0';
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

static enum su_err spawn_wait(char **argv, const char *device,
			      struct su_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char output[300];
	int p[2], status, r;
	pid_t pid;

	r = child_spawnattr_init(&attr);
	if (r) {
		errno = r;
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s %s: posix_spawnattr: %m", argv[0], device);
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		posix_spawnattr_destroy(&attr);
		return su_error_set(err, SU_ERR_WRITE_FAILED, "%s %s: pipe: %m",
				    argv[0], device);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(p[1]);
	if (r) {
		close(p[0]);
		errno = r;
		return su_error_set(err, SU_ERR_WRITE_FAILED, "%s %s: %m",
				    argv[0], device);
	}
	read_output(p[0], output, sizeof(output));
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return su_error_set(err, SU_ERR_WRITE_FAILED,
					    "%s %s: waitpid: %m", argv[0], device);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s %s: failed (status %d): %s", argv[0],
				    device, status, output);
	return SU_OK;
}

static enum su_err run_mkfs(const struct config_target *cfg, const char *dev,
			    const char *fstype, struct su_error *err)
{
	const char *opts = config_target_option(cfg, "mkfs_options");
	char prog[48], *copy = NULL, *save, *arg;
	char *argv[MKFS_MAX_ARGS + 5];
	size_t n = 0;
	enum su_err rc;

	snprintf(prog, sizeof(prog), "mkfs.%s", fstype);
	argv[n++] = prog;
	if (!strncmp(fstype, "ext", 3)) {	/* quiet, and no questions */
		argv[n++] = (char *)"-q";
		argv[n++] = (char *)"-F";
	}
	if (opts) {
		copy = strdup(opts);
		if (!copy)
			return su_error_set(err, SU_ERR_NOMEM, "mkfs %s: %m", dev);
		for (arg = strtok_r(copy, " \t", &save); arg;
		     arg = strtok_r(NULL, " \t", &save)) {
			if (n == MKFS_MAX_ARGS + 3) {
				free(copy);
				return su_error_set(err, SU_ERR_CONFIG,
						    "target %s: mkfs_options has more than %d arguments",
						    cfg->name, MKFS_MAX_ARGS);
			}
			argv[n++] = arg;
		}
	}
	argv[n++] = (char *)dev;
	argv[n] = NULL;
	rc = spawn_wait(argv, dev, err);
	free(copy);
	return rc;
}

/* ---- the tree below the mount point ---- */

/*
 * An error on the file @path (relative to the mount point; its name is
 * the archive's or the old tree's, so it is shown safely): "@what
 * MOUNTDIR/PATH: @why", or the errno text without @why.
 */
static enum su_err file_error(const struct tar *t, const char *what,
			      const char *path, const char *why,
			      struct su_error *err)
{
	char shown[SU_SHOWN_SIZE(PATH_SHOWN)];
	const char *cause = why ? why : strerror(errno);

	return su_error_set(err, SU_ERR_WRITE_FAILED, "%s %s/%s: %s", what,
			    t->mountdir, su_shown(shown, PATH_SHOWN, path,
						  strlen(path)), cause);
}

static int open_dir_at(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		      O_CLOEXEC);
}

/*
 * Called for the entry @name (lstat @st) of the directory @dfd, whose
 * path from the mount point is in @path (of @len bytes), @ctx the
 * walk's own.
 */
typedef enum su_err (*entry_fn)(struct tar *t, int dfd, const char *name,
				const struct stat *st, char *path, size_t len,
				void *ctx, struct su_error *err);

/* @fn for each entry of the directory @dfd (at @path), in readdir order. */
static enum su_err for_each_entry(struct tar *t, int dfd, char *path,
				  size_t len, entry_fn fn, void *ctx,
				  struct su_error *err)
{
	size_t plen = strlen(path);
	enum su_err rc = SU_OK;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	fd = dup(dfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		rc = file_error(t, "opendir", path, NULL, err);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		const char *name = de->d_name;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		snprintf(path + plen, len - plen, "%s%s", plen ? "/" : "", name);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			rc = file_error(t, "lstat", path, NULL, err);
		else
			rc = fn(t, dfd, name, &st, path, len, ctx, err);
		path[plen] = '\0';
	}
	if (!rc && errno)
		rc = file_error(t, "readdir", path, NULL, err);
	closedir(d);
	return rc;
}

static enum su_err clear_entry(struct tar *t, int dfd, const char *name,
			       const struct stat *st, char *path, size_t len,
			       void *ctx, struct su_error *err);

/* Remove @name below @dfd (at @path), a directory with all below it,
 * or with @keep_dir only what is below it. */
static enum su_err remove_entry(struct tar *t, int dfd, const char *name,
				const struct stat *st, char *path, size_t len,
				bool keep_dir, struct su_error *err)
{
	enum su_err rc;
	int fd;

	if (!S_ISDIR(st->st_mode)) {
		if (unlinkat(dfd, name, 0) < 0)
			return file_error(t, "remove", path, NULL, err);
		return SU_OK;
	}
	if (st->st_dev != t->fs)
		return file_error(t, "remove", path,
				  "another filesystem is mounted there", err);
	fd = open_dir_at(dfd, name);
	if (fd < 0)
		return file_error(t, "remove", path, NULL, err);
	rc = for_each_entry(t, fd, path, len, clear_entry, NULL, err);
	close(fd);
	if (!rc && !keep_dir && unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		rc = file_error(t, "remove", path, NULL, err);
	return rc;
}

/* clear = yes: all goes but the top-level lost+found, which e2fsck wants
 * (emptied). */
static enum su_err clear_entry(struct tar *t, int dfd, const char *name,
			       const struct stat *st, char *path, size_t len,
			       void *ctx, struct su_error *err)
{
	(void)ctx;
	return remove_entry(t, dfd, name, st, path, len,
			    S_ISDIR(st->st_mode) && !strcmp(path, "lost+found"),
			    err);
}

static enum su_err clear_tree(struct tar *t, struct su_error *err)
{
	char path[PATH_MAX] = "";

	return for_each_entry(t, t->rootfd, path, sizeof(path), clear_entry,
			      NULL, err);
}

/* The staging directory and all in it, if it is there. */
static enum su_err remove_stage(struct tar *t, struct su_error *err)
{
	char path[PATH_MAX] = STAGE_NAME;
	struct stat st;

	if (fstatat(t->rootfd, STAGE_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? SU_OK :
		       file_error(t, "lstat", path, NULL, err);
	return remove_entry(t, t->rootfd, STAGE_NAME, &st, path, sizeof(path),
			    false, err);
}

static enum su_err make_stage(struct tar *t, struct su_error *err)
{
	snprintf(t->stagedir, sizeof(t->stagedir), "%s/%s", t->mountdir,
		 STAGE_NAME);
	if (mkdirat(t->rootfd, STAGE_NAME, 0700) < 0)
		return file_error(t, "mkdir", STAGE_NAME, NULL, err);
	return SU_OK;
}

/* The directory a walk of the moving tree puts its entries into. */
struct into {
	int dfd;
};

static enum su_err fold_entry(struct tar *t, int ofd, const char *name,
			      const struct stat *st, char *path, size_t len,
			      void *ctx, struct su_error *err);

/* Walk the directory @name below @sfd with @fn into @name below @dfd,
 * then remove it (empty by then). */
static enum su_err merge_dir(struct tar *t, int sfd, int dfd, const char *name,
			     char *path, size_t len, entry_fn fn,
			     struct su_error *err)
{
	struct into sub;
	enum su_err rc;
	int from;

	from = open_dir_at(sfd, name);
	sub.dfd = open_dir_at(dfd, name);
	if (from < 0 || sub.dfd < 0)
		rc = file_error(t, "open", path, NULL, err);
	else
		rc = for_each_entry(t, from, path, len, fn, &sub, err);
	if (from >= 0)
		close(from);
	if (sub.dfd >= 0)
		close(sub.dfd);
	if (!rc && unlinkat(sfd, name, AT_REMOVEDIR) < 0)
		rc = file_error(t, "rmdir", path, NULL, err);
	return rc;
}

/* The old tree's @name (below @ofd), whose directory the new tree
 * replaced: it moves into the new directory unless the archive has that
 * name, where the archive's wins (directories: merged again). */
static enum su_err fold_entry(struct tar *t, int ofd, const char *name,
			      const struct stat *st, char *path, size_t len,
			      void *ctx, struct su_error *err)
{
	const struct into *to = ctx;
	struct stat new;

	if (S_ISDIR(st->st_mode) && st->st_dev != t->fs)
		return file_error(t, "install", path,
				  "another filesystem is mounted there", err);
	if (fstatat(to->dfd, name, &new, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return file_error(t, "lstat", path, NULL, err);
		if (renameat(ofd, name, to->dfd, name) < 0)
			return file_error(t, "keep", path, NULL, err);
		return SU_OK;
	}
	if (S_ISDIR(st->st_mode) && S_ISDIR(new.st_mode))
		return merge_dir(t, ofd, to->dfd, name, path, len, fold_entry,
				 err);
	return remove_entry(t, ofd, name, st, path, len, false, err);
}

/* The archive's @name (below the staging directory @sfd) into its place
 * below @ctx's directory. */
static enum su_err install_entry(struct tar *t, int sfd, const char *name,
				 const struct stat *st, char *path, size_t len,
				 void *ctx, struct su_error *err)
{
	const struct into *to = ctx;
	struct stat old;

	if (fstatat(to->dfd, name, &old, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return file_error(t, "lstat", path, NULL, err);
		if (renameat(sfd, name, to->dfd, name) < 0)
			return file_error(t, "install", path, NULL, err);
		return SU_OK;
	}
	if (S_ISDIR(old.st_mode) && old.st_dev != t->fs)
		return file_error(t, "install", path,
				  "another filesystem is mounted there", err);
	if (!S_ISDIR(st->st_mode) && !S_ISDIR(old.st_mode)) {
		if (renameat(sfd, name, to->dfd, name) < 0)
			return file_error(t, "install", path, NULL, err);
		return SU_OK;
	}
	/* The new one in place, whole; the old one comes back here. */
	if (renameat2(sfd, name, to->dfd, name, RENAME_EXCHANGE) < 0)
		return file_error(t, "install", path, NULL, err);
	if (S_ISDIR(st->st_mode) && S_ISDIR(old.st_mode))
		return merge_dir(t, sfd, to->dfd, name, path, len, fold_entry,
				 err);
	return remove_entry(t, sfd, name, &old, path, len, false, err);
}

/* The archive's "." gives the top directory its mode, owner and times
 * (the mount's root cannot be exchanged). */
static enum su_err set_root(struct tar *t, const struct stat *st,
			    struct su_error *err)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };

	if (fchown(t->rootfd, st->st_uid, st->st_gid) < 0 ||
	    fchmod(t->rootfd, st->st_mode & 07777) < 0 ||
	    futimens(t->rootfd, times) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "extract onto %s: set the mode, owner and times of %s: %m",
				    t->device, t->mountdir);
	return SU_OK;
}

/* Move the extracted tree from the staging directory into place. */
static enum su_err install_tree(struct tar *t, struct su_error *err)
{
	char path[PATH_MAX] = "";
	struct into to = { .dfd = t->rootfd };
	struct stat st;
	enum su_err rc;
	int sfd;

	sfd = open_dir_at(t->rootfd, STAGE_NAME);
	if (sfd < 0 || fstat(sfd, &st) < 0) {
		rc = file_error(t, "open", STAGE_NAME, NULL, err);
		if (sfd >= 0)
			close(sfd);
		return rc;
	}
	rc = for_each_entry(t, sfd, path, sizeof(path), install_entry, &to,
			    err);
	close(sfd);
	if (!rc && unlinkat(t->rootfd, STAGE_NAME, AT_REMOVEDIR) < 0)
		rc = file_error(t, "rmdir", STAGE_NAME, NULL, err);
	if (!rc && t->report->root_entry)
		rc = set_root(t, &st, err);
	return rc;
}

/* ---- the mount ---- */

/* base: a fresh directory that only root may enter; mountdir in it. */
static enum su_err make_mount_point(struct tar *t, struct su_error *err)
{
	static const char *const bases[] = { "/run", "/tmp" };
	struct stat st;

	for (size_t i = 0; i < 2 && !t->made_base; i++) {
		snprintf(t->base, sizeof(t->base),
			 "%s/sysupgraded-tar.XXXXXX", bases[i]);
		t->made_base = mkdtemp(t->base) != NULL;
	}
	if (!t->made_base)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "tar %s: cannot make a mount point in /run or /tmp: %m",
				    t->device);
	/* mkdtemp() asks for 0700 through the umask: say it exactly. */
	if (chmod(t->base, 0700) < 0 || lstat(t->base, &st) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED, "chmod %s: %m",
				    t->base);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != 0700)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "tar %s: %s is not a 0700 directory of ours (mode %o, owner %u)",
				    t->device, t->base, (unsigned)st.st_mode,
				    (unsigned)st.st_uid);
	snprintf(t->mountdir, sizeof(t->mountdir), "%s/root", t->base);
	if (mkdir(t->mountdir, 0700) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED, "mkdir %s: %m",
				    t->mountdir);
	t->made_dir = true;
	return SU_OK;
}

static enum su_err mount_target(struct tar *t, const char *fstype,
				struct su_error *err)
{
	struct stat st;
	enum su_err rc;

	rc = make_mount_point(t, err);
	if (rc)
		return rc;
	if (mount(t->device, t->mountdir, fstype, MOUNT_FLAGS, NULL) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "mount %s on %s as %s: %m%s", t->device,
				    t->mountdir, fstype,
				    errno == EINVAL ? " (no such filesystem there? mkfs = yes makes one)" : "");
	t->mounted = true;
	t->rootfd = open(t->mountdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->rootfd < 0 || fstat(t->rootfd, &st) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED, "open %s: %m",
				    t->mountdir);
	t->fs = st.st_dev;
	return SU_OK;
}

/* Sync, unmount (never lazily: a busy mount is an error) and remove
 * the mount point. */
static enum su_err unmount_target(struct tar *t, bool sync,
				  struct su_error *err)
{
	enum su_err rc = SU_OK;

	if (t->rootfd >= 0) {
		if (sync && syncfs(t->rootfd) < 0)
			rc = su_error_set(err, SU_ERR_WRITE_FAILED,
					  "sync %s (%s): %m", t->mountdir,
					  t->device);
		close(t->rootfd);
		t->rootfd = -1;
	}
	if (t->mounted) {
		if (umount(t->mountdir) < 0) {
			/* Keep the first error; say what is left behind. */
			if (!rc)
				rc = su_error_set(err, SU_ERR_WRITE_FAILED,
						  "umount %s (%s): %m; left mounted",
						  t->mountdir, t->device);
			return rc;
		}
		t->mounted = false;
	}
	if (t->made_dir && rmdir(t->mountdir) < 0 && !rc)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "rmdir %s: %m",
				  t->mountdir);
	t->made_dir = false;
	if (t->made_base && rmdir(t->base) < 0 && !rc)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "rmdir %s: %m",
				  t->base);
	t->made_base = false;
	return rc;
}

static void tar_free(struct tar *t)
{
	if (t->sock >= 0)
		close(t->sock);
	if (t->report)
		munmap(t->report, sizeof(*t->report));
	free(t->device);
	free(t);
}

/* After the stream ended (the socket closed): the child meets its end
 * in the middle of the archive and exits 1. One that
 * has not within CHILD_WAIT_MS (stuck on a slow device) is killed. */
static void stop_child(struct tar *t)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int waited = 0;
	pid_t pid;

	for (;;) {
		pid = waitpid(t->child, NULL, WNOHANG);
		if (pid != 0 && !(pid < 0 && errno == EINTR))
			break;
		if (waited >= CHILD_WAIT_MS) {
			kill(t->child, SIGKILL);
			while (waitpid(t->child, NULL, 0) < 0 && errno == EINTR)
				;
			break;
		}
		nanosleep(&tick, NULL);
		waited += 10;
	}
	t->child = -1;
}

static void tar_abort(void *handle)
{
	struct tar *t = handle;

	if (t->sock >= 0) {
		close(t->sock);
		t->sock = -1;
	}
	if (t->child > 0)
		stop_child(t);
	/* Nothing of this archive stays; a failure here leaves the
	 * directory for the next open to remove. */
	if (t->rootfd >= 0)
		remove_stage(t, NULL);
	unmount_target(t, false, NULL);
	tar_free(t);
}

static enum su_err check_fstype(const struct config_target *cfg,
				const char *fstype, struct su_error *err)
{
	size_t n = strspn(fstype, "abcdefghijklmnopqrstuvwxyz0123456789");

	/* It becomes a program name, mkfs.FSTYPE, found in PATH. */
	if (!n || n > 16 || fstype[n])
		return su_error_set(err, SU_ERR_CONFIG,
				    "target %s: fstype '%s' is not a filesystem type",
				    cfg->name, fstype);
	return SU_OK;
}

/* Refuse a device in use; then nothing may hold it open. */
static enum su_err check_device(const char *dev, struct su_error *err)
{
	enum su_err rc;
	int fd;

	rc = blockdev_open_excl(dev, O_RDONLY, &fd, NULL, err);
	if (!rc)
		close(fd);
	return rc;
}

static enum su_err tar_open(const struct backend_target *t, uint64_t size,
			    void **handle, struct su_error *err)
{
	const struct config_target *cfg = t->cfg;
	const char *fstype = config_target_option(cfg, "fstype");
	struct tar *tr;
	enum su_err rc;

	rc = blockdev_check_options(cfg, known_options, flag_options, err);
	if (!rc)
		rc = check_fstype(cfg, fstype ? fstype : "ext4", err);
	if (!rc)
		rc = check_device(t->device, err);
	if (rc)
		return rc;
	if (!fstype)
		fstype = "ext4";
	tr = calloc(1, sizeof(*tr));
	if (!tr || !(tr->device = strdup(t->device))) {
		free(tr);
		return su_error_set(err, SU_ERR_NOMEM, "tar %s: %m", t->device);
	}
	tr->sock = -1;
	tr->child = -1;
	tr->rootfd = -1;
	tr->size = size;
	tr->allow_devices = config_target_flag(cfg, "allow_devices", false);
	if (config_target_flag(cfg, "mkfs", false))
		rc = run_mkfs(cfg, t->device, fstype, err);
	if (!rc)
		rc = mount_target(tr, fstype, err);
	if (!rc)	/* left by a power cut during an extraction */
		rc = remove_stage(tr, err);
	if (!rc && config_target_flag(cfg, "clear", false))
		rc = clear_tree(tr, err);
	if (!rc)
		rc = make_stage(tr, err);
	if (!rc)
		rc = start_child(tr, err);
	if (rc) {
		tar_abort(tr);
		return rc;
	}
	*handle = tr;
	return SU_OK;
}

static enum su_err tar_write(void *handle, const void *buf, size_t len,
			     struct su_error *err)
{
	struct tar *t = handle;
	const char *p = buf;
	ssize_t n;

	t->given += len;
	while (len) {
		n = send(t->sock, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/* The child stopped reading: it says why. */
			close(t->sock);
			t->sock = -1;
			if (reap_child(t, err))
				return SU_ERR_WRITE_FAILED;
			return su_error_set(err, SU_ERR_WRITE_FAILED,
					    "extract onto %s: the extraction ended before the archive",
					    t->device);
		}
		if (n < 0)
			return su_error_set(err, SU_ERR_WRITE_FAILED,
					    "extract onto %s: send: %m",
					    t->device);
		p += n;
		len -= (size_t)n;
	}
	return SU_OK;
}

static enum su_err tar_finish(void *handle, struct su_error *err)
{
	struct tar *t = handle;
	enum su_err rc;

	close(t->sock);		/* end of the stream for the child */
	t->sock = -1;
	rc = reap_child(t, err);
	if (!rc && t->given != t->size)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED,
				  "extract onto %s: got %llu of %llu bytes",
				  t->device, (unsigned long long)t->given,
				  (unsigned long long)t->size);
	if (!rc)
		rc = install_tree(t, err);
	if (rc) {
		remove_stage(t, NULL);
		unmount_target(t, false, NULL);
	} else {
		rc = unmount_target(t, true, err);
	}
	tar_free(t);
	return rc;
}

const struct backend_ops backend_tar = {
	.name = "tar",
	.open = tar_open,
	.write = tar_write,
	.finish = tar_finish,
	.abort = tar_abort,
	.verify = NULL,		/* no byte stream to read back */
};
