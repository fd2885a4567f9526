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

/* What one connection's parser emitted. */
struct conn {
	void *st;
	nghttp2_hd_deflater *cdef, *sdef;	/* client's, server's */
	struct http_msg *msgs[8];
	int n;
};

static void on_msg(void *ctx, struct http_msg *m)
{
	struct conn *c = ctx;

	cr_assert_lt(c->n, 8);
	c->msgs[c->n++] = m;
}

static void conn_feed(struct conn *c, enum proto_dir dir, struct h2buf *b)
{
	cr_assert_eq(proto_http2.feed(c->st, dir, b->p, b->len, 1000), 0);
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
static struct conn *response_cut_before_end_stream(const char *clen)
{
	const char *const resp[] = {
		":status", "200", "content-type", "application/json",
		"content-length", clen, NULL,
	};
	struct conn *c = calloc(1, sizeof(*c));
	struct h2buf w = { 0 }, r = { 0 };

	cr_assert(c);
	cr_assert_eq(proto_http2.new(&c->st, NULL, on_msg, c), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(&c->cdef, 4096), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(&c->sdef, 4096), 0);
	h2b_put(&w, H2_PREFACE, strlen(H2_PREFACE));
	h2_settings(&w, 0, 0);
	h2_headers(&w, c->cdef, 0, 1, req);
	h2_frame(&w, 0x0, 0x01, 1, "{}", 2);
	conn_feed(c, PROTO_DIR_WRITE, &w);
	h2_settings(&r, 0, 0);
	h2_headers(&r, c->sdef, 0, 1, resp);
	h2_data_padded(&r, 0, 1, "{\"ok\":", 6, 9);
	h2_data_padded(&r, 0, 1, "true}", 5, 3);
	conn_feed(c, PROTO_DIR_READ, &r);
	cr_assert_eq(c->n, 1);
	proto_http2.flush(c->st, PROTO_DIR_READ, 2000);
	proto_http2.flush(c->st, PROTO_DIR_WRITE, 2000);
	cr_assert_eq(c->n, 2);
	cr_assert_not(c->msgs[1]->is_request);
	cr_assert_eq(c->msgs[1]->status, 200);
	cr_assert_str_eq((char *)c->msgs[1]->body, "{\"ok\":true}");
	return c;
}

static void conn_free(struct conn *c)
{
	int i;

	proto_http2.free(c->st);
	for (i = 0; i < c->n; i++)
		http_msg__free(c->msgs[i]);
	nghttp2_hd_deflate_del(c->cdef);
	nghttp2_hd_deflate_del(c->sdef);
	free(c);
}

Test(http2_e2e, response_with_its_content_length_is_whole_without_end_stream)
{
	struct conn *c = response_cut_before_end_stream("11");

	cr_assert_eq(c->msgs[1]->flags, 0, "flags %#x", c->msgs[1]->flags);
	cr_assert_eq(c->msgs[1]->gap, PROTO_GAP_NONE);
	conn_free(c);
}

Test(http2_e2e, response_short_of_its_content_length_is_incomplete)
{
	struct conn *c = response_cut_before_end_stream("12");

	cr_assert(c->msgs[1]->flags & HTTP_MSG_INCOMPLETE);
	conn_free(c);
}
