/* SPDX-License-Identifier: MIT */
/*
 * fastpath.h - a stream's fields and summary with the Responses fast
 * path (ai/extract_response.c, lib/jscan.c) and without it, as text to
 * compare: test_jscan.c and fuzz_jscan.c require them to be the same.
 */
#ifndef OISP_TEST_FASTPATH_H
#define OISP_TEST_FASTPATH_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ai/extract.h"
#include "ai/extract_priv.h"
#include "ai/summary.h"

/*
 * The fields acc_stream() writes for @ev (@n events) and the summary,
 * as one malloc'd text; NULL when out of memory.
 */
static inline char *fastpath_run(const struct extract_event *ev, size_t n,
				 bool fast)
{
	struct ai_summary sum;
	cJSON *d = cJSON_CreateObject();
	char *js, *out = NULL;
	int rc;

	ai_summary__init(&sum);
	rc = acc_stream(ev, n, d, &sum, fast);
	js = cJSON_PrintUnformatted(d);
	if (js &&
	    asprintf(&out,
		     "rc=%d %s model=%s streaming=%d tokens=%" PRId64 ",%" PRId64
		     ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
		     " error=%d/%s finish=%s first=%zu dropped=%" PRIu64
		     ",%" PRIu64,
		     rc, js, sum.model ? sum.model : "-", sum.streaming,
		     sum.prompt_tokens, sum.completion_tokens,
		     sum.total_tokens, sum.cached_tokens,
		     sum.reasoning_tokens, sum.cache_creation_tokens,
		     sum.error, sum.error_type ? sum.error_type : "-",
		     sum.finish_reason ? sum.finish_reason : "-",
		     sum.first_token_idx, sum.elements_dropped,
		     sum.bytes_dropped) < 0)
		out = NULL;
	free(js);
	cJSON_Delete(d);
	ai_summary__clear(&sum);
	return out;
}

/*
 * Whether responses_fast() takes @data (as the event named @event, may
 * be NULL) on its own, in an accumulator of its own.
 */
static inline bool fastpath_taken(const char *event, const char *data)
{
	struct sbuf buf = { 0 };
	struct acc a;
	bool taken;

	acc_init(&a);
	taken = responses_fast(&a, event, data, &buf);
	sbuf_free(&buf);
	acc_free(&a);
	return taken;
}

#endif /* OISP_TEST_FASTPATH_H */
