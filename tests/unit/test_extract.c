// SPDX-License-Identifier: MIT
/*
 * extract: request and response bodies of every supported API, from the
 * recorded-style fixtures in tests/fixtures/bodies/.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonpath.h"
#include "slurp.h"

#include "event/event.h"
#include "ai/extract.h"
#include "ai/summary.h"

#define FIX "../fixtures/bodies/"

/* The fixture body @name (under FIX), malloc'd; see slurp.h. */
static char *fixture(const char *name, size_t *len)
{
	char path[256];

	snprintf(path, sizeof(path), FIX "%s", name);
	return slurp(path, len);
}

/* Minimal SSE splitter for the fixtures: "event:" / "data:" lines. */
struct sse {
	struct extract_event ev[64];
	char *names[64], *datas[64];
	size_t n;
};

static void sse_parse(struct sse *s, char *text)
{
	char *line, *save = NULL, *name = NULL;

	memset(s, 0, sizeof(*s));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "event:", 6) == 0) {
			name = line + 6 + (line[6] == ' ');
		} else if (strncmp(line, "data:", 5) == 0) {
			cr_assert(s->n < 64);
			s->ev[s->n].event = name;
			s->ev[s->n].data = line + 5 + (line[5] == ' ');
			s->n++;
			name = NULL;
		}
	}
}

static int count(const cJSON *o, const char *path)
{
	const cJSON *v = get(o, path);

	cr_assert(cJSON_IsArray(v), "%s is not an array", path);
	return cJSON_GetArraySize(v);
}

/*
 * The summary of the last request(), response() or stream() (each test
 * runs in a process of its own).
 */
static struct ai_summary sum;

/* extract__response_stream, giving the first token's index in *@first. */
static int stream_first(const char *api, const struct extract_event *ev,
			size_t n, cJSON *d, size_t *first)
{
	int err;

	ai_summary__clear(&sum);
	err = extract__response_stream(api, ev, n, d, &sum);
	if (first)
		*first = sum.first_token_idx;
	return err;
}

static cJSON *request(const char *api, const char *file)
{
	cJSON *d = cJSON_CreateObject();
	size_t len;
	char *body = fixture(file, &len);

	ai_summary__clear(&sum);
	cr_assert_eq(extract__request(api, body, len, d, &sum), 0);
	free(body);
	return d;
}

static cJSON *response(const char *api, const char *file)
{
	cJSON *d = cJSON_CreateObject();
	size_t len;
	char *body = fixture(file, &len);

	ai_summary__clear(&sum);
	cr_assert_eq(extract__response(api, body, len, d, &sum), 0);
	free(body);
	return d;
}

static cJSON *stream(const char *api, const char *file, size_t *first,
		     size_t *n)
{
	static struct sse s;
	cJSON *d = cJSON_CreateObject();
	char *text = fixture(file, NULL);

	sse_parse(&s, text);
	cr_assert_eq(stream_first(api, s.ev, s.n, d, first), 0);
	if (n)
		*n = s.n;
	free(text);
	return d;
}

/* ---- requests ---- */

Test(extract_request, openai_chat)
{
	cJSON *d = request("openai.chat_completions",
			   "openai_chat_request.json");

	cr_assert_str_eq(str(d, "model.id"), "gpt-4o-mini");
	cr_assert_not(boolean(d, "streaming"));
	cr_assert_eq(num(d, "messages_count"), 5);
	cr_assert(boolean(d, "has_system_prompt"));
	cr_assert_str_eq(str(d, "messages.0.role"), "system");
	cr_assert_str_eq(str(d, "messages.1.content"),
			 "What is the weather in Paris?");
	cr_assert(boolean(d, "messages.1.has_images"));
	cr_assert_eq(num(d, "messages.1.image_count"), 1);
	cr_assert_str_eq(str(d, "messages.2.role"), "assistant");
	cr_assert_null(get(d, "messages.2.content"));
	cr_assert_str_eq(str(d, "messages.2.tool_calls.0.name"),
			 "get_weather");
	cr_assert_str_eq(str(d, "messages.2.tool_calls.0.arguments"),
			 "{\"city\":\"Paris\"}");
	cr_assert_str_eq(str(d, "messages.3.role"), "tool");
	cr_assert_str_eq(str(d, "messages.3.tool_call_id"), "call_Wx1");
	cr_assert_str_eq(str(d, "messages.4.name"), "alice");
	cr_assert_eq(num(d, "tools_count"), 1);
	cr_assert_str_eq(str(d, "tools.0.name"), "get_weather");
	cr_assert_str_eq(str(d, "tools.0.type"), "function");
	cr_assert_str_eq(str(d, "tools.0.description"),
			 "Current weather for a city");
	cr_assert_str_eq(str(d, "tool_choice"), "auto");
	cr_assert_float_eq(num(d, "parameters.temperature"), 0.2, 1e-9);
	cr_assert_float_eq(num(d, "parameters.top_p"), 0.9, 1e-9);
	cr_assert_eq(num(d, "parameters.max_tokens"), 256);
	cr_assert_eq(num(d, "parameters.presence_penalty"), 0);
	cr_assert_str_eq(str(d, "parameters.stop.0"), "\n\n");
	cr_assert_eq(num(d, "parameters.seed"), 42);
	cJSON_Delete(d);
}

