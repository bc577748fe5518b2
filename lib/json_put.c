// SPDX-License-Identifier: GPL-2.0-or-later
#include "json_put.h"

int json_put(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -1;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int json_push(json_object *a, json_object *v)
{
	if (!v)
		return -1;
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int json_put_str(json_object *o, const char *key, const char *s)
{
	return s ? json_put(o, key, json_object_new_string(s)) : 0;
}

json_object *json_array_of(size_t n, json_object *(*item)(const void *ctx, size_t i),
			   const void *ctx)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++) {
		if (json_push(a, item(ctx, i))) {
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}
