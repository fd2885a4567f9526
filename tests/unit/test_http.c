// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http1.h"

#define MAX_MSGS 64

struct coll {
	struct http_msg *m[MAX_MSGS];
	size_t n;
};

static void collect(void *ctx, struct http_msg *msg)
{
	struct coll *c = ctx;

	cr_assert_lt(c->n, MAX_MSGS);
	c->m[c->n++] = msg;
}

static void coll_free(struct coll *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		http_msg__free(c->m[i]);
	c->n = 0;
}

static struct httpstream *new_stream(struct coll *c, size_t max_body,
				     size_t max_hdr)
{
	struct http_limits lim = { .max_body = max_body,
				   .max_header_bytes = max_hdr };
	struct httpstream *s;

	memset(c, 0, sizeof(*c));
	cr_assert_eq(httpstream__new(&s, &lim, collect, c), 0);
	return s;
}

static void feed_str(struct httpstream *s, const char *str, uint64_t ts)
{
	cr_assert_eq(httpstream__feed(s, str, strlen(str), ts), 0);
}

static const char chat_req[] =
	"POST /v1/chat/completions?x=1 HTTP/1.1\r\n"
	"Host: api.openai.com\r\n"
	"Content-Type:   application/json  \r\n"
	"Authorization: Bearer sk-test\r\n"
	"Content-Length: 29\r\n"
	"\r\n"
	"{\"model\":\"gpt-4o-mini\",\"x\":1}";

static const char chunked_resp[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/event-stream\r\n"
	"Transfer-Encoding: chunked\r\n"
	"Trailer: X-Checksum\r\n"
	"\r\n"
	"7;ext=1;name=\"v\"\r\n"
	"data: a\r\n"
	"b\r\n"
	"\n\ndata: bb\n\r\n"
	"0\r\n"
	"X-Checksum: 42\r\n"
	"\r\n";

static const char cl_resp[] =
	"HTTP/1.1 404 Not Found\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"nope!";

Test(http, request_with_content_length)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	struct http_msg *m;

	feed_str(s, chat_req, 100);
	cr_assert_eq(c.n, 1);
	m = c.m[0];
	cr_assert(m->is_request);
	cr_assert_str_eq(m->method, "POST");
	cr_assert_str_eq(m->target, "/v1/chat/completions?x=1");
	cr_assert_eq(m->http_major, 1);
	cr_assert_eq(m->http_minor, 1);
	cr_assert_eq(m->n_headers, 4);
	cr_assert_str_eq(m->headers[0].name, "Host");
	cr_assert_str_eq(http_msg__header(m, "HOST"), "api.openai.com");
	cr_assert_str_eq(http_msg__header(m, "content-type"),
			 "application/json");
	cr_assert_null(http_msg__header(m, "x-missing"));
	cr_assert_eq(m->body_len, 29);
	cr_assert_eq(m->body_total, 29);
	cr_assert_str_eq((char *)m->body, "{\"model\":\"gpt-4o-mini\",\"x\":1}");
	cr_assert_eq(m->flags, 0);
	cr_assert_eq(m->ts_start, 100);
	cr_assert_eq(m->ts_body, 100);
	cr_assert_eq(m->ts_end, 100);
	cr_assert_eq(m->n_marks, 1);
	cr_assert_eq(m->marks[0].body_off, 0);
	cr_assert_eq(m->marks[0].ts_ns, 100);
	cr_assert_not(httpstream__in_message(s));
	coll_free(&c);
	httpstream__free(s);
}

