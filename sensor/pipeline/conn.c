// SPDX-License-Identifier: MIT
/*
 * The connection table and stream reassembly.  See conn.h for the
 * contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture_abi.h"
#include "event/event.h"
#include "lib/budget.h"
#include "meta/procinfo.h"
#include "pipeline/conn.h"
#include "pipeline/conntab.h"
#include "pipeline/pair.h"
#include "pipeline/pipeline.h"
#include "proto/proto.h"

/* Recent execve()s remembered, direct-mapped by tgid. */
#define EXEC_SLOTS	4096
/*
 * Records of an ignored connection this long after the ignore hook was
 * called mean the kernel forgot it (its map is an LRU): tell it again.
 * Records closer than that were in flight when the hook ran.
 */
#define IGNORE_RETELL_NS	1000000000ULL

/* Where one direction's records have got to. */
struct dir_state {
	uint64_t call_id;		/* call the last record belonged to */
	uint64_t next_off;		/* offset expected next in that call */
	bool open;			/* that call has records still to come */
};

struct conn {
	struct conn_key key;
	struct conns *cs;
	const struct proto_ops *proto;	/* chosen from the first bytes */
	void *ps;			/* its state */
	struct pair *pair;
	struct dir_state ds[2];		/* by enum proto_dir */
	bool ignore;			/* server side, not parsable, or 101 */
	bool settled;			/* its protocol handed over a message */
	uint64_t ignore_ts;		/* record time of the last hook call */
	uint64_t last_ts;
	/* The call the cap cut: its bytes not copied, during its gap. */
	uint64_t gap_bytes;
	/* pid, tid, uid, gid and comm of the last record */
	struct event_proc proc;
	char comm[CAP_COMM_LEN + 1];
	bool fed[2];			/* a call of that direction was fed */
	/*
	 * A direction's first calls while their bytes leave the protocol
	 * undecided (proto__undecided()): held back, and the protocol
	 * chosen on them and the next call's bytes together.
	 */
	unsigned char head[PROTO_UNDECIDED_MAX];
	uint8_t head_len;
	uint8_t head_dir;
};

struct exec_mark {
	uint32_t tgid;
	uint64_t ts;
};

struct conns {
	const struct pipeline_opts *o;
	struct pipeline_stats *st;
	struct budget *budget;
	struct conntab *tab;
	struct pair_env env;
	pipeline_ignore_fn on_ignore;	/* NULL: none */
	void *ignore_ctx;
	struct exec_mark execs[EXEC_SLOTS];
};

/*
 * The connection is not looked at again until it ends; the hook lets the
 * live capture stop copying its calls.
 */
static void conn_ignore(struct conns *cs, struct conn *c)
{
	c->ignore = true;
	c->ignore_ts = c->last_ts;
	if (cs->on_ignore)
		cs->on_ignore(cs->ignore_ctx, c->key.tgid, c->key.conn,
			      c->last_ts);
}

/* WebSocket counters of one connection (proto.h) into the pipeline's. */
static void add_ws_stats(struct pipeline_stats *st,
			 const struct proto_stats *p)
{
	st->websocket_connections += p->ws_connections;
	st->websocket_frames += p->ws_frames;
	st->websocket_control_frames += p->ws_control_frames;
	st->websocket_messages += p->ws_messages;
	st->websocket_other_messages += p->ws_other_messages;
	st->websocket_oversize_messages += p->ws_oversize;
	st->websocket_audio_chunks += p->ws_audio_chunks;
	st->websocket_audio_bytes += p->ws_audio_bytes;
	st->websocket_frame_errors += p->ws_frame_errors;
	st->websocket_deflate_errors += p->ws_deflate_errors;
	st->websocket_deflate_bombs += p->ws_deflate_bombs;
}

/* A connection's protocol counters, added to the pipeline's. */
static void proto_stats_add(struct pipeline_stats *st,
			    const struct proto_stats *pst)
{
	st->parse_errors += pst->parse_errors;
	st->http2_streams_dropped += pst->streams_dropped;
	st->http2_streams_reset += pst->streams_reset;
	st->http2_connections_joined += pst->joined;
	st->http2_resyncs += pst->resyncs;
	st->http2_streams_hpack_unknown += pst->streams_hpack_unknown;
	st->http2_hpack_fields_unknown += pst->hpack_fields_unknown;
	add_ws_stats(st, pst);
}

