/* SPDX-License-Identifier: MIT */
/*
 * aistats.h - counters of AI calls by (provider, model, namespace), for
 * the Prometheus endpoint (metrics.h).
 *
 * One series per key holds requests, responses by outcome, prompt and
 * completion tokens and a latency histogram.  Label values come from
 * captured traffic, so the number of series is bounded: once @max_series
 * keys exist, a new key is folded into (provider, "other", namespace),
 * and past a small reserve for those into ("other", "other", "other");
 * every folded call is counted (aistats__folded()).  Values are cut to
 * AISTATS_MAX_VALUE bytes on a UTF-8 boundary.
 *
 * Not thread-safe: the event loop thread records and renders.
 */
#ifndef OISP_AISTATS_H
#define OISP_AISTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AISTATS_DEF_MAX_SERIES	2000
#define AISTATS_FOLD_RESERVE	256	/* extra series for the folds */
#define AISTATS_MAX_VALUE	128	/* bytes kept of a label value */
#define AISTATS_OTHER		"other"
#define AISTATS_UNKNOWN_MODEL	"unknown"

/* Upper bounds (seconds) of the latency buckets, without +Inf. */
#define AISTATS_LATENCY_BUCKETS	12

struct aistats;

struct aistats_series {
	const char *provider;		/* never NULL */
	const char *model;		/* AISTATS_UNKNOWN_MODEL when none */
	const char *ns;			/* "" outside Kubernetes */
	uint64_t requests;		/* ai.request events */
	uint64_t responses_ok;		/* ai.response, success true */
	uint64_t responses_err;		/* ai.response, success false */
	uint64_t prompt_tokens;		/* usage.prompt_tokens, summed */
	uint64_t completion_tokens;	/* usage.completion_tokens, summed */
	/* Latency histogram: observations per bucket (not cumulative);
	 * index AISTATS_LATENCY_BUCKETS is the +Inf bucket. */
	uint64_t latency[AISTATS_LATENCY_BUCKETS + 1];
	uint64_t latency_count;
	double latency_sum_s;		/* seconds */
};

/* The bucket bounds in seconds, ascending, AISTATS_LATENCY_BUCKETS long. */
const double *aistats__latency_bounds(void);

/*
 * Creates an empty table of at most @max_series series (0: the default,
 * AISTATS_DEF_MAX_SERIES) plus the fold reserve.
 * Returns 0 with *@out set, or -ENOMEM.
 */
int aistats__new(struct aistats **out, size_t max_series);

/*
 * Counts one ai.request event.  @provider, @model and @ns may be NULL
 * (provider "other", model "unknown", namespace "").  The strings are
 * copied.  @st may be NULL: nothing is counted.  Returns 0 or -ENOMEM
 * (the call is then counted in the catch-all series).
 */
int aistats__record_request(struct aistats *st, const char *provider,
			    const char *model, const char *ns);

/*
 * Counts one ai.response event: @success as written in data.success,
 * token counts from data.usage (0 when absent), @latency_ms as in
 * data.latency_ms (negative: unknown, not observed).  Pass the same
 * model as for the request, so that both land in one series.
 * Returns as aistats__record_request().
 */
int aistats__record_response(struct aistats *st, const char *provider,
			     const char *model, const char *ns, bool success,
			     uint64_t prompt_tokens, uint64_t completion_tokens,
			     double latency_ms);

/*
 * Calls @cb for each series, in creation order, until it returns
 * nonzero.  The series is valid during the call only.  Returns 0 or
 * @cb's result.  @st may be NULL (no series).
 */
int aistats__for_each(const struct aistats *st,
		      int (*cb)(void *ctx, const struct aistats_series *s),
		      void *ctx);

/* Series in use; 0 for NULL. */
size_t aistats__count(const struct aistats *st);

/* Calls counted in a folded series because the table was full. */
uint64_t aistats__folded(const struct aistats *st);

/* Frees everything; NULL is fine. */
void aistats__free(struct aistats *st);

#endif /* OISP_AISTATS_H */