Test(http, chunked_with_extensions_and_trailers)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	struct http_msg *m;

	feed_str(s, chunked_resp, 7);
	cr_assert_eq(c.n, 1);
	m = c.m[0];
	cr_assert_not(m->is_request);
	cr_assert_eq(m->status, 200);
	cr_assert_null(m->method);
	cr_assert_eq(m->body_len, 18);
	cr_assert_str_eq((char *)m->body, "data: a\n\ndata: bb\n");
	cr_assert_eq(m->n_headers, 3);
	cr_assert_eq(m->n_trailers, 1);
	cr_assert_str_eq(m->trailers[0].name, "X-Checksum");
	cr_assert_str_eq(m->trailers[0].value, "42");
	cr_assert_null(http_msg__header(m, "x-checksum"));
	cr_assert_eq(m->flags, 0);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, keep_alive_and_pipelining)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	char buf[4096];
	size_t i;

	/* Three responses in separate feeds, then three in one feed. */
	feed_str(s, chunked_resp, 1);
	feed_str(s, cl_resp, 2);
	feed_str(s, chunked_resp, 3);
	snprintf(buf, sizeof(buf), "%s%s%s", cl_resp, chunked_resp, cl_resp);
	feed_str(s, buf, 4);
	cr_assert_eq(c.n, 6);
	for (i = 0; i < c.n; i++) {
		cr_assert_eq(c.m[i]->status, i % 2 ? 404 : 200);
		cr_assert_eq(c.m[i]->flags, 0);
	}
	cr_assert_eq(c.m[5]->ts_start, 4);
	coll_free(&c);
	httpstream__free(s);

	/* Requests too, pipelined in one feed. */
	s = new_stream(&c, 0, 0);
	snprintf(buf, sizeof(buf), "%s%s%s", chat_req, chat_req, chat_req);
	feed_str(s, buf, 9);
	cr_assert_eq(c.n, 3);
	for (i = 0; i < c.n; i++) {
		cr_assert(c.m[i]->is_request);
		cr_assert_eq(c.m[i]->body_len, 29);
	}
	coll_free(&c);
	httpstream__free(s);
}

/* The stream used for split tests: responses of every framing kind. */
static void split_stream(char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", chunked_resp, cl_resp,
		 "HTTP/1.1 100 Continue\r\n\r\n"
		 "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n"
		 "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
}

static void check_split_result(struct coll *c)
{
	cr_assert_eq(c->n, 5);
	cr_assert_str_eq((char *)c->m[0]->body, "data: a\n\ndata: bb\n");
	cr_assert_eq(c->m[0]->n_trailers, 1);
	cr_assert_str_eq((char *)c->m[1]->body, "nope!");
	cr_assert_eq(c->m[2]->status, 100);
	cr_assert_eq(c->m[3]->status, 204);
	cr_assert_str_eq(http_msg__header(c->m[3], "x-a"), "b");
	cr_assert_str_eq((char *)c->m[4]->body, "abc");
	for (size_t i = 0; i < c->n; i++)
		cr_assert_eq(c->m[i]->flags, 0, "msg %zu", i);
}

Test(http, one_byte_at_a_time)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	struct httpstream_stats st;
	char buf[4096];
	size_t i, n;

	split_stream(buf, sizeof(buf));
	n = strlen(buf);
	for (i = 0; i < n; i++)
		cr_assert_eq(httpstream__feed(s, buf + i, 1, 1000 + i), 0);
	check_split_result(&c);
	/* The chunked body arrived in 18 feeds: one mark each. */
	cr_assert_eq(c.m[0]->n_marks, 18);
	cr_assert_eq(c.m[0]->ts_start, 1000);
	cr_assert_eq(c.m[0]->marks[1].body_off, 1);
	cr_assert_eq(c.m[0]->ts_end, 1000 + strlen(chunked_resp) - 1);
	httpstream__stats(s, &st);
	cr_assert_eq(st.messages, 5);
	cr_assert_eq(st.parse_errors, 0);
	cr_assert_eq(st.bytes_skipped, 0);
	coll_free(&c);
	httpstream__free(s);

	/* A request line held back across feeds keeps its first ts. */
	s = new_stream(&c, 0, 0);
	n = strlen(chat_req);
	for (i = 0; i < n; i++)
		cr_assert_eq(httpstream__feed(s, chat_req + i, 1, 50 + i), 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->ts_start, 50);
	cr_assert_eq(c.m[0]->ts_end, 50 + n - 1);
	cr_assert_str_eq(c.m[0]->target, "/v1/chat/completions?x=1");
	coll_free(&c);
	httpstream__free(s);
}

