// SPDX-License-Identifier: MIT
/*
 * The pipeline fed with capture records built here, exactly as the ring
 * buffer or a capture file delivers them, and the events it writes read
 * back from the output file.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "gzip.h"
#include "h2frames.h"
#include "jsonpath.h"

#include "ai/aistats.h"
#include "ai/extract.h"
#include "capture_abi.h"
#include "event/event.h"
#include "event/output.h"
#include "pipeline/pipeline.h"
#include "proto/sse.h"
#include "ai/redact.h"
#include "ai/rules.h"

#define MAX_EVENTS 64

struct fix {
	char path[64];
	struct rules *rules;
	struct redactor *redactor;
	struct redactor *secrets;
	struct output *out;
	struct event_host host;
	struct pipeline *pl;
	uint64_t call_id;
	uint64_t ts;
	cJSON *ev[MAX_EVENTS];
	int n;
};

static struct fix F;

/* Limits of the fixture's pipeline; 0 keeps the fixture's default. */
struct fix_limits {
	size_t max_body;		/* default 1 MiB */
	size_t max_connections;		/* default 8 */
	size_t memory_budget;		/* default the pipeline's (256 MiB) */
};

static void fix_open_limits(bool ai_only, bool server_side, bool redact,
			    const struct fix_limits *lim);

static void fix_open(bool ai_only, bool server_side, bool redact)
{
	fix_open_limits(ai_only, server_side, redact, NULL);
}

static void fix_open_limits(bool ai_only, bool server_side, bool redact,
			    const struct fix_limits *lim)
{
	struct fix_limits l = lim ? *lim : (struct fix_limits){ 0 };
	struct pipeline_opts po = { 0 };
	char err[256];
	int fd;

	memset(&F, 0, sizeof(F));
	strcpy(F.path, "/tmp/oisp-test-pipeline-XXXXXX");
	fd = mkstemp(F.path);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(rules__load_default(&F.rules, err, sizeof(err)), 0, "%s",
		     err);
	if (redact)
		cr_assert_eq(redactor__new(&F.redactor, NULL, 0, err,
					   sizeof(err)), 0);
	cr_assert_eq(redactor__new(&F.secrets, NULL, 0, err, sizeof(err)), 0);
	cr_assert_eq(output__open(&F.out, F.path, err, sizeof(err)), 0);
	cr_assert_eq(event__host_load(&F.host), 0);
	po = (struct pipeline_opts){
		.rules = F.rules, .redactor = F.redactor, .out = F.out,
		.secrets = F.secrets,
		.host = &F.host, .realtime_offset_ns = 1700000000ULL * 1000000000ULL,
		.ai_only = ai_only, .server_side = server_side,
		.max_body_bytes = l.max_body ? l.max_body : 1 << 20,
		.max_connections = l.max_connections ? l.max_connections : 8,
		.idle_timeout_ns = 5000000000ULL,
		.memory_budget_bytes = l.memory_budget,
	};
	cr_assert_eq(pipeline__new(&F.pl, &po), 0);
	F.ts = 1000000000ULL;
}

static void fix_close(void)
{
	int i;

	pipeline__free(F.pl);
	output__close(F.out);
	redactor__free(F.redactor);
	redactor__free(F.secrets);
	rules__free(F.rules);
	for (i = 0; i < F.n; i++)
		cJSON_Delete(F.ev[i]);
	unlink(F.path);
}

/* One SSL call of @len bytes, split into ring-buffer-sized records. */
static void call(uint32_t tgid, uint64_t ssl, int dir, const char *buf,
		 size_t len)
{
	static struct cap_data d;
	size_t off, n;

	F.call_id++;
	F.ts += 1000000;	/* 1 ms per call */
	for (off = 0; off < len; off += n) {
		n = len - off > CAP_CHUNK_MAX ? CAP_CHUNK_MAX : len - off;
		memset(&d, 0, CAP_DATA_HDR_SIZE);
		d.hdr.kind = CAP_KIND_DATA;
		d.hdr.tgid = tgid;
		d.hdr.tid = tgid + 1;
		d.hdr.uid = 1000;
		d.hdr.ts_ns = F.ts;
		strcpy(d.hdr.comm, "client");
		d.conn = ssl;
		d.call_id = F.call_id;
		d.dir = dir;
		d.call_len = (uint32_t)len;
		d.offset = (uint32_t)off;
		d.len = (uint32_t)n;
		memcpy(d.data, buf + off, n);
		cr_assert_eq(pipeline__feed(F.pl, &d, CAP_DATA_HDR_SIZE + n), 0);
	}
}

static void callstr(uint32_t tgid, uint64_t ssl, int dir, const char *s)
{
	call(tgid, ssl, dir, s, strlen(s));
}

/*
 * A record made by hand, for what call() does not make: the first chunk
 * of call @call_id (@call_len bytes) of tgid 100 on connection @ssl,
 * carrying @len bytes of @buf.
 */
static void hand_record(struct cap_data *d, uint64_t ssl, uint64_t call_id,
			int dir, uint32_t call_len, const char *buf, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->hdr.kind = CAP_KIND_DATA;
	d->hdr.tgid = 100;
	d->conn = ssl;
	d->call_id = call_id;
	d->dir = dir;
	d->call_len = call_len;
	d->len = (uint32_t)len;
	memcpy(d->data, buf, len);
}

static void read_events(void)
{
	char line[1 << 17];
	FILE *f = fopen(F.path, "r");

	cr_assert(f);
	while (F.n < MAX_EVENTS && fgets(line, sizeof(line), f)) {
		F.ev[F.n] = cJSON_Parse(line);
		cr_assert(F.ev[F.n], "invalid JSON line: %s", line);
		F.n++;
	}
	fclose(f);
}

/* @ev is partial for the reasons @r0 and @r1 (NULL: only one), in order. */
static void expect_reasons(const cJSON *ev, const char *r0, const char *r1)
{
	cr_assert_str_eq(str(ev, "confidence.completeness"), "partial");
	cr_assert_str_eq(str(ev, "confidence.reasons.0"), r0);
	if (r1)
		cr_assert_str_eq(str(ev, "confidence.reasons.1"), r1);
	else
		cr_assert_null(get(ev, "confidence.reasons.1"));
}

static const char chat_req_body[] =
	"{\"model\":\"gpt-4o-mini\",\"messages\":["
	"{\"role\":\"system\",\"content\":\"Be brief.\"},"
	"{\"role\":\"user\",\"content\":\"Hello there\"}]}";

/* The chat request's bytes in @buf (1024 bytes). */
static const char *chat_request_text(char *buf)
{
	snprintf(buf, 1024,
		 "POST /v1/chat/completions HTTP/1.1\r\n"
		 "Host: api.openai.com\r\n"
		 "Authorization: Bearer sk-test-0123456789abcdefghij\r\n"
		 "Content-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 strlen(chat_req_body), chat_req_body);
	return buf;
}

static void chat_request(uint32_t tgid, uint64_t ssl, int dir)
{
	char buf[1024];

	callstr(tgid, ssl, dir, chat_request_text(buf));
}

static const char chat_resp_body[] =
	"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","
	"\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,"
	"\"message\":{\"role\":\"assistant\",\"content\":\"Hi!\"},"
	"\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,"
	"\"completion_tokens\":2,\"total_tokens\":14}}";

static void chat_response(uint32_t tgid, uint64_t ssl, int dir, int status)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "HTTP/1.1 %d OK\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 status, strlen(chat_resp_body), chat_resp_body);
	callstr(tgid, ssl, dir, buf);
}

