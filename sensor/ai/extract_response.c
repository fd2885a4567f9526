// SPDX-License-Identifier: MIT
/*
 * Feeding the response accumulator: a whole body (extract__response) or
 * SSE events (extract__response_stream), each object routed by its
 * shape to one provider's handler.  See extract.h for the formats
 * followed.
 */
#include <errno.h>
#include <string.h>

#include "ai/extract.h"
#include "ai/extract_priv.h"

static const char *const top_names[T_MAX] = {
	"type", "object", "output", "candidates", "usageMetadata",
	"promptFeedback", "data", "id", "model", "choices", "usage", "error",
};

/*
 * Routes one parsed JSON object (a whole body or one event's data) by its
 * shape; @event is the SSE event name, if any.
 */
void acc_feed(struct acc *a, const char *event, const cJSON *o)
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
		if (!acc_error_from(a, o))				/* Responses */
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
}

int extract__response(const char *api, const char *body, size_t len,
		      cJSON *data, struct ai_summary *sum)
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
			acc_feed(&a, NULL, o);
	} else {
		/* Anthropic errors carry the request id beside the error. */
		acc_first(&a, &a.id, gstr(root, "request_id"));
		acc_feed(&a, NULL, root);
	}
	if (sum)
		sum->streaming = 0;
	err = acc_flush(&a, data, sum);
	acc_free(&a);
	cJSON_Delete(root);
	return err;
}

int extract__response_stream(const char *api, const struct extract_event *ev,
			     size_t n, cJSON *data, struct ai_summary *sum)
{
	size_t i, first = n;
	unsigned long before;
	struct acc a;
	cJSON *o;

	if (streq(api, "openai.realtime"))
		return realtime_stream(ev, n, data, sum);
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
		acc_feed(&a, ev[i].event, o);
		cJSON_Delete(o);
		if (a.outputs != before && first == n)
			first = i;
	}
	return acc_finish_stream(&a, first, data, sum);
}

int acc_finish_stream(struct acc *a, size_t first, cJSON *data,
		      struct ai_summary *sum)
{
	int err;

	if (sum) {
		sum->streaming = 1;
		sum->first_token_idx = first;
	}
	err = acc_flush(a, data, sum);
	acc_free(a);
	return err;
}
