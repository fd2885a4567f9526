// SPDX-License-Identifier: MIT
/* Unit tests of sensor/ai/redact.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ai/redact.h"

/* struct redact_rule holds char *; the literals here are never written. */
#define RS(lit) ((char *)(lit))

static struct redactor *rd;

static void setup(void)
{
	char err[256] = "";

	cr_assert_eq(redactor__new(&rd, NULL, 0, err, sizeof(err)), 0, "%s",
		     err);
}

static void teardown(void)
{
	redactor__free(rd);
	rd = NULL;
}

/* Redacts @in and compares with @want (NULL: nothing may change). */
static void check(const char *in, const char *want, int n)
{
	char *out = (char *)1;
	int ret = redactor__string(rd, in, &out, NULL);

	cr_assert_eq(ret, n, "\"%s\": %d replacements, expected %d", in, ret,
		     n);
	if (!want) {
		cr_expect_null(out, "\"%s\" changed to \"%s\"", in, out);
		return;
	}
	cr_assert_not_null(out);
	cr_expect_str_eq(out, want);
	free(out);
}

TestSuite(redact, .init = setup, .fini = teardown);

Test(redact, builtins)
{
	cr_expect_eq(redactor__count(rd), 8);
	check("key sk-proj-abcdefghijklmnopqrstuvwxyz0123 end",
	      "key [REDACTED:openai_key] end", 1);
	check("sk-abcdefghijklmnopqrstuvwx", "[REDACTED:openai_key]", 1);
	check("key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx_yz-0",
	      "key [REDACTED:anthropic_key]", 1);
	check("x-api-key: sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx_yz-0",
	      "[REDACTED:credential_header]", 1);
	check("?key=AIzaSyA1234567890abcdefghijklmnopqrstuv&x=1",
	      "?key=[REDACTED:google_api_key]&x=1", 1);
	check("AKIAIOSFODNN7EXAMPLE is the id",
	      "[REDACTED:aws_access_key] is the id", 1);
	/* A written-out credential header goes whole, scheme included. */
	check("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc",
	      "[REDACTED:credential_header]", 1);
	check("authorization: bearer sk-abcdefghijklmnopqrstuvwx",
	      "[REDACTED:credential_header]", 1);
	check("curl -H 'x-api-key: short-key' -H 'api-key:k2' https://h",
	      "curl -H '[REDACTED:credential_header]' -H "
	      "'[REDACTED:credential_header]' https://h", 2);
	check("token Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc here",
	      "token [REDACTED:bearer_token] here", 1);
	check("mail jane.doe+ai@mail.example.co.uk, please",
	      "mail [REDACTED:email], please", 1);
	check("card 4111 1111 1111 1111 exp", "card [REDACTED:credit_card] exp",
	      1);
	check("card 4111-1111-1111-1111.", "card [REDACTED:credit_card].", 1);
	check("5500005555555559", "[REDACTED:credit_card]", 1);
	check("378282246310005", "[REDACTED:credit_card]", 1);
}

Test(redact, non_matches)
{
	check("", NULL, 0);
	check("hello world", NULL, 0);
	check("sk-short", NULL, 0);
	check("task-abcdefghijklmnopqrstuvwxyz", NULL, 0);
	/* Luhn fails. */
	check("order 4111 1111 1111 1112", NULL, 0);
	check("1234567890123", NULL, 0);
	/* Too short or too long digit runs. */
	check("411111111111", NULL, 0);
	check("41111111111111111111111111", NULL, 0);
	check("not an email: a@b", NULL, 0);
	check("@example.com", NULL, 0);
	check("Bearer x", NULL, 0);
	check("AKIA1234", NULL, 0);
}

Test(redact, several_and_adjacent)
{
	check("a@x.io b@y.io", "[REDACTED:email] [REDACTED:email]", 2);
	check("sk-abcdefghijklmnopqrstuvwx and AKIAIOSFODNN7EXAMPLE",
	      "[REDACTED:openai_key] and [REDACTED:aws_access_key]", 2);
	/* The leftmost match wins: Bearer covers the key inside it. */
	check("Bearer sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
	      "[REDACTED:bearer_token]", 1);
}

Test(redact, findings)
{
	struct redact_findings f = { 0 };
	char *out;

	cr_assert_eq(redactor__string(rd, "a@x.io b@y.io AKIAIOSFODNN7EXAMPLE",
				      &out, &f), 3);
	free(out);
	cr_assert_eq(redactor__string(rd, "c@z.io", &out, &f), 1);
	free(out);
	cr_expect_eq(f.total, 4);
	cr_assert_eq(f.n_rules, 2);
	cr_expect_str_eq(f.by_rule[0].name, "email");
	cr_expect_eq(f.by_rule[0].count, 3);
	cr_expect_str_eq(f.by_rule[1].name, "aws_access_key");
	cr_expect_eq(f.by_rule[1].count, 1);
	cr_assert_eq(redactor__string(rd, "nothing", &out, &f), 0);
	cr_expect_null(out);
	cr_expect_eq(f.total, 4);
}

Test(redact, long_input_stays_fast)
{
	size_t n = 4u << 20;
	char *s = malloc(n + 1), *out;
	size_t i;

	cr_assert(s);
	/* Long runs of what the patterns consume, with no match. */
	for (i = 0; i < n; i++)
		s[i] = "abc.def_0123456789"[i % 18];
	s[n] = '\0';
	cr_expect_eq(redactor__string(rd, s, &out, NULL), 0);
	memset(s, '7', n);
	cr_expect_eq(redactor__string(rd, s, &out, NULL), 0);
	memset(s, 'a', n);
	s[n / 2] = '@';
	cr_expect_eq(redactor__string(rd, s, &out, NULL), 0);
	free(s);
}

