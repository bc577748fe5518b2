/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The last install's record: its JSON, the bootenv mode through a real
 * file-backed U-Boot environment (mkenvimage + libubootenv), the file
 * mode (atomic replace, parents made, symlinks resolved inside the
 * prefix), nothing found, and garbage of every kind read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bootenv.h"
#include "config.h"
#include "last_install.h"

extern char **environ;

#define T_2026	1796220000LL	/* 2026-12-02T14:00:00Z */
#define GOOD	"{\"version\":\"2.0.0\",\"result\":\"success\",\"error\":\"\",\"time\":\"2026-12-02T14:00:00Z\"}"

struct fx {
	char dir[64];
	char conf[128], envcfg[128], envbin[128], vars[128];
	struct config *cfg;
};

static int run_prog(const char *const argv[])
{
	pid_t pid;
	int rc, status;

	rc = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv,
			  environ);
	if (rc)
		fail_msg("cannot run %s: %s (is it installed?)", argv[0],
			 strerror(rc));
	if (waitpid(pid, &status, 0) < 0)
		fail_msg("waitpid %s: %s", argv[0], strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		fail_msg("open %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A config whose [install] section is @install (may be ""). */
static void load_config(struct fx *fx, const char *install)
{
	char text[1024];
	struct su_error err;

	config_free(fx->cfg);
	fx->cfg = NULL;
	snprintf(text, sizeof(text),
		 "[device]\ncompatible = acme,test\nversion = 1.0\n"
		 "fw_env_config = %s\n\n[install]\n%s\n", fx->envcfg, install);
	write_text(fx->conf, text, strlen(text));
	if (config_load(fx->conf, &fx->cfg, &err))
		fail_msg("config: %s", err.message);
}

/* A fresh single-copy environment of 16 KiB holding @vars. */
static void make_env(struct fx *fx, const char *vars)
{
	const char *argv[] = { "mkenvimage", "-s", "0x4000", "-o",
			       fx->envbin, fx->vars, NULL };
	char line[256];

	write_text(fx->vars, vars, strlen(vars));
	assert_int_equal(run_prog(argv), 0);
	snprintf(line, sizeof(line), "%s 0x0 0x4000\n", fx->envbin);
	write_text(fx->envcfg, line, strlen(line));
}

/* The stored value of @name, or NULL; caller frees. */
static char *env_value(struct fx *fx, const char *name)
{
	struct bootenv *env;
	struct su_error err;
	const char *v;
	char *copy;

	if (bootenv_open(fx->envcfg, &env, &err))
		fail_msg("%s", err.message);
	v = bootenv_get(env, name);
	copy = v ? strdup(v) : NULL;
	bootenv_close(env);
	return copy;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/su-last.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->conf, sizeof(fx->conf), "%s/su.conf", fx->dir);
	snprintf(fx->envcfg, sizeof(fx->envcfg), "%s/fw_env.config", fx->dir);
	snprintf(fx->envbin, sizeof(fx->envbin), "%s/env.bin", fx->dir);
	snprintf(fx->vars, sizeof(fx->vars), "%s/vars.txt", fx->dir);
	make_env(fx, "boot_slot=a\nbootcount=1\n");
	load_config(fx, "");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	const char *argv[] = { "rm", "-rf", fx->dir, NULL };

	config_free(fx->cfg);
	run_prog(argv);
	free(fx);
	return 0;
}

static void assert_has(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static void make_record(struct last_install *r, const char *version,
			const struct su_error *failure)
{
	struct su_error err;

	assert_int_equal(last_install_set(r, version, failure, &err), SU_OK);
}

static void assert_same(const struct last_install *a,
			const struct last_install *b)
{
	assert_string_equal(a->version, b->version);
	assert_int_equal(a->ok, b->ok);
	assert_string_equal(a->error, b->error);
	assert_int_equal(a->time, b->time);
}

/* ---- the record ---- */

static void test_json(void **state)
{
	struct last_install r = { 0 }, back;
	struct su_error failure, err;
	char *json;

	(void)state;
	make_record(&r, "2.0.0", NULL);
	assert_true(r.ok);
	assert_string_equal(r.error, "");
	assert_true(r.time >= (int64_t)time(NULL) - 5);
	r.time = T_2026;
	json = last_install_json(&r);
	assert_string_equal(json, GOOD);
	assert_int_equal(last_install_parse(json, strlen(json), &back, &err),
			 SU_OK);
	assert_same(&r, &back);
	free(json);
	last_install_free(&back);
	last_install_free(&r);

	/* A failure: "<code>: <message>", paths not slash-escaped. */
	su_error_set(&failure, SU_ERR_WRITE_FAILED,
		     "image rootfs.img -> target rootfs (/dev/sda2): \"short\" write");
	make_record(&r, "3.1", &failure);
	r.time = 0;
	assert_false(r.ok);
	assert_string_equal(r.error,
			    "write_failed: image rootfs.img -> target rootfs (/dev/sda2): \"short\" write");
	json = last_install_json(&r);
	assert_string_equal(json,
			    "{\"version\":\"3.1\",\"result\":\"failed\",\"error\":\"write_failed: image rootfs.img -> target rootfs (/dev/sda2): \\\"short\\\" write\",\"time\":\"1970-01-01T00:00:00Z\"}");
	assert_int_equal(last_install_parse(json, strlen(json), &back, &err),
			 SU_OK);
	assert_same(&r, &back);
	free(json);
	last_install_free(&back);

	/* Outside the years a record can say: no JSON rather than a lie. */
	r.time = -1;
	assert_null(last_install_json(&r));
	r.time = 253402300800LL;
	assert_null(last_install_json(&r));
	last_install_free(&r);
	last_install_free(&r);		/* twice is harmless */
}

/* A long message is cut, never inside a UTF-8 sequence. */
static void test_error_cut(void **state)
{
	struct last_install r;
	struct su_error failure;
	size_t len;

	(void)state;
	failure.code = SU_ERR_IO;
	memset(failure.message, 'a', sizeof(failure.message) - 1);
	failure.message[sizeof(failure.message) - 1] = '\0';
	/* "io_error: " is 10 bytes: a 2-byte sequence across the cut */
	memcpy(failure.message + LAST_INSTALL_ERROR_MAX - 10 - 1, "\xc3\xa9", 2);
	make_record(&r, "1", &failure);
	len = strlen(r.error);
	assert_int_equal(len, LAST_INSTALL_ERROR_MAX - 1);
	assert_memory_equal(r.error, "io_error: aaa", 13);
	assert_int_equal((unsigned char)r.error[len - 1], 'a');
	last_install_free(&r);
	/* no sequence there: exactly the limit */
	memset(failure.message, 'a', sizeof(failure.message) - 1);
	make_record(&r, "1", &failure);
	assert_int_equal(strlen(r.error), LAST_INSTALL_ERROR_MAX);
	last_install_free(&r);
}

static void test_mode(void **state)
{
	struct fx *fx = *state;
	const char *path = NULL;

	assert_int_equal(last_install_mode(fx->cfg, &path), LAST_INSTALL_BOOTENV);
	assert_int_equal(unlink(fx->envcfg), 0);
	assert_int_equal(last_install_mode(fx->cfg, &path), LAST_INSTALL_NONE);
	load_config(fx, "last_install = bootenv");
	assert_int_equal(last_install_mode(fx->cfg, &path), LAST_INSTALL_BOOTENV);
	load_config(fx, "last_install = none");
	assert_int_equal(last_install_mode(fx->cfg, &path), LAST_INSTALL_NONE);
	load_config(fx, "last_install = file:/data/last.json");
	assert_int_equal(last_install_mode(fx->cfg, &path), LAST_INSTALL_FILE);
	assert_string_equal(path, "/data/last.json");
}

/* ---- bootenv ---- */

static void test_bootenv_round_trip(void **state)
{
	struct fx *fx = *state;
	struct last_install r, back;
	struct su_error err, failure;
	bool found = true;
	char *v;

	/* nothing yet */
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_false(found);

	make_record(&r, "2.0.0", NULL);
	r.time = T_2026;
	if (last_install_write(fx->cfg, NULL, "/ignored", &r, &err))
		fail_msg("%s", err.message);
	v = env_value(fx, "sysupgrade_last");
	assert_non_null(v);
	assert_string_equal(v, GOOD);
	free(v);
	v = env_value(fx, "boot_slot");
	assert_string_equal(v, "a");	/* the rest stays */
	free(v);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_true(found);
	assert_same(&r, &back);
	last_install_free(&back);
	last_install_free(&r);

	/* a failure replaces it; another variable name */
	load_config(fx, "last_install_var = my_last");
	su_error_set(&failure, SU_ERR_HASH_MISMATCH, "payload a.img changed");
	make_record(&r, "2.1", &failure);
	assert_int_equal(last_install_write(fx->cfg, NULL, NULL, &r, &err), SU_OK);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_true(found);
	assert_same(&r, &back);
	assert_string_equal(back.error, "hash_mismatch: payload a.img changed");
	last_install_free(&back);
	last_install_free(&r);
}

/* Staged only: the caller's commit carries it, or nothing does. */
static void test_bootenv_stage(void **state)
{
	struct fx *fx = *state;
	struct last_install r, back;
	struct bootenv *env;
	struct su_error err;
	bool found;

	make_record(&r, "4.0", NULL);
	assert_int_equal(bootenv_open(fx->envcfg, &env, &err), SU_OK);
	assert_int_equal(last_install_stage(fx->cfg, env, &r, &err), SU_OK);
	bootenv_close(env);		/* no commit */
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_false(found);

	assert_int_equal(bootenv_open(fx->envcfg, &env, &err), SU_OK);
	assert_int_equal(bootenv_set(env, "boot_slot", "b", &err), SU_OK);
	assert_int_equal(last_install_stage(fx->cfg, env, &r, &err), SU_OK);
	assert_int_equal(bootenv_commit(env, &err), SU_OK);
	bootenv_close(env);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_true(found);
	assert_same(&r, &back);
	last_install_free(&back);

	/* With the caller's environment, write commits what it staged too. */
	assert_int_equal(bootenv_open(fx->envcfg, &env, &err), SU_OK);
	assert_int_equal(bootenv_set(env, "boot_slot", "a", &err), SU_OK);
	assert_int_equal(last_install_write(fx->cfg, env, NULL, &r, &err), SU_OK);
	bootenv_close(env);
	{
		char *v = env_value(fx, "boot_slot");

		assert_string_equal(v, "a");
		free(v);
	}

	/* In file mode staging does nothing. */
	make_env(fx, "boot_slot=a\n");
	load_config(fx, "last_install = file:/nonexistent/x");
	assert_int_equal(bootenv_open(fx->envcfg, &env, &err), SU_OK);
	assert_int_equal(last_install_stage(fx->cfg, env, &r, &err), SU_OK);
	assert_null(bootenv_get(env, "sysupgrade_last"));
	bootenv_close(env);
	last_install_free(&r);
}

static void test_bootenv_missing_env(void **state)
{
	struct fx *fx = *state;
	struct last_install r, back;
	struct su_error err;
	bool found;

	load_config(fx, "last_install = bootenv");
	assert_int_equal(unlink(fx->envcfg), 0);
	make_record(&r, "1", NULL);
	assert_int_equal(last_install_write(fx->cfg, NULL, NULL, &r, &err),
			 SU_ERR_CONFIG);
	assert_has(err.message, fx->envcfg);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err),
			 SU_ERR_CONFIG);
	assert_false(found);
	assert_has(err.message, fx->envcfg);
	last_install_free(&r);
}