Test(http, every_split_point)
{
	struct coll c;
	struct httpstream *s;
	char buf[4096];
	size_t i, j, n;

	split_stream(buf, sizeof(buf));
	n = strlen(buf);
	for (i = 0; i <= n; i++) {
		s = new_stream(&c, 0, 0);
		cr_assert_eq(httpstream__feed(s, buf, i, 1), 0);
		cr_assert_eq(httpstream__feed(s, buf + i, n - i, 2), 0);
		check_split_result(&c);
		coll_free(&c);
		httpstream__free(s);
	}
	/* And three pieces, for the request. */
	n = strlen(chat_req);
	for (i = 0; i <= n; i += 3) {
		for (j = i; j <= n; j += 5) {
			s = new_stream(&c, 0, 0);
			httpstream__feed(s, chat_req, i, 1);
			httpstream__feed(s, chat_req + i, j - i, 2);
			httpstream__feed(s, chat_req + j, n - j, 3);
			cr_assert_eq(c.n, 1);
			cr_assert_eq(c.m[0]->body_len, 29);
			cr_assert_eq(c.m[0]->flags, 0);
			coll_free(&c);
			httpstream__free(s);
		}
	}
}

Test(http, response_delimited_by_close)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);

	feed_str(s, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello ", 1);
	feed_str(s, "world", 2);
	cr_assert_eq(c.n, 0);
	cr_assert(httpstream__in_message(s));
	httpstream__flush(s, 3);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->flags, 0);
	cr_assert_str_eq((char *)c.m[0]->body, "hello world");
	cr_assert_eq(c.m[0]->ts_end, 2);
	cr_assert_eq(c.m[0]->n_marks, 2);
	cr_assert_eq(c.m[0]->marks[1].body_off, 6);
	cr_assert_eq(c.m[0]->marks[1].ts_ns, 2);
	cr_assert_not(httpstream__in_message(s));
	coll_free(&c);
	httpstream__free(s);
}