Test(redact, binary_bytes)
{
	check("\xff\xfe a@x.io \x80", "\xff\xfe [REDACTED:email] \x80", 1);
}

Test(redact, json_values_not_keys)
{
	cJSON *j = cJSON_Parse(
		"{\"a@x.io\":\"mail a@x.io\",\"n\":4111111111111111,"
		"\"msgs\":[{\"content\":\"key sk-abcdefghijklmnopqrstuvwx\"},"
		"\"Bearer abcdefgh12345\",[\"b@y.io\"]],\"ok\":\"fine\"}");
	struct redact_findings f = { 0 };
	char *txt;

	cr_assert(j);
	cr_expect_eq(redactor__json(rd, j, &f), 4);
	txt = cJSON_PrintUnformatted(j);
	cr_expect_str_eq(txt,
			 "{\"a@x.io\":\"mail [REDACTED:email]\",\"n\":4111111111111111,"
			 "\"msgs\":[{\"content\":\"key [REDACTED:openai_key]\"},"
			 "\"[REDACTED:bearer_token]\",[\"[REDACTED:email]\"]],"
			 "\"ok\":\"fine\"}");
	cr_expect_eq(f.total, 4);
	free(txt);
	cJSON_Delete(j);
}

Test(redact, json_root_string_and_references)
{
	cJSON *s = cJSON_CreateString("x a@x.io");
	cJSON *arr = cJSON_CreateArray();

	cr_expect_eq(redactor__json(rd, s, NULL), 1);
	cr_expect_str_eq(s->valuestring, "x [REDACTED:email]");
	cJSON_Delete(s);
	cJSON_AddItemToArray(arr, cJSON_CreateStringReference("b@y.io"));
	cr_expect_eq(redactor__json(rd, arr, NULL), 1);
	cr_expect_str_eq(arr->child->valuestring, "[REDACTED:email]");
	cJSON_Delete(arr);
	cr_expect_eq(redactor__json(rd, NULL, NULL), 0);
}

Test(redact_extra, extra_patterns)
{
	struct redact_rule extra[] = {
		{ RS("employee_id"), RS("EMP-[0-9]{6}") },
		{ RS("ssn"), RS("\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b") },
	};
	struct redactor *r;
	char err[256], *out;

	cr_assert_eq(redactor__new(&r, extra, 2, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(redactor__count(r), 10);
	cr_assert_eq(redactor__string(r, "EMP-123456 has 123-45-6789", &out,
				      NULL), 2);
	cr_expect_str_eq(out, "[REDACTED:employee_id] has [REDACTED:ssn]");
	free(out);
	redactor__free(r);
	redactor__free(NULL);
}

Test(redact_extra, errors)
{
	struct redact_rule bad_re[] = {
		{ RS("ok"), RS("x") }, { RS("broken"), RS("a(b") },
	};
	struct redact_rule dup[] = { { RS("x"), RS("a") }, { RS("x"), RS("b") } };
	struct redact_rule builtin[] = { { RS("email"), RS("a") } };
	struct redact_rule badname[] = { { RS("my key"), RS("a") } };
	struct redact_rule empty[] = { { RS("e"), RS("") } };
	struct redactor *r = (struct redactor *)1;
	char err[256];

	cr_expect_eq(redactor__new(&r, bad_re, 2, err, sizeof(err)), -EINVAL);
	cr_expect_null(r);
	cr_expect_str_eq(err,
			 "redaction.patterns[1] (broken): PCRE2 error at offset 3: missing closing parenthesis");
	cr_expect_eq(redactor__new(&r, dup, 2, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "redaction.patterns[1] (x): ") &&
		  strstr(err, "twice"), "%s", err);
	cr_expect_eq(redactor__new(&r, builtin, 1, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "built-in"), "%s", err);
	cr_expect_eq(redactor__new(&r, badname, 1, err, sizeof(err)), -EINVAL);
	cr_expect_eq(redactor__new(&r, empty, 1, err, sizeof(err)), -EINVAL);
	cr_expect_eq(redact__check_regex("a[", err, sizeof(err)), -EINVAL);
	cr_expect(!strncmp(err, "PCRE2 error at offset 2: ", 25), "%s", err);
	cr_expect_eq(redact__check_regex("a[b]", err, sizeof(err)), 0);
	cr_expect_eq(redact__check_name("good.name-1_x", err, sizeof(err)), 0);
	cr_expect_eq(redact__check_name("", err, sizeof(err)), -EINVAL);
}

Test(redact_extra, empty_matches_are_ignored)
{
	struct redact_rule extra[] = { { RS("maybe"), RS("x*") } };
	struct redactor *r;
	char err[256], *out;

	cr_assert_eq(redactor__new(&r, extra, 1, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(redactor__string(r, "abxxc", &out, NULL), 1);
	cr_expect_str_eq(out, "ab[REDACTED:maybe]c");
	free(out);
	cr_expect_eq(redactor__string(r, "abc", &out, NULL), 0);
	redactor__free(r);
}

Test(redact_extra, catastrophic_pattern_fails_cleanly)
{
	struct redact_rule extra[] = { { RS("bad"), RS("^(a+)+$") } };
	struct redactor *r;
	char err[256], *out, s[64];

	cr_assert_eq(redactor__new(&r, extra, 1, err, sizeof(err)), 0, "%s",
		     err);
	memset(s, 'a', sizeof(s) - 2);
	s[sizeof(s) - 2] = 'b';
	s[sizeof(s) - 1] = '\0';
	cr_expect_eq(redactor__string(r, s, &out, NULL), -EIO);
	cr_expect_null(out);
	redactor__free(r);
}
