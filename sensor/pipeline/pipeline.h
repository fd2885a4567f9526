/* SPDX-License-Identifier: MIT */
/*
 * pipeline.h - capture records in, OISP events out.
 *
 * The pipeline is everything between the ring buffer and the events
 * file, with no BPF in it: it is fed the records of bpf/capture_abi.h
 * one at a time, by the live ring-buffer reader or by `oisp-sensor
 * replay` reading a capture file (the record/replay seam).
 *
 * Per connection (tgid, opaque connection id) it reassembles the two
 * byte streams and hands them to the wire protocol chosen from the
 * connection's first bytes (proto/proto.h; HTTP/1.1, RFC 9112, today),
 * which turns them into HTTP messages (conn.h).  It pairs responses with
 * requests in order (RFC 9112 section 9.3.2; pair.h), classifies each
 * request with the rules, extracts the AI fields from the decoded bodies
 * (Content-Encoding, SSE), optionally redacts, and writes one ai.request
 * event when a request is complete and one ai.response event when its
 * response is complete (assemble.h).
 */
#ifndef OISP_PIPELINE_H
#define OISP_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/pipeline_stats.h"

struct pipeline;
struct rules;
struct redactor;
struct output;
struct aistats;
struct procinfo;
struct k8s;
struct event_host;

struct pipeline_opts {
	const struct rules *rules;	/* required */
	const struct redactor *redactor; /* NULL: no redaction */
	/*
	 * Always applied to process command lines, whatever the redaction
	 * setting: credentials passed as arguments (curl -H) are never
	 * written.  NULL: command lines are left out.
	 */
	const struct redactor *secrets;
	struct output *out;		/* required: where lines go */
	struct aistats *aistats;	/* NULL: no per-model counters */
	struct procinfo *procinfo;	/* NULL: process metadata from records only */
	struct k8s *k8s;		/* NULL: no pod metadata from the API server */
	const struct event_host *host;	/* required */
	uint64_t realtime_offset_ns;	/* wall clock = CLOCK_MONOTONIC + this */
	bool ai_only;			/* report only requests a rule matched */
	bool server_side;		/* also report the server side */
	size_t max_body_bytes;		/* body bytes kept per HTTP message */
	/*
	 * output.max_event_bytes: longer lines are shortened (ai/shorten.h)
	 * until they fit, without the newline; 0: no limit.
	 */
	size_t max_event_bytes;
	size_t max_connections;		/* connection table bound */
	uint64_t idle_timeout_ns;	/* a connection idle this long is flushed */
	/*
	 * Bytes of captured data held at once (lib/budget.h), 0: 256 MiB.
	 * Charged: connection state, header sections and bodies in
	 * progress, queued requests, decoded bodies and, while an event is
	 * built, an estimate of its JSON trees (assemble.h).  Over it, the
	 * largest body in progress is dropped (its event keeps the headers
	 * and says "memory_budget"), then the least recently used
	 * connections are closed.
	 */
	size_t memory_budget_bytes;
};

/* Returns 0, -EINVAL (missing required option) or -ENOMEM. */
int pipeline__new(struct pipeline **out, const struct pipeline_opts *opts);

/*
 * Feeds one capture record (struct cap_data, cap_proc or cap_free, as
 * laid out in bpf/capture_abi.h, @len bytes).  The record is only read
 * during the call.  Events completed by it are written before this
 * returns.
 * Returns 0, -EBADMSG for a malformed record (counted, nothing else
 * happens) or -ENOMEM.
 */
int pipeline__feed(struct pipeline *p, const void *rec, size_t len);

/*
 * Housekeeping at CLOCK_MONOTONIC @now_ns: connections idle longer than
 * the timeout are flushed and dropped.
 */
void pipeline__tick(struct pipeline *p, uint64_t now_ns);

/*
 * Shutdown: every message in progress is completed with what was seen
 * (marked partial) and every connection is dropped.
 */
void pipeline__flush(struct pipeline *p);

void pipeline__stats(const struct pipeline *p, struct pipeline_stats *st);

/*
 * Called when the pipeline stops parsing connection (@tgid, @conn) for the
 * rest of its life: it is the server side and filters.server_side is
 * off, it is not HTTP/1.x, or it switched protocols (101).  Its later
 * records are only counted.  @last_ns is the CLOCK_MONOTONIC time of the
 * record that decided.  The live sensor stops copying such connections
 * in the kernel (capture__skip_conn()).  Records that still come more
 * than a second (record time) after a call, because the kernel's table
 * dropped the connection, call it again.
 */
typedef void (*pipeline_ignore_fn)(void *ctx, uint32_t tgid, uint64_t conn,
				   uint64_t last_ns);

/* Sets the ignore hook (NULL: none); @ctx is passed to it. */
void pipeline__on_ignore(struct pipeline *p, pipeline_ignore_fn fn,
			 void *ctx);

/* Sets the pod-metadata source after creation (NULL: none). */
void pipeline__set_k8s(struct pipeline *p, struct k8s *k8s);

/* Frees everything (without flushing); NULL is fine. */
void pipeline__free(struct pipeline *p);

#endif /* OISP_PIPELINE_H */
