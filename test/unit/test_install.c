/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The install engine against a fake backend and a real, file-backed
 * U-Boot environment (mkenvimage + libubootenv). Compressed payloads
 * are made with the gzip, xz and zstd programs at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
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

#include "backend.h"
#include "bootenv.h"
#include "bundle_reader.h"
#include "config.h"
#include "digest.h"
#include "install.h"
#include "last_install.h"
#include "signature.h"

extern char **environ;

#define MAX_IMAGES	3
#define BIG		(2u * 1024 * 1024 + 777)	/* spans three 1 MiB chunks */

/* ---- the fake backend: records what it is given ---- */

struct rec {
	char device[64];
	uint64_t size;			/* given to open */
	unsigned char *data;
	size_t len;
	bool finished, aborted;
	bool overflow;			/* got more than size */
};

static struct {
	struct rec rec[MAX_IMAGES];
	size_t n;
	int verified;
	char verify_device[64];
	uint64_t verify_size;
	uint8_t verify_sha[DIGEST_LEN];
	enum su_err verify_rc;
} fake;

static enum su_err fake_open(const struct backend_target *t, uint64_t size,
			     void **handle, struct su_error *err)
{
	struct rec *r;

	if (fake.n == MAX_IMAGES)
		return su_error_set(err, SU_ERR_INTERNAL, "too many opens");
	r = &fake.rec[fake.n++];
	snprintf(r->device, sizeof(r->device), "%s", t->device);
	r->size = size;
	*handle = r;
	return SU_OK;
}

static enum su_err fake_write(void *handle, const void *buf, size_t len,
			      struct su_error *err)
{
	struct rec *r = handle;
	unsigned char *grown = realloc(r->data, r->len + len);

	if (!grown)
		return su_error_set(err, SU_ERR_NOMEM, "fake write");
	memcpy(grown + r->len, buf, len);
	r->data = grown;
	r->len += len;
	r->overflow |= r->len > r->size;
	return SU_OK;
}

/* When set, finish() puts a directory where this environment file was,
 * so that the final store fails. */
static const char *break_env;

/*
 * test_install is linked with -Wl,--wrap=libuboot_env_store: when
 * fail_store is N > 0, the Nth store from then on fails (EIO) without
 * writing, and every other store is the real one.
 */
static unsigned fail_store;

struct uboot_ctx;
int __real_libuboot_env_store(struct uboot_ctx *ctx);
int __wrap_libuboot_env_store(struct uboot_ctx *ctx);

int __wrap_libuboot_env_store(struct uboot_ctx *ctx)
{
	if (fail_store && --fail_store == 0)
		return -EIO;
	return __real_libuboot_env_store(ctx);
}

static enum su_err fake_finish(void *handle, struct su_error *err)
{
	char saved[160];

	if (break_env) {
		snprintf(saved, sizeof(saved), "%s.saved", break_env);
		assert_int_equal(rename(break_env, saved), 0);
		assert_int_equal(mkdir(break_env, 0700), 0);
	}
	(void)err;
	((struct rec *)handle)->finished = true;
	return SU_OK;
}

static void fake_abort(void *handle)
{
	((struct rec *)handle)->aborted = true;
}

static enum su_err fake_verify(const struct backend_target *t, uint64_t size,
			       const uint8_t sha256[DIGEST_LEN],
			       struct su_error *err)
{
	fake.verified++;
	snprintf(fake.verify_device, sizeof(fake.verify_device), "%s",
		 t->device);
	fake.verify_size = size;
	memcpy(fake.verify_sha, sha256, DIGEST_LEN);
	if (fake.verify_rc)
		return su_error_set(err, fake.verify_rc,
				    "read back %s: content differs", t->device);
	return SU_OK;
}

/* Not const: test_compares_on_write sets the flag, fake_reset clears it. */
static struct backend_ops fake_ops = {
	.name = "fake",
	.open = fake_open,
	.write = fake_write,
	.finish = fake_finish,
	.abort = fake_abort,
	.verify = fake_verify,
};

/* "ext4" too, for real bundles: the manifest parser knows only real types. */
static const struct backend_ops *fake_lookup(const char *name)
{
	if (!strcmp(name, "fake") || !strcmp(name, "ext4"))
		return &fake_ops;
	return NULL;
}

static void fake_reset(void)
{
	fake_ops.compares_on_write = false;
	for (size_t i = 0; i < fake.n; i++)
		free(fake.rec[i].data);
	memset(&fake, 0, sizeof(fake));
}

/* ---- files and programs ---- */

static int run_prog(const char *const argv[], const char *out_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, status;

	posix_spawn_file_actions_init(&fa);
	if (out_path)
		posix_spawn_file_actions_addopen(&fa, 1, out_path,
						 O_WRONLY | O_CREAT | O_TRUNC,
						 0644);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			  environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		fail_msg("cannot run %s: %s (is it installed?)", argv[0],
			 strerror(rc));
	if (waitpid(pid, &status, 0) < 0)
		fail_msg("waitpid %s: %s", argv[0], strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	FILE *f = fopen(path, "re");

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f),
			 (size_t)st.st_size);
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

/* Partly random, partly repetitive: compresses, but not to nothing. */
static unsigned char *make_data(size_t len, uint32_t seed)
{
	static const char text[] = "sysupgraded install engine test data ";
	unsigned char *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++) {
		if (i % 4096 < 1024) {
			seed = seed * 1103515245u + 12345u;
			p[i] = (unsigned char)(seed >> 16);
		} else {
			p[i] = (unsigned char)text[i % (sizeof(text) - 1)];
		}
	}
	return p;
}

/* ---- the fixture: a config, an environment, a staged "bundle" ---- */

struct fx {
	char dir[64];
	char path[7][128];	/* see the P_* names */
	struct config *cfg;
	struct bootenv *env;
	/* The bundle file and the manifest describing it. */
	struct manifest m;
	struct manifest_image img[MAX_IMAGES];
	struct bundle_payload pay[MAX_IMAGES];
	char names[MAX_IMAGES][3][32];	/* file, type, target */
	unsigned char *installed[MAX_IMAGES];	/* what the backend must get */
	size_t installed_len[MAX_IMAGES];
	uint64_t end;		/* of the bundle file */
	struct manifest_kv kv[1];
	struct install_plan *plan;
};

