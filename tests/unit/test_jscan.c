// SPDX-License-Identifier: MIT
/*
 * jscan: the JSON member scanner (lib/jscan.c), and the Responses fast
 * path built on it (ai/extract_response.c): for every input, a stream
 * gives the same fields and summary with the fast path as with cJSON
 * alone, and the fast path is taken exactly where it should be.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jscan.h"
#include "fastpath.h"

/* ---- the scanner ---- */

/* The members of @json as "key=value;" (raw), or "ERR" at an error. */
static void members(const char *json, bool strict, char *out, size_t cap)
{
	struct jscan_member m;
	struct jscan s;
	size_t o = 0;
	int rc;

	out[0] = '\0';
	if (jscan__open(&s, json, strlen(json), strict)) {
		snprintf(out, cap, "ERR");
		return;
	}
	while ((rc = jscan__next(&s, &m)) > 0)
		o += (size_t)snprintf(out + o, cap - o, "%.*s=%.*s;",
				      (int)m.key_len, m.key, (int)m.val_len,
				      m.val);
	if (rc < 0)
		snprintf(out + o, cap - o, "ERR");
}

Test(jscan, members_in_order)
{
	char out[256];

	members(" {\"a\" : 1, \"b\":\"x\\\"y\",\"c\":[ ],\"d\":{},"
		"\"e\":null,\"f\":true,\"g\":false,\"h\":-0.5E+3} \n",
		true, out, sizeof(out));
	cr_assert_str_eq(out, "a=1;b=\"x\\\"y\";c=[ ];d={};e=null;f=true;"
			      "g=false;h=-0.5E+3;");
	members("{}", true, out, sizeof(out));
	cr_assert_str_eq(out, "");
}

Test(jscan, strict_refuses_what_it_does_not_read)
{
	static const char *const bad[] = {
		"", "[]", "\"x\"", "{", "{\"a\"", "{\"a\":", "{\"a\":1",
		"{\"a\":1,}", "{,\"a\":1}", "{\"a\" 1}", "{\"a\":1 \"b\":2}",
		"{\"a\":[1]}", "{\"a\":{\"b\":1}}", "{\"a\":01}", "{\"a\":1.}",
		"{\"a\":.5}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":-}",
		"{\"a\":tru}", "{\"a\":nul}", "{\"a\":\"x}", "{\"a\":\"\\x\"}",
		"{\"\\u0061\":1}", "{\"a\":1}x", "{\"a\":1}{}",
		"\xef\xbb\xbf{\"a\":1}", "{\"a\":\v1}", "{\"a\":1\f}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
		"{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\u00zz\"}", "{\"a\":\"\\u00\"}",
		"{\"a\":1234567890123456789012345678901234567890123456789012345678901234}",
	};
	char out[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		members(bad[i], true, out, sizeof(out));
		cr_assert(strstr(out, "ERR"), "accepted %s: %s", bad[i], out);
	}
}

Test(jscan, lenient_skips_nested_values)
{
	char out[256];

	members("{\"a\":{\"x\":[1,\"]\"]},\"type\":\"t\"}", false, out,
		sizeof(out));
	cr_assert_str_eq(out, "a={\"x\":[1,\"]\"]};type=\"t\";");
	/* Not checked in lenient mode: for routing only. */
	members("{\"a\":01,\"type\":\"t\"}", false, out, sizeof(out));
	cr_assert_str_eq(out, "a=01;type=\"t\";");
	members("{\"a\":1 \"type\":\"t\"}", false, out, sizeof(out));
	cr_assert_str_eq(out, "a=1;ERR");
}

static void decoded(const char *v, const char *want, size_t want_len)
{
	char out[64];
	size_t len;

	cr_assert_eq(jscan__string((const unsigned char *)v, strlen(v), out,
				   &len), 0, "%s", v);
	cr_assert_eq(len, want_len, "%s", v);
	cr_assert(memcmp(out, want, len) == 0 && !out[len], "%s", v);
}

