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
 * usable after fork in a threaded program) and leaves with _exit().
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
#include <unistd.h>

#include "backend.h"
#include "blockdev.h"

#define MKFS_MAX_ARGS	32
#define MOUNT_FLAGS	(MS_NOSUID | MS_NODEV)
#define EXTRACT_FLAGS	(ARCHIVE_EXTRACT_SECURE_NODOTDOT |		\
			 ARCHIVE_EXTRACT_SECURE_SYMLINKS |		\
			 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |	\
			 ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |	\
			 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |	\
			 ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_TIME |\
			 ARCHIVE_EXTRACT_UNLINK)

extern char **environ;

/* Written by the child, read by the parent once the child is gone. */
struct child_report {
	char message[480];
};

struct tar {
	char *device;
	char mountdir[64];
	bool made_dir, mounted;
	bool allow_devices;
	pid_t child;
	int sock;		/* our end; the child reads the tar from it */
	struct child_report *report;
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

/* ---- the child: extraction ---- */

static const char *why(struct archive *a)
{
	const char *s = archive_error_string(a);

	return s ? s : "unknown libarchive error";
}

static void __attribute__((noreturn, format(printf, 2, 3)))
child_fail(struct tar *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->report->message, sizeof(t->report->message), fmt, ap);
	va_end(ap);
	_exit(1);
}

static const char *entry_name(struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);

	return name ? name : "(no name)";
}

static void copy_data(struct tar *t, struct archive *in, struct archive *out,
		      struct archive_entry *e)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(in, &buf, &len, &off)) ==
	       ARCHIVE_OK)
		if (archive_write_data_block(out, buf, len, off) < ARCHIVE_OK)
			child_fail(t, "%s: %s", entry_name(e), why(out));
	if (r != ARCHIVE_EOF)
		child_fail(t, "%s: %s", entry_name(e), why(in));
}

static void extract_entry(struct tar *t, struct archive *in,
			  struct archive *out, struct archive_entry *e)
{
	mode_t type = archive_entry_filetype(e);

	if ((type == AE_IFCHR || type == AE_IFBLK) && !t->allow_devices)
		child_fail(t, "%s: device node refused (allow_devices = no)",
			   entry_name(e));
	/* A warning here is a mode, owner, xattr or ACL that was not
	 * kept: for a root filesystem that is a broken image. */
	if (archive_write_header(out, e) != ARCHIVE_OK)
		child_fail(t, "%s: %s", entry_name(e), why(out));
	if (archive_entry_size(e) > 0)
		copy_data(t, in, out, e);
	if (archive_write_finish_entry(out) != ARCHIVE_OK)
		child_fail(t, "%s: %s", entry_name(e), why(out));
}

static void __attribute__((noreturn)) extract(struct tar *t, int fd)
{
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	struct archive_entry *e;
	int r;

	if (!in || !out)
		child_fail(t, "libarchive: out of memory");
	if (chdir(t->mountdir) < 0)
		child_fail(t, "chdir %s: %s", t->mountdir, strerror(errno));
	umask(022);	/* for parents the archive does not list */
	/* tar covers ustar, pax and GNU tar. No user-database lookup is
	 * set on @out, so owners stay numeric. */
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, EXTRACT_FLAGS);
	if (archive_read_open_fd(in, fd, 64 * 1024) != ARCHIVE_OK)
		child_fail(t, "%s", why(in));
	while ((r = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			child_fail(t, "%s", why(in));
		extract_entry(t, in, out, e);
	}
	/* Directory modes and times are set here, last. */
	if (archive_write_close(out) != ARCHIVE_OK)
		child_fail(t, "%s", why(out));
	/* Take what follows the end marker (tar pads to a record), so the
	 * parent's last write() does not meet a closed socket. */
	drain(fd);
	_exit(0);
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
		/* Hold nothing of the daemon's (client sockets, devices). */
		if (sv[1] > 3)
			close_range(3, (unsigned)sv[1] - 1, 0);
		close_range((unsigned)sv[1] + 1, ~0u, 0);
		extract(t, sv[1]);
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
	char output[300];
	int p[2], status, r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED, "%s %s: pipe: %m",
				    argv[0], device);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
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

/* Remove what is below the directory @dfd (relative name @path, for
 * messages), on filesystem @fs only, never following a symlink. */
