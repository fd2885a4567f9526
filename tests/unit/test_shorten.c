// SPDX-License-Identifier: MIT
/*
 * shorten: an event's data cut to fit output.max_event_bytes, content
 * strings first, the oldest messages first, each marked with its length.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonpath.h"

#include "ai/shorten.h"

static size_t printed(const cJSON *d)
{
	char *s = cJSON_PrintUnformatted(d);
	size_t n = strlen(s);

	free(s);
	return n;
}

static cJSON *data_of(size_t n_msgs, size_t len)
{
	cJSON *d = cJSON_CreateObject(), *msgs, *m, *tools, *t;
	char *text = malloc(len + 1);
	size_t i;

	memset(text, 'a', len);
	text[len] = '\0';
	cJSON_AddItemToObject(cJSON_AddObjectToObject(d, "model"), "id",
			      cJSON_CreateString("gpt-x"));
	msgs = cJSON_AddArrayToObject(d, "messages");
	for (i = 0; i < n_msgs; i++) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "user");
		text[0] = (char)('0' + i);
		cJSON_AddStringToObject(m, "content", text);
		cJSON_AddItemToArray(msgs, m);
	}
	tools = cJSON_AddArrayToObject(d, "tools");
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "name", "bash");
	cJSON_AddStringToObject(t, "description", "runs a command");
	cJSON_AddItemToArray(tools, t);
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(d, "usage"),
				"total_tokens", 7);
	free(text);
	return d;
}

Test(shorten, oldest_messages_first_and_marked)
{
	cJSON *d = data_of(3, 1000);
	struct shorten_stats st = { 0 };
	size_t before = printed(d);

	cr_assert(shorten__data(d, 1500, &st));
	cr_expect_leq(printed(d), before - 1500, "%zu %zu", printed(d), before);
	/* the first message is gone to "", the second cut, the third whole */
	cr_expect_str_eq(str(d, "messages.0.content"), "");
	cr_expect_eq(get(d, "messages.0.content_length")->valuedouble, 1000);
	cr_expect_lt(strlen(str(d, "messages.1.content")), 1000);
	cr_expect_gt(strlen(str(d, "messages.1.content")), 0);
	cr_expect_eq(str(d, "messages.1.content")[0], '1');
	cr_expect_eq(get(d, "messages.1.content_length")->valuedouble, 1000);
	cr_expect_eq(strlen(str(d, "messages.2.content")), 1000);
	cr_expect_null(get(d, "messages.2.content_length"));
	cr_expect_str_eq(str(d, "model.id"), "gpt-x");
	cr_expect_eq(get(d, "usage.total_tokens")->valuedouble, 7);
	cr_expect_eq(get(d, "shortened.strings")->valuedouble, 2);
	cr_expect_eq(st.strings, 2);
	cJSON_Delete(d);
}

Test(shorten, utf8_boundary)
{
	cJSON *d = cJSON_CreateObject(), *m;
	struct shorten_stats st = { 0 };
	const char *s;

	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "content", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "messages"), m);
	cr_assert(shorten__data(d, 1, &st));
	s = str(d, "messages.0.content");
	cr_expect_eq(strlen(s) % 2, 0, "cut inside a character: %zu", strlen(s));
	cJSON_Delete(d);
}

Test(shorten, lists_go_when_no_string_is_left)
{
	cJSON *d = data_of(2, 10);
	struct shorten_stats st = { 0 };
	int rounds = 0;

	while (shorten__data(d, 100000, &st))
		rounds++;
	cr_expect_gt(rounds, 1);
	cr_expect_null(get(d, "messages"));
	cr_expect_null(get(d, "tools"));
	cr_expect_eq(st.elements, 3);
	cr_expect_str_eq(str(d, "model.id"), "gpt-x");
	cr_expect_eq(get(d, "shortened.elements")->valuedouble, 3);
	cJSON_Delete(d);
}
