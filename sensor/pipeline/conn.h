/* SPDX-License-Identifier: MIT */
/*
 * conn.h - the connections of a pipeline and the reassembly of their
 * byte streams.
 *
 * Each connection (tgid, opaque connection id: struct conn_key) gets,
 * from its first bytes, a wire protocol (proto/proto.h) and a pairing of
 * its requests and responses (pair.h).  Per direction the call ids and
 * offsets of the records are checked: records lost, a call cut at the
 * per-call cap or a buffer that could not be read become a gap with its
 * reason, and the protocol resyncs.  A connection ends on its SSL_free()
 * record, its process's exit or exec, its id being reused, the table
 * being full (least recently used first) or an idle timeout; what is in
 * progress is then completed as partial.  A connection the pipeline
 * stops parsing (not HTTP/1.x, server side, 101) is only counted, and
 * the ignore hook tells the capture (pipeline.h).
 *
 * Internal to the pipeline: pipeline.c feeds it the capture records.
 */
#ifndef OISP_CONN_H
#define OISP_CONN_H

#include <stdint.h>

#include "capture_abi.h"
#include "pipeline/pipeline.h"

struct assembler;
struct budget;
struct conns;

/*
 * Creates an empty table of at most o->max_connections connections.
 * @o and @st (counters) are kept, not copied; @as writes the events.
 * @budget (kept; NULL: none) is charged for the connections' state and
 * the bytes their protocols hold; the table becomes its shed callback,
 * which drops the largest body in progress.  After each record, a
 * budget still over its limit closes connections, least recently used
 * first.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int conns__new(struct conns **out, const struct pipeline_opts *o,
	       struct pipeline_stats *st, struct assembler *as,
	       struct budget *budget);

/*
 * Feeds one validated data record: its bytes go to its connection's
 * protocol, events completed by them are written.  Returns 0 or
 * -ENOMEM.
 */
int conns__data(struct conns *cs, const struct cap_data *d);

/* Process @tgid exec'd at @ts_ns: its older connections are stale. */
void conns__exec(struct conns *cs, uint32_t tgid, uint64_t ts_ns);

/* SSL_free() of connection (@tgid, @conn): it ends. */
void conns__freed(struct conns *cs, uint32_t tgid, uint64_t conn);

/* Process @tgid exited: its connections end. */
void conns__exit(struct conns *cs, uint32_t tgid);

/* Ends the connections idle since before @now_ns - o->idle_timeout_ns. */
void conns__tick(struct conns *cs, uint64_t now_ns);

/* Ends every connection. */
void conns__close_all(struct conns *cs);

/*
 * Sets st->connections to the number of open connections and adds their
 * protocols' parse errors to st->parse_errors (ended connections' are
 * already counted).
 */
void conns__stats(const struct conns *cs, struct pipeline_stats *st);

/* Sets the ignore hook (pipeline.h); NULL: none. */
void conns__on_ignore(struct conns *cs, pipeline_ignore_fn fn, void *ctx);

/* Frees every connection without completing anything; NULL is fine. */
void conns__free(struct conns *cs);

#endif /* OISP_CONN_H */