enum { P_BUNDLE, P_CONF, P_ENVCFG, P_ENVBIN, P_TMP, P_KEYS, P_CMDLINE };

static const char config_text[] =
	"[device]\n"
	"compatible = acme,test\n"
	"version = 1.0\n"
	"keys = %s\n"
	"fw_env_config = %s\n"
	"cmdline = %s\n"
	"booted_slot_arg = sysupgrade.slot\n"
	"\n"
	"[target:rootfs]\n"
	"type = fake\n"
	"a = /dev/fake-a\n"
	"b = /dev/fake-b\n"
	"slot_var = boot_slot\n"
	"verify = readback\n"
	"\n"
	"[target:kernel]\n"
	"type = fake\n"
	"device = /dev/fake-k\n"
	"\n"
	"[target:alt]\n"
	"type = fake\n"
	"a = /dev/alt-1\n"
	"b = /dev/alt-2\n"
	"slot_var = alt_slot\n"
	"slot_a_value = 1\n"
	"slot_b_value = 2\n"
	"\n"
	"[target:odd]\n"
	"type = ext5\n"
	"device = /dev/odd\n"
	"\n"
	"[target:data]\n"
	"type = ext4\n"
	"device = /dev/fake-data\n"
	"\n"
	"[target:eroot]\n"
	"type = ext4\n"
	"a = /dev/eroot-a\n"
	"b = /dev/eroot-b\n"
	"slot_var = boot_slot\n"
	"\n"
	"[target:scratch]\n"
	"type = fake\n"
	"device = /dev/fake-scratch\n"
	"critical = no\n"
	"\n"
	"[target:sys]\n"
	"type = ext4\n"
	"device = /dev/fake-sys\n"
	"in_use = yes\n";

static const char default_vars[] =
	"alt_slot=2\nboot_slot=a\nbootcount=3\nfoo=bar\n";

/* Booted from slot a of rootfs and, by root=, slot b of alt. */
static const char default_cmdline[] =
	"console=ttyS0 sysupgrade.slot=a root=/dev/alt-2 quiet\n";

/* A fresh single-copy environment of 16 KiB holding @vars. */
static void make_env(struct fx *fx, const char *vars)
{
	const char *argv[] = { "mkenvimage", "-s", "0x4000", "-o",
			       fx->path[P_ENVBIN], fx->path[P_TMP], NULL };
	char line[256];

	bootenv_close(fx->env);
	fx->env = NULL;
	write_file(fx->path[P_TMP], vars, strlen(vars));
	assert_int_equal(run_prog(argv, NULL), 0);
	/* libubootenv reads envsize as hex: "device offset envsize". */
	snprintf(line, sizeof(line), "%s 0x0 0x4000\n", fx->path[P_ENVBIN]);
	write_file(fx->path[P_ENVCFG], line, strlen(line));
}

static void open_env(struct fx *fx)
{
	struct su_error err;

	assert_int_equal(bootenv_open(fx->path[P_ENVCFG], &fx->env, &err),
			 SU_OK);
}

/* The stored value of @name, read afresh (NULL when unset); caller frees. */
static char *env_value(struct fx *fx, const char *name)
{
	struct bootenv *env;
	struct su_error err;
	const char *v;
	char *copy;

	bootenv_close(fx->env);		/* one open at a time: it is locked */
	fx->env = NULL;
	assert_int_equal(bootenv_open(fx->path[P_ENVCFG], &env, &err), SU_OK);
	v = bootenv_get(env, name);
	copy = v ? strdup(v) : NULL;
	bootenv_close(env);
	return copy;
}

static void assert_env(struct fx *fx, const char *name, const char *want)
{
	char *v = env_value(fx, name);

	if (!want && v)
		fail_msg("%s = '%s', expected it unset", name, v);
	if (want && (!v || strcmp(v, want)))
		fail_msg("%s = '%s', expected '%s'", name, v ? v : "(unset)",
			 want);
	free(v);
}

/* sysupgrade_last holds a record of @version: a success when @error is
 * NULL, else failed with an error starting with @error. */
static void assert_record(struct fx *fx, const char *version,
			  const char *error)
{
	char *v = env_value(fx, "sysupgrade_last");
	struct last_install r;
	struct su_error err;

	if (!v)
		fail_msg("sysupgrade_last is unset");
	if (last_install_parse(v, strlen(v), &r, &err))
		fail_msg("sysupgrade_last = '%s': %s", v, err.message);
	assert_string_equal(r.version, version);
	assert_int_equal(r.ok, !error);
	if (error && strncmp(r.error, error, strlen(error)))
		fail_msg("error '%s' does not start with '%s'", r.error, error);
	if (!error)
		assert_string_equal(r.error, "");
	assert_true(r.time > (int64_t)time(NULL) - 60);
	last_install_free(&r);
	free(v);
}

