/* SPDX-License-Identifier: MIT */
/*
 * extract_priv.h - what the parts of the extractor share (not for other
 * modules; the API is extract.h).  The extractor is split along its jobs:
 *
 *   extract_body.c       lookups in parsed bodies, growing strings, the
 *                        model / streaming fields
 *   extract_parts.c      content parts of a message (text, images, tool
 *                        calls and results), for requests and replies
 *   extract_request.c    requests: messages, tools, tool_choice,
 *                        parameters; the Gemini request path
 *   extract_limit.c      the bounds of one event (extract.h, "Bounds")
 *   extract_prefix.c     bodies cut short: their JSON prefix made whole
 *   extract_acc.c        the response accumulator (choices, tool calls,
 *                        usage, errors) and the fields it writes
 *   extract_response.c   feeding it: a whole body, or SSE events, routed
 *                        by their shape to one provider's handler:
 *   extract_openai.c     Chat Completions, Completions, Embeddings
 *   extract_responses.c  OpenAI Responses API
 *   extract_anthropic.c  Anthropic Messages
 *   extract_gemini.c     Google Gemini generateContent
 */
#ifndef OISP_EXTRACT_PRIV_H
#define OISP_EXTRACT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ai/summary.h"

/*
 * Bounds against hostile bodies: more choices or calls are ignored (and
 * counted, struct xlimit).  A choice or call is found by its wire index
 * in a list of at most these many, never in an array indexed by it.
 */
#define MAX_CHOICES	64
#define MAX_CALLS	256

/* ---- bounds of one event (extract_limit.c; extract.h, "Bounds") ------- */

struct xlimit {
	size_t items;			/* list elements still allowed */
	uint64_t elements_dropped;	/* left out */
	uint64_t bytes_dropped;
};

/* EXTRACT_MAX_ITEMS to come, nothing dropped. */
void xlimit_init(struct xlimit *l);

/*
 * Takes one list element from @l: false (and counted as dropped) when
 * none is left.  @l NULL: no bound.
 */
bool xlimit_take(struct xlimit *l);

/*
 * Cuts the string values of @data, in document order, past
 * EXTRACT_MAX_TEXT bytes of JSON text, counting what was cut; then, if
 * anything was dropped, writes data.truncated and adds the counts to
 * @sum (may be NULL).  Returns false when out of memory.
 */
bool xlimit_finish(struct xlimit *l, cJSON *data, struct ai_summary *sum);

/* ---- lookups in a parsed body (extract_body.c) ------------------------ */

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
static inline const cJSON *get(const cJSON *o, const char *key)
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