Test(extract_request, anthropic_messages)
{
	cJSON *d = request("anthropic.messages", "anthropic_request.json");

	cr_assert_str_eq(str(d, "model.id"), "claude-sonnet-4-20250514");
	cr_assert(boolean(d, "streaming"));
	cr_assert_eq(num(d, "messages_count"), 5);
	cr_assert_str_eq(str(d, "messages.0.role"), "system");
	cr_assert_str_eq(str(d, "messages.0.content"),
			 "You are a travel agent.\nPrices are in EUR.");
	cr_assert_str_eq(str(d, "messages.1.content"),
			 "Find me a hotel in Rome.");
	cr_assert_str_eq(str(d, "messages.2.content"), "Let me search.");
	cr_assert_str_eq(str(d, "messages.2.tool_calls.0.id"),
			 "toolu_01A09q90qw90lq917835lq9");
	cr_assert_str_eq(str(d, "messages.2.tool_calls.0.arguments"),
			 "{\"city\":\"Rome\",\"max_price\":150}");
	cr_assert_str_eq(str(d, "messages.3.role"), "tool");
	cr_assert_str_eq(str(d, "messages.3.tool_call_id"),
			 "toolu_01A09q90qw90lq917835lq9");
	cr_assert_str_eq(str(d, "messages.3.content"), "Hotel Roma, 120 EUR");
	cr_assert_str_eq(str(d, "messages.4.role"), "user");
	cr_assert_eq(num(d, "messages.4.image_count"), 1);
	cr_assert_eq(num(d, "tools_count"), 3);
	cr_assert_str_eq(str(d, "tools.0.type"), "function");
	cr_assert_str_eq(str(d, "tools.1.name"), "web_search");
	cr_assert_str_eq(str(d, "tools.1.type"), "other");
	cr_assert_str_eq(str(d, "tools.2.type"), "computer_use");
	cr_assert_str_eq(str(d, "tool_choice"), "required");
	cr_assert_eq(num(d, "parameters.max_tokens"), 1024);
	cr_assert_eq(num(d, "parameters.top_k"), 40);
	cr_assert_str_eq(str(d, "parameters.stop.0"), "###");
	cJSON_Delete(d);
}

Test(extract_request, openai_responses)
{
	cJSON *d = request("openai.responses", "openai_responses_request.json");

	cr_assert_str_eq(str(d, "model.id"), "gpt-4.1");
	cr_assert(boolean(d, "streaming"));
	cr_assert_eq(num(d, "messages_count"), 4);
	cr_assert_str_eq(str(d, "messages.0.role"), "system");
	cr_assert_str_eq(str(d, "messages.0.content"),
			 "You are a concise assistant.");
	cr_assert_str_eq(str(d, "messages.1.content"),
			 "What's the weather in Oslo?");
	cr_assert(boolean(d, "messages.1.has_images"));
	cr_assert_str_eq(str(d, "messages.2.tool_calls.0.id"), "call_oslo");
	cr_assert_str_eq(str(d, "messages.3.role"), "tool");
	cr_assert_str_eq(str(d, "messages.3.tool_call_id"), "call_oslo");
	cr_assert_str_eq(str(d, "messages.3.content"), "{\"temp_c\":-3}");
	cr_assert_eq(num(d, "tools_count"), 3);
	cr_assert_str_eq(str(d, "tools.1.name"), "web_search_preview");
	cr_assert_str_eq(str(d, "tools.2.type"), "file_search");
	cr_assert_str_eq(str(d, "tool_choice"), "specific");
	cr_assert_eq(num(d, "parameters.max_tokens"), 500);
	cr_assert_str_eq(str(d, "parameters.reasoning_effort"), "low");
	cJSON_Delete(d);
}

Test(extract_request, responses_string_input)
{
	const char *b = "{\"model\":\"o4-mini\",\"input\":\"Tell me a joke\"}";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__request("openai.responses", b, strlen(b), d,
				      NULL), 0);
	cr_assert_eq(num(d, "messages_count"), 1);
	cr_assert_str_eq(str(d, "messages.0.role"), "user");
	cr_assert_str_eq(str(d, "messages.0.content"), "Tell me a joke");
	cr_assert_not(boolean(d, "has_system_prompt"));
	cJSON_Delete(d);
}

Test(extract_request, embeddings)
{
	cJSON *d = request("openai.embeddings",
			   "openai_embeddings_request.json");

	cr_assert_str_eq(str(d, "model.id"), "text-embedding-3-small");
	cr_assert_eq(num(d, "input_count"), 2);
	cr_assert_str_eq(str(d, "messages.1.content"),
			 "The waiter was friendly.");
	cr_assert_eq(num(d, "parameters.dimensions"), 4);
	cr_assert_str_eq(str(d, "parameters.encoding_format"), "float");
	cJSON_Delete(d);
}

Test(extract_request, completions_prompt)
{
	const char *b = "{\"model\":\"gpt-3.5-turbo-instruct\","
		"\"prompt\":\"Say this is a test\",\"max_tokens\":7,"
		"\"stop\":\"\\n\"}";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__request("openai.completions", b, strlen(b), d,
				      NULL), 0);
	cr_assert_str_eq(str(d, "messages.0.content"), "Say this is a test");
	cr_assert_eq(num(d, "input_count"), 1);
	cr_assert_str_eq(str(d, "parameters.stop.0"), "\n");
	cJSON_Delete(d);
}

Test(extract_request, gemini_body_and_path)
{
	cJSON *d = request("google.generate_content", "gemini_request.json");

	cr_assert_null(get(d, "streaming"));
	cr_assert_null(get(d, "model"));
	cr_assert_eq(num(d, "messages_count"), 5);
	cr_assert_str_eq(str(d, "messages.0.role"), "system");
	cr_assert_str_eq(str(d, "messages.0.content"),
			 "You are a cat. Your name is Neko.");
	cr_assert_eq(num(d, "messages.1.image_count"), 1);
	cr_assert_str_eq(str(d, "messages.2.role"), "assistant");
	cr_assert_str_eq(str(d, "messages.2.tool_calls.0.name"), "find_toy");
	cr_assert_str_eq(str(d, "messages.2.tool_calls.0.arguments"),
			 "{\"color\":\"red\"}");
	cr_assert_str_eq(str(d, "messages.3.role"), "tool");
	cr_assert_str_eq(str(d, "messages.3.name"), "find_toy");
	cr_assert_str_eq(str(d, "messages.3.content"), "{\"toy\":\"ball\"}");
	cr_assert_eq(num(d, "tools_count"), 3);
	cr_assert_str_eq(str(d, "tools.0.name"), "find_toy");
	cr_assert_str_eq(str(d, "tools.1.type"), "code_interpreter");
	cr_assert_str_eq(str(d, "tools.2.name"), "googleSearch");
	cr_assert_str_eq(str(d, "tool_choice"), "required");
	cr_assert_float_eq(num(d, "parameters.top_p"), 0.8, 1e-9);
	cr_assert_eq(num(d, "parameters.max_tokens"), 800);
	cr_assert_str_eq(str(d, "parameters.stop.0"), "Title");

	cr_assert_eq(extract__request_path("google.generate_content",
		"/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=AIza",
		d, NULL), 0);
	cr_assert_str_eq(str(d, "model.id"), "gemini-2.0-flash");
	cr_assert(boolean(d, "streaming"));
	cr_assert_eq(extract__request_path("google.generate_content",
		"/v1/projects/p/locations/us-central1/publishers/google/models/gemini-1.5-pro:generateContent",
		d, NULL), 0);
	cr_assert_str_eq(str(d, "model.id"), "gemini-1.5-pro");
	cr_assert_not(boolean(d, "streaming"));
	cJSON_Delete(d);
}