static int64_t env_mtime_ns(struct fx *fx)
{
	struct stat st;

	assert_int_equal(stat(fx->path[P_ENVBIN], &st), 0);
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

static int setup(void **state)
{
	static const char *const names[] = {
		"bundle.bin", "sysupgraded.conf", "fw_env.config", "env.bin",
		"tmp", "keys", "cmdline",
	};
	struct fx *fx = calloc(1, sizeof(*fx));
	struct su_error err;
	char text[2048];

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/su-install.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	for (int i = 0; i < 7; i++)
		snprintf(fx->path[i], sizeof(fx->path[i]), "%s/%s", fx->dir,
			 names[i]);
	assert_int_equal(mkdir(fx->path[P_KEYS], 0755), 0);
	snprintf(text, sizeof(text), config_text, fx->path[P_KEYS],
		 fx->path[P_ENVCFG], fx->path[P_CMDLINE]);
	write_file(fx->path[P_CMDLINE], default_cmdline, strlen(default_cmdline));
	write_file(fx->path[P_CONF], text, strlen(text));
	if (config_load(fx->path[P_CONF], &fx->cfg, &err))
		fail_msg("config: %s", err.message);
	make_env(fx, default_vars);
	open_env(fx);
	/* Something before the first payload, as a tar header would be. */
	memset(text, 'J', 1000);
	write_file(fx->path[P_BUNDLE], text, 1000);
	fx->end = 1000;
	fx->m.format = 1;
	fx->m.version = (char *)"2.0";
	fx->m.images = fx->img;
	fx->kv[0].key = (char *)"boot_version";
	fx->kv[0].value = (char *)"2.0";
	install_set_backend_lookup(fake_lookup);
	fake_reset();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	const char *argv[] = { "rm", "-rf", fx->dir, NULL };

	install_plan_free(fx->plan);
	bootenv_close(fx->env);
	config_free(fx->cfg);
	for (size_t i = 0; i < MAX_IMAGES; i++)
		free(fx->installed[i]);
	run_prog(argv, NULL);
	install_set_backend_lookup(NULL);
	fake_reset();
	free(fx);
	return 0;
}

static void compress(struct fx *fx, enum compression c,
		     const unsigned char *data, size_t len,
		     unsigned char **out, size_t *out_len)
{
	static const char *const progs[] = {
		[COMPRESSION_GZIP] = "gzip", [COMPRESSION_XZ] = "xz",
		[COMPRESSION_ZSTD] = "zstd",
	};
	char out_path[160];
	const char *argv[] = { progs[c], "-c", "-q", fx->path[P_TMP], NULL };

	if (c == COMPRESSION_NONE) {
		*out = malloc(len);
		assert_non_null(*out);
		memcpy(*out, data, len);
		*out_len = len;
		return;
	}
	snprintf(out_path, sizeof(out_path), "%s.out", fx->path[P_TMP]);
	write_file(fx->path[P_TMP], data, len);
	assert_int_equal(run_prog(argv, out_path), 0);
	*out = read_file(out_path, out_len);
}

/* Append @stored at the end of the bundle file, 512-aligned like tar. */
static uint64_t append_payload(struct fx *fx, const void *stored, size_t len)
{
	static const unsigned char pad[512];
	uint64_t offset = fx->end;
	FILE *f = fopen(fx->path[P_BUNDLE], "ae");

	assert_non_null(f);
	assert_int_equal(fwrite(stored, 1, len, f), len);
	assert_int_equal(fwrite(pad, 1, (512 - len % 512) % 512, f),
			 (512 - len % 512) % 512);
	fclose(f);
	fx->end += (len + 511) / 512 * 512;
	return offset;
}

/*
 * Add an image of @data to the bundle and the manifest, stored with @c.
 * Returns its index.
 */
static size_t add_image(struct fx *fx, const char *target, const char *type,
			enum compression c, unsigned char *data, size_t len)
{
	size_t i = fx->m.n_images++;
	struct manifest_image *img = &fx->img[i];
	unsigned char *stored;
	size_t stored_len;

	assert_true(i < MAX_IMAGES);
	compress(fx, c, data, len, &stored, &stored_len);
	snprintf(fx->names[i][0], 32, "%s-%zu.img", target, i);
	snprintf(fx->names[i][1], 32, "%s", type);
	snprintf(fx->names[i][2], 32, "%s", target);
	img->file = fx->names[i][0];
	img->type = fx->names[i][1];
	img->target = fx->names[i][2];
	img->compression = c;
	img->size = stored_len;
	img->installed_size = len;
	digest_buf(stored, stored_len, img->sha256);
	fx->pay[i].image = img;
	fx->pay[i].offset = append_payload(fx, stored, stored_len);
	fx->pay[i].seen = true;
	fx->installed[i] = data;
	fx->installed_len[i] = len;
	free(stored);
	return i;
}

/* Start the manifest over, with no image (the bundle file keeps
 * growing, so the offsets stay true). */
static void clear_images(struct fx *fx)
{
	for (size_t i = 0; i < fx->m.n_images; i++) {
		free(fx->installed[i]);
		fx->installed[i] = NULL;
	}
	fx->m.n_images = 0;
}

static enum su_err build(struct fx *fx, struct su_error *err)
{
	install_plan_free(fx->plan);
	fx->plan = NULL;
	return install_plan_build(fx->cfg, &fx->m, fx->pay, fx->path[P_BUNDLE],
				  fx->env, &fx->plan, err);
}

static void build_ok(struct fx *fx)
{
	struct su_error err;

	if (build(fx, &err))
		fail_msg("plan: %s", err.message);
}

static void assert_has(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static void assert_received(size_t rec, const struct fx *fx, size_t img,
			    const char *device)
{
	const struct rec *r = &fake.rec[rec];

	assert_string_equal(r->device, device);
	assert_int_equal(r->size, fx->installed_len[img]);
	assert_int_equal(r->len, fx->installed_len[img]);
	assert_memory_equal(r->data, fx->installed[img], r->len);
	assert_true(r->finished);
	assert_false(r->aborted);
	assert_false(r->overflow);
}

/* ---- the plan ---- */

static void test_plan_unknown_target(void **state)
{
	struct fx *fx = *state;
	struct su_error err;
	char want[256];

	add_image(fx, "nope", "fake", COMPRESSION_NONE, make_data(100, 1), 100);
	assert_int_equal(build(fx, &err), SU_ERR_UNKNOWN_TARGET);
	snprintf(want, sizeof(want),
		 "image nope-0.img: target 'nope' is not defined in %s",
		 fx->path[P_CONF]);
	assert_string_equal(err.message, want);
	assert_null(fx->plan);
}

static void test_plan_type_mismatch(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "kernel", "ubi", COMPRESSION_NONE, make_data(100, 1), 100);
	assert_int_equal(build(fx, &err), SU_ERR_UNKNOWN_TARGET);
	assert_has(err.message, "type ubi differs from type fake of target 'kernel'");
}

static void test_plan_no_backend(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "odd", "ext5", COMPRESSION_NONE, make_data(100, 1), 100);
	assert_int_equal(build(fx, &err), SU_ERR_CONFIG);
	assert_has(err.message, "no backend");
	assert_has(err.message, "ext5");
}