Test(http, flush_incomplete)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);

	/* Content-Length not reached: INCOMPLETE with what there is. */
	feed_str(s, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 1);
	httpstream__flush(s, 2);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_INCOMPLETE);
	cr_assert_str_eq((char *)c.m[0]->body, "abc");
	coll_free(&c);
	/* Headers not complete: dropped. */
	feed_str(s, "POST / HTTP/1.1\r\nContent-Le", 3);
	httpstream__flush(s, 4);
	cr_assert_eq(c.n, 0);
	/* After flush the stream starts over. */
	feed_str(s, cl_resp, 5);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->flags, 0);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, starts_mid_message)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	struct httpstream_stats st;
	static const char tail[] =
		"unk\"}}]}\n\ndata: [DONE]\n\n\r\n0\r\n\r\n";

	feed_str(s, tail, 1);
	feed_str(s, cl_resp, 2);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->status, 404);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_RESYNCED);
	httpstream__stats(s, &st);
	cr_assert_eq(st.resyncs, 1);
	cr_assert_eq(st.bytes_skipped, strlen(tail));
	cr_assert_eq(st.parse_errors, 0);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, resync_after_garbage)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	struct httpstream_stats st;
	char buf[4096];

	/* A status line inside a body, not at a line start, is skipped. */
	snprintf(buf, sizeof(buf), "%s\x01\x02garbage HTTP/1.1 200 OK\r\n"
		 "more garbage\nGET /x HTTP/1.1\r\n\r\n", chat_req);
	feed_str(s, buf, 1);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[0]->flags, 0);
	cr_assert_str_eq(c.m[1]->method, "GET");
	cr_assert_eq(c.m[1]->flags, HTTP_MSG_RESYNCED);
	httpstream__stats(s, &st);
	cr_assert_eq(st.parse_errors, 1);
	cr_assert_eq(st.resyncs, 1);
	coll_free(&c);
	httpstream__free(s);

	/* A parse error in the body framing: INCOMPLETE, then resync. */
	s = new_stream(&c, 0, 0);
	feed_str(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhello\r\nzz\r\nHTTP/1.1 201 Created\r\n"
		    "Content-Length: 0\r\n\r\n", 2);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_INCOMPLETE);
	cr_assert_str_eq((char *)c.m[0]->body, "hello");
	cr_assert_eq(c.m[1]->status, 201);
	coll_free(&c);

	httpstream__free(s);

	/* Looks like a start line to us, http-parser says no: go on. */
	s = new_stream(&c, 0, 0);
	feed_str(s, "FOO / HTTP/1.1\r\n\r\nHTTP/1.1 202 Accepted\r\n"
		    "Content-Length: 0\r\n\r\n", 3);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->status, 202);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_RESYNCED);
	httpstream__stats(s, &st);
	cr_assert_eq(st.parse_errors, 1);
	cr_assert_eq(st.bytes_skipped, 18);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, gap_mid_body_and_mid_headers)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);

	feed_str(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nab", 1);
	cr_assert(httpstream__in_message(s));
	httpstream__gap(s, PROTO_GAP_RECORDS_LOST);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_INCOMPLETE);
	cr_assert_eq(c.m[0]->gap, PROTO_GAP_RECORDS_LOST);
	cr_assert_str_eq((char *)c.m[0]->body, "ab");
	cr_assert_not(httpstream__in_message(s));
	/* The next feed starts right at a message. */
	feed_str(s, cl_resp, 2);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[1]->flags, 0);
	cr_assert_eq(c.m[1]->gap, PROTO_GAP_NONE);
	coll_free(&c);

	feed_str(s, "HTTP/1.1 200 OK\r\nContent-Le", 3);
	httpstream__gap(s, PROTO_GAP_RECORDS_LOST);
	cr_assert_eq(c.n, 0);
	/* Lost bytes: the next feed starts mid-body. */
	feed_str(s, "ngth: 5\r\n\r\nhello", 4);
	feed_str(s, cl_resp, 5);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_RESYNCED);
	cr_assert_eq(c.m[0]->status, 404);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, header_limit)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 100);
	struct httpstream_stats st;
	char buf[4096];

	snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nX-Big: %0200d\r\n"
		 "Content-Length: 2\r\n\r\nhi", 0);
	feed_str(s, buf, 1);
	feed_str(s, cl_resp, 2);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->status, 404);
	httpstream__stats(s, &st);
	cr_assert_eq(st.parse_errors, 1);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, body_cap)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 10, 0);

	feed_str(s, "HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n"
		    "abcdefghijklm", 1);
	feed_str(s, "nopqrstuvwxyz", 2);
	feed_str(s, cl_resp, 3);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_TRUNCATED);
	cr_assert_eq(c.m[0]->body_len, 10);
	cr_assert_eq(c.m[0]->body_total, 26);
	cr_assert_str_eq((char *)c.m[0]->body, "abcdefghij");
	cr_assert_eq(c.m[0]->n_marks, 2);
	cr_assert_eq(c.m[0]->marks[1].body_off, 13);
	cr_assert_eq(c.m[1]->flags, 0);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, marks_are_bounded)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	size_t i;

	feed_str(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 1);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(httpstream__feed(s, "x", 1, 10 + i), 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->n_marks, HTTP_MAX_MARKS);
	cr_assert_eq(c.m[0]->marks[511].body_off, 511);
	cr_assert_eq(c.m[0]->marks[511].ts_ns, 10 + 511);
	cr_assert_eq(c.m[0]->ts_end, 10 + 999);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, continue_then_final)
{
	struct coll c;
	struct httpstream *rq = new_stream(&c, 0, 0), *rs;
	struct coll c2;

	/* The request body follows its header section after the 100. */
	feed_str(rq, "POST /v1/x HTTP/1.1\r\nExpect: 100-continue\r\n"
		     "Content-Length: 4\r\n\r\n", 1);
	cr_assert(httpstream__in_message(rq));
	feed_str(rq, "body", 3);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->ts_body, 3);
	cr_assert_str_eq((char *)c.m[0]->body, "body");

	rs = new_stream(&c2, 0, 0);
	feed_str(rs, "HTTP/1.1 100 Continue\r\n\r\n", 2);
	feed_str(rs, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 4);
	cr_assert_eq(c2.n, 2);
	cr_assert_eq(c2.m[0]->status, 100);
	cr_assert_eq(c2.m[0]->body_len, 0);
	cr_assert_eq(c2.m[1]->status, 200);
	cr_assert_str_eq((char *)c2.m[1]->body, "ok");
	coll_free(&c);
	coll_free(&c2);
	httpstream__free(rq);
	httpstream__free(rs);
}

