// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"
#include "procinfo.h"
#include "redact.h"
#include "rules.h"

#define PROCINFO_MAX	4096

uint64_t engine__realtime_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((uint64_t)rt.tv_sec - (uint64_t)mono.tv_sec) * 1000000000ULL +
	       (uint64_t)rt.tv_nsec - (uint64_t)mono.tv_nsec;
}

static int open_rules(struct engine *e, const struct config *cfg)
{
	char err[512];
	int ret;

	if (cfg->rules_path)
		ret = rules__load_file(&e->rules, cfg->rules_path, err,
				       sizeof(err));
	else
		ret = rules__load_default(&e->rules, err, sizeof(err));
	if (ret) {
		pr_err("rules: %s", err);
		return ret;
	}
	pr_info("%zu classification rules loaded from %s",
		rules__count(e->rules), cfg->rules_path ?: "built-in defaults");
	return 0;
}

int engine__open(struct engine **out, const struct config *cfg, bool live,
		 uint64_t realtime_offset_ns)
{
	struct pipeline_opts po = { 0 };
	struct engine *e;
	char err[512];
	int ret;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	ret = open_rules(e, cfg);
	if (ret)
		goto err_close;
	if (cfg->redact) {
		ret = redactor__new(&e->redactor, cfg->redact_patterns,
				    cfg->n_redact_patterns, err, sizeof(err));
		if (ret) {
			pr_err("redaction: %s", err);
			goto err_close;
		}
	}
	ret = redactor__new(&e->secrets, NULL, 0, err, sizeof(err));
	if (ret) {
		pr_err("redaction: %s", err);
		goto err_close;
	}
	ret = output__open(&e->out, cfg->output_path, err, sizeof(err));
	if (ret) {
		pr_err("output: %s", err);
		goto err_close;
	}
	ret = event__host_load(&e->host);
	if (ret) {
		pr_err("host information: %s", strerror(-ret));
		goto err_close;
	}
	if (live) {
		ret = procinfo__new(&e->procinfo, "/proc", PROCINFO_MAX);
		if (ret)
			goto err_close;
	}
	po = (struct pipeline_opts){
		.rules = e->rules,
		.redactor = e->redactor,
		.secrets = e->secrets,
		.out = e->out,
		.procinfo = e->procinfo,
		.host = &e->host,
		.realtime_offset_ns = realtime_offset_ns,
		.ai_only = cfg->ai_only,
		.server_side = cfg->server_side,
		.max_body_bytes = cfg->max_body_bytes,
		.max_connections = cfg->max_connections,
		.idle_timeout_ns = (uint64_t)cfg->idle_timeout_s * 1000000000ULL,
	};
	ret = pipeline__new(&e->pl, &po);
	if (ret)
		goto err_close;
	*out = e;
	return 0;

err_close:
	engine__close(e);
	return ret;
}

void engine__flush(struct engine *e)
{
	pipeline__flush(e->pl);
}

void engine__close(struct engine *e)
{
	if (!e)
		return;
	pipeline__free(e->pl);
	procinfo__free(e->procinfo);
	output__close(e->out);
	redactor__free(e->secrets);
	redactor__free(e->redactor);
	rules__free(e->rules);
	free(e);
}
