/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bundle stream as an upload delivers it: arbitrary bytes in
 * arbitrary chunks. The seeds in corpus/bundle_reader are signed by the
 * key in keys/, so mutations reach the payload rules too. The first byte
 * picks the chunk size; feeding must agree with feeding whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_reader.h"
#include "signature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct keyring *keys;
static struct bundle_policy policy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct su_error err;

	(void)argc;
	(void)argv;
	if (keyring_load_dir(SU_FUZZ_KEYS_DIR, &keys, &err))
		abort();
	policy.keys = keys;
	policy.compatible = "fuzz,device";
	policy.current_version = "1.0";
	return 0;
}

static enum su_err run(const uint8_t *data, size_t size, size_t chunk,
		       struct su_error *err)
{
	struct bundle_reader *br = bundle_reader_new(&policy, NULL, NULL);
	enum su_err rc = SU_OK;
	size_t off = 0;

	if (!br)
		abort();
	while (off < size && !rc) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = bundle_reader_feed(br, data + off, n, err);
		off += n;
	}
	if (!rc)
		rc = bundle_reader_finish(br, err);
	if (!rc && !bundle_reader_manifest(br))
		abort();
	bundle_reader_free(br);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct su_error e1, e2;
	size_t chunk;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] * 7 + 1;
	if (run(data + 1, size - 1, chunk, &e1) !=
	    run(data + 1, size - 1, size, &e2))
		abort();
	return 0;
}