Test(http, head_response)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);

	httpstream__expect_head_response(s);
	feed_str(s, "HTTP/1.1 100 Continue\r\n\r\n"
		    "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 1);
	feed_str(s, cl_resp, 2);
	cr_assert_eq(c.n, 3);
	cr_assert_eq(c.m[1]->status, 200);
	cr_assert_eq(c.m[1]->body_total, 0);
	cr_assert_eq(c.m[1]->ts_body, 0);
	cr_assert_eq(c.m[1]->flags, 0);
	cr_assert_str_eq((char *)c.m[2]->body, "nope!");
	coll_free(&c);
	httpstream__free(s);
}

Test(http, bodiless_statuses)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);

	feed_str(s, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
		    "HTTP/1.1 204 No Content\r\n\r\n", 1);
	feed_str(s, cl_resp, 2);
	cr_assert_eq(c.n, 3);
	cr_assert_eq(c.m[0]->body_total, 0);
	cr_assert_eq(c.m[1]->body_total, 0);
	cr_assert_eq(c.m[2]->body_total, 5);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, http2_is_not_http1)
{
	static const unsigned char settings[] = {
		0, 0, 12, 4, 0, 0, 0, 0, 0,
		0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0,
	};
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);

	feed_str(s, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 1);
	cr_assert(httpstream__not_http1(s));
	feed_str(s, cl_resp, 2);
	cr_assert_eq(c.n, 0);
	httpstream__free(s);

	/* Split preface. */
	s = new_stream(&c, 0, 0);
	feed_str(s, "PRI * HT", 1);
	cr_assert_not(httpstream__not_http1(s));
	feed_str(s, "TP/2.0\r\n\r\nSM\r\n\r\n", 1);
	cr_assert(httpstream__not_http1(s));
	httpstream__free(s);

	/* The server side starts with a SETTINGS frame. */
	s = new_stream(&c, 0, 0);
	cr_assert_eq(httpstream__feed(s, settings, 4, 1), 0);
	cr_assert_not(httpstream__not_http1(s));
	cr_assert_eq(httpstream__feed(s, settings + 4, sizeof(settings) - 4,
				      1), 0);
	cr_assert(httpstream__not_http1(s));
	httpstream__free(s);
}

Test(http, switching_protocols)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);

	feed_str(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade\r\n\r\n\x81\x05hello", 1);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->status, 101);
	cr_assert(httpstream__not_http1(s));
	coll_free(&c);
	httpstream__free(s);

	/* The request asking for it goes on as HTTP. */
	s = new_stream(&c, 0, 0);
	feed_str(s, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade\r\n\r\n", 1);
	feed_str(s, chat_req, 2);
	cr_assert_eq(c.n, 2);
	cr_assert_not(httpstream__not_http1(s));
	cr_assert_eq(c.m[1]->body_len, 29);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, more_after_connection_close)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	struct httpstream_stats st;

	feed_str(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		    "Content-Length: 1\r\n\r\nx", 1);
	feed_str(s, cl_resp, 2);
	cr_assert_eq(c.n, 2);
	httpstream__stats(s, &st);
	cr_assert_eq(st.parse_errors, 0);
	coll_free(&c);
	httpstream__free(s);
}

