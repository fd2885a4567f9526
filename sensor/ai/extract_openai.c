// SPDX-License-Identifier: MIT
/*
 * OpenAI Chat Completions (whole and streamed), legacy Completions and
 * Embeddings responses.  See extract.h for the formats followed.
 */
#include "ai/extract_priv.h"

/* OpenAI Chat Completions / Embeddings / Responses usage objects. */
void usage_openai(struct acc *a, const cJSON *u)
{
	if (!cJSON_IsObject(u))
		return;
	usage_set(a, U_PROMPT, get2(u, "prompt_tokens", "input_tokens"));
	usage_set(a, U_COMPLETION,
		  get2(u, "completion_tokens", "output_tokens"));
	usage_set(a, U_TOTAL, get(u, "total_tokens"));
	usage_set(a, U_CACHED, get(get2(u, "prompt_tokens_details",
					"input_tokens_details"),
				   "cached_tokens"));
	usage_set(a, U_REASONING, get(get2(u, "completion_tokens_details",
					   "output_tokens_details"),
				      "reasoning_tokens"));
}

/* OpenAI tool_calls (whole or streamed deltas) of one choice. */
static void openai_calls(struct acc *a, struct choice *c, const cJSON *m)
{
	const cJSON *tc, *fn;
	struct tcall *t;
	int pos = 0;

	cJSON_ArrayForEach(tc, get(m, "tool_calls")) {
		t = choice_call(a, c, index_of(get(tc, "index"), pos++));
		if (!t)
			continue;
		fn = get(tc, "function");
		acc_first(a, &t->id, gstr(tc, "id"));
		acc_first(a, &t->type, gstr(tc, "type"));
		acc_first(a, &t->name, gstr(fn, "name"));
		call_args(a, t, get(fn, "arguments"));
	}
	fn = get(m, "function_call");		/* legacy */
	if (cJSON_IsObject(fn)) {
		t = choice_call(a, c, 999999);
		if (!t)
			return;
		acc_first(a, &t->name, gstr(fn, "name"));
		call_args(a, t, get(fn, "arguments"));
	}
}

enum choice_member { C_INDEX, C_MESSAGE, C_DELTA, C_TEXT, C_FINISH, C_MAX };

static const char *const choice_names[C_MAX] = {
	"index", "message", "delta", "text", "finish_reason",
};

/*
 * A Chat Completions object or chunk, or a legacy Completions one:
 * choices[].message (whole) or choices[].delta (streamed) or .text.
 * @t holds its members (get_many with top_names).
 */
void openai_chunk(struct acc *a, const cJSON *const *t)
{
	const cJSON *c, *m, *content, *cm[C_MAX];
	struct choice *ch;
	int pos = 0;

	acc_first(a, &a->id, str_of(t[T_ID]));
	acc_first(a, &a->model, str_of(t[T_MODEL]));
	cJSON_ArrayForEach(c, t[T_CHOICES]) {
		get_many(c, choice_names, C_MAX, cm);
		ch = acc_choice(a, index_of(cm[C_INDEX], pos++));
		if (!ch)
			continue;
		m = cm[C_MESSAGE] ?: cm[C_DELTA];
		content = get(m, "content");
		if (cJSON_IsString(content)) {
			choice_text(a, ch, content->valuestring);
		} else if (cJSON_IsArray(content)) {
			struct parts pt = { .skip_calls = true };

			parts_add(&pt, content);
			choice_text(a, ch, pt.text.p ? pt.text.p : "");
			sbuf_free(&pt.text);
			cJSON_Delete(pt.calls);
		}
		choice_refusal(a, ch, gstr(m, "refusal"));
		openai_calls(a, ch, m);
		choice_text(a, ch, str_of(cm[C_TEXT]));
		if (str_of(cm[C_FINISH]))
			acc_set(a, &ch->finish, str_of(cm[C_FINISH]));
	}
	usage_openai(a, t[T_USAGE]);
	acc_error_value(a, t[T_ERROR]);
}

/* OpenAI embeddings list: counts, never the vectors. */
void openai_embeddings(struct acc *a, const cJSON *o)
{
	const cJSON *d = get(o, "data");
	const cJSON *e = get(cJSON_GetArrayItem(d, 0), "embedding");

	acc_first(a, &a->model, gstr(o, "model"));
	a->input_count = cJSON_GetArraySize(d);
	if (cJSON_IsArray(e))
		a->dimensions = cJSON_GetArraySize(e);
	usage_openai(a, get(o, "usage"));
}