static void test_bootenv_malformed(void **state)
{
	struct fx *fx = *state;
	struct last_install r;
	struct su_error err;
	bool found = true;

	make_env(fx, "boot_slot=a\nsysupgrade_last={\"version\":\"2\"\n");
	assert_int_equal(last_install_read(fx->cfg, &r, &found, &err), SU_ERR_IO);
	assert_false(found);
	assert_null(r.version);
	assert_has(err.message, "last_install record in variable sysupgrade_last of ");
	assert_has(err.message, fx->envcfg);
	assert_has(err.message, "is malformed: not one JSON object");
}

/* ---- file ---- */

static void test_file_round_trip(void **state)
{
	struct fx *fx = *state;
	struct last_install r, back;
	struct su_error err;
	char conf[256], path[192], text[256];
	struct stat st;
	bool found = true;
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "%s/data/sub/dir/last.json", fx->dir);
	snprintf(conf, sizeof(conf), "last_install = file:%s", path);
	load_config(fx, conf);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_false(found);		/* missing: nothing, not an error */

	make_record(&r, "2.0.0", NULL);
	r.time = T_2026;
	if (last_install_write(fx->cfg, NULL, NULL, &r, &err))
		fail_msg("%s", err.message);
	assert_string_equal(read_text(path), GOOD "\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_true(found);
	assert_same(&r, &back);
	last_install_free(&back);
	last_install_free(&r);

	/* replaced whole, and no temporary file left beside it */
	make_record(&r, "2.0.1", NULL);
	assert_int_equal(last_install_write(fx->cfg, NULL, "/", &r, &err), SU_OK);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_same(&r, &back);
	last_install_free(&back);
	last_install_free(&r);
	snprintf(text, sizeof(text), "%s/data/sub/dir", fx->dir);
	d = opendir(text);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	assert_int_equal(n, 1);
}

