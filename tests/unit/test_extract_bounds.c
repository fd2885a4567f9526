// SPDX-License-Identifier: MIT
/*
 * extract: the bounds on the work per event against hostile bodies
 * (issue 12, findings 1 and 3; extract.h, "Bounds").  Each test's time
 * is bounded by Criterion's .timeout (a harness bound, not a timing
 * assertion): a quadratic extraction would be killed by it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonpath.h"

#include "event/event.h"
#include "ai/extract.h"
#include "ai/summary.h"
#include "lib/utf8.h"

/* A growing text buffer for building bodies. */
struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_n(struct buf *b, const char *s, size_t times)
{
	size_t i, n = strlen(s);

	for (i = 0; i < times; i++)
		put(b, s, n);
}

static struct ai_summary sum;

static cJSON *request(const char *api, const struct buf *b)
{
	cJSON *d = cJSON_CreateObject();

	ai_summary__init(&sum);
	cr_assert_eq(extract__request(api, b->p, b->len, d, &sum), 0);
	return d;
}

/* The event line's size; it must be valid UTF-8 too. */
static size_t line_size(const cJSON *d)
{
	char *s = cJSON_PrintUnformatted(d);
	size_t n;

	cr_assert_not_null(s);
	n = strlen(s);
	cr_assert(utf8__valid(s, n));
	free(s);
	return n;
}

/*
 * Finding 1: {"messages":[0,0,...]}, 4 MiB.  One object per element made
 * a 33 MB line; now EXTRACT_MAX_ITEMS messages are written, the count is
 * the source's, and what was left out is counted.
 */
Test(extract_bounds, messages_array, .timeout = 60)
{
	size_t n = 2u << 20;
	struct buf b = { 0 };
	cJSON *d;

	puts_(&b, "{\"model\":\"gpt-4o\",\"messages\":[0");
	put_n(&b, ",0", n - 1);
	puts_(&b, "]}");
	d = request("openai.chat_completions", &b);
	cr_assert_str_eq(str(d, "model.id"), "gpt-4o");
	cr_assert_eq(cJSON_GetArraySize(get(d, "messages")), EXTRACT_MAX_ITEMS);
	cr_assert_eq(num(d, "messages_count"), n);
	cr_assert_eq(num(d, "truncated.elements_dropped"),
		     n - EXTRACT_MAX_ITEMS);
	cr_assert_eq(num(d, "truncated.bytes_dropped"), 0);
	cr_assert_eq(sum.elements_dropped, n - EXTRACT_MAX_ITEMS);
	cr_assert_lt(line_size(d), 1u << 20);
	cJSON_Delete(d);
	ai_summary__clear(&sum);
	free(b.p);
}

/* Tool calls inside messages, and tools, share the same bound. */
Test(extract_bounds, calls_and_tools, .timeout = 60)
{
	size_t n = 100000;
	struct buf b = { 0 };
	cJSON *d;

	puts_(&b, "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\","
		  "\"tool_calls\":[{}");
	put_n(&b, ",{}", n - 1);
	puts_(&b, "]}],\"tools\":[{\"type\":\"function\",\"function\":"
		  "{\"name\":\"f\"}}]}");
	d = request("openai.chat_completions", &b);
	cr_assert_eq(num(d, "messages_count"), 1);
	cr_assert_eq(cJSON_GetArraySize(get(d, "messages.0.tool_calls")),
		     EXTRACT_MAX_ITEMS - 1);
	/* The bound is spent: the tool is counted, not written. */
	cr_assert_eq(num(d, "tools_count"), 1);
	cr_assert_eq(cJSON_GetArraySize(get(d, "tools")), 0);
	cr_assert_eq(num(d, "truncated.elements_dropped"),
		     n - (EXTRACT_MAX_ITEMS - 1) + 1);
	cr_assert_lt(line_size(d), 2u << 20);
	cJSON_Delete(d);
	free(b.p);
}

/*
 * Finding 3: Responses "input" with many function_call_output items; each
 * looked up the message just added by walking the whole list (40k items:
 * 3.4 s, 200k: minutes).  Linear now: well within the harness bound.
 */
Test(extract_bounds, responses_input_linear, .timeout = 30)
{
	size_t n = 200000;
	struct buf b = { 0 };
	cJSON *d;

	puts_(&b, "{\"model\":\"gpt-4.1\",\"input\":[{\"role\":\"user\","
		  "\"content\":\"go\"}");
	put_n(&b, ",{\"type\":\"function_call_output\",\"call_id\":\"c\","
		  "\"output\":\"x\"}", n);
	puts_(&b, "]}");
	d = request("openai.responses", &b);
	cr_assert_str_eq(str(d, "model.id"), "gpt-4.1");
	cr_assert_eq(num(d, "messages_count"), n + 1);
	cr_assert_str_eq(str(d, "messages.1.role"), "tool");
	cr_assert_str_eq(str(d, "messages.1.tool_call_id"), "c");
	cr_assert_str_eq(str(d, "messages.1.content"), "x");
	cr_assert_str_eq(str(d, "messages.16383.tool_call_id"), "c");
	cr_assert_eq(num(d, "truncated.elements_dropped"),
		     n + 1 - EXTRACT_MAX_ITEMS);
	cJSON_Delete(d);
	free(b.p);
}

/*
 * Strings past EXTRACT_MAX_TEXT bytes of JSON text are cut, escapes
 * counted, at a character boundary; later strings are emptied.
 */
