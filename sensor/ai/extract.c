// SPDX-License-Identifier: MIT
/*
 * Extraction of AI fields from request and response bodies.  See
 * extract.h for the formats followed and docs/events.md for the fields.
 *
 * Responses are folded into one accumulator (struct acc) whichever way
 * they arrive: a non-streamed body is handled like a stream of one
 * complete chunk, so the OpenAI, Anthropic, Responses and Gemini handlers
 * serve both paths, and acc_flush() alone writes the event fields.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "ai/extract.h"

/* Bounds against hostile bodies: more choices or calls are ignored. */
#define MAX_CHOICES	64
#define MAX_CALLS	256

/* ---- small helpers ---------------------------------------------------- */

static inline bool key_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/*
 * cJSON_GetObjectItemCaseSensitive for objects (the first member named
 * @key), NULL for anything else.  Bodies are looked up dozens of times
 * per object, with short keys: an inline comparison, tried only when the
 * first bytes match, costs less than a call to strcmp() per member.
 */
static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *c;

	if (!o || (o->type & 0xff) != cJSON_Object)
		return NULL;
	for (c = o->child; c; c = c->next) {
		if (c->string && c->string[0] == key[0] &&
		    key_eq(c->string, key))
			return c;
	}
	return NULL;
}

/*
 * get() for several names in one pass over @o: out[i] is the first member
 * named names[i] (NULL if none, or if @o is not an object).  For objects
 * looked at many times, such as each chunk of a stream.
 */
