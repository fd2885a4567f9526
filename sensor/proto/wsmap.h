/* SPDX-License-Identifier: MIT */
/*
 * wsmap.h - WebSocket messages (proto/ws.h) grouped into HTTP messages
 * (proto/proto.h), so that pairing, extraction and events treat them
 * as any request and response.
 *
 * The grouping follows the event protocol of the upgrade request's path
 * (its last segment, query left out):
 *
 *   .../responses: OpenAI Responses over WebSocket (the Codex CLI).  Each
 *     client text message {"type":"response.create", ...} is a request
 *     whose body is that message: the same fields as a POST
 *     /v1/responses body.  The server messages that follow, up to and
 *     including response.completed, response.failed, response.incomplete
 *     or error, are its response.
 *   .../realtime: the OpenAI Realtime API.  Client session.update (the
 *     latest is kept for every later turn) and conversation.item.create
 *     accumulate; response.create (or, with server-side turn detection, a
 *     server response.created that no response.create asked for) makes
 *     a request whose body is
 *       {"model": URL's model= or null, "events": [session.created or
 *        session.updated (the server's latest), session.update,
 *        conversation.item.create..., response.create]}
 *     (the format extract_realtime.c reads).  The server messages up to
 *     response.done are its response; an error before response.created
 *     ends it too.  Audio messages (input_audio_buffer.append,
 *     response.audio.delta, response.output_audio.delta) are counted on
 *     the message they belong to (http_msg.audio_chunks, audio_bytes:
 *     the WebSocket payload bytes that carried the audio) and never
 *     kept; a server audio delta is kept as {"type": TYPE} alone, for
 *     the time of the first delta.
 *   anything else: each client message is a request (its payload the
 *     body) and the server messages until the next one its response;
 *     all of them are counted as other traffic.  The rules decide
 *     whether they are reported (filters.ai_only off: --all).
 *
 * Requests carry the upgrade request's method ("GET"), target, headers
 * and authority, responses status 101; both are flagged
 * HTTP_MSG_WEBSOCKET.  A response's body is its server messages as a
 * text/event-stream ("data: MESSAGE", one line per line of the message,
 * then an empty line) with an arrival mark per message, so the
 * streaming accumulator and the first-token time of SSE apply as they
 * are.  Messages that belong to no exchange are counted as other.
 *
 * The body of a response, a Realtime turn and the kept session are
 * bounded by the body limit (HTTP_MSG_TRUNCATED past it) and charged to
 * the budget; a shed drops them (HTTP_MSG_SHED).
 */
#ifndef OISP_WSMAP_H
#define OISP_WSMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "proto/ws.h"

struct wsmap;
struct budget;

/* Counters since creation. */
struct wsmap_stats {
	uint64_t other_messages;	/* not part of an AI exchange */
	uint64_t audio_chunks;
	uint64_t audio_bytes;
};

/*
 * Creates the grouping of one connection from its upgrade request @up
 * (only read: what requests need is copied; up->dir is the client's
 * direction).  @max_body bounds bodies (0: 4 MiB); @bg may be NULL; @cb
 * gets each message with @ctx (and owns it).
 * Returns 0 and *@out, -EINVAL or -ENOMEM.
 */
int wsmap__new(struct wsmap **out, const struct http_msg *up,
	       size_t max_body, struct budget *bg, proto_msg_fn cb, void *ctx);

/* One data message of the connection (a ws_msg_fn with @ctx the wsmap). */
void wsmap__message(void *ctx, const struct ws_msg *wm);

/*
 * The connection's WebSocket ends (close, flush, lost bytes: @why): a
 * response in progress is emitted INCOMPLETE (gap @why), except that
 * the end delimits other traffic's last response (@why none).
 */
void wsmap__end(struct wsmap *m, enum proto_gap why);

/* True while a response is in progress. */
bool wsmap__in_message(const struct wsmap *m);

/* Body bytes held (response, turn, session): what wsmap__shed() frees. */
size_t wsmap__held(const struct wsmap *m);

/* Drops the bodies held, for the budget.  Returns the bytes freed. */
size_t wsmap__shed(struct wsmap *m);

/* @m NULL gives zeros. */
void wsmap__stats(const struct wsmap *m, struct wsmap_stats *out);

/* Frees @m; a response in progress is dropped unseen.  NULL is fine. */
void wsmap__free(struct wsmap *m);

#endif /* OISP_WSMAP_H */