Test(extract_bounds, text_budget, .timeout = 60)
{
	size_t n = 3u << 20;
	struct buf b = { 0 };
	const char *c;
	cJSON *d;

	/* 3 Mi "é" (6 MiB), 3 Mi "\n" (6 MiB as JSON), then "tail". */
	puts_(&b, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
		  "\"content\":\"");
	put_n(&b, "\xc3\xa9", n);
	puts_(&b, "\"},{\"role\":\"user\",\"content\":\"");
	put_n(&b, "\\n", n);
	puts_(&b, "\"},{\"role\":\"user\",\"content\":\"tail\"}]}");
	d = request("openai.chat_completions", &b);
	cr_assert_eq(strlen(str(d, "messages.0.content")), 2 * n);
	c = str(d, "messages.1.content");
	cr_assert_lt(strlen(c), n);
	cr_assert_gt(strlen(c), n / 4);
	cr_assert_str_eq(str(d, "messages.2.content"), "");
	cr_assert_str_eq(str(d, "messages.2.role"), "user");
	cr_assert_eq(num(d, "messages_count"), 3);
	cr_assert_eq(num(d, "truncated.elements_dropped"), 0);
	cr_assert_eq(num(d, "truncated.bytes_dropped"),
		     n - strlen(c) + strlen("tail"));
	cr_assert_eq(sum.bytes_dropped, n - strlen(c) + 4);
	cr_assert_leq(line_size(d), EXTRACT_MAX_TEXT + 4096);
	cJSON_Delete(d);
	free(b.p);
}

/* cJSON's nesting bound: deeper bodies are not JSON; shallower ones work. */
Test(extract_bounds, nesting, .timeout = 30)
{
	struct buf b = { 0 };
	cJSON *d = cJSON_CreateObject();

	puts_(&b, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
		  "\"content\":");
	put_n(&b, "[{\"type\":\"tool_result\",\"content\":", 480);
	puts_(&b, "\"deep\"");
	put_n(&b, "}]", 480);
	puts_(&b, "}]}");
	cr_assert_eq(extract__request("anthropic.messages", b.p, b.len, d,
				      NULL), 0);
	cr_assert_str_eq(str(d, "messages.0.content"), "deep");
	cJSON_Delete(d);
	b.len = 0;
	put_n(&b, "[", 1001);
	put_n(&b, "]", 1001);
	d = cJSON_CreateObject();
	cr_assert_eq(extract__response("other", b.p, b.len, d, NULL),
		     -EBADMSG);
	cJSON_Delete(d);
	free(b.p);
}

/*
 * Stream indices from the wire: any value up to 1e6 costs one choice or
 * call, never an array of that size; past MAX_CHOICES choices and
 * MAX_CALLS calls per choice, contributions are counted as dropped.
 */
Test(extract_bounds, stream_indices, .timeout = 60)
{
	static char datas[1000][160];
	struct extract_event ev[1000];
	cJSON *d = cJSON_CreateObject();
	size_t i;

	for (i = 0; i < 1000; i++) {
		if (i < 500)	/* 500 choices, the first at index 999999 */
			snprintf(datas[i], sizeof(datas[i]),
				 "{\"choices\":[{\"index\":%zu,\"delta\":"
				 "{\"content\":\"x\"}}]}", 999999 - i);
		else		/* 500 calls of choice 999999 */
			snprintf(datas[i], sizeof(datas[i]),
				 "{\"choices\":[{\"index\":999999,\"delta\":"
				 "{\"tool_calls\":[{\"index\":%zu,\"function\":"
				 "{\"name\":\"f\"}}]}}]}", 1000000 - i);
		ev[i].event = NULL;
		ev[i].data = datas[i];
	}
	ai_summary__init(&sum);
	cr_assert_eq(extract__response_stream("openai.chat_completions", ev,
					      1000, d, &sum), 0);
	cr_assert_eq(cJSON_GetArraySize(get(d, "choices")), 64);
	cr_assert_eq(num(d, "choices.63.index"), 999999);
	cr_assert_eq(num(d, "tool_calls_count"), 256);
	cr_assert_eq(num(d, "truncated.elements_dropped"),
		     (500 - 64) + (500 - 256));
	cr_assert_eq(sum.elements_dropped, (500 - 64) + (500 - 256));
	cJSON_Delete(d);
}

/* The bodies of legitimate traffic (tests/fixtures/bodies) are not cut. */
Test(extract_bounds, fixtures_untouched)
{
	static const char *const reqs[] = {
		"openai_chat_request.json", "openai_responses_request.json",
		"anthropic_request.json", "gemini_request.json",
		"openai_embeddings_request.json",
	};
	char path[256], *body;
	size_t i, len;
	FILE *f;
	cJSON *d;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		snprintf(path, sizeof(path), "../fixtures/bodies/%s", reqs[i]);
		f = fopen(path, "rb");
		cr_assert_not_null(f, "%s", path);
		body = malloc(1 << 20);
		len = fread(body, 1, 1 << 20, f);
		fclose(f);
		d = cJSON_CreateObject();
		ai_summary__init(&sum);
		cr_assert_eq(extract__request("other", body, len, d, &sum), 0);
		cr_assert_null(get(d, "truncated"), "%s", reqs[i]);
		cr_assert_eq(sum.elements_dropped + sum.bytes_dropped, 0);
		ai_summary__clear(&sum);
		cJSON_Delete(d);
		free(body);
	}
}
