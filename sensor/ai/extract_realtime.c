// SPDX-License-Identifier: MIT
/*
 * OpenAI Realtime API (the client and server events of its reference),
 * in the form proto/wsmap.h hands it over.
 *
 * The request is a turn: {"model": NAME or null, "events": [...]} with
 * the server's latest session.created or session.updated (its model is
 * used when neither the URL nor the client named one), the latest
 * session.update, the conversation.item.create events since
 * the previous response and the response.create that asked for this
 * one.  It is read as the Responses API body it amounts to (model,
 * instructions, input items, tools, temperature, max output tokens) by
 * the Responses request extraction, so both APIs give the same fields.
 * The response is the server events up to response.done, whose
 * "response" object (id, status, status_details, output items, usage)
 * gives the reply: message content text and audio transcripts as text,
 * function_call items as tool calls.  A status other than "completed"
 * is an error (type: the status; message: the status details' reason or
 * error message), as the reply was not delivered whole.
 */
#include <errno.h>
#include <string.h>

#include "ai/extract.h"
#include "ai/extract_priv.h"
#include "event/jsonb.h"

/* Per-turn fields, later events replacing earlier ones. */
struct turn {
	const cJSON *instructions, *tools, *temperature, *max_tokens;
	const char *model;
	const char *srv_model;	/* the server's session.created/updated */
	bool audio;
};

/* Realtime's session / response settings (session.update, response.create). */
static void turn_settings(struct turn *t, const cJSON *s)
{
	const cJSON *v;

	if (!cJSON_IsObject(s))
		return;
	if ((v = get(s, "instructions")))
		t->instructions = v;
	if ((v = get(s, "tools")))
		t->tools = v;
	if ((v = get(s, "temperature")))
		t->temperature = v;
	if ((v = get2(s, "max_output_tokens", "max_response_output_tokens")))
		t->max_tokens = v;
	if (gstr(s, "model") && !t->model)
		t->model = gstr(s, "model");
}

/* input_audio parts: the item carries audio (never copied). */
static bool item_audio(const cJSON *item)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, get(item, "content")) {
		if (streq(gstr(p, "type"), "input_audio"))
			return true;
	}
	return false;
}

static bool add_ref(cJSON *o, const char *k, const cJSON *v)
{
	return !v || cJSON_AddItemReferenceToObject(o, k, (cJSON *)v);
}

int realtime_request(const char *body, size_t len, cJSON *data,
		     struct ai_summary *sum)
{
	cJSON *root = cJSON_ParseWithLength(body, len), *q, *input;
	struct turn t = { 0 };
	const cJSON *ev, *it;
	const char *type;
	int err = -ENOMEM;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	t.model = gstr(root, "model");
	q = cJSON_CreateObject();
	input = cJSON_AddArrayToObject(q, "input");
	if (!input)
		goto out;
	cJSON_ArrayForEach(ev, get(root, "events")) {
		type = gstr(ev, "type");
		if (streq(type, "session.created") ||
		    streq(type, "session.updated"))
			t.srv_model = gstr(get(ev, "session"), "model");
		else if (streq(type, "session.update"))
			turn_settings(&t, get(ev, "session"));
		else if (streq(type, "response.create"))
			turn_settings(&t, get(ev, "response"));
		if (!streq(type, "conversation.item.create"))
			continue;
		it = get(ev, "item");
		t.audio = t.audio || item_audio(it);
		if (cJSON_IsObject(it) &&
		    !cJSON_AddItemReferenceToArray(input, (cJSON *)it))
			goto out;
	}
	if (!t.model)
		t.model = t.srv_model;
	if ((t.model && !cJSON_AddStringToObject(q, "model", t.model)) ||
	    !add_ref(q, "instructions", t.instructions) ||
	    !add_ref(q, "tools", t.tools) ||
	    !add_ref(q, "temperature", t.temperature) ||
	    !add_ref(q, "max_output_tokens", t.max_tokens))
		goto out;
	err = request_root("openai.responses", q, data, sum);
	if (!err && (!set_streaming(data, true, sum) ||
		     (t.audio && !jsonb__add_bool(data, "has_audio", true))))
		err = -ENOMEM;
out:
	cJSON_Delete(q);
	cJSON_Delete(root);
	return err;
}

/* response.done: the whole response. */
static void realtime_done(struct acc *a, const cJSON *r)
{
	const cJSON *det = get(r, "status_details");
	const char *status = gstr(r, "status");
	const char *why = gstr(det, "reason");
	struct choice *ch;

	acc_first(a, &a->id, gstr(r, "id"));
	responses_output(a, get(r, "output"));
	usage_openai(a, get(r, "usage"));
	ch = acc_choice(a, 0);
	if (ch && status)
		acc_set(a, &ch->finish, why && !streq(status, "completed") ?
					why : status);
	if (!status || streq(status, "completed"))
		return;
	if (!acc_error_from(a, det))
		acc_error(a, status, why ? why : status, NULL, NULL);
}

int realtime_stream(const struct extract_event *ev, size_t n, cJSON *data,
		    struct ai_summary *sum)
{
	size_t i, first = n, tl;
	const char *type;
	struct acc a;
	cJSON *o;

	acc_init(&a);
	for (i = 0; i < n; i++) {
		o = ev[i].data ? cJSON_Parse(ev[i].data) : NULL;
		type = gstr(o, "type");
		tl = type ? strlen(type) : 0;
		if (first == n && tl > 6 && strcmp(type + tl - 6, ".delta") == 0)
			first = i;
		if (streq(type, "response.done"))
			realtime_done(&a, get(o, "response"));
		else if (streq(type, "error"))
			acc_error_from(&a, o);
		cJSON_Delete(o);
	}
	return acc_finish_stream(&a, first, data, sum);
}
