/* SPDX-License-Identifier: MIT */
/*
 * pair.h - request/response pairing on one connection.
 *
 * HTTP/1.x responses answer requests in the order the requests were
 * sent (RFC 9112 section 9.3.2): the pairing keeps the requests in
 * flight in that order and hands each final response to the event
 * assembly with its request.  An HTTP/2 stream carries one of each and
 * streams answer in any order: a message with a stream_id pairs with
 * the pending request of the same stream_id.  Interim responses
 * (1xx) answer nothing; a 101 switches the connection to another
 * protocol (PAIR_IGNORE), except a WebSocket handshake
 * (HTTP_MSG_WS_HANDSHAKE): its upgrade request is not reported, and
 * the WebSocket messages that follow pair in order like HTTP/1.x.  A
 * refused upgrade's response pairs with it and is not reported either.
 * The direction that carries requests gives the connection's
 * role: a process that writes requests is the client side.
 *
 * Internal to the pipeline: the connection table (conn.h) calls it with
 * each message its wire protocol delivers.
 */
#ifndef OISP_PAIR_H
#define OISP_PAIR_H

#include "proto/proto.h"

struct assembler;
struct event_proc;
struct pair;
struct pipeline_opts;
struct pipeline_stats;

/* What every connection's pairing shares; outlives them all. */
struct budget;

struct pair_env {
	struct assembler *as;
	const struct pipeline_opts *o;	/* ai_only, server_side */
	struct pipeline_stats *st;
	struct budget *budget;		/* charged for queued requests */
};

/* What the connection should do after a message. */
enum pair_verdict {
	PAIR_GO_ON,
	/* stop parsing: server side not reported, or protocol switched */
	PAIR_IGNORE,
};

/* Returns 0 and *@out (@env kept, not copied), or -ENOMEM. */
int pair__new(struct pair **out, const struct pair_env *env);

/*
 * One message of the connection (@msg only read, its ->dir telling which
 * way it went); @proc is the process the connection's last record came
 * from.  Requests are queued (at most 256: the oldest is then dropped)
 * and assembled; responses are matched to the oldest request.
 */
enum pair_verdict pair__message(struct pair *pr, const struct event_proc *proc,
				const struct http_msg *msg);

/*
 * The direction requests travel: PROTO_DIR_WRITE until a message shows
 * the traced process is the server side.  A connection's streams are
 * flushed in this direction first, so requests precede their responses.
 */
enum proto_dir pair__request_dir(const struct pair *pr);

/* Frees @pr and the requests still waiting; NULL is fine. */
void pair__free(struct pair *pr);

#endif /* OISP_PAIR_H */