static void get_many(const cJSON *o, const char *const *names, size_t n,
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

static const char *str_of(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first of two spellings present (Gemini: camelCase, snake_case). */
static const cJSON *get2(const cJSON *o, const char *k1, const char *k2)
{
	const cJSON *v = get(o, k1);

	return v ? v : get(o, k2);
}

static const char *gstr(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/*
 * Adds @v (consumed; NULL: out of memory) as @key.  Every key here is a
 * string literal or in a static table, so it is not copied (cJSON's
 * "CS" variant).
 */
static bool add_item(cJSON *o, const char *key, cJSON *v)
{
	if (v && cJSON_AddItemToObjectCS(o, key, v))
		return true;
	cJSON_Delete(v);
	return false;
}

static cJSON *add_obj(cJSON *o, const char *key)
{
	cJSON *v = cJSON_CreateObject();

	return add_item(o, key, v) ? v : NULL;
}

static cJSON *add_arr(cJSON *o, const char *key)
{
	cJSON *v = cJSON_CreateArray();

	return add_item(o, key, v) ? v : NULL;
}

static bool add_bool(cJSON *o, const char *key, bool b)
{
	return add_item(o, key, cJSON_CreateBool(b));
}

/*
 * A string of static storage (a literal), added by reference: not
 * copied, and never freed (redact.c copies a reference it changes).
 */
static bool add_static(cJSON *o, const char *key, const char *s)
{
	return add_item(o, key, cJSON_CreateStringReference(s));
}

/* A string item holding a valid UTF-8 copy of @s; NULL: out of memory. */
static cJSON *text_item(const char *s)
{
	size_t n = strlen(s);
	char *clean, *copy;
	cJSON *v;

	if (!event__utf8_valid(s, n)) {
		clean = event__utf8_dup(s, n);
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

/* Adds a valid UTF-8 copy of @s; false when out of memory. */
static bool add_text(cJSON *o, const char *key, const char *s)
{
	return !s || add_item(o, key, text_item(s));
}

/*
 * add_text for a string of the request body being extracted, which is
 * freed right after: valid UTF-8 text moves over (the source is left
 * without it) rather than being copied.  A message's content is most of
 * a request.
 */
static bool add_text_moved(cJSON *o, const char *key, const cJSON *src)
{
	cJSON *from = (cJSON *)src, *v;
	char *s = from ? from->valuestring : NULL;

	if (!s || (from->type & cJSON_IsReference) ||
	    !event__utf8_valid(s, strlen(s)))
		return add_text(o, key, s);
	v = cJSON_CreateStringReference(s);
	if (!v)
		return false;
	v->type &= ~cJSON_IsReference;		/* owned: cJSON_Delete frees it */
	from->valuestring = NULL;
	return add_item(o, key, v);
}

/* A non-finite value is left out: JSON has no way to write it. */
static bool add_num(cJSON *o, const char *key, double v)
{
	if (!isfinite(v))
		return true;
	return add_item(o, key, cJSON_CreateNumber(v));
}

/*
 * A count as the schema has it: a non-negative integer that a double
 * holds exactly (at most 2^53).  Anything else in a body is not a count.
 */
static bool json_count(const cJSON *v, double *out)
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

/* A growing string. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static bool sbuf_add(struct sbuf *b, const char *s, size_t n)
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

static bool sbuf_str(struct sbuf *b, const char *s)
{
	return !s || sbuf_add(b, s, strlen(s));
}

/* Appends @s, preceded by @sep when @b is not empty. */
static bool sbuf_join(struct sbuf *b, const char *sep, const char *s)
{
	if (b->len && !sbuf_str(b, sep))
		return false;
	return sbuf_str(b, s);
}

static void sbuf_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Replaces data.model with {"id": @id}. */
static bool set_model(cJSON *data, const char *id)
{
	cJSON *m;

	cJSON_DeleteItemFromObjectCaseSensitive(data, "model");
	m = add_obj(data, "model");
	return m && add_text(m, "id", id);
}

static bool set_bool(cJSON *data, const char *key, bool v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(data, key);
	return add_bool(data, key, v);
}

/* JSON text of @v (tool arguments given as objects); malloc'd. */
static char *json_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	return cJSON_PrintUnformatted((cJSON *)v);
}

/* ---- finish reasons --------------------------------------------------- */

static const struct {
	const char *from, *to;
} finish_map[] = {
	{ "stop", "stop" }, { "end_turn", "stop" },
	{ "stop_sequence", "stop" }, { "STOP", "stop" },
	{ "completed", "stop" },
	{ "length", "length" }, { "max_tokens", "length" },
	{ "MAX_TOKENS", "length" }, { "max_output_tokens", "length" },
	{ "model_context_window_exceeded", "length" },
	{ "tool_calls", "tool_calls" }, { "function_call", "tool_calls" },
	{ "tool_use", "tool_calls" },
	{ "content_filter", "content_filter" }, { "refusal", "content_filter" },
	{ "SAFETY", "content_filter" }, { "RECITATION", "content_filter" },
	{ "BLOCKLIST", "content_filter" },
	{ "PROHIBITED_CONTENT", "content_filter" },
	{ "SPII", "content_filter" }, { "IMAGE_SAFETY", "content_filter" },
	{ "error", "error" }, { "failed", "error" },
	{ "MALFORMED_FUNCTION_CALL", "error" },
};

const char *extract__normalize_finish(const char *provider_reason)
{
	size_t i;

	if (!provider_reason)
		return "other";
	for (i = 0; i < sizeof(finish_map) / sizeof(finish_map[0]); i++) {
		if (strcmp(provider_reason, finish_map[i].from) == 0)
			return finish_map[i].to;
	}
	return "other";
}

bool extract__has_error(const cJSON *data)
{
	return cJSON_IsObject(get(data, "error"));
}

/* ---- requests: messages ----------------------------------------------- */

/* What the parts of one message's content add up to. */
struct parts {
	struct sbuf text;
	int images;
	int tool_results;
	int other;		/* text and other non-tool-result parts */
	const char *tool_result_id;
	const char *tool_result_name;
	cJSON *calls;		/* tool_use / functionCall parts, or NULL */
	bool oom;
};

static void parts_add(struct parts *pt, const cJSON *content);

static void parts_call(struct parts *pt, const char *id, const char *name,
		       const cJSON *args)
{
	cJSON *c;
	char *a = args ? json_text(args) : NULL;

	if (!pt->calls)
		pt->calls = cJSON_CreateArray();
	c = cJSON_CreateObject();
	if (!pt->calls || !c || !cJSON_AddItemToArray(pt->calls, c)) {
		cJSON_Delete(c);
		pt->oom = true;
		goto out;
	}
	if (!add_text(c, "id", id) || !add_text(c, "name", name) ||
	    !add_static(c, "type", "function") ||
	    !add_text(c, "arguments", a))
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
	}
}

static void parts_add(struct parts *pt, const cJSON *content)
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

/* OISP roles: system, user, assistant, tool, function (a literal). */
static const char *oisp_role(const char *role)
{
	static const char *const roles[] = {
		"system", "user", "assistant", "tool", "function",
	};
	size_t i;

	if (!role)
		return "user";
	if (streq(role, "developer"))
		return "system";
	if (streq(role, "model"))
		return "assistant";
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (streq(role, roles[i]))
			return roles[i];
	}
	return "user";
}

/* OpenAI assistant message tool_calls / function_call → parts calls. */
static void openai_msg_calls(struct parts *pt, const cJSON *m)
{
	const cJSON *tc, *fn;

	cJSON_ArrayForEach(tc, get(m, "tool_calls")) {
		fn = get(tc, "function");
		parts_call(pt, gstr(tc, "id"), gstr(fn, "name"),
			   get(fn, "arguments"));
	}
	fn = get(m, "function_call");
	if (cJSON_IsObject(fn))
		parts_call(pt, NULL, gstr(fn, "name"), get(fn, "arguments"));
}

/*
 * Appends one message {role, content, ...} to @arr.  @content is a string
 * (its text is moved, not copied: see add_text_moved) or an array of
 * parts; @m (may be NULL) is the source message, for name, tool_call_id
 * and OpenAI tool calls.
 */
static bool add_message(cJSON *arr, const char *role, const cJSON *content,
			const cJSON *m)
{
	struct parts pt = { 0 };
	cJSON *o = cJSON_CreateObject();
	bool ok = false;

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	/* A plain string is the text as it is: no joining buffer. */
	if (cJSON_IsString(content))
		pt.other++;
	else if (content)
		parts_add(&pt, content);
	if (m)
		openai_msg_calls(&pt, m);
	role = oisp_role(role);
	/* Anthropic and Gemini send tool results inside user turns. */
	if (pt.tool_results && !pt.other && !streq(role, "assistant"))
		role = "tool";
	if (pt.oom || !add_static(o, "role", role))
		goto out;
	if (cJSON_IsString(content)) {
		if (!add_text_moved(o, "content", content))
			goto out;
	} else if (pt.text.p && !add_text(o, "content", pt.text.p)) {
		goto out;
	}
	if (!add_text(o, "name", gstr(m, "name") ?: pt.tool_result_name) ||
	    !add_text(o, "tool_call_id",
		      gstr(m, "tool_call_id") ?: pt.tool_result_id))
		goto out;
	if (pt.calls) {
		cJSON_AddItemToObjectCS(o, "tool_calls", pt.calls);
		pt.calls = NULL;
	}
	if (pt.images && (!add_bool(o, "has_images", true) ||
			  !add_num(o, "image_count", pt.images)))
		goto out;
	ok = true;
out:
	cJSON_Delete(pt.calls);
	sbuf_free(&pt.text);
	return ok;
}

/* Anthropic "system", Responses "instructions", Gemini systemInstruction. */
static bool req_system(const cJSON *root, cJSON *msgs)
{
	const cJSON *s = get(root, "system");

	if (!s)
		s = get(root, "instructions");
	if (!s) {
		s = get2(root, "systemInstruction", "system_instruction");
		if (cJSON_IsObject(s))
			s = get(s, "parts");
	}
	if (!cJSON_IsString(s) && !cJSON_IsArray(s))
		return true;
	return add_message(msgs, "system", s, NULL);
}

/* Chat Completions and Anthropic Messages: [{role, content, ...}]. */
static bool req_chat(const cJSON *list, cJSON *msgs)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, list) {
		if (!add_message(msgs, gstr(m, "role"), get(m, "content"), m))
			return false;
	}
	return true;
}