Test(jscan, strings_decode_as_cjson_does)
{
	decoded("\"\"", "", 0);
	decoded("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "a\"b\\c/d\b\f\n\r\t",
		12);
	decoded("\"\\u0041\\u00e9\\u4E2D\"", "A\xc3\xa9\xe4\xb8\xad", 6);
	decoded("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	decoded("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
	/* Bytes are copied as they are, UTF-8 or not (as cJSON does). */
	decoded("\"\xff\xfe\xe4\xb8\x01\"", "\xff\xfe\xe4\xb8\x01", 5);
	/* Long enough for the 16-byte blocks, the escape past the first. */
	decoded("\"0123456789abcdefghij\\nklmnopqrstuvwxyz\"",
		"0123456789abcdefghij\nklmnopqrstuvwxyz", 37);
}

/* ---- the fast path against cJSON ---- */

struct fcase {
	const char *data;
	bool taken;
};

/* @data between other events of a Responses stream, both ways. */
static void same_both_ways(const char *event, const char *data)
{
	static const char *const around[] = {
		"{\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\","
		"\"model\":\"gpt-5\",\"status\":\"in_progress\",\"output\":[]}}",
		NULL,
		"{\"type\":\"response.output_item.added\",\"output_index\":3,"
		"\"item\":{\"type\":\"function_call\",\"call_id\":\"c1\","
		"\"name\":\"shell\",\"arguments\":\"\"}}",
		NULL,
		"{\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\","
		"\"status\":\"completed\",\"usage\":{\"input_tokens\":5,"
		"\"output_tokens\":7,\"total_tokens\":12}}}",
	};
	struct extract_event ev[5];
	char *fast, *ref;
	size_t i;

	for (i = 0; i < 5; i++) {
		ev[i].event = around[i] ? NULL : event;
		ev[i].data = around[i] ? around[i] : data;
	}
	fast = fastpath_run(ev, 5, true);
	ref = fastpath_run(ev, 5, false);
	cr_assert(fast && ref);
	cr_assert_str_eq(fast, ref, "for %s", data);
	free(fast);
	free(ref);
	/* Alone: the first event, the first token time. */
	fast = fastpath_run(ev + 1, 1, true);
	ref = fastpath_run(ev + 1, 1, false);
	cr_assert(fast && ref);
	cr_assert_str_eq(fast, ref, "for %s alone", data);
	free(fast);
	free(ref);
}

#define TEXT "\"type\":\"response.output_text.delta\""
#define ARGS "\"type\":\"response.function_call_arguments.delta\""

static const struct fcase cases[] = {
	{ "{" TEXT ",\"sequence_number\":5,\"item_id\":\"msg_1\","
	  "\"output_index\":0,\"content_index\":0,\"delta\":\"Hello\"}", true },
	{ "{\"type\": \"response.output_text.delta\", \"sequence_number\": 5, "
	  "\"delta\": \" world\", \"logprobs\": []}\n", true },
	{ " {\"delta\":\"x\",\"output_index\":0," TEXT "} ", true },
	{ "{\"obfuscation\":\"ab\",\"a\":null,\"b\":true,\"c\":false,"
	  "\"d\":{},\"e\":-1.5e+3,\"f\":[ ]," TEXT ",\"delta\":\"y\"}", true },
	{ "{" TEXT ",\"delta\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}", true },
	{ "{" TEXT ",\"delta\":\"\\u00e9\\u4e2d \\ud83d\\ude00\"}", true },
	{ "{" TEXT ",\"delta\":\"\xff\xfe bad \xe4\xb8\"}", true },
	{ "{" TEXT ",\"delta\":\"ctl \x01\x1f\"}", true },
	{ "{" TEXT ",\"delta\":\"\"}", true },
	{ "{\"type\":\"response.refusal.delta\",\"delta\":\"no\"}", true },
	{ "{" ARGS ",\"output_index\":3,\"delta\":\"{\\\"cmd\\\":\"}", true },
	{ "{" ARGS ",\"output_index\":7,\"delta\":\"[1]\"}", true },
	{ "{" ARGS ",\"output_index\":1000000,\"delta\":\"a\"}", true },
	{ "{" ARGS ",\"output_index\":1000001,\"delta\":\"b\"}", true },
	{ "{" ARGS ",\"output_index\":123456789012,\"delta\":\"b\"}", true },
	{ "{" ARGS ",\"output_index\":\"3\",\"delta\":\"c\"}", true },
	{ "{" ARGS ",\"output_index\":null,\"delta\":\"c\"}", true },
	{ "{" ARGS ",\"delta\":\"d\"}", true },
	/* Left to cJSON. */
	{ "{" ARGS ",\"output_index\":3.0,\"delta\":\"e\"}", false },
	{ "{" ARGS ",\"output_index\":-1,\"delta\":\"e\"}", false },
	{ "{" ARGS ",\"output_index\":3,\"delta\":{\"cmd\":1}}", false },
	{ "{" ARGS ",\"output_index\":3,\"delta\":null}", false },
	{ "{" TEXT ",\"delta\":5}", false },
	{ "{" TEXT "}", false },
	{ "{" TEXT ",\"delta\":\"lone \\ud83d\"}", false },
	{ "{" TEXT ",\"delta\":\"lone \\ude00\"}", false },
	{ "{" TEXT ",\"delta\":\"pair? \\ud83d\\u0041\"}", false },
	{ "{" TEXT ",\"delta\":\"nul \\u0000 after\"}", false },
	{ "{" TEXT ",\"delta\":\"hex \\u00zz\"}", false },
	{ "{" TEXT ",\"delta\":\"esc \\x\"}", false },
	{ "{" TEXT ",\"delta\":\"trunc", false },
	{ "{" TEXT ",\"delta\":\"trunc\"", false },
	{ "{" TEXT ",\"delta\":\"x\"} trailing", false },
	{ "{" TEXT ",\"delta\":\"x\",}", false },
	{ "{" TEXT ",\"delta\":\"x\",\"delta\":\"y\"}", false },
	{ "{" TEXT "," TEXT ",\"delta\":\"x\"}", false },
	{ "{" ARGS ",\"output_index\":1,\"output_index\":2,\"delta\":\"x\"}",
	  false },
	{ "{" TEXT ",\"logprobs\":[{\"token\":\"x\"}],\"delta\":\"x\"}", false },
	{ "{" TEXT ",\"n\":01,\"delta\":\"x\"}", false },
	{ "{\"t\\u0079pe\":\"response.output_text.delta\",\"delta\":\"x\"}",
	  false },
	{ "{\"type\":\"response.output_text.\\u0064elta\",\"delta\":\"x\"}",
	  false },
	{ "\xef\xbb\xbf{" TEXT ",\"delta\":\"bom\"}", false },
	{ "{\"type\":\"response.output_text.done\",\"text\":\"x\"}", false },
	{ "{\"type\":\"response.completed\",\"response\":{}}", false },
	{ "{\"type\":5,\"delta\":\"x\"}", false },
	{ "[{" TEXT ",\"delta\":\"x\"}]", false },
	{ "not json", false },
};

Test(fastpath, same_as_cjson_and_taken_where_expected)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(fastpath_taken(NULL, cases[i].data),
			     cases[i].taken, "%s", cases[i].data);
		same_both_ways(NULL, cases[i].data);
	}
}