/*
 * Stage 2 writes below the new root's mount point: its absolute
 * symlinks resolve inside it, not in the running system.
 */
static void test_file_prefix(void **state)
{
	struct fx *fx = *state;
	struct last_install r, back;
	struct su_error err;
	char root[128], p[256];

	snprintf(root, sizeof(root), "%s/newroot", fx->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(p, sizeof(p), "%s/data", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/var", root);
	assert_int_equal(symlink("/data", p), 0);
	load_config(fx, "last_install = file:/var/lib/su/last.json");
	make_record(&r, "5.0", NULL);
	r.time = T_2026;
	if (last_install_write(fx->cfg, NULL, root, &r, &err))
		fail_msg("%s", err.message);
	snprintf(p, sizeof(p), "%s/data/lib/su/last.json", root);
	assert_int_equal(last_install_parse(read_text(p), strlen(read_text(p)),
					    &back, &err), SU_OK);
	assert_same(&r, &back);
	last_install_free(&back);
	last_install_free(&r);
	/* never the running system's /var */
	assert_int_not_equal(access("/data/lib/su/last.json", F_OK), 0);
}

static void test_file_errors(void **state)
{
	struct fx *fx = *state;
	struct last_install r, back;
	struct su_error err;
	char conf[256], path[192];
	bool found;

	make_record(&r, "1", NULL);
	/* a parent that is a file */
	snprintf(path, sizeof(path), "%s/plain", fx->dir);
	write_text(path, "x", 1);
	snprintf(conf, sizeof(conf), "last_install = file:%s/plain/last.json",
		 fx->dir);
	load_config(fx, conf);
	assert_int_equal(last_install_write(fx->cfg, NULL, NULL, &r, &err),
			 SU_ERR_IO);
	assert_has(err.message, "plain/last.json");
	assert_has(err.message, "Not a directory");
	/* a directory, not a file */
	snprintf(conf, sizeof(conf), "last_install = file:%s/", fx->dir);
	load_config(fx, conf);
	assert_int_equal(last_install_write(fx->cfg, NULL, NULL, &r, &err),
			 SU_ERR_IO);
	assert_has(err.message, "names no file");
	/* a prefix that is not there */
	load_config(fx, "last_install = file:/last.json");
	assert_int_equal(last_install_write(fx->cfg, NULL, "/nonexistent-su-root",
					    &r, &err), SU_ERR_IO);
	assert_has(err.message, "/nonexistent-su-root");
	/* a record file too big to be one */
	snprintf(path, sizeof(path), "%s/big.json", fx->dir);
	{
		static char big[LAST_INSTALL_MAX + 10];

		memset(big, ' ', sizeof(big));
		write_text(path, big, sizeof(big));
	}
	snprintf(conf, sizeof(conf), "last_install = file:%s", path);
	load_config(fx, conf);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err),
			 SU_ERR_IO);
	assert_false(found);
	assert_has(err.message, path);
	assert_has(err.message, "more than a record's");
	/* a directory where the file should be */
	snprintf(conf, sizeof(conf), "last_install = file:%s", fx->dir);
	load_config(fx, conf);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err),
			 SU_ERR_IO);
	assert_has(err.message, fx->dir);
	last_install_free(&r);
}

