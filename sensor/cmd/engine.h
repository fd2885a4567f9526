/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the pipeline with everything it needs, built from a
 * configuration: classification rules, redactors, the output file, AI
 * call statistics, host information and, live, process metadata and the
 * Kubernetes pod client.  `run` and `replay` share it, so replaying a
 * capture file exercises exactly the code that runs live; the capture
 * itself (BPF or a capture file) stays with the subcommand.
 */
#ifndef OISP_ENGINE_H
#define OISP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "event/event.h"

struct engine {
	struct rules *rules;
	struct redactor *redactor;	/* NULL when redaction is off */
	struct redactor *secrets;	/* built-ins, for command lines */
	struct output *out;
	struct procinfo *procinfo;	/* NULL when not live */
	struct k8s *k8s;		/* pod metadata; NULL when off or not live */
	struct pipeline *pl;
	struct aistats *aistats;	/* AI calls by provider/model, for /metrics */
	struct event_host host;
};

/*
 * Builds the engine for @cfg into *@out: loads the rules (rules.path,
 * else the built-in ones), builds the redactors, opens the output file
 * with its rotation, loads the host information (uname) and creates the
 * pipeline.  @live also reads process metadata from /proc (not for
 * replay: the recorded PIDs are not this machine's processes); without
 * it, events are written in blocks (output__set_batch), the last on
 * engine__flush or engine__close.
 * @realtime_offset_ns (wall clock minus CLOCK_MONOTONIC, ns) turns the
 * records' monotonic times into event times: engine__realtime_offset()
 * live, the capture file's header for replay.  The Kubernetes client is
 * not started here: see engine__start_k8s.  Failures are logged with the
 * file and reason.  Returns 0 or -errno (*@out untouched).
 */
int engine__open(struct engine **out, const struct config *cfg, bool live,
		 uint64_t realtime_offset_ns);

/*
 * Starts the Kubernetes pod-metadata client as the configuration says
 * (kubernetes.*, docs/config.md) and hands it to the pipeline: with
 * kubernetes.enabled "auto" it starts when a node name
 * (kubernetes.node_name or $NODE_NAME), an API server
 * (kubernetes.api_server, else https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT) and a readable token are there; "true"
 * fails with -EINVAL when the node name or API server is missing.
 * Called by `run` once the probes are attached and the capabilities
 * dropped, so that its worker thread starts with no more than the sensor
 * keeps.
 * Returns 0 (also when it stays off) or -errno (kubernetes.enabled: true
 * and something missing; logged).
 */
int engine__start_k8s(struct engine *e, const struct config *cfg);

/* Wall clock minus CLOCK_MONOTONIC now, in ns. */
uint64_t engine__realtime_offset(void);

/*
 * Flushes the pipeline (messages in progress are written as partial)
 * and writes the events output__set_batch() held (replay).
 */
void engine__flush(struct engine *e);

/* Frees everything; NULL is fine. */
void engine__close(struct engine *e);

#endif /* OISP_ENGINE_H */
