// SPDX-License-Identifier: MIT
/*
 * OpenAI Responses API responses: the whole response object and its
 * typed streaming events.  See extract.h for the formats followed.
 */
#include <string.h>

#include "ai/extract_priv.h"

/*
 * Responses API output items (whole): messages, function and built-in
 * calls.  Realtime's items have the same shape, with the text of audio
 * content in "transcript".
 */
void responses_output(struct acc *a, const cJSON *out)
{
	struct choice *ch = acc_choice(a, 0);
	const cJSON *it, *p;
	struct tcall *t;
	const char *type;
	int pos = 0;

	cJSON_ArrayForEach(it, out) {
		type = gstr(it, "type");
		if (streq(type, "message")) {
			cJSON_ArrayForEach(p, get(it, "content")) {
				if (streq(gstr(p, "type"), "refusal"))
					choice_refusal(a, ch,
						       gstr(p, "refusal"));
				else
					choice_text(a, ch, gstr(p, "text") ?:
						    gstr(p, "transcript"));
			}
		} else if (streq(type, "function_call")) {
			t = choice_call(a, ch, pos);
			if (t) {
				acc_first(a, &t->id, gstr(it, "call_id"));
				acc_first(a, &t->name, gstr(it, "name"));
				acc_first(a, &t->type, "function");
				call_args_whole(a, t, gstr(it, "arguments"));
			}
		}
		pos++;
	}
}

/*
 * A Responses "response" object: id, model, status (incomplete: the
 * reason), usage, error; its output only when @take_output (a stream
 * whose deltas already built the reply must not be doubled).
 */
void responses_object(struct acc *a, const cJSON *r, bool take_output)
{
	struct choice *ch;
	const char *status = gstr(r, "status");
	const char *why = gstr(get(r, "incomplete_details"), "reason");

	acc_first(a, &a->id, gstr(r, "id"));
	acc_set(a, &a->model, gstr(r, "model"));
	if (take_output)
		responses_output(a, get(r, "output"));
	if (streq(status, "completed") || streq(status, "incomplete") ||
	    streq(status, "failed") || streq(status, "cancelled")) {
		ch = acc_choice(a, 0);
		if (ch)
			acc_set(a, &ch->finish, why ? why : status);
	}
	usage_openai(a, get(r, "usage"));
	acc_error_from(a, r);
}

bool responses_delta(struct acc *a, struct choice *ch, const char *t,
		     const char *delta, int oi)
{
	if (streq(t, "response.output_text.delta"))
		choice_text(a, ch, delta);
	else if (streq(t, "response.refusal.delta"))
		choice_refusal(a, ch, delta);
	else if (streq(t, "response.function_call_arguments.delta"))
		call_args_text(a, choice_call(a, ch, oi), delta);
	else
		return false;
	return true;
}

/* One Responses API streaming event (its "type" is @t). */
void responses_event(struct acc *a, const char *t, const cJSON *o)
{
	struct choice *ch = acc_choice(a, 0);
	const cJSON *it = get(o, "item"), *d = get(o, "delta");
	int oi = index_of(get(o, "output_index"), 0);
	struct tcall *c;

	if (d && !cJSON_IsString(d) &&
	    streq(t, "response.function_call_arguments.delta")) {
		/* Not text: its JSON text, as Chat Completions' arguments. */
		call_args(a, choice_call(a, ch, oi), d);
	} else if (responses_delta(a, ch, t, d ? str_of(d) : NULL, oi)) {
		/* the text deltas */
	} else if (streq(t, "response.output_item.added") ||
		   streq(t, "response.output_item.done")) {
		if (!streq(gstr(it, "type"), "function_call"))
			return;
		c = choice_call(a, ch, oi);
		if (!c)
			return;
		acc_first(a, &c->id, gstr(it, "call_id"));
		acc_first(a, &c->name, gstr(it, "name"));
		acc_first(a, &c->type, "function");
		if (gstr(it, "arguments") && *gstr(it, "arguments"))
			call_args_whole(a, c, gstr(it, "arguments"));
	} else if (streq(t, "response.function_call_arguments.done")) {
		call_args_whole(a, choice_call(a, ch, oi),
				gstr(o, "arguments"));
	} else if (strncmp(t, "response.", 9) == 0 &&
		   cJSON_IsObject(get(o, "response"))) {
		/* created, in_progress, completed, incomplete, failed */
		responses_object(a, get(o, "response"), a->outputs == 0);
	}
}