Test(pipeline, chat_request_and_response_pair)
{
	fix_open(true, false, false);
	chat_request(100, 0xabc0, CAP_DIR_WRITE);
	chat_response(100, 0xabc0, CAP_DIR_READ, 200);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[0], "event_type"), "ai.request");
	cr_assert_str_eq(str(F.ev[0], "data.provider.name"), "openai");
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "gpt-4o-mini");
	cr_assert_str_eq(str(F.ev[0], "data.request_type"), "chat");
	cr_assert_str_eq(str(F.ev[0], "data.messages.1.content"),
			 "Hello there");
	cr_assert_str_eq(str(F.ev[0], "data.auth.type"), "api_key");
	cr_assert_str_eq(str(F.ev[0], "data.auth.scheme"), "bearer");
	cr_assert_eq(num(F.ev[0], "process.pid"), 100);
	cr_assert_str_eq(str(F.ev[0], "source.capture_point"), "tls_client");
	cr_assert_str_eq(str(F.ev[1], "event_type"), "ai.response");
	cr_assert_str_eq(str(F.ev[1], "data.request_id"),
			 str(F.ev[0], "data.request_id"));
	cr_assert_str_eq(str(F.ev[1], "related_events.0.event_id"),
			 str(F.ev[0], "event_id"));
	cr_assert_str_eq(str(F.ev[1], "data.choices.0.message.content"), "Hi!");
	cr_assert_eq(num(F.ev[1], "data.usage.total_tokens"), 14);
	cr_assert_eq(num(F.ev[1], "data.status_code"), 200);
	cr_assert(boolean(F.ev[1], "data.success"));
	cr_assert_str_eq(str(F.ev[1], "data.finish_reason"), "stop");
	cr_assert_float_eq(num(F.ev[1], "data.latency_ms"), 1.0, 1e-9);
	cr_assert_str_eq(str(F.ev[1], "confidence.completeness"), "full");
	/* The key never reaches the file. */
	fix_close();
}

Test(pipeline, key_is_never_written)
{
	char buf[1 << 16];
	FILE *f;
	size_t n;

	fix_open(true, false, false);
	chat_request(100, 0xabc0, CAP_DIR_WRITE);
	chat_response(100, 0xabc0, CAP_DIR_READ, 200);
	f = fopen(F.path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cr_assert_null(strstr(buf, "sk-test-0123456789"));
	fix_close();
}

Test(pipeline, keep_alive_pairs_in_order_and_error_is_not_success)
{
	fix_open(true, false, false);
	chat_request(100, 0x1, CAP_DIR_WRITE);
	chat_response(100, 0x1, CAP_DIR_READ, 200);
	chat_request(100, 0x1, CAP_DIR_WRITE);
	chat_response(100, 0x1, CAP_DIR_READ, 429);
	read_events();
	cr_assert_eq(F.n, 4);
	cr_assert_str_eq(str(F.ev[3], "data.request_id"),
			 str(F.ev[2], "data.request_id"));
	cr_assert_str_neq(str(F.ev[1], "data.request_id"),
			  str(F.ev[3], "data.request_id"));
	cr_assert(boolean(F.ev[1], "data.success"));
	cr_assert_not(boolean(F.ev[3], "data.success"));
	cr_assert_eq(num(F.ev[3], "data.status_code"), 429);
	fix_close();
}

Test(pipeline, connections_are_keyed_by_ssl_not_thread)
{
	fix_open(true, false, false);
	chat_request(100, 0x1, CAP_DIR_WRITE);
	chat_request(100, 0x2, CAP_DIR_WRITE);
	chat_response(100, 0x2, CAP_DIR_READ, 500);
	chat_response(100, 0x1, CAP_DIR_READ, 200);
	read_events();
	cr_assert_eq(F.n, 4);
	/* 0x2's response (500) pairs with 0x2's request, the second one. */
	cr_assert_str_eq(str(F.ev[2], "data.request_id"),
			 str(F.ev[1], "data.request_id"));
	cr_assert_eq(num(F.ev[2], "data.status_code"), 500);
	cr_assert_str_eq(str(F.ev[3], "data.request_id"),
			 str(F.ev[0], "data.request_id"));
	fix_close();
}

Test(pipeline, server_side_is_skipped_by_default)
{
	struct pipeline_stats st;

	fix_open(true, false, false);
	chat_request(200, 0x9, CAP_DIR_READ);
	chat_response(200, 0x9, CAP_DIR_WRITE, 200);
	read_events();
	cr_assert_eq(F.n, 0);
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.server_side_skipped, 1);
	fix_close();
}

Test(pipeline, server_side_reported_when_asked)
{
	fix_open(true, true, false);
	chat_request(200, 0x9, CAP_DIR_READ);
	chat_response(200, 0x9, CAP_DIR_WRITE, 200);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[0], "source.capture_point"), "tls_server");
	fix_close();
}

/* The chat request in two calls of @req_dir, "P" and the rest; its response. */
static void chat_split_exchange(uint32_t tgid, uint64_t ssl, int req_dir)
{
	char buf[1024];

	chat_request_text(buf);
	callstr(tgid, ssl, req_dir, "P");
	callstr(tgid, ssl, req_dir, buf + 1);
	chat_response(tgid, ssl, req_dir == CAP_DIR_WRITE ? CAP_DIR_READ :
							   CAP_DIR_WRITE, 200);
}

/*
 * Go's net/http server reads a request's first byte alone (the read that
 * watches for the client's close) and the rest in its next call: the
 * rest of the start line is not a new request on a reused connection id.
 */
Test(pipeline, request_line_split_after_its_first_byte)
{
	struct pipeline_stats st;
	int i;

	fix_open(true, true, false);
	for (i = 0; i < 2; i++) {
		chat_request(200, 0x9, CAP_DIR_READ);
		chat_response(200, 0x9, CAP_DIR_WRITE, 200);
	}
	chat_split_exchange(200, 0x9, CAP_DIR_READ);
	read_events();
	cr_assert_eq(F.n, 6);
	cr_assert_str_eq(str(F.ev[4], "event_type"), "ai.request");
	cr_assert_str_eq(str(F.ev[4], "data.model.id"), "gpt-4o-mini");
	cr_assert_str_eq(str(F.ev[5], "data.request_id"),
			 str(F.ev[4], "data.request_id"));
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.parse_errors, 0);
	cr_assert_eq(st.connections_replaced, 0);
	fix_close();
}

/*
 * A connection's first write of one byte, "P", could begin the HTTP/2
 * preface or "POST": it waits for the next write to decide.
 */
Test(pipeline, first_byte_alone_waits_for_the_next_call)
{
	fix_open(true, false, false);
	chat_split_exchange(100, 0x5, CAP_DIR_WRITE);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[0], "data.model.id"), "gpt-4o-mini");
	cr_assert_eq(num(F.ev[1], "data.status_code"), 200);
	fix_close();
}

/*
 * A request written while a response is half read: the SSL* went to a
 * new connection.  The old one's response is written as partial, and
 * the closure counted.
 */
Test(pipeline, request_in_a_half_read_response_replaces_the_connection)
{
	struct pipeline_stats st;
	char resp[1024];

	fix_open(true, false, false);
	snprintf(resp, sizeof(resp),
		 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%.10s",
		 strlen(chat_resp_body), chat_resp_body);
	chat_request(100, 0x7, CAP_DIR_WRITE);
	callstr(100, 0x7, CAP_DIR_READ, resp);
	chat_request(100, 0x7, CAP_DIR_WRITE);
	chat_response(100, 0x7, CAP_DIR_READ, 200);
	read_events();
	cr_assert_eq(F.n, 4);
	cr_assert_eq(num(F.ev[3], "data.status_code"), 200);
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.connections_replaced, 1);
	cr_assert_eq(st.connections_total, 2);
	fix_close();
}

struct ignored {
	uint32_t tgid;
	uint64_t conn, ts;
};

static struct ignored ign[8];
static int n_ign;

static void on_ignore(void *ctx, uint32_t tgid, uint64_t conn, uint64_t ts)
{
	cr_assert_eq(ctx, &ign);
	cr_assert_lt(n_ign, 8);
	ign[n_ign++] = (struct ignored){ tgid, conn, ts };
}

