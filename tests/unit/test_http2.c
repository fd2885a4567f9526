// SPDX-License-Identifier: MIT
/*
 * HTTP/2 as a wire protocol (proto/http2.c): frames built by hand, header
 * blocks by nghttp2's deflater, fed whole and byte by byte.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "h2frames.h"
#include "proto/http1.h"
#include "proto/http2.h"
#include "proto/proto.h"

#define MAX_MSGS 300

static struct http_msg *msgs[MAX_MSGS];
static int n_msgs;
static void *st;
static nghttp2_hd_deflater *cdef, *sdef;	/* client's, server's */

static void on_msg(void *ctx, struct http_msg *m)
{
	cr_assert_lt(n_msgs, MAX_MSGS);
	msgs[n_msgs++] = m;
}

static void setup(void)
{
	n_msgs = 0;
	cr_assert_eq(proto_http2.new(&st, NULL, on_msg, NULL), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(&cdef, 4096), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(&sdef, 4096), 0);
}

static void teardown(void)
{
	int i;

	proto_http2.free(st);
	for (i = 0; i < n_msgs; i++)
		http_msg__free(msgs[i]);
	nghttp2_hd_deflate_del(cdef);
	nghttp2_hd_deflate_del(sdef);
}

TestSuite(http2, .init = setup, .fini = teardown);

/* Feeds @b in calls of @step bytes (0: whole). */
static void feed(enum proto_dir dir, const struct h2buf *b, size_t step)
{
	size_t off, n;

	if (!step)
		step = b->len;
	for (off = 0; off < b->len; off += n) {
		n = b->len - off < step ? b->len - off : step;
		cr_assert_eq(proto_http2.feed(st, dir, b->p + off, n, 1000 + off),
			     0);
	}
}

static void preface(struct h2buf *w)
{
	h2b_put(w, H2_PREFACE, strlen(H2_PREFACE));
	h2_settings(w, 0, 0);
}

static const char *const post_req[] = {
	":method", "POST", ":scheme", "https", ":path", "/v1/chat/completions",
	":authority", "api.openai.com", "content-type", "application/json",
	NULL,
};

static const char *const ok_resp[] = {
	":status", "200", "content-type", "text/event-stream", NULL,
};

static struct proto_stats stats(void)
{
	struct proto_stats s;

	proto_http2.stats(st, &s);
	return s;
}

static void post_with_padded_data(size_t step)
{
	struct h2buf w = { 0 };

	preface(&w);
	h2_headers(&w, cdef, 0, 1, post_req);
	h2_data_padded(&w, 0, 1, "{\"model\":", 9, 7);
	h2_frame(&w, 0x0, 0, 1, "\"gpt-4o\",", 9);
	h2_data_padded(&w, 0x01, 1, "\"x\":1}", 6, 0);
	feed(PROTO_DIR_WRITE, &w, step);
	h2b_free(&w);
	cr_assert_eq(n_msgs, 1);
	cr_assert(msgs[0]->is_request);
	cr_assert_eq(msgs[0]->stream_id, 1);
	cr_assert_eq(msgs[0]->http_major, 2);
	cr_assert_str_eq(msgs[0]->method, "POST");
	cr_assert_str_eq(msgs[0]->target, "/v1/chat/completions");
	cr_assert_str_eq(msgs[0]->authority, "api.openai.com");
	cr_assert_str_eq(http_msg__header(msgs[0], "Content-Type"),
			 "application/json");
	cr_assert_str_eq((char *)msgs[0]->body, "{\"model\":\"gpt-4o\",\"x\":1}");
	cr_assert_eq(msgs[0]->body_total, 24);
	cr_assert_eq(msgs[0]->flags, 0);
	cr_assert_eq(stats().parse_errors, 0);
}

Test(http2, post_with_padded_data_whole)
{
	post_with_padded_data(0);
}

Test(http2, post_with_padded_data_byte_by_byte)
{
	post_with_padded_data(1);
}

Test(http2, detect_the_client_preface_either_way)
{
	cr_assert(proto_http2.detect(PROTO_DIR_WRITE, H2_PREFACE, 24));
	cr_assert(proto_http2.detect(PROTO_DIR_WRITE, "PRI * HT", 8));
	cr_assert(proto_http2.detect(PROTO_DIR_READ, H2_PREFACE, 24));
	cr_assert_not(proto_http2.detect(PROTO_DIR_WRITE, "POST / HTTP/1.1", 15));
	cr_assert_eq(proto__select(PROTO_DIR_WRITE, H2_PREFACE, 24),
		     &proto_http2);
	cr_assert_eq(proto__select(PROTO_DIR_READ, H2_PREFACE, 24),
		     &proto_http2);
}