Test(extract_request, path_of_other_apis_is_left_alone)
{
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__request_path("openai.chat_completions",
					   "/v1/chat/completions", d, NULL),
		     -ENOENT);
	cr_assert_eq(extract__request_path("other",
					   "/v1/models/x:countTokens", d, NULL),
		     -ENOENT);
	cr_assert_eq(extract__request_path("other", "/models/", d, NULL),
		     -ENOENT);
	cr_assert_null(d->child);
	cJSON_Delete(d);
}

Test(extract_request, not_json_adds_nothing)
{
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__request("other", "{\"model\":", 9, d, NULL),
		     -EBADMSG);
	cr_assert_eq(extract__request("other", "[1,2]", 5, d, NULL),
		     -EBADMSG);
	cr_assert_eq(extract__request("other", "", 0, d, NULL), -EBADMSG);
	cr_assert_null(d->child);
	cJSON_Delete(d);
}

Test(extract_request, body_need_not_be_nul_terminated)
{
	const char b[] = "{\"model\":\"m\"}GARBAGE";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__request("other", b, 13, d, NULL), 0);
	cr_assert_str_eq(str(d, "model.id"), "m");
	cJSON_Delete(d);
}

Test(extract_request, invalid_utf8_is_replaced)
{
	const char b[] = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
			 "\"content\":\"a\xff" "b\xc3\"}]}";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__request("other", b, sizeof(b) - 1, d, NULL), 0);
	cr_assert_str_eq(str(d, "messages.0.content"),
			 "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	cJSON_Delete(d);
}

/*
 * String contents move from the parsed body into the event (valid ones)
 * or are copied cleaned (invalid ones); roles come out as OISP's words.
 */
Test(extract_request, contents_and_roles)
{
	const char b[] = "{\"messages\":["
			 "{\"role\":\"developer\",\"content\":\"be brief\"},"
			 "{\"role\":\"user\",\"content\":\"caf\xc3\xa9\"},"
			 "{\"role\":\"model\",\"content\":\"x\xffy\"},"
			 "{\"role\":\"critic\",\"content\":\"\"},"
			 "{\"role\":\"tool\",\"content\":\"42\","
			 "\"tool_call_id\":\"call_1\"}],"
			 "\"system\":\"top\"}";
	cJSON *d = cJSON_CreateObject();
	char *line;

	cr_assert_eq(extract__request("other", b, sizeof(b) - 1, d, NULL), 0);
	cr_assert_eq(num(d, "messages_count"), 6);
	cr_assert_str_eq(str(d, "messages.0.role"), "system");
	cr_assert_str_eq(str(d, "messages.0.content"), "top");
	cr_assert_str_eq(str(d, "messages.1.role"), "system");
	cr_assert_str_eq(str(d, "messages.1.content"), "be brief");
	cr_assert_str_eq(str(d, "messages.2.role"), "user");
	cr_assert_str_eq(str(d, "messages.2.content"), "caf\xc3\xa9");
	cr_assert_str_eq(str(d, "messages.3.role"), "assistant");
	cr_assert_str_eq(str(d, "messages.3.content"), "x\xef\xbf\xbdy");
	cr_assert_str_eq(str(d, "messages.4.role"), "user");
	cr_assert_str_eq(str(d, "messages.4.content"), "");
	cr_assert_str_eq(str(d, "messages.5.role"), "tool");
	cr_assert_str_eq(str(d, "messages.5.tool_call_id"), "call_1");
	line = event__to_line(d, NULL);
	cr_assert(line);
	cr_assert(strstr(line, "\"role\":\"assistant\",\"content\":\"x\xef\xbf\xbdy\""),
		  "%s", line);
	free(line);
	cJSON_Delete(d);
}

/* An array among the tools has no member names to look at. */
Test(extract_request, tools_that_are_arrays)
{
	const char b[] = "{\"contents\":[],\"tools\":[[1,{\"a\":2}],[],"
			 "{\"codeExecution\":{}},\"x\"]}";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__request("google.generate_content", b,
				      sizeof(b) - 1, d, NULL), 0);
	cr_assert_eq(num(d, "tools_count"), 1);
	cr_assert_str_eq(str(d, "tools.0.name"), "codeExecution");
	cr_assert_str_eq(str(d, "tools.0.type"), "code_interpreter");
	cJSON_Delete(d);
}

/* ---- non-streamed responses ---- */

Test(extract_response, openai_chat)
{
	cJSON *d = response("openai.chat_completions",
			    "openai_chat_response.json");

	cr_assert_str_eq(str(d, "provider_request_id"),
			 "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG");
	cr_assert_str_eq(str(d, "model.id"), "gpt-4o-mini-2024-07-18");
	cr_assert_str_eq(str(d, "choices.0.message.role"), "assistant");
	cr_assert_str_eq(str(d, "choices.0.message.content"),
			 "It is 18 °C and cloudy in Paris.");
	cr_assert_str_eq(str(d, "choices.0.finish_reason"), "stop");
	cr_assert_str_eq(str(d, "finish_reason"), "stop");
	cr_assert_str_eq(str(d, "provider_finish_reason"), "stop");
	cr_assert_eq(num(d, "usage.prompt_tokens"), 1117);
	cr_assert_eq(num(d, "usage.completion_tokens"), 46);
	cr_assert_eq(num(d, "usage.total_tokens"), 1163);
	cr_assert_eq(num(d, "usage.cached_tokens"), 1024);
	cr_assert_eq(num(d, "usage.reasoning_tokens"), 0);
	cr_assert_null(get(d, "tool_calls"));
	cr_assert_not(extract__has_error(d));
	cJSON_Delete(d);
}

