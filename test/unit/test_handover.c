/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The handover state file and MemAvailable: round trip, every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "handover.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/su-handover.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, HANDOVER_STATE_NAME);
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	(void)state;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static void write_bytes(const char *p, const char *text, size_t len)
{
	FILE *f = fopen(p, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *p, const char *text)
{
	write_bytes(p, text, strlen(text));
}

static const struct handover_state sample = {
	.root = "/run/sysupgraded/root",
	.config = "/etc/sysupgraded.conf",
	.exe = "/usr/sbin/sysupgraded",
	.loader = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
	.library_path = "/usr/lib/x86_64-linux-gnu:/usr/lib",
	.keep = "/run/sysupgraded/root/keep.tar",
	.version = "2.0 = \"two\" \xc3\xa9",	/* '=', quotes, UTF-8 */
	.method = "busybox",
	.reboot = true,
	.keep_config = false,
	.force = true,
	.event_id = UINT64_MAX,
};

/* Entries of dir other than the state file: a temporary left behind. */
static int others(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' && strcmp(e->d_name, HANDOVER_STATE_NAME);
	closedir(d);
	return n;
}

static void test_round_trip(void **state)
{
	struct handover_state s;
	struct su_error err;
	struct stat st;

	(void)state;
	assert_int_equal(handover_state_write(path, &sample, &err), SU_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(others(), 0);
	assert_int_equal(handover_state_read(path, &s, &err), SU_OK);
	assert_string_equal(s.root, sample.root);
	assert_string_equal(s.config, sample.config);
	assert_string_equal(s.exe, sample.exe);
	assert_string_equal(s.loader, sample.loader);
	assert_string_equal(s.library_path, sample.library_path);
	assert_string_equal(s.keep, sample.keep);
	assert_string_equal(s.version, sample.version);
	assert_string_equal(s.method, sample.method);
	assert_true(s.reboot);
	assert_false(s.keep_config);
	assert_true(s.force);
	assert_true(s.event_id == UINT64_MAX);
	handover_state_free(&s);
}

/* A static exe: NULL and "" are both written as "", read back as "". */
static void test_empty_values(void **state)
{
	struct handover_state in = sample, s;
	struct su_error err;

	(void)state;
	in.loader = NULL;
	in.library_path = "";
	in.keep = "";
	in.event_id = 0;
	in.reboot = false;
	assert_int_equal(handover_state_write(path, &in, &err), SU_OK);
	assert_int_equal(handover_state_read(path, &s, &err), SU_OK);
	assert_string_equal(s.loader, "");
	assert_string_equal(s.library_path, "");
	assert_string_equal(s.keep, "");
	assert_true(s.event_id == 0);
	assert_false(s.reboot);
	handover_state_free(&s);
}

/* The exact bytes: what a stage 2 of another build would read. */
static void test_format(void **state)
{
	struct handover_state in = sample;
	struct su_error err;
	char buf[1024];
	FILE *f;
	size_t n;

	(void)state;
	in.version = "2.0";
	in.event_id = 42;
	assert_int_equal(handover_state_write(path, &in, &err), SU_OK);
	f = fopen(path, "re");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf,
		"sysupgraded-handover 1\n"
		"root=/run/sysupgraded/root\n"
		"config=/etc/sysupgraded.conf\n"
		"exe=/usr/sbin/sysupgraded\n"
		"loader=/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
		"library_path=/usr/lib/x86_64-linux-gnu:/usr/lib\n"
		"keep=/run/sysupgraded/root/keep.tar\n"
		"version=2.0\n"
		"method=busybox\n"
		"reboot=1\n"
		"keep_config=0\n"
		"force=1\n"
		"event_id=42\n");
}

/* A value that would end its line early is never written. */
static void test_write_refuses_control(void **state)
{
	struct handover_state in = sample;
	struct su_error err;

	(void)state;
	in.version = "2.0\nforce=1";
	assert_int_equal(handover_state_write(path, &in, &err),
			 SU_ERR_INTERNAL);
	assert_non_null(strstr(err.message, "version has a control character"));
	assert_non_null(strstr(err.message, path));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(others(), 0);
}

/* The write replaces an old state whole. */
static void test_write_replaces(void **state)
{
	struct handover_state in = sample, s;
	struct su_error err;

	(void)state;
	write_text(path, "garbage\n");
	in.method = "s6";
	assert_int_equal(handover_state_write(path, &in, &err), SU_OK);
	assert_int_equal(handover_state_read(path, &s, &err), SU_OK);
	assert_string_equal(s.method, "s6");
	handover_state_free(&s);
}

#define GOOD_HEAD "sysupgraded-handover 1\n"
#define GOOD_KEYS \
	"root=/r\nconfig=/c\nexe=/e\nloader=/l\nlibrary_path=/lib\n" \
	"keep=\nversion=2\nmethod=exec\nreboot=1\nkeep_config=1\n" \
	"force=0\nevent_id=7\n"

/* @len bytes of @text must be refused: SU_ERR_CONFIG, "PATH...: WHY". */
static void refused_bytes(const char *text, size_t len, const char *why)
{
	struct handover_state s;
	struct su_error err;

	write_bytes(path, text, len);
	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(handover_state_read(path, &s, &err), SU_ERR_CONFIG);
	if (strncmp(err.message, path, strlen(path)) ||
	    !strstr(err.message, why))
		fail_msg("expected '%s...%s', got '%s'", path, why, err.message);
	/* Nothing is left to free: a caller may free it again. */
	assert_null(s.root);
	assert_null(s.version);
	handover_state_free(&s);
}

static void refused(const char *text, const char *why)
{
	refused_bytes(text, strlen(text), why);
}

static void test_good_baseline(void **state)
{
	struct handover_state s;
	struct su_error err;

	(void)state;
	write_text(path, GOOD_HEAD GOOD_KEYS);
	assert_int_equal(handover_state_read(path, &s, &err), SU_OK);
	assert_string_equal(s.keep, "");
	assert_true(s.keep_config);
	assert_true(s.event_id == 7);
	handover_state_free(&s);
}

static void test_bad_magic(void **state)
{
	(void)state;
	refused("sysupgraded-handover 2\n" GOOD_KEYS,
		":1: not a handover state: expected 'sysupgraded-handover 1'");
	refused("\n" GOOD_KEYS, ":1: not a handover state");
	refused(GOOD_KEYS, ":1: not a handover state");
}

static void test_unknown_key(void **state)
{
	(void)state;
	refused(GOOD_HEAD GOOD_KEYS "shell=/bin/sh\n", ":14: unknown key 'shell'");
	refused(GOOD_HEAD "Root=/r\n" GOOD_KEYS, ":2: unknown key 'Root'");
	refused(GOOD_HEAD GOOD_KEYS "no equals sign\n", ":14: expected key=value");
	refused(GOOD_HEAD GOOD_KEYS "\n", ":14: expected key=value");
	refused(GOOD_HEAD GOOD_KEYS "=x\n", ":14: unknown key ''");
}

static void test_missing_key(void **state)
{
	(void)state;
	refused(GOOD_HEAD
		"root=/r\nconfig=/c\nexe=/e\nloader=/l\nlibrary_path=/lib\n"
		"keep=\nversion=2\nmethod=exec\nreboot=1\nkeep_config=1\n"
		"force=0\n", ": event_id is missing");
	refused(GOOD_HEAD, ": root is missing");
	refused(GOOD_HEAD GOOD_KEYS "root=/again\n", ":14: root given twice");
}

static void test_control_char(void **state)
{
	static const char nul[] = GOOD_HEAD "root=/r\0x\n" GOOD_KEYS;

	(void)state;
	refused(GOOD_HEAD "root=/r\tx\n" GOOD_KEYS, ":2: control character 0x09");
	refused(GOOD_HEAD GOOD_KEYS "version=\x1b[31m\n",
		":14: control character 0x1b");
	refused(GOOD_HEAD "root=/r\r\n" GOOD_KEYS, ":2: control character 0x0d");
	refused(GOOD_HEAD "root=/r\x7f\n" GOOD_KEYS, ":2: control character 0x7f");
	refused_bytes(nul, sizeof(nul) - 1, ": control character 0x00");
}

static void test_truncated(void **state)
{
	char text[] = GOOD_HEAD GOOD_KEYS;

	(void)state;
	/* Cut anywhere before the end: no final newline. */
	refused_bytes(text, strlen(text) - 1, ": truncated: no newline at the end");
	refused_bytes(text, strlen(text) / 2, ": truncated");
	refused("", ": truncated");
	refused(GOOD_HEAD "root=/r\nconf", ": truncated");
}

static void test_bad_values(void **state)
{
	(void)state;
	refused(GOOD_HEAD GOOD_KEYS "reboot=2\n", ":14: reboot given twice");
	refused(GOOD_HEAD "reboot=yes\n" GOOD_KEYS, ":2: reboot: expected 0 or 1");
	refused(GOOD_HEAD "force=\n" GOOD_KEYS, ":2: force: expected 0 or 1");
	refused(GOOD_HEAD "event_id=-1\n" GOOD_KEYS,
		":2: event_id: expected a decimal number");
	refused(GOOD_HEAD "event_id=07\n" GOOD_KEYS, ":2: event_id: expected");
	refused(GOOD_HEAD "event_id=18446744073709551616\n" GOOD_KEYS,
		":2: event_id: expected");
	refused(GOOD_HEAD "event_id=\n" GOOD_KEYS, ":2: event_id: expected");
	refused(GOOD_HEAD "event_id= 7\n" GOOD_KEYS, ":2: event_id: expected");
}

static void test_missing_file(void **state)
{
	struct handover_state s;
	struct su_error err;

	(void)state;
	assert_int_equal(handover_state_read(path, &s, &err), SU_ERR_IO);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "No such file"));
	assert_null(s.root);
}

