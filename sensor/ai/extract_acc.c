// SPDX-License-Identifier: MIT
/*
 * The response accumulator: choices, tool calls, usage and errors, and
 * the event fields (and summary) written from them.  See extract_priv.h.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/jsonb.h"
#include "ai/extract.h"
#include "ai/extract_priv.h"

/* ---- accumulating ----------------------------------------------------- */

/* The data.usage names, by enum usage_field. */
static const char *const usage_names[U_MAX] = {
	"prompt_tokens", "completion_tokens", "total_tokens",
	"cached_tokens", "reasoning_tokens", "cache_creation_tokens",
};

void acc_init(struct acc *a)
{
	memset(a, 0, sizeof(*a));
	xlimit_init(&a->lim);
	a->input_count = -1;
	a->dimensions = -1;
}

void acc_free(struct acc *a)
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
void acc_set(struct acc *a, char **dst, const char *s)
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
void acc_first(struct acc *a, char **dst, const char *s)
{
	if (!*dst && s && *s)
		acc_set(a, dst, s);
}

/*
 * The choice with @index, created on first use; NULL past the bounds
 * (counted as dropped).  A search of at most MAX_CHOICES, whatever
 * @index is.
 */
struct choice *acc_choice(struct acc *a, int index)
{
	struct choice *c;
	size_t i;

	for (i = 0; i < a->n_ch; i++) {
		if (a->ch[i].index == index)
			return &a->ch[i];
	}
	if (index < 0)
		return NULL;
	if (a->n_ch >= MAX_CHOICES) {
		a->lim.elements_dropped++;
		return NULL;
	}
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
int index_of(const cJSON *v, int dflt)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > 1e6)
		return dflt;
	return (int)v->valuedouble;
}

void choice_text(struct acc *a, struct choice *c, const char *s)
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

void choice_refusal(struct acc *a, struct choice *c, const char *s)
{
	if (!c || !s || !*s)
		return;
	if (!sbuf_str(&c->refusal, s))
		a->oom = true;
	a->outputs++;
}

/*
 * The call with @key in @c, created on first use (@key < 0: always new);
 * NULL past MAX_CALLS (counted as dropped).  A search of at most
 * MAX_CALLS, whatever @key is.
 */
struct tcall *choice_call(struct acc *a, struct choice *c, int key)
{
	struct tcall *t;
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; key >= 0 && i < c->n_calls; i++) {
		if (c->calls[i].key == key)
			return &c->calls[i];
	}
	if (c->n_calls >= MAX_CALLS) {
		a->lim.elements_dropped++;
		return NULL;
	}
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

void call_args_text(struct acc *a, struct tcall *t, const char *s)
{
	if (t && s && !sbuf_str(&t->args, s))
		a->oom = true;
}

void call_args(struct acc *a, struct tcall *t, const cJSON *v)
{
	char *s;

	if (!t || !v || cJSON_IsNull(v))
		return;
	if (cJSON_IsString(v)) {
		call_args_text(a, t, v->valuestring);
		return;
	}
	s = json_text(v);
	if (!s || !sbuf_str(&t->args, s))
		a->oom = true;
	free(s);
}

/* Replaces the arguments (a "done" event repeats them whole). */
void call_args_whole(struct acc *a, struct tcall *t, const char *s)
{
	if (!t || !s)
		return;
	t->args.len = 0;
	if (t->args.p)
		t->args.p[0] = '\0';
	if (!sbuf_str(&t->args, s))
		a->oom = true;
}

void usage_set(struct acc *a, enum usage_field f, const cJSON *v)
{
	double d;

	if (!json_count(v, &d))
		return;
	a->usage[f] = d;
	a->have[f] = true;
}

