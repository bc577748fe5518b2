/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_JSON_PUT_H
#define SU_JSON_PUT_H

#include <json-c/json.h>
#include <stddef.h>

/*
 * Checked builders for json-c objects. Each takes ownership of @v: on
 * failure, or when @v is NULL (its constructor ran out of memory), @v is
 * released and -1 returned, so chains of json_put() || json_put() stay
 * leak-free and an allocation failure travels up as one value.
 */
int json_put(json_object *o, const char *key, json_object *v);
int json_push(json_object *a, json_object *v);

/* A NULL string (a hand-built manifest) is left out: 0, nothing added. */
int json_put_str(json_object *o, const char *key, const char *s);

/* An array of @n items, item i made by @item(@ctx, i); NULL when an item
 * or the array could not be made. */
json_object *json_array_of(size_t n, json_object *(*item)(const void *ctx, size_t i),
			   const void *ctx);

#endif
