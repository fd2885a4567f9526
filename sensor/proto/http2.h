/* SPDX-License-Identifier: MIT */
/*
 * http2.h - HTTP/2 (RFC 9113) as a wire protocol (proto.h), for
 * connections whose client preface the traced process writes (the
 * client side, seen from its start).
 *
 * Frames of both directions are parsed: DATA (padding stripped),
 * HEADERS and CONTINUATION (padding and priority stripped), SETTINGS
 * (SETTINGS_HEADER_TABLE_SIZE and SETTINGS_MAX_FRAME_SIZE followed),
 * RST_STREAM, GOAWAY, PING, WINDOW_UPDATE, PRIORITY, PUSH_PROMISE (its
 * header block decoded, the pushed stream not kept); other types are
 * skipped.  Header blocks are decoded by nghttp2's HPACK inflater
 * (RFC 7541), one per direction.  Each client stream gives one request
 * (write direction) and one response (read direction), with ->stream_id
 * set: :method, :path and :status fill the start line, :authority
 * becomes a "host" field when the request has none (RFC 9113 §8.3.1),
 * ->http_major is 2.  END_STREAM ends a message; RST_STREAM, a GOAWAY
 * from the server below the stream's id, or the connection's end end it
 * INCOMPLETE.  Interim (1xx) responses and CONNECT streams are not
 * handed over.
 *
 * Bounds: HTTP2_MAX_STREAMS streams at once (more are decoded, not
 * kept, and counted in proto_stats.streams_dropped); a kept body of
 * limits.max_body bytes (default 4 MiB); 64 KiB of decoded header
 * section per message (beyond it the message is dropped, a parse
 * error); non-DATA frames are held whole up to 256 KiB, frames longer
 * than the receiver's SETTINGS_MAX_FRAME_SIZE are a framing error.  A
 * SETTINGS_HEADER_TABLE_SIZE is honoured up to 64 KiB (an encoder using
 * more fails HPACK).  A framing or HPACK error, or a gap in either direction (neither the
 * framing nor HPACK's dynamic table can be resynchronised), ends the
 * connection for the parser: its messages in progress are emitted
 * INCOMPLETE and ignored() turns true.  Stream state, held frames,
 * header sections and bodies are charged to limits.budget.
 */
#ifndef OISP_HTTP2_H
#define OISP_HTTP2_H

#include "proto/proto.h"

/* Streams tracked at once on one connection. */
#define HTTP2_MAX_STREAMS	128

/* The "http2" entry of the protocol table (proto.h). */
extern const struct proto_ops proto_http2;

#endif /* OISP_HTTP2_H */
