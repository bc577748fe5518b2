/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ubi backend's parts that need no kernel: device names, options,
 * volume sizes, recognising a mount of the volume; and the refusals its
 * ops make before touching UBI. The volume update itself is tested in a
 * VM (test/vm/ubi.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <mtd/ubi-user.h>

#include "backend.h"
#include "flash_mounts.h"
#include "ubi_internal.h"

static void test_parse_device(void **state)
{
	const char *name;
	int dev, vol;

	(void)state;
	assert_int_equal(ubib_parse_device("ubi0:rootfs", &dev, &vol, &name), 0);
	assert_int_equal(dev, 0);
	assert_int_equal(vol, -1);
	assert_string_equal(name, "rootfs");
	assert_int_equal(ubib_parse_device("ubi12:a:b", &dev, &vol, &name), 0);
	assert_int_equal(dev, 12);
	assert_string_equal(name, "a:b");
	assert_int_equal(ubib_parse_device("/dev/ubi1_3", &dev, &vol, &name), 0);
	assert_int_equal(dev, 1);
	assert_int_equal(vol, 3);
	assert_null(name);
	assert_int_equal(ubib_parse_device("ubi0_0", &dev, &vol, &name), 0);
	assert_int_equal(vol, 0);

	static const char *const bad[] = {
		"ubi0:", "ubi:rootfs", "ubi0", "/dev/ubi0", "/dev/ubi0:rootfs",
		"ubi0_", "ubi0_1x", "ubix_1", "ubi_1", "/dev/ubiblock0_1",
		"rootfs", "", "/dev/mtd0", "ubi-1_0", "ubi99999_0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ubib_parse_device(bad[i], &dev, &vol, &name), -1);

	char longname[200];

	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "ubi0:", 5);
	longname[5 + 128] = '\0';	/* 128 > UBI_VOL_NAME_MAX */
	assert_int_equal(ubib_parse_device(longname, &dev, &vol, &name), -1);
	longname[5 + 127] = '\0';
	assert_int_equal(ubib_parse_device(longname, &dev, &vol, &name), 0);
}

static void test_source_is_volume(void **state)
{
	(void)state;
	/* Volume 2 "rootfs" of ubi0. */
	static const char *const yes0[] = {
		"ubi0:rootfs", "ubi:rootfs", "ubi0!rootfs", "ubi!rootfs",
		"ubi0_2", "ubi2", "/dev/ubi0_2", "/dev/ubiblock0_2",
	};
	static const char *const no0[] = {
		"ubi0:rootfs2", "ubi1:rootfs", "ubi0_3", "ubi1_2", "ubi3",
		"/dev/ubi2", "/dev/ubi0", "/dev/ubiblock0_3", "/dev/ubi0:rootfs",
		"rootfs", "/dev/mtdblock2", "mtd:rootfs", "ubi0_2x", "tmpfs",
		"/dev/ubi0_2/x", "ubi0:", "ubi",
	};

	for (size_t i = 0; i < sizeof(yes0) / sizeof(yes0[0]); i++)
		assert_true(ubib_source_is_volume(yes0[i], 0, 2, "rootfs"));
	for (size_t i = 0; i < sizeof(no0) / sizeof(no0[0]); i++)
		assert_false(ubib_source_is_volume(no0[i], 0, 2, "rootfs"));
	/* On ubi1 the device-0 short forms do not apply. */
	assert_true(ubib_source_is_volume("ubi1:data", 1, 0, "data"));
	assert_true(ubib_source_is_volume("ubi1_0", 1, 0, "data"));
	assert_false(ubib_source_is_volume("ubi:data", 1, 0, "data"));
	assert_false(ubib_source_is_volume("ubi0", 1, 0, "data"));
}

static struct config_target target(struct config_option *o, size_t n)
{
	return (struct config_target){ .name = (char *)"rootfs",
				       .type = (char *)"ubi", .options = o,
				       .n_options = n };
}

static void test_options(void **state)
{
	struct config_option all[] = {
		{ (char *)"create", (char *)"yes" },
		{ (char *)"volume_size", (char *)"8M" },
		{ (char *)"volume_type", (char *)"static" },
		{ (char *)"resize", (char *)"true" },
		{ (char *)"rename_to", (char *)"rootfs" },
	};
	struct config_target t = target(all, 5);
	struct ubib_opts o;
	struct su_error err;

	(void)state;
	assert_int_equal(ubib_parse_options(NULL, &o, &err), SU_OK);
	assert_false(o.create);
	assert_false(o.resize);
	assert_false(o.type_set);
	assert_int_equal(o.vol_type, UBI_DYNAMIC_VOLUME);
	assert_int_equal(o.volume_size, 0);
	assert_null(o.rename_to);

	assert_int_equal(ubib_parse_options(&t, &o, &err), SU_OK);
	assert_true(o.create);
	assert_true(o.resize);
	assert_true(o.type_set);
	assert_int_equal(o.vol_type, UBI_STATIC_VOLUME);
	assert_int_equal(o.volume_size, 8 << 20);
	assert_string_equal(o.rename_to, "rootfs");

	static const struct { const char *key, *value, *msg; } bad[] = {
		{ "create", "maybe", "create = 'maybe' is not yes or no" },
		{ "resize", "", "resize = '' is not yes or no" },
		{ "volume_size", "8X", "volume_size = '8X' is not a size" },
		{ "volume_size", "0", "volume_size = '0' is not a size" },
		{ "volume_type", "Dynamic", "volume_type = 'Dynamic' is not dynamic or static" },
		{ "rename_to", "", "rename_to = '' is not a UBI volume name" },
		{ "vol_size", "8M", "unknown option 'vol_size'" },
		{ "erase_rest", "yes", "unknown option 'erase_rest'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config_option one = { (char *)bad[i].key,
					     (char *)bad[i].value };

		t = target(&one, 1);
		su_error_clear(&err);
		assert_int_equal(ubib_parse_options(&t, &o, &err), SU_ERR_CONFIG);
		if (!strstr(err.message, bad[i].msg))
			fail_msg("%s = '%s': message '%s' lacks '%s'",
				 bad[i].key, bad[i].value, err.message,
				 bad[i].msg);
	}
}

static void test_volume_bytes(void **state)
{
	struct ubib_opts o = { 0 };
	int leb = 126976;	/* 128 KiB PEB minus two 2 KiB pages */

	(void)state;
	assert_int_equal(ubib_volume_bytes(&o, 1, leb), leb);
	assert_int_equal(ubib_volume_bytes(&o, 0, leb), leb);
	assert_int_equal(ubib_volume_bytes(&o, leb, leb), leb);
	assert_int_equal(ubib_volume_bytes(&o, leb + 1, leb), 2 * leb);
	assert_int_equal(ubib_volume_bytes(&o, 10ULL * leb - 3, leb), 10ULL * leb);
	o.volume_size = 8 << 20;
	assert_int_equal(ubib_volume_bytes(&o, 1, leb), 8 << 20);
	/* An image larger than volume_size (refused by open) still fits. */
	assert_int_equal(ubib_volume_bytes(&o, 100ULL * leb, leb), 100ULL * leb);
}

static bool match_ubi0_2(const char *source, const char *fstype, void *ctx)
{
	(void)fstype;
	return ubib_source_is_volume(source, 0, 2, ctx);
}

static void test_mount_find(void **state)
{
	char path[] = "/tmp/su-mountinfo.XXXXXX";
	char where[256], type[32];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
	      "30 1 0:26 / /data rw,relatime shared:1 master:2 - ubifs ubi0:data rw\n"
	      "31 1 0:27 / /mnt/new\\040root rw,relatime - ubifs ubi0:rootfs rw,assert=read-only\n"
	      "garbage line\n", f);
	fclose(f);

	assert_int_equal(flash_mount_find(path, match_ubi0_2, (void *)"rootfs",
					  where, sizeof(where), type,
					  sizeof(type)), 1);
	assert_string_equal(where, "/mnt/new root");
	assert_string_equal(type, "ubifs");
	assert_int_equal(flash_mount_find(path, match_ubi0_2, (void *)"other",
					  where, sizeof(where), NULL, 0), 0);
	unlink(path);
	assert_int_equal(flash_mount_find(path, match_ubi0_2, (void *)"rootfs",
					  NULL, 0, NULL, 0), -1);
}