Test(http2, sse_response_over_several_data_frames)
{
	static const char *const get[] = {
		":method", "GET", ":path", "/s", ":authority", "h", NULL,
	};
	struct h2buf w = { 0 }, r = { 0 };

	preface(&w);
	h2_headers(&w, cdef, 0x01, 1, get);
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert_eq(n_msgs, 1);	/* END_STREAM on HEADERS: no body */
	h2_settings(&r, 0, 0);
	h2_headers(&r, sdef, 0, 1, ok_resp);
	feed(PROTO_DIR_READ, &r, 0);
	h2b_free(&r);
	h2_frame(&r, 0x0, 0, 1, "data: a\n\n", 9);
	feed(PROTO_DIR_READ, &r, 0);
	h2b_free(&r);
	h2_frame(&r, 0x0, 0, 1, "data: b\n\n", 9);
	feed(PROTO_DIR_READ, &r, 0);
	h2b_free(&r);
	h2_frame(&r, 0x0, 0x01, 1, "", 0);
	feed(PROTO_DIR_READ, &r, 0);
	cr_assert_eq(n_msgs, 2);
	cr_assert_not(msgs[1]->is_request);
	cr_assert_eq(msgs[1]->status, 200);
	cr_assert_eq(msgs[1]->stream_id, 1);
	cr_assert_str_eq((char *)msgs[1]->body, "data: a\n\ndata: b\n\n");
	cr_assert_eq(msgs[1]->n_marks, 2);
	cr_assert_eq(msgs[1]->marks[1].body_off, 9);
	cr_assert_eq(msgs[1]->flags, 0);
	h2b_free(&w);
	h2b_free(&r);
}

Test(http2, continuation_and_trailers)
{
	struct h2buf w = { 0 }, blk = { 0 }, r = { 0 };
	static const char *const trailers[] = { "grpc-status", "0", NULL };

	preface(&w);
	h2_hpack(cdef, &blk, post_req);
	/* HEADERS without END_HEADERS, then two CONTINUATIONs. */
	h2_frame(&w, 0x1, 0x01, 3, blk.p, 3);
	h2_frame(&w, 0x9, 0, 3, blk.p + 3, 4);
	h2_frame(&w, 0x9, 0x04, 3, blk.p + 7, blk.len - 7);
	feed(PROTO_DIR_WRITE, &w, 5);
	cr_assert_eq(n_msgs, 1);
	cr_assert_str_eq(msgs[0]->target, "/v1/chat/completions");
	cr_assert_eq(msgs[0]->stream_id, 3);
	/* Interim response, final response, trailers ending the stream. */
	h2_headers(&r, sdef, 0, 3, (const char *const[]){ ":status", "103",
				    "link", "</x>", NULL });
	h2_headers(&r, sdef, 0, 3, ok_resp);
	h2_frame(&r, 0x0, 0, 3, "body", 4);
	h2_headers(&r, sdef, 0x01, 3, trailers);
	feed(PROTO_DIR_READ, &r, 0);
	cr_assert_eq(n_msgs, 2);
	cr_assert_eq(msgs[1]->status, 200);
	cr_assert_null(http_msg__header(msgs[1], "link"));
	cr_assert_eq(msgs[1]->n_trailers, 1);
	cr_assert_str_eq(msgs[1]->trailers[0].value, "0");
	cr_assert_str_eq((char *)msgs[1]->body, "body");
	h2b_free(&w);
	h2b_free(&blk);
	h2b_free(&r);
}

Test(http2, rst_stream_ends_both_incomplete)
{
	struct h2buf w = { 0 }, r = { 0 };
	static const unsigned char code[4] = { 0, 0, 0, 8 };

	preface(&w);
	h2_headers(&w, cdef, 0, 1, post_req);
	h2_frame(&w, 0x0, 0, 1, "{", 1);
	feed(PROTO_DIR_WRITE, &w, 0);
	h2_headers(&r, sdef, 0, 1, ok_resp);
	h2_frame(&r, 0x0, 0, 1, "data: x", 7);
	h2_frame(&r, 0x3, 0, 1, code, 4);
	feed(PROTO_DIR_READ, &r, 0);
	cr_assert_eq(n_msgs, 2);
	cr_assert(msgs[0]->is_request);
	cr_assert(msgs[0]->flags & HTTP_MSG_INCOMPLETE);
	cr_assert(msgs[1]->flags & HTTP_MSG_INCOMPLETE);
	cr_assert_str_eq((char *)msgs[1]->body, "data: x");
	cr_assert_not(proto_http2.in_message(st));
	cr_assert_not(proto_http2.ignored(st));
	h2b_free(&w);
	h2b_free(&r);
}

Test(http2, goaway_ends_streams_above_its_last_id)
{
	struct h2buf w = { 0 }, r = { 0 };
	static const unsigned char ga[8] = { 0, 0, 0, 1, 0, 0, 0, 0 };

	preface(&w);
	h2_headers(&w, cdef, 0x01, 1, post_req);
	h2_headers(&w, cdef, 0x01, 3, post_req);
	feed(PROTO_DIR_WRITE, &w, 0);
	h2_frame(&r, 0x7, 0, 0, ga, 8);
	feed(PROTO_DIR_READ, &r, 0);
	/* Stream 3 refused: an empty response says so. */
	cr_assert_eq(n_msgs, 3);
	cr_assert_not(msgs[2]->is_request);
	cr_assert_eq(msgs[2]->stream_id, 3);
	cr_assert_eq(msgs[2]->status, 0);
	cr_assert_eq(msgs[2]->gap, PROTO_GAP_GOAWAY);
	cr_assert(msgs[2]->flags & HTTP_MSG_INCOMPLETE);
	cr_assert(proto_http2.in_message(st));	/* stream 1 goes on */
	h2b_free(&r);
	h2_headers(&r, sdef, 0x01, 1, ok_resp);
	feed(PROTO_DIR_READ, &r, 0);
	cr_assert_eq(n_msgs, 4);
	cr_assert_eq(msgs[3]->stream_id, 1);
	cr_assert_eq(msgs[3]->flags, 0);
	cr_assert_not(proto_http2.in_message(st));
	h2b_free(&w);
	h2b_free(&r);
}

