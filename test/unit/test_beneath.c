/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * beneath_open() and its walk without openat2, beneath_walk(), forced
 * here (this kernel has openat2): on the same tree both open what lies
 * below the directory and refuse the same escapes with the same errno
 * (an absolute path, "..", a symlink on the way or at the end, another
 * filesystem); the walk alone also refuses a ".." that stays below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"

struct fx {
	char dir[64];
	int dfd;
};

static void put(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/su-beneath.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dfd >= 0);
	assert_int_equal(mkdirat(f->dfd, "a", 0755), 0);
	assert_int_equal(mkdirat(f->dfd, "a/b", 0755), 0);
	put(f->dfd, "a/b/f", "inside");
	assert_int_equal(symlinkat("a", f->dfd, "link"), 0);
	assert_int_equal(symlinkat("b/f", f->dfd, "a/flink"), 0);
	assert_int_equal(symlinkat("/etc", f->dfd, "abs"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[96];

	close(f->dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

typedef int (*open_fn)(int, const char *, int);

/* @open of @path gives a descriptor of "inside" (@want_errno 0), or
 * fails with @want_errno. */
static void expect(open_fn open_, int dfd, const char *path, int flags,
		   int want_errno)
{
	char buf[16] = "";
	int fd;

	errno = 0;
	fd = open_(dfd, path, flags);
	if (want_errno) {
		if (fd >= 0)
			close(fd);
		assert_int_equal(fd, -1);
		if (errno != want_errno)
			fail_msg("%s: errno %d (%s), expected %d (%s)", path,
				 errno, strerror(errno), want_errno,
				 strerror(want_errno));
		return;
	}
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	if (!(flags & O_DIRECTORY)) {
		assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
		assert_string_equal(buf, "inside");
	}
	close(fd);
}

static void both(int dfd, const char *path, int flags, int want_errno)
{
	expect(beneath_open, dfd, path, flags, want_errno);
	expect(beneath_walk, dfd, path, flags, want_errno);
}

static void test_below(void **state)
{
	struct fx *f = *state;

	both(f->dfd, "a/b/f", O_RDONLY, 0);
	both(f->dfd, "a//b/./f", O_RDONLY | O_NOFOLLOW, 0);
	both(f->dfd, "./a/b/f", O_RDONLY, 0);
	both(f->dfd, "a/b", O_RDONLY | O_DIRECTORY, 0);
	both(f->dfd, "a/b/", O_RDONLY | O_DIRECTORY, 0);
	both(f->dfd, "a/nothing", O_RDONLY, ENOENT);
	both(f->dfd, "a/b/f/", O_RDONLY, ENOTDIR);
	both(f->dfd, "a/b/f/x", O_RDONLY, ENOTDIR);
}

static void test_escapes(void **state)
{
	struct fx *f = *state;

	both(f->dfd, "/etc/passwd", O_RDONLY, EXDEV);
	both(f->dfd, "../x", O_RDONLY, EXDEV);
	both(f->dfd, "a/../../x", O_RDONLY, EXDEV);
	both(f->dfd, "link/b/f", O_RDONLY, ELOOP);	/* a directory link */
	both(f->dfd, "a/flink", O_RDONLY, ELOOP);	/* the last one */
	both(f->dfd, "abs/passwd", O_RDONLY, ELOOP);	/* out of it */
}

/* /proc is another filesystem than /: RESOLVE_NO_XDEV. */
static void test_other_filesystem(void **state)
{
	int root = open("/", O_RDONLY | O_DIRECTORY);
	struct stat r, p;

	(void)state;
	assert_true(root >= 0);
	assert_int_equal(stat("/", &r), 0);
	assert_int_equal(stat("/proc/version", &p), 0);
	assert_true(r.st_dev != p.st_dev);
	both(root, "proc/version", O_RDONLY, EXDEV);
	close(root);
}

/* Stricter than openat2: "..", even one that stays below. */
static void test_walk_refuses_dotdot(void **state)
{
	struct fx *f = *state;

	expect(beneath_open, f->dfd, "a/../a/b/f", O_RDONLY, 0);
	expect(beneath_walk, f->dfd, "a/../a/b/f", O_RDONLY, EXDEV);
	expect(beneath_walk, f->dfd, "", O_RDONLY, ENOENT);
	expect(beneath_walk, f->dfd, "a/new", O_WRONLY | O_CREAT, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_below, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
		cmocka_unit_test(test_other_filesystem),
		cmocka_unit_test_setup_teardown(test_walk_refuses_dotdot,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
