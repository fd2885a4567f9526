// SPDX-License-Identifier: MIT
/*
 * Bad input through the replay seam: capture records built here are fed
 * to pipeline__feed() exactly as the ring buffer delivers them, and every
 * line of the events file is read back and checked: valid UTF-8 (checked
 * here, independently of lib/utf8.c), no raw control characters, valid JSON
 * (cJSON).  Each test is one way real traffic or a real capture goes
 * wrong: garbage, pipelining, a connection first seen mid-stream, a body
 * cut short, decompression bombs, invalid UTF-8 and NUL bytes, a flood of
 * connections, a PID or an SSL* reused for something new.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <brotli/encode.h>
#include <cjson/cJSON.h>

#include "gzip.h"
#include "jsonpath.h"
#include <zlib.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "capture_abi.h"
#include "event/event.h"
#include "event/output.h"
#include "pipeline/pipeline.h"
#include "ai/rules.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MAX_EVENTS 64

struct fix {
	char path[64];
	struct rules *rules;
	struct output *out;
	struct event_host host;
	struct pipeline *pl;
	uint64_t call_id;
	uint64_t ts;
	cJSON *ev[MAX_EVENTS];
	int n;			/* events kept in ev[] */
	size_t lines;		/* lines in the file */
};

static struct fix F;

struct fix_opts {
	bool ai_only;
	size_t max_body;
	size_t max_conns;
};

static void fix_open_opts(const struct fix_opts *fo)
{
	struct pipeline_opts po;
	char err[256];
	int fd;

	memset(&F, 0, sizeof(F));
	strcpy(F.path, "/tmp/oisp-test-badinput-XXXXXX");
	fd = mkstemp(F.path);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(rules__load_default(&F.rules, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(output__open(&F.out, F.path, err, sizeof(err)), 0);
	cr_assert_eq(event__host_load(&F.host), 0);
	po = (struct pipeline_opts){
		.rules = F.rules, .out = F.out, .host = &F.host,
		.realtime_offset_ns = 1700000000ULL * 1000000000ULL,
		.ai_only = fo->ai_only,
		.max_body_bytes = fo->max_body ? fo->max_body : 1 << 20,
		.max_connections = fo->max_conns ? fo->max_conns : 8,
		.idle_timeout_ns = 5000000000ULL,
	};
	cr_assert_eq(pipeline__new(&F.pl, &po), 0);
	F.ts = 1000000000ULL;
}

static void fix_open(void)
{
	struct fix_opts fo = { .ai_only = true };

	fix_open_opts(&fo);
}

static void fix_close(void)
{
	int i;

	pipeline__free(F.pl);
	output__close(F.out);
	rules__free(F.rules);
	for (i = 0; i < F.n; i++)
		cJSON_Delete(F.ev[i]);
	unlink(F.path);
}

static void data_rec(uint32_t tgid, uint64_t ssl, int dir, uint64_t call_id,
		     uint32_t call_len, uint32_t off, const void *buf,
		     size_t n, uint32_t flags)
{
	static struct cap_data d;

	memset(&d, 0, CAP_DATA_HDR_SIZE);
	d.hdr.kind = CAP_KIND_DATA;
	d.hdr.tgid = tgid;
	d.hdr.tid = tgid;
	d.hdr.uid = 1000;
	d.hdr.ts_ns = F.ts;
	strcpy(d.hdr.comm, "client");
	d.conn = ssl;
	d.call_id = call_id;
	d.dir = (uint32_t)dir;
	d.flags = flags;
	d.call_len = call_len;
	d.offset = off;
	d.len = (uint32_t)n;
	memcpy(d.data, buf, n);
	cr_assert_eq(pipeline__feed(F.pl, &d, CAP_DATA_HDR_SIZE + n), 0);
}

/* One SSL call of @len bytes, split into ring-buffer-sized records. */
static void call(uint32_t tgid, uint64_t ssl, int dir, const void *buf,
		 size_t len)
{
	const char *b = buf;
	size_t off, n;

	F.call_id++;
	F.ts += 1000000;	/* 1 ms per call */
	for (off = 0; off < len; off += n) {
		n = len - off > CAP_CHUNK_MAX ? CAP_CHUNK_MAX : len - off;
		data_rec(tgid, ssl, dir, F.call_id, (uint32_t)len,
			 (uint32_t)off, b + off, n, 0);
	}
}

static void callstr(uint32_t tgid, uint64_t ssl, int dir, const char *s)
{
	call(tgid, ssl, dir, s, strlen(s));
}

static void proc_rec(uint32_t kind, uint32_t tgid)
{
	struct cap_proc r = { 0 };

	r.hdr.kind = kind;
	r.hdr.tgid = tgid;
	F.ts += 1000000;
	r.hdr.ts_ns = F.ts;
	cr_assert_eq(pipeline__feed(F.pl, &r, sizeof(r)), 0);
}

/* SSL_free(@ssl) in process @tgid. */
static void free_rec(uint32_t tgid, uint64_t ssl)
{
	struct cap_free r = { 0 };

	r.hdr.kind = CAP_KIND_FREE;
	r.hdr.tgid = tgid;
	F.ts += 1000000;
	r.hdr.ts_ns = F.ts;
	r.conn = ssl;
	cr_assert_eq(pipeline__feed(F.pl, &r, sizeof(r)), 0);
}

/*
 * Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past
 * U+10FFFF, no truncated sequences.  Written independently of lib/utf8.c.
 */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
		} else {
			return false;
		}
		if (i + need >= n)
			return false;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

/*
 * Reads the whole events file back: every line must be valid UTF-8,
 * free of raw control characters and valid JSON.  The first MAX_EVENTS
 * are kept in F.ev.
 */
static void read_events(void)
{
	FILE *f = fopen(F.path, "r");
	char *line = NULL;
	size_t cap = 0, i;
	ssize_t len;
	cJSON *ev;

	cr_assert(f);
	for (i = 0; i < (size_t)F.n; i++)
		cJSON_Delete(F.ev[i]);
	F.n = 0;
	F.lines = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		cr_assert_eq(line[len - 1], '\n', "line without LF");
		len--;
		cr_assert(utf8_ok((unsigned char *)line, (size_t)len),
			  "line %zu is not valid UTF-8", F.lines);
		for (i = 0; i < (size_t)len; i++)
			cr_assert_geq((unsigned char)line[i], 0x20,
				      "raw control byte in line %zu", F.lines);
		ev = cJSON_ParseWithLength(line, (size_t)len);
		cr_assert(ev, "line %zu is not JSON", F.lines);
		cr_assert(cJSON_IsString(cJSON_GetObjectItem(ev, "event_type")));
		F.lines++;
		if (F.n < MAX_EVENTS)
			F.ev[F.n++] = ev;
		else
			cJSON_Delete(ev);
	}
	free(line);
	fclose(f);
}