/* Gemini contents: [{role: user|model|function, parts: [...]}]. */
static bool req_gemini(const cJSON *list, cJSON *msgs)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, list) {
		if (!add_message(msgs, gstr(c, "role"), get(c, "parts"), NULL))
			return false;
	}
	return true;
}

/* A Responses function_call item becomes an assistant message. */
static bool resp_item_call(cJSON *msgs, const cJSON *it)
{
	struct parts pt = { 0 };
	cJSON *o;

	parts_call(&pt, gstr(it, "call_id"), gstr(it, "name"),
		   get(it, "arguments"));
	o = cJSON_CreateObject();
	if (pt.oom || !o || !cJSON_AddItemToArray(msgs, o)) {
		cJSON_Delete(o);
		cJSON_Delete(pt.calls);
		return false;
	}
	cJSON_AddItemToObjectCS(o, "tool_calls", pt.calls);
	return add_static(o, "role", "assistant");
}

/* Responses API input: a string or a list of items. */
static bool req_responses(const cJSON *input, cJSON *msgs)
{
	const cJSON *it, *out;
	const char *t;
	cJSON *o;

	if (cJSON_IsString(input))
		return add_message(msgs, "user", input, NULL);
	cJSON_ArrayForEach(it, input) {
		t = gstr(it, "type");
		if (gstr(it, "role")) {
			if (!add_message(msgs, gstr(it, "role"),
					 get(it, "content"), NULL))
				return false;
		} else if (streq(t, "function_call")) {
			if (!resp_item_call(msgs, it))
				return false;
		} else if (streq(t, "function_call_output")) {
			out = get(it, "output");
			if (!add_message(msgs, "tool", out, NULL))
				return false;
			o = cJSON_GetArrayItem(msgs,
					       cJSON_GetArraySize(msgs) - 1);
			if (!add_text(o, "tool_call_id", gstr(it, "call_id")))
				return false;
		}
		/* reasoning, item_reference, built-in tool calls: skipped */
	}
	return true;
}

/* Embeddings "input" / Completions "prompt": string(s) or token arrays. */
static bool req_inputs(const cJSON *in, cJSON *msgs, cJSON *data)
{
	const cJSON *v;
	int n = 0;

	if (cJSON_IsString(in)) {
		n = 1;
		if (!add_message(msgs, "user", in, NULL))
			return false;
	} else if (cJSON_IsArray(in)) {
		/* A flat array of numbers is one tokenised input. */
		v = cJSON_GetArrayItem(in, 0);
		n = cJSON_IsNumber(v) ? 1 : cJSON_GetArraySize(in);
		cJSON_ArrayForEach(v, in) {
			if (cJSON_IsString(v) &&
			    !add_message(msgs, "user", v, NULL))
				return false;
		}
	}
	return add_num(data, "input_count", n);
}

static bool req_messages(const char *api, const cJSON *root, cJSON *data)
{
	cJSON *msgs = cJSON_CreateArray();
	const cJSON *m;
	bool sys = false, ok;

	if (!msgs || !cJSON_AddItemToObjectCS(data, "messages", msgs)) {
		cJSON_Delete(msgs);
		return false;
	}
	ok = req_system(root, msgs);
	if (!ok)
		return false;
	if (get(root, "messages"))
		ok = req_chat(get(root, "messages"), msgs);
	else if (get(root, "contents"))
		ok = req_gemini(get(root, "contents"), msgs);
	else if (get(root, "prompt"))
		ok = req_inputs(get(root, "prompt"), msgs, data);
	else if (get(root, "input") && streq(api, "openai.embeddings"))
		ok = req_inputs(get(root, "input"), msgs, data);
	else if (get(root, "input"))
		ok = req_responses(get(root, "input"), msgs);
	if (!ok)
		return false;
	cJSON_ArrayForEach(m, msgs)
		sys = sys || streq(gstr(m, "role"), "system");
	return add_num(data, "messages_count", cJSON_GetArraySize(msgs)) &&
	       add_bool(data, "has_system_prompt", sys);
}

/* ---- requests: tools, tool choice, parameters -------------------------- */

/* @type is a literal (one of OISP's tool types). */
static bool add_tool(cJSON *arr, const char *name, const char *type,
		     const char *desc)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	return add_text(o, "name", name) && add_static(o, "type", type) &&
	       add_text(o, "description", desc);
}

/* OISP tool types: function, code_interpreter, file_search, computer_use, other. */
static const char *tool_type(const char *t)
{
	if (!t || streq(t, "function") || streq(t, "custom"))
		return "function";
	if (streq(t, "code_interpreter") ||
	    strncmp(t, "code_execution", 14) == 0)
		return "code_interpreter";
	if (streq(t, "file_search"))
		return "file_search";
	if (strncmp(t, "computer", 8) == 0)
		return "computer_use";
	return "other";
}

