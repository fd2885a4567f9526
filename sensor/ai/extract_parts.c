// SPDX-License-Identifier: MIT
/*
 * Content parts of a message: OpenAI content parts, Anthropic content
 * blocks, Gemini parts; text joined, images counted, tool calls and
 * results collected.  Requests use them for messages, responses for
 * content given as an array.  See extract_priv.h.
 */
#include <stdlib.h>
#include <string.h>

#include "event/jsonb.h"
#include "ai/extract_priv.h"

void parts_call(struct parts *pt, const char *id, const char *name,
		const cJSON *args)
{
	cJSON *c = NULL;
	char *a;

	if (pt->skip_calls || !xlimit_take(pt->lim))
		return;
	a = args ? json_text(args) : NULL;
	if (!pt->calls)
		pt->calls = cJSON_CreateArray();
	if (pt->calls)
		c = jsonb__push_obj(pt->calls);
	if (!c) {
		pt->oom = true;
		goto out;
	}
	if (!jsonb__add_text(c, "id", id) ||
	    !jsonb__add_text(c, "name", name) ||
	    !jsonb__add_static(c, "type", "function") ||
	    !jsonb__add_text(c, "arguments", a))
		pt->oom = true;
out:
	free(a);
}

static void parts_text(struct parts *pt, const char *s)
{
	pt->other++;
	if (s && !sbuf_join(&pt->text, "\n", s))
		pt->oom = true;
}

/* A tool result: its content is the message text. */
static void parts_result(struct parts *pt, const char *id, const char *name,
			 const cJSON *content)
{
	char *s;

	pt->tool_results++;
	if (!pt->tool_result_id)
		pt->tool_result_id = id;
	if (!pt->tool_result_name)
		pt->tool_result_name = name;
	if (cJSON_IsString(content) || cJSON_IsArray(content)) {
		int other = pt->other;

		parts_add(pt, content);
		pt->other = other;
	} else if (content) {
		s = json_text(content);
		if (!s || !sbuf_join(&pt->text, "\n", s))
			pt->oom = true;
		free(s);
	}
}

/* A Gemini part: {text} | {inlineData} | {functionCall} | ... */
static void parts_gemini(struct parts *pt, const cJSON *p)
{
	const cJSON *fc = get2(p, "functionCall", "function_call");
	const cJSON *fr = get2(p, "functionResponse", "function_response");

	if (cJSON_IsTrue(get(p, "thought")))
		return;
	if (gstr(p, "text"))
		parts_text(pt, gstr(p, "text"));
	else if (get2(p, "inlineData", "inline_data") ||
		 get2(p, "fileData", "file_data"))
		pt->images++;
	else if (fc)
		parts_call(pt, gstr(fc, "id"), gstr(fc, "name"),
			   get(fc, "args"));
	else if (fr)
		parts_result(pt, gstr(fr, "id"), gstr(fr, "name"),
			     get(fr, "response"));
}

/* One OpenAI content part or Anthropic content block. */
static void parts_one(struct parts *pt, const cJSON *p)
{
	const char *t = gstr(p, "type");

	if (cJSON_IsString(p)) {
		parts_text(pt, p->valuestring);
	} else if (!t) {
		parts_gemini(pt, p);
	} else if (streq(t, "text") || streq(t, "input_text") ||
		   streq(t, "output_text")) {
		parts_text(pt, gstr(p, "text"));
	} else if (streq(t, "refusal")) {
		parts_text(pt, gstr(p, "refusal"));
	} else if (streq(t, "image_url") || streq(t, "image") ||
		   streq(t, "input_image")) {
		pt->other++;
		pt->images++;
	} else if (streq(t, "tool_use") || streq(t, "server_tool_use")) {
		pt->other++;
		parts_call(pt, gstr(p, "id"), gstr(p, "name"), get(p, "input"));
	} else if (streq(t, "tool_result")) {
		parts_result(pt, gstr(p, "tool_use_id"), NULL,
			     get(p, "content"));
	} else if (streq(t, "thinking") || streq(t, "redacted_thinking")) {
		/* the model's own reasoning echoed back: not the prompt */
	} else {
		pt->other++;	/* audio, files, documents: no text */
		if (streq(t, "input_audio"))
			pt->audio++;
	}
}

void parts_add(struct parts *pt, const cJSON *content)
{
	const cJSON *p;

	if (cJSON_IsString(content)) {
		parts_text(pt, content->valuestring);
		return;
	}
	if (cJSON_IsObject(content)) {
		parts_one(pt, content);
		return;
	}
	cJSON_ArrayForEach(p, content)
		parts_one(pt, p);
}
