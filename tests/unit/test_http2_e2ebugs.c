// SPDX-License-Identifier: MIT
/*
 * HTTP/2 (proto/http2.c) as real clients and servers drove it in the
 * end-to-end tests (tests/e2e/test_sensor_h2.py), reduced to frames.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "h2frames.h"
#include "proto/http2.h"
#include "proto/proto.h"

#define MAX_MSGS 8

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

TestSuite(http2_e2e, .init = setup, .fini = teardown);

static void feed(enum proto_dir dir, struct h2buf *b)
{
	cr_assert_eq(proto_http2.feed(st, dir, b->p, b->len, 1000), 0);
	h2b_free(b);
}

static const char *const req[] = {
	":method", "POST", ":scheme", "https", ":path", "/v1/chat/completions",
	":authority", "api.openai.com", "content-type", "application/json",
	"content-length", "2", NULL,
};

/*
 * A response whose last DATA frame (END_STREAM, padded by nghttpx
 * --padding) the client never reads: curl has all content-length bytes,
 * so it ends the transfer and frees the connection.  The body is whole;
 * the connection ends before END_STREAM.
 */
static void response_cut_before_end_stream(const char *clen)
{
	const char *const resp[] = {
		":status", "200", "content-type", "application/json",
		"content-length", clen, NULL,
	};
	struct h2buf w = { 0 }, r = { 0 };

	h2b_put(&w, H2_PREFACE, strlen(H2_PREFACE));
	h2_settings(&w, 0, 0);
	h2_headers(&w, cdef, 0, 1, req);
	h2_frame(&w, 0x0, 0x01, 1, "{}", 2);
	feed(PROTO_DIR_WRITE, &w);
	h2_settings(&r, 0, 0);
	h2_headers(&r, sdef, 0, 1, resp);
	h2_data_padded(&r, 0, 1, "{\"ok\":", 6, 9);
	h2_data_padded(&r, 0, 1, "true}", 5, 3);
	feed(PROTO_DIR_READ, &r);
	cr_assert_eq(n_msgs, 1);
	proto_http2.flush(st, PROTO_DIR_READ, 2000);
	proto_http2.flush(st, PROTO_DIR_WRITE, 2000);
	cr_assert_eq(n_msgs, 2);
	cr_assert_not(msgs[1]->is_request);
	cr_assert_eq(msgs[1]->status, 200);
	cr_assert_str_eq((char *)msgs[1]->body, "{\"ok\":true}");
}

Test(http2_e2e, response_with_its_content_length_is_whole_without_end_stream)
{
	response_cut_before_end_stream("11");
	cr_assert_eq(msgs[1]->flags, 0, "flags %#x", msgs[1]->flags);
	cr_assert_eq(msgs[1]->gap, PROTO_GAP_NONE);
}

Test(http2_e2e, response_short_of_its_content_length_is_incomplete)
{
	response_cut_before_end_stream("12");
	cr_assert(msgs[1]->flags & HTTP_MSG_INCOMPLETE);
}
