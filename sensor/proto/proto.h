/* SPDX-License-Identifier: MIT */
/*
 * proto.h - the seam between a wire protocol and the layers above it.
 *
 * A wire protocol turns the two byte streams of one connection (what
 * the traced process wrote, what it read) into HTTP messages: method,
 * target, authority, status, header fields, the body (de-framed, still
 * content-coded), its end, and, when capture lost bytes, the gap and
 * its reason.  A message is the same whether it came from HTTP/1.1
 * (RFC 9112), an HTTP/2 stream (RFC 9113) or a WebSocket message: the
 * pairing, AI and event layers see only struct http_msg and never learn
 * the wire protocol.
 *
 * Each protocol is one entry (struct proto_ops) in the table behind
 * proto__select(), which picks the protocol of a connection from its
 * first bytes.  HTTP/2 (proto/http2.c) is chosen when they are the
 * client connection preface (either direction: the traced process is
 * the client or the server) or a plausible sequence of HTTP/2 frames (a
 * connection joined mid-way).  HTTP/1.1 (proto/http1.c) comes last and
 * takes any bytes: it resynchronises on garbage itself and reports
 * through ignored() a connection that turns out not to be HTTP/1.x (an
 * HTTP/2 server's SETTINGS, a 101 switch to anything but WebSocket),
 * which the caller then only counts.  A 101 that answers a request with
 * "Upgrade: websocket" hands the connection, within HTTP/1.1's entry, to
 * the WebSocket parser (proto/ws.h), whose messages become HTTP messages
 * flagged HTTP_MSG_WEBSOCKET (proto/wsmap.h).
 */
#ifndef OISP_PROTO_H
#define OISP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The two byte streams of a connection, as the traced process sees them. */
enum proto_dir {
	PROTO_DIR_WRITE = 0,	/* bytes it wrote (SSL_write) */
	PROTO_DIR_READ = 1,	/* bytes it read (SSL_read) */
};

static inline enum proto_dir proto_dir__other(enum proto_dir d)
{
	return d == PROTO_DIR_WRITE ? PROTO_DIR_READ : PROTO_DIR_WRITE;
}

/* Why bytes of one direction are missing (given to proto_ops.gap). */
enum proto_gap {
	PROTO_GAP_NONE = 0,
	PROTO_GAP_RECORDS_LOST,		/* records lost or out of order */
	PROTO_GAP_READ_FAULT,		/* the call's buffer could not be read */
	PROTO_GAP_CALL_TRUNCATED,	/* bytes past the per-call cap */
	/*
	 * Not a capture loss: the peers ended the message early.  An
	 * HTTP/2 RST_STREAM on its stream (RFC 9113 §6.4), or a GOAWAY
	 * whose last stream id is below it (§6.8).
	 */
	PROTO_GAP_STREAM_RESET,
	PROTO_GAP_GOAWAY,
};

/* One field line: name as sent (case kept), value with OWS trimmed. */
struct http_header {
	char *name;
	char *value;	/* in the same allocation as name (freed with it) */
};

enum http_msg_flag {
	/* body longer than the limit: the rest counted, not kept */
	HTTP_MSG_TRUNCATED = 1 << 0,
	/* ended before its end (gap, flush, parse error mid-message) */
	HTTP_MSG_INCOMPLETE = 1 << 1,
	/* the stream had to skip bytes to find this message's start */
	HTTP_MSG_RESYNCED = 1 << 2,
	/*
	 * body bytes dropped to stay within the memory budget
	 * (lib/budget.h): what was kept of the body is gone, the rest
	 * counted in body_total only
	 */
	HTTP_MSG_SHED = 1 << 3,
	/*
	 * Made from WebSocket messages (proto/wsmap.h): the request is one
	 * client message (or a Realtime turn), the response the server
	 * messages answering it as a text/event-stream body, status 101.
	 */
	HTTP_MSG_WEBSOCKET = 1 << 4,
	/*
	 * The WebSocket opening handshake (RFC 6455 §4): a GET with
	 * "Upgrade: websocket" and the 101 that accepts it.  Not an
	 * exchange of its own: what follows is.
	 */
	HTTP_MSG_WS_HANDSHAKE = 1 << 5,
	/*
	 * some header fields could not be decoded (an HTTP/2 connection
	 * joined mid-way refers to HPACK dynamic table entries made before
	 * the join, RFC 7541 §2.3.2): they are left out, and ->method,
	 * ->target or ->authority may be NULL for that reason
	 */
	HTTP_MSG_FIELDS_UNKNOWN = 1 << 6,
};

/* Body byte @body_off (counted like body_total) arrived at @ts_ns. */
struct http_ts_mark {
	uint64_t body_off;
	uint64_t ts_ns;
};

#define HTTP_MAX_MARKS	512

