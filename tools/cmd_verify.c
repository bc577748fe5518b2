/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sysupgrade-bundle verify: check a bundle exactly as a device would. */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "bundle_reader.h"
#include "commands.h"
#include "bundle_report.h"
#include "report.h"
#include "signature.h"

struct verify_opts {
	const char *keys;
	const char *bundle;
	struct bundle_policy policy;
	bool json;
};

static void verify_help(void)
{
	printf("Usage: %s verify --keys DIR [--compatible C]\n"
	       "         [--current-version V] [--force] [--json] BUNDLE\n\n"
	       "Verify BUNDLE with the bundle reader the daemon uses: order,\n"
	       "signature against every PEM public key in DIR, manifest,\n"
	       "policy, then each payload's size and SHA-256.\n"
	       "On failure prints 'verify: <code>: <message>' on stderr, where\n"
	       "<code> is the error code the HTTP API would answer with.\n\n"
	       "  -K, --keys DIR             trusted public keys (PEM files)\n"
	       "  -c, --compatible C         refuse bundles not made for C\n"
	       "  -C, --current-version V    refuse bundles older than V\n"
	       "  -f, --force                accept incompatible and older bundles\n"
	       "  -j, --json                 report (or error) as JSON on stdout\n"
	       "  -h, --help                 show this help\n", TOOL_NAME);
}

static int parse_args(int argc, char **argv, struct verify_opts *o)
{
	static const struct option opts[] = {
		{ "keys", required_argument, NULL, 'K' },
		{ "compatible", required_argument, NULL, 'c' },
		{ "current-version", required_argument, NULL, 'C' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "K:c:C:fjh", opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			o->keys = optarg;
			break;
		case 'c':
			o->policy.compatible = optarg;
			break;
		case 'C':
			o->policy.current_version = optarg;
			break;
		case 'f':
			o->policy.force = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			verify_help();
			return -1;
		default:
			return cli_usage_hint("verify");
		}
	}
	if (!o->keys)
		return cli_usage("verify", "--keys is required");
	if (argc - optind != 1)
		return cli_usage("verify", "expected exactly one BUNDLE");
	o->bundle = argv[optind];
	return 0;
}

static int report_text(const struct verify_opts *o,
		       const struct bundle_reader *br)
{
	const struct manifest *m = bundle_reader_manifest(br);
	uint8_t sum[DIGEST_LEN];
	char hex[DIGEST_HEX_LEN + 1];

	bundle_reader_sha256(br, sum);
	digest_to_hex(sum, hex);
	printf("bundle:      %s\n", o->bundle);
	printf("size:        %" PRIu64 "\n", bundle_reader_bytes(br));
	printf("sha256:      %s\n", hex);
	printf("key:         %s\n", bundle_reader_key_name(br));
	report_manifest(stdout, m);
	printf("verify: ok\n");
	return 0;
}

static int report_json(const struct bundle_reader *br)
{
	struct json_object *r = bundle_report(br, true);

	if (!r) {
		fprintf(stderr, "verify: out_of_memory: building the JSON report\n");
		return 1;
	}
	return report_print_json(r) ? 1 : 0;
}

static int fail(const struct verify_opts *o, const struct su_error *err)
{
	if (!o->json)
		return cli_fail("verify", err);
	report_print_json(report_error_json(err));
	return 1;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_opts o = { 0 };
	struct bundle_reader *br = NULL;
	struct keyring *kr = NULL;
	struct su_error err;
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (keyring_load_dir(o.keys, &kr, &err)) {
		/* whatever went wrong, the keys directory needs fixing */
		if (err.code != SU_ERR_NOMEM)
			err.code = SU_ERR_CONFIG;
		return fail(&o, &err);
	}
	o.policy.keys = kr;
	if (bundle_verify_file(o.bundle, &o.policy, &br, &err))
		rc = fail(&o, &err);
	else if (o.json)
		rc = report_json(br);
	else
		rc = report_text(&o, br);
	bundle_reader_free(br);
	keyring_free(kr);
	return rc;
}
