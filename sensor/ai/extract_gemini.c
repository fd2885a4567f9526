// SPDX-License-Identifier: MIT
/*
 * Google Gemini generateContent responses (a whole body, one streamed
 * chunk).  See extract.h for the formats followed.
 */
#include "ai/extract_priv.h"

/* Gemini usageMetadata: candidatesTokenCount excludes thoughts. */
static void usage_gemini(struct acc *a, const cJSON *u)
{
	const cJSON *out = get(u, "candidatesTokenCount");

	if (!cJSON_IsObject(u))
		return;
	a->gemini_usage = true;
	usage_set(a, U_PROMPT, get(u, "promptTokenCount"));
	if (json_count(out, &a->gemini_output))
		a->have[U_COMPLETION] = true;
	usage_set(a, U_TOTAL, get(u, "totalTokenCount"));
	usage_set(a, U_CACHED, get(u, "cachedContentTokenCount"));
	usage_set(a, U_REASONING, get(u, "thoughtsTokenCount"));
}

/* A Gemini GenerateContentResponse (whole, or one streamed chunk). */
void gemini_chunk(struct acc *a, const cJSON *o)
{
	const cJSON *c, *p, *fc;
	struct choice *ch;
	struct tcall *t;
	const char *block;
	int pos = 0;

	acc_first(a, &a->id, gstr(o, "responseId"));
	acc_set(a, &a->model, gstr(o, "modelVersion"));
	cJSON_ArrayForEach(c, get(o, "candidates")) {
		ch = acc_choice(a, index_of(get(c, "index"), pos++));
		if (!ch)
			continue;
		cJSON_ArrayForEach(p, get(get(c, "content"), "parts")) {
			fc = get2(p, "functionCall", "function_call");
			if (cJSON_IsTrue(get(p, "thought")))
				continue;
			if (gstr(p, "text")) {
				choice_text(a, ch, gstr(p, "text"));
			} else if (fc && (t = choice_call(a, ch, -1))) {
				acc_first(a, &t->id, gstr(fc, "id"));
				acc_first(a, &t->name, gstr(fc, "name"));
				acc_first(a, &t->type, "function");
				call_args(a, t, get(fc, "args"));
			}
		}
		if (gstr(c, "finishReason"))
			acc_set(a, &ch->finish, gstr(c, "finishReason"));
	}
	block = gstr(get(o, "promptFeedback"), "blockReason");
	if (block && (ch = acc_choice(a, 0)))
		acc_set(a, &ch->finish, block);
	usage_gemini(a, get(o, "usageMetadata"));
	acc_error_from(a, o);
}
