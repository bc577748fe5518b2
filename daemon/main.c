/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sysupgraded: the firmware-update daemon. The command line picks one
 * mode; main() loads the config for the modes that want it and returns
 * the mode's exit status: the daemon (HTTP API), --install, --mark-good,
 * and --stage2 (PID 1 after the in-place handover, which must reach
 * /sbin/init even without a config; also run as /shutdown by
 * systemd-shutdown, and as /sbin/upgraded by procd).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "digest.h"
#include "handover.h"
#include "install.h"
#include "run_lock.h"
#include "stage2.h"

#ifndef SU_VERSION
#define SU_VERSION "unknown"
#endif

#define PROG		"sysupgraded"
#define EXIT_USAGE	2	/* bad command line; 1 is "the operation failed" */

struct options {
	const char *config;
	const char *install;	/* bundle file */
	const char *stage2;	/* state file */
	bool force;
	bool foreground;
	bool mark_good;
	int verbose;
};

struct mode {
	/* Returns the exit status; @cfg is NULL unless needs_config. */
	int (*run)(const struct options *o, const struct config *cfg);
	bool needs_config;
};

static int fail(const char *what, const struct su_error *err)
{
	fprintf(stderr, PROG ": %s: %s: %s\n", what, su_err_name(err->code),
		err->message);
	return 1;
}

/* ---- --install ---- */

struct printer {
	const char *phase;
	size_t index;
	unsigned next;		/* next percentage worth a line */
	bool verbose;
};

/* One line per 5 % and per phase (every report with -v). */
static void print_progress(void *ctx, const struct install_progress *p)
{
	struct printer *pr = ctx;
	bool new_phase = !pr->phase || strcmp(pr->phase, p->phase) ||
			 pr->index != p->index;

	if (!new_phase && p->percent < pr->next && !pr->verbose)
		return;
	pr->phase = p->phase;
	pr->index = p->index;
	pr->next = p->percent / 5 * 5 + 5;
	if (!strcmp(p->phase, "bootenv")) {
		fprintf(stderr, PROG ": %3u%% bootenv: %zu image(s) written, committing the boot environment\n",
			p->percent, p->count);
		return;
	}
	fprintf(stderr, PROG ": %3u%% %s %s (image %zu of %zu, %" PRIu64
		" of %" PRIu64 " bytes)\n", p->percent, p->phase, p->image,
		p->index + 1, p->count, p->bytes, p->total);
}

static int run_install(const struct options *o, const struct config *cfg)
{
	struct printer pr = { .verbose = o->verbose > 0 };
	struct su_error err;
	enum su_err rc;
	int lock;

	if (run_lock_take(cfg, &lock, &err))
		return fail("install", &err);
	rc = install_bundle_file(cfg, o->install, o->force, print_progress,
				 &pr, &err);
	run_lock_release(lock);
	if (rc)
		return fail("install", &err);
	fprintf(stderr, PROG ": installed %s\n", o->install);
	return 0;
}

/* ---- --mark-good ---- */

static int run_mark_good(const struct options *o, const struct config *cfg)
{
	struct su_error err;

	(void)o;
	if (install_mark_good(cfg, &err))
		return fail("mark-good", &err);
	return 0;
}

/* ---- the daemon and stage 2 ---- */

/* The daemon loads the config itself: SIGHUP reads it again. */
static int run_daemon(const struct options *o, const struct config *cfg)
{
	(void)cfg;
	return daemon_run(o->config, o->foreground, o->verbose);
}

/* Stage 2 reads the config named in its state file, if any. */
static int run_stage2(const struct options *o, const struct config *cfg)
{
	(void)cfg;
	return stage2_main(o->stage2, STAGE2_EXEC, o->verbose);
}

static const struct mode *pick_mode(const struct options *o)
{
	static const struct mode stage2 = { run_stage2, false };
	static const struct mode install = { run_install, true };
	static const struct mode mark_good = { run_mark_good, true };
	static const struct mode daemon = { run_daemon, false };

	if (o->stage2)
		return &stage2;
	if (o->install)
		return &install;
	if (o->mark_good)
		return &mark_good;
	return &daemon;
}

