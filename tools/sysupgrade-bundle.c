/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sysupgrade-bundle: create, sign, inspect and verify update bundles.
 * A thin front end over the format library (sysupgrade-format, no
 * device code); each verb lives in its cmd_*.c.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "digest.h"
#include "signature.h"

#ifndef SU_VERSION
#define SU_VERSION "unknown"
#endif

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
	{ "keygen", cmd_keygen, "generate an ECDSA P-256 signing key pair" },
	{ "create", cmd_create, "build and sign a bundle from image files" },
	{ "sign", cmd_sign, "(re-)sign the manifest of an existing bundle" },
	{ "inspect", cmd_inspect, "show a bundle's manifest and members (no keys)" },
	{ "verify", cmd_verify, "verify a bundle as a device would" },
};

int cli_fail(const char *verb, const struct su_error *err)
{
	fprintf(stderr, "%s: %s: %s\n", verb, su_err_name(err->code),
		err->message);
	return 1;
}

int cli_usage_hint(const char *verb)
{
	fprintf(stderr, "Try '%s %s --help'.\n", TOOL_NAME, verb);
	return EXIT_USAGE;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", TOOL_NAME, verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return cli_usage_hint(verb);
}

static void tool_help(FILE *f)
{
	fprintf(f, "Usage: %s VERB [OPTION]... [ARG]...\n\n"
		"Verbs:\n", TOOL_NAME);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nOptions:\n"
		"  -h, --help     show this help\n"
		"      --version  show the version and the SHA-256 code in use\n\n"
		"'%s VERB --help' describes a verb's options.\n"
		"Exit status: 0 success, 1 failure, 2 bad command line.\n"
		"See sysupgrade-bundle(1).\n",
		TOOL_NAME);
}

static void keygen_help(void)
{
	printf("Usage: %s keygen --key PRIV.pem --pub PUB.pem\n\n"
	       "Generate an ECDSA P-256 key pair. The private key is written\n"
	       "with mode 0600 and never overwrites an existing file; put the\n"
	       "public key in the device's trusted-keys directory.\n\n"
	       "  -k, --key FILE   private key to create (PEM)\n"
	       "  -p, --pub FILE   public key to create (PEM)\n"
	       "  -h, --help       show this help\n", TOOL_NAME);
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "pub", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *priv = NULL, *pub = NULL;
	struct su_error err;
	int c;

	while ((c = getopt_long(argc, argv, "k:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			priv = optarg;
			break;
		case 'p':
			pub = optarg;
			break;
		case 'h':
			keygen_help();
			return 0;
		default:
			return cli_usage_hint("keygen");
		}
	}
	if (optind < argc)
		return cli_usage("keygen", "unexpected argument '%s'", argv[optind]);
	if (!priv || !pub)
		return cli_usage("keygen", "--key and --pub are required");
	if (signature_keygen(priv, pub, &err))
		return cli_fail("keygen", &err);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		tool_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		tool_help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s (sha256: %s)\n", TOOL_NAME, SU_VERSION,
		       digest_impl());
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown verb '%s'\n", TOOL_NAME, argv[1]);
	fprintf(stderr, "Try '%s --help'.\n", TOOL_NAME);
	return EXIT_USAGE;
}
