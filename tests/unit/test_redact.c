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
	cr_expect_eq(redactor__count(rd), 14);
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
	/* Too short, or too long with no card number at its head. */
	check("411111111111", NULL, 0);
	check("91111111111111111111111111", NULL, 0);
	check("not an email: a@b", NULL, 0);
	check("@example.com", NULL, 0);
	check("Bearer x", NULL, 0);
	check("AKIA1234", NULL, 0);
}

/* Command lines as procinfo builds them: argv joined with spaces. */
Test(redact, credential_flags)
{
	check("python3 agent.py --api-key abc123XYZ --model gpt-4o",
	      "python3 agent.py --api-key [REDACTED:credential_arg] "
	      "--model gpt-4o", 1);
	check("agent --api-key=abc123XYZ",
	      "agent --api-key=[REDACTED:credential_arg]", 1);
	check("agent --api_key abc123XYZ",
	      "agent --api_key [REDACTED:credential_arg]", 1);
	check("tool --hf-token t1 --client-secret s2 --db-password=p3 "
	      "--openai-api-key k4 -token t5 --apiKey k6 --auth u:p",
	      "tool --hf-token [REDACTED:credential_arg] --client-secret "
	      "[REDACTED:credential_arg] --db-password=[REDACTED:credential_arg] "
	      "--openai-api-key [REDACTED:credential_arg] -token "
	      "[REDACTED:credential_arg] --apiKey [REDACTED:credential_arg] "
	      "--auth [REDACTED:credential_arg]", 7);
	/* A known key keeps its own name. */
	check("agent --api-key sk-abcdefghijklmnopqrstuvwx",
	      "agent --api-key [REDACTED:openai_key]", 1);
	check("agent --token Bearer abcdefghijkl",
	      "agent --token [REDACTED:credential_arg]", 1);
	check("java -Djavax.net.ssl.keyStorePassword=changeit -jar a.jar",
	      "java -Djavax.net.ssl.keyStorePassword=[REDACTED:credential_arg] "
	      "-jar a.jar", 1);
	check("docker run -e DB_PASSWORD=hunter2 -e OPENAI_API_KEY=k1 img",
	      "docker run -e DB_PASSWORD=[REDACTED:credential_arg] -e "
	      "OPENAI_API_KEY=[REDACTED:credential_arg] img", 2);
	check("GET /v1/x?api_key=abc&access_token=def#f",
	      "GET /v1/x?api_key=[REDACTED:credential_arg]&access_token="
	      "[REDACTED:credential_arg]#f", 2);
}

Test(redact, harmless_flags)
{
	static const char *const in[] = {
		"server --keep-alive 30 --max-tokens 256 --max-new-tokens 9 "
		"--tokenizer gpt2 --token-limit 5 --key-file /etc/k.pem "
		"--password-file /run/p --hotkey F1 --monkey 1",
		/* The next flag is not a value. */
		"docker login --password-stdin -u bob registry",
		"psql --no-password -h db",
		"agent --api-key",
		"agent --api-key=",
		/* Inside a word, not a flag. */
		"non-secret x",
	};
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		check(in[i], NULL, 0);
}

Test(redact, curl_user)
{
	check("curl -u alice:s3cret https://h",
	      "curl -u [REDACTED:credential_arg] https://h", 1);
	check("curl -ualice:s3cret https://h",
	      "curl -u[REDACTED:credential_arg] https://h", 1);
	check("curl --user alice:s3cret --proxy-user=bob:pw https://h",
	      "curl --user [REDACTED:credential_arg] --proxy-user="
	      "[REDACTED:credential_arg] https://h", 2);
	/* The user part is part of the match, so an e-mail cannot split it. */
	check("curl -u me@corp.com:pw h", "curl -u [REDACTED:credential_arg] h",
	      1);
	/* No password, or docker's uid:gid. */
	check("curl -u alice https://h", NULL, 0);
	check("docker run -u 1000:1000 img", NULL, 0);
}

Test(redact, authorization_schemes)
{
	check("curl -H Authorization: token "
	      "ghp_abcdefghijklmnopqrstuvwxyz0123456789 https://api.github.com",
	      "curl -H [REDACTED:credential_header] https://api.github.com",
	      1);
	check("curl -H Authorization: Key abc:def123 https://fal.run",
	      "curl -H [REDACTED:credential_header] https://fal.run", 1);
	check("authorization:token zzz", "[REDACTED:credential_header]", 1);
	check("-H Proxy-Authorization: Basic dXNlcjpwYXNz h",
	      "-H [REDACTED:credential_header] h", 1);
	check("-H Ocp-Apim-Subscription-Key: 0123456789abcdef h",
	      "-H [REDACTED:credential_header] h", 1);
	check("-H X-Auth-Token: abc -H Private-Token: glpat-xyz h",
	      "-H [REDACTED:credential_header] -H [REDACTED:credential_header] h",
	      2);
	/* Without a credential after it, the scheme word is the value. */
	check("Authorization: Bearer", "[REDACTED:credential_header]", 1);
	check("x-api-key: abc https://h",
	      "[REDACTED:credential_header] https://h", 1);
	check("A-a-b: c", NULL, 0);
}

