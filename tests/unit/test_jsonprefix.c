// SPDX-License-Identifier: MIT
/*
 * jsonprefix: JSON texts cut at every byte are made whole, and what they
 * keep; extract__request_prefix / extract__response_prefix on cut bodies.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonpath.h"

#include "ai/extract.h"
#include "ai/jsonprefix.h"
#include "ai/summary.h"

/* @in cut to @n bytes and closed by @mode, as a string (malloc'd). */
static char *closed(const char *in, size_t n, enum json_prefix_mode mode)
{
	size_t len;
	char *out;

	cr_assert_eq(json_prefix__close(in, n, mode, &out, &len), 0,
		     "%.*s", (int)n, in);
	cr_assert_eq(strlen(out), len);
	return out;
}

static void expect(const char *in, enum json_prefix_mode mode,
		   const char *want)
{
	char *out = closed(in, strlen(in), mode);

	cr_expect_str_eq(out, want, "%s", in);
	free(out);
}

Test(jsonprefix, whole_mode_keeps_whole_values)
{
	expect("{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"user\",\"content\":\"bye",
	       JSON_PREFIX_WHOLE,
	       "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
	expect("{\"model\":\"gpt\",\"max_tokens\":12", JSON_PREFIX_WHOLE,
	       "{\"model\":\"gpt\"}");
	expect("{\"model\":\"gpt\",\"max_tokens\":12,", JSON_PREFIX_WHOLE,
	       "{\"model\":\"gpt\",\"max_tokens\":12}");
	expect("{\"a\":{\"b\":1,\"c\":\"x", JSON_PREFIX_WHOLE,
	       "{\"a\":{\"b\":1}}");
	expect("{\"mod", JSON_PREFIX_WHOLE, "{}");
	expect("  [1, [2, 3], [4", JSON_PREFIX_WHOLE, "  [1, [2, 3]]");
	expect("{\"s\":\"a\\\"}\",\"t\":[", JSON_PREFIX_WHOLE,
	       "{\"s\":\"a\\\"}\",\"t\":[]}");
	/* A whole text stays as it is, without what follows it. */
	expect("{\"a\":[1]} trailing", JSON_PREFIX_WHOLE, "{\"a\":[1]}");
}

Test(jsonprefix, partial_mode_keeps_the_cut_string)
{
	expect("{\"choices\":[{\"message\":{\"content\":\"Hello wor",
	       JSON_PREFIX_PARTIAL,
	       "{\"choices\":[{\"message\":{\"content\":\"Hello wor\"}}]}");
	/* not inside an escape, a surrogate pair or a UTF-8 sequence */
	expect("[\"ab\\u00", JSON_PREFIX_PARTIAL, "[\"ab\"]");
	expect("[\"ab\\", JSON_PREFIX_PARTIAL, "[\"ab\"]");
	expect("[\"ab\\ud83d", JSON_PREFIX_PARTIAL, "[\"ab\"]");
	expect("[\"ab\\ud83d\\ude00", JSON_PREFIX_PARTIAL,
	       "[\"ab\\ud83d\\ude00\"]");
	expect("[\"ab\xc3", JSON_PREFIX_PARTIAL, "[\"ab\"]");
	expect("[\"ab\xe2\x82", JSON_PREFIX_PARTIAL, "[\"ab\"]");
	expect("[\"ab\xe2\x82\xac", JSON_PREFIX_PARTIAL, "[\"ab\xe2\x82\xac\"]");
	/* \u of non-hex bytes (cJSON takes them): never cut into */
	expect("[\"ab\\u\xff\x0b\x36\xf0", JSON_PREFIX_PARTIAL, "[\"ab\"]");
	expect("[\"ab\\u\xff\x0b\x36\xf0x", JSON_PREFIX_PARTIAL,
	       "[\"ab\\u\xff\x0b\x36\xf0x\"]");
	/* keys and numbers cut mid-way go */
	expect("{\"a\":1,\"ke", JSON_PREFIX_PARTIAL, "{\"a\":1}");
	expect("{\"a\":1,\"b\":12", JSON_PREFIX_PARTIAL, "{\"a\":1}");
}

Test(jsonprefix, not_json)
{
	char *out;
	size_t len;

	cr_expect_eq(json_prefix__close("", 0, JSON_PREFIX_WHOLE, &out, &len),
		     -EBADMSG);
	cr_expect_eq(json_prefix__close("\"abc", 4, JSON_PREFIX_WHOLE, &out,
					&len), -EBADMSG);
	cr_expect_eq(json_prefix__close("{\"a\" 1", 6, JSON_PREFIX_WHOLE, &out,
					&len), -EBADMSG);
	cr_expect_eq(json_prefix__close("[1]]", 4, JSON_PREFIX_WHOLE, &out,
					&len), 0);
	free(out);
}

Test(jsonprefix, too_deep)
{
	size_t n = CJSON_NESTING_LIMIT + 10, len;
	char *in = malloc(n), *out;

	memset(in, '[', n);
	cr_expect_eq(json_prefix__close(in, n, JSON_PREFIX_WHOLE, &out, &len),
		     -EBADMSG);
	free(in);
}

/* Every cut of a real body closes into JSON that cJSON parses. */
Test(jsonprefix, every_cut_parses)
{
	static const char body[] =
		"{\"model\":\"claude-sonnet-4\",\"max_tokens\":1024,"
		"\"system\":[{\"type\":\"text\",\"text\":\"Be brief \\u00e9\\n\"}],"
		"\"tools\":[{\"name\":\"bash\",\"input_schema\":{\"type\":\"object\"}},"
		"{\"name\":\"edit\",\"input_schema\":{}}],"
		"\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
		"\"text\":\"caf\xc3\xa9 \\ud83d\\ude00\"}]},{\"role\":\"assistant\","
		"\"content\":\"ok\"}],\"stream\":true,\"temperature\":-1.5e-3,"
		"\"x\":[true,false,null]}";
	size_t n, mode;
	cJSON *j;
	char *out;

	for (mode = 0; mode < 2; mode++) {
		for (n = 1; n <= sizeof(body) - 1; n++) {
			out = closed(body, n, (enum json_prefix_mode)mode);
			j = cJSON_Parse(out);
			cr_assert(j, "cut at %zu: %s", n, out);
			cJSON_Delete(j);
			free(out);
		}
	}
}

Test(jsonprefix, request_prefix_fields)
{
	static const char body[] =
		"{\"model\":\"claude-sonnet-4\",\"max_tokens\":1024,\"stream\":true,"
		"\"system\":\"You are a coding agent.\","
		"\"tools\":[{\"name\":\"bash\",\"description\":\"run\",\"input_schema\":{}},"
		"{\"name\":\"edit\",\"description\":\"edit\",\"input_schema\":{}}],"
		"\"messages\":[{\"role\":\"user\",\"content\":\"first\"},"
		"{\"role\":\"assistant\",\"content\":\"second\"},"
		"{\"role\":\"user\",\"content\":\"third, cut in the middle of";
	struct ai_summary sum;
	cJSON *data = cJSON_CreateObject();

	ai_summary__init(&sum);
	cr_assert_eq(extract__request("anthropic.messages", body,
				      sizeof(body) - 1, data, &sum), -EBADMSG);
	cr_assert_eq(extract__request_prefix("anthropic.messages", body,
					     sizeof(body) - 1, data, &sum), 0);
	cr_expect_str_eq(str(data, "model.id"), "claude-sonnet-4");
	cr_expect(cJSON_IsTrue(get(data, "streaming")));
	cr_expect_eq(get(data, "parameters.max_tokens")->valuedouble, 1024);
	cr_expect_eq(get(data, "tools_count")->valuedouble, 2);
	cr_expect_str_eq(str(data, "tools.1.name"), "edit");
	cr_expect(cJSON_IsTrue(get(data, "has_system_prompt")));
	/* the system prompt and the two whole messages */
	cr_expect_eq(get(data, "messages_count")->valuedouble, 3);
	cr_expect_str_eq(str(data, "messages.0.role"), "system");
	cr_expect_str_eq(str(data, "messages.2.content"), "second");
	cr_expect_str_eq(sum.model, "claude-sonnet-4");
	ai_summary__clear(&sum);
	cJSON_Delete(data);
}

Test(jsonprefix, response_prefix_keeps_text)
{
	static const char body[] =
		"{\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":7,"
		"\"completion_tokens\":3,\"total_tokens\":10},\"choices\":[{\"index\":0,"
		"\"message\":{\"role\":\"assistant\",\"content\":\"The answer is forty";
	struct ai_summary sum;
	cJSON *data = cJSON_CreateObject();

	ai_summary__init(&sum);
	cr_assert_eq(extract__response_prefix("openai.chat_completions", body,
					      sizeof(body) - 1, data, &sum), 0);
	cr_expect_str_eq(str(data, "choices.0.message.content"),
			 "The answer is forty");
	cr_expect_eq(get(data, "usage.total_tokens")->valuedouble, 10);
	cr_expect_str_eq(str(data, "model.id"), "gpt-4o");
	ai_summary__clear(&sum);
	cJSON_Delete(data);
}
