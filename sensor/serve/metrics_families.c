// SPDX-License-Identifier: MIT
/*
 * The sensor's metric families (metrics_families.h): the statistics
 * tables (serve/stats.h), the AI families by provider, model and
 * namespace, and the process_* families read from /proc/self.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ai/aistats.h"
#include "capture/capture_stats.h"
#include "serve/metrics_families.h"
#include "serve/metrics_text.h"
#include "serve/stats.h"

#define PREFIX			STATS_METRIC_PREFIX

struct simple {
	const char *name;	/* after PREFIX */
	const char *type;
	const char *help;
	double v;
};

static void simple_family(struct metrics_text *t, const struct simple *s)
{
	char name[128];

	snprintf(name, sizeof(name), PREFIX "%s", s->name);
	metrics_text__family(t, name, s->type, s->help);
	metrics_text__sample(t, name, NULL, 0, s->v);
}

enum ai_family {
	AI_REQUESTS,
	AI_RESPONSES,
	AI_TOKENS,
	AI_LATENCY,
};

struct ai_ctx {
	struct metrics_text *t;
	enum ai_family which;
};

static int ai_series(void *ctx, const struct aistats_series *s)
{
	struct ai_ctx *a = ctx;
	struct metrics_label l[4] = {
		{ "provider", s->provider },
		{ "model", s->model },
		{ "namespace", s->ns },
	};

	switch (a->which) {
	case AI_REQUESTS:
		metrics_text__sample(a->t, PREFIX "ai_requests_total", l, 3,
				     (double)s->requests);
		break;
	case AI_RESPONSES:
		l[3] = (struct metrics_label){ "success", "true" };
		metrics_text__sample(a->t, PREFIX "ai_responses_total", l, 4,
				     (double)s->responses_ok);
		l[3].value = "false";
		metrics_text__sample(a->t, PREFIX "ai_responses_total", l, 4,
				     (double)s->responses_err);
		break;
	case AI_TOKENS:
		l[3] = (struct metrics_label){ "direction", "input" };
		metrics_text__sample(a->t, PREFIX "ai_tokens_total", l, 4,
				     (double)s->prompt_tokens);
		l[3].value = "output";
		metrics_text__sample(a->t, PREFIX "ai_tokens_total", l, 4,
				     (double)s->completion_tokens);
		break;
	case AI_LATENCY:
		metrics_text__histogram(a->t, PREFIX "ai_latency_seconds", l, 3,
					aistats__latency_bounds(), s->latency,
					AISTATS_LATENCY_BUCKETS,
					s->latency_sum_s);
		break;
	}
	return metrics_text__error(a->t);
}

static void render_ai(struct metrics_text *t, const struct aistats *ai)
{
	static const struct {
		enum ai_family which;
		const char *name, *type, *help;
	} fam[] = {
		{ AI_REQUESTS, PREFIX "ai_requests_total", "counter",
		  "AI API requests seen (ai.request events written)." },
		{ AI_RESPONSES, PREFIX "ai_responses_total", "counter",
		  "AI API responses seen (ai.response events written), by data.success." },
		{ AI_TOKENS, PREFIX "ai_tokens_total", "counter",
		  "Tokens reported in AI responses' usage: input (prompt) or output (completion)." },
		{ AI_LATENCY, PREFIX "ai_latency_seconds", "histogram",
		  "Time from the first byte of an AI request to the last byte of its response." },
	};
	struct ai_ctx a = { .t = t };
	size_t i;

	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		metrics_text__family(t, fam[i].name, fam[i].type, fam[i].help);
		a.which = fam[i].which;
		aistats__for_each(ai, ai_series, &a);
	}
	simple_family(t, &(struct simple){ "ai_series", "gauge",
		"Label sets (provider, model, namespace) in use for the AI families.",
		(double)aistats__count(ai) });
	simple_family(t, &(struct simple){ "ai_series_folded_total", "counter",
		"AI calls counted under model=\"other\" because the series limit was reached.",
		(double)aistats__folded(ai) });
}

/* The decimal number at *@p (blanks before it skipped); moves *@p past it. */
static int parse_ul(const char **p, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(*p, &end, 10);
	if (end == *p || errno)
		return -EINVAL;
	*p = end;
	return 0;
}

/*
 * Resident set size in bytes from /proc/self/statm ("size resident ...",
 * in pages), or -1.
 */
static double rss_bytes(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	char line[256];
	const char *p;

	if (!f)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || parse_ul(&p, &size) || parse_ul(&p, &resident))
		return -1;
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	double n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static void render_process(struct metrics_text *t)
{
	struct rusage ru;
	double v;

	if (!getrusage(RUSAGE_SELF, &ru)) {
		metrics_text__family(t, "process_cpu_seconds_total", "counter",
				     "User and system CPU time spent, in seconds.");
		metrics_text__sample(t, "process_cpu_seconds_total", NULL, 0,
				     (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	v = rss_bytes();
	if (v >= 0) {
		metrics_text__family(t, "process_resident_memory_bytes", "gauge",
				     "Resident memory size in bytes.");
		metrics_text__sample(t, "process_resident_memory_bytes", NULL, 0, v);
	}
	v = open_fds();
	if (v >= 0) {
		metrics_text__family(t, "process_open_fds", "gauge",
				     "Number of open file descriptors.");
		metrics_text__sample(t, "process_open_fds", NULL, 0, v);
	}
}

/* The capture's families; those counted per TLS stack labelled stack. */
static void render_capture(struct metrics_text *t,
			   const struct capture_stats *cs)
{
	const struct stats_parts by_stack = {
		.by = &stats_capture_stack,
		.label = "stack",
		.values = cs->stack_label,
		.parts = cs->stack,
		.stride = sizeof(cs->stack[0]),
		.n = CAP_STACK_NR,
	};

	stats__render_parts(t, &stats_capture, cs, &by_stack);
}

int metrics__render(struct metrics_text *t, const struct metrics_sources *s)
{
	metrics_text__family(t, PREFIX "build_info", "gauge",
			     "Always 1; the version of the sensor is a label.");
	metrics_text__sample(t, PREFIX "build_info",
			     &(struct metrics_label){ "version", OISP_VERSION },
			     1, 1);
	simple_family(t, &(struct simple){ "uptime_seconds", "gauge",
		"Seconds since the sensor started.", s->uptime_s });
	render_ai(t, s->ai);
	if (s->capture)
		render_capture(t, s->capture);
	stats__render(t, &stats_pipeline, s->pipeline);
	stats__render(t, &stats_output, s->output);
	if (s->k8s)
		stats__render(t, &stats_kubernetes, s->k8s);
	render_process(t);
	return metrics_text__error(t);
}