Test(http, resync_buffer_is_bounded)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	struct httpstream_stats st;
	char *big = malloc(100000);
	size_t i;

	/* A line that keeps looking like a request-target, forever. */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 100000 - 5);
	for (i = 0; i < 10; i++)
		cr_assert_eq(httpstream__feed(s, big, 100000, 1), 0);
	feed_str(s, "\r\n", 1);
	feed_str(s, cl_resp, 2);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_RESYNCED);
	httpstream__stats(s, &st);
	cr_assert_eq(st.bytes_skipped, 1000002);
	coll_free(&c);
	httpstream__free(s);
	free(big);
}

Test(http, free_mid_message_and_null)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);
	struct httpstream_stats st;

	feed_str(s, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab", 1);
	httpstream__free(s);
	cr_assert_eq(c.n, 0);
	httpstream__free(NULL);
	http_msg__free(NULL);
	httpstream__stats(NULL, &st);
	cr_assert_eq(st.messages, 0);
	cr_assert_null(http_msg__header(NULL, "x"));
	cr_assert_eq(httpstream__new(&s, NULL, NULL, NULL), -EINVAL);
}

Test(http, bare_lf_and_http10)
{
	struct coll c;
	struct httpstream *s = new_stream(&c, 0, 0);

	feed_str(s, "GET /a HTTP/1.0\nHost: x\n\n", 1);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->http_minor, 0);
	cr_assert_str_eq(http_msg__header(c.m[0], "host"), "x");
	coll_free(&c);
	httpstream__free(s);
}

/* Random garbage and messages in random pieces: no crash, no overrun. */
Test(http, random_garbage_survives)
{
	static const char *const pieces[] = {
		chat_req, chunked_resp, cl_resp, "HTTP/1.1 1", "GET / HT",
		"\r\n", "\n\n", "0\r\n\r\n", "PRI * HTTP/2.1\r\n",
		"Content-Length: 99999999999999999999\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
	};
	struct httpstream_stats st;
	unsigned seed = 12345;
	struct httpstream *s;
	struct coll c;
	char buf[512];
	size_t i, j, n;

	s = new_stream(&c, 64, 256);
	for (i = 0; i < 20000; i++) {
		if (rand_r(&seed) % 3) {
			const char *p = pieces[rand_r(&seed) % 11];

			n = strlen(p);
			j = rand_r(&seed) % (n + 1);
			cr_assert_eq(httpstream__feed(s, p, j, i), 0);
			cr_assert_eq(httpstream__feed(s, p + j, n - j, i), 0);
		} else {
			n = rand_r(&seed) % sizeof(buf);
			for (j = 0; j < n; j++)
				buf[j] = (char)rand_r(&seed);
			cr_assert_eq(httpstream__feed(s, buf, n, i), 0);
		}
		if (rand_r(&seed) % 50 == 0)
			httpstream__gap(s, PROTO_GAP_RECORDS_LOST);
		if (rand_r(&seed) % 200 == 0)
			httpstream__flush(s, i);
		for (j = 0; j < c.n; j++) {
			cr_assert_leq(c.m[j]->body_len, 64);
			cr_assert_leq(c.m[j]->body_len, c.m[j]->body_total);
		}
		coll_free(&c);
		cr_assert_not(httpstream__not_http1(s));
	}
	httpstream__stats(s, &st);
	cr_assert_gt(st.messages, 1000);
	cr_assert_gt(st.parse_errors, 0);
	httpstream__free(s);
}

/*
 * The body buffer is sized from Content-Length up front: a body that
 * arrives in TLS-record-sized reads, one whose length is over the cap,
 * and one that claims more than it sends all keep exactly their bytes.
 */
