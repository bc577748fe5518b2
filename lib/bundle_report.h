/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_BUNDLE_REPORT_H
#define SU_BUNDLE_REPORT_H

#include <stdbool.h>

#include "bundle_reader.h"

/*
 * The verification report of a bundle @br has read to the end: the
 * daemon's upload answer and `sysupgrade-bundle verify --json`.
 *   {"version", "compatible": [...], "description" (when set),
 *    "images": [{file, size, sha256, type, target, compression,
 *                installed_size[, offset]}],
 *    "sha256": of the whole bundle, "size": its bytes,
 *    "key": the file name of the key that verified it}
 * @offsets adds each payload's offset in the bundle. NULL on ENOMEM.
 */
struct json_object *bundle_report(const struct bundle_reader *br, bool offsets);

#endif