/* Gemini: {functionDeclarations: [...]}, {codeExecution: {}}, ... */
static bool tools_gemini(cJSON *arr, const cJSON *t)
{
	const cJSON *f, *k;

	/* An array's items have no names (k->string is NULL). */
	if (!cJSON_IsObject(t))
		return true;
	cJSON_ArrayForEach(f, get2(t, "functionDeclarations",
				   "function_declarations")) {
		if (!add_tool(arr, gstr(f, "name"), "function",
			      gstr(f, "description")))
			return false;
	}
	cJSON_ArrayForEach(k, t) {
		if (streq(k->string, "functionDeclarations") ||
		    streq(k->string, "function_declarations"))
			continue;
		if (!add_tool(arr, k->string,
			      strstr(k->string, "ode") ? "code_interpreter"
						       : "other", NULL))
			return false;
	}
	return true;
}

static bool req_tools(const cJSON *root, cJSON *data)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *t, *fn;
	const char *type;
	bool ok = true;

	if (!arr || !cJSON_AddItemToObjectCS(data, "tools", arr)) {
		cJSON_Delete(arr);
		return false;
	}
	cJSON_ArrayForEach(t, get(root, "tools")) {
		type = gstr(t, "type");
		fn = get(t, "function");
		if (cJSON_IsObject(fn))		/* Chat Completions */
			ok = add_tool(arr, gstr(fn, "name"), "function",
				      gstr(fn, "description"));
		else if (!type && !gstr(t, "name"))	/* Gemini */
			ok = tools_gemini(arr, t);
		else		/* Anthropic, Responses, built-in tools */
			ok = add_tool(arr, gstr(t, "name") ?: type,
				      tool_type(type), gstr(t, "description"));
		if (!ok)
			return false;
	}
	cJSON_ArrayForEach(t, get(root, "functions")) {	/* legacy OpenAI */
		if (!add_tool(arr, gstr(t, "name"), "function",
			      gstr(t, "description")))
			return false;
	}
	if (!cJSON_GetArraySize(arr)) {
		cJSON_DeleteItemFromObjectCaseSensitive(data, "tools");
		return true;
	}
	return add_num(data, "tools_count", cJSON_GetArraySize(arr));
}

static const char *choice_word(const char *s)
{
	if (streq(s, "auto") || streq(s, "AUTO") || streq(s, "VALIDATED"))
		return "auto";
	if (streq(s, "none") || streq(s, "NONE"))
		return "none";
	if (streq(s, "required") || streq(s, "any") || streq(s, "ANY"))
		return "required";
	return s ? "specific" : NULL;
}

/*
 * OpenAI: "auto"|"none"|"required" or {type:"function",...}; Anthropic:
 * {type: auto|any|tool|none}; Gemini: toolConfig.functionCallingConfig.mode.
 */
static bool req_tool_choice(const cJSON *root, cJSON *data)
{
	const cJSON *tc = get(root, "tool_choice");
	const char *c = NULL;

	if (!tc)
		tc = get(root, "function_call");
	if (cJSON_IsString(tc)) {
		c = choice_word(tc->valuestring);
	} else if (cJSON_IsObject(tc)) {
		c = gstr(tc, "type");
		if (streq(c, "allowed_tools"))
			c = gstr(tc, "mode");
		c = choice_word(c ? c : "specific");
	} else {
		tc = get2(root, "toolConfig", "tool_config");
		tc = get2(tc, "functionCallingConfig",
			  "function_calling_config");
		c = choice_word(gstr(tc, "mode"));
	}
	return !c || add_static(data, "tool_choice", c);
}

struct param {
	const char *from;
	const char *to;
	bool integer;
};

static const struct param params[] = {
	{ "temperature", "temperature", false },
	{ "top_p", "top_p", false }, { "topP", "top_p", false },
	{ "top_k", "top_k", true }, { "topK", "top_k", true },
	{ "max_tokens", "max_tokens", true },
	{ "max_completion_tokens", "max_tokens", true },
	{ "max_output_tokens", "max_tokens", true },
	{ "maxOutputTokens", "max_tokens", true },
	{ "frequency_penalty", "frequency_penalty", false },
	{ "frequencyPenalty", "frequency_penalty", false },
	{ "presence_penalty", "presence_penalty", false },
	{ "presencePenalty", "presence_penalty", false },
	{ "seed", "seed", true },
	{ "n", "n", true }, { "candidateCount", "n", true },
	{ "candidate_count", "n", true },
	{ "dimensions", "dimensions", true },
};

