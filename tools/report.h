/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TOOLS_REPORT_H
#define SU_TOOLS_REPORT_H

#include <json-c/json.h>
#include <stdio.h>

#include "error.h"
#include "manifest.h"

/* Output shared by create, inspect and verify. */

/* How JSON is written for people: indented, "key": value, '/' as is. */
#define JSON_STYLE (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
		    JSON_C_TO_STRING_NOSLASHESCAPE)

/* The manifest's fields, one per line, for people. */
void report_manifest(FILE *f, const struct manifest *m);

/* The manifest as manifest_to_json() writes it, as an object; NULL on ENOMEM. */
struct json_object *report_manifest_json(const struct manifest *m);

/* {"error": "<code>", "message": "..."}; NULL on ENOMEM. */
struct json_object *report_error_json(const struct su_error *err);

/*
 * Add @v to object @o under @k, taking ownership of @v: on failure, or
 * when @v is NULL (its constructor ran out of memory), @v is released and
 * -1 returned, so chains of report_add() || report_add() stay leak-free.
 */
int report_add(struct json_object *o, const char *k, struct json_object *v);

/* Append @v to array @a, with report_add()'s ownership rules. */
int report_append(struct json_object *a, struct json_object *v);

/*
 * A JSON array of @n items, item i made by @item(@ctx, i); NULL when any
 * item is NULL (out of memory).
 */
struct json_object *report_array(size_t n,
				 struct json_object *(*item)(const void *ctx,
							     size_t i),
				 const void *ctx);

/* Print @o on stdout (pretty, one trailing newline) and release it. 0 or -1. */
int report_print_json(struct json_object *o);

#endif