Test(extract_response, openai_chat_tool_calls)
{
	cJSON *d = response("openai.chat_completions",
			    "openai_chat_tools_response.json");

	cr_assert_eq(num(d, "tool_calls_count"), 2);
	cr_assert_str_eq(str(d, "tool_calls.0.id"), "call_a1");
	cr_assert_str_eq(str(d, "tool_calls.0.type"), "function");
	cr_assert_str_eq(str(d, "tool_calls.1.name"), "get_time");
	cr_assert_str_eq(str(d, "tool_calls.1.arguments"),
			 "{\"tz\":\"Europe/Paris\"}");
	cr_assert_null(get(d, "choices.0.message.content"));
	cr_assert_eq(count(d, "choices.0.message.tool_calls"), 2);
	cr_assert_str_eq(str(d, "finish_reason"), "tool_calls");
	cJSON_Delete(d);
}

Test(extract_response, openai_responses)
{
	cJSON *d = response("openai.responses", "openai_responses_response.json");

	cr_assert_str_eq(str(d, "provider_request_id"),
			 "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41");
	cr_assert_str_eq(str(d, "model.id"), "gpt-4.1-2025-04-14");
	cr_assert_str_eq(str(d, "choices.0.message.content"),
			 "It is -3 °C in Oslo.");
	cr_assert_str_eq(str(d, "tool_calls.0.id"), "call_more");
	cr_assert_str_eq(str(d, "tool_calls.0.name"), "get_forecast");
	cr_assert_str_eq(str(d, "provider_finish_reason"), "completed");
	cr_assert_str_eq(str(d, "finish_reason"), "tool_calls");
	cr_assert_eq(num(d, "usage.prompt_tokens"), 328);
	cr_assert_eq(num(d, "usage.completion_tokens"), 52);
	cr_assert_eq(num(d, "usage.total_tokens"), 380);
	cr_assert_eq(num(d, "usage.cached_tokens"), 128);
	cr_assert_eq(num(d, "usage.reasoning_tokens"), 12);
	cJSON_Delete(d);
}

Test(extract_response, responses_incomplete)
{
	const char *b = "{\"id\":\"resp_x\",\"object\":\"response\","
		"\"status\":\"incomplete\",\"incomplete_details\":"
		"{\"reason\":\"max_output_tokens\"},\"output\":[]}";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__response("openai.responses", b, strlen(b), d,
				       NULL), 0);
	cr_assert_str_eq(str(d, "finish_reason"), "length");
	cr_assert_str_eq(str(d, "provider_finish_reason"),
			 "max_output_tokens");
	cJSON_Delete(d);
}

Test(extract_response, embeddings)
{
	cJSON *d = response("openai.embeddings",
			    "openai_embeddings_response.json");

	cr_assert_str_eq(str(d, "model.id"), "text-embedding-3-small");
	cr_assert_eq(num(d, "input_count"), 2);
	cr_assert_eq(num(d, "dimensions"), 4);
	cr_assert_eq(num(d, "usage.prompt_tokens"), 10);
	cr_assert_eq(num(d, "usage.total_tokens"), 10);
	cr_assert_null(get(d, "choices"));
	cJSON_Delete(d);
}

Test(extract_response, anthropic_with_cache_and_tool_use)
{
	cJSON *d = response("anthropic.messages", "anthropic_response.json");

	cr_assert_str_eq(str(d, "provider_request_id"),
			 "msg_01XFDUDYJgAACzvnptvVoYEL");
	cr_assert_str_eq(str(d, "model.id"), "claude-sonnet-4-20250514");
	cr_assert_str_eq(str(d, "choices.0.message.content"),
			 "I'll check the distance.");
	cr_assert_str_eq(str(d, "tool_calls.0.id"),
			 "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
	cr_assert_str_eq(str(d, "tool_calls.0.arguments"),
			 "{\"from\":\"Hotel Roma\",\"to\":\"Colosseum\"}");
	cr_assert_str_eq(str(d, "finish_reason"), "tool_calls");
	cr_assert_str_eq(str(d, "provider_finish_reason"), "tool_use");
	/* input_tokens excludes the cache: 472 + 2048 + 100 */
	cr_assert_eq(num(d, "usage.prompt_tokens"), 2620);
	cr_assert_eq(num(d, "usage.completion_tokens"), 89);
	cr_assert_eq(num(d, "usage.total_tokens"), 2709);
	cr_assert_eq(num(d, "usage.cached_tokens"), 2048);
	cr_assert_eq(num(d, "usage.cache_creation_tokens"), 100);
	cJSON_Delete(d);
}

Test(extract_response, gemini)
{
	cJSON *d = response("google.generate_content", "gemini_response.json");

	cr_assert_str_eq(str(d, "provider_request_id"),
			 "mAitaLmkHPPlz7IPvtfUqQ4");
	cr_assert_str_eq(str(d, "model.id"), "gemini-2.5-flash");
	cr_assert_str_eq(str(d, "choices.0.message.content"),
			 "The ball is under the sofa, meow.");
	cr_assert_str_eq(str(d, "tool_calls.0.name"), "fetch_toy");
	cr_assert_str_eq(str(d, "tool_calls.0.arguments"),
			 "{\"toy\":\"ball\",\"where\":\"sofa\"}");
	cr_assert_str_eq(str(d, "provider_finish_reason"), "STOP");
	cr_assert_str_eq(str(d, "finish_reason"), "tool_calls");
	cr_assert_eq(num(d, "usage.prompt_tokens"), 52);
	/* output includes thoughts: 21 + 30 */
	cr_assert_eq(num(d, "usage.completion_tokens"), 51);
	cr_assert_eq(num(d, "usage.total_tokens"), 103);
	cr_assert_eq(num(d, "usage.cached_tokens"), 16);
	cr_assert_eq(num(d, "usage.reasoning_tokens"), 30);
	cJSON_Delete(d);
}

Test(extract_response, gemini_json_array_stream)
{
	const char *b = "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
		"\"Hel\"}],\"role\":\"model\"},\"index\":0}]},"
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}],"
		"\"role\":\"model\"},\"finishReason\":\"MAX_TOKENS\","
		"\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":3,"
		"\"candidatesTokenCount\":2,\"totalTokenCount\":5}}]";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__response("google.generate_content", b,
				       strlen(b), d, NULL), 0);
	cr_assert_str_eq(str(d, "choices.0.message.content"), "Hello");
	cr_assert_str_eq(str(d, "finish_reason"), "length");
	cr_assert_eq(num(d, "usage.total_tokens"), 5);
	cJSON_Delete(d);
}

