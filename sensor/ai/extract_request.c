// SPDX-License-Identifier: MIT
/*
 * Requests: messages, tools, tool_choice, parameters (extract__request)
 * and the Gemini request path.  See extract.h for the formats followed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event/jsonb.h"
#include "ai/extract.h"
#include "ai/extract_priv.h"

/*
 * One request's extraction: its bounds (extract.h, "Bounds") and the
 * source elements they left out of each counted list.
 */
struct req {
	struct xlimit lim;
	size_t msgs_skipped;
	size_t tools_skipped;
};

/* Room for one more element of a counted list; counts it if not. */
static bool room(struct req *r, size_t *skipped)
{
	if (xlimit_take(&r->lim))
		return true;
	(*skipped)++;
	return false;
}

/* ---- messages --------------------------------------------------------- */

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
 * Appends one message {role, content, ...} to @arr, room() for it having
 * been taken.  @content is a string (its text is moved, not copied: see
 * add_text_moved) or an array of parts; @m (may be NULL) is the source
 * message, for name, tool_call_id and OpenAI tool calls.  Returns the
 * message, NULL when out of memory.
 */
static cJSON *add_message(struct req *r, cJSON *arr, const char *role,
			  const cJSON *content, const cJSON *m)
{
	struct parts pt = { .lim = &r->lim };
	cJSON *o = jsonb__push_obj(arr);
	bool ok = false;

	if (!o)
		return NULL;
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
	if (pt.oom || !jsonb__add_static(o, "role", role))
		goto out;
	if (cJSON_IsString(content)) {
		/* The body's tree is freed right after extraction. */
		if (!jsonb__add_text_moved(o, "content", (cJSON *)content))
			goto out;
	} else if (pt.text.p && !jsonb__add_text(o, "content", pt.text.p)) {
		goto out;
	}
	if (!jsonb__add_text(o, "name",
			     gstr(m, "name") ?: pt.tool_result_name) ||
	    !jsonb__add_text(o, "tool_call_id",
			     gstr(m, "tool_call_id") ?: pt.tool_result_id))
		goto out;
	if (pt.calls) {
		cJSON_AddItemToObjectCS(o, "tool_calls", pt.calls);
		pt.calls = NULL;
	}
	if (pt.audio && !jsonb__add_bool(o, "has_audio", true))
		goto out;
	if (pt.images && (!jsonb__add_bool(o, "has_images", true) ||
			  !jsonb__add_num(o, "image_count", pt.images)))
		goto out;
	ok = true;
out:
	cJSON_Delete(pt.calls);
	sbuf_free(&pt.text);
	return ok ? o : NULL;
}

/* Anthropic "system", Responses "instructions", Gemini systemInstruction. */
static bool req_system(struct req *r, const cJSON *root, cJSON *msgs)
{
	const cJSON *s = get(root, "system");

	if (!s)
		s = get(root, "instructions");
	if (!s) {
		s = get2(root, "systemInstruction", "system_instruction");
		if (cJSON_IsObject(s))
			s = get(s, "parts");
	}
	if ((!cJSON_IsString(s) && !cJSON_IsArray(s)) ||
	    !room(r, &r->msgs_skipped))
		return true;
	return add_message(r, msgs, "system", s, NULL);
}

/* Chat Completions and Anthropic Messages: [{role, content, ...}]. */
static bool req_chat(struct req *r, const cJSON *list, cJSON *msgs)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, list) {
		if (room(r, &r->msgs_skipped) &&
		    !add_message(r, msgs, gstr(m, "role"), get(m, "content"),
				 m))
			return false;
	}
	return true;
}

/* Gemini contents: [{role: user|model|function, parts: [...]}]. */
static bool req_gemini(struct req *r, const cJSON *list, cJSON *msgs)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, list) {
		if (room(r, &r->msgs_skipped) &&
		    !add_message(r, msgs, gstr(c, "role"), get(c, "parts"),
				 NULL))
			return false;
	}
	return true;
}

/* A Responses function_call item becomes an assistant message. */
static bool resp_item_call(struct req *r, cJSON *msgs, const cJSON *it)
{
	struct parts pt = { .lim = &r->lim };
	cJSON *o;

	parts_call(&pt, gstr(it, "call_id"), gstr(it, "name"),
		   get(it, "arguments"));
	o = pt.oom ? NULL : jsonb__push_obj(msgs);
	if (!o) {
		cJSON_Delete(pt.calls);
		return false;
	}
	if (pt.calls)
		cJSON_AddItemToObjectCS(o, "tool_calls", pt.calls);
	return jsonb__add_static(o, "role", "assistant");
}

/*
 * Responses API input: a string or a list of items.  Each item costs
 * constant work beside its own size (the message just added is at hand,
 * never looked up by its index in @msgs).
 */
