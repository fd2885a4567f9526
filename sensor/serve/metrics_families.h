/* SPDX-License-Identifier: MIT */
/*
 * metrics_families.h - the sensor's metric families, as /metrics serves
 * them (README, "Metrics and health", lists every one).
 */
#ifndef OISP_METRICS_FAMILIES_H
#define OISP_METRICS_FAMILIES_H

struct metrics_text;
struct pipeline_stats;
struct output_stats;
struct capture_stats;
struct k8s_stats;
struct aistats;

struct metrics_sources {
	const struct pipeline_stats *pipeline;	/* required */
	const struct output_stats *output;	/* required */
	const struct capture_stats *capture;	/* NULL: capture families left out */
	const struct k8s_stats *k8s;		/* NULL: kubernetes families left out */
	const struct aistats *ai;		/* NULL: AI families without samples */
	double uptime_s;			/* seconds since start */
};

/*
 * Writes every oisp_sensor_* family of the sensor (the rows of
 * serve/stats.h's tables, the AI families, build info and uptime), and
 * the process_* families of the calling process (CPU seconds, resident
 * memory, open file descriptors).  Returns metrics_text__error().
 */
int metrics__render(struct metrics_text *t, const struct metrics_sources *s);

#endif /* OISP_METRICS_FAMILIES_H */