/* The fixture with the hook set and nothing recorded yet. */
static void ign_open(bool server_side)
{
	n_ign = 0;
	fix_open(true, server_side, false);
	pipeline__on_ignore(F.pl, on_ignore, &ign);
}

/*
 * Each connection the pipeline stops parsing is handed to the hook once,
 * with the time of the record that decided: the live sensor stops
 * copying it in the kernel (capture__skip_conn()).
 */
Test(pipeline, ignored_connections_go_to_the_hook_once)
{
	static const char h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	uint64_t ts_server, ts_h2, ts_101;

	ign_open(false);
	chat_request(100, 0xabc0, CAP_DIR_WRITE);
	chat_response(100, 0xabc0, CAP_DIR_READ, 200);
	cr_assert_eq(n_ign, 0, "a client connection is parsed on");

	chat_request(100, 0x9, CAP_DIR_READ);
	ts_server = F.ts;
	chat_response(100, 0x9, CAP_DIR_WRITE, 200);
	chat_request(100, 0x9, CAP_DIR_READ);
	cr_assert_eq(n_ign, 1, "server side, once");
	cr_assert_eq(ign[0].tgid, 100);
	cr_assert_eq(ign[0].conn, 0x9);
	cr_assert_eq(ign[0].ts, ts_server);

	/* The server end of HTTP/2 reads the preface: not parsed. */
	callstr(101, 0x20, CAP_DIR_READ, h2);
	ts_h2 = F.ts;
	cr_assert_eq(n_ign, 2, "HTTP/2 server side");
	cr_assert_eq(ign[1].tgid, 101);
	cr_assert_eq(ign[1].conn, 0x20);
	cr_assert_eq(ign[1].ts, ts_h2);

	/* A switch to anything but WebSocket (test_ws_pipeline.c). */
	callstr(102, 0x30, CAP_DIR_WRITE,
		"GET /up HTTP/1.1\r\nHost: example.org\r\n"
		"Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n");
	callstr(102, 0x30, CAP_DIR_READ,
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
		"Connection: Upgrade\r\n\r\n");
	ts_101 = F.ts;
	callstr(102, 0x30, CAP_DIR_READ, "\x00\x00\x00\x04\x00");
	cr_assert_eq(n_ign, 3, "protocol switched");
	cr_assert_eq(ign[2].conn, 0x30);
	cr_assert_eq(ign[2].ts, ts_101);
	read_events();
	cr_assert_eq(F.n, 2);
	fix_close();
}

/*
 * Records of an ignored connection that keep coming long after the hook
 * ran (the kernel's table dropped it) call the hook again, once per
 * second of record time; those in flight right after it do not.
 */
Test(pipeline, ignored_connection_still_copied_is_told_again)
{
	ign_open(false);
	chat_request(100, 0x9, CAP_DIR_READ);
	cr_assert_eq(n_ign, 1);
	chat_response(100, 0x9, CAP_DIR_WRITE, 200);
	chat_request(100, 0x9, CAP_DIR_READ);
	cr_assert_eq(n_ign, 1, "records in flight");
	F.ts += 2000000000ULL;
	chat_response(100, 0x9, CAP_DIR_WRITE, 200);
	cr_assert_eq(n_ign, 2);
	cr_assert_eq(ign[1].conn, 0x9);
	cr_assert_eq(ign[1].ts, F.ts);
	chat_request(100, 0x9, CAP_DIR_READ);
	cr_assert_eq(n_ign, 2);
	fix_close();
}

Test(pipeline, server_side_is_not_ignored_when_reported)
{
	ign_open(true);
	chat_request(100, 0x9, CAP_DIR_READ);
	chat_response(100, 0x9, CAP_DIR_WRITE, 200);
	cr_assert_eq(n_ign, 0);
	fix_close();
}

static const char non_ai_req[] =
	"GET /index.html HTTP/1.1\r\nHost: example.org\r\n\r\n";
static const char non_ai_resp[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

Test(pipeline, non_ai_request_is_not_reported)
{
	struct pipeline_stats st;

	fix_open(true, false, false);
	callstr(100, 0x5, CAP_DIR_WRITE, non_ai_req);
	callstr(100, 0x5, CAP_DIR_READ, non_ai_resp);
	read_events();
	cr_assert_eq(F.n, 0);
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.unmatched, 1);
	cr_assert_eq(st.http_messages, 2);
	fix_close();
}

Test(pipeline, non_ai_request_reported_with_all)
{
	fix_open(false, false, false);
	callstr(100, 0x5, CAP_DIR_WRITE, non_ai_req);
	callstr(100, 0x5, CAP_DIR_READ, non_ai_resp);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[0], "data.provider.name"), "other");
	cr_assert_str_eq(str(F.ev[0], "data.http.path"), "/index.html");
	fix_close();
}

/* A body that needs several ring-buffer records arrives whole. */
Test(pipeline, large_body_across_records)
{
	size_t big = 100 * 1024, hdr;
	char *req = malloc(big + 1024), *p;

	cr_assert_not_null(req);
	fix_open(true, false, false);
	hdr = (size_t)sprintf(req,
			      "POST /v1/chat/completions HTTP/1.1\r\n"
			      "Host: api.openai.com\r\nContent-Length: %zu\r\n\r\n",
			      big + 60);
	p = req + hdr;
	p += sprintf(p, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
		     "\"content\":\"");
	memset(p, 'x', big);
	p += big;
	p += sprintf(p, "\"}]}");
	/* pad the declared length exactly */
	cr_assert_leq((size_t)(p - req - hdr), big + 60);
	memset(p, ' ', big + 60 - (size_t)(p - req - hdr));
	call(100, 0x7, CAP_DIR_WRITE, req, hdr + big + 60);
	read_events();
	cr_assert_eq(F.n, 1);
	cr_assert_eq(strlen(str(F.ev[0], "data.messages.0.content")), big);
	cr_assert_str_eq(str(F.ev[0], "confidence.completeness"), "full");
	free(req);
	fix_close();
}

Test(pipeline, lost_record_marks_partial_and_counts_gap)
{
	static struct cap_data d;
	struct pipeline_stats st;
	char req[256];
	size_t n;

	fix_open(true, false, false);
	n = (size_t)snprintf(req, sizeof(req),
			     "POST /v1/chat/completions HTTP/1.1\r\n"
			     "Host: api.openai.com\r\nContent-Length: 40000\r\n\r\n");
	/* First record: headers; the next record of the call is "lost". */
	hand_record(&d, 0x8, 77, CAP_DIR_WRITE, (uint32_t)(n + 40000), req, n);
	cr_assert_eq(pipeline__feed(F.pl, &d, CAP_DATA_HDR_SIZE + n), 0);
	d.offset = (uint32_t)(n + CAP_CHUNK_MAX);
	d.len = CAP_CHUNK_MAX;
	memset(d.data, 'y', d.len);
	cr_assert_eq(pipeline__feed(F.pl, &d, CAP_DATA_HDR_SIZE + d.len), 0);
	chat_request(100, 0x8, CAP_DIR_WRITE);
	pipeline__stats(F.pl, &st);
	cr_assert_geq(st.gaps, 1);
	read_events();
	/* The cut request is reported with what was seen, then resync. */
	cr_assert_eq(F.n, 2);
	expect_reasons(F.ev[0], "message_incomplete", "capture_records_lost");
	cr_assert_str_eq(str(F.ev[1], "data.model.id"), "gpt-4o-mini");
	cr_assert_str_eq(str(F.ev[1], "confidence.completeness"), "full");
	fix_close();
}

/*
 * A read fault on the response side: only the message of that direction
 * carries the reason; the request in progress on the other direction is
 * completed later without it.
 */