/* Appends a valid UTF-8 copy of @s to the array @arr. */
static bool arr_add_text(cJSON *arr, const char *s)
{
	cJSON *v = text_item(s);

	if (!v || !cJSON_AddItemToArray(arr, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}

/* "stop" is a string or a list of strings; always written as a list. */
static bool param_stop(cJSON *p, const cJSON *v)
{
	const cJSON *s;
	cJSON *arr;

	if (!cJSON_IsString(v) && !cJSON_IsArray(v))
		return true;
	cJSON_DeleteItemFromObjectCaseSensitive(p, "stop");
	arr = add_arr(p, "stop");
	if (!arr)
		return false;
	if (cJSON_IsString(v))
		return arr_add_text(arr, v->valuestring);
	cJSON_ArrayForEach(s, v) {
		if (cJSON_IsString(s) && !arr_add_text(arr, s->valuestring))
			return false;
	}
	return true;
}

/* Copies the known sampling parameters of @src into @p. */
static bool params_from(cJSON *p, const cJSON *src)
{
	const cJSON *v;
	double d = 0;
	size_t i;

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		v = get(src, params[i].from);
		if (!cJSON_IsNumber(v))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(p, params[i].to);
		if (params[i].integer && !json_count(v, &d))
			continue;
		if (!add_num(p, params[i].to, params[i].integer ?
			     d : v->valuedouble))
			return false;
	}
	v = get(src, "stop");
	if (!v)
		v = get2(src, "stop_sequences", "stopSequences");
	if (!param_stop(p, v))
		return false;
	v = get(get(src, "reasoning"), "effort");
	if (!cJSON_IsString(v))
		v = get(src, "reasoning_effort");
	if (cJSON_IsString(v) && !add_text(p, "reasoning_effort",
					   v->valuestring))
		return false;
	return add_text(p, "encoding_format", gstr(src, "encoding_format"));
}

static bool req_params(const cJSON *root, cJSON *data)
{
	cJSON *p = cJSON_CreateObject();

	if (!p || !cJSON_AddItemToObjectCS(data, "parameters", p)) {
		cJSON_Delete(p);
		return false;
	}
	if (!params_from(p, root) ||
	    !params_from(p, get2(root, "generationConfig",
				 "generation_config")))
		return false;
	if (!p->child)
		cJSON_DeleteItemFromObjectCaseSensitive(data, "parameters");
	return true;
}

int extract__request(const char *api, const char *body, size_t len,
		     cJSON *data)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *stream;
	int err = -ENOMEM;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	if (gstr(root, "model") && !set_model(data, gstr(root, "model")))
		goto out;
	stream = get(root, "stream");
	if ((stream || !get(root, "contents")) &&
	    !set_bool(data, "streaming", cJSON_IsTrue(stream)))
		goto out;
	if (!req_messages(api, root, data) || !req_tools(root, data) ||
	    !req_tool_choice(root, data) || !req_params(root, data))
		goto out;
	err = 0;
out:
	cJSON_Delete(root);
	return err;
}

int extract__request_path(const char *api, const char *path, cJSON *data)
{
	size_t end = strcspn(path, "?#");
	const char *m = NULL, *p, *colon;
	char *model;
	bool ok;

	for (p = path; (p = strstr(p, "models/")) && (size_t)(p - path) < end;
	     p += 7)
		m = p + 7;
	if (!m)
		return -ENOENT;
	colon = memchr(m, ':', end - (size_t)(m - path));
	if (!colon || colon == m || memchr(m, '/', (size_t)(colon - m)))
		return -ENOENT;
	p = colon + 1;
	if (!((size_t)(end - (size_t)(p - path)) == 15 &&
	      strncmp(p, "generateContent", 15) == 0) &&
	    !((size_t)(end - (size_t)(p - path)) == 21 &&
	      strncmp(p, "streamGenerateContent", 21) == 0))
		return -ENOENT;
	model = strndup(m, (size_t)(colon - m));
	if (!model)
		return -ENOMEM;
	ok = set_model(data, model) &&
	     set_bool(data, "streaming", *p == 's');
	free(model);
	return ok ? 0 : -ENOMEM;
}

/* ---- responses: the accumulator ---------------------------------------- */

struct tcall {
	int key;		/* tool index / output_index / block index */
	char *id, *name, *type;
	struct sbuf args;
};

struct choice {
	int index;
	bool has_text;
	struct sbuf text, refusal;
	char *finish;		/* as the provider sent it */
	struct tcall *calls;
	size_t n_calls;
};

enum usage_field {
	U_PROMPT, U_COMPLETION, U_TOTAL, U_CACHED, U_REASONING,
	U_CACHE_CREATION, U_MAX
};

static const char *const usage_names[U_MAX] = {
	"prompt_tokens", "completion_tokens", "total_tokens",
	"cached_tokens", "reasoning_tokens", "cache_creation_tokens",
};

struct acc {
	struct choice *ch;
	size_t n_ch;
	char *id, *model;
	double usage[U_MAX];
	bool have[U_MAX];
	bool anthropic_usage;	/* input_tokens excludes cache tokens */
	double anthropic_input;
	bool gemini_usage;	/* output excludes thoughts */
	double gemini_output;
	cJSON *error;
	int input_count, dimensions;	/* embeddings; -1: none */
	unsigned long outputs;	/* text deltas and calls seen */
	bool oom;
};

static void acc_init(struct acc *a)
{
	memset(a, 0, sizeof(*a));
	a->input_count = -1;
	a->dimensions = -1;
}

static void acc_free(struct acc *a)
{
	size_t i, j;

	for (i = 0; i < a->n_ch; i++) {
		struct choice *c = &a->ch[i];

		for (j = 0; j < c->n_calls; j++) {
			free(c->calls[j].id);
			free(c->calls[j].name);
			free(c->calls[j].type);
			sbuf_free(&c->calls[j].args);
		}
		free(c->calls);
		sbuf_free(&c->text);
		sbuf_free(&c->refusal);
		free(c->finish);
	}
	free(a->ch);
	free(a->id);
	free(a->model);
	cJSON_Delete(a->error);
}

/* Replaces *@dst with a copy of @s (if @s is set). */
static void acc_set(struct acc *a, char **dst, const char *s)
{
	char *d;

	if (!s)
		return;
	d = strdup(s);
	if (!d) {
		a->oom = true;
		return;
	}
	free(*dst);
	*dst = d;
}

/* Sets *@dst only when still unset: ids and models come first. */
static void acc_first(struct acc *a, char **dst, const char *s)
{
	if (!*dst && s && *s)
		acc_set(a, dst, s);
}

/* The choice with @index, created on first use; NULL past the bounds. */
static struct choice *acc_choice(struct acc *a, int index)
{
	struct choice *c;
	size_t i;

	for (i = 0; i < a->n_ch; i++) {
		if (a->ch[i].index == index)
			return &a->ch[i];
	}
	if (a->n_ch >= MAX_CHOICES || index < 0)
		return NULL;
	c = realloc(a->ch, (a->n_ch + 1) * sizeof(*c));
	if (!c) {
		a->oom = true;
		return NULL;
	}
	a->ch = c;
	c = &a->ch[a->n_ch++];
	memset(c, 0, sizeof(*c));
	c->index = index;
	return c;
}

