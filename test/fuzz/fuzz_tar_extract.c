/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tar backend's extraction (tar_extract(), libarchive) of arbitrary
 * bytes, in-process, into a fresh scratch root per input:
 *   BASE/root      the extraction's root, removed after each input
 *   BASE/sentinel  a directory beside it holding one file, "keep"
 * BASE is $FUZZ_TAR_EXTRACT_DIR, else /tmp/fuzz_tar_extract (fixed, so
 * seeds can name it absolutely; one fuzzer process per BASE).
 * Every 512-byte block with the ustar magic gets its header checksum
 * fixed first, so mutations reach libarchive's entry handling.
 * After each input, whether the archive was refused or not:
 *  - BASE holds root and sentinel only, root is still a directory;
 *  - the sentinel and its file are as they were (no write through a
 *    symlink or a hardlink, no ".." or absolute name reached them);
 *  - nothing in root is on another filesystem, and every link of each
 *    hardlinked file is inside root (a hardlink to an outside file
 *    would show fewer links found than st_nlink).
 * Device nodes stay refused (allow_devices = no), as in the default
 * config: the fuzzer must not make nodes of the host's disks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tar.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INODES	4096

static char base[PATH_MAX], root[PATH_MAX], sentinel[PATH_MAX], keep[PATH_MAX];
static struct stat sentinel_st, keep_st;
static int cwd_fd = -1;
static dev_t root_dev;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_tar_extract: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Clear the immutable and append-only flags (ARCHIVE_EXTRACT_FFLAGS
 * may have set them) so the entry can go. */
static void clear_flags(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int flags = 0;

	if (fd < 0)
		return;
	ioctl(fd, FS_IOC_SETFLAGS, &flags);
	close(fd);
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type != FTW_SL && type != FTW_SLN)
		clear_flags(path);
	if (type == FTW_DP || type == FTW_D)
		chmod(path, 0700);
	if (remove(path) < 0)
		die("remove %s: %s", path, strerror(errno));
	return 0;
}

static void remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 && errno == ENOENT)
		return;
	/* directories made 0 by the archive: open them first */
	chmod(path, 0700);
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		die("remove %s: %s", path, strerror(errno));
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0)
		die("mkdir %s: %s", path, strerror(errno));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_TAR_EXTRACT_DIR");
	int fd;

	(void)argc;
	(void)argv;
	snprintf(base, sizeof(base), "%s", dir ? dir : "/tmp/fuzz_tar_extract");
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(sentinel, sizeof(sentinel), "%s/sentinel", base);
	snprintf(keep, sizeof(keep), "%s/keep", sentinel);
	remove_tree(base);	/* left by a crash */
	make_dir(base);
	make_dir(sentinel);
	fd = open(keep, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "keep\n", 5) != 5 || close(fd) < 0)
		die("write %s: %s", keep, strerror(errno));
	if (lstat(sentinel, &sentinel_st) < 0 || lstat(keep, &keep_st) < 0)
		die("stat %s: %s", sentinel, strerror(errno));
	cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd_fd < 0)
		die("open .: %s", strerror(errno));
	return 0;
}

static unsigned header_sum(const uint8_t *h)
{
	unsigned sum = 0;

	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum;
}

static void fix_checksums(uint8_t *p, size_t size)
{
	for (size_t off = 0; off + 512 <= size; off += 512) {
		uint8_t *h = p + off;

		if (memcmp(h + 257, "ustar", 5))
			continue;
		char sum[8];

		snprintf(sum, sizeof(sum), "%06o", header_sum(h) & 0777777);
		memcpy(h + 148, sum, 7);
		h[155] = ' ';
	}
}

static void same_stat(const char *path, const struct stat *was)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		die("%s: gone (%s)", path, strerror(errno));
	if (st.st_ino != was->st_ino || st.st_mode != was->st_mode ||
	    st.st_nlink != was->st_nlink || st.st_size != was->st_size ||
	    st.st_uid != was->st_uid || st.st_gid != was->st_gid ||
	    st.st_mtim.tv_sec != was->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != was->st_mtim.tv_nsec)
		die("%s: changed by the extraction", path);
}

static void only_entries(const char *dir, const char *a, const char *b)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		die("opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, a) || (b && !strcmp(e->d_name, b)))
			continue;
		die("%s/%s: made outside the extraction's root", dir, e->d_name);
	}
	closedir(d);
}

static struct { ino_t ino; nlink_t nlink, seen; } inodes[MAX_INODES];
static size_t n_inodes;

static int check_one(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	if (st->st_dev != root_dev)
		die("%s: on another filesystem", path);
	if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
		return 0;
	for (size_t i = 0; i < n_inodes; i++)
		if (inodes[i].ino == st->st_ino) {
			inodes[i].seen++;
			return 0;
		}
	if (n_inodes == MAX_INODES)
		return 0;
	inodes[n_inodes].ino = st->st_ino;
	inodes[n_inodes].nlink = st->st_nlink;
	inodes[n_inodes++].seen = 1;
	return 0;
}

static void check_root(void)
{
	struct stat st;

	if (lstat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		die("%s: no longer a directory", root);
	root_dev = st.st_dev;
	n_inodes = 0;
	chmod(root, 0700);
	if (nftw(root, check_one, 16, FTW_PHYS) < 0)
		die("walk %s: %s", root, strerror(errno));
	for (size_t i = 0; i < n_inodes; i++)
		if (inodes[i].seen != inodes[i].nlink)
			die("inode %lu: %lu links, %lu inside %s",
			    (unsigned long)inodes[i].ino,
			    (unsigned long)inodes[i].nlink,
			    (unsigned long)inodes[i].seen, root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tar_report report = { 0 };
	int fd = memfd_create("tar", MFD_CLOEXEC);
	uint8_t *copy = malloc(size ? size : 1);

	if (fd < 0 || !copy)
		die("memfd_create: %s", strerror(errno));
	memcpy(copy, data, size);
	fix_checksums(copy, size);
	if (write(fd, copy, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET))
		die("write memfd: %s", strerror(errno));
	free(copy);
	make_dir(root);
	if (tar_extract(fd, root, false, &report) < 0 && !report.message[0])
		die("refused with no message");
	close(fd);
	if (fchdir(cwd_fd) < 0)
		die("fchdir: %s", strerror(errno));
	only_entries(base, "root", "sentinel");
	only_entries(sentinel, "keep", NULL);
	same_stat(sentinel, &sentinel_st);
	same_stat(keep, &keep_st);
	check_root();
	remove_tree(root);
	return 0;
}