/* ---- command line ---- */

static void help(FILE *f)
{
	fprintf(f, "Usage: " PROG " [-c CONFIG] [--foreground] [-v]\n"
		"       " PROG " [-c CONFIG] --install BUNDLE [--force] [-v]\n"
		"       " PROG " [-c CONFIG] --mark-good\n"
		"       " PROG " --stage2 STATE\n"
		"       " PROG " --version | --help\n\n"
		"The firmware-update daemon. Without --install or --mark-good it\n"
		"serves the HTTP API.\n\n"
		"  -c, --config FILE   device configuration (default " CONFIG_DEFAULT_PATH ")\n"
		"  -i, --install FILE  verify and install a bundle file, then exit;\n"
		"                      A/B slots and targets not in use only\n"
		"  -f, --force         with --install: accept an incompatible or\n"
		"                      older bundle (the signature is still required)\n"
		"  -g, --mark-good     confirm this boot: delete upgrade_available,\n"
		"                      set bootcount to 0 (one environment write)\n"
		"      --foreground    do not detach (daemon mode)\n"
		"      --stage2 STATE  the in-place handover, run by PID 1 only\n"
		"  -v, --verbose       info log lines (-vv: debug); with --install,\n"
		"                      every progress report\n"
		"  -V, --version       show the version and the SHA-256 code in use\n"
		"  -h, --help          show this help\n\n"
		"Exit status: 0 success, 1 failure, 2 bad command line.\n"
		"See sysupgraded(8) and sysupgraded.conf(5).\n");
}

static int usage(const char *why)
{
	fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", why);
	return EXIT_USAGE;
}

/* Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct options *o)
{
	enum { OPT_FOREGROUND = 256, OPT_STAGE2 };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "install", required_argument, NULL, 'i' },
		{ "force", no_argument, NULL, 'f' },
		{ "mark-good", no_argument, NULL, 'g' },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "stage2", required_argument, NULL, OPT_STAGE2 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:i:fgvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'i':
			o->install = optarg;
			break;
		case 'f':
			o->force = true;
			break;
		case 'g':
			o->mark_good = true;
			break;
		case OPT_FOREGROUND:
			o->foreground = true;
			break;
		case OPT_STAGE2:
			o->stage2 = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			printf(PROG " %s (sha256: %s)\n", SU_VERSION,
			       digest_impl());
			return 0;
		case 'h':
			help(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage("unexpected argument; a bundle goes after --install");
	if (!!o->install + o->mark_good + !!o->stage2 > 1)
		return usage("--install, --mark-good and --stage2 exclude each other");
	if (o->force && !o->install)
		return usage("--force only applies to --install");
	return -1;
}

int main(int argc, char **argv)
{
	struct options o = { .config = CONFIG_DEFAULT_PATH };
	const char *name = strrchr(argv[0], '/');
	const struct mode *mode;
	struct config *cfg = NULL;
	struct su_error err;
	int status;

	/* systemd-shutdown's route: /run/initramfs/shutdown VERB, as PID 1 */
	if (!strcmp(name ? name + 1 : argv[0], "shutdown"))
		return stage2_main("/" HANDOVER_STATE_NAME, STAGE2_SYSTEMD, 0);
	/* procd's route: ROOT/sbin/upgraded STATE, as PID 1, in a chroot */
	if (!strcmp(name ? name + 1 : argv[0], "upgraded"))
		return stage2_main(argc > 1 ? argv[1] : "", STAGE2_PROCD, 0);
	status = parse(argc, argv, &o);
	if (status >= 0)
		return status;
	mode = pick_mode(&o);
	if (mode->needs_config && config_load(o.config, &cfg, &err))
		return fail("config", &err);
	status = mode->run(&o, cfg);
	if (cfg)
		config_free(cfg);
	return status;
}
