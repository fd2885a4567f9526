// SPDX-License-Identifier: MIT
/*
 * Feeding the response accumulator: a whole body (extract__response) or
 * SSE events (extract__response_stream), each object routed by its
 * shape to one provider's handler.  See extract.h for the formats
 * followed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ai/extract.h"
#include "ai/extract_priv.h"
#include "lib/jscan.h"

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

/* The Responses delta events the fast path takes, by their "type". */
static const char *const fast_types[] = {
	"response.output_text.delta", "response.refusal.delta",
	"response.function_call_arguments.delta",
};

/* The delta event type @v (a raw JSON value) is; NULL: none. */
static const char *fast_type(const unsigned char *v, size_t n)
{
	size_t i, len;

	for (i = 0; i < sizeof(fast_types) / sizeof(fast_types[0]); i++) {
		len = strlen(fast_types[i]);
		if (n == len + 2 && v[0] == '"' &&
		    memcmp(v + 1, fast_types[i], len) == 0 && v[len + 1] == '"')
			return fast_types[i];
	}
	return NULL;
}

/*
 * output_index @v (a raw JSON value, or NULL) as index_of() reads the
 * parsed value: a number from 0 to 1e6, 0 for anything else.  False
 * for a number that is not a plain whole one (left to cJSON).
 */
static bool fast_index(const unsigned char *v, size_t n, int *oi)
{
	size_t i;

	*oi = 0;
	if (!v || (v[0] != '-' && (v[0] < '0' || v[0] > '9')))
		return true;
	for (i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	/* RFC 8259 numbers have no leading zeros: 8 digits are > 1e6. */
	for (i = 0; n <= 7 && i < n; i++)
		*oi = *oi * 10 + (v[i] - '0');
	if (*oi > 1000000)
		*oi = 0;
	return true;
}

/*
 * The fast path of a stream (extract_priv.h): the Responses delta
 * events (most of the events of a Responses stream, one per token or
 * few) read with lib/jscan.h's strict scanner instead of a cJSON tree,
 * and handed to responses_delta() as responses_event() would.  Taken
 * only when the scanner reads @data whole, its "type" is one of
 * fast_types, its "delta" a string and its output_index absent, not a
 * number or a plain whole one, each member at most once, and the SSE
 * event name (@event) is not "error" (acc_feed() routes that first).
 * Returns false, having done nothing, for anything else: the caller
 * parses @data with cJSON.
 * @buf is scratch for the decoded delta, kept across calls.
 */
bool responses_fast(struct acc *a, const char *event, const char *data,
		    struct sbuf *buf)
{
	const struct jscan_member *m[3] = { NULL };	/* type, delta, index */
	struct jscan_member mb[3], cur;
	const char *type;
	struct jscan s;
	size_t len, k;
	int rc, oi;
	char *p;

	if (streq(event, "error") ||
	    jscan__open(&s, data, strlen(data), true))
		return false;
	while ((rc = jscan__next(&s, &cur)) > 0) {
		k = jscan__key_is(&cur, "type") ? 0 :
		    jscan__key_is(&cur, "delta") ? 1 :
		    jscan__key_is(&cur, "output_index") ? 2 : 3;
		if (k == 3)
			continue;
		if (m[k])
			return false;	/* cJSON's get() takes the first */
		mb[k] = cur;
		m[k] = &mb[k];
		if (k == 0 && !fast_type(cur.val, cur.val_len))
			return false;
	}
	if (rc < 0 || !m[0] || !m[1] || m[1]->val[0] != '"' ||
	    !fast_index(m[2] ? m[2]->val : NULL, m[2] ? m[2]->val_len : 0,
			&oi))
		return false;
	type = fast_type(m[0]->val, m[0]->val_len);
	if (buf->cap < m[1]->val_len) {
		p = realloc(buf->p, m[1]->val_len);
		if (!p)
			return false;
		buf->p = p;
		buf->cap = m[1]->val_len;
	}
	if (jscan__string(m[1]->val, m[1]->val_len, buf->p, &len))
		return false;
	return responses_delta(a, acc_choice(a, 0), type, buf->p, oi);
}

/* One event's data parsed with cJSON and fed to the accumulator. */
static void feed_parsed(struct acc *a, const struct extract_event *ev)
{
	cJSON *o = cJSON_Parse(ev->data);

	if (!o) {
		if (streq(ev->event, "error"))
			acc_error(a, "stream_error", ev->data, NULL, NULL);
		return;
	}
	acc_feed(a, ev->event, o);
	cJSON_Delete(o);
}

int acc_stream(const struct extract_event *ev, size_t n, cJSON *data,
	       struct ai_summary *sum, bool fast)
{
	struct sbuf buf = { 0 };
	size_t i, first = n;
	unsigned long before;
	struct acc a;

	acc_init(&a);
	for (i = 0; i < n; i++) {
		if (!ev[i].data || strcmp(ev[i].data, "[DONE]") == 0)
			continue;
		before = a.outputs;
		if (!fast || !responses_fast(&a, ev[i].event, ev[i].data, &buf))
			feed_parsed(&a, &ev[i]);
		if (a.outputs != before && first == n)
			first = i;
	}
	sbuf_free(&buf);
	return acc_finish_stream(&a, first, data, sum);
}

int extract__response_stream(const char *api, const struct extract_event *ev,
			     size_t n, cJSON *data, struct ai_summary *sum)
{
	if (streq(api, "openai.realtime"))
		return realtime_stream(ev, n, data, sum);
	/* Only Responses streams are mostly delta events. */
	return acc_stream(ev, n, data, sum, streq(api, "openai.responses"));
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