static bool has_reason(const cJSON *ev, const char *reason)
{
	const cJSON *r, *rs = get(ev, "confidence.reasons");

	cJSON_ArrayForEach(r, rs)
		if (cJSON_IsString(r) && strcmp(r->valuestring, reason) == 0)
			return true;
	return false;
}

static void assert_pair(int req, int resp)
{
	cr_assert_str_eq(str(F.ev[req], "event_type"), "ai.request");
	cr_assert_str_eq(str(F.ev[resp], "event_type"), "ai.response");
	cr_assert_str_eq(str(F.ev[resp], "data.request_id"),
			 str(F.ev[req], "data.request_id"),
			 "response %d does not answer request %d", resp, req);
	cr_assert_str_eq(str(F.ev[resp], "related_events.0.event_id"),
			 str(F.ev[req], "event_id"));
}

static void assert_complete(int i)
{
	cr_assert_str_eq(str(F.ev[i], "confidence.completeness"), "full",
			 "event %d is not complete", i);
}

static void assert_partial(int i)
{
	cr_assert_str_eq(str(F.ev[i], "confidence.completeness"), "partial",
			 "event %d is not partial", i);
}

/* A chat request for @model: the model tells requests apart. */
static size_t chat_req(char *buf, size_t size, const char *model)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"Hello\"}]}", model);
	return (size_t)snprintf(buf, size,
				"POST /v1/chat/completions HTTP/1.1\r\n"
				"Host: api.openai.com\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: %zu\r\n\r\n%s",
				strlen(body), body);
}

/* A chat response whose reply is @reply: the reply tells them apart. */
static size_t chat_resp(char *buf, size_t size, const char *reply)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"m\","
		 "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
		 "\"content\":\"%s\"},\"finish_reason\":\"stop\"}],"
		 "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
		 "\"total_tokens\":2}}", reply);
	return (size_t)snprintf(buf, size,
				"HTTP/1.1 200 OK\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: %zu\r\n\r\n%s",
				strlen(body), body);
}

static void request(uint32_t tgid, uint64_t ssl, const char *model)
{
	char buf[1024];

	call(tgid, ssl, CAP_DIR_WRITE, buf, chat_req(buf, sizeof(buf), model));
}

static void response(uint32_t tgid, uint64_t ssl, const char *reply)
{
	char buf[1024];

	call(tgid, ssl, CAP_DIR_READ, buf, chat_resp(buf, sizeof(buf), reply));
}

static const char *reply_of(int i)
{
	return str(F.ev[i], "data.choices.0.message.content");
}

static struct pipeline_stats stats(void)
{
	struct pipeline_stats st;

	pipeline__stats(F.pl, &st);
	return st;
}

/* ---- malformed HTTP ---- */