Test(http2, unknown_frame_types_and_control_frames_skipped)
{
	struct h2buf w = { 0 };
	static const unsigned char junk[20] = "whatever it is";
	static const unsigned char ping[8], wu[4] = { 0, 0, 1, 0 };
	static const unsigned char prio[5] = { 0, 0, 0, 0, 16 };

	preface(&w);
	h2_frame(&w, 0xfa, 0xff, 0, junk, sizeof(junk));
	h2_frame(&w, 0x6, 0, 0, ping, 8);
	h2_frame(&w, 0x8, 0, 0, wu, 4);
	h2_frame(&w, 0x2, 0, 5, prio, 5);
	h2_headers(&w, cdef, 0, 5, post_req);
	h2_frame(&w, 0x20, 0, 5, junk, 3);
	h2_frame(&w, 0x0, 0x01, 5, "{}", 2);
	feed(PROTO_DIR_WRITE, &w, 7);
	cr_assert_eq(n_msgs, 1);
	cr_assert_str_eq((char *)msgs[0]->body, "{}");
	cr_assert_eq(stats().parse_errors, 0);
	cr_assert_not(proto_http2.ignored(st));
	h2b_free(&w);
}

Test(http2, header_table_size_setting_is_honoured)
{
	struct h2buf w = { 0 }, r = { 0 };
	char big[3000];
	const char *kv[] = {
		":method", "GET", ":path", "/a", "x-a", big, "x-b", big, NULL,
	};

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* The server allows a 64 KiB table; the client's encoder uses it. */
	h2_settings(&r, 0x1, 65536);
	feed(PROTO_DIR_READ, &r, 0);
	nghttp2_hd_deflate_del(cdef);
	cr_assert_eq(nghttp2_hd_deflate_new(&cdef, 65536), 0);
	cr_assert_eq(nghttp2_hd_deflate_change_table_size(cdef, 65536), 0);
	preface(&w);
	h2_headers(&w, cdef, 0x01, 1, kv);
	h2_headers(&w, cdef, 0x01, 3, kv);	/* both from the table now */
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert_eq(n_msgs, 2);
	cr_assert_str_eq(http_msg__header(msgs[1], "x-a"), big);
	cr_assert_str_eq(http_msg__header(msgs[1], "x-b"), big);
	cr_assert_eq(stats().parse_errors, 0);
	h2b_free(&w);
	h2b_free(&r);
}

Test(http2, header_table_size_past_64k_is_not_honoured)
{
	static const char *const kv[] = {
		":method", "GET", ":path", "/a", NULL,
	};
	struct h2buf w = { 0 }, r = { 0 };

	/* 1 MiB announced: the sensor would hold that much for the peers. */
	h2_settings(&r, 0x1, 1 << 20);
	feed(PROTO_DIR_READ, &r, 0);
	nghttp2_hd_deflate_del(cdef);
	cr_assert_eq(nghttp2_hd_deflate_new(&cdef, 1 << 20), 0);
	cr_assert_eq(nghttp2_hd_deflate_change_table_size(cdef, 1 << 20), 0);
	preface(&w);
	h2_headers(&w, cdef, 0x01, 1, kv);
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert_eq(n_msgs, 0);
	cr_assert(proto_http2.ignored(st));
	cr_assert_eq(stats().parse_errors, 1);
	h2b_free(&w);
	h2b_free(&r);
}

Test(http2, streams_past_the_bound_are_counted)
{
	struct h2buf w = { 0 };
	uint32_t i;

	preface(&w);
	for (i = 0; i < HTTP2_MAX_STREAMS + 3; i++)
		h2_headers(&w, cdef, 0, 2 * i + 1, post_req);
	h2_frame(&w, 0x0, 0x01, 2 * (HTTP2_MAX_STREAMS + 2) + 1, "{}", 2);
	h2_frame(&w, 0x0, 0x01, 1, "{}", 2);
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert_eq(stats().streams_dropped, 3);
	cr_assert_eq(n_msgs, 1);
	cr_assert_eq(msgs[0]->stream_id, 1);
	proto_http2.flush(st, PROTO_DIR_WRITE, 5);
	cr_assert_eq(n_msgs, HTTP2_MAX_STREAMS);
	cr_assert(msgs[1]->flags & HTTP_MSG_INCOMPLETE);
	h2b_free(&w);
}

static void expect_dropped(void)
{
	cr_assert(proto_http2.ignored(st));
	cr_assert_eq(stats().parse_errors, 1);
	cr_assert_not(proto_http2.in_message(st));
}

Test(http2, frame_over_the_limit_drops_the_connection)
{
	struct h2buf w = { 0 };
	unsigned char hdr[9] = { 0x00, 0x40, 0x01, 0x0, 0, 0, 0, 0, 1 };

	preface(&w);
	h2_headers(&w, cdef, 0, 1, post_req);
	h2b_put(&w, hdr, sizeof(hdr));	/* DATA of 16385 bytes */
	feed(PROTO_DIR_WRITE, &w, 0);
	/* The request in progress is handed over as incomplete. */
	cr_assert_eq(n_msgs, 1);
	cr_assert(msgs[0]->flags & HTTP_MSG_INCOMPLETE);
	expect_dropped();
	/* Later bytes are ignored. */
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert_eq(n_msgs, 1);
	h2b_free(&w);
}