static inline const char *str_of(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first of two spellings present (Gemini: camelCase, snake_case). */
static inline const cJSON *get2(const cJSON *o, const char *k1,
				const char *k2)
{
	const cJSON *v = get(o, k1);

	return v ? v : get(o, k2);
}

static inline const char *gstr(const cJSON *o, const char *key)
{
	return str_of(get(o, key));
}

static inline bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/*
 * get() for several names in one pass over @o: out[i] is the first member
 * named names[i] (NULL if none, or if @o is not an object).  For objects
 * looked at many times, such as each chunk of a stream.
 */
void get_many(const cJSON *o, const char *const *names, size_t n,
	      const cJSON **out);

/*
 * A count as the schema has it: a non-negative integer that a double
 * holds exactly (at most 2^53).  Anything else in a body is not a count.
 */
bool json_count(const cJSON *v, double *out);

/* JSON text of @v (tool arguments given as objects); malloc'd. */
char *json_text(const cJSON *v);

/* A growing string. */
struct sbuf {
	char *p;
	size_t len, cap;
};

bool sbuf_add(struct sbuf *b, const char *s, size_t n);
bool sbuf_str(struct sbuf *b, const char *s);
/* Appends @s, preceded by @sep when @b is not empty. */
bool sbuf_join(struct sbuf *b, const char *sep, const char *s);
void sbuf_free(struct sbuf *b);

/* Replaces data.model with {"id": @id}; @sum (may be NULL) follows. */
bool set_model(cJSON *data, const char *id, struct ai_summary *sum);

/* Replaces data.streaming with @v; @sum (may be NULL) follows. */
bool set_streaming(cJSON *data, bool v, struct ai_summary *sum);

/* ---- content parts (extract_parts.c) ---------------------------------- */

/* What the parts of one message's content add up to. */
struct parts {
	struct sbuf text;
	int images;
	int audio;		/* input_audio parts (never copied) */
	int tool_results;
	int other;		/* text and other non-tool-result parts */
	const char *tool_result_id;
	const char *tool_result_name;
	cJSON *calls;		/* tool_use / functionCall parts, or NULL */
	bool skip_calls;	/* the caller has no use for them */
	struct xlimit *lim;	/* bounds calls; NULL: none */
	bool oom;
};

/*
 * Adds @content: a string, one part (OpenAI content part, Anthropic
 * content block, Gemini part) or an array of them.
 */
void parts_add(struct parts *pt, const cJSON *content);

/*
 * A tool call {id, name, type: function, arguments (JSON text)}; none
 * with skip_calls, or past @pt->lim (counted there).
 */
void parts_call(struct parts *pt, const char *id, const char *name,
		const cJSON *args);

/* ---- the response accumulator (extract_acc.c) ------------------------- */

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

/*
 * A response folded from its chunks, whichever way they arrive: a
 * non-streamed body is handled like a stream of one complete chunk, so
 * each provider's handler serves both paths, and acc_flush() alone
 * writes the event fields.
 */
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
	struct xlimit lim;
	bool oom;
};

void acc_init(struct acc *a);
void acc_free(struct acc *a);
/* Replaces *@dst with a copy of @s (if @s is set). */
void acc_set(struct acc *a, char **dst, const char *s);
/* Sets *@dst only when still unset: ids and models come first. */
void acc_first(struct acc *a, char **dst, const char *s);
/* The choice with @index, created on first use; NULL past the bounds. */
struct choice *acc_choice(struct acc *a, int index);
/* Array index of @v if it is a number, @dflt otherwise. */
int index_of(const cJSON *v, int dflt);

void choice_text(struct acc *a, struct choice *c, const char *s);
void choice_refusal(struct acc *a, struct choice *c, const char *s);
/* The call with @key in @c, created on first use (@key < 0: always new). */
struct tcall *choice_call(struct acc *a, struct choice *c, int key);
/* Appends argument text (a string) or JSON text (anything else). */
void call_args(struct acc *a, struct tcall *t, const cJSON *v);
/* Appends argument text @s (NULL: nothing). */
void call_args_text(struct acc *a, struct tcall *t, const char *s);
/* Replaces the arguments (a "done" event repeats them whole). */
void call_args_whole(struct acc *a, struct tcall *t, const char *s);

void usage_set(struct acc *a, enum usage_field f, const cJSON *v);

/* error{type, message, code, param} from any provider's error object. */
void acc_error(struct acc *a, const char *type, const char *msg,
	       const cJSON *code, const cJSON *param);
/*
 * @e is {...} (OpenAI, Gemini, Responses' response.error) or "text"
 * (some OpenAI-compatible servers), an "error" member.  True if it was
 * one.
 */
bool acc_error_value(struct acc *a, const cJSON *e);
/* acc_error_value of @o's "error" member. */
bool acc_error_from(struct acc *a, const cJSON *o);

/*
 * Writes the accumulated fields into @data and fills @sum (may be NULL).
 * Returns 0 or -ENOMEM.
 */
int acc_flush(struct acc *a, cJSON *data, struct ai_summary *sum);

/* ---- feeding it, per provider ----------------------------------------- */

struct extract_event;