static void on_message(void *ctx, struct http_msg *msg)
{
	struct conn *c = ctx;

	c->cs->st->http_messages++;
	c->settled = true;
	if (msg->gap == PROTO_GAP_CALL_TRUNCATED)
		msg->gap_bytes = c->gap_bytes;
	/* Messages parsed after the ignore (the rest of that feed): counted. */
	if (!c->ignore && pair__message(c->pair, &c->proc, msg) == PAIR_IGNORE)
		conn_ignore(c->cs, c);
	http_msg__free(msg);
}

static void conn_free(struct conn *c)
{
	struct proto_stats pst;

	if (!c)
		return;
	if (c->proto) {
		c->proto->stats(c->ps, &pst);
		proto_stats_add(c->cs->st, &pst);
		c->proto->free(c->ps);
	}
	pair__free(c->pair);
	budget__release(c->cs->budget, sizeof(*c));
	free(c);
}

/* Completes what is in progress (requests first), then frees. */
static void conn_close(struct conn *c)
{
	enum proto_dir dir;
	int i;

	if (!c)
		return;
	for (i = 0; i < 2; i++) {
		/* A message flushed first may still reveal the role. */
		dir = pair__request_dir(c->pair);
		if (i)
			dir = proto_dir__other(dir);
		if (!c->ignore)
			c->proto->flush(c->ps, dir, c->last_ts);
	}
	conn_free(c);
}

static struct conn *conn_new(struct conns *cs, const struct conn_key *k,
			     enum proto_dir dir, const struct cap_data *d)
{
	struct proto_limits lim = {
		.max_body = cs->o->max_body_bytes, .budget = cs->budget,
	};
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	budget__charge(cs->budget, sizeof(*c));
	c->key = *k;
	c->cs = cs;
	c->proc.pid = k->tgid;
	c->proc.comm = c->comm;
	c->proto = proto__select(dir, d->data, d->len);
	if (c->proto->new(&c->ps, &lim, on_message, c) ||
	    pair__new(&c->pair, &cs->env)) {
		conn_free(c);
		return NULL;
	}
	return c;
}

/* @c's protocol becomes @p (a new state); 0 or -ENOMEM. */
static int conn_switch(struct conns *cs, struct conn *c,
		       const struct proto_ops *p)
{
	struct proto_limits lim = {
		.max_body = cs->o->max_body_bytes, .budget = cs->budget,
	};
	struct proto_stats pst;
	void *ps;

	if (p == c->proto)
		return 0;
	if (p->new(&ps, &lim, on_message, c))
		return -ENOMEM;
	c->proto->stats(c->ps, &pst);
	proto_stats_add(cs->st, &pst);
	c->proto->free(c->ps);
	c->proto = p;
	c->ps = ps;
	return 0;
}

/*
 * A connection first seen mid-frame (an HTTP/2 connection joined with
 * a call that did not start on a frame) went to the last protocol,
 * HTTP/1.1, which skips what it cannot parse.  Until a message came out
 * of it, a call whose first bytes select another protocol (HTTP/2
 * frames) starts that one instead.  Returns 0 or -ENOMEM.
 */
static int conn_reselect(struct conns *cs, struct conn *c, enum proto_dir dir,
			 const struct cap_data *d)
{
	if (c->settled || d->offset != 0 || c->proto->call_start ||
	    c->proto->in_message(c->ps))
		return 0;
	return conn_switch(cs, c, proto__select(dir, d->data, d->len));
}

/*
 * True when @d, a whole call of @dir before any of that direction was
 * fed, is held back (c->head): with the bytes held before it, it leaves
 * the protocol undecided.
 */
static bool hold_head(struct conn *c, enum proto_dir dir,
		      const struct cap_data *d)
{
	size_t n = (size_t)c->head_len + d->len;
	unsigned char b[PROTO_UNDECIDED_MAX];

	if (c->settled || c->fed[dir] || d->offset || d->flags ||
	    d->len != d->call_len || n > sizeof(b) ||
	    (c->head_len && c->head_dir != dir))
		return false;
	memcpy(b, c->head, c->head_len);
	memcpy(b + c->head_len, d->data, d->len);
	if (!proto__undecided(dir, b, n))
		return false;
	memcpy(c->head, b, n);
	c->head_len = (uint8_t)n;
	c->head_dir = dir;
	return true;
}