Test(pipeline, gap_reason_stays_with_its_direction)
{
	static struct cap_data d;
	struct pipeline_stats st;

	fix_open(true, false, false);
	chat_request(100, 0x9, CAP_DIR_WRITE);
	callstr(100, 0x9, CAP_DIR_WRITE,
		"POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
		"Content-Length: 300\r\n\r\n{\"model\":\"gpt-4o\"");
	callstr(100, 0x9, CAP_DIR_READ,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: 500\r\n\r\n{\"id\":");
	hand_record(&d, 0x9, 1000, CAP_DIR_READ, 4096, "", 0);
	d.hdr.ts_ns = F.ts + 1;
	d.flags = CAP_F_READ_FAULT;
	cr_assert_eq(pipeline__feed(F.pl, &d, CAP_DATA_HDR_SIZE), 0);
	pipeline__flush(F.pl);
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.gaps, 1);
	read_events();
	cr_assert_eq(F.n, 3);
	cr_assert_str_eq(str(F.ev[1], "event_type"), "ai.response");
	expect_reasons(F.ev[1], "message_incomplete", "capture_read_fault");
	cr_assert_str_eq(str(F.ev[2], "event_type"), "ai.request");
	expect_reasons(F.ev[2], "message_incomplete", NULL);
	fix_close();
}

static const char sse_resp[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	"Transfer-Encoding: chunked\r\n\r\n";

static void sse_chunk(uint32_t tgid, uint64_t ssl, const char *data)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%zx\r\n%s\r\n", strlen(data), data);
	callstr(tgid, ssl, CAP_DIR_READ, buf);
}

Test(pipeline, streamed_chat_assembles_reply_and_ttft)
{
	const char *req_body =
		"{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":"
		"{\"include_usage\":true},\"messages\":[{\"role\":\"user\","
		"\"content\":\"Hi\"}]}";
	char req[512];

	fix_open(true, false, false);
	snprintf(req, sizeof(req),
		 "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(req_body), req_body);
	callstr(100, 0x3, CAP_DIR_WRITE, req);			/* t = 1 ms */
	callstr(100, 0x3, CAP_DIR_READ, sse_resp);		/* 2 ms */
	sse_chunk(100, 0x3, "data: {\"id\":\"c1\",\"model\":\"gpt-4o\","
		  "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
		  "\"content\":\"\"}}]}\n\n");				/* 3 ms */
	sse_chunk(100, 0x3, "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,"
		  "\"delta\":{\"content\":\"Hel\"}}]}\n\n");		/* 4 ms */
	sse_chunk(100, 0x3, "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,"
		  "\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}"
		  "\n\n");						/* 5 ms */
	sse_chunk(100, 0x3, "data: {\"id\":\"c1\",\"choices\":[],\"usage\":"
		  "{\"prompt_tokens\":5,\"completion_tokens\":2,"
		  "\"total_tokens\":7}}\n\ndata: [DONE]\n\n");		/* 6 ms */
	callstr(100, 0x3, CAP_DIR_READ, "0\r\n\r\n");		/* 7 ms */
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert(boolean(F.ev[0], "data.streaming"));
	cr_assert(boolean(F.ev[1], "data.streaming"));
	cr_assert_str_eq(str(F.ev[1], "data.choices.0.message.content"),
			 "Hello");
	cr_assert_eq(num(F.ev[1], "data.usage.completion_tokens"), 2);
	cr_assert_str_eq(str(F.ev[1], "data.finish_reason"), "stop");
	cr_assert_float_eq(num(F.ev[1], "data.time_to_first_token_ms"), 3.0,
			   1e-9);
	cr_assert_float_eq(num(F.ev[1], "data.latency_ms"), 6.0, 1e-9);
	fix_close();
}

/*
 * A client that stops reading at the stream's last event (finish reason
 * and usage reported) and exits before the chunked body's last chunk:
 * the answer is whole.  Cut one event earlier, it is not.
 */
Test(pipeline, stream_ended_before_its_last_chunk_is_whole)
{
	struct cap_proc ex = { 0 };

	fix_open(true, false, false);
	chat_request(100, 0x5, CAP_DIR_WRITE);
	callstr(100, 0x5, CAP_DIR_READ, sse_resp);
	sse_chunk(100, 0x5, "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,"
		  "\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}"
		  "\n\n");
	sse_chunk(100, 0x5, "data: {\"id\":\"c1\",\"choices\":[],\"usage\":"
		  "{\"prompt_tokens\":5,\"completion_tokens\":1,"
		  "\"total_tokens\":6}}\n\ndata: [DONE]\n\n");
	chat_request(101, 0x6, CAP_DIR_WRITE);
	callstr(101, 0x6, CAP_DIR_READ, sse_resp);
	sse_chunk(101, 0x6, "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,"
		  "\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}"
		  "\n\n");
	ex.hdr.kind = CAP_KIND_EXIT;
	ex.hdr.tgid = 100;
	cr_assert_eq(pipeline__feed(F.pl, &ex, sizeof(ex)), 0);
	ex.hdr.tgid = 101;
	cr_assert_eq(pipeline__feed(F.pl, &ex, sizeof(ex)), 0);
	read_events();
	/* The two requests, then the responses as their processes exit. */
	cr_assert_eq(F.n, 4);
	cr_assert_str_eq(str(F.ev[2], "event_type"), "ai.response");
	cr_assert_str_eq(str(F.ev[2], "confidence.completeness"), "full");
	cr_assert_eq(num(F.ev[2], "data.usage.total_tokens"), 6);
	cr_assert_str_eq(str(F.ev[3], "event_type"), "ai.response");
	cr_assert_str_eq(str(F.ev[3], "confidence.completeness"), "partial");
	expect_reasons(F.ev[3], "message_incomplete", NULL);
	fix_close();
}

Test(pipeline, exit_flushes_a_cut_stream_as_partial)
{
	struct cap_proc ex = { 0 };

	fix_open(true, false, false);
	chat_request(100, 0x4, CAP_DIR_WRITE);
	callstr(100, 0x4, CAP_DIR_READ, sse_resp);
	sse_chunk(100, 0x4, "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,"
		  "\"delta\":{\"content\":\"Par\"}}]}\n\n");
	ex.hdr.kind = CAP_KIND_EXIT;
	ex.hdr.tgid = 100;
	cr_assert_eq(pipeline__feed(F.pl, &ex, sizeof(ex)), 0);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[1], "confidence.completeness"), "partial");
	cr_assert_str_eq(str(F.ev[1], "data.choices.0.message.content"), "Par");
	fix_close();
}

Test(pipeline, anthropic_messages)
{
	const char *body = "{\"model\":\"claude-3-5-sonnet-latest\","
		"\"max_tokens\":100,\"system\":\"Be kind.\",\"messages\":"
		"[{\"role\":\"user\",\"content\":\"Hey\"}]}";
	const char *resp = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":"
		"\"assistant\",\"model\":\"claude-3-5-sonnet-20241022\","
		"\"content\":[{\"type\":\"text\",\"text\":\"Hello!\"}],"
		"\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":9,"
		"\"output_tokens\":3}}";
	char buf[1024];

	fix_open(true, false, false);
	snprintf(buf, sizeof(buf),
		 "POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\n"
		 "x-api-key: sk-ant-test-abcdefghijklmnopqrstu\r\n"
		 "anthropic-version: 2023-06-01\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	callstr(300, 0x6, CAP_DIR_WRITE, buf);
	snprintf(buf, sizeof(buf),
		 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(resp), resp);
	callstr(300, 0x6, CAP_DIR_READ, buf);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[0], "data.provider.name"), "anthropic");
	cr_assert_str_eq(str(F.ev[0], "data.messages.0.role"), "system");
	cr_assert_str_eq(str(F.ev[0], "data.auth.type"), "api_key");
	cr_assert_str_eq(str(F.ev[0], "data.auth.header"), "x-api-key");
	cr_assert_str_eq(str(F.ev[1], "data.choices.0.message.content"),
			 "Hello!");
	cr_assert_eq(num(F.ev[1], "data.usage.prompt_tokens"), 9);
	cr_assert_eq(num(F.ev[1], "data.usage.completion_tokens"), 3);
	cr_assert_str_eq(str(F.ev[1], "data.finish_reason"), "stop");
	cr_assert_str_eq(str(F.ev[1], "data.model.id"),
			 "claude-3-5-sonnet-20241022");
	fix_close();
}

