/* SPDX-License-Identifier: MIT */
/*
 * summary.h - what extraction found in one request or response, as typed
 * values, for the statistics and metrics (aistats.h, the pipeline's
 * counters): they read this instead of the event's "data" tree, which
 * redaction may rewrite and emitting frees.
 *
 * The extract__ functions (extract.h) fill it beside the fields they
 * write into "data", with the same values (before any redaction); each
 * sets only what it wrote and leaves the rest as it was, so one summary
 * can gather a request from extract__request and extract__request_path.
 * After -ENOMEM from those, it may lack part of what was written.
 */
#ifndef OISP_AI_SUMMARY_H
#define OISP_AI_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Token counts not reported by the body. */
#define AI_TOKENS_NONE	(-1)

struct ai_summary {
	/* data.model.id as written (valid UTF-8); malloc'd, NULL: none. */
	char *model;
	/*
	 * Request: data.streaming as written (1 or 0), -1 when not written.
	 * Response: 1 when assembled from SSE events, 0 from a whole body,
	 * -1 before any response extraction.
	 */
	int streaming;
	/*
	 * data.usage.* as written: whole token counts (at most 2^53), or
	 * AI_TOKENS_NONE.  OpenTelemetry GenAI meaning: prompt tokens include
	 * cached and cache-creation ones, completion tokens include
	 * reasoning ones.
	 */
	int64_t prompt_tokens;
	int64_t completion_tokens;
	int64_t total_tokens;
	int64_t cached_tokens;
	int64_t reasoning_tokens;
	int64_t cache_creation_tokens;
	/* data.error was written; error_type is its "type" (malloc'd). */
	bool error;
	char *error_type;
	/*
	 * data.finish_reason as written: a static string from
	 * extract__normalize_finish ("tool_calls" when the first choice
	 * stopped with tool calls, "error" for an error without one); NULL
	 * when not written.
	 */
	const char *finish_reason;
	/*
	 * extract__response_stream: index of the first event that carried
	 * output text or started a tool call, the number of events when
	 * none did.  0 otherwise.
	 */
	size_t first_token_idx;
	/*
	 * What extraction's bounds left out of the event (extract.h,
	 * "Bounds"): list elements (messages, tools, tool calls, choices,
	 * or a stream's contributions to them) and bytes of string values.
	 * Added to by each extract__ call, as data.truncated is written.
	 */
	uint64_t elements_dropped;
	uint64_t bytes_dropped;
};

/* Sets every field to "nothing found". */
void ai_summary__init(struct ai_summary *s);

/* Frees what @s holds and initialises it again; NULL is fine. */
void ai_summary__clear(struct ai_summary *s);

#endif /* OISP_AI_SUMMARY_H */
