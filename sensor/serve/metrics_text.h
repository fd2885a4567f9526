/* SPDX-License-Identifier: MIT */
/*
 * metrics_text.h - writes the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/):
 * "# HELP" and "# TYPE" once per family, then its samples, label values
 * escaped (\\, \", \n), values as Go's ParseFloat reads them.
 *
 * The text grows in one buffer that is kept between scrapes
 * (metrics_text__reset()).  Errors are sticky, as for seq_file.
 */
#ifndef OISP_METRICS_TEXT_H
#define OISP_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct metrics_text;

struct metrics_label {
	const char *name;	/* [a-zA-Z_][a-zA-Z0-9_]*, not "__" prefixed */
	const char *value;	/* any bytes; NULL is "" */
};

/* Creates an empty text.  Returns 0 or -ENOMEM. */
int metrics_text__new(struct metrics_text **out);

/* Empties @t, keeping its buffer and clearing its error. */
void metrics_text__reset(struct metrics_text *t);

/*
 * Writes "# HELP @name @help" (help escaped: \\ and \n) and
 * "# TYPE @name @type".  @type is counter, gauge, histogram, summary or
 * untyped.  Errors are sticky, as for seq_file: every writer returns
 * the text's error, and metrics_text__error() reports the first one:
 * -EINVAL (bad name or type) or -ENOMEM.
 */
int metrics_text__family(struct metrics_text *t, const char *name,
			 const char *type, const char *help);

/*
 * Writes one sample line: @name{labels} @value.  Label values are
 * escaped (\\, \", \n) and invalid UTF-8 is replaced by U+FFFD, because
 * Prometheus rejects the whole scrape for one bad label value.  Values
 * print as integers when integral, else in the shortest form that reads
 * back the same; NaN and infinities as NaN, +Inf, -Inf.
 */
int metrics_text__sample(struct metrics_text *t, const char *name,
			 const struct metrics_label *labels, size_t nlabels,
			 double value);

/*
 * Writes a histogram's samples: @name_bucket{labels,le="B"} for each of
 * the @nbounds ascending upper bounds @bounds and le="+Inf", then
 * @name_sum and @name_count.  @counts holds @nbounds + 1 per-bucket
 * (not cumulative) counts, the last for +Inf.
 */
int metrics_text__histogram(struct metrics_text *t, const char *name,
			    const struct metrics_label *labels, size_t nlabels,
			    const double *bounds, const uint64_t *counts,
			    size_t nbounds, double sum);

/* The text so far (NUL-terminated, owned by @t) and its length. */
const char *metrics_text__data(const struct metrics_text *t, size_t *len);

/* 0, or the first error of a writer since creation or reset. */
int metrics_text__error(const struct metrics_text *t);

/* NULL is fine. */
void metrics_text__free(struct metrics_text *t);

#endif /* OISP_METRICS_TEXT_H */