/*
 * One message.  All pointers are owned by the message and freed by
 * http_msg__free().  Timestamps are CLOCK_MONOTONIC nanoseconds as given
 * to the protocol's feed().
 */
struct http_msg {
	enum proto_dir dir;	/* the direction it travelled */
	bool is_request;
	char *method;		/* request: "POST"; NULL for a response */
	char *target;		/* request: "/v1/chat/completions?x=1" */
	/*
	 * Request: the target's host (HTTP/1.1 Host field, HTTP/2
	 * :authority); points into the message; NULL when not sent.
	 */
	const char *authority;
	int status;		/* response: 200; 0 for a request */
	/*
	 * HTTP/2: the stream the message travelled on, which pairs a
	 * response with its request; 0 for HTTP/1.x (paired in order).
	 */
	uint32_t stream_id;
	int http_major, http_minor;
	/* The header section, in arrival order, names as sent. */
	struct http_header *headers;
	size_t n_headers;
	/* The trailer section (RFC 9112 §7.1.2, RFC 9113 §8.1). */
	struct http_header *trailers;
	size_t n_trailers;
	/*
	 * De-framed, still content-coded; at most the limit's max_body bytes
	 * kept, NUL-terminated for convenience (the NUL is not counted).
	 * Never NULL when body_len > 0; may be NULL when body_len == 0.
	 */
	unsigned char *body;
	size_t body_len;
	uint64_t body_total;	/* body bytes seen, including those not kept */
	unsigned flags;		/* enum http_msg_flag */
	/* INCOMPLETE because capture lost bytes: why (else PROTO_GAP_NONE) */
	enum proto_gap gap;
	/*
	 * Bytes its direction moved that capture did not copy at that gap,
	 * framing included, when known: for PROTO_GAP_CALL_TRUNCATED the
	 * rest of the call past the per-call cap.  0: not known.
	 */
	uint64_t gap_bytes;
	/* ts of the feed() that carried the first byte of the message */
	uint64_t ts_start;
	/* ts of the feed() that carried the first body byte (0: no body) */
	uint64_t ts_body;
	/* ts of the feed() that carried the last byte */
	uint64_t ts_end;
	/*
	 * For each feed() that carried body bytes: (offset in the body where
	 * its bytes start, its ts), in order; the first is (0, ts_body).  At
	 * most HTTP_MAX_MARKS, later feeds are not recorded.
	 */
	struct http_ts_mark *marks;
	size_t n_marks;
	/*
	 * WebSocket audio messages that belong to this message (OpenAI
	 * Realtime: input_audio_buffer.append, response.audio.delta):
	 * counted, their payload not kept; 0 for other messages.
	 */
	uint64_t audio_chunks;
	uint64_t audio_bytes;
};

/*
 * Case-insensitive lookup (RFC 9110 §5.1) of the first header field named
 * @name in the header section (trailers are not searched).  Returns the
 * value, owned by @m, or NULL if absent.
 */
const char *http_msg__header(const struct http_msg *m, const char *name);

/* Frees @m and everything it points to; NULL is fine. */
void http_msg__free(struct http_msg *m);

/*
 * Receives each finished message, in the order its last byte was fed;
 * the callee owns @msg and must http_msg__free() it.  It must not feed,
 * gap, flush or free the connection that is calling it.
 */
typedef void (*proto_msg_fn)(void *ctx, struct http_msg *msg);

struct budget;

/* Bounds per message; 0 selects the protocol's default. */
struct proto_limits {
	size_t max_body;	/* body bytes kept */
	/*
	 * Charged for the bytes a connection holds (its state, header
	 * sections, bodies in progress); NULL: no accounting.
	 */
	struct budget *budget;
};

/* Counters of one connection since its creation, both directions. */
struct proto_stats {
	uint64_t messages;	/* handed to the callback, INCOMPLETE ones too */
	uint64_t parse_errors;	/* bytes that broke the protocol's syntax */
	/* HTTP/2 streams not tracked: more than the bound at once */
	uint64_t streams_dropped;
	/* HTTP/2 streams in progress ended by RST_STREAM (either end) */
	uint64_t streams_reset;
	/* WebSocket, after a 101 (proto/ws.h, proto/wsmap.h) */
	uint64_t ws_connections;	/* switched to WebSocket */
	uint64_t ws_frames;		/* frames, control ones too */
	uint64_t ws_control_frames;	/* close, ping, pong */
	uint64_t ws_messages;		/* data messages */
	uint64_t ws_other_messages;	/* not part of an AI exchange */
	uint64_t ws_oversize;		/* cut at the body limit */
	uint64_t ws_audio_chunks;	/* audio messages counted, not kept */
	uint64_t ws_audio_bytes;
	uint64_t ws_frame_errors;	/* bad frames: parsing ended */
	uint64_t ws_deflate_errors;	/* data that did not inflate */
	uint64_t ws_deflate_bombs;	/* expansion beyond WS_BOMB_RATIO */
	/* HTTP/2: connections whose first bytes were frames, not a preface */
	uint64_t joined;
	/* HTTP/2: directions that found frames again after lost bytes */
	uint64_t resyncs;
	/* HTTP/2: streams with header fields that could not be decoded */
	uint64_t streams_hpack_unknown;
	/* HTTP/2: header fields not decoded (unknown dynamic table entries) */
	uint64_t hpack_fields_unknown;
};