/* error{type, message, code, param} from any provider's error object. */
void acc_error(struct acc *a, const char *type, const char *msg,
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
	ok = jsonb__add_text(e, "type", type ? type : "error") &&
	     jsonb__add_text(e, "message", msg);
	if (code_str) {
		ok = ok && jsonb__add_text(e, "code", code_str);
	} else if (isfinite(code_num) && fabs(code_num) < 1e15) {
		snprintf(num, sizeof(num), "%.0f", code_num);
		ok = ok && jsonb__add_text(e, "code", num);
	}
	if (param_str)
		ok = ok && jsonb__add_text(e, "param", param_str);
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
bool acc_error_value(struct acc *a, const cJSON *e)
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

bool acc_error_from(struct acc *a, const cJSON *o)
{
	return acc_error_value(a, get(o, "error"));
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

/* ---- writing the fields (and the summary) ------------------------------ */

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

static int64_t tokens(const struct acc *a, enum usage_field f)
{
	return a->have[f] ? (int64_t)a->usage[f] : AI_TOKENS_NONE;
}

static bool flush_usage(struct acc *a, cJSON *data, struct ai_summary *sum)
{
	cJSON *u;
	int i;

	usage_finish(a);
	for (i = 0; i < U_MAX && !a->have[i]; i++)
		;
	if (i == U_MAX)
		return true;
	u = jsonb__add_obj(data, "usage");
	if (!u)
		return false;
	for (i = 0; i < U_MAX; i++) {
		if (a->have[i] &&
		    !jsonb__add_num(u, usage_names[i], a->usage[i]))
			return false;
	}
	if (sum) {
		sum->prompt_tokens = tokens(a, U_PROMPT);
		sum->completion_tokens = tokens(a, U_COMPLETION);
		sum->total_tokens = tokens(a, U_TOTAL);
		sum->cached_tokens = tokens(a, U_CACHED);
		sum->reasoning_tokens = tokens(a, U_REASONING);
		sum->cache_creation_tokens = tokens(a, U_CACHE_CREATION);
	}
	return true;
}

static cJSON *call_json(const struct tcall *t)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (!jsonb__add_text(o, "id", t->id) ||
	    !jsonb__add_text(o, "name", t->name) ||
	    !jsonb__add_text(o, "type", t->type ? t->type : "function") ||
	    !jsonb__add_text(o, "arguments", t->args.p ? t->args.p : "")) {
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

/*
 * Writes choice @c into @choices, its calls into its message and into
 * @all_calls, as far as @lim allows (false: out of memory).
 */
static bool flush_choice(const struct choice *c, struct xlimit *lim,
			 cJSON *choices, cJSON *all_calls)
{
	cJSON *o, *m, *calls = NULL;
	size_t j;

	if (!xlimit_take(lim)) {
		lim->elements_dropped += c->n_calls;
		return true;
	}
	o = jsonb__push_obj(choices);
	if (!o)
		return false;
	m = jsonb__add_obj(o, "message");
	if (!jsonb__add_num(o, "index", c->index) || !m ||
	    !jsonb__add_static(m, "role", "assistant"))
		return false;
	if ((c->has_text || !c->n_calls) &&
	    !jsonb__add_text(m, "content", c->text.p ? c->text.p : ""))
		return false;
	if (!jsonb__add_text(m, "refusal", c->refusal.p))
		return false;
	if (c->n_calls && !(calls = jsonb__add_arr(m, "tool_calls")))
		return false;
	for (j = 0; j < c->n_calls; j++) {
		if ((xlimit_take(lim) &&
		     !cJSON_AddItemToArray(calls, call_json(&c->calls[j]))) ||
		    (xlimit_take(lim) &&
		     !cJSON_AddItemToArray(all_calls,
					   call_json(&c->calls[j]))))
			return false;
	}
	if (c->finish &&
	    (!jsonb__add_static(o, "finish_reason", choice_finish(c)) ||
	     !jsonb__add_text(o, "provider_finish_reason", c->finish)))
		return false;
	return true;
}

static bool flush_choices(struct acc *a, cJSON *data, struct ai_summary *sum)
{
	const char *finish;
	cJSON *choices, *calls;
	size_t i, n_calls = 0;

	if (!a->n_ch)
		return true;
	qsort(a->ch, a->n_ch, sizeof(*a->ch), cmp_choice);
	choices = jsonb__add_arr(data, "choices");
	calls = cJSON_CreateArray();
	if (!choices || !calls)
		goto err;
	for (i = 0; i < a->n_ch; i++) {
		if (!flush_choice(&a->ch[i], &a->lim, choices, calls))
			goto err;
		n_calls += a->ch[i].n_calls;
	}
	/* The calls kept, even where the bounds left them out of the lists. */
	if (n_calls) {
		if (!jsonb__add_num(data, "tool_calls_count", (double)n_calls))
			goto err;
		cJSON_AddItemToObjectCS(data, "tool_calls", calls);
	} else {
		cJSON_Delete(calls);
	}
	if (!a->ch[0].finish)
		return true;
	finish = choice_finish(&a->ch[0]);
	if (!jsonb__add_static(data, "finish_reason", finish))
		return false;
	if (sum)
		sum->finish_reason = finish;
	return jsonb__add_text(data, "provider_finish_reason",
			       a->ch[0].finish);
err:
	cJSON_Delete(calls);
	return false;
}

/* Writes data.error (and finish_reason "error" if there is none). */
static int flush_error(struct acc *a, cJSON *data, struct ai_summary *sum)
{
	char *type = NULL;

	if (sum) {
		type = strdup(gstr(a->error, "type"));
		if (!type)
			return -ENOMEM;
		free(sum->error_type);
		sum->error_type = type;
		sum->error = true;
	}
	cJSON_AddItemToObjectCS(data, "error", a->error);
	a->error = NULL;
	if (cJSON_HasObjectItem(data, "finish_reason"))
		return 0;
	if (!jsonb__add_static(data, "finish_reason", "error"))
		return -ENOMEM;
	if (sum)
		sum->finish_reason = "error";
	return 0;
}

int acc_flush(struct acc *a, cJSON *data, struct ai_summary *sum)
{
	if (a->oom)
		return -ENOMEM;
	if (!jsonb__add_text(data, "provider_request_id", a->id) ||
	    (a->model && !set_model(data, a->model, sum)) ||
	    !flush_choices(a, data, sum) || !flush_usage(a, data, sum))
		return -ENOMEM;
	if (a->input_count >= 0 &&
	    !jsonb__add_num(data, "input_count", a->input_count))
		return -ENOMEM;
	if (a->dimensions >= 0 &&
	    !jsonb__add_num(data, "dimensions", a->dimensions))
		return -ENOMEM;
	if (a->error && flush_error(a, data, sum))
		return -ENOMEM;
	return xlimit_finish(&a->lim, data, sum) ? 0 : -ENOMEM;
}