/* Garbage of many shapes, then a real exchange: only that is reported. */
Test(badinput, garbage_start_lines_resync)
{
	static const char *const garbage[] = {
		"GARBAGE LINE\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
		"get /lower HTTP/1.1\r\n\r\n",
		"POST /v1/chat/completions HTTP/1.1 extra\r\n\r\n",
		"POST /v1/chat/completions HTTP/1.1\r\nno colon here\r\n\r\n",
		"POST /v1/chat/completions HTTP/1.1\r\nHost api.openai.com\r\n"
		"Content-Length: -5\r\n\r\n",
		"POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
		"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
		"\r\n\r\n\n\n\r\r",
		"HTTP/1.1 2OO OK\r\n\r\n",
	};
	char big[20000];
	size_t i;

	fix_open();
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		callstr(100, 0x1, CAP_DIR_WRITE, garbage[i]);
	/* A line longer than the resync buffer, never ended. */
	memset(big, 'A', sizeof(big));
	call(100, 0x1, CAP_DIR_WRITE, big, sizeof(big));
	request(100, 0x1, "after-garbage");
	callstr(100, 0x1, CAP_DIR_READ, "HTTP/1.1 2OO OK\r\n\r\n\x01\x02\xff");
	callstr(100, 0x1, CAP_DIR_READ, "HTTP/1.1 99 Too short\r\n\r\n");
	response(100, 0x1, "ok");
	read_events();
	cr_assert_eq(F.lines, 2, "got %zu events", F.lines);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "after-garbage");
	assert_pair(0, 1);
	cr_assert_str_eq(reply_of(1), "ok");
	assert_complete(0);
	assert_complete(1);
	fix_close();
}

/* Garbage glued to a real request in the same record. */
Test(badinput, garbage_in_same_record_as_request)
{
	char buf[2048];
	size_t n;

	fix_open();
	memcpy(buf, "\x00\xff junk\r\n", 9);
	n = 9;
	n += chat_req(buf + n, sizeof(buf) - n, "glued");
	memcpy(buf + n, "\x00\x00\xfe trailing junk\r\n", 20);
	n += 20;
	call(100, 0x2, CAP_DIR_WRITE, buf, n);
	response(100, 0x2, "fine");
	read_events();
	cr_assert_eq(F.lines, 2);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "glued");
	assert_pair(0, 1);
	fix_close();
}

/* Bad chunk sizes: the response is cut (partial), the next one pairs. */
Test(badinput, bad_chunk_sizes)
{
	struct pipeline_stats st;

	fix_open();
	request(100, 0x3, "first");
	callstr(100, 0x3, CAP_DIR_READ,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"a\":1}\r\n0\r\n\r\n");
	request(100, 0x3, "second");
	callstr(100, 0x3, CAP_DIR_READ,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"fffffffffffffffffffffffff\r\nxx\r\n0\r\n\r\n");
	request(100, 0x3, "third");
	callstr(100, 0x3, CAP_DIR_READ,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\n\r\n-1\r\nxx\r\n0\r\n\r\n");
	request(100, 0x3, "fourth");
	response(100, 0x3, "good");
	read_events();
	cr_assert_eq(F.lines, 8, "got %zu events", F.lines);
	assert_pair(0, 1);
	assert_partial(1);
	cr_assert(has_reason(F.ev[1], "message_incomplete"));
	assert_pair(2, 3);
	assert_partial(3);
	assert_pair(4, 5);
	assert_partial(5);
	assert_pair(6, 7);
	assert_complete(7);
	cr_assert_str_eq(reply_of(7), "good");
	st = stats();
	cr_assert_geq(st.parse_errors, 3);
	fix_close();
}

/*
 * A header section over the limit (64 KiB) is refused: no event, the
 * memory it may take is bounded, and the stream goes on.
 */
Test(badinput, header_overflow)
{
	size_t size = 256 * 1024, n, i;
	char *buf = malloc(size);
	struct pipeline_stats st;

	cr_assert(buf);
	fix_open();
	n = (size_t)sprintf(buf, "POST /v1/chat/completions HTTP/1.1\r\n"
			    "Host: api.openai.com\r\n");
	for (i = 0; n < size - 2048; i++)
		n += (size_t)sprintf(buf + n, "X-Pad-%zu: %0900d\r\n", i, 7);
	n += (size_t)sprintf(buf + n, "Content-Length: 2\r\n\r\n{}");
	call(100, 0x4, CAP_DIR_WRITE, buf, n);
	/* Its response has no request to pair with: counted, not written. */
	response(100, 0x4, "orphan");
	/* One header line alone longer than the limit, on its own. */
	n = (size_t)sprintf(buf, "POST /v1/chat/completions HTTP/1.1\r\n"
			    "X-Big: ");
	memset(buf + n, 'v', 100000);
	n += 100000;
	n += (size_t)sprintf(buf + n, "\r\nContent-Length: 0\r\n\r\n");
	call(100, 0x4, CAP_DIR_WRITE, buf, n);
	request(100, 0x4, "after-overflow");
	response(100, 0x4, "fine");
	read_events();
	cr_assert_eq(F.lines, 2, "got %zu events", F.lines);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "after-overflow");
	assert_pair(0, 1);
	cr_assert_str_eq(reply_of(1), "fine");
	st = stats();
	cr_assert_geq(st.parse_errors, 2);
	cr_assert_eq(st.unpaired_responses, 1);
	free(buf);
	fix_close();
}