/* Array index of @v if it is a number, @dflt otherwise. */
static int index_of(const cJSON *v, int dflt)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > 1e6)
		return dflt;
	return (int)v->valuedouble;
}

static void choice_text(struct acc *a, struct choice *c, const char *s)
{
	if (!c || !s)
		return;
	c->has_text = true;
	if (!*s)
		return;
	if (!sbuf_str(&c->text, s))
		a->oom = true;
	a->outputs++;
}

static void choice_refusal(struct acc *a, struct choice *c, const char *s)
{
	if (!c || !s || !*s)
		return;
	if (!sbuf_str(&c->refusal, s))
		a->oom = true;
	a->outputs++;
}

/* The call with @key in @c, created on first use (@key < 0: always new). */
static struct tcall *choice_call(struct acc *a, struct choice *c, int key)
{
	struct tcall *t;
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; key >= 0 && i < c->n_calls; i++) {
		if (c->calls[i].key == key)
			return &c->calls[i];
	}
	if (c->n_calls >= MAX_CALLS)
		return NULL;
	t = realloc(c->calls, (c->n_calls + 1) * sizeof(*t));
	if (!t) {
		a->oom = true;
		return NULL;
	}
	c->calls = t;
	t = &c->calls[c->n_calls++];
	memset(t, 0, sizeof(*t));
	t->key = key >= 0 ? key : (int)c->n_calls + 1000000;
	a->outputs++;
	return t;
}

static void call_args(struct acc *a, struct tcall *t, const cJSON *v)
{
	char *s;

	if (!t || !v || cJSON_IsNull(v))
		return;
	if (cJSON_IsString(v)) {
		if (!sbuf_str(&t->args, v->valuestring))
			a->oom = true;
		return;
	}
	s = json_text(v);
	if (!s || !sbuf_str(&t->args, s))
		a->oom = true;
	free(s);
}

/* Replaces the arguments (a "done" event repeats them whole). */
static void call_args_whole(struct acc *a, struct tcall *t, const char *s)
{
	if (!t || !s)
		return;
	t->args.len = 0;
	if (t->args.p)
		t->args.p[0] = '\0';
	if (!sbuf_str(&t->args, s))
		a->oom = true;
}

static void usage_set(struct acc *a, enum usage_field f, const cJSON *v)
{
	double d;

	if (!json_count(v, &d))
		return;
	a->usage[f] = d;
	a->have[f] = true;
}

/* OpenAI Chat Completions / Embeddings / Responses usage objects. */
static void usage_openai(struct acc *a, const cJSON *u)
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

/* error{type, message, code, param} from any provider's error object. */
static void acc_error(struct acc *a, const char *type, const char *msg,
		      const cJSON *code, const cJSON *param)
{
	/* NULL for a non-string, NaN for a non-number; NULL items too. */
	const char *code_str = cJSON_GetStringValue(code);
	const char *param_str = cJSON_GetStringValue(param);
	double code_num = cJSON_GetNumberValue(code);
	cJSON *e = cJSON_CreateObject();
	char num[32];
	bool ok;

	if (!e) {
		a->oom = true;
		return;
	}
	ok = add_text(e, "type", type ? type : "error") &&
	     add_text(e, "message", msg);
	if (code_str) {
		ok = ok && add_text(e, "code", code_str);
	} else if (isfinite(code_num) && fabs(code_num) < 1e15) {
		snprintf(num, sizeof(num), "%.0f", code_num);
		ok = ok && add_text(e, "code", num);
	}
	if (param_str)
		ok = ok && add_text(e, "param", param_str);
	if (!ok) {
		cJSON_Delete(e);
		a->oom = true;
		return;
	}
	cJSON_Delete(a->error);
	a->error = e;
}

/*
 * @e is {...} (OpenAI, Gemini, Responses' response.error) or "text"
 * (some OpenAI-compatible servers), an "error" member.  Gemini puts the
 * HTTP code in "code" and the kind in "status".  True if one was found.
 */
static bool error_value(struct acc *a, const cJSON *e)
{
	const char *type;

	if (cJSON_IsString(e)) {
		acc_error(a, "error", e->valuestring, NULL, NULL);
		return true;
	}
	if (!cJSON_IsObject(e))
		return false;
	type = gstr(e, "type") ?: gstr(e, "status");
	if (!type && cJSON_IsString(get(e, "code")))
		type = gstr(e, "code");
	acc_error(a, type, gstr(e, "message"), get(e, "code"),
		  get(e, "param"));
	return true;
}

/* error_value of @o's "error" member. */
static bool error_from(struct acc *a, const cJSON *o)
{
	return error_value(a, get(o, "error"));
}

/* ---- responses: per provider ------------------------------------------- */

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

/* The members of a body object that acc_feed() and openai_chunk() read. */
enum top_member {
	T_TYPE, T_OBJECT, T_OUTPUT, T_CANDIDATES, T_USAGE_METADATA,
	T_PROMPT_FEEDBACK, T_DATA, T_ID, T_MODEL, T_CHOICES, T_USAGE, T_ERROR,
	T_MAX
};

static const char *const top_names[T_MAX] = {
	"type", "object", "output", "candidates", "usageMetadata",
	"promptFeedback", "data", "id", "model", "choices", "usage", "error",
};

enum choice_member { C_INDEX, C_MESSAGE, C_DELTA, C_TEXT, C_FINISH, C_MAX };