Test(extract_response, openai_error)
{
	cJSON *d = response("openai.chat_completions", "openai_error.json");

	cr_assert(extract__has_error(d));
	cr_assert_str_eq(str(d, "error.type"), "tokens");
	cr_assert_str_eq(str(d, "error.code"), "rate_limit_exceeded");
	cr_assert(strstr(str(d, "error.message"), "Rate limit reached"));
	cr_assert_str_eq(str(d, "finish_reason"), "error");
	cr_assert_null(get(d, "choices"));
	cJSON_Delete(d);
}

Test(extract_response, anthropic_error)
{
	cJSON *d = response("anthropic.messages", "anthropic_error.json");

	cr_assert(extract__has_error(d));
	cr_assert_str_eq(str(d, "error.type"), "invalid_request_error");
	cr_assert_str_eq(str(d, "error.message"),
			 "max_tokens: Field required");
	cr_assert_str_eq(str(d, "provider_request_id"),
			 "req_011CSHoEeqs5C35K2UUqR7Fy");
	cJSON_Delete(d);
}

Test(extract_response, gemini_error)
{
	cJSON *d = response("google.generate_content", "gemini_error.json");

	cr_assert(extract__has_error(d));
	cr_assert_str_eq(str(d, "error.type"), "INVALID_ARGUMENT");
	cr_assert_str_eq(str(d, "error.code"), "400");
	cJSON_Delete(d);
}

Test(extract_response, string_error_and_garbage)
{
	const char *b = "{\"error\":\"model not found\"}";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__response("other", b, strlen(b), d, NULL), 0);
	cr_assert_str_eq(str(d, "error.message"), "model not found");
	cr_assert_eq(extract__response("other", "<html>", 6, d, NULL),
		     -EBADMSG);
	cJSON_Delete(d);
}

Test(extract_response, completions_text)
{
	const char *b = "{\"id\":\"cmpl-1\",\"object\":\"text_completion\","
		"\"model\":\"gpt-3.5-turbo-instruct\",\"choices\":[{\"text\":"
		"\"This is a test.\",\"index\":0,\"logprobs\":null,"
		"\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":5,"
		"\"completion_tokens\":7,\"total_tokens\":12}}";
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__response("openai.completions", b, strlen(b), d,
				       NULL), 0);
	cr_assert_str_eq(str(d, "choices.0.message.content"),
			 "This is a test.");
	cr_assert_str_eq(str(d, "finish_reason"), "length");
	cJSON_Delete(d);
}

/* ---- streams ---- */

Test(extract_stream, openai_chat_with_usage_chunk)
{
	size_t first, n;
	cJSON *d = stream("openai.chat_completions", "openai_chat_stream.sse",
			  &first, &n);

	cr_assert_eq(n, 7);
	cr_assert_eq(first, 1);
	cr_assert_str_eq(str(d, "provider_request_id"), "chatcmpl-Stream1");
	cr_assert_str_eq(str(d, "model.id"), "gpt-4o-2024-08-06");
	cr_assert_str_eq(str(d, "choices.0.message.content"),
			 "Hello! How can I help?");
	cr_assert_str_eq(str(d, "finish_reason"), "stop");
	cr_assert_eq(num(d, "usage.prompt_tokens"), 19);
	cr_assert_eq(num(d, "usage.completion_tokens"), 9);
	cr_assert_eq(num(d, "usage.total_tokens"), 28);
	cr_assert_not(extract__has_error(d));
	cJSON_Delete(d);
}

Test(extract_stream, openai_chat_tool_call_deltas)
{
	size_t first;
	cJSON *d = stream("openai.chat_completions",
			  "openai_chat_stream_tools.sse", &first, NULL);

	cr_assert_eq(first, 0);
	cr_assert_eq(num(d, "tool_calls_count"), 2);
	cr_assert_str_eq(str(d, "tool_calls.0.id"),
			 "call_DdmO9pD3xa9XTPNJ32zg2hcA");
	cr_assert_str_eq(str(d, "tool_calls.0.name"), "get_weather");
	cr_assert_str_eq(str(d, "tool_calls.0.arguments"),
			 "{\"city\":\"Paris\"}");
	cr_assert_str_eq(str(d, "tool_calls.1.arguments"), "{\"tz\":\"CET\"}");
	cr_assert_str_eq(str(d, "finish_reason"), "tool_calls");
	cr_assert_null(get(d, "usage"));
	cJSON_Delete(d);
}

Test(extract_stream, openai_two_choices_and_in_stream_error)
{
	struct extract_event ev[] = {
		{ NULL, "{\"id\":\"c\",\"choices\":[{\"index\":1,\"delta\":"
			"{\"content\":\"B\"}},{\"index\":0,\"delta\":"
			"{\"content\":\"A\"}}]}" },
		{ NULL, "{\"error\":{\"message\":\"The server had an error\","
			"\"type\":\"server_error\",\"code\":null}}" },
		{ NULL, "[DONE]" },
	};
	cJSON *d = cJSON_CreateObject();
	size_t first;

	cr_assert_eq(stream_first("other", ev, 3, d, &first), 0);
	cr_assert_eq(first, 0);
	cr_assert_eq(num(d, "choices.0.index"), 0);
	cr_assert_str_eq(str(d, "choices.0.message.content"), "A");
	cr_assert_str_eq(str(d, "choices.1.message.content"), "B");
	cr_assert(extract__has_error(d));
	cr_assert_str_eq(str(d, "error.type"), "server_error");
	cr_assert_str_eq(str(d, "finish_reason"), "error");
	cJSON_Delete(d);
}