/*
 * The bytes held for @dir and those of @d, the next call, as one record
 * (*@out, malloc'd).  *@out stays NULL when nothing is held for @dir;
 * held bytes followed by a record that is not the start of a call
 * (records were lost) are dropped.  0 or -ENOMEM.
 */
static int join_head(struct conn *c, enum proto_dir dir,
		     const struct cap_data *d, struct cap_data **out)
{
	size_t n = c->head_len;
	struct cap_data *j;

	*out = NULL;
	if (!n || c->head_dir != dir)
		return 0;
	c->head_len = 0;
	if (d->offset)
		return 0;
	j = malloc(CAP_DATA_HDR_SIZE + n + d->len);
	if (!j)
		return -ENOMEM;
	memcpy(j, d, CAP_DATA_HDR_SIZE);
	memcpy(j->data, c->head, n);
	memcpy(j->data + n, d->data, d->len);
	j->len = (uint32_t)(d->len + n);
	j->call_len = (uint32_t)(d->call_len + n);
	*out = j;
	return 0;
}

/*
 * execve() destroys the old image and its SSL objects, so a connection
 * of the same tgid last used before the exec belongs to the old image,
 * whatever its SSL* (the new image's allocator may hand out the same
 * address).  Exec records come for every process on the host: they are
 * noted in O(1) and checked when a connection is next used; a slot
 * overwritten by another tgid only loses that check.
 */
void conns__exec(struct conns *cs, uint32_t tgid, uint64_t ts_ns)
{
	struct exec_mark *e = &cs->execs[tgid % EXEC_SLOTS];

	e->tgid = tgid;
	e->ts = ts_ns;
}

static bool exec_since(const struct conns *cs, const struct conn *c)
{
	const struct exec_mark *e = &cs->execs[c->key.tgid % EXEC_SLOTS];

	return e->tgid == c->key.tgid && e->ts > c->last_ts;
}

/*
 * An SSL* freed and handed to a new connection of the same process looks
 * like the old connection going on.  The tell: an SSL call that starts
 * with a request while a message of the old connection, in either
 * direction, is still in progress (a request body cut short, a response
 * half read).  The old connection is then closed (what it had is written
 * as partial, its unanswered requests dropped) and a new one begins.
 * HTTP/1.1 pipelining a request while a response is being read also
 * matches; it costs that response its completeness, never a wrong
 * pairing, and clients do not pipeline in practice.
 */
static bool conn_replaced(const struct conn *c, enum proto_dir dir,
			  const struct cap_data *d)
{
	return d->offset == 0 && !c->ignore && c->proto->in_message(c->ps) &&
	       c->proto->starts_request(c->ps, dir, d->data, d->len);
}

static struct conn *conn_get(struct conns *cs, enum proto_dir dir,
			     const struct cap_data *d)
{
	struct conn_key k = { .tgid = d->hdr.tgid, .conn = d->conn };
	struct conn *c = conntab__get(cs->tab, &k);
	void *evicted;

	if (c) {
		if (!exec_since(cs, c)) {
			if (!conn_replaced(c, dir, d))
				return c;
			cs->st->connections_replaced++;
		}
		conntab__del(cs->tab, &k);
		conn_close(c);
	}
	c = conn_new(cs, &k, dir, d);
	if (!c)
		return NULL;
	if (conntab__put(cs->tab, &k, c, &evicted)) {
		conn_free(c);
		return NULL;
	}
	if (evicted) {
		cs->st->connections_evicted++;
		conn_close(evicted);
	}
	cs->st->connections_total++;
	if (cs->o->procinfo)
		procinfo__get(cs->o->procinfo, k.tgid, true);
	return c;
}

/*
 * Chunks of one call arrive in order with increasing offsets; calls of
 * one direction arrive in order.  Anything else means records were lost
 * (ring buffer full) or cut (per-call cap): the parser must resync.
 */
static bool data_gap(struct dir_state *ds, const struct cap_data *d)
{
	bool gap = false;

	if (d->call_id != ds->call_id) {
		gap = ds->open || d->offset != 0;
		ds->call_id = d->call_id;
	} else if (d->offset != ds->next_off) {
		gap = true;
	}
	ds->next_off = (uint64_t)d->offset + d->len;
	ds->open = ds->next_off < d->call_len &&
		   !(d->flags & CAP_F_TRUNCATED);
	return gap;
}