Test(http2, bad_preface_drops_the_connection)
{
	static const char bad[] = "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n";

	cr_assert_eq(proto_http2.feed(st, PROTO_DIR_WRITE, bad, 24, 1), 0);
	expect_dropped();
}

Test(http2, garbage_and_bad_sequences_drop_the_connection)
{
	struct h2buf w = { 0 };
	unsigned char noise[4096];
	size_t i;

	/* DATA between HEADERS and its CONTINUATION (RFC 9113 §6.10). */
	preface(&w);
	h2_frame(&w, 0x1, 0, 1, "\x82", 1);
	h2_frame(&w, 0x0, 0, 1, "x", 1);
	feed(PROTO_DIR_WRITE, &w, 0);
	expect_dropped();
	teardown();
	setup();
	/* Garbage after the preface, in the read direction too: no crash. */
	h2b_free(&w);
	preface(&w);
	srand(13);
	for (i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)rand();
	h2b_put(&w, noise, sizeof(noise));
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert_eq(proto_http2.feed(st, PROTO_DIR_READ, noise,
				      sizeof(noise), 2), 0);
	expect_dropped();
	h2b_free(&w);
}

Test(http2, bad_hpack_drops_the_connection)
{
	struct h2buf w = { 0 };

	preface(&w);
	/* Index 127 of an empty dynamic table. */
	h2_frame(&w, 0x1, 0x04, 1, "\xff\x40", 2);
	feed(PROTO_DIR_WRITE, &w, 0);
	expect_dropped();
	h2b_free(&w);
}

Test(http2, gap_ends_messages_with_its_reason)
{
	struct h2buf w = { 0 };

	preface(&w);
	h2_headers(&w, cdef, 0, 1, post_req);
	feed(PROTO_DIR_WRITE, &w, 0);
	proto_http2.gap(st, PROTO_DIR_WRITE, PROTO_GAP_RECORDS_LOST);
	cr_assert_eq(n_msgs, 1);
	cr_assert(msgs[0]->flags & HTTP_MSG_INCOMPLETE);
	cr_assert_eq(msgs[0]->gap, PROTO_GAP_RECORDS_LOST);
	/* The connection goes on: it resyncs (test_http2_join.c). */
	cr_assert_not(proto_http2.ignored(st));
	cr_assert_eq(stats().parse_errors, 0);
	h2b_free(&w);
}

/* A connection keeping 8 body bytes fed 10 in DATA (@flags), @step at a time. */
static void ten_bytes_kept_eight(uint8_t flags, size_t step)
{
	struct proto_limits lim = { .max_body = 8 };
	struct h2buf w = { 0 };

	proto_http2.free(st);
	cr_assert_eq(proto_http2.new(&st, &lim, on_msg, NULL), 0);
	preface(&w);
	h2_headers(&w, cdef, 0, 1, post_req);
	h2_frame(&w, 0x0, flags, 1, "0123456789", 10);
	feed(PROTO_DIR_WRITE, &w, step);
	h2b_free(&w);
}

Test(http2, body_bound_and_shedding)
{
	ten_bytes_kept_eight(0, 0);
	cr_assert_gt(proto_http2.held(st), 0);
	cr_assert_gt(proto_http2.shed(st), 0);
	cr_assert_eq(proto_http2.held(st), 0);
	proto_http2.flush(st, PROTO_DIR_WRITE, 9);
	cr_assert_eq(n_msgs, 1);
	cr_assert(msgs[0]->flags & HTTP_MSG_SHED);
	cr_assert_eq(msgs[0]->body_total, 10);
}

Test(http2, body_past_max_body_is_truncated)
{
	ten_bytes_kept_eight(0x01, 3);
	cr_assert_eq(n_msgs, 1);
	cr_assert(msgs[0]->flags & HTTP_MSG_TRUNCATED);
	cr_assert_eq(msgs[0]->body_len, 8);
	cr_assert_eq(msgs[0]->body_total, 10);
}

/* ---- joined mid-way, resync, server end ---- */

/* One call of @dir: its start told, then its bytes @b, whole. */
static void feed_call(enum proto_dir dir, const struct h2buf *b)
{
	proto_http2.call_start(st, dir);
	cr_assert_eq(proto_http2.feed(st, dir, b->p, b->len, 5000), 0);
}

