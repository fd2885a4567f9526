/* SPDX-License-Identifier: MIT */
/*
 * http1.h - HTTP/1.1 as a wire protocol (proto.h): one incremental
 * message parser (RFC 9112 message syntax and framing) per direction of
 * a connection.
 *
 * The framing itself (start line, header fields, Content-Length, the
 * chunked transfer coding with its extensions and trailers, keep-alive,
 * pipelining, request/response auto-detection) is done by nodejs
 * http-parser 2.9.4 in HTTP_BOTH mode.  This module adds what a passive
 * observer needs on top: messages assembled into owned objects with
 * capture timestamps, bounded memory, recovery from lost bytes and
 * garbage by resynchronising at the next start line, and detection of
 * streams that are not HTTP/1.x at all.
 *
 * Everything is bounded: a message's kept body (limits.max_body), its
 * start line and header fields (limits.max_header_bytes, counted again
 * for the trailer section), the body arrival marks (512), and the bytes
 * held back while looking for a start line (8 KiB).  With a budget
 * (lib/budget.h) all of these are charged to it while held: header
 * bytes twice (the parser's copy and the message's), body buffers at
 * their capacity, the 8 KiB line buffer from its first use to the
 * stream's end, the stream itself from creation.  A body the budget
 * refuses, or that its shedding takes, is dropped (HTTP_MSG_SHED); a
 * header section it refuses drops the message.
 */
#ifndef OISP_HTTP1_H
#define OISP_HTTP1_H

#include <errno.h>	/* the -E... return values */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

struct httpstream;

/*
 * The "http1" entry of the protocol table (proto.h): two streams.  A 101
 * that accepts a GET with "Upgrade: websocket" (RFC 6455 §4) hands both
 * directions, from the byte after the 101 on, to the WebSocket parser
 * (proto/ws.h), whose messages become HTTP messages (proto/wsmap.h);
 * the handshake's two messages are flagged HTTP_MSG_WS_HANDSHAKE.  Any
 * other 101 makes ignored() true.
 */
extern const struct proto_ops proto_http1;

/*
 * Per-stream bounds, in bytes; 0 selects the default (max_body 4 MiB,
 * max_header_bytes 64 KiB).  max_header_bytes counts the request-target,
 * the reason phrase and every field name and value plus 4 bytes per field
 * line; http-parser itself also refuses more than 80 KiB of header
 * section, whatever this limit says.
 */
struct http_limits {
	size_t max_body;
	size_t max_header_bytes;
	struct budget *budget;	/* NULL: no accounting */
};

/*
 * Creates a stream parser.  @lim may be NULL (defaults); it is copied.
 * @cb (required) is called with @ctx for every finished message (whose
 * ->dir is left PROTO_DIR_WRITE: a stream does not know its direction).
 * The callback may call httpstream__expect_head_response() or the
 * read-only functions on any stream, but must not feed, gap, flush or
 * free the stream that is calling it.
 * Returns 0 and *@out, or -EINVAL (no cb) / -ENOMEM.
 */
int httpstream__new(struct httpstream **out, const struct http_limits *lim,
		    proto_msg_fn cb, void *ctx);

/*
 * Feeds the next @len bytes of this direction (the caller keeps @buf);
 * @ts_ns is their capture time (CLOCK_MONOTONIC ns).  Calls cb for every
 * message completed by these bytes.  Never fails on bad input: it counts
 * a parse error, drops the current message (emitting it INCOMPLETE if
 * its headers were complete) and resyncs at the next line that is a
 * request line ("METHOD SP target SP HTTP/1.x") or a status line
 * ("HTTP/1.x SP 3DIGIT").  A stream's first bytes are searched the same
 * way, so a stream first seen mid-message starts at the next message.
 * A 101 (Switching Protocols) response ends HTTP on this direction
 * (httpstream__not_http1() turns true).  @len == 0 does nothing.
 * Returns 0 or -ENOMEM (the message in progress is then dropped).
 */
int httpstream__feed(struct httpstream *s, const void *buf, size_t len,
		     uint64_t ts_ns);

/*
 * The next final (non-1xx) response on this stream answers a HEAD
 * request: its header section is all there is, whatever Content-Length
 * says (RFC 9110 §9.3.2).  One-shot; 1xx, 204 and 304 responses are
 * bodiless without it (RFC 9112 §6.3).
 */
void httpstream__expect_head_response(struct httpstream *s);

/*
 * Bytes were lost before the next feed(), for reason @why: a message in
 * progress is emitted INCOMPLETE with ->gap = @why if its header section
 * was complete, else dropped; the stream then looks for the next start
 * line, which may begin at the first byte of the next feed().
 */
void httpstream__gap(struct httpstream *s, enum proto_gap why);

/*
 * End of stream (shutdown, close, eviction) at @ts_ns: a message in
 * progress is emitted: a response delimited by the connection close
 * (RFC 9112 §6.3 item 8) is complete, anything else is INCOMPLETE (or
 * dropped when its header section was not complete).  ts_end stays the
 * time of the last byte fed.  The stream is then as if new.
 */
void httpstream__flush(struct httpstream *s, uint64_t ts_ns);

/*
 * True between the first byte of a start line (held in PARSE mode, or as
 * a candidate line while resynchronising) and the message's end.
 */
bool httpstream__in_message(const struct httpstream *s);

/*
 * True while the stream holds the beginning of a start line and not its
 * end: the next call's bytes continue that line (net/http's server reads
 * a request's first byte alone, in the read that watches for the
 * client's close), even when they look like a request line themselves.
 */
bool httpstream__in_start_line(const struct httpstream *s);

/*
 * Counters since creation: messages emitted (including INCOMPLETE ones),
 * parse errors (including header sections over the limit), resyncs
 * (messages found after skipping bytes, each flagged HTTP_MSG_RESYNCED),
 * bytes skipped while looking for a start line.  @s NULL gives zeros.
 */
struct httpstream_stats {
	uint64_t messages;
	uint64_t parse_errors;
	uint64_t resyncs;
	uint64_t bytes_skipped;
};
void httpstream__stats(const struct httpstream *s, struct httpstream_stats *st);

/*
 * True when this direction turned out not to be HTTP/1.x: it started
 * with the HTTP/2 connection preface "PRI * HTTP/2.0" (RFC 9113 §3.4) or
 * with an HTTP/2 SETTINGS frame, or a 101 response switched protocols.
 * Further bytes are then ignored cheaply.
 */
bool httpstream__not_http1(const struct httpstream *s);

/*
 * After the feed in which a 101 (Switching Protocols) response ended
 * HTTP on this stream: the number of bytes at the end of that feed that
 * follow the 101 and belong to the new protocol; 0 otherwise.
 */
size_t httpstream__rest(const struct httpstream *s);

/*
 * Body bytes kept by the message in progress (its buffer's capacity, as
 * charged to the budget); 0 when none, or when it was shed.  NULL ok.
 */
size_t httpstream__held(const struct httpstream *s);

/*
 * Drops the body kept by the message in progress, for the budget: the
 * message keeps its header section, counts its further body bytes
 * without keeping them and is emitted with HTTP_MSG_SHED.  Counted in
 * the budget's shed counters.  May be called at any time, even from
 * within this stream's feed() (the budget's shed callback).  Returns the
 * bytes given back to the budget (0: nothing was held).  NULL ok.
 */
size_t httpstream__shed(struct httpstream *s);

/* Frees @s; a message in progress is dropped without a callback.  NULL ok. */
void httpstream__free(struct httpstream *s);

#endif /* OISP_HTTP1_H */