/* The members of a body object that acc_feed() and openai_chunk() read. */
enum top_member {
	T_TYPE, T_OBJECT, T_OUTPUT, T_CANDIDATES, T_USAGE_METADATA,
	T_PROMPT_FEEDBACK, T_DATA, T_ID, T_MODEL, T_CHOICES, T_USAGE, T_ERROR,
	T_MAX
};

/*
 * Routes one parsed JSON object (a whole body or one event's data) by its
 * shape; @event is the SSE event name, if any (extract_response.c).
 */
void acc_feed(struct acc *a, const char *event, const cJSON *o);

/*
 * A Chat Completions object or chunk, or a legacy Completions one; @t
 * holds its members (get_many with the T_ names).
 */
void openai_chunk(struct acc *a, const cJSON *const *t);
/* OpenAI embeddings list: counts, never the vectors. */
void openai_embeddings(struct acc *a, const cJSON *o);
/* OpenAI Chat Completions / Embeddings / Responses usage objects. */
void usage_openai(struct acc *a, const cJSON *u);

/*
 * A Responses "response" object; its output only when @take_output (a
 * stream whose deltas already built the reply must not be doubled).
 */
void responses_object(struct acc *a, const cJSON *r, bool take_output);
void responses_output(struct acc *a, const cJSON *out);
/*
 * Ends a stream's accumulation: @first (the index of the first event
 * with output) and streaming into @sum, the fields into @data, @a freed.
 * Returns acc_flush()'s result.
 */
int acc_finish_stream(struct acc *a, size_t first, cJSON *data,
		      struct ai_summary *sum);
/* One Responses API streaming event (its "type" is @t). */
void responses_event(struct acc *a, const char *t, const cJSON *o);
/*
 * The Responses delta events whose "delta" is text (output_text,
 * refusal, function_call_arguments): @delta (NULL: none) added to @ch
 * (acc_choice(a, 0)), a call's to its output index @oi.  False when @t
 * is none of them.  responses_event() and the stream's fast path
 * (extract_response.c) both end here.
 */
bool responses_delta(struct acc *a, struct choice *ch, const char *t,
		     const char *delta, int oi);

/*
 * One event's @data (SSE event name @event) when it is a Responses delta
 * event that lib/jscan.h's strict scanner reads whole: fed as
 * responses_event() would feed it, true.  False, having done nothing,
 * for anything else (the caller parses it with cJSON).  @buf: scratch
 * kept across calls, freed by the caller.
 */
bool responses_fast(struct acc *a, const char *event, const char *data,
		    struct sbuf *buf);

/*
 * extract__response_stream() for every API but Realtime; @fast false
 * parses every event with cJSON (the reference the fast path is tested
 * against: both give the same fields and summary).
 */
int acc_stream(const struct extract_event *ev, size_t n, cJSON *data,
	       struct ai_summary *sum, bool fast);

/* Anthropic content blocks of a whole message. */
void anthropic_message(struct acc *a, const cJSON *m);
/* One Anthropic streaming event (its "type" is @t). */
void anthropic_event(struct acc *a, const char *t, const cJSON *o);

/* A Gemini GenerateContentResponse (whole, or one streamed chunk). */
void gemini_chunk(struct acc *a, const cJSON *o);

/*
 * extract_request.c: the request fields of the parsed body @root (an
 * object), as extract__request() adds them.
 */
int request_root(const char *api, const cJSON *root, cJSON *data,
		 struct ai_summary *sum);

/*
 * extract_realtime.c: OpenAI Realtime, in the form proto/wsmap.h gives
 * it: a turn's client events as the request, the server events of the
 * response as a stream.
 */
int realtime_request(const char *body, size_t len, cJSON *data,
		     struct ai_summary *sum);
int realtime_stream(const struct extract_event *ev, size_t n, cJSON *data,
		    struct ai_summary *sum);

#endif /* OISP_EXTRACT_PRIV_H */
