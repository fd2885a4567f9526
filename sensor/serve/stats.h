/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the sensor's statistics tables (lib/stats.h) as data, and
 * what is rendered from them: the members of `status --json`, the
 * Prometheus families of /metrics (and `status`'s text, in status.c).
 *
 * A row NAME of section SECTION is, everywhere:
 *	status --json	{"SECTION": {"NAME": value}}
 *	status		a line "NAME value" under the section's title
 *	/metrics	oisp_sensor_SECTION_NAME, "_total" added to a counter
 *			(unless NAME ends in "_total"), HELP from the row
 */
#ifndef OISP_SERVE_STATS_H
#define OISP_SERVE_STATS_H

#include <stddef.h>

#include "lib/stats.h"

struct cJSON;
struct metrics_text;

#define STATS_METRIC_PREFIX	"oisp_sensor_"

extern const struct stats_table stats_capture;		/* struct capture_stats */
/*
 * struct capture_stack_stats: the rows of stats_capture that are counted
 * per TLS stack (section "capture" too, so the same families).
 */
extern const struct stats_table stats_capture_stack;
extern const struct stats_table stats_pipeline;		/* struct pipeline_stats */
extern const struct stats_table stats_output;		/* struct output_stats */
extern const struct stats_table stats_kubernetes;	/* struct k8s_stats */

/*
 * Writes the Prometheus family name of row @f of @t into @buf (@len
 * bytes, NUL-terminated).  Returns 0 or -ENAMETOOLONG.
 */
int stats__family(const struct stats_table *t, const struct stats_field *f,
		  char *buf, size_t len);

/*
 * Adds each row of @t, read from @st (a struct of @t's type), to the
 * JSON object @obj as a number member named after the row.
 * Returns 0 or -ENOMEM.
 */
int stats__to_json(struct cJSON *obj, const struct stats_table *t,
		   const void *st);

/*
 * Writes one family per row of @t (HELP, TYPE and its one unlabelled
 * sample, read from @st) to @mt.  Returns metrics_text__error().
 */
int stats__render(struct metrics_text *mt, const struct stats_table *t,
		  const void *st);

/*
 * A breakdown of a table's rows by one label: @n parts, each a struct of
 * @by's type, @stride bytes apart from @parts; part i has @label="@values[i]",
 * or is left out when @values[i] is NULL.
 */
struct stats_parts {
	const struct stats_table *by;
	const char *label;
	const char *const *values;
	const void *parts;
	size_t stride;
	size_t n;
};

/*
 * As stats__render(), except that the family of a row that @p->by has
 * too (by name) gets one sample per part of @p, labelled, instead of the
 * total of @st.  Returns metrics_text__error().
 */
int stats__render_parts(struct metrics_text *mt, const struct stats_table *t,
			const void *st, const struct stats_parts *p);

#endif /* OISP_SERVE_STATS_H */