Test(http2, frames_are_detected_and_text_is_not)
{
	static const char *const text[] = {
		"POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
		"{\"model\":\"gpt-4o\"}",
		"data: {\"x\":1}\n\n",
	};
	/* WebSocket text frame, unmasked; a TLS record header. */
	static const unsigned char ws[] = { 0x81, 0x05, 'h', 'e', 'l', 'l', 'o' };
	static const unsigned char tls[] = { 0x17, 0x03, 0x03, 0x00, 0x20 };
	static const unsigned char ping[8];
	struct h2buf b = { 0 };
	size_t i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		cr_assert_not(proto_http2.detect(PROTO_DIR_WRITE, text[i],
						 strlen(text[i])), "%s", text[i]);
		cr_assert_eq(proto__select(PROTO_DIR_READ, text[i],
					   strlen(text[i])), &proto_http1);
	}
	cr_assert_not(proto_http2.detect(PROTO_DIR_READ, ws, sizeof(ws)));
	cr_assert_not(proto_http2.detect(PROTO_DIR_READ, tls, sizeof(tls)));
	/* A server's SETTINGS, then HEADERS and DATA: frames. */
	h2_settings(&b, 0x3, 100);
	cr_assert(proto_http2.detect(PROTO_DIR_READ, b.p, b.len));
	cr_assert_not(proto_http2.detect(PROTO_DIR_READ, b.p, 8), "short");
	h2_headers(&b, sdef, 0, 1, ok_resp);
	h2_frame(&b, 0x0, 0x01, 1, "data: x\n\n", 9);
	cr_assert_eq(proto__select(PROTO_DIR_READ, b.p, b.len), &proto_http2);
	/* A frame running on into the next call: still frames. */
	cr_assert(proto_http2.detect(PROTO_DIR_READ, b.p, b.len - 3));
	/* Starting mid-frame, or leaving a piece of a header: not. */
	cr_assert_not(proto_http2.detect(PROTO_DIR_READ, b.p + 3, b.len - 3));
	h2b_put(&b, "\0\0", 2);
	cr_assert_not(proto_http2.detect(PROTO_DIR_READ, b.p, b.len));
	h2b_free(&b);
	/* The rules of each type: PING on a stream, flags not its own. */
	h2_frame(&b, 0x6, 0, 1, ping, 8);
	cr_assert_not(proto_http2.detect(PROTO_DIR_READ, b.p, b.len));
	h2b_free(&b);
	h2_frame(&b, 0x0, 0x40, 1, "x", 1);
	cr_assert_not(proto_http2.detect(PROTO_DIR_READ, b.p, b.len));
	h2b_free(&b);
	/* A CONTINUATION cannot start, nor a header block end unfinished. */
	h2_frame(&b, 0x9, 0x04, 1, "\x82", 1);
	cr_assert_not(proto_http2.detect(PROTO_DIR_WRITE, b.p, b.len));
	h2b_free(&b);
	h2_frame(&b, 0x1, 0, 1, "\x82", 1);
	h2_frame(&b, 0x0, 0, 1, "x", 1);
	cr_assert_not(proto_http2.detect(PROTO_DIR_WRITE, b.p, b.len));
	h2b_free(&b);
	/* Longer than the default SETTINGS_MAX_FRAME_SIZE. */
	h2_frame(&b, 0x0, 0, 1, NULL, 0);
	b.p[0] = 0;
	b.p[1] = 0x40;
	b.p[2] = 0x01;
	cr_assert_not(proto_http2.detect(PROTO_DIR_WRITE, b.p, b.len));
	h2b_free(&b);
	/* Unknown types are skipped once in sync, no sign of it. */
	h2_frame(&b, 0xfa, 0, 0, "abc", 3);
	cr_assert_not(proto_http2.detect(PROTO_DIR_WRITE, b.p, b.len));
	h2b_free(&b);
}

static const char *const traced_req[] = {
	":method", "POST", ":scheme", "https", ":path", "/v1/chat/completions",
	":authority", "api.openai.com", "content-type", "application/json",
	"x-trace", "a", NULL,
};

/*
 * A client whose first request went before the join: its encoder's
 * table holds :authority, content-type and x-trace.  Later requests
 * refer to them (unknown here), insert x-trace with a new value under
 * the old name (unknown name) and x-new (known), then refer to both.
 */
Test(http2, joined_client_decodes_what_it_can)
{
	static const char *const req2[] = {
		":method", "POST", ":scheme", "https", ":path",
		"/v1/chat/completions", ":authority", "api.openai.com",
		"content-type", "application/json", "x-trace", "b",
		"x-new", "1", NULL,
	};
	struct h2buf before = { 0 }, w = { 0 }, r = { 0 };
	struct proto_stats s;

	preface(&before);
	h2_headers(&before, cdef, 0x01, 1, traced_req);
	h2_headers(&r, sdef, 0x01, 1, ok_resp);		/* never seen */
	h2b_free(&r);
	h2_headers(&w, cdef, 0, 3, req2);
	h2_frame(&w, 0x0, 0x01, 3, "{\"model\":\"m\"}", 13);
	h2_headers(&w, cdef, 0x01, 5, req2);
	cr_assert(proto_http2.detect(PROTO_DIR_WRITE, w.p, w.len));
	feed_call(PROTO_DIR_WRITE, &w);
	cr_assert_not(proto_http2.ignored(st));
	cr_assert_eq(n_msgs, 2);
	cr_assert(msgs[0]->is_request);
	cr_assert_str_eq(msgs[0]->method, "POST");
	/* nghttp2 never indexes :path: a literal, decoded. */
	cr_assert_str_eq(msgs[0]->target, "/v1/chat/completions");
	cr_assert_null(msgs[0]->authority);
	cr_assert_null(http_msg__header(msgs[0], "content-type"));
	cr_assert_null(http_msg__header(msgs[0], "x-trace"));
	cr_assert_str_eq(http_msg__header(msgs[0], "x-new"), "1");
	cr_assert_str_eq((char *)msgs[0]->body, "{\"model\":\"m\"}");
	cr_assert(msgs[0]->flags & HTTP_MSG_FIELDS_UNKNOWN);
	cr_assert_not(msgs[0]->flags & HTTP_MSG_INCOMPLETE);
	/* Stream 5 refers to x-trace: b (name unknown) and x-new: 1. */
	cr_assert_eq(msgs[1]->stream_id, 5);
	cr_assert_str_eq(http_msg__header(msgs[1], "x-new"), "1");
	cr_assert_null(http_msg__header(msgs[1], "x-trace"));
	cr_assert_null(http_msg__header(msgs[1], ""));
	s = stats();
	cr_assert_eq(s.joined, 1);
	cr_assert_eq(s.streams_hpack_unknown, 2);
	/* :authority, content-type, x-trace twice each. */
	cr_assert_eq(s.hpack_fields_unknown, 6);
	cr_assert_eq(s.parse_errors, 0);
	/* The response of stream 3, read in a call that starts with it. */
	h2_headers(&r, sdef, 0, 3, ok_resp);
	h2_frame(&r, 0x0, 0x01, 3, "data: y\n\n", 9);
	feed_call(PROTO_DIR_READ, &r);
	cr_assert_eq(n_msgs, 3);
	cr_assert_not(msgs[2]->is_request);
	cr_assert_eq(msgs[2]->stream_id, 3);
	cr_assert_eq(msgs[2]->status, 200);
	/* content-type: text/event-stream was inserted before the join. */
	cr_assert_null(http_msg__header(msgs[2], "content-type"));
	cr_assert_str_eq((char *)msgs[2]->body, "data: y\n\n");
	h2b_free(&before);
	h2b_free(&w);
	h2b_free(&r);
}

