/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device configuration: every section and key, defaults, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char conf_path[64];
static char version_path[80];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(conf_path, sizeof(conf_path), "/tmp/su-config.XXXXXX");
	fd = mkstemp(conf_path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(version_path, sizeof(version_path), "%s.version", conf_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(conf_path);
	unlink(version_path);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static enum su_err load(const char *text, struct config **c,
			struct su_error *err)
{
	write_text(conf_path, text);
	*c = NULL;
	return config_load(conf_path, c, err);
}

static struct config *load_ok(const char *text)
{
	struct config *c;
	struct su_error err;

	if (load(text, &c, &err))
		fail_msg("config_load: %s", err.message);
	return c;
}

/* The text must be refused with "PATH:LINE: WHY" (line 0: "PATH: WHY"). */
static void refused(const char *text, unsigned line, const char *why)
{
	struct config *c;
	struct su_error err;
	char want[512];

	assert_int_equal(load(text, &c, &err), SU_ERR_CONFIG);
	assert_null(c);
	if (line)
		snprintf(want, sizeof(want), "%s:%u: %s", conf_path, line, why);
	else
		snprintf(want, sizeof(want), "%s: %s", conf_path, why);
	assert_string_equal(err.message, want);
}

#define TOKEN_A "0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef"
#define TOKEN_B "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static void test_every_key(void **state)
{
	struct config *c;

	(void)state;
	c = load_ok("[device]\n"
		    "compatible = acme,router-x1\n"
		    "version = 2.0.1\n"
		    "version_file = /etc/os-version\n"
		    "keys = /etc/su/keys\n"
		    "fw_env_config = /etc/fw.cfg\n"
		    "upgrade_available_var = ua\n"
		    "bootcount_var = bc\n"
		    "transaction_var = tx\n"
		    "cmdline = /run/cmdline\n"
		    "booted_slot_arg = sysupgrade.slot\n"
		    "[server]\n"
		    "listen = 0.0.0.0:8443, [::]:8443\n"
		    "http_listen = 127.0.0.1:8080\n"
		    "cert = /etc/su/cert.pem\n"
		    "key = /etc/su/key.pem\n"
		    "client_ca = /etc/su/ca.pem\n"
		    "token_sha256 = " TOKEN_A "\n"
		    "token_sha256 = " TOKEN_B "\n"
		    "info_public = no\n"
		    "www = /srv/www\n"
		    "max_connections = 8\n"
		    "connection_timeout = 5\n"
		    "[staging]\n"
		    "dir = /tmp/stage\n"
		    "max_size = 512M\n"
		    "[install]\n"
		    "handover = exec\n"
		    "handover_command = /sbin/handover\n"
		    "stop_command = /etc/init.d/app stop\n"
		    "reboot_command = /sbin/reboot -f\n"
		    "keep = /etc/passwd /etc/shadow\n"
		    "keep = /etc/dropbear\n");
	assert_string_equal(c->path, conf_path);
	assert_string_equal(c->compatible, "acme,router-x1");
	assert_string_equal(c->version, "2.0.1");
	assert_string_equal(c->version_file, "/etc/os-version");
	assert_string_equal(c->keys_dir, "/etc/su/keys");
	assert_string_equal(c->fw_env_config, "/etc/fw.cfg");
	assert_string_equal(c->upgrade_available_var, "ua");
	assert_string_equal(c->bootcount_var, "bc");
	assert_string_equal(c->transaction_var, "tx");
	assert_string_equal(c->cmdline, "/run/cmdline");
	assert_string_equal(c->booted_slot_arg, "sysupgrade.slot");

	assert_int_equal(c->n_listen, 3);
	assert_string_equal(c->listen[0].address, "0.0.0.0:8443");
	assert_true(c->listen[0].tls);
	assert_string_equal(c->listen[1].address, "[::]:8443");
	assert_true(c->listen[1].tls);
	assert_string_equal(c->listen[2].address, "127.0.0.1:8080");
	assert_false(c->listen[2].tls);
	assert_string_equal(c->tls_cert, "/etc/su/cert.pem");
	assert_string_equal(c->tls_key, "/etc/su/key.pem");
	assert_string_equal(c->client_ca, "/etc/su/ca.pem");
	assert_int_equal(c->n_tokens, 2);
	assert_string_equal(c->token_sha256[0],
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_string_equal(c->token_sha256[1], TOKEN_B);
	assert_false(c->info_public);
	assert_string_equal(c->www_dir, "/srv/www");
	assert_int_equal(c->max_connections, 8);
	assert_int_equal(c->connection_timeout, 5);

	assert_string_equal(c->staging_dir, "/tmp/stage");
	assert_int_equal(c->staging_max, 512ULL << 20);

	assert_string_equal(c->handover, "exec");
	assert_string_equal(c->handover_command, "/sbin/handover");
	assert_string_equal(c->stop_command, "/etc/init.d/app stop");
	assert_string_equal(c->reboot_command, "/sbin/reboot -f");
	assert_int_equal(c->n_keep, 3);
	assert_string_equal(c->keep[0], "/etc/passwd");
	assert_string_equal(c->keep[1], "/etc/shadow");
	assert_string_equal(c->keep[2], "/etc/dropbear");
	assert_int_equal(c->n_targets, 0);
	config_free(c);
}

static void test_defaults(void **state)
{
	struct config *c;

	(void)state;
	c = load_ok("[device]\ncompatible = acme,x\n");
	assert_null(c->version);
	assert_null(c->version_file);
	assert_string_equal(c->keys_dir, "/etc/sysupgraded/keys");
	assert_string_equal(c->fw_env_config, "/etc/fw_env.config");
	assert_string_equal(c->upgrade_available_var, "upgrade_available");
	assert_string_equal(c->bootcount_var, "bootcount");
	assert_string_equal(c->transaction_var, "sysupgrade_transaction");
	assert_string_equal(c->cmdline, "/proc/cmdline");
	assert_null(c->booted_slot_arg);
	assert_int_equal(c->n_listen, 0);
	assert_null(c->tls_cert);
	assert_null(c->tls_key);
	assert_null(c->client_ca);
	assert_int_equal(c->n_tokens, 0);
	assert_true(c->info_public);
	assert_string_equal(c->www_dir, "/usr/share/sysupgraded/www");
	assert_int_equal(c->max_connections, 32);
	assert_int_equal(c->connection_timeout, 30);
	assert_string_equal(c->staging_dir, "/run/sysupgraded");
	assert_int_equal(c->staging_max, 0);
	assert_string_equal(c->handover, "none");
	assert_null(c->handover_command);
	assert_null(c->stop_command);
	assert_string_equal(c->reboot_command, "reboot");
	assert_int_equal(c->n_keep, 0);
	assert_int_equal(c->n_targets, 0);
	config_free(c);
}

static void test_targets(void **state)
{
	const struct config_target *t;
	struct config *c;

	(void)state;
	c = load_ok("[device]\ncompatible = acme,x\n"
		    "[target:rootfs]\n"
		    "type = ubi\n"
		    "a = ubi0:rootfs_a\n"
		    "b = ubi0:rootfs_b\n"
		    "slot_var = boot_slot\n"
		    "verify = readback\n"
		    "rename = yes\n"
		    "[target:alt]\n"
		    "type = ext4\n"
		    "a = /dev/mmcblk0p2\n"
		    "b = /dev/mmcblk0p3\n"
		    "slot_var = slot\n"
		    "slot_a_value = 0\n"
		    "slot_b_value = 1\n"
		    "[target:data]\n"
		    "type = tar\n"
		    "device = /dev/mmcblk0p4\n"
		    "in_use = yes\n"
		    "critical = no\n"
		    "verify = none\n"
		    "mkfs = true\n"
		    "label = DATA\n");
	assert_int_equal(c->n_targets, 3);

	t = config_find_target(c, "rootfs");
	assert_non_null(t);
	assert_string_equal(t->name, "rootfs");
	assert_string_equal(t->type, "ubi");
	assert_null(t->device);
	assert_true(config_target_is_ab(t));
	assert_string_equal(t->slot_device[0], "ubi0:rootfs_a");
	assert_string_equal(t->slot_device[1], "ubi0:rootfs_b");
	assert_string_equal(t->slot_var, "boot_slot");
	assert_string_equal(t->slot_value[0], "a");	/* defaults */
	assert_string_equal(t->slot_value[1], "b");
	assert_true(t->readback);
	assert_false(t->in_use);
	assert_true(t->critical);
	assert_int_equal(t->n_options, 1);
	assert_string_equal(config_target_option(t, "rename"), "yes");
	assert_true(config_target_flag(t, "rename", false));

	t = config_find_target(c, "alt");
	assert_non_null(t);
	assert_string_equal(t->slot_value[0], "0");
	assert_string_equal(t->slot_value[1], "1");
	assert_false(t->readback);

	t = config_find_target(c, "data");
	assert_non_null(t);
	assert_false(config_target_is_ab(t));
	assert_string_equal(t->device, "/dev/mmcblk0p4");
	assert_true(t->in_use);
	assert_false(t->critical);
	assert_false(t->readback);
	assert_int_equal(t->n_options, 2);
	assert_true(config_target_flag(t, "mkfs", false));
	assert_string_equal(config_target_option(t, "label"), "DATA");
	assert_null(config_target_option(t, "type"));	/* not an option */
	assert_null(config_target_option(t, "missing"));
	assert_true(config_target_flag(t, "missing", true));
	assert_false(config_target_flag(t, "missing", false));
	/* Not a boolean: the default. */
	assert_true(config_target_flag(t, "label", true));

	assert_null(config_find_target(c, "kernel"));
	config_free(c);
}

static void test_flags(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "True", "1" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "0" };
	char text[256];
	struct config *c;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		snprintf(text, sizeof(text),
			 "[device]\ncompatible = x\n[target:t]\ntype = tar\n"
			 "device = /dev/x\nin_use = %s\nflag = %s\n"
			 "[server]\ninfo_public = %s\n", yes[i], yes[i], no[i]);
		c = load_ok(text);
		assert_true(c->targets[0].in_use);
		assert_true(config_target_flag(&c->targets[0], "flag", false));
		assert_false(c->info_public);
		config_free(c);
	}
}

static void test_unknown(void **state)
{
	(void)state;
	refused("[device]\ncompatible = x\n\n# comment\ncolour = blue\n", 5,
		"unknown key 'colour' in [device]");
	refused("[device]\ncompatible = x\n[serverr]\nlisten = :1\n", 4,
		"unknown section [serverr]");
	refused("[server]\nlisten = :1\nkeys = /k\n", 3,
		"unknown key 'keys' in [server]");
	refused("[staging]\nsize = 1M\n", 2, "unknown key 'size' in [staging]");
	refused("[install]\nkeep_config = yes\n", 2,
		"unknown key 'keep_config' in [install]");
	/* A target section needs a name. */
	refused("[target:]\ntype = ubi\n", 2, "unknown section [target:]");
	refused("[device]\ncompatible = x\nthis is not ini\n", 3,
		"not INI syntax");
	/* A good key after a bad one must not hide it. */
	refused("[device]\ncolour = blue\ncompatible = x\nversion = 1\n", 2,
		"unknown key 'colour' in [device]");
	refused("[server]\nlistn = :1\n[device]\ncompatible = x\n", 2,
		"unknown key 'listn' in [server]");
}

static void test_bad_values(void **state)
{
	(void)state;
	refused("[device]\ncompatible = x\n[server]\ninfo_public = maybe\n", 4,
		"'maybe' is not yes or no");
	refused("[server]\nmax_connections = many\n", 2,
		"'many' is not a number");
	refused("[server]\nconnection_timeout = -1\n", 2,
		"'-1' is not a number");
	refused("[server]\nmax_connections = 1000001\n", 2,
		"'1000001' is not a number");
	refused("[staging]\nmax_size = 12X\n", 2,
		"'12X' is not a size (e.g. 512M)");
	refused("[server]\ntoken_sha256 = abc\n", 2,
		"token_sha256 'abc...' is not 64 hex digits");
	refused("[device]\ncompatible = x\n[target:t]\ntype = tar\n"
		"device = /dev/x\nverify = crc\n", 6,
		"verify = 'crc': expected readback or none");
	refused("[device]\ncompatible = x\n[target:t]\ntype = tar\n"
		"device = /dev/x\nin_use = sometimes\n", 6,
		"'sometimes' is not yes or no");
}

static void test_whole_file_checks(void **state)
{
	(void)state;
	refused("[server]\nlisten = :1\n", 0, "[device] compatible is not set");
	refused("[device]\ncompatible = x\n[install]\nhandover = sysvinit\n", 0,
		"[install] handover = sysvinit: expected none, busybox, s6, systemd, procd or exec");
	refused("[device]\ncompatible = x\n[install]\nhandover = exec\n", 0,
		"[install] handover = exec needs handover_command");
	refused("[device]\ncompatible = x\n[target:t]\ndevice = /dev/x\n", 0,
		"[target:t] has no type");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\n", 0,
		"[target:t] has no device");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\na = x\n"
		"slot_var = s\n", 0, "[target:t] needs both a and b");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\nb = x\n"
		"slot_var = s\n", 0, "[target:t] needs both a and b");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\na = x\n"
		"b = y\ndevice = z\nslot_var = s\n", 0,
		"[target:t] has device and a/b; pick one");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\na = x\n"
		"b = y\n", 0, "[target:t] has slots but no slot_var");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\na = x\n"
		"b = x\nslot_var = s\n", 0,
		"[target:t]: a and b are the same device, x");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\na = x\n"
		"b = y\nslot_var = s\nslot_a_value = 1\nslot_b_value = 1\n", 0,
		"[target:t]: slot_a_value and slot_b_value are both '1'");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\na = x\n"
		"b = y\nslot_var = s\nslot_b_value = a\n", 0,
		"[target:t]: slot_a_value and slot_b_value are both 'a'");
	refused("[device]\ncompatible = x\n[target:t]\ntype = ubi\n"
		"device = x\n[target:u]\ntype = ubi\ndevice = y\n"
		"[target:t]\nverify = none\n", 10, "[target:t] appears twice");
	for (const char *h = "none busybox s6 systemd"; *h; ) {
		char text[128], name[16];
		size_t len = strcspn(h, " ");
		struct config *c;

		snprintf(name, sizeof(name), "%.*s", (int)len, h);
		snprintf(text, sizeof(text),
			 "[device]\ncompatible = x\n[install]\nhandover = %s\n",
			 name);
		c = load_ok(text);
		assert_string_equal(c->handover, name);
		config_free(c);
		h += len + (h[len] == ' ');
	}
}