static void test_too_large(void **state)
{
	size_t len = 70 * 1024;
	char *big = malloc(len);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', len);
	memcpy(big, GOOD_HEAD "root=/", strlen(GOOD_HEAD "root=/"));
	big[len - 1] = '\n';
	refused_bytes(big, len, ": larger than 65536 bytes");
	free(big);
}

/* ---- MemAvailable ---- */

static enum su_err mem(const char *text, uint64_t *bytes, struct su_error *err)
{
	struct config cfg = { .meminfo = path };

	if (text)
		write_text(path, text);
	return handover_mem_available(&cfg, bytes, err);
}

static void test_mem_available(void **state)
{
	struct su_error err;
	uint64_t bytes = 0;

	(void)state;
	assert_int_equal(mem("MemTotal:        2013952 kB\n"
			     "MemFree:          123456 kB\n"
			     "MemAvailable:    1507328 kB\n"
			     "Buffers:           12345 kB\n", &bytes, &err), SU_OK);
	assert_true(bytes == 1507328ULL * 1024);
	/* The last line, without its newline. */
	assert_int_equal(mem("MemFree: 1 kB\nMemAvailable: 30720 kB", &bytes,
			     &err), SU_OK);
	assert_true(bytes == 30720ULL * 1024);
}

static void test_mem_refused(void **state)
{
	char want[256];
	struct su_error err;
	uint64_t bytes = 99;

	(void)state;
	assert_int_equal(mem("MemTotal: 2013952 kB\nMemFree: 123456 kB\n",
			     &bytes, &err), SU_ERR_IO);
	snprintf(want, sizeof(want), "%s: no MemAvailable line", path);
	assert_non_null(strstr(err.message, want));
	assert_true(bytes == 99);
	assert_int_equal(mem("MemAvailable: 12 MB\n", &bytes, &err), SU_ERR_IO);
	assert_non_null(strstr(err.message, "MemAvailable is not 'N kB'"));
	assert_int_equal(mem("MemAvailable: -12 kB\n", &bytes, &err), SU_ERR_IO);
	assert_int_equal(mem("MemAvailable: 99999999999999999999 kB\n", &bytes,
			     &err), SU_ERR_IO);
	assert_true(bytes == 99);
	unlink(path);
	assert_int_equal(mem(NULL, &bytes, &err), SU_ERR_IO);
	snprintf(want, sizeof(want), "open %s: No such file", path);
	assert_non_null(strstr(err.message, want));
}

