// SPDX-License-Identifier: MIT
/* Unit tests of sensor/ai/rules.c and the built-in rules/default.yaml. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ai/rules.h"

struct hdrs {
	const char *const *kv;	/* name, value, ..., NULL */
};

static const char *hdr_get(const void *ctx, const char *name)
{
	const struct hdrs *h = ctx;
	size_t i;

	for (i = 0; h && h->kv && h->kv[i]; i += 2)
		if (!strcasecmp(h->kv[i], name))
			return h->kv[i + 1];
	return NULL;
}

static struct rules *dflt;

static void load_default(void)
{
	char err[256] = "";

	cr_assert_eq(rules__load_default(&dflt, err, sizeof(err)), 0, "%s",
		     err);
}

static void free_default(void)
{
	rules__free(dflt);
	dflt = NULL;
}

/* Classifies with the default rules; returns the rule name or NULL. */
static const char *classify_h(const char *host, const char *method,
			      const char *path, const char *const *kv,
			      struct rule_match *out)
{
	struct hdrs h = { kv };
	struct rules_req req = {
		.host = host, .method = method, .path = path,
		.header = hdr_get, .ctx = &h,
	};
	struct rule_match m = { 0 };

	if (!rules__match(dflt, &req, &m))
		return NULL;
	if (out)
		*out = m;
	return m.rule;
}

static const char *classify(const char *host, const char *method,
			    const char *path, struct rule_match *out)
{
	return classify_h(host, method, path, NULL, out);
}

static void expect(const char *host, const char *path, const char *rule,
		   const char *provider, const char *api, const char *type)
{
	struct rule_match m = { 0 };
	const char *got = classify(host, "POST", path, &m);

	cr_assert(got, "%s %s: no rule matched (expected %s)", host, path,
		  rule);
	cr_expect_str_eq(m.rule, rule, "%s %s", host, path);
	cr_expect_str_eq(m.provider, provider, "%s %s", host, path);
	cr_expect_str_eq(m.api, api, "%s %s", host, path);
	cr_expect_str_eq(m.request_type, type, "%s %s", host, path);
}

TestSuite(default_rules, .init = load_default, .fini = free_default);