static void test_plan_slots(void **state)
{
	struct fx *fx = *state;
	const struct install_step *st;

	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(100, 1), 100);
	add_image(fx, "kernel", "fake", COMPRESSION_NONE, make_data(200, 2), 200);
	add_image(fx, "alt", "fake", COMPRESSION_NONE, make_data(300, 3), 300);

	/* boot_slot=a runs a: write b. alt_slot=2 runs b: write a. */
	build_ok(fx);
	assert_int_equal(fx->plan->n_steps, 3);
	assert_int_equal(fx->plan->total, 600);
	assert_false(fx->plan->in_place);
	st = fx->plan->steps;
	assert_int_equal(st[0].slot, 1);
	assert_string_equal(st[0].device, "/dev/fake-b");
	assert_ptr_equal(st[0].backend, &fake_ops);
	assert_int_equal(st[0].offset, fx->pay[0].offset);
	assert_int_equal(st[1].slot, -1);
	assert_string_equal(st[1].device, "/dev/fake-k");
	assert_int_equal(st[1].offset, fx->pay[1].offset);
	assert_int_equal(st[2].slot, 0);
	assert_string_equal(st[2].device, "/dev/alt-1");

	/* And the other way round: the running system says so. */
	write_file(fx->path[P_CMDLINE], "sysupgrade.slot=\"b\" root=/dev/alt-1",
		   strlen("sysupgrade.slot=\"b\" root=/dev/alt-1"));
	make_env(fx, "alt_slot=1\nboot_slot=b\n");
	open_env(fx);
	build_ok(fx);
	st = fx->plan->steps;
	assert_int_equal(st[0].slot, 0);
	assert_string_equal(st[0].device, "/dev/fake-a");
	assert_int_equal(st[2].slot, 1);
	assert_string_equal(st[2].device, "/dev/alt-2");
}

/* The running slot comes from the system, and without it nothing is
 * written. */
static void test_plan_booted_unknown(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(100, 1), 100);

	write_file(fx->path[P_CMDLINE], "sysupgrade.slot=c",
		   strlen("sysupgrade.slot=c"));
	assert_int_equal(build(fx, &err), SU_ERR_CONFIG);
	assert_has(err.message, "target rootfs: cannot tell which slot is running");
	assert_has(err.message, "sysupgrade.slot=c in ");
	assert_has(err.message, "names neither slot a ('a') nor slot b ('b')");
	assert_has(err.message, "no root= in");

	write_file(fx->path[P_CMDLINE], "quiet", 5);
	assert_int_equal(build(fx, &err), SU_ERR_CONFIG);
	assert_has(err.message, "has no sysupgrade.slot=");

	/* root= names slot b: write a, whatever the boot variable says. */
	write_file(fx->path[P_CMDLINE], "root=/dev/fake-b", 16);
	build_ok(fx);
	assert_int_equal(fx->plan->steps[0].slot, 0);
	assert_string_equal(fx->plan->steps[0].device, "/dev/fake-a");

	bootenv_close(fx->env);
	fx->env = NULL;
	assert_int_equal(build(fx, &err), SU_ERR_CONFIG);
	assert_has(err.message, "no boot environment");
	assert_null(fx->plan);
}

/* A kernel A/B target follows the root target sharing its slot_var. */
static void test_plan_slot_group(void **state)
{
	struct fx *fx = *state;

	add_image(fx, "eroot", "ext4", COMPRESSION_NONE, make_data(100, 1), 100);
	write_file(fx->path[P_CMDLINE], "root=/dev/fake-b", 16);
	build_ok(fx);
	/* eroot shares boot_slot with rootfs, whose b is running. */
	assert_int_equal(fx->plan->steps[0].slot, 0);
	assert_string_equal(fx->plan->steps[0].device, "/dev/eroot-a");
}

/*
 * Install, no reboot, install again: the second must not write the
 * slot that is running (the boot variable already names the new one).
 */
static void test_second_install_refused(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(100, 1), 100);
	build_ok(fx);
	if (install_run(fx->plan, fx->env, NULL, NULL, &err))
		fail_msg("%s", err.message);
	assert_env(fx, "boot_slot", "b");
	assert_env(fx, "upgrade_available", "1");
	open_env(fx);
	if (build(fx, &err) != SU_ERR_REBOOT_PENDING)
		fail_msg("not refused: %s", err.message);
	assert_string_equal(su_err_name(err.code), "reboot_pending");
	assert_has(err.message, "reboot first");
	assert_null(fx->plan);
	/* Rebooted into b: now a is the one to write. */
	write_file(fx->path[P_CMDLINE], "sysupgrade.slot=b", 17);
	build_ok(fx);
	assert_string_equal(fx->plan->steps[0].device, "/dev/fake-a");
	/* A single-slot target is not an A/B install: still allowed. */
	write_file(fx->path[P_CMDLINE], "sysupgrade.slot=a", 17);
	clear_images(fx);
	add_image(fx, "kernel", "fake", COMPRESSION_NONE, make_data(100, 2), 100);
	build_ok(fx);
}

/* ---- a good run ---- */

static void run_one(void **state, enum compression c)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "kernel", "fake", c, make_data(BIG, 7), BIG);
	build_ok(fx);
	if (install_run(fx->plan, NULL, NULL, NULL, &err))
		fail_msg("%s: %s", compression_name(c), err.message);
	assert_int_equal(fake.n, 1);
	assert_received(0, fx, 0, "/dev/fake-k");
	assert_int_equal(fake.verified, 0);	/* kernel has no readback */
}

static void test_run_none(void **state)
{
	run_one(state, COMPRESSION_NONE);
}

static void test_run_gzip(void **state)
{
	run_one(state, COMPRESSION_GZIP);
}

static void test_run_xz(void **state)
{
	run_one(state, COMPRESSION_XZ);
}

static void test_run_zstd(void **state)
{
	run_one(state, COMPRESSION_ZSTD);
}