static void test_none(void **state)
{
	struct fx *fx = *state;
	struct last_install r, back;
	struct su_error err;
	bool found = true;
	char *v;

	load_config(fx, "last_install = none");
	make_record(&r, "1", NULL);
	assert_int_equal(last_install_write(fx->cfg, NULL, NULL, &r, &err), SU_OK);
	assert_int_equal(last_install_read(fx->cfg, &back, &found, &err), SU_OK);
	assert_false(found);
	v = env_value(fx, "sysupgrade_last");
	assert_null(v);
	last_install_free(&r);
}

/* ---- garbage ---- */

static void refused(const char *text, size_t len, const char *why)
{
	struct last_install r;
	struct su_error err;

	memset(&err, 0, sizeof(err));
	if (last_install_parse(text, len, &r, &err) != SU_ERR_IO)
		fail_msg("accepted: %.*s", (int)len, text);
	assert_int_equal(err.code, SU_ERR_IO);
	assert_null(r.version);
	assert_null(r.error);
	if (why)
		assert_has(err.message, why);
	else
		assert_true(err.message[0] != '\0');
}

#define REFUSED(s, why)	refused(s, sizeof(s) - 1, why)
#define REC(v, r, e, t)	"{\"version\":" v ",\"result\":" r ",\"error\":" e ",\"time\":" t "}"