/*
 * Bytes of this direction were lost: the message in progress, if its
 * headers were complete, is written now as partial, with @why among its
 * reasons; the protocol resyncs at the next message, which is whole.
 */
static void stream_gap(struct conns *cs, struct conn *c, enum proto_dir dir,
		       enum proto_gap why)
{
	cs->st->gaps++;
	c->proto->gap(c->ps, dir, why);
}

/*
 * The budget's shed callback: drops the largest body in progress of all
 * connections (it keeps its headers; its event says memory_budget).
 * Bodies are what a sender controls the size of; a walk of the table
 * per shed costs less than the copying of the bytes it frees.
 */
struct largest {
	struct conn *c;
	size_t held;
};

static int find_largest(void *ctx, const struct conn_key *k, void *val)
{
	struct largest *l = ctx;
	struct conn *c = val;
	size_t held;

	if (c->ignore)
		return 0;
	held = c->proto->held(c->ps);
	if (held > l->held) {
		l->held = held;
		l->c = c;
	}
	return 0;
}

static size_t shed_largest(void *ctx, size_t need)
{
	struct conns *cs = ctx;
	struct largest l = { 0 };

	conntab__for_each(cs->tab, find_largest, &l);
	return l.c ? l.c->proto->shed(l.c->ps) : 0;
}

/*
 * After a record: when what cannot be refused (connection state, queued
 * requests, line buffers) has pushed the budget over its limit and no
 * body is left to shed, whole connections go, least recently used first
 * (what they had is written as partial), this one last.
 */
static void budget_enforce(struct conns *cs)
{
	struct conn_key k;
	struct conn *c;

	if (!budget__over(cs->budget))
		return;
	budget__trim(cs->budget);
	while (budget__over(cs->budget) &&
	       (c = conntab__oldest(cs->tab, &k))) {
		conntab__del(cs->tab, &k);
		budget__count_conn(cs->budget);
		conn_close(c);
	}
}

static int conn_data(struct conns *cs, const struct cap_data *d);

int conns__data(struct conns *cs, const struct cap_data *d)
{
	int err = conn_data(cs, d);

	budget_enforce(cs);
	return err;
}

static int conn_data(struct conns *cs, const struct cap_data *d)
{
	enum proto_dir dir = d->dir == CAP_DIR_WRITE ? PROTO_DIR_WRITE :
						       PROTO_DIR_READ;
	struct conn *c = conn_get(cs, dir, d);
	struct cap_data *joined = NULL;
	int err = -ENOMEM;
	bool gap;

	if (!c)
		return -ENOMEM;
	c->last_ts = d->hdr.ts_ns;
	c->proc.tid = d->hdr.tid;
	c->proc.uid = d->hdr.uid;
	c->proc.gid = d->hdr.gid;
	memcpy(c->comm, d->hdr.comm, CAP_COMM_LEN);
	c->comm[CAP_COMM_LEN] = '\0';
	if (c->ignore) {
		if (c->last_ts > c->ignore_ts + IGNORE_RETELL_NS)
			conn_ignore(cs, c);
		return 0;
	}
	gap = data_gap(&c->ds[dir], d);
	if (d->flags & CAP_F_READ_FAULT) {
		stream_gap(cs, c, dir, PROTO_GAP_READ_FAULT);
		return 0;
	}
	if (gap)
		stream_gap(cs, c, dir, PROTO_GAP_RECORDS_LOST);
	if (hold_head(c, dir, d))
		return 0;
	if (join_head(c, dir, d, &joined))
		return -ENOMEM;
	if (joined) {
		/* Nothing was fed to the protocol the held bytes chose. */
		d = joined;
		if (conn_switch(cs, c, proto__select(dir, d->data, d->len)))
			goto out;
	} else if (conn_reselect(cs, c, dir, d)) {
		goto out;
	}
	/* Where a frame-based protocol may find its framing again. */
	if (d->offset == 0 && c->proto->call_start)
		c->proto->call_start(c->ps, dir);
	c->fed[dir] = true;
	if (c->proto->feed(c->ps, dir, d->data, d->len, d->hdr.ts_ns))
		goto out;
	/* Bytes past the per-call cap never reached us. */
	if (d->flags & CAP_F_TRUNCATED) {
		c->gap_bytes = d->call_len > (uint64_t)d->offset + d->len ?
			       d->call_len - ((uint64_t)d->offset + d->len) : 0;
		stream_gap(cs, c, dir, PROTO_GAP_CALL_TRUNCATED);
		c->gap_bytes = 0;
	}
	if (!c->ignore && c->proto->ignored(c->ps)) {
		cs->st->connections_not_http1++;
		conn_ignore(cs, c);
	}
	/* The server end, known before its first message: as pair.c does. */
	if (!c->ignore && !cs->o->server_side && c->proto->server_end &&
	    c->proto->server_end(c->ps)) {
		cs->st->server_side_skipped++;
		conn_ignore(cs, c);
	}
	err = 0;
out:
	free(joined);
	return err;
}