static const char *const choice_names[C_MAX] = {
	"index", "message", "delta", "text", "finish_reason",
};

/*
 * A Chat Completions object or chunk, or a legacy Completions one:
 * choices[].message (whole) or choices[].delta (streamed) or .text.
 * @t holds its members (get_many with top_names).
 */
static void openai_chunk(struct acc *a, const cJSON *const *t)
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
			struct parts pt = { 0 };

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
	error_value(a, t[T_ERROR]);
}

/* OpenAI embeddings list: counts, never the vectors. */
static void openai_embeddings(struct acc *a, const cJSON *o)
{
	const cJSON *d = get(o, "data");
	const cJSON *e = get(cJSON_GetArrayItem(d, 0), "embedding");

	acc_first(a, &a->model, gstr(o, "model"));
	a->input_count = cJSON_GetArraySize(d);
	if (cJSON_IsArray(e))
		a->dimensions = cJSON_GetArraySize(e);
	usage_openai(a, get(o, "usage"));
}

/* Anthropic content blocks of a whole message. */
static void anthropic_message(struct acc *a, const cJSON *m)
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
static void anthropic_event(struct acc *a, const char *t, const cJSON *o)
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
		acc_error(a, gstr(d, "type"), gstr(d, "message"), NULL, NULL);
	}
}

/* Responses API output items (whole): messages, function and built-in calls. */
static void responses_output(struct acc *a, const cJSON *out)
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
					choice_text(a, ch, gstr(p, "text"));
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
static void responses_object(struct acc *a, const cJSON *r, bool take_output)
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
	error_from(a, r);
}

/* One Responses API streaming event (its "type" is @t). */
static void responses_event(struct acc *a, const char *t, const cJSON *o)
{
	struct choice *ch = acc_choice(a, 0);
	const cJSON *it = get(o, "item");
	int oi = index_of(get(o, "output_index"), 0);
	struct tcall *c;

	if (streq(t, "response.output_text.delta")) {
		choice_text(a, ch, gstr(o, "delta"));
	} else if (streq(t, "response.refusal.delta")) {
		choice_refusal(a, ch, gstr(o, "delta"));
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
	} else if (streq(t, "response.function_call_arguments.delta")) {
		call_args(a, choice_call(a, ch, oi), get(o, "delta"));
	} else if (streq(t, "response.function_call_arguments.done")) {
		call_args_whole(a, choice_call(a, ch, oi),
				gstr(o, "arguments"));
	} else if (strncmp(t, "response.", 9) == 0 &&
		   cJSON_IsObject(get(o, "response"))) {
		/* created, in_progress, completed, incomplete, failed */
		responses_object(a, get(o, "response"), a->outputs == 0);
	}
}

/* A Gemini GenerateContentResponse (whole, or one streamed chunk). */
static void gemini_chunk(struct acc *a, const cJSON *o)
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
	error_from(a, o);
}

/*
 * Routes one parsed JSON object (a whole body or one event's data) by its
 * shape; @event is the SSE event name, if any.
 */
static void acc_feed(struct acc *a, const char *api, const char *event,
		     const cJSON *o)
{
	const cJSON *m[T_MAX];
	const char *t, *obj;

	if (!cJSON_IsObject(o))
		return;
	get_many(o, top_names, T_MAX, m);
	t = str_of(m[T_TYPE]);
	obj = str_of(m[T_OBJECT]);
	/* Anthropic's error event goes first, the generic error after it. */
	/* NOLINTNEXTLINE(bugprone-branch-clone) */
	if (streq(t, "error") && m[T_ERROR]) {			/* Anthropic */
		anthropic_event(a, t, o);
	} else if (streq(t, "error") || streq(event, "error")) {
		if (!error_from(a, o))				/* Responses */
			acc_error(a, gstr(o, "code") ?: "error",
				  gstr(o, "message"), get(o, "code"),
				  get(o, "param"));
	} else if (t && strncmp(t, "response.", 9) == 0) {
		responses_event(a, t, o);
	} else if (streq(t, "message")) {
		anthropic_message(a, o);
	} else if (t && (strncmp(t, "message_", 8) == 0 ||
			 strncmp(t, "content_block_", 14) == 0 ||
			 streq(t, "ping"))) {
		anthropic_event(a, t, o);
	} else if (streq(obj, "response") || cJSON_IsArray(m[T_OUTPUT])) {
		responses_object(a, o, true);
	} else if (m[T_CANDIDATES] || m[T_USAGE_METADATA] ||
		   m[T_PROMPT_FEEDBACK]) {
		gemini_chunk(a, o);
	} else if (streq(obj, "list") && cJSON_IsArray(m[T_DATA])) {
		openai_embeddings(a, o);
	} else {
		openai_chunk(a, m);
	}
	(void)api;
}

/* ---- responses: writing the fields ------------------------------------- */

static void usage_finish(struct acc *a)
{
	if (a->anthropic_usage && a->have[U_PROMPT])
		a->usage[U_PROMPT] = a->anthropic_input + a->usage[U_CACHED] +
				     a->usage[U_CACHE_CREATION];
	if (a->gemini_usage && a->have[U_COMPLETION])
		a->usage[U_COMPLETION] = a->gemini_output +
					 a->usage[U_REASONING];
	if (!a->have[U_TOTAL] && a->have[U_PROMPT]) {
		a->usage[U_TOTAL] = a->usage[U_PROMPT] + a->usage[U_COMPLETION];
		a->have[U_TOTAL] = true;
	}
}

static bool flush_usage(struct acc *a, cJSON *data)
{
	cJSON *u;
	int i;

	usage_finish(a);
	for (i = 0; i < U_MAX && !a->have[i]; i++)
		;
	if (i == U_MAX)
		return true;
	u = add_obj(data, "usage");
	if (!u)
		return false;
	for (i = 0; i < U_MAX; i++) {
		if (a->have[i] && !add_num(u, usage_names[i], a->usage[i]))
			return false;
	}
	return true;
}

