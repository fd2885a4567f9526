// SPDX-License-Identifier: MIT
/*
 * The statistics tables as data (serve/stats.h): each struct's X-macro
 * list expanded into descriptors, and the renderers that read them.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture_stats.h"
#include "event/output_stats.h"
#include "meta/k8s_stats.h"
#include "pipeline/pipeline_stats.h"
#include "serve/metrics_text.h"
#include "serve/stats.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define CAP_FIELD(name, kind, alert, help) \
	STATS_FIELD(struct capture_stats, kern.name, name, kind, alert, help)
#define CAPTURE_FIELD(name, kind, alert, help) \
	STATS_FIELD(struct capture_stats, name, name, kind, alert, help)
#define PIPELINE_FIELD(name, kind, alert, help) \
	STATS_FIELD(struct pipeline_stats, name, name, kind, alert, help)
#define OUTPUT_FIELD(name, kind, alert, help) \
	STATS_FIELD(struct output_stats, name, name, kind, alert, help)
#define K8S_FIELD(name, kind, alert, help) \
	STATS_FIELD(struct k8s_stats, name, name, kind, alert, help)

static const struct stats_field capture_fields[] = {
	CAP_STATS(CAP_FIELD)
	CAPTURE_STATS(CAPTURE_FIELD)
};

#define STACK_CAP_FIELD(name, kind, alert, help) \
	STATS_FIELD(struct capture_stack_stats, kern.name, name, kind, alert, \
		    help)
#define STACK_FIELD(name, kind, alert, help) \
	STATS_FIELD(struct capture_stack_stats, name, name, kind, alert, help)

static const struct stats_field capture_stack_fields[] = {
	CAP_STATS_STACK(STACK_CAP_FIELD)
	CAPTURE_STACK_STATS(STACK_FIELD)
};

static const struct stats_field pipeline_fields[] = {
	PIPELINE_STATS(PIPELINE_FIELD)
};

static const struct stats_field output_fields[] = {
	OUTPUT_STATS(OUTPUT_FIELD)
};

static const struct stats_field k8s_fields[] = {
	K8S_STATS(K8S_FIELD)
};

const struct stats_table stats_capture = {
	"capture", "Capture", capture_fields, ARRAY_SIZE(capture_fields),
};

const struct stats_table stats_capture_stack = {
	"capture", "Capture by TLS stack", capture_stack_fields,
	ARRAY_SIZE(capture_stack_fields),
};

const struct stats_table stats_pipeline = {
	"pipeline", "Pipeline", pipeline_fields, ARRAY_SIZE(pipeline_fields),
};

const struct stats_table stats_output = {
	"output", "Output", output_fields, ARRAY_SIZE(output_fields),
};

const struct stats_table stats_kubernetes = {
	"kubernetes", "Kubernetes", k8s_fields, ARRAY_SIZE(k8s_fields),
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

int stats__family(const struct stats_table *t, const struct stats_field *f,
		  char *buf, size_t len)
{
	bool total = f->kind == STATS_COUNTER && !ends_with(f->name, "_total");
	int n;

	n = snprintf(buf, len, STATS_METRIC_PREFIX "%s_%s%s", t->section,
		     f->name, total ? "_total" : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int stats__to_json(cJSON *obj, const struct stats_table *t, const void *st)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!cJSON_AddNumberToObject(obj, t->fields[i].name,
					     (double)stats__get(&t->fields[i], st)))
			return -ENOMEM;
	return 0;
}

/* @t's row named @name, or NULL. */
static const struct stats_field *find_field(const struct stats_table *t,
					    const char *name)
{
	size_t i;

	for (i = 0; t && i < t->n; i++)
		if (!strcmp(t->fields[i].name, name))
			return &t->fields[i];
	return NULL;
}

/* The samples of family @name: one per part of @p, read at row @pf. */
static void render_parts(struct metrics_text *mt, const char *name,
			 const struct stats_parts *p,
			 const struct stats_field *pf)
{
	struct metrics_label l = { p->label, NULL };
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (!p->values[i])
			continue;
		l.value = p->values[i];
		metrics_text__sample(mt, name, &l, 1, (double)stats__get(
			pf, (const char *)p->parts + i * p->stride));
	}
}

int stats__render(struct metrics_text *mt, const struct stats_table *t,
		  const void *st)
{
	return stats__render_parts(mt, t, st, NULL);
}

int stats__render_parts(struct metrics_text *mt, const struct stats_table *t,
			const void *st, const struct stats_parts *p)
{
	const struct stats_field *f, *pf;
	char name[128];
	size_t i;

	for (i = 0; i < t->n; i++) {
		f = &t->fields[i];
		if (stats__family(t, f, name, sizeof(name))) {
			/*
			 * Rather than a cut name, the text's sticky error:
			 * the empty name is refused with -EINVAL.
			 */
			metrics_text__family(mt, "", "counter", "");
			break;
		}
		metrics_text__family(mt, name, f->kind == STATS_COUNTER ?
				     "counter" : "gauge", f->help);
		pf = p ? find_field(p->by, f->name) : NULL;
		if (pf)
			render_parts(mt, name, p, pf);
		else
			metrics_text__sample(mt, name, NULL, 0,
					     (double)stats__get(f, st));
	}
	return metrics_text__error(mt);
}