/* library_path: canonical in stage 1, prefixed with the root in stage 2 */
static void test_path_list(void **state)
{
	char *s;

	(void)state;
	s = handover_path_list("/usr/lib:/lib", "/run/r", false);
	assert_string_equal(s, "/run/r/usr/lib:/run/r/lib");
	free(s);
	s = handover_path_list("", "/run/r", false);
	assert_string_equal(s, "");
	free(s);
	/* /proc/self resolves to this process's directory; a missing
	 * path stays as it is */
	s = handover_path_list("/proc/self:/nonexistent/x", "", true);
	assert_non_null(s);
	assert_true(!strncmp(s, "/proc/", 6) && strcmp(s, "/proc/self:/nonexistent/x"));
	assert_non_null(strstr(s, ":/nonexistent/x"));
	free(s);
}

/* handover = procd's ubus argv: the message is JSON that says what the
 * paths say, whatever they hold, and is exactly procd's three fields. */
static void test_procd_argv(void **state_)
{
	static const char *const roots[] = {
		"/run/sysupgraded/root", "/run/a \"quoted\" dir\\x", "/run/tab\there\nnl",
	};
	char *argv[HANDOVER_PROCD_ARGC + 1], state[128], *msg;

	(void)state_;
	msg = handover_procd_argv("/run/sysupgraded/root",
				  "/run/sysupgraded/root/handover.state", argv);
	assert_non_null(msg);
	assert_string_equal(msg, "{\"prefix\":\"/run/sysupgraded/root\","
			    "\"path\":\"/run/sysupgraded/root/handover.state\",\"force\":true}");
	free(msg);
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		json_object *o, *v;

		snprintf(state, sizeof(state), "%s/handover.state", roots[i]);
		msg = handover_procd_argv(roots[i], state, argv);
		assert_non_null(msg);
		assert_string_equal(argv[0], "ubus");
		assert_string_equal(argv[1], "call");
		assert_string_equal(argv[2], "system");
		assert_string_equal(argv[3], "sysupgrade");
		assert_ptr_equal(argv[4], msg);
		assert_null(argv[5]);
		o = json_tokener_parse(msg);
		assert_non_null(o);
		assert_int_equal(json_object_object_length(o), 3);
		assert_true(json_object_object_get_ex(o, "prefix", &v));
		assert_string_equal(json_object_get_string(v), roots[i]);
		assert_true(json_object_object_get_ex(o, "path", &v));
		assert_string_equal(json_object_get_string(v), state);
		assert_true(json_object_object_get_ex(o, "force", &v));
		assert_true(json_object_is_type(v, json_type_boolean) &&
			    json_object_get_boolean(v));
		json_object_put(o);
		free(msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_round_trip),
		T(test_empty_values),
		T(test_format),
		T(test_write_refuses_control),
		T(test_write_replaces),
		T(test_good_baseline),
		T(test_bad_magic),
		T(test_unknown_key),
		T(test_missing_key),
		T(test_control_char),
		T(test_truncated),
		T(test_bad_values),
		T(test_missing_file),
		T(test_too_large),
		T(test_mem_available),
		T(test_mem_refused),
		T(test_path_list),
		T(test_procd_argv),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