/* A/B flip, readback, manifest variables, boot counting: one commit. */
static void test_run_ab(void **state)
{
	struct fx *fx = *state;
	struct su_error err;
	uint8_t sum[DIGEST_LEN];

	add_image(fx, "rootfs", "fake", COMPRESSION_ZSTD, make_data(BIG, 8), BIG);
	add_image(fx, "kernel", "fake", COMPRESSION_GZIP, make_data(5000, 9), 5000);
	fx->m.bootenv = fx->kv;
	fx->m.n_bootenv = 1;
	build_ok(fx);
	if (install_run(fx->plan, fx->env, NULL, NULL, &err))
		fail_msg("%s", err.message);
	assert_int_equal(fake.n, 2);
	assert_received(0, fx, 0, "/dev/fake-b");
	assert_received(1, fx, 1, "/dev/fake-k");
	/* Read-back of rootfs with the hash of the decompressed bytes. */
	assert_int_equal(fake.verified, 1);
	assert_string_equal(fake.verify_device, "/dev/fake-b");
	assert_int_equal(fake.verify_size, BIG);
	digest_buf(fx->installed[0], BIG, sum);
	assert_memory_equal(fake.verify_sha, sum, DIGEST_LEN);

	assert_env(fx, "boot_slot", "b");
	assert_env(fx, "boot_version", "2.0");
	assert_env(fx, "upgrade_available", "1");
	assert_env(fx, "bootcount", "0");
	assert_env(fx, "sysupgrade_transaction", NULL);
	assert_env(fx, "alt_slot", "2");	/* not in this bundle */
	assert_env(fx, "foo", "bar");
	assert_env(fx, "sysupgrade_last", NULL);	/* plan->record unset */
}

/* Payload data that is not what the manifest says it is. */
static void test_run_wrong_compression(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "kernel", "fake", COMPRESSION_XZ, make_data(5000, 1), 5000);
	/* Declared gzip, stored xz; the hash is of the stored bytes. */
	fx->img[0].compression = COMPRESSION_GZIP;
	build_ok(fx);
	assert_int_equal(install_run(fx->plan, NULL, NULL, NULL, &err),
			 SU_ERR_BAD_ARCHIVE);
	assert_has(err.message, "image kernel-0.img -> target kernel (/dev/fake-k)");
	assert_true(fake.n == 0 || (fake.rec[0].aborted && !fake.rec[0].finished));
}

/* ---- hash-on-write ---- */

static void flip_byte(struct fx *fx, uint64_t at)
{
	unsigned char b;
	int fd = open(fx->path[P_BUNDLE], O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)at), 1);
	b ^= 0x20;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)at), 1);
	close(fd);
}

static void tampered(void **state, enum compression c)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "rootfs", "fake", c, make_data(BIG, 4), BIG);
	fx->m.bootenv = fx->kv;
	fx->m.n_bootenv = 1;
	build_ok(fx);
	/* Staged and verified; now one byte changes before the write. */
	flip_byte(fx, fx->pay[0].offset + fx->img[0].size / 2);
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_HASH_MISMATCH);
	assert_has(err.message, "image rootfs-0.img -> target rootfs (/dev/fake-b)");
	assert_has(err.message, "changed since it was verified");
	assert_int_equal(fake.n, 1);
	assert_true(fake.rec[0].aborted);
	assert_false(fake.rec[0].finished);
	assert_int_equal(fake.verified, 0);
	/* Rolled back: the environment is as it was. */
	assert_env(fx, "sysupgrade_transaction", NULL);
	assert_env(fx, "boot_slot", "a");
	assert_env(fx, "bootcount", "3");
	assert_env(fx, "upgrade_available", NULL);
	assert_env(fx, "boot_version", NULL);
	assert_env(fx, "alt_slot", "2");
	assert_env(fx, "foo", "bar");
}

static void test_tampered_none(void **state)
{
	tampered(state, COMPRESSION_NONE);
}

/*
 * A byte changed in the last stored chunk: the backend must not have
 * been given the final bytes (a UBI update completes with them), only
 * an abort.
 */
static void tampered_last(void **state, enum compression c)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "rootfs", "fake", c, make_data(BIG, 4), BIG);
	build_ok(fx);
	flip_byte(fx, fx->pay[0].offset + fx->img[0].size - 1);
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_HASH_MISMATCH);
	assert_int_equal(fake.n, 1);
	assert_true(fake.rec[0].aborted);
	assert_false(fake.rec[0].finished);
	if (fake.rec[0].len >= fx->installed_len[0])
		fail_msg("the backend got all %zu bytes before the hash check",
			 fake.rec[0].len);
	assert_env(fx, "boot_slot", "a");
}

static void test_tampered_last_none(void **state)
{
	tampered_last(state, COMPRESSION_NONE);
}

static void test_tampered_last_zstd(void **state)
{
	tampered_last(state, COMPRESSION_ZSTD);
}

static void test_tampered_gzip(void **state)
{
	tampered(state, COMPRESSION_GZIP);
}

static void test_tampered_zstd(void **state)
{
	tampered(state, COMPRESSION_ZSTD);
}

/* A single-slot target is written under the transaction marker too,
 * unless it is marked critical = no. */
static void test_single_slot_marker(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "kernel", "fake", COMPRESSION_NONE, make_data(100, 1), 100);
	assert_true(install_needs_bootenv(fx->cfg, &fx->m));
	clear_images(fx);
	add_image(fx, "scratch", "fake", COMPRESSION_NONE, make_data(100, 1), 100);
	assert_false(install_needs_bootenv(fx->cfg, &fx->m));
	/* No environment configured: nothing to mark. */
	unlink(fx->path[P_ENVCFG]);
	clear_images(fx);
	add_image(fx, "kernel", "fake", COMPRESSION_NONE, make_data(100, 1), 100);
	assert_false(install_needs_bootenv(fx->cfg, &fx->m));
	(void)err;
}

