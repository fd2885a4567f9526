/* SPDX-License-Identifier: MIT */
/*
 * ws.h - WebSocket framing (RFC 6455 §5) with permessage-deflate
 * (RFC 7692), both directions of one connection, for a passive observer.
 *
 * Frames are parsed incrementally (a frame, its header included, may be
 * split across feeds at any byte): FIN, the opcodes text, binary and
 * continuation, the control frames close, ping and pong (interleaved
 * with the fragments of a message, RFC 6455 §5.4), 7-, 16- and 64-bit
 * payload lengths, masking (client frames must be masked, server frames
 * must not, §5.1; the key is taken off).  A message whose first frame
 * has RSV1 set is compressed (RFC 7692 §6): its payload is raw DEFLATE
 * with the 0x00 0x00 0xff 0xff tail of each message taken off (§7.2.2),
 * inflated with zlib.  The inflater of a direction keeps its window
 * from message to message (context takeover) unless that direction's
 * sender negotiated *_no_context_takeover; it always runs with a 32 KiB
 * window, which inflates what any *_max_window_bits (8..15) produced.
 *
 * Bounds: a message keeps at most @max_msg bytes (after inflating); the
 * rest is counted, not kept, and the message is delivered truncated.
 * Inflating stops when a message passes @max_msg with an expansion over
 * WS_BOMB_RATIO (a deflate bomb, counted): without context takeover the
 * rest of that message is skipped; with it, the window cannot be kept,
 * so the connection's WebSocket parsing ends.  Kept bytes, the inflater
 * (WS_ZSTATE_CHARGE per direction) and the state itself are charged to
 * the budget (lib/budget.h); a message buffer the budget refuses, or
 * that ws__shed() takes, is dropped (delivered with shed set, counted
 * in the budget's shed counters).
 *
 * Bad input (reserved bits or opcodes, a control frame over 125 bytes
 * or fragmented, a continuation with no message, a data frame inside a
 * message, a 64-bit length with its top bit set, the wrong masking for
 * the direction, DEFLATE data that does not inflate) and lost bytes
 * (ws__gap()) end the connection's WebSocket parsing: ws__dead() turns
 * true, the damage is counted, later bytes are ignored cheaply.
 */
#ifndef OISP_WS_H
#define OISP_WS_H

#include <errno.h>	/* the -E... return values */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* Inflated bytes per compressed byte beyond which a cut message is a bomb. */
#define WS_BOMB_RATIO		100
/* Budget charge of one direction's zlib inflater (state and window). */
#define WS_ZSTATE_CHARGE	(48u << 10)

/* RFC 6455 §11.8 opcodes. */
enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* What the opening handshake negotiated (ws__parse_extensions()). */
struct ws_params {
	bool deflate;		/* permessage-deflate accepted */
	bool client_no_ctx;	/* client_no_context_takeover */
	bool server_no_ctx;	/* server_no_context_takeover */
};

/* One data message, borrowed for the duration of the callback. */
struct ws_msg {
	enum proto_dir dir;
	bool from_client;
	enum ws_opcode opcode;		/* WS_OP_TEXT or WS_OP_BINARY */
	const unsigned char *data;	/* kept bytes, NUL-terminated */
	size_t len;			/* kept bytes */
	uint64_t total;			/* payload bytes (inflated) */
	bool truncated;			/* total > len: cut at max_msg */
	bool shed;			/* dropped for the memory budget */
	uint64_t ts_first;		/* CLOCK_MONOTONIC ns: first frame */
	uint64_t ts_last;		/* last frame */
};

/* Receives each data message; must not feed, gap or free the ws. */
typedef void (*ws_msg_fn)(void *ctx, const struct ws_msg *m);

/* Counters since creation, both directions. */
struct ws_stats {
	uint64_t frames;		/* all frames, control ones too */
	uint64_t control_frames;	/* close, ping, pong */
	uint64_t messages;		/* data messages delivered */
	uint64_t oversize;		/* messages cut at max_msg */
	uint64_t frame_errors;		/* bad frames (parsing ended) */
	uint64_t deflate_errors;	/* data that did not inflate */
	uint64_t deflate_bombs;		/* cut messages over WS_BOMB_RATIO */
};

struct ws;
struct budget;

/*
 * Reads the Sec-WebSocket-Extensions value of a 101 response (RFC 6455
 * §9.1 syntax, RFC 7692 §7.1 parameters) into *@p: permessage-deflate
 * and its *_no_context_takeover flags; other extensions are ignored.
 * @hdr NULL: none negotiated.  Returns 0.
 */
int ws__parse_extensions(const char *hdr, struct ws_params *p);

/*
 * Creates the parser of one connection whose client writes in
 * direction @client_dir.  @p is copied (NULL: no extension); @max_msg
 * is the bound of a kept message in bytes (0: 4 MiB); @bg may be NULL;
 * @cb (required) gets each data message with @ctx.
 * Returns 0 and *@out, -EINVAL (no cb) or -ENOMEM.
 */
int ws__new(struct ws **out, const struct ws_params *p,
	    enum proto_dir client_dir, size_t max_msg, struct budget *bg,
	    ws_msg_fn cb, void *ctx);

/*
 * The next @len bytes of direction @dir, captured at @ts_ns (the caller
 * keeps @buf).  Calls cb for each message these bytes complete.  Bad
 * input is counted and ends the parsing (see above), never an error.
 * Returns 0, or -ENOMEM (the message in progress is dropped).
 */
int ws__feed(struct ws *w, enum proto_dir dir, const void *buf, size_t len,
	     uint64_t ts_ns);

/* Bytes of @dir were lost: frame boundaries are gone, parsing ends. */
void ws__gap(struct ws *w, enum proto_dir dir);

/* True once parsing ended (bad input, a gap, a bomb); NULL: false. */
bool ws__dead(const struct ws *w);

/* True while a frame or message is part-way in either direction. */
bool ws__in_message(const struct ws *w);

/*
 * True while a frame of @dir is part-way (its header or payload not all
 * fed): the next bytes of @dir are that frame's, whatever they look like
 * (RFC 6455 §5.2).  NULL: false.
 */
bool ws__in_frame(const struct ws *w, enum proto_dir dir);

/* Message bytes held in both directions (what ws__shed() gives back). */
size_t ws__held(const struct ws *w);

/*
 * Drops the kept bytes of the messages in progress (they are delivered
 * with shed set, their size still counted).  Safe from within feed().
 * Returns the bytes given back to the budget.
 */
size_t ws__shed(struct ws *w);

/* @w NULL gives zeros. */
void ws__stats(const struct ws *w, struct ws_stats *out);

/* Frees @w; messages in progress are dropped unseen.  NULL is fine. */
void ws__free(struct ws *w);

#endif /* OISP_WS_H */
