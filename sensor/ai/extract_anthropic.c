// SPDX-License-Identifier: MIT
/*
 * Anthropic Messages responses: the whole message and its streaming
 * events.  See extract.h for the formats followed.
 */
#include "ai/extract_priv.h"

/*
 * Anthropic: input_tokens counts only uncached input, so the prompt total
 * (OTel gen_ai.usage.input_tokens) adds the cache reads and writes.
 * message_delta repeats only what changed: present fields win.
 */
static void usage_anthropic(struct acc *a, const cJSON *u)
{
	const cJSON *in = get(u, "input_tokens");

	if (!cJSON_IsObject(u))
		return;
	a->anthropic_usage = true;
	if (json_count(in, &a->anthropic_input))
		a->have[U_PROMPT] = true;
	usage_set(a, U_COMPLETION, get(u, "output_tokens"));
	usage_set(a, U_CACHED, get(u, "cache_read_input_tokens"));
	usage_set(a, U_CACHE_CREATION, get(u, "cache_creation_input_tokens"));
}

/* Anthropic content blocks of a whole message. */
void anthropic_message(struct acc *a, const cJSON *m)
{
	struct choice *ch = acc_choice(a, 0);
	const cJSON *b;
	struct tcall *t;
	const char *type;
	int pos = 0;

	acc_first(a, &a->id, gstr(m, "id"));
	acc_first(a, &a->model, gstr(m, "model"));
	cJSON_ArrayForEach(b, get(m, "content")) {
		type = gstr(b, "type");
		if (streq(type, "text")) {
			choice_text(a, ch, gstr(b, "text"));
		} else if (streq(type, "tool_use") ||
			   streq(type, "server_tool_use")) {
			t = choice_call(a, ch, pos);
			if (t) {
				acc_first(a, &t->id, gstr(b, "id"));
				acc_first(a, &t->name, gstr(b, "name"));
				call_args(a, t, get(b, "input"));
			}
		}
		pos++;
	}
	if (ch && gstr(m, "stop_reason"))
		acc_set(a, &ch->finish, gstr(m, "stop_reason"));
	usage_anthropic(a, get(m, "usage"));
}

/* One Anthropic streaming event (its "type" is @t). */
void anthropic_event(struct acc *a, const char *t, const cJSON *o)
{
	struct choice *ch = acc_choice(a, 0);
	const cJSON *b = get(o, "content_block"), *d = get(o, "delta");
	int idx = index_of(get(o, "index"), 0);
	const char *bt = gstr(b, "type"), *dt = gstr(d, "type");
	struct tcall *tc;

	if (streq(t, "message_start")) {
		anthropic_message(a, get(o, "message"));
	} else if (streq(t, "content_block_start")) {
		if (streq(bt, "text")) {
			choice_text(a, ch, gstr(b, "text"));
		} else if (streq(bt, "tool_use") ||
			   streq(bt, "server_tool_use")) {
			tc = choice_call(a, ch, idx);
			if (tc) {
				acc_first(a, &tc->id, gstr(b, "id"));
				acc_first(a, &tc->name, gstr(b, "name"));
			}
		}
	} else if (streq(t, "content_block_delta")) {
		if (streq(dt, "text_delta"))
			choice_text(a, ch, gstr(d, "text"));
		else if (streq(dt, "input_json_delta"))
			call_args(a, choice_call(a, ch, idx),
				  get(d, "partial_json"));
	} else if (streq(t, "message_delta")) {
		if (ch && gstr(d, "stop_reason"))
			acc_set(a, &ch->finish, gstr(d, "stop_reason"));
		usage_anthropic(a, get(o, "usage"));
	} else if (streq(t, "error")) {
		d = get(o, "error");
		/* the Responses API over WebSocket sends code and param too */
		acc_error(a, gstr(d, "type"), gstr(d, "message"),
			  get(d, "code"), get(d, "param"));
	}
}