/* NUL bytes in header names and values. */
Test(badinput, nul_bytes_in_headers)
{
	static const char nul_value[] =
		"POST /v1/chat/completions HTTP/1.1\r\n"
		"Host: api.openai.com\0evil.example\r\n"
		"Content-Length: 2\r\n\r\n{}";
	static const char nul_name[] =
		"POST /v1/chat/completions HTTP/1.1\r\n"
		"Ho\0st: api.openai.com\r\n"
		"Content-Length: 2\r\n\r\n{}";
	static const char nul_target[] =
		"POST /v1/chat\0/completions HTTP/1.1\r\n"
		"Host: api.openai.com\r\nContent-Length: 2\r\n\r\n{}";
	static const char nul_resp[] =
		"HTTP/1.1 200 OK\r\nContent-Type: appli\0cation/json\r\n"
		"Content-Length: 2\r\n\r\n{}";
	size_t i;

	fix_open();
	call(100, 0x5, CAP_DIR_WRITE, nul_value, sizeof(nul_value) - 1);
	call(100, 0x5, CAP_DIR_WRITE, nul_name, sizeof(nul_name) - 1);
	call(100, 0x5, CAP_DIR_WRITE, nul_target, sizeof(nul_target) - 1);
	call(100, 0x5, CAP_DIR_READ, nul_resp, sizeof(nul_resp) - 1);
	request(100, 0x6, "clean");
	response(100, 0x6, "clean-reply");
	read_events();
	/* Whatever the NUL requests gave, nothing holds a NUL or "evil". */
	for (i = 0; i < (size_t)F.n; i++) {
		char *s = cJSON_PrintUnformatted(F.ev[i]);

		cr_assert_null(strstr(s, "evil"));
		cr_assert_null(strstr(s, "\\u0000"));
		free(s);
	}
	cr_assert_geq(F.n, 2);
	cr_assert_str_eq(str(F.ev[F.n - 2], "data.model.id"), "clean");
	assert_pair(F.n - 2, F.n - 1);
	assert_complete(F.n - 1);
	fix_close();
}

/* ---- pipelining ---- */

/* Three requests in one record, three responses in one record. */
Test(badinput, pipelined_in_one_record)
{
	char buf[8192];
	size_t n = 0;

	fix_open();
	n += chat_req(buf + n, sizeof(buf) - n, "p1");
	n += chat_req(buf + n, sizeof(buf) - n, "p2");
	n += chat_req(buf + n, sizeof(buf) - n, "p3");
	call(100, 0x7, CAP_DIR_WRITE, buf, n);
	n = 0;
	n += chat_resp(buf + n, sizeof(buf) - n, "r1");
	n += chat_resp(buf + n, sizeof(buf) - n, "r2");
	n += chat_resp(buf + n, sizeof(buf) - n, "r3");
	call(100, 0x7, CAP_DIR_READ, buf, n);
	read_events();
	cr_assert_eq(F.lines, 6);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "p1");
	cr_assert_str_eq(str(F.ev[1], "data.model.id"), "p2");
	cr_assert_str_eq(str(F.ev[2], "data.model.id"), "p3");
	assert_pair(0, 3);
	assert_pair(1, 4);
	assert_pair(2, 5);
	cr_assert_str_eq(reply_of(3), "r1");
	cr_assert_str_eq(reply_of(4), "r2");
	cr_assert_str_eq(reply_of(5), "r3");
	cr_assert_str_eq(str(F.ev[5], "data.model.id"), "m");
	fix_close();
}

/* The same, with the calls cut at arbitrary places (7-byte calls). */
Test(badinput, pipelined_split_anywhere)
{
	char buf[8192];
	size_t n = 0, off, k;

	fix_open();
	n += chat_req(buf + n, sizeof(buf) - n, "s1");
	n += chat_req(buf + n, sizeof(buf) - n, "s2");
	for (off = 0; off < n; off += k) {
		k = n - off < 7 ? n - off : 7;
		call(100, 0x8, CAP_DIR_WRITE, buf + off, k);
	}
	n = 0;
	n += chat_resp(buf + n, sizeof(buf) - n, "t1");
	n += chat_resp(buf + n, sizeof(buf) - n, "t2");
	for (off = 0; off < n; off += k) {
		k = n - off < 7 ? n - off : 7;
		call(100, 0x8, CAP_DIR_READ, buf + off, k);
	}
	read_events();
	cr_assert_eq(F.lines, 4);
	assert_pair(0, 2);
	assert_pair(1, 3);
	cr_assert_str_eq(reply_of(2), "t1");
	cr_assert_str_eq(reply_of(3), "t2");
	assert_complete(2);
	assert_complete(3);
	fix_close();
}

/* ---- a connection seen mid-stream ---- */

/*
 * The sensor starts while a connection is inside a request body and a
 * chunked SSE response: it resyncs at the next message and writes no
 * event for what it only saw the end of.
 */
Test(badinput, mid_stream_resyncs_at_next_message)
{
	struct pipeline_stats st;

	fix_open();
	callstr(100, 0x9, CAP_DIR_WRITE,
		"e\",\"content\":\"tail of an earlier body\"}]}");
	callstr(100, 0x9, CAP_DIR_READ,
		"1f\r\ndata: {\"choices\":[{\"x\":1}]}\n\n\r\n");
	callstr(100, 0x9, CAP_DIR_READ, "0\r\n\r\n");
	/* Body bytes that look like header lines are not a message. */
	callstr(100, 0x9, CAP_DIR_READ, "Content-Length: 5\r\n\r\nhello");
	request(100, 0x9, "after-mid-stream");
	response(100, 0x9, "answer");
	read_events();
	cr_assert_eq(F.lines, 2, "got %zu events", F.lines);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "after-mid-stream");
	assert_pair(0, 1);
	assert_complete(0);
	assert_complete(1);
	st = stats();
	cr_assert_eq(st.unpaired_responses, 0);
	fix_close();
}