/* Joined from the response side: the role is read from :status. */
Test(http2, joined_from_the_read_side_learns_the_role)
{
	struct h2buf w = { 0 }, r = { 0 };

	/* Stream 1's request went before the join: its response is not kept. */
	h2_headers(&r, sdef, 0, 1, ok_resp);
	h2_frame(&r, 0x0, 0x01, 1, "x", 1);
	feed_call(PROTO_DIR_READ, &r);
	cr_assert_eq(n_msgs, 0);
	cr_assert_not(proto_http2.server_end(st));
	h2_headers(&w, cdef, 0x01, 3, post_req);
	feed_call(PROTO_DIR_WRITE, &w);
	h2b_free(&r);
	h2_headers(&r, sdef, 0x01, 3, ok_resp);
	feed_call(PROTO_DIR_READ, &r);
	cr_assert_eq(n_msgs, 2);
	cr_assert(msgs[0]->is_request);
	cr_assert_eq(msgs[0]->dir, PROTO_DIR_WRITE);
	cr_assert_eq(msgs[1]->status, 200);
	cr_assert_eq(msgs[1]->dir, PROTO_DIR_READ);
	h2b_free(&w);
	h2b_free(&r);
}

/* Bytes of a joined direction that do not start a call, or not with frames. */
Test(http2, joined_direction_waits_for_a_call_starting_with_frames)
{
	struct h2buf w = { 0 }, r = { 0 };

	h2_headers(&w, cdef, 0x01, 1, post_req);
	feed_call(PROTO_DIR_WRITE, &w);
	cr_assert_eq(n_msgs, 1);
	h2_headers(&r, sdef, 0, 1, ok_resp);
	h2_frame(&r, 0x0, 0x01, 1, "{}", 2);
	/* The read side's first call began mid-frame: skipped. */
	cr_assert_eq(proto_http2.feed(st, PROTO_DIR_READ, r.p + 2, r.len - 2,
				      1), 0);
	/* Frames, but not at a call's start: skipped. */
	cr_assert_eq(proto_http2.feed(st, PROTO_DIR_READ, r.p, r.len, 2), 0);
	cr_assert_eq(n_msgs, 1);
	cr_assert_not(proto_http2.ignored(st));
	h2b_free(&w);
	h2_headers(&w, cdef, 0x01, 3, post_req);
	feed_call(PROTO_DIR_WRITE, &w);
	h2b_free(&r);
	h2_headers(&r, sdef, 0, 3, ok_resp);
	h2_frame(&r, 0x0, 0x01, 3, "{}", 2);
	feed_call(PROTO_DIR_READ, &r);
	cr_assert_eq(n_msgs, 3);
	cr_assert_eq(msgs[2]->stream_id, 3);
	cr_assert_str_eq((char *)msgs[2]->body, "{}");
	cr_assert_eq(stats().resyncs, 0);	/* a join, not a resync */
	h2b_free(&w);
	h2b_free(&r);
}

