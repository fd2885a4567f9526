/* SPDX-License-Identifier: MIT */
/*
 * assemble.h - event assembly: HTTP messages in, OISP event lines out.
 *
 * A request is classified with the rules; when it is reported (a rule
 * matched, or filters.ai_only is off) its ai.request event is written:
 * the envelope (process and pod metadata, capture point, completeness
 * and its reasons), provider, auth, the http object and the AI fields
 * extracted from the decoded body, redacted when asked.  The response's
 * ai.response event adds status, success, latency, streaming (SSE) and
 * the time of the first token, and feeds the per-model counters.
 *
 * Messages come from any wire protocol (proto/proto.h).  Internal to the
 * pipeline: the connection table (conn.h) and the pairing (pair.h) call
 * it; events and counters are as pipeline.h describes.
 */
#ifndef OISP_ASSEMBLE_H
#define OISP_ASSEMBLE_H

#include <stdbool.h>
#include <stdint.h>

#include "ai/rules.h"

struct assembler;
struct budget;
struct event_proc;
struct http_msg;
struct pipeline_opts;
struct pipeline_stats;

/*
 * What a request leaves for its response: filled by
 * assembler__request(), read by assembler__response(), its strings freed
 * by exchange__clear().  The pairing layer keeps it between the two.
 */
struct exchange {
	bool report;			/* the request is reported */
	char event_id[27];		/* its ai.request event ("": none) */
	char request_id[27];
	struct rule_match m;
	bool guessed;			/* m from a path guessed from the body */
	char *model;			/* the request's model.id, or NULL */
	char *host;			/* the request's authority ("" if none) */
	uint64_t ts_start;		/* CLOCK_MONOTONIC ns of its first byte */
};

/*
 * Creates an assembler writing through @o (kept, not copied: a later
 * change to o->k8s is seen) and counting into @st (kept).  While an
 * event is built, its decoded body and an estimate of the JSON trees and
 * line it needs (192 bytes per ',', '[' or '{' of the body plus 4 per
 * byte) are reserved from @budget (kept; NULL: none); when the budget
 * refuses, the event is written without the body's AI fields, partial
 * with the reason "memory_budget".
 * Returns 0, or -ENOMEM.
 */
int assembler__new(struct assembler **out, const struct pipeline_opts *o,
		   struct pipeline_stats *st, struct budget *budget);

/*
 * Classifies request @msg into *@x (zeroed by the caller) and, when it is
 * reported, writes its ai.request event.  @proc gives the process fields
 * of the record that completed it (pid, tid, uid, gid, comm); @server
 * says the traced process serves the connection (capture point
 * tls_server).  @msg is only read.
 */
void assembler__request(struct assembler *as, const struct event_proc *proc,
			bool server, const struct http_msg *msg,
			struct exchange *x);

/*
 * Writes the ai.response event of final response @msg to the request
 * @x, when @x was reported.  @proc and @server as above.
 */
void assembler__response(struct assembler *as, const struct event_proc *proc,
			 bool server, const struct http_msg *msg,
			 const struct exchange *x);

/* Frees the strings of @x (not @x itself). */
void exchange__clear(struct exchange *x);

/* Frees @as; NULL is fine. */
void assembler__free(struct assembler *as);

#endif /* OISP_ASSEMBLE_H */