static void test_missing_file(void **state)
{
	struct config *c = NULL;
	struct su_error err;

	(void)state;
	assert_int_equal(config_load("/nonexistent/su.conf", &c, &err),
			 SU_ERR_CONFIG);
	assert_null(c);
	assert_string_equal(err.message,
			    "open /nonexistent/su.conf: No such file or directory");
}

static void test_sizes(void **state)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{ "0", 0 }, { "4096", 4096 }, { "64K", 65536 },
		{ "64KiB", 65536 }, { "512M", 512ULL << 20 },
		{ "3MiB", 3ULL << 20 }, { "1G", 1ULL << 30 },
		{ "2GiB", 2ULL << 30 },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "M", "-1", " 1M", "1 M", "1m", "1T", "12X", "1.5G",
		"17179869184G",			/* 2^64: overflows */
		"99999999999999999999",		/* past strtoull */
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 1;
		assert_int_equal(config_parse_size(good[i].s, &v), 0);
		assert_int_equal(v, good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (config_parse_size(bad[i], &v) != -1)
			fail_msg("'%s' was accepted as a size", bad[i]);
}

static void test_running_version(void **state)
{
	struct su_error err;
	struct config *c;
	char text[256], want[256], *v;

	(void)state;
	c = load_ok("[device]\ncompatible = x\nversion = 3.1\n");
	v = config_running_version(c, &err);
	assert_string_equal(v, "3.1");
	free(v);
	config_free(c);

	snprintf(text, sizeof(text),
		 "[device]\ncompatible = x\nversion_file = %s\n", version_path);
	c = load_ok(text);
	write_text(version_path, "2024.05-rc1\r\nsecond line\n");
	v = config_running_version(c, &err);
	assert_string_equal(v, "2024.05-rc1");
	free(v);

	write_text(version_path, "\n");
	assert_null(config_running_version(c, &err));
	assert_int_equal(err.code, SU_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s: no version on its first line",
		 version_path);
	assert_string_equal(err.message, want);

	unlink(version_path);
	assert_null(config_running_version(c, &err));
	assert_int_equal(err.code, SU_ERR_CONFIG);
	snprintf(want, sizeof(want), "open %s: No such file or directory",
		 version_path);
	assert_string_equal(err.message, want);
	config_free(c);

	/* A literal version wins over the file. */
	snprintf(text, sizeof(text),
		 "[device]\ncompatible = x\nversion_file = %s\nversion = 9\n",
		 version_path);
	c = load_ok(text);
	v = config_running_version(c, &err);
	assert_string_equal(v, "9");
	free(v);
	config_free(c);

	c = load_ok("[device]\ncompatible = x\n");
	assert_null(config_running_version(c, &err));
	assert_int_equal(err.code, SU_ERR_CONFIG);
	snprintf(want, sizeof(want),
		 "%s: [device] sets neither version nor version_file",
		 conf_path);
	assert_string_equal(err.message, want);
	config_free(c);
}

/* The documented example must stay a valid config. */
static void test_contrib_example(void **state)
{
	const char *src = getenv("SU_TEST_SRC");
	char path[4096];
	struct config *c = NULL;
	struct su_error err;
	const struct config_target *t;

	(void)state;
	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/../contrib/sysupgraded.conf", src);
	if (config_load(path, &c, &err))
		fail_msg("%s", err.message);
	assert_string_equal(c->compatible, "acme,router-x1");
	assert_int_equal(c->n_listen, 2);
	t = config_find_target(c, "rootfs");
	assert_non_null(t);
	assert_true(config_target_is_ab(t) && t->readback);
	assert_string_equal(config_target_option(config_find_target(c, "data"),
						 "clear"), "yes");
	config_free(c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_key),
		T(test_defaults),
		T(test_targets),
		T(test_flags),
		T(test_unknown),
		T(test_bad_values),
		T(test_whole_file_checks),
		T(test_missing_file),
		T(test_sizes),
		T(test_running_version),
		T(test_contrib_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