Test(pipeline, redaction_marks_events)
{
	const char *body = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":"
		"\"user\",\"content\":\"mail me at jane@example.com\"}]}";
	char buf[1024];

	fix_open(true, false, true);
	snprintf(buf, sizeof(buf),
		 "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	callstr(100, 0x2, CAP_DIR_WRITE, buf);
	read_events();
	cr_assert_eq(F.n, 1);
	cr_assert_null(strstr(str(F.ev[0], "data.messages.0.content"),
			      "jane@example.com"));
	cr_assert(boolean(F.ev[0], "confidence.redaction_applied"));
	cr_assert_str_eq(str(F.ev[0], "confidence.completeness"), "redacted");
	fix_close();
}

Test(pipeline, full_table_evicts_oldest_and_counts)
{
	struct pipeline_stats st;
	uint64_t ssl;

	fix_open(true, false, false);
	for (ssl = 1; ssl <= 20; ssl++)
		chat_request(100, ssl, CAP_DIR_WRITE);
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.connections, 8);
	cr_assert_eq(st.connections_evicted, 12);
	read_events();
	cr_assert_eq(F.n, 20);
	fix_close();
}

Test(pipeline, malformed_record_is_counted)
{
	struct pipeline_stats st;
	struct cap_data d = { 0 };

	fix_open(true, false, false);
	d.hdr.kind = CAP_KIND_DATA;
	d.len = 100;		/* but only the header is passed */
	cr_assert_eq(pipeline__feed(F.pl, &d, CAP_DATA_HDR_SIZE), -EBADMSG);
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.bad_records, 1);
	fix_close();
}

/* A call larger than the per-call cap: the event says it was cut. */
Test(pipeline, truncated_call_is_reported_partial)
{
	static struct cap_data d;
	char req[256];
	size_t n;

	fix_open(true, false, false);
	n = (size_t)snprintf(req, sizeof(req),
			     "POST /v1/chat/completions HTTP/1.1\r\n"
			     "Host: api.openai.com\r\nContent-Length: 1000000\r\n\r\n"
			     "{\"model\":\"big\"");
	hand_record(&d, 0x11, 5, CAP_DIR_WRITE, (uint32_t)(n + 1000000), req, n);
	d.flags = CAP_F_TRUNCATED;	/* the cap was reached here */
	cr_assert_eq(pipeline__feed(F.pl, &d, CAP_DATA_HDR_SIZE + n), 0);
	read_events();
	cr_assert_eq(F.n, 1);
	expect_reasons(F.ev[0], "message_incomplete", "capture_call_truncated");
	cr_assert_str_eq(str(F.ev[0], "confidence.level"), "medium");
	fix_close();
}

static int first_series(void *ctx, const struct aistats_series *se)
{
	*(struct aistats_series *)ctx = *se;
	return 1;
}

/* The /metrics counters: one series per provider and request model. */
Test(pipeline, ai_counters_by_provider_and_model)
{
	struct aistats_series se = { 0 };
	struct aistats *st;

	fix_open(true, false, false);
	cr_assert_eq(aistats__new(&st, 16), 0);
	/* Options are copied at creation: rebuild with the counters. */
	pipeline__free(F.pl);
	{
		struct pipeline_opts po = {
			.rules = F.rules, .out = F.out, .host = &F.host,
			.aistats = st, .ai_only = true,
		};
		cr_assert_eq(pipeline__new(&F.pl, &po), 0);
	}
	chat_request(100, 0x1, CAP_DIR_WRITE);
	chat_response(100, 0x1, CAP_DIR_READ, 200);
	chat_request(100, 0x1, CAP_DIR_WRITE);
	chat_response(100, 0x1, CAP_DIR_READ, 500);
	cr_assert_eq(aistats__count(st), 1);
	aistats__for_each(st, first_series, &se);
	cr_assert_str_eq(se.provider, "openai");
	cr_assert_str_eq(se.model, "gpt-4o-mini");
	cr_assert_eq(se.requests, 2);
	cr_assert_eq(se.responses_ok, 1);
	cr_assert_eq(se.responses_err, 1);
	cr_assert_eq(se.prompt_tokens, 24);
	cr_assert_eq(se.completion_tokens, 4);
	cr_assert_eq(se.latency_count, 2);
	fix_close();
	aistats__free(st);
}

/* ---- issue 12: the memory budget (finding 5), decoded bodies (1) ---- */

/* Whether any line of the events file contains @needle. */
static bool events_contain(const char *needle)
{
	char *buf = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f = fopen(F.path, "r");

	cr_assert(f);
	while (!found && getline(&buf, &cap, f) > 0)
		found = strstr(buf, needle) != NULL;
	free(buf);
	fclose(f);
	return found;
}

static bool has_reason(const cJSON *ev, const char *reason)
{
	const cJSON *r, *rs = get(ev, "confidence.reasons");

	cJSON_ArrayForEach(r, rs)
		if (cJSON_IsString(r) && strcmp(r->valuestring, reason) == 0)
			return true;
	return false;
}

/*
 * The header section of a chat request declaring @len body bytes, and
 * all of its body but the last byte: the connection then holds the body
 * until it ends.
 */
static void one_byte_short(uint64_t ssl, size_t len)
{
	char *buf = malloc(len + 512);
	size_t n;

	cr_assert(buf);
	n = (size_t)sprintf(buf, "POST /v1/chat/completions HTTP/1.1\r\n"
			    "Host: api.openai.com\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %zu\r\n\r\n", len);
	memset(buf + n, ' ', len - 1);
	buf[n] = '{';
	call(100, ssl, CAP_DIR_WRITE, buf, n + len - 1);
	free(buf);
}

/*
 * Finding 5: 64 connections, each one byte short of its Content-Length,
 * held 64 x max_body.  With a budget they hold no more than the budget:
 * the largest bodies are dropped as the next ones arrive, their messages
 * keep their headers and say memory_budget, and it is all counted.
 */
Test(pipeline, bodies_held_stay_within_the_memory_budget)
{
	struct fix_limits lim = {
		.max_body = 256 << 10, .max_connections = 64,
		.memory_budget = 2 << 20,
	};
	struct pipeline_stats st;
	uint64_t ssl;
	int i, shed = 0;

	fix_open_limits(true, false, false, &lim);
	for (ssl = 1; ssl <= 64; ssl++)
		one_byte_short(ssl, 200 << 10);
	pipeline__stats(F.pl, &st);
	cr_assert_leq(st.memory_high_water_bytes, lim.memory_budget);
	cr_assert_leq(st.memory_bytes, lim.memory_budget);
	cr_assert_eq(st.memory_budget_bytes, lim.memory_budget);
	cr_assert_eq(st.connections, 64, "the connections themselves stay");
	cr_assert_geq(st.budget_shed_messages, 64 - 10);
	cr_assert_geq(st.budget_shed_bytes, (uint64_t)(64 - 10) * (190 << 10));
	pipeline__flush(F.pl);
	read_events();
	cr_assert_eq(F.n, 64);
	for (i = 0; i < F.n; i++) {
		cr_assert_str_eq(str(F.ev[i], "data.http.method"), "POST");
		cr_assert_str_eq(str(F.ev[i], "confidence.completeness"),
				 "partial");
		shed += has_reason(F.ev[i], "memory_budget");
	}
	pipeline__stats(F.pl, &st);
	cr_assert_eq((uint64_t)shed, st.budget_shed_messages,
		     "%d events say memory_budget, %lu shed", shed,
		     (unsigned long)st.budget_shed_messages);
	cr_assert_eq(st.memory_bytes, 0, "all given back: %lu",
		     (unsigned long)st.memory_bytes);
	fix_close();
}