Test(http, body_sized_from_content_length)
{
	static char body[100000];
	char hdr[128];
	struct coll c;
	struct httpstream *s;
	size_t i, n;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (char)('a' + i % 26);
	n = (size_t)snprintf(hdr, sizeof(hdr),
			     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
			     sizeof(body));
	s = new_stream(&c, 0, 0);
	feed_str(s, hdr, 1);
	for (i = 0; i < sizeof(body); i += 16384) {
		n = sizeof(body) - i < 16384 ? sizeof(body) - i : 16384;
		cr_assert_eq(httpstream__feed(s, body + i, n, 2), 0);
	}
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->body_len, sizeof(body));
	cr_assert_eq(memcmp(c.m[0]->body, body, sizeof(body)), 0);
	cr_assert_eq(c.m[0]->body[sizeof(body)], '\0');
	coll_free(&c);
	httpstream__free(s);

	s = new_stream(&c, 50000, 0);
	feed_str(s, hdr, 1);
	cr_assert_eq(httpstream__feed(s, body, sizeof(body), 2), 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0]->flags, HTTP_MSG_TRUNCATED);
	cr_assert_eq(c.m[0]->body_len, 50000);
	cr_assert_eq(memcmp(c.m[0]->body, body, 50000), 0);
	coll_free(&c);
	httpstream__free(s);

	/* A claim far past what comes: only what came is kept. */
	s = new_stream(&c, 0, 0);
	feed_str(s, "HTTP/1.1 200 OK\r\nContent-Length: 3000000000\r\n\r\n"
		    "partial", 1);
	httpstream__flush(s, 3);
	cr_assert_eq(c.n, 1);
	cr_assert(c.m[0]->flags & HTTP_MSG_INCOMPLETE);
	cr_assert_eq(c.m[0]->body_len, 7);
	cr_assert_str_eq((char *)c.m[0]->body, "partial");
	coll_free(&c);
	httpstream__free(s);
}

/* ---- the "http1" entry of the protocol table (proto/proto.h) ---- */

static void *new_http1(struct coll *c)
{
	struct proto_limits lim = { 0 };
	void *st;

	memset(c, 0, sizeof(*c));
	cr_assert_eq(proto_http1.new(&st, &lim, collect, c), 0);
	return st;
}

static void feed_dir(void *st, enum proto_dir dir, const char *str,
		     uint64_t ts)
{
	cr_assert_eq(proto_http1.feed(st, dir, str, strlen(str), ts), 0);
}

Test(http1, is_chosen_for_any_first_bytes_but_a_client_preface)
{
	static const unsigned char h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	cr_assert_eq(proto__select(PROTO_DIR_WRITE, chat_req,
				   sizeof(chat_req) - 1), &proto_http1);
	cr_assert_eq(proto__select(PROTO_DIR_READ, "\x01\x02", 2),
		     &proto_http1);
	/* A client preface selects http2, written or read (server end). */
	cr_assert_neq(proto__select(PROTO_DIR_READ, h2, sizeof(h2) - 1),
		      &proto_http1);
	cr_assert_str_eq(proto_http1.name, "http1");
}

Test(http1, messages_carry_direction_and_authority)
{
	struct proto_stats pst;
	struct coll c;
	void *st = new_http1(&c);

	feed_dir(st, PROTO_DIR_WRITE, chat_req, 1);
	feed_dir(st, PROTO_DIR_READ, cl_resp, 2);
	cr_assert_eq(c.n, 2);
	cr_assert(c.m[0]->is_request);
	cr_assert_eq(c.m[0]->dir, PROTO_DIR_WRITE);
	cr_assert_str_eq(c.m[0]->authority, "api.openai.com");
	cr_assert_eq(c.m[0]->gap, PROTO_GAP_NONE);
	cr_assert_not(c.m[1]->is_request);
	cr_assert_eq(c.m[1]->dir, PROTO_DIR_READ);
	cr_assert_null(c.m[1]->authority);
	proto_http1.stats(st, &pst);
	cr_assert_eq(pst.messages, 2);
	cr_assert_eq(pst.parse_errors, 0);
	cr_assert_not(proto_http1.ignored(st));
	coll_free(&c);
	proto_http1.free(st);
}