Test(fastpath, error_events_go_to_cjson)
{
	const char *d = "{" TEXT ",\"delta\":\"x\"}";

	cr_assert(fastpath_taken("message", d));
	cr_assert_not(fastpath_taken("error", d));
	same_both_ways("error", d);
}

/*
 * Many inputs: each delta text in each key order, spacing and type;
 * the fast path takes all of them and gives what cJSON gives.
 */
Test(fastpath, generated_orders_spacings_and_escapes)
{
	static const char *const deltas[] = {
		"\"plain\"", "\"\"", "\"tab\\tquote\\\"slash\\\\\"",
		"\"\\u0041\\u00e9\\u20ac\\uD834\\uDD1E\"",
		"\"utf-8 \xc3\xa9 raw, bad \xc3 \xff\"",
		"\"0123456789abcdef0123456789abcdef\\n0123456789abcdef\"",
	};
	static const char *const types[] = {
		"response.output_text.delta", "response.refusal.delta",
		"response.function_call_arguments.delta",
	};
	static const char *const seps[][2] = {
		{ ",", ":" }, { ", ", ": " }, { " ,\n", " :\t" },
	};
	const char *mem[6];
	char buf[6][160], data[1024];
	size_t d, t, s, r, k, o, n = 0;

	for (d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++)
	for (t = 0; t < 3; t++)
	for (s = 0; s < 3; s++)
	for (r = 0; r < 12; r++) {
		snprintf(buf[0], sizeof(buf[0]), "\"type\"%s\"%s\"",
			 seps[s][1], types[t]);
		snprintf(buf[1], sizeof(buf[1]), "\"delta\"%s%s", seps[s][1],
			 deltas[d]);
		snprintf(buf[2], sizeof(buf[2]), "\"output_index\"%s%zu",
			 seps[s][1], r % 4);
		snprintf(buf[3], sizeof(buf[3]), "\"sequence_number\"%s%zu",
			 seps[s][1], 100 + r);
		snprintf(buf[4], sizeof(buf[4]), "\"item_id\"%s\"msg_%zu\"",
			 seps[s][1], r);
		snprintf(buf[5], sizeof(buf[5]), "\"logprobs\"%s[]",
			 seps[s][1]);
		/* Rotations, forwards (r < 6) and backwards. */
		for (k = 0; k < 6; k++)
			mem[k] = buf[r < 6 ? (k + r) % 6 : (r - k) % 6];
		o = (size_t)snprintf(data, sizeof(data), "{");
		for (k = 0; k < 6; k++)
			o += (size_t)snprintf(data + o, sizeof(data) - o,
					      "%s%s", k ? seps[s][0] : "",
					      mem[k]);
		snprintf(data + o, sizeof(data) - o, "}");
		cr_assert(fastpath_taken(NULL, data), "%s", data);
		same_both_ways(NULL, data);
		n++;
	}
	cr_assert_eq(n, 6 * 3 * 3 * 12);
}
