// SPDX-License-Identifier: MIT
/*
 * An event's data made smaller to fit a line limit: see shorten.h.
 */
#include <stdio.h>
#include <string.h>

#include "ai/shorten.h"
#include "event/jsonb.h"

/* What a marker ("content_length":N,) costs the line, about. */
#define MARK_COST	32
/* And data.shortened {strings, bytes, elements}, at most. */
#define SAY_COST	80

struct cut {
	size_t need;		/* bytes still to remove */
	struct shorten_stats *st;
	bool done;		/* something was removed */
};

/* Bytes of @s[0..n) that end at a UTF-8 character boundary. */
static size_t utf8_floor(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/*
 * Cuts the string member @key of object @o as far as c->need asks and
 * marks it with "<key>_length" (@mark) the first time.
 */
static void cut_member(struct cut *c, cJSON *o, const char *key,
		       const char *mark)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	size_t len, keep, gain;

	if (!c->need || !cJSON_IsString(v) || !v->valuestring)
		return;
	len = strlen(v->valuestring);
	if (!len)
		return;
	if (!cJSON_HasObjectItem(o, mark)) {
		if (!jsonb__add_num(o, mark, (double)len))
			return;
		c->st->strings++;
		/* the marker lengthens the line */
		c->need += MARK_COST;
	}
	keep = len > c->need ? utf8_floor(v->valuestring, len - c->need) : 0;
	gain = len - keep;
	v->valuestring[keep] = '\0';
	c->st->bytes += gain;
	c->need = c->need > gain ? c->need - gain : 0;
	c->done = c->done || gain;
}

/* The arguments of the tool calls in @o's "tool_calls" list. */
static void cut_calls(struct cut *c, cJSON *o)
{
	cJSON *tc;

	cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(o, "tool_calls"))
		cut_member(c, tc, "arguments", "arguments_length");
}

static void cut_strings(struct cut *c, cJSON *data)
{
	cJSON *it, *msg;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(data, "messages")) {
		cut_member(c, it, "content", "content_length");
		cut_calls(c, it);
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(data, "tools"))
		cut_member(c, it, "description", "description_length");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(data, "choices")) {
		msg = cJSON_GetObjectItemCaseSensitive(it, "message");
		cut_member(c, msg, "content", "content_length");
		cut_calls(c, msg);
	}
	cut_calls(c, data);
}

/* No string left to cut: the first list still there goes. */
static void drop_list(struct cut *c, cJSON *data)
{
	static const char *const lists[] = {
		"messages", "tools", "choices", "tool_calls",
	};
	cJSON *l;
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		l = cJSON_DetachItemFromObjectCaseSensitive(data, lists[i]);
		if (!l)
			continue;
		c->st->elements += (uint64_t)cJSON_GetArraySize(l);
		cJSON_Delete(l);
		c->done = true;
		return;
	}
}

static void say_shortened(cJSON *data, const struct shorten_stats *st)
{
	cJSON *s;

	cJSON_DeleteItemFromObjectCaseSensitive(data, "shortened");
	s = jsonb__add_obj(data, "shortened");
	if (!s)
		return;
	jsonb__add_num(s, "strings", (double)st->strings);
	jsonb__add_num(s, "bytes", (double)st->bytes);
	jsonb__add_num(s, "elements", (double)st->elements);
}

bool shorten__data(cJSON *data, size_t excess, struct shorten_stats *st)
{
	struct cut c = { .need = excess + SAY_COST, .st = st };

	cut_strings(&c, data);
	if (!c.done)
		drop_list(&c, data);
	if (c.done)
		say_shortened(data, st);
	return c.done;
}