/* Whatever is shed, the next exchange on a connection is whole. */
Test(pipeline, shed_connection_goes_on_with_its_next_exchange)
{
	struct fix_limits lim = {
		.max_body = 256 << 10, .memory_budget = 1 << 20,
	};
	struct pipeline_stats st;
	uint64_t ssl;

	fix_open_limits(true, false, false, &lim);
	for (ssl = 1; ssl <= 8; ssl++)
		one_byte_short(ssl, 200 << 10);
	/* The last byte: the first connection's request ends, shed. */
	callstr(100, 1, CAP_DIR_WRITE, "}");
	chat_response(100, 1, CAP_DIR_READ, 200);
	chat_request(100, 1, CAP_DIR_WRITE);
	chat_response(100, 1, CAP_DIR_READ, 200);
	read_events();
	cr_assert_eq(F.n, 4);
	cr_assert(has_reason(F.ev[0], "memory_budget"));
	cr_assert_str_eq(str(F.ev[2], "confidence.completeness"), "full");
	cr_assert_str_eq(str(F.ev[2], "data.messages.1.content"),
			 "Hello there");
	cr_assert_str_eq(str(F.ev[3], "confidence.completeness"), "full");
	pipeline__stats(F.pl, &st);
	cr_assert_leq(st.memory_high_water_bytes, lim.memory_budget);
	fix_close();
}

/*
 * When what cannot be refused (the connections' own state) is over the
 * budget, connections are closed, least recently used first, and
 * counted; the process goes on.
 */
Test(pipeline, connection_state_over_budget_closes_connections)
{
	struct fix_limits lim = {
		.max_connections = 4096, .memory_budget = 1 << 20,
	};
	struct pipeline_stats st;
	uint64_t ssl;

	fix_open_limits(true, false, false, &lim);
	for (ssl = 1; ssl <= 4000; ssl++)
		callstr(100, ssl, CAP_DIR_WRITE, "POST /v1/chat/comp");
	pipeline__stats(F.pl, &st);
	cr_assert_gt(st.budget_shed_connections, 0);
	cr_assert_lt(st.connections, 4000);
	cr_assert_leq(st.memory_bytes, lim.memory_budget);
	chat_request(100, 99999, CAP_DIR_WRITE);
	read_events();
	cr_assert_eq(F.n, 1);
	fix_close();
}

/*
 * Finding 1 (the pipeline's part): a compressed body decodes to at most
 * max_body bytes, not 8 times that.  A 40 KiB request under an 8 KiB
 * max_body was decoded whole before.
 */
Test(pipeline, decoded_body_is_cut_at_max_body)
{
	struct fix_limits lim = { .max_body = 8 << 10 };
	size_t plain_len = 40 << 10, enc_len, n;
	char *plain = malloc(plain_len + 1), *buf;
	unsigned char *enc;

	cr_assert(plain);
	n = (size_t)sprintf(plain, "{\"model\":\"gpt-4o\",\"messages\":"
			    "[{\"role\":\"user\",\"content\":\"");
	memset(plain + n, 'a', plain_len - n - 4);
	memcpy(plain + plain_len - 4, "\"}]}", 4);
	enc = gzip_buf(plain, plain_len, &enc_len);
	cr_assert_lt(enc_len, lim.max_body);
	buf = malloc(enc_len + 512);
	cr_assert(buf);
	n = (size_t)sprintf(buf, "POST /v1/chat/completions HTTP/1.1\r\n"
			    "Host: api.openai.com\r\n"
			    "Content-Encoding: gzip\r\n"
			    "Content-Length: %zu\r\n\r\n", enc_len);
	memcpy(buf + n, enc, enc_len);
	fix_open_limits(true, false, false, &lim);
	call(100, 0x51, CAP_DIR_WRITE, buf, n + enc_len);
	read_events();
	cr_assert_eq(F.n, 1);
	cr_assert(has_reason(F.ev[0], "decoded_body_truncated"));
	cr_assert_null(get(F.ev[0], "data.messages.0.content"),
		       "a message decoded past max_body");
	free(buf);
	free(enc);
	free(plain);
	fix_close();
}

/* ---- issue 12, finding 10: secrets via path or host ---- */

static void get_request(uint64_t ssl, const char *target, const char *host)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
		 target, host);
	callstr(100, ssl, CAP_DIR_WRITE, buf);
}

Test(pipeline, path_keeps_only_the_path)
{
	fix_open(false, false, false);
	get_request(1, "/v1/models;api_key=SECRET1/list?key=SECRET2#SECRET3",
		    "example.com");
	get_request(2, "https://user:SECRET4@example.com/v1/chat?x=SECRET5",
		    "example.com");
	get_request(3, "http://example.com", "example.com");
	callstr(100, 4, CAP_DIR_WRITE, "CONNECT user:SECRET6@example.com:443 "
		"HTTP/1.1\r\nHost: example.com\r\n\r\n");
	get_request(5, "/v1/files/a;jsessionid=SECRET7", "example.com");
	read_events();
	cr_assert_eq(F.n, 5);
	cr_assert_str_eq(str(F.ev[0], "data.http.path"), "/v1/models/list");
	cr_assert_str_eq(str(F.ev[1], "data.http.path"), "/v1/chat");
	cr_assert_str_eq(str(F.ev[2], "data.http.path"), "/");
	cr_assert_str_eq(str(F.ev[3], "data.http.path"), "example.com:443");
	cr_assert_str_eq(str(F.ev[4], "data.http.path"), "/v1/files/a");
	cr_assert_not(events_contain("SECRET"));
	fix_close();
}

Test(pipeline, keys_in_path_segments_are_replaced)
{
	fix_open(false, false, false);
	get_request(1, "/v1/sk-proj-AbCdEfGhIjKlMnOpQrStUv0123/chat",
		    "example.com");
	get_request(2, "/files/q9ZxT3vBn7LmK2pWr8YsHd4JfG6cVa1E/content",
		    "example.com");
	get_request(3, "/v1/api_key=hunter2hunter2/x", "example.com");
	/* Ids that are not secrets stay. */
	get_request(4, "/v1/responses/resp_67ccd2bed1ec8190b14f964abc0542670bb6",
		    "example.com");
	get_request(5, "/v1/threads/123e4567-e89b-12d3-a456-426614174000/runs",
		    "example.com");
	read_events();
	cr_assert_eq(F.n, 5);
	cr_assert_not(events_contain("AbCdEfGhIjKlMnOpQrStUv0123"));
	cr_assert_not(events_contain("q9ZxT3vBn7LmK2pWr8YsHd4JfG6cVa1E"));
	cr_assert_not(events_contain("hunter2"));
	cr_assert_str_eq(str(F.ev[1], "data.http.path"),
			 "/files/[REDACTED]/content");
	cr_assert_str_eq(str(F.ev[3], "data.http.path"),
			 "/v1/responses/resp_67ccd2bed1ec8190b14f964abc0542670bb6");
	cr_assert_str_eq(str(F.ev[4], "data.http.path"),
			 "/v1/threads/123e4567-e89b-12d3-a456-426614174000/runs");
	fix_close();
}

Test(pipeline, host_userinfo_never_reaches_the_endpoint)
{
	char buf[1024];

	fix_open(true, false, false);
	snprintf(buf, sizeof(buf),
		 "POST /v1/chat/completions HTTP/1.1\r\n"
		 "Host: user:SECRET8@api.openai.com\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 strlen(chat_req_body), chat_req_body);
	callstr(100, 1, CAP_DIR_WRITE, buf);
	chat_response(100, 1, CAP_DIR_READ, 200);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[0], "data.provider.endpoint"),
			 "api.openai.com");
	cr_assert_str_eq(str(F.ev[0], "data.http.host"), "api.openai.com");
	cr_assert_str_eq(str(F.ev[1], "data.provider.endpoint"),
			 "api.openai.com");
	cr_assert_not(events_contain("SECRET"));
	fix_close();
}