static bool req_responses(struct req *r, const cJSON *input, cJSON *msgs)
{
	const cJSON *it;
	const char *t;
	cJSON *o;

	if (cJSON_IsString(input))
		return !room(r, &r->msgs_skipped) ||
		       add_message(r, msgs, "user", input, NULL);
	cJSON_ArrayForEach(it, input) {
		t = gstr(it, "type");
		/* reasoning, item_reference, built-in tool calls: skipped */
		if (!gstr(it, "role") && !streq(t, "function_call") &&
		    !streq(t, "function_call_output"))
			continue;
		if (!room(r, &r->msgs_skipped))
			continue;
		if (gstr(it, "role")) {
			if (!add_message(r, msgs, gstr(it, "role"),
					 get(it, "content"), NULL))
				return false;
		} else if (streq(t, "function_call")) {
			if (!resp_item_call(r, msgs, it))
				return false;
		} else {
			o = add_message(r, msgs, "tool", get(it, "output"),
					NULL);
			if (!o || !jsonb__add_text(o, "tool_call_id",
						   gstr(it, "call_id")))
				return false;
		}
	}
	return true;
}

/* Embeddings "input" / Completions "prompt": string(s) or token arrays. */
static bool req_inputs(struct req *r, const cJSON *in, cJSON *msgs,
		       cJSON *data)
{
	const cJSON *v;
	int n = 0;

	if (cJSON_IsString(in)) {
		n = 1;
		if (room(r, &r->msgs_skipped) &&
		    !add_message(r, msgs, "user", in, NULL))
			return false;
	} else if (cJSON_IsArray(in)) {
		/* A flat array of numbers is one tokenised input. */
		v = in->child;
		n = cJSON_IsNumber(v) ? 1 : cJSON_GetArraySize(in);
		cJSON_ArrayForEach(v, in) {
			if (cJSON_IsString(v) && room(r, &r->msgs_skipped) &&
			    !add_message(r, msgs, "user", v, NULL))
				return false;
		}
	}
	return jsonb__add_num(data, "input_count", n);
}

/* messages_count is the source's count: the skipped messages too. */
static bool req_messages(struct req *r, const char *api, const cJSON *root,
			 cJSON *data)
{
	cJSON *msgs = jsonb__add_arr(data, "messages");
	const cJSON *m;
	bool sys = false, ok;

	if (!msgs)
		return false;
	ok = req_system(r, root, msgs);
	if (!ok)
		return false;
	if (get(root, "messages"))
		ok = req_chat(r, get(root, "messages"), msgs);
	else if (get(root, "contents"))
		ok = req_gemini(r, get(root, "contents"), msgs);
	else if (get(root, "prompt"))
		ok = req_inputs(r, get(root, "prompt"), msgs, data);
	else if (get(root, "input") && streq(api, "openai.embeddings"))
		ok = req_inputs(r, get(root, "input"), msgs, data);
	else if (get(root, "input"))
		ok = req_responses(r, get(root, "input"), msgs);
	if (!ok)
		return false;
	cJSON_ArrayForEach(m, msgs)
		sys = sys || streq(gstr(m, "role"), "system");
	return jsonb__add_num(data, "messages_count",
			      (double)cJSON_GetArraySize(msgs) +
			      (double)r->msgs_skipped) &&
	       jsonb__add_bool(data, "has_system_prompt", sys);
}

/* ---- tools, tool choice, parameters ------------------------------------ */

/*
 * @type is a literal (one of OISP's tool types).  Past the bound, the
 * tool is counted and left out.  Returns false when out of memory.
 */