/*
 * One wire protocol.  @st is the state new() made for one connection.
 * Bytes are fed per direction in the order the process wrote or read
 * them; the callback runs from feed(), gap() and flush() only.
 */
struct proto_ops {
	const char *name;
	/*
	 * True when the first bytes of a connection (@len may be short)
	 * are this protocol's.
	 */
	bool (*detect)(enum proto_dir dir, const void *buf, size_t len);
	/* Returns 0 and *@out, or -ENOMEM.  @lim may be NULL; @cb required. */
	int (*new)(void **out, const struct proto_limits *lim,
		   proto_msg_fn cb, void *ctx);
	/*
	 * The next @len bytes of @dir, captured at @ts_ns (the caller keeps
	 * @buf).  Returns 0 or -ENOMEM (the message in progress is then
	 * dropped).
	 */
	int (*feed)(void *st, enum proto_dir dir, const void *buf, size_t len,
		    uint64_t ts_ns);
	/*
	 * Optional (NULL: not needed).  The next feed() of @dir starts a
	 * call of the process (SSL_write, SSL_read): a protocol that lost
	 * its framing may look for it there, where senders start frames.
	 */
	void (*call_start)(void *st, enum proto_dir dir);
	/*
	 * Bytes of @dir were lost before the next feed(), for reason @why:
	 * a message in progress is emitted INCOMPLETE with ->gap = @why (or
	 * dropped when too little of it was seen).
	 */
	void (*gap)(void *st, enum proto_dir dir, enum proto_gap why);
	/*
	 * End of @dir's stream at @ts_ns: what is in progress is emitted
	 * (INCOMPLETE unless the end delimits it).
	 */
	void (*flush)(void *st, enum proto_dir dir, uint64_t ts_ns);
	/* True while a message is in progress in either direction. */
	bool (*in_message)(const void *st);
	/*
	 * True when @buf, the first bytes of a call in @dir, begin a request
	 * (and do not continue what @dir's stream holds part of: a start
	 * line, a WebSocket frame): in the middle of a message they mean the
	 * connection id was reused.  @st may be NULL: the bytes alone decide.
	 */
	bool (*starts_request)(const void *st, enum proto_dir dir,
			       const void *buf, size_t len);
	/*
	 * True once a successful feed() found that the connection is not
	 * this protocol after all; later bytes are ignored cheaply.
	 */
	bool (*ignored)(const void *st);
	/*
	 * Optional (NULL: learnt from the first message).  True once the
	 * protocol knows, before any message, that the traced process is
	 * the server end (it reads the requests): an HTTP/2 client preface
	 * read.
	 */
	bool (*server_end)(const void *st);
	/*
	 * Body bytes held by the messages in progress, both directions:
	 * what shed() would give back.
	 */
	size_t (*held)(const void *st);
	/*
	 * Drops the bodies of the messages in progress to stay within the
	 * budget: each keeps its header section, goes on counting body
	 * bytes without keeping them and is emitted with HTTP_MSG_SHED.
	 * Safe at any time, even from within this connection's feed() or
	 * callback.  Returns the bytes given back to the budget.
	 */
	size_t (*shed)(void *st);
	/* @st NULL gives zeros. */
	void (*stats)(const void *st, struct proto_stats *out);
	/* Frees @st; messages in progress are dropped unseen.  NULL ok. */
	void (*free)(void *st);
};

/*
 * The protocol of a connection whose first bytes are @buf (@len bytes,
 * of direction @dir): the first table entry whose detect() accepts them.
 * Never NULL: HTTP/1.1, last in the table, accepts any bytes.
 */
const struct proto_ops *proto__select(enum proto_dir dir, const void *buf,
				      size_t len);

/* The most first bytes proto__undecided() can find undecided. */
#define PROTO_UNDECIDED_MAX	3

/*
 * True when @buf (@len bytes of direction @dir), a connection's first,
 * could as well begin another protocol than the one proto__select()
 * picks for them: "P", "PR" and "PRI" begin both the HTTP/2 preface
 * (RFC 9113 §3.4), which HTTP/2's detect() takes, and a request line
 * ("POST", "PUT"); "PRI " tells them apart.  The caller waits for more.
 */
bool proto__undecided(enum proto_dir dir, const void *buf, size_t len);

#endif /* OISP_PROTO_H */