/* The public ops refuse what they can without any UBI. */
static void test_ops_errors(void **state)
{
	const struct backend_ops *ops = backend_find("ubi");
	struct config_option small = { (char *)"volume_size", (char *)"1M" };
	struct config_option bogus = { (char *)"erase_rest", (char *)"yes" };
	struct config_target cfg = target(NULL, 0);
	struct backend_target t = { .cfg = &cfg };
	uint8_t sha[DIGEST_LEN] = { 0 };
	struct su_error err;
	void *h = NULL;

	(void)state;
	assert_non_null(ops);
	assert_string_equal(ops->name, "ubi");

	t.device = "/dev/mtd0";
	assert_int_equal(ops->open(&t, 1, &h, &err), SU_ERR_CONFIG);
	assert_non_null(strstr(err.message, "ubiX:NAME"));

	t.device = "ubi97:no-such-volume";
	su_error_clear(&err);
	assert_int_equal(ops->open(&t, 1, &h, &err), SU_ERR_WRITE_FAILED);
	assert_string_equal(err.detail, "no_device");
	assert_int_equal(ops->verify(&t, 1, sha, &err), SU_ERR_WRITE_FAILED);

	cfg.options = &small;
	cfg.n_options = 1;
	assert_int_equal(ops->open(&t, 2 << 20, &h, &err), SU_ERR_CONFIG);
	assert_non_null(strstr(err.message, "smaller than the image"));
	cfg.options = &bogus;
	assert_int_equal(ops->open(&t, 1, &h, &err), SU_ERR_CONFIG);
	assert_non_null(strstr(err.message, "unknown option 'erase_rest'"));
	assert_null(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_device),
		cmocka_unit_test(test_source_is_volume),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_volume_bytes),
		cmocka_unit_test(test_mount_find),
		cmocka_unit_test(test_ops_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