/* First seen: a whole response whose request came before: not paired. */
Test(badinput, mid_stream_response_without_request)
{
	struct pipeline_stats st;

	fix_open();
	response(100, 0xa, "orphan");
	request(100, 0xa, "next");
	response(100, 0xa, "paired");
	read_events();
	cr_assert_eq(F.lines, 2);
	assert_pair(0, 1);
	cr_assert_str_eq(reply_of(1), "paired");
	st = stats();
	cr_assert_eq(st.unpaired_responses, 1);
	fix_close();
}

/* ---- a body declared longer than what arrives ---- */

static void long_declared_request(uint64_t ssl, const char *cl)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
		 "Content-Length: %s\r\n\r\n{\"model\":\"cut\",\"messages\":[",
		 cl);
	callstr(100, ssl, CAP_DIR_WRITE, buf);
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	cr_assert(f);
	cr_assert_eq(fscanf(f, "%ld %ld", &pages, &rss), 2);
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The process exits: the request is written as partial, nothing hangs. */
Test(badinput, short_body_flushed_on_exit)
{
	long before = rss_kib();
	struct pipeline_stats st;

	fix_open();
	long_declared_request(0xb, "1000000000000");
	read_events();
	cr_assert_eq(F.lines, 0);
	proc_rec(CAP_KIND_EXIT, 100);
	read_events();
	cr_assert_eq(F.lines, 1);
	assert_partial(0);
	cr_assert(has_reason(F.ev[0], "message_incomplete"));
	st = stats();
	cr_assert_eq(st.connections, 0);
	/* Nothing was reserved for the declared terabyte. */
	if (!UNDER_ASAN && !RUNNING_ON_VALGRIND)
		cr_assert_lt(rss_kib() - before, 16 * 1024);
	fix_close();
}

