// SPDX-License-Identifier: MIT
/*
 * Lookups in parsed bodies, growing strings, and the two fields both
 * requests and responses write (model, streaming).  See extract_priv.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/jsonb.h"
#include "ai/extract_priv.h"

void get_many(const cJSON *o, const char *const *names, size_t n,
	      const cJSON **out)
{
	const cJSON *c;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (!o || (o->type & 0xff) != cJSON_Object)
		return;
	for (c = o->child; c; c = c->next) {
		if (!c->string)
			continue;
		for (i = 0; i < n; i++) {
			if (c->string[0] != names[i][0] ||
			    !key_eq(c->string, names[i]))
				continue;
			if (!out[i])
				out[i] = c;
			break;
		}
	}
}

bool json_count(const cJSON *v, double *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!isfinite(d) || d < 0 || d > 9007199254740992.0 || d != trunc(d))
		return false;
	*out = d;
	return true;
}

/* JSON text of @v (tool arguments given as objects); malloc'd. */
char *json_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	return cJSON_PrintUnformatted((cJSON *)v);
}

bool sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	size_t cap = b->cap ? b->cap : 64;
	char *p;

	if (n > SIZE_MAX / 2 - b->len)
		return false;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		p = realloc(b->p, cap);
		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

bool sbuf_str(struct sbuf *b, const char *s)
{
	return !s || sbuf_add(b, s, strlen(s));
}

bool sbuf_join(struct sbuf *b, const char *sep, const char *s)
{
	if (b->len && !sbuf_str(b, sep))
		return false;
	return sbuf_str(b, s);
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

bool set_model(cJSON *data, const char *id, struct ai_summary *sum)
{
	cJSON *m, *v = NULL;

	cJSON_DeleteItemFromObjectCaseSensitive(data, "model");
	m = jsonb__add_obj(data, "model");
	if (m)
		v = jsonb__add(m, "id", jsonb__text(id));
	if (!sum)
		return v;
	free(sum->model);
	sum->model = v ? strdup(v->valuestring) : NULL;
	return sum->model;
}

bool set_streaming(cJSON *data, bool v, struct ai_summary *sum)
{
	cJSON_DeleteItemFromObjectCaseSensitive(data, "streaming");
	if (!jsonb__add_bool(data, "streaming", v))
		return false;
	if (sum)
		sum->streaming = v;
	return true;
}