struct exit_walk {
	struct conns *cs;
	uint32_t tgid;
};

static int close_if_tgid(void *ctx, const struct conn_key *k, void *val)
{
	struct exit_walk *w = ctx;

	if (k->tgid != w->tgid)
		return 0;
	conntab__del(w->cs->tab, k);
	conn_close(val);
	return 0;
}

void conns__exit(struct conns *cs, uint32_t tgid)
{
	struct exit_walk w = { .cs = cs, .tgid = tgid };

	conntab__for_each(cs->tab, close_if_tgid, &w);
}

/*
 * SSL_free(): the connection ends; what is in progress is written as
 * partial, and the address may next be a new connection's.
 */
void conns__freed(struct conns *cs, uint32_t tgid, uint64_t conn)
{
	struct conn_key k = { .tgid = tgid, .conn = conn };
	struct conn *c = conntab__get(cs->tab, &k);

	if (!c)
		return;
	conntab__del(cs->tab, &k);
	cs->st->connections_freed++;
	conn_close(c);
}

void conns__tick(struct conns *cs, uint64_t now_ns)
{
	struct conn_key k;
	struct conn *c;

	while ((c = conntab__oldest(cs->tab, &k)) &&
	       c->last_ts + cs->o->idle_timeout_ns < now_ns) {
		conntab__del(cs->tab, &k);
		cs->st->connections_idle++;
		conn_close(c);
	}
}

static int close_all(void *ctx, const struct conn_key *k, void *val)
{
	struct conns *cs = ctx;

	conntab__del(cs->tab, k);
	conn_close(val);
	return 0;
}

void conns__close_all(struct conns *cs)
{
	conntab__for_each(cs->tab, close_all, cs);
}

static int add_live_stats(void *ctx, const struct conn_key *k, void *val)
{
	struct pipeline_stats *st = ctx;
	struct conn *c = val;
	struct proto_stats pst;

	c->proto->stats(c->ps, &pst);
	proto_stats_add(st, &pst);
	return 0;
}

void conns__stats(const struct conns *cs, struct pipeline_stats *st)
{
	st->connections = conntab__count(cs->tab);
	conntab__for_each(cs->tab, add_live_stats, st);
}

void conns__on_ignore(struct conns *cs, pipeline_ignore_fn fn, void *ctx)
{
	cs->on_ignore = fn;
	cs->ignore_ctx = ctx;
}

int conns__new(struct conns **out, const struct pipeline_opts *o,
	       struct pipeline_stats *st, struct assembler *as,
	       struct budget *budget)
{
	struct conns *cs = calloc(1, sizeof(*cs));
	int err;

	if (!cs)
		return -ENOMEM;
	cs->o = o;
	cs->st = st;
	cs->budget = budget;
	cs->env = (struct pair_env){
		.as = as, .o = o, .st = st, .budget = budget,
	};
	err = conntab__new(&cs->tab, o->max_connections);
	if (err) {
		free(cs);
		return err;
	}
	budget__on_shed(budget, shed_largest, cs);
	*out = cs;
	return 0;
}

static int free_conn_cb(void *ctx, const struct conn_key *k, void *val)
{
	conn_free(val);
	return 0;
}

void conns__free(struct conns *cs)
{
	if (!cs)
		return;
	conntab__for_each(cs->tab, free_conn_cb, NULL);
	conntab__free(cs->tab);
	free(cs);
}