/*
 * Extraction's per-event element bound: what it leaves out of an event
 * is counted in the pipeline's statistics, not only marked in the event.
 */
Test(pipeline, elements_left_out_are_counted)
{
	struct fix_limits lim = { .max_body = 4 << 20 };
	struct pipeline_stats st;
	size_t n = 20000, i, len, off;
	char *buf;

	fix_open_limits(true, false, false, &lim);
	buf = malloc(n * 40 + 512);
	cr_assert(buf);
	len = 0;
	for (i = 0; i < n; i++)
		len += strlen("{\"role\":\"user\",\"content\":\"x\"},");
	len += strlen("{\"model\":\"gpt-4o\",\"messages\":[]}") - 1;
	off = (size_t)sprintf(buf, "POST /v1/chat/completions HTTP/1.1\r\n"
			      "Host: api.openai.com\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: %zu\r\n\r\n"
			      "{\"model\":\"gpt-4o\",\"messages\":[", len);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(buf + off, "%s{\"role\":\"user\","
				       "\"content\":\"x\"}", i ? "," : "");
	off += (size_t)sprintf(buf + off, "]}");
	call(100, 0x7, CAP_DIR_WRITE, buf, off);
	free(buf);
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.events_request, 1);
	cr_assert_eq(st.extract_elements_dropped, n - EXTRACT_MAX_ITEMS,
		     "%llu dropped",
		     (unsigned long long)st.extract_elements_dropped);
	fix_close();
}

/* An SSE reply of more events than the sensor parses says so. */
Test(pipeline, sse_events_past_the_bound_mark_the_response)
{
	struct fix_limits lim = { .max_body = 4 << 20 };
	size_t n = SSE_MAX_EVENTS + 10, i, off;
	char *buf;

	fix_open_limits(true, false, false, &lim);
	chat_request(100, 0x8, CAP_DIR_WRITE);
	buf = malloc(n * 10 + 512);
	cr_assert(buf);
	off = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n"
			      "Content-Type: text/event-stream\r\n"
			      "Content-Length: %zu\r\n\r\n", n * 10);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(buf + off, "data: {}\n\n");
	call(100, 0x8, CAP_DIR_READ, buf, off);
	free(buf);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert(has_reason(F.ev[1], "stream_incomplete"));
	fix_close();
}

/* ---- HTTP/2 ---- */

static void h2call(uint64_t ssl, int dir, struct h2buf *b)
{
	call(100, ssl, dir, (const char *)b->p, b->len);
	h2b_free(b);
}

static void h2_chat_request(struct h2buf *w, nghttp2_hd_deflater *def,
			    uint32_t sid)
{
	static const char *const kv[] = {
		":method", "POST", ":scheme", "https",
		":path", "/v1/chat/completions", ":authority", "api.openai.com",
		"authorization", "Bearer sk-test-0123456789abcdefghij",
		"content-type", "application/json", NULL,
	};

	h2_headers(w, def, 0, sid, kv);
}

static const char *const h2_json_resp[] = {
	":status", "200", "content-type", "application/json", NULL,
};

/* The answer to stream @sid, with @total_tokens in its usage. */
static void h2_chat_response(struct h2buf *r, nghttp2_hd_deflater *def,
			     uint32_t sid, int total_tokens)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"id\":\"c%u\",\"object\":\"chat.completion\","
		 "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,"
		 "\"message\":{\"role\":\"assistant\",\"content\":\"s%u\"},"
		 "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,"
		 "\"completion_tokens\":%d,\"total_tokens\":%d}}",
		 sid, sid, total_tokens - 1, total_tokens);
	h2_headers(r, def, 0, sid, h2_json_resp);
	h2_frame(r, 0x0, 0x01, sid, body, strlen(body));
}

static const cJSON *event_with(const char *type, const char *path,
			       const char *value)
{
	int i;

	for (i = 0; i < F.n; i++)
		if (!strcmp(str(F.ev[i], "event_type"), type) &&
		    str(F.ev[i], path) && !strcmp(str(F.ev[i], path), value))
			return F.ev[i];
	return NULL;
}

/*
 * Opens the pipeline fixture and a client's HTTP/2 connection @ssl on it
 * (preface and both SETTINGS), with an HPACK deflater per end.
 */
static void h2_client_open(uint64_t ssl, nghttp2_hd_deflater **cdef,
			   nghttp2_hd_deflater **sdef)
{
	struct h2buf w = { 0 }, r = { 0 };

	cr_assert_eq(nghttp2_hd_deflate_new(cdef, 4096), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(sdef, 4096), 0);
	fix_open(true, false, false);
	h2b_put(&w, H2_PREFACE, strlen(H2_PREFACE));
	h2_settings(&w, 0, 0);
	h2call(ssl, CAP_DIR_WRITE, &w);
	h2_settings(&r, 0, 0);
	h2call(ssl, CAP_DIR_READ, &r);
}

static const char *const h2_sse_resp[] = {
	":status", "200", "content-type", "text/event-stream", NULL,
};

/*
 * The client resets (RST_STREAM CANCEL) a streamed answer: after its
 * last events (finish reason, then usage) the answer is whole, as hyper
 * does when Codex drops the body; after the first event it is partial.
 */
Test(pipeline, http2_stream_reset_after_its_last_event_is_whole)
{
	static const char b[] =
		"{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":"
		"[{\"role\":\"user\",\"content\":\"hi\"}]}";
	static const char first[] =
		"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":"
		"{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
	static const char last[] =
		"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},"
		"\"finish_reason\":\"stop\"}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\""
		":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n";
	static const unsigned char cancel[4] = { 0, 0, 0, 8 };
	nghttp2_hd_deflater *cdef, *sdef;
	struct h2buf w = { 0 }, r = { 0 };
	struct pipeline_stats st;
	uint32_t sid;

	h2_client_open(0x21, &cdef, &sdef);
	for (sid = 1; sid <= 3; sid += 2) {
		h2_chat_request(&w, cdef, sid);
		h2_frame(&w, 0x0, 0x01, sid, b, strlen(b));
		h2call(0x21, CAP_DIR_WRITE, &w);
		h2_headers(&r, sdef, 0, sid, h2_sse_resp);
		h2_frame(&r, 0x0, 0, sid, first, strlen(first));
		if (sid == 1)
			h2_frame(&r, 0x0, 0, sid, last, strlen(last));
		h2call(0x21, CAP_DIR_READ, &r);
		h2_frame(&w, 0x3, 0, sid, cancel, 4);
		h2call(0x21, CAP_DIR_WRITE, &w);
	}
	read_events();
	cr_assert_eq(F.n, 4);
	cr_assert_str_eq(str(F.ev[1], "event_type"), "ai.response");
	cr_assert_eq(num(F.ev[1], "data.usage.total_tokens"), 6);
	cr_assert_str_eq(str(F.ev[1], "confidence.completeness"), "full");
	cr_assert_str_eq(str(F.ev[3], "event_type"), "ai.response");
	cr_assert_str_eq(str(F.ev[3], "confidence.completeness"), "partial");
	expect_reasons(F.ev[3], "message_incomplete", "stream_reset");
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.http2_streams_reset, 2);
	fix_close();
	nghttp2_hd_deflate_del(cdef);
	nghttp2_hd_deflate_del(sdef);
}