static enum su_err clear_dir(struct tar *t, int dfd, dev_t fs, char *path,
			     size_t len, struct su_error *err)
{
	enum su_err rc = SU_OK;
	struct dirent *de;
	struct stat st;
	size_t plen = strlen(path);
	DIR *d;
	int fd;

	fd = dup(dfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "clear %s/%s: %m", t->mountdir, path);
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		int flags = 0;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		snprintf(path + plen, len - plen, "%s%s", plen ? "/" : "", name);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = su_error_set(err, SU_ERR_WRITE_FAILED,
					  "clear %s/%s: %m", t->mountdir, path);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != fs) {
				rc = su_error_set(err, SU_ERR_WRITE_FAILED,
						  "clear %s/%s: another filesystem is mounted there",
						  t->mountdir, path);
				break;
			}
			fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				rc = su_error_set(err, SU_ERR_WRITE_FAILED,
						  "clear %s/%s: %m",
						  t->mountdir, path);
				break;
			}
			rc = clear_dir(t, fd, fs, path, len, err);
			close(fd);
			/* e2fsck wants the top-level lost+found. */
			if (rc || (!plen && !strcmp(name, "lost+found")))
				continue;
			flags = AT_REMOVEDIR;
		}
		if (unlinkat(dfd, name, flags) < 0)
			rc = su_error_set(err, SU_ERR_WRITE_FAILED,
					  "clear %s/%s: %m", t->mountdir, path);
		path[plen] = '\0';
	}
	if (!rc && errno)
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "clear %s/%s: %m",
				  t->mountdir, path);
	closedir(d);
	return rc;
}

static enum su_err clear_tree(struct tar *t, struct su_error *err)
{
	char path[PATH_MAX] = "";
	struct stat st;
	enum su_err rc;
	int fd;

	fd = open(t->mountdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "clear %s: %m",
				  t->mountdir);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	rc = clear_dir(t, fd, st.st_dev, path, sizeof(path), err);
	close(fd);
	return rc;
}

static enum su_err mount_target(struct tar *t, const char *fstype,
				struct su_error *err)
{
	static const char *const bases[] = { "/run", "/tmp" };

	for (size_t i = 0; i < 2 && !t->made_dir; i++) {
		snprintf(t->mountdir, sizeof(t->mountdir),
			 "%s/sysupgraded-tar.XXXXXX", bases[i]);
		t->made_dir = mkdtemp(t->mountdir) != NULL;
	}
	if (!t->made_dir)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "tar %s: cannot make a mount point in /run or /tmp: %m",
				    t->device);
	if (mount(t->device, t->mountdir, fstype, MOUNT_FLAGS, NULL) < 0)
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "mount %s on %s as %s: %m%s", t->device,
				    t->mountdir, fstype,
				    errno == EINVAL ? " (no such filesystem there? mkfs = yes makes one)" : "");
	t->mounted = true;
	return SU_OK;
}

/* Sync, unmount (never lazily: a busy mount is an error) and remove
 * the mount point. */
static enum su_err unmount_target(struct tar *t, bool sync,
				  struct su_error *err)
{
	enum su_err rc = SU_OK;
	int fd;

	if (t->mounted && sync) {
		fd = open(t->mountdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd) < 0)
			rc = su_error_set(err, SU_ERR_WRITE_FAILED,
					  "sync %s (%s): %m", t->mountdir,
					  t->device);
		if (fd >= 0)
			close(fd);
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

static void tar_abort(void *handle)
{
	struct tar *t = handle;

	if (t->sock >= 0) {
		close(t->sock);
		t->sock = -1;
	}
	if (t->child > 0) {
		kill(t->child, SIGKILL);
		while (waitpid(t->child, NULL, 0) < 0 && errno == EINTR)
			;
		t->child = -1;
	}
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
	tr->size = size;
	tr->allow_devices = config_target_flag(cfg, "allow_devices", false);
	if (config_target_flag(cfg, "mkfs", false))
		rc = run_mkfs(cfg, t->device, fstype, err);
	if (!rc)
		rc = mount_target(tr, fstype, err);
	if (!rc && config_target_flag(cfg, "clear", false))
		rc = clear_tree(tr, err);
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
	if (rc)
		unmount_target(t, false, NULL);
	else
		rc = unmount_target(t, true, err);
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
