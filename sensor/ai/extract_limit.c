// SPDX-License-Identifier: MIT
/*
 * Bounds of one event's extraction: list elements taken, bytes of string
 * values written, and the record of what was left out.  See extract.h,
 * "Bounds", and extract_priv.h.
 */
#include <stdlib.h>
#include <string.h>

#include "event/jsonb.h"
#include "ai/extract.h"
#include "ai/extract_priv.h"

void xlimit_init(struct xlimit *l)
{
	*l = (struct xlimit){ .items = EXTRACT_MAX_ITEMS };
}

bool xlimit_take(struct xlimit *l)
{
	if (!l)
		return true;
	if (l->items) {
		l->items--;
		return true;
	}
	l->elements_dropped++;
	return false;
}

/* Bytes that @c takes in JSON text, as cJSON prints it. */
static size_t json_cost(unsigned char c)
{
	if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
	    c == '\r' || c == '\t')
		return 2;
	return c < 0x20 ? 6 : 1;
}

/*
 * The length of the longest prefix of @s that costs at most *@left bytes
 * of JSON text and ends on a UTF-8 character boundary (@s is valid
 * UTF-8: jsonb.h); *@left loses its cost.
 */
static size_t fit(const char *s, size_t *left)
{
	size_t i, cost = 0, c;

	for (i = 0; s[i]; i++) {
		c = json_cost((unsigned char)s[i]);
		if (cost + c > *left)
			break;
		cost += c;
	}
	if (s[i]) {
		while (i && ((unsigned char)s[i] & 0xc0) == 0x80) {
			i--;
			cost--;		/* continuation bytes cost 1 */
		}
	}
	*left -= cost;
	return i;
}

/* Cuts @v's string to @keep bytes; a new, smaller copy when possible. */
static void cut(cJSON *v, size_t keep)
{
	char *s = cJSON_malloc(keep + 1);

	if (!s) {
		v->valuestring[keep] = '\0';	/* the memory stays until freed */
		return;
	}
	memcpy(s, v->valuestring, keep);
	s[keep] = '\0';
	cJSON_free(v->valuestring);
	v->valuestring = s;
}

/*
 * Walks @o in document order.  Strings by reference are literals of the
 * extractor (roles, types): counted, never cut.
 */
static void cut_strings(struct xlimit *l, cJSON *o, size_t *left)
{
	size_t keep, len;
	cJSON *c;

	if (cJSON_IsString(o) && o->valuestring) {
		keep = fit(o->valuestring, left);
		if (!o->valuestring[keep])
			return;
		*left = 0;
		if (o->type & cJSON_IsReference)
			return;
		len = keep + strlen(o->valuestring + keep);
		l->bytes_dropped += len - keep;
		cut(o, keep);
		return;
	}
	for (c = o->child; c; c = c->next)
		cut_strings(l, c, left);
}

/*
 * True when @o's strings cost at most @max bytes of JSON text for sure:
 * a byte costs at most 6 (json_cost()).  strlen() is far cheaper than
 * fit()'s byte loop, and an ordinary event is far below the bound, so
 * the exact walk only runs for events that may need cutting.
 */
static bool surely_fits(const cJSON *o, size_t *max)
{
	size_t cost;
	const cJSON *c;

	if (cJSON_IsString(o) && o->valuestring) {
		cost = 6 * strlen(o->valuestring);
		if (cost > *max)
			return false;
		*max -= cost;
		return true;
	}
	for (c = o->child; c; c = c->next)
		if (!surely_fits(c, max))
			return false;
	return true;
}

bool xlimit_finish(struct xlimit *l, cJSON *data, struct ai_summary *sum)
{
	size_t left = EXTRACT_MAX_TEXT, bound = EXTRACT_MAX_TEXT;
	cJSON *t;

	if (!surely_fits(data, &bound))
		cut_strings(l, data, &left);
	if (!l->elements_dropped && !l->bytes_dropped)
		return true;
	if (sum) {
		sum->elements_dropped += l->elements_dropped;
		sum->bytes_dropped += l->bytes_dropped;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(data, "truncated");
	t = jsonb__add_obj(data, "truncated");
	return t && jsonb__add_num(t, "elements_dropped",
				   (double)l->elements_dropped) &&
	       jsonb__add_num(t, "bytes_dropped", (double)l->bytes_dropped);
}