Test(http2, gap_resyncs_at_a_later_call)
{
	struct h2buf w = { 0 }, r = { 0 };
	struct proto_stats s;

	preface(&w);
	h2_headers(&w, cdef, 0x01, 1, post_req);
	h2_headers(&w, cdef, 0x01, 3, post_req);
	feed(PROTO_DIR_WRITE, &w, 0);
	h2_settings(&r, 0, 0);
	h2_headers(&r, sdef, 0, 1, ok_resp);
	h2_frame(&r, 0x0, 0, 1, "data: a\n\n", 9);
	feed(PROTO_DIR_READ, &r, 0);
	cr_assert_eq(n_msgs, 2);
	/* Lost: the rest of stream 1 and the start of stream 3's reply. */
	proto_http2.gap(st, PROTO_DIR_READ, PROTO_GAP_RECORDS_LOST);
	cr_assert_eq(n_msgs, 3);
	cr_assert_eq(msgs[2]->stream_id, 1);
	cr_assert(msgs[2]->flags & HTTP_MSG_INCOMPLETE);
	cr_assert_eq(msgs[2]->gap, PROTO_GAP_RECORDS_LOST);
	cr_assert_str_eq((char *)msgs[2]->body, "data: a\n\n");
	h2b_free(&r);
	h2_frame(&r, 0x0, 0, 1, "data: b\n\n", 9);
	/* The same call goes on: mid-frame, skipped. */
	cr_assert_eq(proto_http2.feed(st, PROTO_DIR_READ, r.p + 4, r.len - 4,
				      7), 0);
	h2b_free(&r);
	/* A new call with frames: found again; content-type is unknown. */
	h2_headers(&r, sdef, 0, 3, ok_resp);
	h2_frame(&r, 0x0, 0x01, 3, "data: c\n\n", 9);
	feed_call(PROTO_DIR_READ, &r);
	cr_assert_eq(n_msgs, 4);
	cr_assert_eq(msgs[3]->stream_id, 3);
	cr_assert_eq(msgs[3]->status, 200);
	cr_assert_str_eq((char *)msgs[3]->body, "data: c\n\n");
	cr_assert(msgs[3]->flags & HTTP_MSG_FIELDS_UNKNOWN);
	cr_assert_null(http_msg__header(msgs[3], "content-type"));
	s = stats();
	cr_assert_eq(s.resyncs, 1);
	cr_assert_eq(s.streams_hpack_unknown, 1);
	cr_assert_eq(s.joined, 0);
	/* The write side, never lost, decodes everything still. */
	h2b_free(&w);
	h2_headers(&w, cdef, 0x01, 5, post_req);
	feed_call(PROTO_DIR_WRITE, &w);
	cr_assert_eq(n_msgs, 5);
	cr_assert_str_eq(msgs[4]->authority, "api.openai.com");
	cr_assert_eq(msgs[4]->flags, 0);
	h2b_free(&w);
	h2b_free(&r);
}

/* The process reads the preface: requests are read, responses written. */
Test(http2, server_end_from_the_preface_read)
{
	struct h2buf w = { 0 }, r = { 0 };

	h2_settings(&w, 0x3, 100);	/* the server's SETTINGS, written first */
	feed(PROTO_DIR_WRITE, &w, 0);
	preface(&r);
	h2_headers(&r, cdef, 0, 1, post_req);
	h2_frame(&r, 0x0, 0x01, 1, "{}", 2);
	feed(PROTO_DIR_READ, &r, 5);
	cr_assert(proto_http2.server_end(st));
	cr_assert_eq(n_msgs, 1);
	cr_assert(msgs[0]->is_request);
	cr_assert_eq(msgs[0]->dir, PROTO_DIR_READ);
	cr_assert_str_eq(msgs[0]->authority, "api.openai.com");
	h2b_free(&w);
	h2_headers(&w, sdef, 0, 1, ok_resp);
	h2_frame(&w, 0x0, 0x01, 1, "data: z\n\n", 9);
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert_eq(n_msgs, 2);
	cr_assert_not(msgs[1]->is_request);
	cr_assert_eq(msgs[1]->dir, PROTO_DIR_WRITE);
	cr_assert_eq(msgs[1]->flags, 0);
	/* Its SETTINGS first did not make it a joined connection. */
	cr_assert_eq(stats().joined, 0);
	cr_assert_eq(stats().hpack_fields_unknown, 0);
	h2b_free(&w);
	h2b_free(&r);
}

/* A server seen mid-way: its first frame, a SETTINGS it writes. */
Test(http2, server_end_joined_from_its_settings)
{
	struct h2buf w = { 0 }, r = { 0 };

	h2_settings(&w, 0x3, 100);
	cr_assert(proto_http2.detect(PROTO_DIR_WRITE, w.p, w.len));
	feed_call(PROTO_DIR_WRITE, &w);
	h2_headers(&r, cdef, 0x01, 1, post_req);
	feed_call(PROTO_DIR_READ, &r);
	cr_assert_eq(n_msgs, 1);
	cr_assert(msgs[0]->is_request);
	cr_assert_eq(msgs[0]->dir, PROTO_DIR_READ);
	cr_assert(proto_http2.server_end(st));
	h2b_free(&w);
	h2b_free(&r);
}

Test(http2, reset_and_goaway_say_so)
{
	struct h2buf w = { 0 }, r = { 0 };
	static const unsigned char cancel[4] = { 0, 0, 0, 8 };
	static const unsigned char ga[8] = { 0, 0, 0, 3, 0, 0, 0, 0 };

	preface(&w);
	h2_headers(&w, cdef, 0x01, 1, post_req);
	h2_headers(&w, cdef, 0x01, 3, post_req);
	h2_headers(&w, cdef, 0x01, 5, post_req);
	feed(PROTO_DIR_WRITE, &w, 0);
	h2_headers(&r, sdef, 0, 1, ok_resp);
	h2_frame(&r, 0x3, 0, 1, cancel, 4);
	h2_headers(&r, sdef, 0, 3, ok_resp);
	h2_frame(&r, 0x7, 0, 0, ga, 8);
	feed(PROTO_DIR_READ, &r, 0);
	/* 3 requests; the reply of 1 reset; 5 never processed. */
	cr_assert_eq(n_msgs, 5);
	cr_assert_eq(msgs[3]->stream_id, 1);
	cr_assert_eq(msgs[3]->status, 200);
	cr_assert_eq(msgs[3]->gap, PROTO_GAP_STREAM_RESET);
	cr_assert(msgs[3]->flags & HTTP_MSG_INCOMPLETE);
	cr_assert_eq(msgs[4]->stream_id, 5);
	cr_assert_eq(msgs[4]->status, 0);
	cr_assert_eq(msgs[4]->gap, PROTO_GAP_GOAWAY);
	cr_assert_eq(stats().streams_reset, 1);
	cr_assert(proto_http2.in_message(st));	/* stream 3 goes on */
	h2b_free(&w);
	h2_frame(&w, 0x7, 0, 0, ga, 8);		/* the client's: no effect */
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert(proto_http2.in_message(st));
	h2b_free(&r);
	h2_frame(&r, 0x0, 0x01, 3, "{}", 2);
	feed(PROTO_DIR_READ, &r, 0);
	cr_assert_eq(n_msgs, 6);
	cr_assert_eq(msgs[5]->flags, 0);
	/* A reset of a stream already ended is not counted. */
	h2b_free(&w);
	h2_frame(&w, 0x3, 0, 3, cancel, 4);
	feed(PROTO_DIR_WRITE, &w, 0);
	cr_assert_eq(stats().streams_reset, 1);
	h2b_free(&w);
	h2b_free(&r);
}