/* The gap's reason is the message's own, per direction. */
Test(http1, gap_reason_goes_with_the_incomplete_message)
{
	struct coll c;
	void *st = new_http1(&c);

	feed_dir(st, PROTO_DIR_WRITE, chat_req, 1);
	feed_dir(st, PROTO_DIR_READ,
		 "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nab", 2);
	cr_assert(proto_http1.in_message(st));
	/* Nothing in progress on this direction: nothing to say. */
	proto_http1.gap(st, PROTO_DIR_WRITE, PROTO_GAP_RECORDS_LOST);
	cr_assert_eq(c.n, 1);
	proto_http1.gap(st, PROTO_DIR_READ, PROTO_GAP_READ_FAULT);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[1]->dir, PROTO_DIR_READ);
	cr_assert_eq(c.m[1]->flags, HTTP_MSG_INCOMPLETE);
	cr_assert_eq(c.m[1]->gap, PROTO_GAP_READ_FAULT);
	cr_assert_not(proto_http1.in_message(st));
	/* Incomplete without a gap (flush): no reason. */
	feed_dir(st, PROTO_DIR_WRITE, "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n",
		 3);
	proto_http1.flush(st, PROTO_DIR_WRITE, 4);
	cr_assert_eq(c.n, 3);
	cr_assert_eq(c.m[2]->flags, HTTP_MSG_INCOMPLETE);
	cr_assert_eq(c.m[2]->gap, PROTO_GAP_NONE);
	coll_free(&c);
	proto_http1.free(st);
}

Test(http1, head_request_makes_the_response_bodiless)
{
	struct coll c;
	void *st = new_http1(&c);

	feed_dir(st, PROTO_DIR_WRITE, "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", 1);
	feed_dir(st, PROTO_DIR_READ,
		 "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", 2);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[1]->status, 200);
	cr_assert_eq(c.m[1]->body_total, 0);
	cr_assert_eq(c.m[1]->flags, 0);
	cr_assert_not(proto_http1.in_message(st));
	coll_free(&c);
	proto_http1.free(st);
}

Test(http1, http2_and_101_make_it_ignored)
{
	static const char settings[] = "\x00\x00\x06\x04\x00\x00\x00\x00\x00"
				       "\x00\x03\x00\x00\x00\x64";
	struct coll c;
	void *st = new_http1(&c);

	cr_assert_eq(proto_http1.feed(st, PROTO_DIR_READ, settings,
				      sizeof(settings) - 1, 1), 0);
	cr_assert(proto_http1.ignored(st));
	coll_free(&c);
	proto_http1.free(st);

	st = new_http1(&c);
	feed_dir(st, PROTO_DIR_WRITE, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\n\r\n", 1);
	cr_assert_not(proto_http1.ignored(st));
	feed_dir(st, PROTO_DIR_READ, "HTTP/1.1 101 Switching Protocols\r\n\r\n"
		 "\x81\x05hello", 2);
	cr_assert(proto_http1.ignored(st));
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[1]->status, 101);
	coll_free(&c);
	proto_http1.free(st);
	proto_http1.free(NULL);
}

Test(http1, starts_request)
{
	static const char *const yes[] = {
		"GET / HTTP/1.1\r\n", "POST /v1/x?y=1 HTTP/1.0\n",
	};
	static const char *const no[] = {
		"GET / HTTP/1.1", "HTTP/1.1 200 OK\r\n", "get / HTTP/1.1\r\n",
		"M-SEARCH * HTTP/1.1\r\n", "GET  HTTP/1.1\r\n",
		"PRI * HTTP/2.0\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(proto_http1.starts_request(NULL, PROTO_DIR_WRITE,
						     yes[i], strlen(yes[i])),
			  "%s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert_not(proto_http1.starts_request(NULL, PROTO_DIR_WRITE,
							 no[i], strlen(no[i])),
			      "%s", no[i]);
}