/* The final store fails: the error says what the environment holds. */
static void test_final_commit_fails(void **state)
{
	struct fx *fx = *state;
	struct su_error err;
	char saved[160];

	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(100, 1), 100);
	build_ok(fx);
	break_env = fx->path[P_ENVBIN];
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_WRITE_FAILED);
	break_env = NULL;
	assert_has(err.message, "restoring it failed too");
	assert_has(err.message, "it may still hold sysupgrade_transaction=2.0 and no slot flipped");
	/* And that is what it holds. */
	snprintf(saved, sizeof(saved), "%s.saved", fx->path[P_ENVBIN]);
	assert_int_equal(rmdir(fx->path[P_ENVBIN]), 0);
	assert_int_equal(rename(saved, fx->path[P_ENVBIN]), 0);
	assert_env(fx, "sysupgrade_transaction", "2.0");
	assert_env(fx, "boot_slot", "a");
	assert_env(fx, "upgrade_available", NULL);
}

/* The final store fails once and the restore's store works: the marker
 * is back at its old value, no slot flipped, and the error says so. */
static void test_final_commit_restored(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	assert_int_equal(bootenv_set(fx->env, "sysupgrade_transaction", "1.5",
				     &err), SU_OK);
	assert_int_equal(bootenv_commit(fx->env, &err), SU_OK);
	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(100, 1), 100);
	build_ok(fx);
	fail_store = 2;		/* the marker's store works, the final one not */
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_WRITE_FAILED);
	assert_int_equal(fail_store, 0);
	assert_has(err.message, "Input/output error");
	assert_has(err.message, "; the boot environment was put back as it was (no slot flipped, sysupgrade_transaction restored)");
	assert_true(fake.rec[0].finished);
	assert_env(fx, "sysupgrade_transaction", "1.5");
	assert_env(fx, "boot_slot", "a");
	assert_env(fx, "upgrade_available", NULL);
	assert_env(fx, "bootcount", "3");
}

/* A marker left by an earlier, interrupted install is put back. */
static void test_rollback_keeps_older_marker(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	assert_int_equal(bootenv_set(fx->env, "sysupgrade_transaction", "1.5",
				     &err), SU_OK);
	assert_int_equal(bootenv_commit(fx->env, &err), SU_OK);
	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(BIG, 5), BIG);
	build_ok(fx);
	flip_byte(fx, fx->pay[0].offset + 1);
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_HASH_MISMATCH);
	assert_env(fx, "sysupgrade_transaction", "1.5");
	assert_env(fx, "boot_slot", "a");
}

/* In place the running system may be half-written: the marker stays. */
static void test_in_place_failure_keeps_marker(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(BIG, 6), BIG);
	build_ok(fx);
	fx->plan->in_place = true;
	flip_byte(fx, fx->pay[0].offset + 2);
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_HASH_MISMATCH);
	assert_env(fx, "sysupgrade_transaction", "2.0");
	assert_env(fx, "boot_slot", "a");
	assert_env(fx, "upgrade_available", NULL);
}

/* ---- the last_install record ---- */

/* With plan->record, the success record is in the final commit: nothing
 * is left for install_record() to write. */
static void test_record_in_final_commit(void **state)
{
	struct fx *fx = *state;
	struct su_error err;
	int64_t stored;

	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(5000, 21), 5000);
	build_ok(fx);
	fx->plan->record = true;
	if (install_run(fx->plan, fx->env, NULL, NULL, &err))
		fail_msg("%s", err.message);
	stored = env_mtime_ns(fx);
	usleep(20000);
	assert_int_equal(install_record(fx->plan, fx->env, NULL, NULL, &err),
			 SU_OK);
	assert_true(env_mtime_ns(fx) == stored);
	assert_record(fx, "2.0", NULL);
	assert_env(fx, "boot_slot", "b");
	assert_env(fx, "sysupgrade_transaction", NULL);
}

/* A failed run: the rollback, then the failure recorded beside it. */
static void test_record_failure(void **state)
{
	struct fx *fx = *state;
	struct su_error err, e;

	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(BIG, 22), BIG);
	build_ok(fx);
	fx->plan->record = true;
	flip_byte(fx, fx->pay[0].offset + 3);
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_HASH_MISMATCH);
	if (install_record(fx->plan, fx->env, NULL, &err, &e))
		fail_msg("%s", e.message);
	assert_record(fx, "2.0", "hash_mismatch: image rootfs-0.img -> target rootfs");
	assert_env(fx, "boot_slot", "a");
	assert_env(fx, "sysupgrade_transaction", NULL);
	assert_env(fx, "upgrade_available", NULL);
}

/* The final store fails: its staged success record is not what stays;
 * install_record() reads the environment again and says failed. */
static void test_record_final_commit_fails(void **state)
{
	struct fx *fx = *state;
	struct su_error err, e;
	char saved[160];

	add_image(fx, "rootfs", "fake", COMPRESSION_NONE, make_data(100, 23), 100);
	build_ok(fx);
	fx->plan->record = true;
	break_env = fx->path[P_ENVBIN];
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_WRITE_FAILED);
	break_env = NULL;
	snprintf(saved, sizeof(saved), "%s.saved", fx->path[P_ENVBIN]);
	assert_int_equal(rmdir(fx->path[P_ENVBIN]), 0);
	assert_int_equal(rename(saved, fx->path[P_ENVBIN]), 0);
	if (install_record(fx->plan, fx->env, NULL, &err, &e))
		fail_msg("%s", e.message);
	assert_record(fx, "2.0", "write_failed: write the environment");
	assert_env(fx, "boot_slot", "a");
	assert_env(fx, "upgrade_available", NULL);
}

/* ---- installed_size ---- */

static void test_decompression_bomb(void **state)
{
	struct fx *fx = *state;
	size_t big = 8u << 20;
	unsigned char *zeros = calloc(1, big);
	struct su_error err;

	assert_non_null(zeros);
	add_image(fx, "kernel", "fake", COMPRESSION_XZ, zeros, big);
	fx->img[0].installed_size = 1536 * 1024;	/* 1.5 MiB: a lie */
	build_ok(fx);
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_SIZE_MISMATCH);
	assert_has(err.message, "more than its installed_size of 1572864 bytes");
	assert_int_equal(fake.n, 1);
	assert_int_equal(fake.rec[0].size, 1536 * 1024);
	assert_true(fake.rec[0].len <= 1536 * 1024);
	assert_false(fake.rec[0].overflow);
	assert_true(fake.rec[0].aborted);
	assert_false(fake.rec[0].finished);
	assert_env(fx, "upgrade_available", NULL);
}