Test(redact, provider_tokens)
{
	check("ghp_abcdefghijklmnopqrstuvwxyz0123456789 gho_abcdefghijklmnopqrst "
	      "ghu_abcdefghijklmnopqrst ghs_abcdefghijklmnopqrst "
	      "ghr_abcdefghijklmnopqrst",
	      "[REDACTED:github_token] [REDACTED:github_token] "
	      "[REDACTED:github_token] [REDACTED:github_token] "
	      "[REDACTED:github_token]", 5);
	check("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
	      "[REDACTED:github_token]", 1);
	check("GROQ gsk_abcdefghijklmnopqrstuvwxyz0123456789",
	      "GROQ [REDACTED:groq_key]", 1);
	check("HF hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
	      "HF [REDACTED:huggingface_token]", 1);
	check("XAI xai-abcdefghijklmnopqrstuvwxyz0123456789",
	      "XAI [REDACTED:xai_key]", 1);
	/* Identifiers that share the prefixes. */
	check("hf_AutoModelForCausalLM hf_hub_download xai-grok-beta ghp_x",
	      NULL, 0);
}

Test(redact, url_userinfo)
{
	check("git clone https://bob:S3CRET@github.com/o/r",
	      "git clone https://[REDACTED:url_userinfo]@github.com/o/r", 1);
	check("redis://:S3CRET@cache:6379/0",
	      "redis://[REDACTED:url_userinfo]@cache:6379/0", 1);
	/* An unencoded '@': up to the last one before the host. */
	check("postgres://me@corp.com:p@ss@db:5432/x",
	      "postgres://[REDACTED:url_userinfo]@db:5432/x", 1);
	check("https://host:8443/p https://user@host/ http://a:b/c", NULL, 0);
}

Test(redact, card_followed_by_digits)
{
	/* The Luhn-valid head of a longer number is a card number. */
	check("card 41111111111111119 exp", "card [REDACTED:credit_card]9 exp",
	      1);
	check("40128888888818819999", "[REDACTED:credit_card]9999", 1);
	check("4111111111111111 99", "[REDACTED:credit_card] 99", 1);
	check("card 4111 1111 1111 1111 22.", "card [REDACTED:credit_card] 22.",
	      1);
	check("3782822463100051", "[REDACTED:credit_card]1", 1);
	check("6011111111111117-12", "[REDACTED:credit_card]-12", 1);
	/*
	 * Long numbers whose head is no card network's (timestamps, ids
	 * starting with 1, 7, 8, 9 or 0) stay.
	 */
	check("ts 1700000000000000000123 id 91111111111111111111", NULL, 0);
	check("4111111111111112 99", NULL, 0);
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

/* Runs built to make the flag, URL and card patterns work hard. */
Test(redact, hostile_runs_stay_linear)
{
	static const char *const unit[] = {
		"a-", "x-a-", "1-", "1 ", "a.b_c-d", "apiKey", "aB", "--a",
		"-key -", "x://:", "a:@", "a://b:c", "https://u:p", "-u ",
		"keyStorePasswor", "4", "Authorization: a ",
	};
	size_t n = 1u << 20, i, j, len;
	char *s = malloc(n + 1), *out;
	int ret;

	cr_assert(s);
	for (j = 0; j < sizeof(unit) / sizeof(unit[0]); j++) {
		len = strlen(unit[j]);
		for (i = 0; i < n; i++)
			s[i] = unit[j][i % len];
		s[n] = '\0';
		/* -EIO would mean the match limit: not linear. */
		ret = redactor__string(rd, s, &out, NULL);
		cr_expect_geq(ret, 0, "\"%s\"...: %d", unit[j], ret);
		free(out);
	}
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

/* A redacted event must not keep the token after a scheme word. */
Test(redact, json_token_scheme)
{
	cJSON *j = cJSON_Parse(
		"{\"messages\":[{\"content\":\"curl -H 'Authorization: token "
		"ghp_abcdefghijklmnopqrstuvwxyz0123456789' https://api.github.com "
		"card 4111111111111111 99\"}]}");
	char *txt;

	cr_assert(j);
	cr_expect_eq(redactor__json(rd, j, NULL), 2);
	txt = cJSON_PrintUnformatted(j);
	cr_expect_str_eq(txt,
			 "{\"messages\":[{\"content\":\"curl -H "
			 "'[REDACTED:credential_header]' https://api.github.com "
			 "card [REDACTED:credit_card] 99\"}]}");
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
	cr_expect_eq(redactor__count(r), 16);
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
