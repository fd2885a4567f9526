/* SPDX-License-Identifier: MIT */
/*
 * http2.h - HTTP/2 (RFC 9113) as a wire protocol (proto.h).
 *
 * Selected for a connection whose first bytes are the client connection
 * preface, written (the traced process is the client) or read (it is
 * the server: requests are then read, responses written), or HTTP/2
 * frames (frames_plausible() in http2.c: a connection joined mid-way,
 * e.g. a client started before the sensor).  Frames of both directions
 * are parsed: DATA (padding stripped), HEADERS and CONTINUATION
 * (padding and priority stripped), SETTINGS (SETTINGS_HEADER_TABLE_SIZE
 * and SETTINGS_MAX_FRAME_SIZE followed), RST_STREAM, GOAWAY, PING,
 * WINDOW_UPDATE, PRIORITY, PUSH_PROMISE (its header block decoded, the
 * pushed stream not kept); other types are skipped (§5.5).  Header
 * blocks are decoded by nghttp2's HPACK inflater (RFC 7541), one per
 * direction.  Each client stream gives one request and one response,
 * with ->stream_id set: :method, :path and :status fill the start line,
 * :authority becomes a "host" field when the request has none (RFC 9113
 * §8.3.1), ->http_major is 2.  END_STREAM ends a message; RST_STREAM
 * (->gap PROTO_GAP_STREAM_RESET), a GOAWAY from the server below the
 * stream's id (PROTO_GAP_GOAWAY) end it INCOMPLETE, and a stream so
 * ended before its response began gets an empty response (status 0)
 * saying so; the connection's end ends it INCOMPLETE.  Interim (1xx)
 * responses and CONNECT streams are not handed over.
 *
 * Joined directions (the connection joined mid-way; a direction after
 * lost bytes, gap()): the framing is found again at the first call
 * (proto_ops.call_start) whose bytes are frames, after at most
 * HUNT_MAX_CALLS calls (else the connection is given up); gap() first
 * ends that direction's messages in progress INCOMPLETE with its reason.
 * HPACK's dynamic table from before is unknown: fields that refer to it
 * are left out and counted (proto_stats.hpack_fields_unknown), their
 * message flagged HTTP_MSG_FIELDS_UNKNOWN (its :method, :path or
 * :authority may be missing; the body is kept); static table entries,
 * literals, Huffman strings and entries inserted since are decoded.
 * A joined direction's frames may be up to 2^24 - 1 bytes (its
 * SETTINGS_MAX_FRAME_SIZE may have been raised unseen).
 *
 * Bounds: HTTP2_MAX_STREAMS streams at once (more are decoded, not
 * kept, and counted in proto_stats.streams_dropped); a kept body of
 * limits.max_body bytes (default 4 MiB); 64 KiB of decoded header
 * section per message (beyond it the message is dropped, a parse
 * error); non-DATA frames are held whole up to 256 KiB, and so is a
 * joined direction's header block; frames longer than the receiver's
 * SETTINGS_MAX_FRAME_SIZE are a framing error.  A
 * SETTINGS_HEADER_TABLE_SIZE is honoured up to 64 KiB (an encoder using
 * more fails HPACK; a joined direction's table is 64 KiB).  A framing or
 * HPACK error ends the connection for the parser: its messages in
 * progress are emitted INCOMPLETE and ignored() turns true.  Stream
 * state, held frames, header sections and bodies are charged to
 * limits.budget.
 */
#ifndef OISP_HTTP2_H
#define OISP_HTTP2_H

#include "proto/proto.h"

/* Streams tracked at once on one connection. */
#define HTTP2_MAX_STREAMS	128

/* The "http2" entry of the protocol table (proto.h). */
extern const struct proto_ops proto_http2;

#endif /* OISP_HTTP2_H */