Test(http2, max_frame_size_setting_is_followed)
{
	struct h2buf w = { 0 }, r = { 0 };
	static char big[20000];

	memset(big, 'a', sizeof(big));
	preface(&w);
	feed(PROTO_DIR_WRITE, &w, 0);
	h2b_free(&w);
	h2_settings(&r, 0x5, 32768);	/* the server accepts 32 KiB frames */
	feed(PROTO_DIR_READ, &r, 0);
	h2_headers(&w, cdef, 0, 1, post_req);
	h2_frame(&w, 0x0, 0x01, 1, big, sizeof(big));
	feed(PROTO_DIR_WRITE, &w, 4096);
	cr_assert_eq(n_msgs, 1);
	cr_assert_eq(msgs[0]->body_total, sizeof(big));
	cr_assert_eq(stats().parse_errors, 0);
	/* Its own SETTINGS does not raise what the client may send it. */
	h2b_free(&r);
	h2_headers(&r, sdef, 0, 1, ok_resp);
	h2_frame(&r, 0x0, 0x01, 1, big, sizeof(big));
	feed(PROTO_DIR_READ, &r, 0);
	cr_assert(proto_http2.ignored(st));
	h2b_free(&w);
	h2b_free(&r);
}

/* A PUSH_PROMISE's block feeds the server's table like any other. */
Test(http2, push_promise_keeps_hpack_in_step)
{
	static const char *const promised[] = {
		":method", "GET", ":path", "/pushed", ":authority", "h",
		":scheme", "https", "x-pushed", "yes", NULL,
	};
	static const char *const resp[] = {
		":status", "200", "x-pushed", "yes", NULL,
	};
	struct h2buf w = { 0 }, r = { 0 }, blk = { 0 };
	unsigned char pp[256] = { 0, 0, 0, 2 };

	preface(&w);
	h2_headers(&w, cdef, 0x01, 1, post_req);
	feed(PROTO_DIR_WRITE, &w, 0);
	h2_hpack(sdef, &blk, promised);
	cr_assert_lt(blk.len + 4, sizeof(pp));
	memcpy(pp + 4, blk.p, blk.len);
	h2_frame(&r, 0x5, 0x04, 1, pp, blk.len + 4);
	h2_headers(&r, sdef, 0x01, 1, resp);	/* x-pushed from the table */
	h2_headers(&r, sdef, 0x01, 2, resp);	/* the pushed one: not kept */
	feed(PROTO_DIR_READ, &r, 3);
	cr_assert_eq(n_msgs, 2);
	cr_assert_eq(msgs[1]->stream_id, 1);
	cr_assert_str_eq(http_msg__header(msgs[1], "x-pushed"), "yes");
	cr_assert_eq(stats().parse_errors, 0);
	h2b_free(&w);
	h2b_free(&r);
	h2b_free(&blk);
}

/* Bad representations of a joined block: the connection is dropped. */
Test(http2, bad_joined_hpack_drops_the_connection)
{
	struct h2buf w = { 0 };

	/* An integer longer than 2^28, a string past the block's end. */
	h2_frame(&w, 0x1, 0x05, 1, "\xff\xff\xff\xff\xff\xff\x01", 7);
	feed_call(PROTO_DIR_WRITE, &w);
	expect_dropped();
	teardown();
	setup();
	h2b_free(&w);
	h2_frame(&w, 0x1, 0x05, 1, "\x82\x40\x05" "ab", 5);
	feed_call(PROTO_DIR_WRITE, &w);
	expect_dropped();
	h2b_free(&w);
}

/* A direction that never finds frames again is given up, bounded. */
Test(http2, hunting_is_bounded)
{
	struct h2buf w = { 0 };
	static const char text[] = "HTTP/1.1 200 OK\r\n\r\n";
	int i;

	h2_headers(&w, cdef, 0x01, 1, post_req);
	feed_call(PROTO_DIR_WRITE, &w);
	for (i = 0; i < 256; i++) {
		proto_http2.call_start(st, PROTO_DIR_READ);
		proto_http2.feed(st, PROTO_DIR_READ, text, sizeof(text) - 1, 9);
	}
	cr_assert_not(proto_http2.ignored(st));
	proto_http2.call_start(st, PROTO_DIR_READ);
	proto_http2.feed(st, PROTO_DIR_READ, text, sizeof(text) - 1, 9);
	cr_assert(proto_http2.ignored(st));
	h2b_free(&w);
}
