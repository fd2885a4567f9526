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

#endif /* OISP_SERVE_STATS_H */