static void test_malformed(void **state)
{
	(void)state;
	REFUSED("", "not one JSON object");
	REFUSED("{", "not one JSON object");
	REFUSED("null", "not one JSON object");
	REFUSED("[]", "not a JSON object");
	REFUSED("\"x\"", "not a JSON object");
	REFUSED("42", "JSON object");
	REFUSED("{}", "\"version\"");
	REFUSED(GOOD "x", "not one JSON object");
	REFUSED(GOOD GOOD, "not one JSON object");
	REFUSED("{\"version\":\"1\",}", "not one JSON object");
	REFUSED("{'version':'1'}", "not one JSON object");
	REFUSED(REC("1", "\"success\"", "\"\"", "\"2026-12-02T14:00:00Z\""), "\"version\"");
	REFUSED(REC("\"\"", "\"success\"", "\"\"", "\"2026-12-02T14:00:00Z\""), "\"version\"");
	REFUSED(REC("null", "\"success\"", "\"\"", "\"2026-12-02T14:00:00Z\""), "\"version\"");
	REFUSED(REC("\"a\\u0000b\"", "\"success\"", "\"\"", "\"2026-12-02T14:00:00Z\""), "\"version\"");
	REFUSED(REC("\"1\"", "\"ok\"", "\"\"", "\"2026-12-02T14:00:00Z\""), "\"result\"");
	REFUSED(REC("\"1\"", "true", "\"\"", "\"2026-12-02T14:00:00Z\""), "\"result\"");
	REFUSED(REC("\"1\"", "\"Success\"", "\"\"", "\"2026-12-02T14:00:00Z\""), "\"result\"");
	REFUSED(REC("\"1\"", "\"success\"", "null", "\"2026-12-02T14:00:00Z\""), "\"error\"");
	REFUSED(REC("\"1\"", "\"success\"", "{}", "\"2026-12-02T14:00:00Z\""), "\"error\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "1796220000"), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-12-02 14:00:00Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-12-02T14:00:00\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-12-02T14:00:00+01:00\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-12-02T14:00:00.5Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-02-30T14:00:00Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-13-02T14:00:00Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-12-02T24:00:00Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-12-02T14:60:00Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-12-02T14:00:60Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"1969-12-31T23:59:59Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"+026-12-02T14:00:00Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"2026-1a-02T14:00:00Z\""), "\"time\"");
	REFUSED(REC("\"1\"", "\"success\"", "\"\"", "\"\""), "\"time\"");
	REFUSED("{\"version\":\"1\",\"result\":\"success\",\"error\":\"\"}", "\"time\"");
	REFUSED("{\"version\":\"1\x00\",\"result\":\"success\"}", "NUL byte");
	REFUSED("{\"version\":\"\xff\xfe\",\"result\":\"success\",\"error\":\"\",\"time\":\"2026-12-02T14:00:00Z\"}", NULL);
	{
		char deep[300];

		memset(deep, '[', sizeof(deep));
		refused(deep, sizeof(deep), "not one JSON object");
	}
	{
		static char big[LAST_INSTALL_MAX + 1];

		memset(big, ' ', sizeof(big));
		refused(big, sizeof(big), "more than a record's");
	}
}