Test(extract_stream, responses_api)
{
	size_t first;
	cJSON *d = stream("openai.responses", "openai_responses_stream.sse",
			  &first, NULL);

	cr_assert_eq(first, 4);
	cr_assert_str_eq(str(d, "provider_request_id"), "resp_stream_1");
	cr_assert_str_eq(str(d, "model.id"), "gpt-4.1-2025-04-14");
	cr_assert_str_eq(str(d, "choices.0.message.content"), "Hi there!");
	cr_assert_eq(num(d, "tool_calls_count"), 1);
	cr_assert_str_eq(str(d, "tool_calls.0.id"), "call_s1");
	cr_assert_str_eq(str(d, "tool_calls.0.arguments"),
			 "{\"city\":\"Rome\"}");
	cr_assert_eq(num(d, "usage.prompt_tokens"), 37);
	cr_assert_eq(num(d, "usage.completion_tokens"), 11);
	cr_assert_eq(num(d, "usage.total_tokens"), 48);
	cr_assert_str_eq(str(d, "provider_finish_reason"), "completed");
	cr_assert_str_eq(str(d, "finish_reason"), "tool_calls");
	cJSON_Delete(d);
}

Test(extract_stream, responses_failed_and_error_event)
{
	struct extract_event ev[] = {
		{ "response.failed", "{\"type\":\"response.failed\","
		  "\"response\":{\"id\":\"resp_f\",\"status\":\"failed\","
		  "\"error\":{\"code\":\"server_error\",\"message\":\"boom\"},"
		  "\"output\":[]}}" },
	};
	struct extract_event ev2[] = {
		{ "error", "{\"type\":\"error\",\"code\":\"ERR_SOMETHING\","
		  "\"message\":\"Something went wrong\",\"param\":null}" },
	};
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__response_stream("openai.responses", ev, 1, d,
					      NULL), 0);
	cr_assert_str_eq(str(d, "error.type"), "server_error");
	cr_assert_str_eq(str(d, "error.message"), "boom");
	cr_assert_str_eq(str(d, "finish_reason"), "error");
	cJSON_Delete(d);
	d = cJSON_CreateObject();
	cr_assert_eq(extract__response_stream("openai.responses", ev2, 1, d,
					      NULL), 0);
	cr_assert_str_eq(str(d, "error.code"), "ERR_SOMETHING");
	cr_assert_str_eq(str(d, "error.message"), "Something went wrong");
	cJSON_Delete(d);
}

/* The Responses API over WebSocket nests its error event's object. */
Test(extract_stream, responses_websocket_error_event)
{
	struct extract_event ev[] = {
		{ NULL, "{\"type\":\"error\",\"status\":400,\"error\":{"
		  "\"type\":\"invalid_request_error\",\"code\":"
		  "\"model_not_found\",\"message\":\"no such model\","
		  "\"param\":\"model\"}}" },
	};
	cJSON *d = cJSON_CreateObject();

	cr_assert_eq(extract__response_stream("openai.responses", ev, 1, d,
					      NULL), 0);
	cr_assert_str_eq(str(d, "error.type"), "invalid_request_error");
	cr_assert_str_eq(str(d, "error.code"), "model_not_found");
	cr_assert_str_eq(str(d, "error.param"), "model");
	cr_assert_str_eq(str(d, "error.message"), "no such model");
	cr_assert_str_eq(str(d, "finish_reason"), "error");
	cJSON_Delete(d);
}