Test(default_rules, embedded_text_is_the_file)
{
	char buf[256 * 1024];
	FILE *f = fopen("../../rules/default.yaml", "r");
	size_t n;

	cr_assert(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cr_expect_str_eq(rules__default_yaml(), buf);
	cr_expect_gt(rules__count(dflt), 40);
}

Test(default_rules, openai)
{
	expect("api.openai.com", "/v1/chat/completions", "openai-chat",
	       "openai", "openai.chat_completions", "chat");
	expect("api.openai.com:443", "/v1/chat/completions", "openai-chat",
	       "openai", "openai.chat_completions", "chat");
	expect("API.OpenAI.com", "/v1/chat/completions?x=1", "openai-chat",
	       "openai", "openai.chat_completions", "chat");
	expect("api.openai.com", "/v1/responses", "openai-responses",
	       "openai", "openai.responses", "chat");
	expect("api.openai.com", "/v1/embeddings", "openai-embeddings",
	       "openai", "openai.embeddings", "embedding");
	expect("api.openai.com", "/v1/completions", "openai-completions",
	       "openai", "openai.completions", "completion");
	expect("api.openai.com", "/v1/images/generations", "openai-images",
	       "openai", "other", "image");
	expect("api.openai.com", "/v1/audio/transcriptions", "openai-audio",
	       "openai", "other", "audio");
	expect("api.openai.com", "/v1/moderations", "openai-moderations",
	       "openai", "other", "moderation");
}

Test(default_rules, openai_non_inference_calls_do_not_match)
{
	cr_expect_null(classify("api.openai.com", "GET", "/v1/models", NULL));
	cr_expect_null(classify("api.openai.com", "GET",
				"/v1/chat/completions", NULL));
	cr_expect_null(classify("api.openai.com", "POST", "/v1/files", NULL));
	cr_expect_null(classify("api.openai.com", "GET",
				"/v1/responses/resp_123", NULL));
	cr_expect_null(classify("api.openai.com", "POST",
				"/v1/responses/resp_123/cancel", NULL));
	cr_expect_null(classify("api.openai.com", "POST",
				"/v1/chat/completionsX", NULL));
}

Test(default_rules, anthropic)
{
	static const char *const av[] = {
		"Anthropic-Version", "2023-06-01", NULL,
	};
	struct rule_match m;

	expect("api.anthropic.com", "/v1/messages", "anthropic-messages",
	       "anthropic", "anthropic.messages", "chat");
	expect("api.anthropic.com:443", "/v1/messages?beta=true",
	       "anthropic-messages", "anthropic", "anthropic.messages",
	       "chat");
	/* Any host, recognised by the anthropic-version header. */
	cr_assert_str_eq(classify_h("llm-gateway.internal:8443", "POST",
				    "/v1/messages", av, &m),
			 "anthropic-compatible-messages");
	cr_expect_str_eq(m.provider, "anthropic");
	cr_expect_str_eq(m.api, "anthropic.messages");
	cr_expect_str_eq(classify_h("proxy.example.com", "POST",
				    "/anthropic/v1/messages", av, NULL),
			 "anthropic-compatible-messages");
	/* Without the header, another host's /v1/messages is not AI. */
	cr_expect_null(classify("chat.example.com", "POST", "/v1/messages",
				NULL));
	cr_expect_null(classify_h("x.example.com", "POST",
				  "/v1/messages/count_tokens", av, NULL));
	cr_expect_null(classify("api.anthropic.com", "GET", "/v1/models",
				NULL));
}

Test(default_rules, azure_openai)
{
	expect("myres.openai.azure.com",
	       "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
	       "azure-openai-chat", "azure_openai", "openai.chat_completions",
	       "chat");
	expect("myres.openai.azure.com:443",
	       "/openai/deployments/emb/embeddings?api-version=2024-10-21",
	       "azure-openai-embeddings", "azure_openai", "openai.embeddings",
	       "embedding");
	expect("myres.openai.azure.com",
	       "/openai/deployments/inst/completions?api-version=2024-10-21",
	       "azure-openai-completions", "azure_openai",
	       "openai.completions", "completion");
	expect("myres.openai.azure.com", "/openai/v1/chat/completions",
	       "azure-openai-chat", "azure_openai", "openai.chat_completions",
	       "chat");
	expect("myres.openai.azure.com", "/openai/v1/embeddings",
	       "azure-openai-embeddings", "azure_openai", "openai.embeddings",
	       "embedding");
	expect("myres.openai.azure.com", "/openai/v1/responses",
	       "azure-openai-responses", "azure_openai", "openai.responses",
	       "chat");
	expect("myres.openai.azure.com",
	       "/openai/responses?api-version=2025-03-01-preview",
	       "azure-openai-responses", "azure_openai", "openai.responses",
	       "chat");
	expect("foundry.cognitiveservices.azure.com",
	       "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
	       "azure-openai-chat", "azure_openai", "openai.chat_completions",
	       "chat");
	/* Behind an API gateway on another host. */
	expect("apim.contoso.com",
	       "/ai/openai/deployments/gpt-4o/chat/completions?api-version=1",
	       "azure-openai-gateway-chat", "azure_openai",
	       "openai.chat_completions", "chat");
	/* A host merely containing the Azure name is not Azure. */
	expect("openai.azure.com.evil.example", "/v1/chat/completions",
	       "openai-compatible-chat", "other", "openai.chat_completions",
	       "chat");
}

Test(default_rules, google)
{
	expect("generativelanguage.googleapis.com",
	       "/v1beta/models/gemini-2.0-flash:generateContent",
	       "gemini-generate-content", "google",
	       "google.generate_content", "chat");
	expect("generativelanguage.googleapis.com:443",
	       "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
	       "gemini-generate-content", "google",
	       "google.generate_content", "chat");
	expect("generativelanguage.googleapis.com",
	       "/v1/models/gemini-1.5-pro:generateContent?key=abc",
	       "gemini-generate-content", "google",
	       "google.generate_content", "chat");
	expect("generativelanguage.googleapis.com",
	       "/v1beta/models/text-embedding-004:embedContent",
	       "gemini-embeddings", "google", "other", "embedding");
	expect("generativelanguage.googleapis.com",
	       "/v1beta/openai/chat/completions", "gemini-openai-chat",
	       "google", "openai.chat_completions", "chat");
	expect("us-central1-aiplatform.googleapis.com",
	       "/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
	       "vertex-gemini-generate-content", "google",
	       "google.generate_content", "chat");
	expect("aiplatform.googleapis.com",
	       "/v1/projects/p1/locations/global/publishers/google/models/gemini-2.5-pro:generateContent",
	       "vertex-gemini-generate-content", "google",
	       "google.generate_content", "chat");
	expect("us-east5-aiplatform.googleapis.com",
	       "/v1/projects/p1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4:rawPredict",
	       "vertex-anthropic-messages", "anthropic",
	       "anthropic.messages", "chat");
	cr_expect_null(classify("generativelanguage.googleapis.com", "GET",
				"/v1beta/models", NULL));
	cr_expect_null(classify("generativelanguage.googleapis.com", "POST",
				"/v1beta/models/gemini:countTokens", NULL));
}

Test(default_rules, hosted_openai_compatible)
{
	expect("api.mistral.ai", "/v1/chat/completions", "mistral-chat",
	       "mistral", "openai.chat_completions", "chat");
	expect("api.mistral.ai", "/v1/embeddings", "mistral-embeddings",
	       "mistral", "openai.embeddings", "embedding");
	expect("codestral.mistral.ai", "/v1/fim/completions", "mistral-fim",
	       "mistral", "openai.completions", "completion");
	expect("api.groq.com", "/openai/v1/chat/completions", "groq-chat",
	       "groq", "openai.chat_completions", "chat");
	expect("api.groq.com:443", "/openai/v1/responses", "groq-responses",
	       "groq", "openai.responses", "chat");
	expect("api.together.xyz", "/v1/chat/completions", "together-chat",
	       "together", "openai.chat_completions", "chat");
	expect("api.together.ai", "/v1/completions", "together-completions",
	       "together", "openai.completions", "completion");
	expect("api.together.xyz", "/v1/embeddings", "together-embeddings",
	       "together", "openai.embeddings", "embedding");
	expect("api.fireworks.ai", "/inference/v1/chat/completions",
	       "fireworks-chat", "fireworks", "openai.chat_completions",
	       "chat");
	expect("api.fireworks.ai", "/inference/v1/embeddings",
	       "fireworks-embeddings", "fireworks", "openai.embeddings",
	       "embedding");
	expect("openrouter.ai", "/api/v1/chat/completions", "openrouter-chat",
	       "other", "openai.chat_completions", "chat");
	expect("api.deepseek.com", "/chat/completions", "deepseek-chat",
	       "other", "openai.chat_completions", "chat");
	expect("api.deepseek.com", "/v1/chat/completions", "deepseek-chat",
	       "other", "openai.chat_completions", "chat");
	expect("api.deepseek.com", "/beta/completions",
	       "deepseek-completions", "other", "openai.completions",
	       "completion");
	expect("api.perplexity.ai", "/chat/completions", "perplexity-chat",
	       "other", "openai.chat_completions", "chat");
	expect("api.cohere.com", "/v2/chat", "cohere-chat", "cohere", "other",
	       "chat");
	expect("router.huggingface.co", "/v1/chat/completions",
	       "huggingface-chat", "huggingface", "openai.chat_completions",
	       "chat");
	expect("my-ep.us-east-1.aws.endpoints.huggingface.cloud",
	       "/v1/chat/completions", "huggingface-chat", "huggingface",
	       "openai.chat_completions", "chat");
	expect("api.cohere.com", "/v2/embed", "cohere-embed", "cohere",
	       "other", "embedding");
	expect("localhost:1234", "/v1/chat/completions", "lmstudio-chat",
	       "lmstudio", "openai.chat_completions", "chat");
}

Test(default_rules, ollama)
{
	expect("localhost:11434", "/api/chat", "ollama-chat", "ollama",
	       "other", "chat");
	expect("127.0.0.1:11434", "/api/generate", "ollama-generate",
	       "ollama", "other", "completion");
	expect("ollama.internal:11434", "/api/embed", "ollama-embed",
	       "ollama", "other", "embedding");
	expect("localhost:11434", "/v1/chat/completions",
	       "ollama-openai-chat", "ollama", "openai.chat_completions",
	       "chat");
	/* /api/chat on another port is not Ollama. */
	cr_expect_null(classify("localhost:8080", "POST", "/api/chat", NULL));
	cr_expect_null(classify("localhost:11434", "GET", "/api/tags", NULL));
}

Test(default_rules, generic_openai_compatible)
{
	expect("vllm.internal:8000", "/v1/chat/completions",
	       "openai-compatible-chat", "other", "openai.chat_completions",
	       "chat");
	expect("127.0.0.1:8443", "/v1/completions",
	       "openai-compatible-completions", "other", "openai.completions",
	       "completion");
	expect("llm.example.com", "/v1/embeddings",
	       "openai-compatible-embeddings", "other", "openai.embeddings",
	       "embedding");
	expect("llm.example.com", "/v1/responses",
	       "openai-compatible-responses", "other", "openai.responses",
	       "chat");
	expect("gateway.example.com", "/openai/v1/chat/completions",
	       "openai-compatible-chat", "other", "openai.chat_completions",
	       "chat");
	expect("gateway.example.com", "/api/v1/chat/completions?x=/y",
	       "openai-compatible-chat", "other", "openai.chat_completions",
	       "chat");
	expect("api.x.ai", "/v1/chat/completions", "openai-compatible-chat",
	       "other", "openai.chat_completions", "chat");
	/* No Host header: only host-less rules can match. */
	expect(NULL, "/v1/chat/completions", "openai-compatible-chat",
	       "other", "openai.chat_completions", "chat");
}

Test(default_rules, non_ai_requests)
{
	cr_expect_null(classify("www.example.com", "GET", "/index.html",
				NULL));
	cr_expect_null(classify("www.example.com", "POST", "/api/login",
				NULL));
	cr_expect_null(classify("api.example.com", "POST", "/v2/orders",
				NULL));
	cr_expect_null(classify("api.example.com", "GET",
				"/v1/chat/completions", NULL));
	cr_expect_null(classify("api.example.com", "POST",
				"/search?q=/v1/chat/completions", NULL));
	cr_expect_null(classify("api.example.com", "POST",
				"/v1/chat/completions/extra", NULL));
	cr_expect_null(classify("api.openai.com", "POST", "/", NULL));
	cr_expect_null(classify("api.example.com", "PUT", "/v1/embeddings",
				NULL));
}

Test(default_rules, long_paths_are_harmless)
{
	static char path[64 * 1024];
	size_t i;

	for (i = 0; i < sizeof(path) - 1; i++)
		path[i] = "/v1/chat"[i % 8];
	path[sizeof(path) - 1] = '\0';
	cr_expect_null(classify("example.com", "POST", path, NULL));
}

Test(default_rules, missing_request_fields)
{
	struct rules_req req = { .host = "api.openai.com", .method = "POST" };

	cr_expect_not(rules__match(dflt, &req, NULL));
	req.path = "/v1/chat/completions";
	req.method = NULL;
	cr_expect_not(rules__match(dflt, &req, NULL));
	cr_expect_not(rules__match(NULL, &req, NULL));
	cr_expect_not(rules__match(dflt, NULL, NULL));
	/* No header callback: header rules do not match, others still do. */
	req.method = "POST";
	cr_expect(rules__match(dflt, &req, NULL));
	req.host = "gw.example.com";
	req.path = "/v1/messages";
	cr_expect_not(rules__match(dflt, &req, NULL));
}

/* ---- loading ---- */

static int load(const char *yaml, struct rules **r, char *err, size_t len)
{
	err[0] = '\0';
	return rules__load_string(r, yaml, "t.yaml", err, len);
}

Test(rules_load, order_first_match_wins)
{
	static const char *const hk[] = { "X-Key", "abc", NULL };
	struct rules *r;
	struct rule_match m;
	struct hdrs h = { hk };
	struct rules_req req = {
		.host = "h.example", .method = "POST", .path = "/a",
		.header = hdr_get, .ctx = &h,
	};
	char err[256];

	cr_assert_eq(load("rules:\n"
			  "  - name: first\n"
			  "    provider: vllm\n"
			  "    api: other\n"
			  "    match:\n"
			  "      path: '^/a$'\n"
			  "      headers:\n"
			  "        x-key: '^abc$'\n"
			  "  - name: second\n"
			  "    provider: other\n"
			  "    api: openai.chat_completions\n"
			  "    request_type: chat\n"
			  "    match:\n"
			  "      path: '^/a$'\n",
			  &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(rules__count(r), 2);
	cr_assert(rules__match(r, &req, &m));
	cr_expect_str_eq(m.rule, "first");
	cr_expect_str_eq(m.provider, "vllm");
	cr_expect_str_eq(m.request_type, "other");
	h.kv = NULL;
	cr_assert(rules__match(r, &req, &m));
	cr_expect_str_eq(m.rule, "second");
	cr_expect_str_eq(m.request_type, "chat");
	req.path = "/b";
	cr_expect_not(rules__match(r, &req, &m));
	rules__free(r);
}

Test(rules_load, empty_list_is_valid)
{
	struct rules *r;
	char err[256];

	cr_assert_eq(load("rules: []\n", &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(rules__count(r), 0);
	rules__free(r);
	rules__free(NULL);
}

struct bad_case {
	const char *yaml;
	const char *msg;	/* expected start of the error */
	const char *has;	/* expected substring */
};

static const struct bad_case bad_cases[] = {
	{ "", "t.yaml: ", "rules" },
	{ "rules: x\n", "t.yaml:1:8: ", "list" },
	{ "other: 1\n", "t.yaml:1:1: ", "unknown top-level key \"other\"" },
	{ "rules:\n  - provider: openai\n    api: other\n    match: {path: a}\n",
	  "t.yaml:2:5: ", "\"name\" is required" },
	{ "rules:\n  - name: a\n    api: other\n    match: {path: a}\n",
	  "t.yaml:2:5: ", "\"provider\" is required" },
	{ "rules:\n  - name: a\n    provider: openai\n    match: {path: a}\n",
	  "t.yaml:2:5: ", "\"api\" is required" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n",
	  "t.yaml:2:5: ", "\"match\" is required" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match: {path: a}\n    color: red\n",
	  "t.yaml:6:5: ", "unknown field \"color\"" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match: {path: a, port: 1}\n",
	  "t.yaml:5:22: ", "unknown field \"port\"" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match:\n      path: '^/v1/(chat'\n",
	  "t.yaml:6:13: ", "match.path: PCRE2 error at offset 10" },
	{ "rules:\n  - name: a\n    provider: opnai\n    api: other\n"
	  "    match: {path: a}\n",
	  "t.yaml:3:15: ", "unknown value \"opnai\"" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: openai.chat\n"
	  "    match: {path: a}\n",
	  "t.yaml:4:10: ", "api: unknown value" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    request_type: talk\n    match: {path: a}\n",
	  "t.yaml:5:19: ", "request_type: unknown value" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match: {path: a}\n"
	  "  - name: a\n    provider: openai\n    api: other\n"
	  "    match: {path: b}\n",
	  "t.yaml:6:11: ", "defined twice" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match: {}\n",
	  "t.yaml:5:12: ", "at least one" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match:\n      headers:\n        'bad header': x\n",
	  "t.yaml:7:9: ", "not a valid header name" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match:\n      headers:\n        x-a: '('\n",
	  "t.yaml:7:14: ", "match.headers: PCRE2 error" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match:\n      headers:\n        X-A: a\n        x-a: b\n",
	  "t.yaml:8:9: ", "given twice" },
	{ "rules:\n  - name: a\n    provider: openai\n    api: other\n"
	  "    match: {path: a, path: b}\n",
	  "t.yaml:5:22: ", "given twice" },
	{ "rules:\n  - name: a\n    name: b\n", "t.yaml:3:5: ",
	  "given twice" },
	{ "rules:\n  - name: [a]\n", "t.yaml:2:11: ", "expected a non-empty" },
	{ "rules:\n  - name:\n", "t.yaml:2:10: ", "empty value" },
	{ "rules:\n  - just a string\n", "t.yaml:2:5: ", "must be a mapping" },
	{ "rules:\n  - name: a\n  bad: [\n", "t.yaml:", "" },
	{ "rules: []\n---\nrules: []\n", "t.yaml:2:1: ", "only one" },
};

/*
 * Criterion may run each parameter in a re-executed process, where the
 * pointers inside bad_cases would not be valid: pass indexes instead.
 */
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))
static size_t bad_idx[N_BAD];

ParameterizedTestParameters(rules_load, errors)
{
	size_t i;

	for (i = 0; i < N_BAD; i++)
		bad_idx[i] = i;
	return cr_make_param_array(size_t, bad_idx, N_BAD);
}

ParameterizedTest(size_t *idx, rules_load, errors)
{
	const struct bad_case *c = &bad_cases[*idx];
	struct rules *r = (struct rules *)1;
	char err[512];

	cr_assert_eq(load(c->yaml, &r, err, sizeof(err)), -EINVAL,
		     "accepted: %s", c->yaml);
	cr_expect_null(r);
	cr_expect(!strncmp(err, c->msg, strlen(c->msg)),
		  "error \"%s\" does not start with \"%s\"", err, c->msg);
	cr_expect(strstr(err, c->has), "error \"%s\" lacks \"%s\"", err,
		  c->has);
}

Test(rules_load, file_errors)
{
	struct rules *r;
	char err[512];

	cr_expect_eq(rules__load_file(&r, "../fixtures/config/nonexistent.yaml",
				      err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "nonexistent.yaml: "), "%s", err);
	cr_expect_eq(rules__load_file(&r, "../fixtures/config/rules-bad-regex.yaml",
				      err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "rules-bad-regex.yaml:10:19: match.path: PCRE2 error"), "%s", err);
}

Test(rules_load, file_ok)
{
	struct rules *r;
	struct rule_match m;
	struct rules_req req = {
		.host = "llm.corp.example:8443", .method = "POST",
		.path = "/v1/chat/completions",
	};
	char err[512];

	cr_assert_eq(rules__load_file(&r, "../fixtures/config/rules-custom.yaml",
				      err, sizeof(err)), 0, "%s", err);
	cr_assert(rules__match(r, &req, &m));
	cr_expect_str_eq(m.rule, "corp-vllm");
	cr_expect_str_eq(m.provider, "vllm");
	rules__free(r);
}

Test(rules_load, file_default_copy)
{
	struct rules *r;
	char err[512];

	cr_assert_eq(rules__load_file(&r, "../../rules/default.yaml", err,
				      sizeof(err)), 0, "%s", err);
	cr_expect_gt(rules__count(r), 40);
	rules__free(r);
}
