// SPDX-License-Identifier: MIT
/*
 * Builders for event bodies; see jsonb.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "event/jsonb.h"
#include "lib/utf8.h"

cJSON *jsonb__add(cJSON *o, const char *key, cJSON *v)
{
	if (v && cJSON_AddItemToObjectCS(o, key, v))
		return v;
	cJSON_Delete(v);
	return NULL;
}

cJSON *jsonb__add_obj(cJSON *o, const char *key)
{
	return jsonb__add(o, key, cJSON_CreateObject());
}

cJSON *jsonb__add_arr(cJSON *o, const char *key)
{
	return jsonb__add(o, key, cJSON_CreateArray());
}

cJSON *jsonb__push_obj(cJSON *arr)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

bool jsonb__add_bool(cJSON *o, const char *key, bool b)
{
	return jsonb__add(o, key, cJSON_CreateBool(b));
}

bool jsonb__add_num(cJSON *o, const char *key, double v)
{
	if (!isfinite(v))
		return true;
	return jsonb__add(o, key, cJSON_CreateNumber(v));
}

bool jsonb__add_str(cJSON *o, const char *key, const char *s)
{
	return !s || jsonb__add(o, key, cJSON_CreateString(s));
}

bool jsonb__add_static(cJSON *o, const char *key, const char *s)
{
	return jsonb__add(o, key, cJSON_CreateStringReference(s));
}

cJSON *jsonb__text(const char *s)
{
	size_t n = strlen(s);
	char *clean, *copy;
	cJSON *v;

	if (!utf8__valid(s, n)) {
		clean = utf8__dup(s, n);
		v = clean ? cJSON_CreateString(clean) : NULL;
		free(clean);
		return v;
	}
	/*
	 * The usual case: one copy, made with cJSON's allocator and handed
	 * over (redact.c replaces strings the same way), rather than a
	 * cleaned copy that cJSON_CreateString copies again.
	 */
	copy = cJSON_malloc(n + 1);
	v = copy ? cJSON_CreateStringReference(copy) : NULL;
	if (!v) {
		cJSON_free(copy);
		return NULL;
	}
	memcpy(copy, s, n + 1);
	v->type &= ~cJSON_IsReference;		/* owned: cJSON_Delete frees it */
	return v;
}

bool jsonb__add_text(cJSON *o, const char *key, const char *s)
{
	return !s || jsonb__add(o, key, jsonb__text(s));
}

bool jsonb__add_text_moved(cJSON *o, const char *key, cJSON *src)
{
	char *s = src ? src->valuestring : NULL;
	cJSON *v;

	if (!s || (src->type & cJSON_IsReference) ||
	    !utf8__valid(s, strlen(s)))
		return jsonb__add_text(o, key, s);
	v = cJSON_CreateStringReference(s);
	if (!v)
		return false;
	v->type &= ~cJSON_IsReference;		/* owned: cJSON_Delete frees it */
	src->valuestring = NULL;
	return jsonb__add(o, key, v);
}

bool jsonb__push_text(cJSON *arr, const char *s)
{
	cJSON *v = jsonb__text(s);

	if (!v || !cJSON_AddItemToArray(arr, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}