Test(pipeline, http2_streams_answered_out_of_order_pair_by_stream_id)
{
	static const char b1[] =
		"{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"one\"}]}";
	static const char b3[] =
		"{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"three\"}]}";
	nghttp2_hd_deflater *cdef, *sdef;
	struct h2buf w = { 0 }, r = { 0 };
	const cJSON *rq1, *rq3, *rs1, *rs3;
	char *txt;

	h2_client_open(0x20, &cdef, &sdef);
	/* Two requests, their bodies interleaved. */
	h2_chat_request(&w, cdef, 1);
	h2_chat_request(&w, cdef, 3);
	h2call(0x20, CAP_DIR_WRITE, &w);
	h2_frame(&w, 0x0, 0, 3, b3, 10);
	h2_frame(&w, 0x0, 0, 1, b1, 10);
	h2call(0x20, CAP_DIR_WRITE, &w);
	h2_frame(&w, 0x0, 0x01, 1, b1 + 10, strlen(b1) - 10);
	h2_frame(&w, 0x0, 0x01, 3, b3 + 10, strlen(b3) - 10);
	h2call(0x20, CAP_DIR_WRITE, &w);
	/* Answered 3 first, then 1. */
	h2_chat_response(&r, sdef, 3, 33);
	h2call(0x20, CAP_DIR_READ, &r);
	h2_chat_response(&r, sdef, 1, 11);
	h2call(0x20, CAP_DIR_READ, &r);
	pipeline__flush(F.pl);
	read_events();
	cr_assert_eq(F.n, 4);
	rq1 = event_with("ai.request", "data.model.id", "gpt-4o-mini");
	rq3 = event_with("ai.request", "data.model.id", "gpt-4o");
	rs1 = event_with("ai.response", "data.choices.0.message.content", "s1");
	rs3 = event_with("ai.response", "data.choices.0.message.content", "s3");
	cr_assert(rq1 && rq3 && rs1 && rs3);
	cr_assert_str_eq(str(rq1, "data.provider.name"), "openai");
	cr_assert_str_eq(str(rq3, "data.messages.0.content"), "three");
	cr_assert_str_eq(str(rs1, "data.request_id"),
			 str(rq1, "data.request_id"));
	cr_assert_str_eq(str(rs3, "data.request_id"),
			 str(rq3, "data.request_id"));
	cr_assert_eq(num(rs1, "data.usage.total_tokens"), 11);
	cr_assert_eq(num(rs3, "data.usage.total_tokens"), 33);
	cr_assert_str_eq(str(rs3, "confidence.completeness"), "full");
	txt = cJSON_PrintUnformatted(rq1);
	cr_assert_null(strstr(txt, "sk-test-0123"));
	free(txt);
	fix_close();
	nghttp2_hd_deflate_del(cdef);
	nghttp2_hd_deflate_del(sdef);
}

/* The process is the HTTP/2 server: it writes SETTINGS, reads the preface. */
static void h2_server_exchange(uint64_t ssl, nghttp2_hd_deflater *cdef,
			       nghttp2_hd_deflater *sdef)
{
	static const char b[] = "{\"model\":\"gpt-4o-mini\",\"messages\":[]}";
	struct h2buf w = { 0 }, r = { 0 };

	h2_settings(&w, 0x3, 100);
	h2call(ssl, CAP_DIR_WRITE, &w);
	h2b_put(&r, H2_PREFACE, strlen(H2_PREFACE));
	h2_settings(&r, 0, 0);
	h2_chat_request(&r, cdef, 1);
	h2_frame(&r, 0x0, 0x01, 1, b, strlen(b));
	h2call(ssl, CAP_DIR_READ, &r);
	h2_chat_response(&w, sdef, 1, 7);
	h2call(ssl, CAP_DIR_WRITE, &w);
}

Test(pipeline, http2_server_end_reported_when_asked)
{
	nghttp2_hd_deflater *cdef, *sdef;

	cr_assert_eq(nghttp2_hd_deflate_new(&cdef, 4096), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(&sdef, 4096), 0);
	fix_open(true, true, false);
	h2_server_exchange(0x30, cdef, sdef);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[0], "event_type"), "ai.request");
	cr_assert_str_eq(str(F.ev[0], "source.capture_point"), "tls_server");
	cr_assert_str_eq(str(F.ev[0], "data.provider.name"), "openai");
	cr_assert_str_eq(str(F.ev[1], "source.capture_point"), "tls_server");
	cr_assert_eq(num(F.ev[1], "data.usage.total_tokens"), 7);
	cr_assert_str_eq(str(F.ev[1], "confidence.completeness"), "full");
	fix_close();
	nghttp2_hd_deflate_del(cdef);
	nghttp2_hd_deflate_del(sdef);
}

/* Not reported: the hook is told at the preface, before any message. */
Test(pipeline, http2_server_end_goes_to_the_hook)
{
	nghttp2_hd_deflater *cdef, *sdef;
	struct pipeline_stats st;

	cr_assert_eq(nghttp2_hd_deflate_new(&cdef, 4096), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(&sdef, 4096), 0);
	struct h2buf r = { 0 };

	ign_open(false);
	h2b_put(&r, H2_PREFACE, strlen(H2_PREFACE));
	h2_settings(&r, 0, 0);
	h2call(0x31, CAP_DIR_READ, &r);
	cr_assert_eq(n_ign, 1);
	cr_assert_eq(ign[0].conn, 0x31);
	cr_assert_eq(ign[0].ts, F.ts);
	h2_server_exchange(0x31, cdef, sdef);
	cr_assert_eq(n_ign, 1);
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.server_side_skipped, 1);
	cr_assert_eq(st.http_messages, 0);
	cr_assert_eq(st.connections_not_http1, 0);
	read_events();
	cr_assert_eq(F.n, 0);
	fix_close();
	nghttp2_hd_deflate_del(cdef);
	nghttp2_hd_deflate_del(sdef);
}

/*
 * A client's HTTP/2 connection joined mid-way, its first captured call
 * starting mid-frame (HTTP/1.1 takes it), then calls starting with
 * frames (HTTP/2 takes over): the request refers to HPACK entries from
 * before, is classified by its body and says so.
 */
Test(pipeline, http2_joined_mid_frame_is_taken_over)
{
	static const char b[] =
		"{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"joined\"}]}";
	nghttp2_hd_deflater *cdef, *sdef;
	struct h2buf w = { 0 }, r = { 0 };
	struct pipeline_stats st;

	cr_assert_eq(nghttp2_hd_deflate_new(&cdef, 4096), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(&sdef, 4096), 0);
	fix_open(true, false, false);
	/* Stream 1, before the join: both tables learn its fields. */
	h2_chat_request(&w, cdef, 1);
	h2_chat_response(&r, sdef, 1, 5);
	call(100, 0x40, CAP_DIR_READ, (const char *)r.p + 12, r.len - 12);
	h2b_free(&w);
	h2b_free(&r);
	h2_chat_request(&w, cdef, 3);
	h2_frame(&w, 0x0, 0x01, 3, b, strlen(b));
	h2call(0x40, CAP_DIR_WRITE, &w);
	h2_chat_response(&r, sdef, 3, 9);
	h2call(0x40, CAP_DIR_READ, &r);
	read_events();
	cr_assert_eq(F.n, 2);
	cr_assert_str_eq(str(F.ev[0], "data.messages.0.content"), "joined");
	/*
	 * nghttp2 never indexes :path: known, :authority not.  The rule
	 * without a host pattern matches.
	 */
	cr_assert_str_eq(str(F.ev[0], "data.http.path"), "/v1/chat/completions");
	cr_assert_str_eq(str(F.ev[0], "data.provider.name"), "other");
	cr_assert_str_eq(str(F.ev[0], "confidence.rule"),
			 "openai-compatible-chat");
	expect_reasons(F.ev[0], "hpack_fields_unknown", NULL);
	cr_assert_eq(num(F.ev[1], "data.usage.total_tokens"), 9);
	cr_assert_str_eq(str(F.ev[1], "data.request_id"),
			 str(F.ev[0], "data.request_id"));
	pipeline__stats(F.pl, &st);
	cr_assert_eq(st.http2_connections_joined, 1);
	cr_assert_eq(st.http2_streams_hpack_unknown, 1);
	/* :authority, content-type (request), content-type (response) */
	cr_assert_eq(st.http2_hpack_fields_unknown, 3);
	cr_assert_eq(st.connections_not_http1, 0);
	fix_close();
	nghttp2_hd_deflate_del(cdef);
	nghttp2_hd_deflate_del(sdef);
}