static cJSON *call_json(const struct tcall *t)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (!add_text(o, "id", t->id) || !add_text(o, "name", t->name) ||
	    !add_text(o, "type", t->type ? t->type : "function") ||
	    !add_text(o, "arguments", t->args.p ? t->args.p : "")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int cmp_choice(const void *x, const void *y)
{
	const struct choice *a = x, *b = y;

	return (a->index > b->index) - (a->index < b->index);
}

/* The normalised finish reason of @c: "stop" with tool calls is tool_calls. */
static const char *choice_finish(const struct choice *c)
{
	const char *f = extract__normalize_finish(c->finish);

	if (streq(f, "stop") && c->n_calls)
		return "tool_calls";
	return f;
}

static bool flush_choice(const struct choice *c, cJSON *choices,
			 cJSON *all_calls)
{
	cJSON *o = cJSON_CreateObject(), *m, *calls = NULL;
	size_t j;

	if (!o || !cJSON_AddItemToArray(choices, o)) {
		cJSON_Delete(o);
		return false;
	}
	m = add_obj(o, "message");
	if (!add_num(o, "index", c->index) || !m ||
	    !add_static(m, "role", "assistant"))
		return false;
	if ((c->has_text || !c->n_calls) &&
	    !add_text(m, "content", c->text.p ? c->text.p : ""))
		return false;
	if (!add_text(m, "refusal", c->refusal.p))
		return false;
	if (c->n_calls && !(calls = add_arr(m, "tool_calls")))
		return false;
	for (j = 0; j < c->n_calls; j++) {
		if (!cJSON_AddItemToArray(calls, call_json(&c->calls[j])) ||
		    !cJSON_AddItemToArray(all_calls, call_json(&c->calls[j])))
			return false;
	}
	if (c->finish && (!add_static(o, "finish_reason", choice_finish(c)) ||
			  !add_text(o, "provider_finish_reason", c->finish)))
		return false;
	return true;
}

static bool flush_choices(struct acc *a, cJSON *data)
{
	cJSON *choices, *calls;
	size_t i;

	if (!a->n_ch)
		return true;
	qsort(a->ch, a->n_ch, sizeof(*a->ch), cmp_choice);
	choices = add_arr(data, "choices");
	calls = cJSON_CreateArray();
	if (!choices || !calls)
		goto err;
	for (i = 0; i < a->n_ch; i++) {
		if (!flush_choice(&a->ch[i], choices, calls))
			goto err;
	}
	if (cJSON_GetArraySize(calls)) {
		if (!add_num(data, "tool_calls_count",
			     cJSON_GetArraySize(calls)))
			goto err;
		cJSON_AddItemToObjectCS(data, "tool_calls", calls);
	} else {
		cJSON_Delete(calls);
	}
	if (a->ch[0].finish)
		return add_static(data, "finish_reason",
				  choice_finish(&a->ch[0])) &&
		       add_text(data, "provider_finish_reason",
				a->ch[0].finish);
	return true;
err:
	cJSON_Delete(calls);
	return false;
}

static int acc_flush(struct acc *a, cJSON *data)
{
	if (a->oom)
		return -ENOMEM;
	if (!add_text(data, "provider_request_id", a->id) ||
	    (a->model && !set_model(data, a->model)) ||
	    !flush_choices(a, data) || !flush_usage(a, data))
		return -ENOMEM;
	if (a->input_count >= 0 && !add_num(data, "input_count",
					    a->input_count))
		return -ENOMEM;
	if (a->dimensions >= 0 && !add_num(data, "dimensions", a->dimensions))
		return -ENOMEM;
	if (a->error) {
		cJSON_AddItemToObjectCS(data, "error", a->error);
		a->error = NULL;
		if (!cJSON_HasObjectItem(data, "finish_reason") &&
		    !add_static(data, "finish_reason", "error"))
			return -ENOMEM;
	}
	return 0;
}

int extract__response(const char *api, const char *body, size_t len,
		      cJSON *data)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *o;
	struct acc a;
	int err;

	if (!cJSON_IsObject(root) && !cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	acc_init(&a);
	if (cJSON_IsArray(root)) {
		cJSON_ArrayForEach(o, root)
			acc_feed(&a, api, NULL, o);
	} else {
		/* Anthropic errors carry the request id beside the error. */
		acc_first(&a, &a.id, gstr(root, "request_id"));
		acc_feed(&a, api, NULL, root);
	}
	err = acc_flush(&a, data);
	acc_free(&a);
	cJSON_Delete(root);
	return err;
}

int extract__response_stream(const char *api, const struct extract_event *ev,
			     size_t n, cJSON *data, size_t *first_token_idx)
{
	size_t i, first = n;
	unsigned long before;
	struct acc a;
	cJSON *o;
	int err;

	acc_init(&a);
	for (i = 0; i < n; i++) {
		if (!ev[i].data || strcmp(ev[i].data, "[DONE]") == 0)
			continue;
		o = cJSON_Parse(ev[i].data);
		if (!o) {
			if (streq(ev[i].event, "error"))
				acc_error(&a, "stream_error", ev[i].data,
					  NULL, NULL);
			continue;
		}
		before = a.outputs;
		acc_feed(&a, api, ev[i].event, o);
		cJSON_Delete(o);
		if (a.outputs != before && first == n)
			first = i;
	}
	err = acc_flush(&a, data);
	acc_free(&a);
	if (first_token_idx)
		*first_token_idx = first;
	return err;
}