Test(extract_stream, anthropic_text_and_tool_use)
{
	size_t first;
	cJSON *d = stream("anthropic.messages", "anthropic_stream.sse",
			  &first, NULL);

	cr_assert_eq(first, 3);
	cr_assert_str_eq(str(d, "provider_request_id"),
			 "msg_014p7gG3wDgGV9EUtLvnow3U");
	cr_assert_str_eq(str(d, "model.id"), "claude-sonnet-4-20250514");
	cr_assert_str_eq(str(d, "choices.0.message.content"),
			 "Okay, let me check the weather.");
	cr_assert_str_eq(str(d, "tool_calls.0.id"),
			 "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
	cr_assert_str_eq(str(d, "tool_calls.0.name"), "get_weather");
	cr_assert_str_eq(str(d, "tool_calls.0.arguments"),
			 "{\"location\": \"San Francisco, CA\"}");
	cr_assert_str_eq(str(d, "finish_reason"), "tool_calls");
	cr_assert_str_eq(str(d, "provider_finish_reason"), "tool_use");
	cr_assert_eq(num(d, "usage.prompt_tokens"), 472);
	cr_assert_eq(num(d, "usage.completion_tokens"), 89);
	cr_assert_eq(num(d, "usage.total_tokens"), 561);
	cJSON_Delete(d);
}

Test(extract_stream, anthropic_error_event)
{
	cJSON *d = stream("anthropic.messages", "anthropic_stream_error.sse",
			  NULL, NULL);

	cr_assert(extract__has_error(d));
	cr_assert_str_eq(str(d, "error.type"), "overloaded_error");
	cr_assert_str_eq(str(d, "error.message"), "Overloaded");
	cr_assert_str_eq(str(d, "choices.0.message.content"), "Once upon");
	cr_assert_str_eq(str(d, "finish_reason"), "error");
	cr_assert_eq(num(d, "usage.prompt_tokens"), 25);
	cJSON_Delete(d);
}

Test(extract_stream, gemini_sse)
{
	size_t first;
	cJSON *d = stream("google.generate_content", "gemini_stream.sse",
			  &first, NULL);

	cr_assert_eq(first, 0);
	cr_assert_str_eq(str(d, "choices.0.message.content"),
			 "Once upon a time, in a land far away, a cat lived.");
	cr_assert_str_eq(str(d, "model.id"), "gemini-2.0-flash");
	cr_assert_str_eq(str(d, "finish_reason"), "stop");
	cr_assert_eq(num(d, "usage.prompt_tokens"), 8);
	cr_assert_eq(num(d, "usage.completion_tokens"), 14);
	cr_assert_eq(num(d, "usage.total_tokens"), 22);
	cJSON_Delete(d);
}

Test(extract_stream, no_output_and_non_json)
{
	struct extract_event ev[] = {
		{ NULL, ": keep-alive" }, { "error", "upstream timeout" },
		{ NULL, "[DONE]" },
	};
	cJSON *d = cJSON_CreateObject();
	size_t first = 0;

	cr_assert_eq(stream_first("other", ev, 3, d, &first), 0);
	cr_assert_eq(first, 3);
	cr_assert_str_eq(str(d, "error.type"), "stream_error");
	cr_assert_str_eq(str(d, "error.message"), "upstream timeout");
	cJSON_Delete(d);
}

/* ---- finish reasons ---- */

Test(extract, normalize_finish)
{
	static const char *const t[][2] = {
		{ "end_turn", "stop" }, { "stop_sequence", "stop" },
		{ "stop", "stop" }, { "STOP", "stop" },
		{ "max_tokens", "length" }, { "length", "length" },
		{ "MAX_TOKENS", "length" }, { "tool_use", "tool_calls" },
		{ "tool_calls", "tool_calls" },
		{ "function_call", "tool_calls" },
		{ "content_filter", "content_filter" },
		{ "SAFETY", "content_filter" },
		{ "refusal", "content_filter" }, { "pause_turn", "other" },
		{ "FINISH_REASON_UNSPECIFIED", "other" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_str_eq(extract__normalize_finish(t[i][0]), t[i][1],
				 "%s", t[i][0]);
	cr_assert_str_eq(extract__normalize_finish(NULL), "other");
}

/*
 * Every fixture as a whole event, written (when the build directory
 * exists) to ../../build/tests/extract-sample.jsonl so that
 * tests/validate-events.py can check the schema against real output.
 */
#define SAMPLE "../../build/tests/extract-sample.jsonl"

#include "event/ulid.h"

static const char *streq_type(const char *type)
{
	return strcmp(type, "ai.response") == 0 ?
	       "01ARZ3NDEKTSV4RRFFQ69G5FAV" : NULL;
}

static void sample_event(struct ulid_gen *g, const char *type,
			 const char *provider, cJSON *data, FILE *f)
{
	static const struct event_host h = {
		.hostname = "node-1", .kernel = "6.8.0", .arch = "x86_64",
	};
	struct event_proc p = { .pid = 10, .tid = 11, .uid = 1000,
				.gid = 1000, .comm = "client" };
	struct event_meta m = {
		.type = type, .ts_real_ns = 1700000000000000000ULL,
		.ts_mono_ns = 123, .capture_point = "tls_client",
		.rule = provider, .completeness = "full",
		.related_event_id = streq_type(type),
	};
	cJSON *ev, *empty, *prov;
	char *line;

	ev = event__new(g, &h, &p, &m, &empty, NULL);
	cr_assert(ev);
	cJSON_AddStringToObject(data, "request_id", "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	prov = cJSON_AddObjectToObject(data, "provider");
	cJSON_AddStringToObject(prov, "name", provider);
	if (strcmp(type, "ai.request") == 0) {
		cJSON_AddStringToObject(data, "request_type", "chat");
	} else {
		cJSON_AddNumberToObject(data, "status_code",
					extract__has_error(data) ? 400 : 200);
		cJSON_AddBoolToObject(data, "success",
				      !extract__has_error(data));
		cJSON_AddNumberToObject(data, "latency_ms", 12.5);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(ev, "data", data);
	line = event__to_line(ev, NULL);
	cr_assert(line);
	fprintf(f, "%s\n", line);
	free(line);
	cJSON_Delete(ev);
}

Test(extract, sample_events_for_the_schema)
{
	static const struct {
		const char *kind, *api, *provider, *file;
	} t[] = {
		{ "req", "openai.chat_completions", "openai",
		  "openai_chat_request.json" },
		{ "req", "openai.responses", "openai",
		  "openai_responses_request.json" },
		{ "req", "openai.embeddings", "openai",
		  "openai_embeddings_request.json" },
		{ "req", "anthropic.messages", "anthropic",
		  "anthropic_request.json" },
		{ "req", "google.generate_content", "google",
		  "gemini_request.json" },
		{ "resp", "openai.chat_completions", "openai",
		  "openai_chat_response.json" },
		{ "resp", "openai.chat_completions", "openai",
		  "openai_chat_tools_response.json" },
		{ "resp", "openai.responses", "openai",
		  "openai_responses_response.json" },
		{ "resp", "openai.embeddings", "openai",
		  "openai_embeddings_response.json" },
		{ "resp", "anthropic.messages", "anthropic",
		  "anthropic_response.json" },
		{ "resp", "google.generate_content", "google",
		  "gemini_response.json" },
		{ "resp", "other", "openai", "openai_error.json" },
		{ "resp", "other", "anthropic", "anthropic_error.json" },
		{ "resp", "other", "google", "gemini_error.json" },
		{ "sse", "openai.chat_completions", "openai",
		  "openai_chat_stream.sse" },
		{ "sse", "openai.chat_completions", "openai",
		  "openai_chat_stream_tools.sse" },
		{ "sse", "openai.responses", "openai",
		  "openai_responses_stream.sse" },
		{ "sse", "anthropic.messages", "anthropic",
		  "anthropic_stream.sse" },
		{ "sse", "anthropic.messages", "anthropic",
		  "anthropic_stream_error.sse" },
		{ "sse", "google.generate_content", "google",
		  "gemini_stream.sse" },
	};
	struct ulid_gen *g;
	cJSON *d;
	FILE *f;
	size_t i;

	f = fopen(SAMPLE, "w");
	if (!f)
		return;		/* out-of-tree build: nothing to leave behind */
	cr_assert_eq(ulid__new(&g), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].kind[0] == 'r' && t[i].kind[2] == 'q')
			d = request(t[i].api, t[i].file);
		else if (t[i].kind[0] == 'r')
			d = response(t[i].api, t[i].file);
		else
			d = stream(t[i].api, t[i].file, NULL, NULL);
		sample_event(g, t[i].kind[2] == 'q' ? "ai.request"
						    : "ai.response",
			     t[i].provider, d, f);
	}
	ulid__free(g);
	fclose(f);
}

/*
 * Numbers a body may carry that no event can: out-of-range, fractional
 * or negative counts are left out, never converted (found by fuzzing:
 * a 1e126 max_tokens was undefined behaviour).
 */
Test(extract_request, absurd_numbers_are_left_out)
{
	const char *req = "{\"model\":\"m\",\"max_tokens\":1e126,"
		"\"temperature\":0.5,\"messages\":[]}";
	const char *resp = "{\"id\":\"x\",\"choices\":[],\"usage\":"
		"{\"prompt_tokens\":-3,\"completion_tokens\":2.5,"
		"\"total_tokens\":7}}";
	cJSON *d = cJSON_CreateObject();
	const cJSON *params, *usage;

	cr_assert_eq(extract__request("openai.chat_completions", req,
				      strlen(req), d, NULL), 0);
	params = cJSON_GetObjectItem(d, "parameters");
	cr_assert_null(cJSON_GetObjectItem(params, "max_tokens"));
	cr_assert_float_eq(cJSON_GetObjectItem(params, "temperature")->valuedouble,
			   0.5, 1e-9);
	cJSON_Delete(d);
	d = cJSON_CreateObject();
	cr_assert_eq(extract__response("openai.chat_completions", resp,
				       strlen(resp), d, NULL), 0);
	usage = cJSON_GetObjectItem(d, "usage");
	cr_assert_null(cJSON_GetObjectItem(usage, "prompt_tokens"));
	cr_assert_null(cJSON_GetObjectItem(usage, "completion_tokens"));
	cr_assert_eq(cJSON_GetObjectItem(usage, "total_tokens")->valueint, 7);
	cJSON_Delete(d);
}

/* ---- the typed summary: what was written into data, for statistics ---- */

Test(extract_summary, openai_chat_request_and_response)
{
	cJSON *d = request("openai.chat_completions",
			   "openai_chat_request.json");

	cr_assert_str_eq(sum.model, "gpt-4o-mini");
	cr_assert_eq(sum.streaming, 0);
	cr_assert_eq(sum.prompt_tokens, AI_TOKENS_NONE);
	cr_assert_not(sum.error);
	cr_assert_null(sum.finish_reason);
	cJSON_Delete(d);

	d = response("openai.chat_completions", "openai_chat_response.json");
	cr_assert_str_eq(sum.model, "gpt-4o-mini-2024-07-18");
	cr_assert_eq(sum.streaming, 0);
	cr_assert_eq(sum.prompt_tokens, 1117);
	cr_assert_eq(sum.completion_tokens, 46);
	cr_assert_eq(sum.total_tokens, 1163);
	cr_assert_eq(sum.cached_tokens, 1024);
	cr_assert_eq(sum.reasoning_tokens, 0);
	cr_assert_eq(sum.cache_creation_tokens, AI_TOKENS_NONE);
	cr_assert_str_eq(sum.finish_reason, "stop");
	cr_assert_not(sum.error);
	cr_assert_null(sum.error_type);
	cJSON_Delete(d);
	ai_summary__clear(&sum);
}

Test(extract_summary, anthropic_stream)
{
	size_t first, n;
	cJSON *d = stream("anthropic.messages", "anthropic_stream.sse",
			  &first, &n);

	cr_assert_str_eq(sum.model, "claude-sonnet-4-20250514");
	cr_assert_eq(sum.streaming, 1);
	cr_assert_eq(sum.first_token_idx, 3);
	cr_assert_lt(sum.first_token_idx, n);
	/* input_tokens plus cache reads and writes (both 0 here) */
	cr_assert_eq(sum.prompt_tokens, 472);
	cr_assert_eq(sum.completion_tokens, 89);
	cr_assert_eq(sum.total_tokens, 561);
	cr_assert_eq(sum.cached_tokens, 0);
	cr_assert_eq(sum.cache_creation_tokens, 0);
	cr_assert_eq(sum.reasoning_tokens, AI_TOKENS_NONE);
	cr_assert_str_eq(sum.finish_reason, "tool_calls");
	cr_assert_not(sum.error);
	cJSON_Delete(d);
	ai_summary__clear(&sum);
}

Test(extract_summary, gemini_request_path_and_response)
{
	struct ai_summary s;
	cJSON *d = request("google.generate_content", "gemini_request.json");

	/* Gemini states neither in the body: the path does. */
	cr_assert_null(sum.model);
	cr_assert_eq(sum.streaming, -1);
	cr_assert_eq(extract__request_path("google.generate_content",
		"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
		d, &sum), 0);
	cr_assert_str_eq(sum.model, "gemini-2.5-flash");
	cr_assert_eq(sum.streaming, 1);
	cJSON_Delete(d);

	d = response("google.generate_content", "gemini_response.json");
	cr_assert_str_eq(sum.model, "gemini-2.5-flash");
	cr_assert_eq(sum.prompt_tokens, 52);
	cr_assert_eq(sum.completion_tokens, 51);	/* 21 + 30 thoughts */
	cr_assert_eq(sum.total_tokens, 103);
	cr_assert_eq(sum.cached_tokens, 16);
	cr_assert_eq(sum.reasoning_tokens, 30);
	cr_assert_str_eq(sum.finish_reason, "tool_calls");
	cJSON_Delete(d);
	ai_summary__clear(&sum);

	/* Not JSON: nothing written, the summary is left as it was. */
	ai_summary__init(&s);
	d = cJSON_CreateObject();
	cr_assert_eq(extract__response("other", "<html>", 6, d, &s),
		     -EBADMSG);
	cr_assert_null(s.model);
	cr_assert_eq(s.streaming, -1);
	cr_assert_eq(s.total_tokens, AI_TOKENS_NONE);
	cJSON_Delete(d);
}

Test(extract_summary, error_bodies)
{
	cJSON *d = response("openai.chat_completions", "openai_error.json");

	cr_assert(sum.error);
	cr_assert_str_eq(sum.error_type, "tokens");
	cr_assert_str_eq(sum.finish_reason, "error");
	cr_assert_null(sum.model);
	cr_assert_eq(sum.prompt_tokens, AI_TOKENS_NONE);
	cJSON_Delete(d);

	d = response("google.generate_content", "gemini_error.json");
	cr_assert(sum.error);
	cr_assert_str_eq(sum.error_type, "INVALID_ARGUMENT");
	cJSON_Delete(d);

	d = stream("anthropic.messages", "anthropic_stream_error.sse", NULL,
		   NULL);
	cr_assert(sum.error);
	cr_assert_str_eq(sum.error_type, "overloaded_error");
	cr_assert_str_eq(sum.finish_reason, "error");
	cr_assert_eq(sum.prompt_tokens, 25);
	cJSON_Delete(d);
	ai_summary__clear(&sum);
}