/* The response is cut and the connection goes idle: flushed by tick. */
Test(badinput, short_response_flushed_when_idle)
{
	struct pipeline_stats st;

	fix_open();
	request(100, 0xc, "waits");
	callstr(100, 0xc, CAP_DIR_READ,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: 100000\r\n\r\n{\"choices\":[");
	pipeline__tick(F.pl, F.ts + 1000000000ULL);
	st = stats();
	cr_assert_eq(st.connections, 1);
	pipeline__tick(F.pl, F.ts + 6000000000ULL);
	st = stats();
	cr_assert_eq(st.connections, 0);
	cr_assert_eq(st.connections_idle, 1);
	read_events();
	cr_assert_eq(F.lines, 2);
	assert_pair(0, 1);
	assert_partial(1);
	cr_assert_eq(num(F.ev[1], "data.status_code"), 200);
	fix_close();
}

/* Content-Length values http-parser must refuse, then a good exchange. */
Test(badinput, absurd_content_lengths)
{
	fix_open();
	long_declared_request(0xd, "99999999999999999999999");
	long_declared_request(0xd, "18446744073709551615");
	long_declared_request(0xd, "0x10");
	long_declared_request(0xd, "1 2");
	request(100, 0xd, "sane");
	response(100, 0xd, "sane-reply");
	pipeline__flush(F.pl);
	read_events();
	cr_assert_geq(F.lines, 2);
	cr_assert_str_eq(str(F.ev[F.n - 2], "data.model.id"), "sane");
	assert_pair(F.n - 2, F.n - 1);
	assert_complete(F.n - 1);
	fix_close();
}

/* A body much larger than max_body: kept bounded, marked truncated. */
Test(badinput, body_over_limit_is_bounded)
{
	struct fix_opts fo = { .ai_only = true, .max_body = 64 * 1024 };
	size_t total = 4u << 20, off, k;
	char hdr[256], *chunk = malloc(CAP_CHUNK_MAX);
	struct pipeline_stats st;
	long before;

	cr_assert(chunk);
	memset(chunk, ' ', CAP_CHUNK_MAX);
	fix_open_opts(&fo);
	before = rss_kib();
	request(100, 0xe, "big-answer");
	callstr(100, 0xe, CAP_DIR_READ, (snprintf(hdr, sizeof(hdr),
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\n\r\n", total), hdr));
	for (off = 0; off < total; off += k) {
		k = total - off < CAP_CHUNK_MAX ? total - off : CAP_CHUNK_MAX;
		call(100, 0xe, CAP_DIR_READ, chunk, k);
	}
	read_events();
	cr_assert_eq(F.lines, 2);
	assert_pair(0, 1);
	assert_partial(1);
	cr_assert(has_reason(F.ev[1], "body_truncated"));
	cr_assert_eq(num(F.ev[1], "data.http.body_bytes"), (double)total);
	st = stats();
	cr_assert_eq(st.bodies_truncated, 1);
	if (!UNDER_ASAN && !RUNNING_ON_VALGRIND)
		cr_assert_lt(rss_kib() - before, 2 * 1024);
	free(chunk);
	fix_close();
}

/* ---- decompression bombs ---- */

static unsigned char *br_buf(const void *in, size_t len, size_t *out_len)
{
	size_t cap = BrotliEncoderMaxCompressedSize(len);
	unsigned char *out = malloc(cap);

	cr_assert(out);
	*out_len = cap;
	cr_assert(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, len, in,
					out_len, out));
	return out;
}

/*
 * A response whose body is @enc bytes of @coding.  With max_body 16 KiB
 * the decoder may produce 16 KiB: the bomb decodes to 4 MiB.
 */
static void bomb_response(uint64_t ssl, const char *coding,
			  const unsigned char *enc, size_t enc_len)
{
	char hdr[256];
	size_t n;
	char *buf;

	n = (size_t)snprintf(hdr, sizeof(hdr),
			     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			     "Content-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
			     coding, enc_len);
	buf = malloc(n + enc_len);
	cr_assert(buf);
	memcpy(buf, hdr, n);
	memcpy(buf + n, enc, enc_len);
	call(100, ssl, CAP_DIR_READ, buf, n + enc_len);
	free(buf);
}

static void bomb_test(const char *coding, int layers)
{
	struct fix_opts fo = { .ai_only = true, .max_body = 16 * 1024 };
	size_t plain_len = 4u << 20, enc_len, next_len;
	unsigned char *plain = malloc(plain_len), *enc, *next;
	struct pipeline_stats st;
	int i;

	cr_assert(plain);
	/* A JSON reply that never ends, decoding far past the limit. */
	memset(plain, 'a', plain_len);
	memcpy(plain, "{\"choices\":[{\"message\":{\"content\":\"", 35);
	if (strcmp(coding, "br") == 0)
		enc = br_buf(plain, plain_len, &enc_len);
	else
		enc = gzip_buf(plain, plain_len, &enc_len);
	for (i = 1; i < layers; i++) {
		next = gzip_buf(enc, enc_len, &next_len);
		free(enc);
		enc = next;
		enc_len = next_len;
	}
	cr_assert_lt(enc_len, fo.max_body, "bomb is %zu bytes", enc_len);
	fix_open_opts(&fo);
	request(100, 0xf, "bomb");
	bomb_response(0xf, layers > 1 ? "gzip, gzip" : coding, enc, enc_len);
	read_events();
	cr_assert_eq(F.lines, 2);
	assert_pair(0, 1);
	assert_partial(1);
	cr_assert(has_reason(F.ev[1], "decoded_body_truncated"));
	cr_assert_eq(num(F.ev[1], "data.http.body_bytes"), (double)enc_len);
	st = stats();
	/* The bomb is counted: its decoded body went over the limit. */
	cr_assert_eq(st.bodies_truncated, 1);
	/* The next exchange on the same connection is untouched. */
	request(100, 0xf, "after-bomb");
	response(100, 0xf, "calm");
	read_events();
	cr_assert_eq(F.lines, 4);
	assert_pair(2, 3);
	assert_complete(3);
	free(enc);
	free(plain);
	fix_close();
}

Test(badinput, gzip_bomb)
{
	bomb_test("gzip", 1);
}

Test(badinput, gzip_in_gzip_bomb)
{
	bomb_test("gzip", 2);
}

Test(badinput, br_bomb)
{
	bomb_test("br", 1);
}

/* ---- invalid UTF-8 and NUL bytes in bodies ---- */

Test(badinput, invalid_utf8_and_nul_in_bodies)
{
	static const char req_body[] =
		"{\"model\":\"gpt-\xff\x34o\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"bad \xff\xfe overlong \xc0\x80 surrogate "
		"\xed\xa0\x80 too-big \xf4\x90\x80\x80 cut \xe2\x82 ctl \x01\x1f"
		" esc \\u0001 nul-esc \\u0000after\"}]}";
	static const char resp_body[] =
		"{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,"
		"\"message\":{\"role\":\"assistant\",\"content\":\"r\xc3\x28"
		"\x80\x80 \xf8\x88\x80\x80\x80 ok \xc3\xa9\"},"
		"\"finish_reason\":\"stop\"}]}";
	char buf[2048];
	const char *content;
	size_t n;

	fix_open();
	n = (size_t)snprintf(buf, sizeof(buf),
			     "POST /v1/chat/completions HTTP/1.1\r\n"
			     "Host: api.openai.com\r\nX-Obs: \xff\xfe\x80\r\n"
			     "Content-Length: %zu\r\n\r\n",
			     sizeof(req_body) - 1);
	memcpy(buf + n, req_body, sizeof(req_body) - 1);
	call(100, 0x10, CAP_DIR_WRITE, buf, n + sizeof(req_body) - 1);
	n = (size_t)snprintf(buf, sizeof(buf),
			     "HTTP/1.1 200 OK\r\nContent-Type: application/"
			     "json\xff\r\nContent-Length: %zu\r\n\r\n",
			     sizeof(resp_body) - 1);
	memcpy(buf + n, resp_body, sizeof(resp_body) - 1);
	call(100, 0x10, CAP_DIR_READ, buf, n + sizeof(resp_body) - 1);
	/* A body with raw NUL bytes inside the JSON string. */
	n = chat_req(buf, sizeof(buf), "nul\x01");
	memcpy(strstr(buf, "Hello"), "He\0\0o", 5);
	call(100, 0x10, CAP_DIR_WRITE, buf, n);
	n = chat_resp(buf, sizeof(buf), "nu\x7f-reply");
	memcpy(strstr(buf, "nu\x7f-reply"), "nu\0", 3);
	call(100, 0x10, CAP_DIR_READ, buf, n);
	read_events();		/* checks every line's UTF-8 and JSON */
	cr_assert_eq(F.lines, 4);
	assert_pair(0, 1);
	assert_pair(2, 3);
	content = str(F.ev[0], "data.messages.0.content");
	cr_assert_not_null(strstr(content, "\xef\xbf\xbd"),
			   "invalid bytes are replaced by U+FFFD");
	cr_assert(utf8_ok((const unsigned char *)content, strlen(content)));
	cr_assert(utf8_ok((const unsigned char *)reply_of(1),
			  strlen(reply_of(1))));
	cr_assert_not_null(strstr(reply_of(1), " ok \xc3\xa9"));
	fix_close();
}

/* Binary bodies on a non-AI exchange (--all): still valid lines. */
Test(badinput, binary_bodies_non_ai)
{
	struct fix_opts fo = { .ai_only = false };
	unsigned char body[512];
	char buf[1024];
	size_t n, i;

	fix_open_opts(&fo);
	for (i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(i * 7);
	n = (size_t)snprintf(buf, sizeof(buf),
			     "POST /upload\xff HTTP/1.1\r\nHost: ex\xc3\x28.org\r\n"
			     "Content-Length: %zu\r\n\r\n", sizeof(body));
	memcpy(buf + n, body, sizeof(body));
	call(100, 0x11, CAP_DIR_WRITE, buf, n + sizeof(body));
	n = (size_t)snprintf(buf, sizeof(buf),
			     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n", sizeof(body));
	memcpy(buf + n, body, sizeof(body));
	call(100, 0x11, CAP_DIR_READ, buf, n + sizeof(body));
	request(100, 0x12, "x");
	response(100, 0x12, "y");
	read_events();
	cr_assert_geq(F.lines, 2);
	assert_pair(F.n - 2, F.n - 1);
	fix_close();
}

/* ---- connection flood ---- */

/*
 * 100,000 connections, each left inside a request body (the most state
 * a connection can hold), with the table bounded at 1,000: the table
 * stays at its bound, the oldest are evicted and counted, and memory
 * stays flat.  Under valgrind 10,000 connections make the same point.
 */
Test(badinput, hundred_thousand_connections, .timeout = 300)
{
	struct fix_opts fo = { .ai_only = true, .max_conns = 1000 };
	size_t total = RUNNING_ON_VALGRIND ? 10000 : 100000, i;
	static const char req[] =
		"POST /upload HTTP/1.1\r\nHost: example.org\r\n"
		"Content-Length: 4000\r\n\r\n";
	char buf[sizeof(req) - 1 + 2000];
	struct pipeline_stats st;
	long before = 0, mid = 0;

	memcpy(buf, req, sizeof(req) - 1);
	memset(buf + sizeof(req) - 1, 'z', 2000);
	fix_open_opts(&fo);
	for (i = 0; i < total; i++) {
		call(1000 + (uint32_t)(i % 7), 0x100000 + i * 64,
		     CAP_DIR_WRITE, buf, sizeof(buf));
		if (i == 2000)
			before = rss_kib();
		if (i == total / 2)
			mid = rss_kib();
	}
	st = stats();
	cr_assert_eq(st.connections, 1000);
	cr_assert_eq(st.connections_total, total);
	cr_assert_eq(st.connections_evicted, total - 1000);
	/* The table was already full at 2,000: memory must not grow. */
	if (!UNDER_ASAN && !RUNNING_ON_VALGRIND) {
		cr_assert_lt(rss_kib() - before, 8 * 1024,
			     "RSS grew from %ld to %ld KiB", before,
			     rss_kib());
		cr_assert_lt(mid - before, 8 * 1024);
	}
	pipeline__flush(F.pl);
	st = stats();
	cr_assert_eq(st.connections, 0);
	read_events();
	cr_assert_eq(F.lines, 0, "non-AI: nothing written");
	fix_close();
}

/* Evicted connections write what they had, as partial. */
Test(badinput, evicted_in_progress_is_partial)
{
	struct fix_opts fo = { .ai_only = true, .max_conns = 4 };
	uint64_t ssl;
	int i;

	fix_open_opts(&fo);
	for (ssl = 1; ssl <= 10; ssl++) {
		request(100, ssl, "evict");
		callstr(100, ssl, CAP_DIR_READ,
			"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{");
	}
	read_events();
	cr_assert_eq(F.lines, 10 + 6);
	cr_assert_eq(stats().connections_evicted, 6);
	pipeline__flush(F.pl);
	read_events();
	cr_assert_eq(F.lines, 20);
	for (i = 0; i < F.n; i++)
		if (strcmp(str(F.ev[i], "event_type"), "ai.response") == 0)
			assert_partial(i);
	fix_close();
}

/* ---- PID and SSL* reuse ---- */

/*
 * Process 100 exits with a request unanswered; a new process gets pid
 * 100 and, by chance, the same SSL* address.  Its response answers its
 * own request, not the dead process's.
 */
Test(badinput, pid_reused_after_exit)
{
	fix_open();
	request(100, 0x20, "old-process");
	proc_rec(CAP_KIND_EXIT, 100);
	request(100, 0x20, "new-process");
	response(100, 0x20, "new-reply");
	read_events();
	cr_assert_eq(F.lines, 3);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "old-process");
	cr_assert_str_eq(str(F.ev[1], "data.model.id"), "new-process");
	assert_pair(1, 2);
	assert_complete(2);
	fix_close();
}

/* The same, the old process cut off in the middle of its response. */
Test(badinput, pid_reused_after_exit_mid_response)
{
	fix_open();
	request(100, 0x21, "old-process");
	callstr(100, 0x21, CAP_DIR_READ,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: 5000\r\n\r\n{\"choices\":[");
	proc_rec(CAP_KIND_EXIT, 100);
	request(100, 0x21, "new-process");
	response(100, 0x21, "new-reply");
	read_events();
	cr_assert_eq(F.lines, 4);
	assert_pair(0, 1);
	assert_partial(1);
	assert_pair(2, 3);
	assert_complete(3);
	cr_assert_str_eq(reply_of(3), "new-reply");
	fix_close();
}

/*
 * execve() in the same pid: the old image's connections died with it.
 * The new image's first response must not answer the old one's request.
 */
Test(badinput, exec_replaces_connections)
{
	fix_open();
	request(100, 0x22, "before-exec");
	proc_rec(CAP_KIND_EXEC, 100);
	request(100, 0x22, "after-exec");
	response(100, 0x22, "after-reply");
	read_events();
	cr_assert_eq(F.lines, 3);
	cr_assert_str_eq(str(F.ev[1], "data.model.id"), "after-exec");
	assert_pair(1, 2);
	fix_close();
}

/*
 * Within one process, an SSL* is freed while its response is half read,
 * and the allocator hands the same address to a new connection: the old
 * response is written as partial, the new exchange parsed cleanly.
 */
Test(badinput, ssl_reused_mid_response)
{
	fix_open();
	request(100, 0x30, "old-conn");
	callstr(100, 0x30, CAP_DIR_READ,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: 5000\r\n\r\n{\"choices\":[");
	request(100, 0x30, "new-conn");
	response(100, 0x30, "new-reply");
	read_events();
	cr_assert_eq(F.lines, 4, "got %zu events", F.lines);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "old-conn");
	assert_pair(0, 1);
	assert_partial(1);
	cr_assert_str_eq(str(F.ev[2], "data.model.id"), "new-conn");
	assert_pair(2, 3);
	assert_complete(3);
	cr_assert_str_eq(reply_of(3), "new-reply");
	fix_close();
}

/* The same with a chunked (SSE) response cut between chunks. */
Test(badinput, ssl_reused_mid_chunked_response)
{
	fix_open();
	request(100, 0x31, "old-conn");
	callstr(100, 0x31, CAP_DIR_READ,
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"2a\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\r\n");
	request(100, 0x31, "new-conn");
	response(100, 0x31, "new-reply");
	read_events();
	cr_assert_eq(F.lines, 4, "got %zu events", F.lines);
	assert_pair(0, 1);
	assert_partial(1);
	assert_pair(2, 3);
	assert_complete(3);
	fix_close();
}

/* The old connection died while its request body was being written. */
Test(badinput, ssl_reused_mid_request)
{
	fix_open();
	long_declared_request(0x32, "5000");
	request(100, 0x32, "new-conn");
	response(100, 0x32, "new-reply");
	read_events();
	cr_assert_eq(F.lines, 3, "got %zu events", F.lines);
	cr_assert_str_eq(str(F.ev[0], "event_type"), "ai.request");
	cr_assert(has_reason(F.ev[0], "message_incomplete"));
	assert_partial(0);
	cr_assert_str_eq(str(F.ev[1], "data.model.id"), "new-conn");
	assert_pair(1, 2);
	assert_complete(2);
	fix_close();
}

/*
 * A request whose response never came (the client gave up), SSL_free(),
 * and a new connection at the same address: without the free record the
 * new response would answer the old request (FIFO pairing); with it the
 * old request is written unanswered and the new pair is right.
 */
Test(badinput, ssl_freed_then_reused_after_unanswered_request)
{
	fix_open();
	request(100, 0x33, "gave-up");
	free_rec(100, 0x33);
	request(100, 0x33, "new-conn");
	response(100, 0x33, "new-reply");
	/* Freeing a connection never seen is harmless. */
	free_rec(100, 0x34);
	read_events();
	cr_assert_eq(F.lines, 3, "got %zu events", F.lines);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "gave-up");
	cr_assert_str_eq(str(F.ev[1], "data.model.id"), "new-conn");
	assert_pair(1, 2);
	assert_complete(2);
	cr_assert_str_eq(reply_of(2), "new-reply");
	fix_close();
}