static void test_short_output(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "kernel", "fake", COMPRESSION_GZIP, make_data(5000, 5), 5000);
	fx->img[0].installed_size = 6000;
	build_ok(fx);
	assert_int_equal(install_run(fx->plan, NULL, NULL, NULL, &err),
			 SU_ERR_SIZE_MISMATCH);
	assert_has(err.message, "decompresses to 5000 bytes, its installed_size says 6000");
	assert_true(fake.rec[0].aborted);
	assert_false(fake.rec[0].finished);
}

static void test_truncated_bundle(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "kernel", "fake", COMPRESSION_NONE, make_data(BIG, 5), BIG);
	build_ok(fx);
	assert_int_equal(truncate(fx->path[P_BUNDLE],
				  (off_t)(fx->pay[0].offset + BIG / 2)), 0);
	assert_int_equal(install_run(fx->plan, NULL, NULL, NULL, &err),
			 SU_ERR_IO);
	assert_has(err.message, "truncated");
	assert_true(fake.rec[0].aborted);
}

/* ---- read-back ---- */

static void test_readback_failure(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "rootfs", "fake", COMPRESSION_GZIP, make_data(BIG, 6), BIG);
	build_ok(fx);
	fake.verify_rc = SU_ERR_WRITE_FAILED;
	assert_int_equal(install_run(fx->plan, fx->env, NULL, NULL, &err),
			 SU_ERR_WRITE_FAILED);
	assert_string_equal(err.message,
			    "image rootfs-0.img -> target rootfs (/dev/fake-b): read back /dev/fake-b: content differs");
	assert_int_equal(fake.verified, 1);
	assert_true(fake.rec[0].finished);
	/* The slot is not flipped and the marker is rolled back. */
	assert_env(fx, "boot_slot", "a");
	assert_env(fx, "sysupgrade_transaction", NULL);
	assert_env(fx, "upgrade_available", NULL);
}

/* A backend that compares as it writes gets no verify pass, even with
 * readback: its write already failed on a mismatch. */
static void test_compares_on_write(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	add_image(fx, "rootfs", "fake", COMPRESSION_GZIP, make_data(BIG, 6), BIG);
	build_ok(fx);
	fake_ops.compares_on_write = true;
	fake.verify_rc = SU_ERR_WRITE_FAILED;
	if (install_run(fx->plan, fx->env, NULL, NULL, &err))
		fail_msg("%s", err.message);
	assert_int_equal(fake.verified, 0);
	assert_received(0, fx, 0, "/dev/fake-b");
	assert_true(fake.rec[0].finished);
	assert_env(fx, "boot_slot", "b");
}

/* ---- progress ---- */

struct seen {
	size_t n, writing, verifying, bootenv;
	struct install_progress last;
	bool bad;
};

static void record(void *ctx, const struct install_progress *p)
{
	struct seen *s = ctx;

	if (s->n && (p->percent < s->last.percent ||
		     p->all_bytes < s->last.all_bytes || p->index < s->last.index))
		s->bad = true;
	if (p->bytes > p->total || p->all_bytes > p->all_total ||
	    p->percent != p->all_bytes * 100 / p->all_total)
		s->bad = true;
	s->writing += !strcmp(p->phase, "writing");
	s->verifying += !strcmp(p->phase, "verifying");
	s->bootenv += !strcmp(p->phase, "bootenv");
	s->last = *p;
	s->n++;
}

static void test_progress(void **state)
{
	struct fx *fx = *state;
	struct seen seen = { 0 };
	struct su_error err;

	add_image(fx, "rootfs", "fake", COMPRESSION_XZ, make_data(BIG, 2), BIG);
	add_image(fx, "kernel", "fake", COMPRESSION_NONE, make_data(3000, 3), 3000);
	build_ok(fx);
	assert_int_equal(install_run(fx->plan, fx->env, record, &seen, &err),
			 SU_OK);
	assert_false(seen.bad);
	assert_int_equal(seen.last.percent, 100);
	assert_int_equal(seen.last.all_bytes, BIG + 3000);
	assert_int_equal(seen.last.all_total, BIG + 3000);
	assert_int_equal(seen.last.count, 2);
	assert_string_equal(seen.last.phase, "bootenv");
	assert_int_equal(seen.verifying, 1);	/* rootfs only */
	assert_int_equal(seen.bootenv, 1);
	/* A start per image, then at most one per 64 KiB (or image end). */
	assert_true(seen.writing >= 2 + 1);
	assert_true(seen.writing <= 2 + (BIG + 3000) / (64 * 1024) + 2);
}

/* ---- mark-good ---- */

static void test_mark_good(void **state)
{
	struct fx *fx = *state;
	struct su_error err;

	make_env(fx, "boot_slot=b\nbootcount=2\nupgrade_available=1\n");
	assert_int_equal(install_mark_good(fx->cfg, &err), SU_OK);
	assert_env(fx, "upgrade_available", NULL);
	assert_env(fx, "bootcount", "0");
	assert_env(fx, "boot_slot", "b");

	/* No environment: a config error naming the file. */
	assert_int_equal(unlink(fx->path[P_ENVCFG]), 0);
	assert_int_equal(install_mark_good(fx->cfg, &err), SU_ERR_CONFIG);
	assert_has(err.message, fx->path[P_ENVCFG]);
}

/* ---- a real signed bundle through install_bundle_file() ---- */

static void add_member(struct archive *a, const char *name, const void *buf,
		       size_t len)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, buf, len), (la_ssize_t)len);
	archive_entry_free(e);
}

/*
 * A bundle with one gzip image of @data for @target (type ext4), signed
 * by a key the config trusts. Returns the bundle's path.
 */