/* What may surround a record and what it may carry besides. */
static void test_lenient(void **state)
{
	static const char text[] =
		" \n{\"time\":\"2000-02-29T23:59:59Z\",\"error\":\"x\","
		"\"extra\":[1,{\"a\":null}],\"result\":\"failed\","
		"\"version\":\"\\u00e9 1\"}\r\n";
	struct last_install r;
	struct su_error err;

	(void)state;
	if (last_install_parse(text, sizeof(text) - 1, &r, &err))
		fail_msg("%s", err.message);
	assert_string_equal(r.version, "\xc3\xa9 1");
	assert_false(r.ok);
	assert_string_equal(r.error, "x");
	assert_int_equal(r.time, 951868799);
	last_install_free(&r);
}

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/*
 * Random bytes, and a good record with bytes changed, dropped and
 * repeated: never a crash; what is accepted survives a round trip.
 */
static void test_garbage(void **state)
{
	static const char alphabet[] = "{}[]\":,\\ -0123456789TZeflnrstuvx";
	uint32_t seed = 20261202;
	char buf[LAST_INSTALL_MAX + 64];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t len = rnd(&seed) % 160;
		struct last_install r, back;
		struct su_error err;
		char *json;

		if (i % 2) {
			for (size_t k = 0; k < len; k++)
				buf[k] = i % 4 == 1 ? (char)rnd(&seed) :
					alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
		} else {
			len = strlen(GOOD);
			memcpy(buf, GOOD, len);
			for (unsigned n = rnd(&seed) % 4 + 1; n; n--) {
				size_t at = rnd(&seed) % len;

				switch (rnd(&seed) % 3) {
				case 0:
					buf[at] = (char)rnd(&seed);
					break;
				case 1:
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
					break;
				default:
					memmove(buf + at + 1, buf + at, len - at);
					len++;
				}
			}
		}
		if (last_install_parse(buf, len, &r, &err)) {
			assert_null(r.version);
			assert_true(err.message[0] != '\0');
			continue;
		}
		json = last_install_json(&r);
		assert_non_null(json);
		assert_int_equal(last_install_parse(json, strlen(json), &back,
						    &err), SU_OK);
		assert_same(&r, &back);
		free(json);
		last_install_free(&back);
		last_install_free(&r);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_error_cut),
		T(test_mode),
		T(test_bootenv_round_trip),
		T(test_bootenv_stage),
		T(test_bootenv_missing_env),
		T(test_bootenv_malformed),
		T(test_file_round_trip),
		T(test_file_prefix),
		T(test_file_errors),
		T(test_none),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
