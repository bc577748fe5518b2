/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TOOLS_REPORT_H
#define SU_TOOLS_REPORT_H

#include <json-c/json.h>
#include <stdio.h>

#include "error.h"
#include "json_put.h"
#include "manifest.h"

/* Output shared by create, inspect and verify. */

/* How JSON is written for people: indented, "key": value, '/' as is. */
#define JSON_STYLE (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
		    JSON_C_TO_STRING_NOSLASHESCAPE)

/* The manifest's fields, one per line, for people. */
void report_manifest(FILE *f, const struct manifest *m);

/* {"error": "<code>", "message": "..."}; NULL on ENOMEM. */
struct json_object *report_error_json(const struct su_error *err);

/* Print @o on stdout (pretty, one trailing newline) and release it. 0 or -1. */
int report_print_json(struct json_object *o);

#endif
