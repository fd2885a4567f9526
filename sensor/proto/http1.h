/* SPDX-License-Identifier: MIT */
/*
 * http1.h - one direction of one connection: an incremental HTTP/1.1
 * message parser (RFC 9112 message syntax and framing).
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
 * held back while looking for a start line (8 KiB).
 */
#ifndef OISP_HTTP1_H
#define OISP_HTTP1_H

#include <errno.h>	/* the -E... return values */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct httpstream;

/* One field line: name as sent (case kept), value with OWS trimmed. */
struct http_header {
	char *name;
	char *value;	/* in the same allocation as name (freed with it) */
};

enum http_msg_flag {
	/* body longer than limits.max_body: the rest counted, not kept */
	HTTP_MSG_TRUNCATED = 1 << 0,
	/* ended before its end (gap, flush, parse error mid-message) */
	HTTP_MSG_INCOMPLETE = 1 << 1,
	/* the stream had to skip bytes to find this message's start */
	HTTP_MSG_RESYNCED = 1 << 2,
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
 * to httpstream__feed().
 */
struct http_msg {
	bool is_request;
	char *method;		/* request: "POST"; NULL for a response */
	char *target;		/* request: "/v1/chat/completions?x=1" */
	int status;		/* response: 200; 0 for a request */
	int http_major, http_minor;
	/* The header section, in arrival order, names as sent. */
	struct http_header *headers;
	size_t n_headers;
	/* The trailer section of a chunked body (RFC 9112 §7.1.2). */
	struct http_header *trailers;
	size_t n_trailers;
	/*
	 * De-chunked, still content-coded; at most max_body bytes kept,
	 * NUL-terminated for convenience (the NUL is not counted).  Never
	 * NULL when body_len > 0; may be NULL when body_len == 0.
	 */
	unsigned char *body;
	size_t body_len;
	uint64_t body_total;	/* body bytes seen, including those not kept */
	unsigned flags;		/* enum http_msg_flag */
	/* ts of the feed() that carried the first byte of the start line */
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
 * Per-stream bounds, in bytes; 0 selects the default (max_body 4 MiB,
 * max_header_bytes 64 KiB).  max_header_bytes counts the request-target,
 * the reason phrase and every field name and value plus 4 bytes per field
 * line; http-parser itself also refuses more than 80 KiB of header
 * section, whatever this limit says.
 */
struct http_limits {
	size_t max_body;
	size_t max_header_bytes;
};

/*
 * Receives each finished message; the callee owns @msg and must
 * http_msg__free() it.  The callback may call httpstream__expect_head_
 * response() or the read-only functions on any stream, but must not
 * feed, gap, flush or free the stream that is calling it.
 */
typedef void (*http_msg_cb)(void *ctx, struct http_msg *msg);

/*
 * Creates a stream parser.  @lim may be NULL (defaults); it is copied.
 * @cb (required) is called with @ctx for every finished message.
 * Returns 0 and *@out, or -EINVAL (no cb) / -ENOMEM.
 */
int httpstream__new(struct httpstream **out, const struct http_limits *lim,
		    http_msg_cb cb, void *ctx);

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
 * Bytes were lost before the next feed(): a message in progress is
 * emitted INCOMPLETE if its header section was complete, else dropped;
 * the stream then looks for the next start line, which may begin at the
 * first byte of the next feed().
 */
void httpstream__gap(struct httpstream *s);

/*
 * End of stream (shutdown, close, eviction) at @ts_ns: a message in
 * progress is emitted: a response delimited by the connection close
 * (RFC 9112 §6.3 item 8) is complete, anything else is INCOMPLETE (or
 * dropped when its header section was not complete).  ts_end stays the
 * time of the last byte fed.  The stream is then as if new.
 */
void httpstream__flush(struct httpstream *s, uint64_t ts_ns);

/* True between the first byte of a start line and the message's end. */
bool httpstream__in_message(const struct httpstream *s);

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

/* Frees @s; a message in progress is dropped without a callback.  NULL ok. */
void httpstream__free(struct httpstream *s);

#endif /* OISP_HTTP1_H */