static const char *make_bundle(struct fx *fx, const char *version,
			       const char *target, unsigned char *data,
			       size_t len, bool with_bootenv)
{
	static char path[160];
	char priv[160], pub[160], json[1024], hex[DIGEST_HEX_LEN + 1];
	unsigned char *stored, *sig;
	size_t stored_len, sig_len;
	uint8_t sum[DIGEST_LEN];
	struct su_error err;
	struct archive *a;

	snprintf(priv, sizeof(priv), "%s/signing.pem", fx->dir);
	snprintf(pub, sizeof(pub), "%s/test.pem", fx->path[P_KEYS]);
	if (access(priv, F_OK))
		assert_int_equal(signature_keygen(priv, pub, &err), SU_OK);
	compress(fx, COMPRESSION_GZIP, data, len, &stored, &stored_len);
	digest_buf(stored, stored_len, sum);
	digest_to_hex(sum, hex);
	snprintf(json, sizeof(json),
		 "{\"format\": 1, \"version\": \"%s\", \"compatible\": [\"acme,test\"],\n"
		 " \"images\": [{\"file\": \"image.gz\", \"size\": %zu, \"sha256\": \"%s\",\n"
		 "   \"type\": \"ext4\", \"target\": \"%s\", \"compression\": \"gzip\",\n"
		 "   \"installed_size\": %zu}]%s}\n",
		 version, stored_len, hex, target, len,
		 with_bootenv ? ", \"bootenv\": {\"boot_version\": \"2.0\"}" : "");
	assert_int_equal(signature_sign(priv, json, strlen(json), &sig,
					&sig_len, &err), SU_OK);
	snprintf(path, sizeof(path), "%s/bundle.tar", fx->dir);
	a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	add_member(a, "manifest.json", json, strlen(json));
	add_member(a, "manifest.json.sig", sig, sig_len);
	add_member(a, "image.gz", stored, stored_len);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(sig);
	free(stored);
	fx->installed[0] = data;
	fx->installed_len[0] = len;
	return path;
}

static void test_bundle_file_ab(void **state)
{
	struct fx *fx = *state;
	const char *path;
	struct su_error err;

	bootenv_close(fx->env);		/* install_bundle_file opens its own */
	fx->env = NULL;
	path = make_bundle(fx, "2.0", "eroot", make_data(BIG, 11), BIG, true);
	if (install_bundle_file(fx->cfg, path, false, NULL, NULL, &err))
		fail_msg("%s", err.message);
	assert_int_equal(fake.n, 1);
	assert_received(0, fx, 0, "/dev/eroot-b");
	assert_env(fx, "boot_slot", "b");
	assert_env(fx, "boot_version", "2.0");
	assert_env(fx, "upgrade_available", "1");
	assert_env(fx, "bootcount", "0");
	assert_env(fx, "sysupgrade_transaction", NULL);
	assert_record(fx, "2.0", NULL);
}

/* A single-slot target and no bundle variables need no environment. */
static void test_bundle_file_no_env(void **state)
{
	struct fx *fx = *state;
	const char *path;
	struct su_error err;

	bootenv_close(fx->env);
	fx->env = NULL;
	path = make_bundle(fx, "2.0", "data", make_data(5000, 12), 5000, false);
	assert_int_equal(rename(fx->path[P_ENVCFG], fx->path[P_TMP]), 0);
	if (install_bundle_file(fx->cfg, path, false, NULL, NULL, &err))
		fail_msg("%s", err.message);
	assert_received(0, fx, 0, "/dev/fake-data");
	assert_int_equal(rename(fx->path[P_TMP], fx->path[P_ENVCFG]), 0);
	assert_env(fx, "upgrade_available", NULL);
	/* last_install unset and no fw_env_config then: no record */
	assert_env(fx, "sysupgrade_last", NULL);
}

static void test_bundle_file_in_use(void **state)
{
	struct fx *fx = *state;
	const char *path;
	struct su_error err;

	bootenv_close(fx->env);
	fx->env = NULL;
	path = make_bundle(fx, "2.0", "sys", make_data(5000, 13), 5000, true);
	assert_int_equal(install_bundle_file(fx->cfg, path, false, NULL, NULL,
					     &err), SU_ERR_BUSY);
	assert_string_equal(err.message,
			    "target sys is in use by the running system; install in place through the daemon");
	assert_int_equal(fake.n, 0);
	assert_env(fx, "sysupgrade_transaction", NULL);
	assert_env(fx, "boot_version", NULL);
}

static void test_bundle_file_policy(void **state)
{
	struct fx *fx = *state;
	const char *path;
	struct su_error err;

	bootenv_close(fx->env);
	fx->env = NULL;
	path = make_bundle(fx, "0.9", "data", make_data(5000, 14), 5000, false);
	assert_int_equal(install_bundle_file(fx->cfg, path, false, NULL, NULL,
					     &err), SU_ERR_DOWNGRADE);
	assert_int_equal(fake.n, 0);
	assert_int_equal(install_bundle_file(fx->cfg, path, true, NULL, NULL,
					     &err), SU_OK);
	assert_received(0, fx, 0, "/dev/fake-data");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_plan_unknown_target),
		T(test_plan_type_mismatch),
		T(test_plan_no_backend),
		T(test_plan_slots),
		T(test_plan_booted_unknown),
		T(test_plan_slot_group),
		T(test_second_install_refused),
		T(test_run_none),
		T(test_run_gzip),
		T(test_run_xz),
		T(test_run_zstd),
		T(test_run_ab),
		T(test_record_in_final_commit),
		T(test_record_failure),
		T(test_record_final_commit_fails),
		T(test_run_wrong_compression),
		T(test_tampered_none),
		T(test_single_slot_marker),
		T(test_final_commit_fails),
		T(test_final_commit_restored),
		T(test_tampered_last_none),
		T(test_tampered_last_zstd),
		T(test_tampered_gzip),
		T(test_tampered_zstd),
		T(test_rollback_keeps_older_marker),
		T(test_in_place_failure_keeps_marker),
		T(test_decompression_bomb),
		T(test_short_output),
		T(test_truncated_bundle),
		T(test_readback_failure),
		T(test_compares_on_write),
		T(test_progress),
		T(test_mark_good),
		T(test_bundle_file_ab),
		T(test_bundle_file_no_env),
		T(test_bundle_file_in_use),
		T(test_bundle_file_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
