// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ai/aistats.h"

struct collect {
	struct aistats_series s[16];
	int n;
};

static int collect(void *ctx, const struct aistats_series *s)
{
	struct collect *c = ctx;

	if (c->n < 16)
		c->s[c->n] = *s;
	c->n++;
	return 0;
}

Test(aistats, counts_by_key_in_creation_order)
{
	struct collect c = { 0 };
	struct aistats *st;

	cr_assert_eq(aistats__new(&st, 0), 0);
	cr_assert_eq(aistats__record_request(st, "openai", "gpt-4o-mini", ""), 0);
	cr_assert_eq(aistats__record_request(st, "anthropic", "claude", "team-a"), 0);
	cr_assert_eq(aistats__record_response(st, "openai", "gpt-4o-mini", "",
					      true, 8, 2, 412.7), 0);
	cr_assert_eq(aistats__record_request(st, "openai", "gpt-4o-mini", ""), 0);
	cr_assert_eq(aistats__record_response(st, "openai", "gpt-4o-mini", "",
					      false, 0, 0, -1), 0);
	cr_assert_eq(aistats__count(st), 2);
	aistats__for_each(st, collect, &c);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.s[0].provider, "openai");
	cr_assert_str_eq(c.s[0].model, "gpt-4o-mini");
	cr_assert_str_eq(c.s[0].ns, "");
	cr_assert_eq(c.s[0].requests, 2);
	cr_assert_eq(c.s[0].responses_ok, 1);
	cr_assert_eq(c.s[0].responses_err, 1);
	cr_assert_eq(c.s[0].prompt_tokens, 8);
	cr_assert_eq(c.s[0].completion_tokens, 2);
	/* 0.4127 s is in the 0.5 s bucket; the unknown latency is not. */
	cr_assert_eq(c.s[0].latency_count, 1);
	cr_assert_eq(c.s[0].latency[2], 1);
	cr_assert_float_eq(c.s[0].latency_sum_s, 0.4127, 1e-9);
	cr_assert_str_eq(c.s[1].ns, "team-a");
	aistats__free(st);
}

Test(aistats, missing_values_get_defaults)
{
	struct collect c = { 0 };
	struct aistats *st;

	cr_assert_eq(aistats__new(&st, 0), 0);
	aistats__record_request(st, NULL, NULL, NULL);
	aistats__record_request(st, "", "", "");
	aistats__for_each(st, collect, &c);
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.s[0].provider, "other");
	cr_assert_str_eq(c.s[0].model, "unknown");
	cr_assert_str_eq(c.s[0].ns, "");
	cr_assert_eq(c.s[0].requests, 2);
	aistats__free(st);
}

Test(aistats, null_table_counts_nothing)
{
	cr_assert_eq(aistats__record_request(NULL, "a", "b", "c"), 0);
	cr_assert_eq(aistats__record_response(NULL, "a", "b", "c", true, 1, 1, 1), 0);
	cr_assert_eq(aistats__count(NULL), 0);
	cr_assert_eq(aistats__for_each(NULL, collect, NULL), 0);
	aistats__free(NULL);
}

Test(aistats, long_values_are_cut_on_a_utf8_boundary)
{
	char model[300];
	struct collect c = { 0 };
	struct aistats *st;
	size_t i;

	/* "é" is 2 bytes: 127 'x' then é straddles byte 128. */
	memset(model, 'x', 127);
	for (i = 127; i + 2 < sizeof(model); i += 2)
		memcpy(model + i, "\xc3\xa9", 2);
	model[i] = '\0';
	cr_assert_eq(aistats__new(&st, 0), 0);
	aistats__record_request(st, "openai", model, "");
	aistats__for_each(st, collect, &c);
	cr_assert_eq(strlen(c.s[0].model), 127);
	/* The same long value finds the same series. */
	aistats__record_request(st, "openai", model, "");
	cr_assert_eq(aistats__count(st), 1);
	aistats__free(st);
}

Test(aistats, series_beyond_the_limit_are_folded)
{
	struct collect c = { 0 };
	struct aistats *st;
	char m[16];
	int i;

	cr_assert_eq(aistats__new(&st, 3), 0);
	for (i = 0; i < 10; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		aistats__record_request(st, "openai", m, "ns");
	}
	/* 3 real series, then one fold series (openai, other, ns). */
	cr_assert_eq(aistats__count(st), 4);
	cr_assert_eq(aistats__folded(st), 7);
	aistats__for_each(st, collect, &c);
	cr_assert_str_eq(c.s[3].model, "other");
	cr_assert_str_eq(c.s[3].provider, "openai");
	cr_assert_eq(c.s[3].requests, 7);
	/* Known series still count normally. */
	aistats__record_request(st, "openai", "m0", "ns");
	cr_assert_eq(aistats__folded(st), 7);
	aistats__free(st);
}

Test(aistats, fold_reserve_exhausted_uses_the_catch_all)
{
	struct collect c = { 0 };
	struct aistats *st;
	char ns[16];
	int i;

	cr_assert_eq(aistats__new(&st, 1), 0);
	/* Each namespace needs its own fold series: the reserve runs out. */
	for (i = 0; i < AISTATS_FOLD_RESERVE + 10; i++) {
		snprintf(ns, sizeof(ns), "ns%d", i);
		aistats__record_request(st, "openai", "m", ns);
	}
	cr_assert_eq(aistats__count(st), 1 + AISTATS_FOLD_RESERVE);
	c.n = 0;
	aistats__for_each(st, collect, &c);
	cr_assert_eq(c.n, 2 + AISTATS_FOLD_RESERVE);
	aistats__free(st);
}
