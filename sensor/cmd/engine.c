// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ai/aistats.h"
#include "cmd/engine.h"
#include "meta/k8s.h"
#include "lib/log.h"
#include "event/output.h"
#include "pipeline/pipeline.h"
#include "meta/procinfo.h"
#include "ai/redact.h"
#include "ai/rules.h"

#define PROCINFO_MAX	4096
/*
 * Replay holds this many bytes of events before one write(2): a write
 * per line was a tenth of a replay's time.  Live, every line goes out
 * as it is made.
 */
#define REPLAY_BATCH_BYTES	(64u << 10)

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

/*
 * The API server's URL: the configured one, else in-cluster config
 * (KUBERNETES_SERVICE_HOST/PORT, as client-go's rest.InClusterConfig).
 * Returns 0 with a malloc'd URL in *@url (NULL: none known) or -ENOMEM.
 */
static int k8s_api_url(const struct config *cfg, char **url)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");

	*url = NULL;
	if (cfg->k8s_api_server && *cfg->k8s_api_server) {
		*url = strdup(cfg->k8s_api_server);
		return *url ? 0 : -ENOMEM;
	}
	if (!host || !*host || !port || !*port)
		return 0;
	/* An IPv6 address needs brackets in a URL. */
	if (asprintf(url, strchr(host, ':') ? "https://[%s]:%s" :
		     "https://%s:%s", host, port) < 0) {
		*url = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Starts the Kubernetes client as kubernetes.enabled says. */
static int open_k8s(struct engine *e, const struct config *cfg)
{
	const char *node = cfg->k8s_node_name ?: getenv("NODE_NAME");
	bool on = cfg->k8s_enabled == CONFIG_K8S_ON;
	struct k8s_opts ko = { 0 };
	char *url;
	int ret;

	if (cfg->k8s_enabled == CONFIG_K8S_OFF)
		return 0;
	ret = k8s_api_url(cfg, &url);
	if (ret)
		return ret;
	if (!node || !*node || !url) {
		if (on) {
			pr_err("kubernetes: enabled, but %s",
			       url ? "no node name (kubernetes.node_name or "
				     "$NODE_NAME)" :
				     "no API server (kubernetes.api_server or "
				     "$KUBERNETES_SERVICE_HOST)");
			ret = -EINVAL;
		} else {
			pr_debug("kubernetes: off (no %s)",
				 url ? "node name" : "API server");
		}
		goto out;
	}
	if (!on && access(cfg->k8s_token_path, R_OK) != 0) {
		pr_debug("kubernetes: off (no token at %s)",
			 cfg->k8s_token_path);
		goto out;
	}
	ko = (struct k8s_opts){
		.api_server = url,
		.node_name = node,
		.token_path = cfg->k8s_token_path,
		.ca_path = access(cfg->k8s_ca_path, R_OK) == 0 ?
			   cfg->k8s_ca_path : NULL,
		.refresh_s = cfg->k8s_refresh_s,
	};
	if (!ko.ca_path)
		pr_warn("kubernetes: no CA at %s, verifying %s against the "
			"system's CAs", cfg->k8s_ca_path, url);
	ret = k8s__start(&e->k8s, &ko);
	if (ret)
		pr_err("kubernetes: cannot start the client: %s",
		       strerror(-ret));
	else
		pr_info("kubernetes: listing the pods of node %s from %s every "
			"%u s", node, url, cfg->k8s_refresh_s);
out:
	free(url);
	return ret;
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
	ret = output__set_rotation(e->out, cfg->rotate_max_bytes,
				   cfg->rotate_max_files);
	if (ret) {
		pr_err("output: rotation: %s", strerror(-ret));
		goto err_close;
	}
	if (!live)
		output__set_batch(e->out, REPLAY_BATCH_BYTES);
	ret = aistats__new(&e->aistats, 0);
	if (ret)
		goto err_close;
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
		.aistats = e->aistats,
		.host = &e->host,
		.realtime_offset_ns = realtime_offset_ns,
		.ai_only = cfg->ai_only,
		.server_side = cfg->server_side,
		.max_body_bytes = cfg->max_body_bytes,
		.max_event_bytes = cfg->max_event_bytes,
		.max_connections = cfg->max_connections,
		.idle_timeout_ns = (uint64_t)cfg->idle_timeout_s * 1000000000ULL,
		.memory_budget_bytes = cfg->memory_budget_bytes,
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

int engine__start_k8s(struct engine *e, const struct config *cfg)
{
	int ret = open_k8s(e, cfg);

	if (ret)
		return ret;
	pipeline__set_k8s(e->pl, e->k8s);
	return 0;
}

void engine__flush(struct engine *e)
{
	pipeline__flush(e->pl);
	output__flush(e->out);
}

void engine__close(struct engine *e)
{
	if (!e)
		return;
	pipeline__free(e->pl);
	aistats__free(e->aistats);
	k8s__stop(e->k8s);
	procinfo__free(e->procinfo);
	output__close(e->out);
	redactor__free(e->secrets);
	redactor__free(e->redactor);
	rules__free(e->rules);
	free(e);
}