static bool add_tool(struct req *r, cJSON *arr, const char *name,
		     const char *type, const char *desc)
{
	cJSON *o;

	if (!room(r, &r->tools_skipped))
		return true;
	o = jsonb__push_obj(arr);
	return o && jsonb__add_text(o, "name", name) &&
	       jsonb__add_static(o, "type", type) &&
	       jsonb__add_text(o, "description", desc);
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
static bool tools_gemini(struct req *r, cJSON *arr, const cJSON *t)
{
	const cJSON *f, *k;

	/* An array's items have no names (k->string is NULL). */
	if (!cJSON_IsObject(t))
		return true;
	cJSON_ArrayForEach(f, get2(t, "functionDeclarations",
				   "function_declarations")) {
		if (!add_tool(r, arr, gstr(f, "name"), "function",
			      gstr(f, "description")))
			return false;
	}
	cJSON_ArrayForEach(k, t) {
		if (streq(k->string, "functionDeclarations") ||
		    streq(k->string, "function_declarations"))
			continue;
		if (!add_tool(r, arr, k->string,
			      strstr(k->string, "ode") ? "code_interpreter"
						       : "other", NULL))
			return false;
	}
	return true;
}

/* tools_count is the source's count: the skipped tools too. */
static bool req_tools(struct req *r, const cJSON *root, cJSON *data)
{
	cJSON *arr = jsonb__add_arr(data, "tools");
	const cJSON *t, *fn;
	const char *type;
	bool ok = true;

	if (!arr)
		return false;
	cJSON_ArrayForEach(t, get(root, "tools")) {
		type = gstr(t, "type");
		fn = get(t, "function");
		if (cJSON_IsObject(fn))		/* Chat Completions */
			ok = add_tool(r, arr, gstr(fn, "name"), "function",
				      gstr(fn, "description"));
		else if (!type && !gstr(t, "name"))	/* Gemini */
			ok = tools_gemini(r, arr, t);
		else		/* Anthropic, Responses, built-in tools */
			ok = add_tool(r, arr, gstr(t, "name") ?: type,
				      tool_type(type), gstr(t, "description"));
		if (!ok)
			return false;
	}
	cJSON_ArrayForEach(t, get(root, "functions")) {	/* legacy OpenAI */
		if (!add_tool(r, arr, gstr(t, "name"), "function",
			      gstr(t, "description")))
			return false;
	}
	if (!arr->child && !r->tools_skipped) {
		cJSON_DeleteItemFromObjectCaseSensitive(data, "tools");
		return true;
	}
	return jsonb__add_num(data, "tools_count",
			      (double)cJSON_GetArraySize(arr) +
			      (double)r->tools_skipped);
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
	return !c || jsonb__add_static(data, "tool_choice", c);
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

/* "stop" is a string or a list of strings; always written as a list. */
static bool param_stop(struct req *r, cJSON *p, const cJSON *v)
{
	const cJSON *s;
	cJSON *arr;

	if (!cJSON_IsString(v) && !cJSON_IsArray(v))
		return true;
	cJSON_DeleteItemFromObjectCaseSensitive(p, "stop");
	arr = jsonb__add_arr(p, "stop");
	if (!arr)
		return false;
	if (cJSON_IsString(v))
		return jsonb__push_text(arr, v->valuestring);
	cJSON_ArrayForEach(s, v) {
		if (cJSON_IsString(s) && xlimit_take(&r->lim) &&
		    !jsonb__push_text(arr, s->valuestring))
			return false;
	}
	return true;
}

/* Copies the known sampling parameters of @src into @p. */
static bool params_from(struct req *r, cJSON *p, const cJSON *src)
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
		if (!jsonb__add_num(p, params[i].to, params[i].integer ?
			     d : v->valuedouble))
			return false;
	}
	v = get(src, "stop");
	if (!v)
		v = get2(src, "stop_sequences", "stopSequences");
	if (!param_stop(r, p, v))
		return false;
	v = get(get(src, "reasoning"), "effort");
	if (!cJSON_IsString(v))
		v = get(src, "reasoning_effort");
	if (cJSON_IsString(v) && !jsonb__add_text(p, "reasoning_effort",
					   v->valuestring))
		return false;
	return jsonb__add_text(p, "encoding_format",
			       gstr(src, "encoding_format"));
}

static bool req_params(struct req *r, const cJSON *root, cJSON *data)
{
	cJSON *p = jsonb__add_obj(data, "parameters");

	if (!p)
		return false;
	if (!params_from(r, p, root) ||
	    !params_from(r, p, get2(root, "generationConfig",
				 "generation_config")))
		return false;
	if (!p->child)
		cJSON_DeleteItemFromObjectCaseSensitive(data, "parameters");
	return true;
}

int extract__request(const char *api, const char *body, size_t len,
		     cJSON *data, struct ai_summary *sum)
{
	cJSON *root;
	int err;

	if (streq(api, "openai.realtime"))
		return realtime_request(body, len, data, sum);
	root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	err = request_root(api, root, data, sum);
	cJSON_Delete(root);
	return err;
}

int request_root(const char *api, const cJSON *root, cJSON *data,
		 struct ai_summary *sum)
{
	const cJSON *stream;
	int err = -ENOMEM;
	struct req r = { 0 };

	xlimit_init(&r.lim);
	if (gstr(root, "model") && !set_model(data, gstr(root, "model"), sum))
		goto out;
	stream = get(root, "stream");
	if ((stream || !get(root, "contents")) &&
	    !set_streaming(data, cJSON_IsTrue(stream), sum))
		goto out;
	if (!req_messages(&r, api, root, data) || !req_tools(&r, root, data) ||
	    !req_tool_choice(root, data) || !req_params(&r, root, data) ||
	    !xlimit_finish(&r.lim, data, sum))
		goto out;
	err = 0;
out:
	return err;
}

int extract__request_path(const char *api, const char *path, cJSON *data,
			  struct ai_summary *sum)
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
	ok = set_model(data, model, sum) &&
	     set_streaming(data, *p == 's', sum);
	free(model);
	return ok ? 0 : -ENOMEM;
}
