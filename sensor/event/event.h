/* SPDX-License-Identifier: MIT */
/*
 * event.h - the OISP v0.1 event envelope (oisp-spec schema/v0.1/
 * envelope.schema.json and the common/ schemas), serialised as one JSON
 * Lines line by event/jsonline.h.  docs/events.md lists every field;
 * schemas/ validates them.
 *
 * Every line event__write_line writes is valid UTF-8: invalid byte
 * sequences found anywhere in the tree are replaced by U+FFFD.
 */
#ifndef OISP_EVENT_H
#define OISP_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "event/jsonline.h"

struct ulid_gen;
struct k8s_pod;

/* The machine we run on, loaded once (uname(2)). */
struct event_host {
	char hostname[256];
	char kernel[128];	/* uname release, e.g. "6.8.0-45-generic" */
	char arch[32];		/* uname machine, e.g. "x86_64" */
};

/* Fills @h from uname(2).  Returns 0 or -errno. */
int event__host_load(struct event_host *h);

/*
 * The process of the captured call.  pid is always written; tid, ppid 0
 * mean unknown and are omitted; uid and gid are always written (0 is
 * root); NULL strings are omitted.  @comm becomes process.name.
 *
 * Container and Kubernetes fields (OISP host.container, host.k8s,
 * process.container_id): @container_id becomes host.container.id and
 * process.container_id, @container_runtime host.container.runtime (one
 * of OISP's enum: "containerd", "crio", "docker", "podman", "other").
 * host.k8s is written when @pod_uid or @pod is set: pod_uid is @pod's
 * metadata.uid, else @pod_uid (from the cgroup); @pod (metadata from
 * the API server, k8s.h; not owned) adds pod_name, namespace,
 * node_name, service_account, deployment and labels (an object; all
 * labels), each when not empty.
 */
struct event_proc {
	uint32_t pid, tid, ppid, uid, gid;
	const char *comm, *exe, *cmdline, *user;
	const char *container_id, *container_runtime, *pod_uid;
	const struct k8s_pod *pod;
};

struct event_meta {
	const char *type;		/* "ai.request" | "ai.response" */
	uint64_t ts_real_ns;		/* wall clock, ns since the epoch */
	uint64_t ts_mono_ns;		/* CLOCK_MONOTONIC, ns */
	const char *capture_point;	/* "tls_client" | "tls_server" */
	const char *rule;		/* matching rule's name, NULL: none */
	const char *completeness;	/* "full" | "partial" | "redacted" */
	const char *const *reasons;	/* confidence.reasons */
	size_t n_reasons;
	bool redaction_applied;
	const char *related_event_id;	/* response: the request's event_id */
};

/*
 * Builds the envelope (OISP v0.1 envelope.schema.json):
 *   oisp_version "0.1", event_id (a new ULID from @g for the ms of
 *   ts_real_ns), event_type, ts, ts_mono, source{collector "oisp-sensor",
 *   collector_version, capture_method "ebpf_uprobe", capture_point,
 *   sensor_host}, confidence{level, completeness, reasons[],
 *   ai_detection_method, rule, content_source "tls_boundary",
 *   redaction_applied}, host (with container and k8s from @p),
 *   process, actor, related_events
 *   (relationship "caused_by"), and an empty "data" object.
 * confidence.level is "high" for full or redacted events, "medium" for
 * partial ones.  ai_detection_method is "known_endpoint" when @m->rule is
 * set (the rule name goes to confidence.rule), "heuristic" otherwise.
 * @h and @p may be NULL (host / process / actor omitted; host is still
 * written for @p's container and pod fields).
 * *@data (if @data is non-NULL) receives the "data" object, owned by the
 * event.  The event_id is copied to @id_out (ULID_BUF = 27 bytes) if it is
 * non-NULL.  Returns the new object (free with cJSON_Delete) or NULL when
 * out of memory.
 */
cJSON *event__new(struct ulid_gen *g, const struct event_host *h,
		  const struct event_proc *p, const struct event_meta *m,
		  cJSON **data, char *id_out);

/*
 * Printed envelope parts kept from one event to the next (source,
 * confidence, host, process, actor), keyed by all the fields they are
 * built from: a bounded table (256 entries of a few hundred bytes; more
 * with long command lines or many pod labels).
 */
struct event_cache;

/* Allocates an empty cache into *@out.  Returns 0 or -ENOMEM. */
int event_cache__new(struct event_cache **out);

/* Frees @c; NULL is fine. */
void event_cache__free(struct event_cache *c);

/*
 * event__new's envelope with the members of @data (an object; not
 * consumed, referenced while printing; NULL: an empty object) as its
 * "data", serialised into @b by event__json().  With @cache (NULL:
 * none), the envelope's source, confidence, host, process and actor are
 * printed once per distinct @h, @p and @m fields and reused; the text is
 * the same as without.  The new event_id is copied to @id_out (ULID_BUF
 * bytes) if it is non-NULL.  Returns 0 or -ENOMEM.
 */
int event__write_line(struct event_buf *b, struct event_cache *cache,
		      struct ulid_gen *g, const struct event_host *h,
		      const struct event_proc *p, const struct event_meta *m,
		      const cJSON *data, char *id_out);

/*
 * Formats @ts_real_ns (ns since the epoch) as RFC 3339 UTC with
 * microseconds, "2026-11-23T07:50:01.123456Z", into @buf (at least 32
 * bytes for any year up to 9999; shorter buffers get a truncated,
 * NUL-terminated string).
 */
void event__format_ts(uint64_t ts_real_ns, char *buf, size_t buflen);

#endif /* OISP_EVENT_H */
