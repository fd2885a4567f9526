// SPDX-License-Identifier: MIT
/*
 * WebSocket through the HTTP/1.1 entry (proto/http1.c hand-off after a
 * 101, proto/wsmap.c grouping): frames made by python3-websockets
 * (tests/fixtures/ws/mkws.py), the Responses and Realtime groupings, and
 * upgrades that do not switch to WebSocket.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ai/extract.h"
#include "proto/http1.h"
#include "proto/proto.h"
#include "proto/ws.h"
#include "slurp.h"
#include "wsframes.h"

#define FIX "../fixtures/ws/"
#define MAXM 16

static const unsigned char KEY[4] = { 1, 2, 3, 4 };

struct got {
	size_t n;
	struct http_msg *m[MAXM];
};

static void on_msg(void *ctx, struct http_msg *m)
{
	struct got *g = ctx;

	cr_assert_lt(g->n, MAXM);
	g->m[g->n++] = m;
}

static void got_free(struct got *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		http_msg__free(g->m[i]);
}

static void feed(void *st, enum proto_dir d, const void *p, size_t n,
		 size_t step, uint64_t *ts)
{
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		cr_assert_eq(proto_http1.feed(st, d, (const char *)p + i, k,
					      (*ts)++), 0);
	}
}

static void feeds(void *st, enum proto_dir d, const char *s, uint64_t *ts)
{
	feed(st, d, s, strlen(s), strlen(s), ts);
}

static const char UPGRADE_RESPONSES[] =
	"GET /v1/responses HTTP/1.1\r\nHost: api.openai.com\r\n"
	"Upgrade: websocket\r\nConnection: Upgrade\r\n"
	"Authorization: Bearer sk-x\r\n"
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	"Sec-WebSocket-Version: 13\r\n\r\n";

/* Line @i (0-based) of messages.txt, without "C " / "S " and the LF. */
static char *message_line(const char *all, int i)
{
	const char *p = all, *nl;

	while (i--)
		p = strchr(p, '\n') + 1;
	nl = strchr(p, '\n');
	return strndup(p + 2, (size_t)(nl - p - 2));
}

Test(ws_map, responses_real_frames)
{
	static const char accept[] =
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n"
		"Sec-WebSocket-Extensions: permessage-deflate; "
		"server_no_context_takeover\r\n\r\n\x89\x00";
	size_t clen, slen, step;
	char *cli = slurp(FIX "client.bin", &clen);
	char *srv = slurp(FIX "server.bin", &slen);
	char *txt = slurp(FIX "messages.txt", NULL);
	char *line, *want;
	struct proto_stats st;
	struct http_msg *r;
	struct got g;
	uint64_t ts;
	void *h;
	int i;

	for (step = 1; step < 40; step += 6) {
		memset(&g, 0, sizeof(g));
		ts = 1;
		cr_assert_eq(proto_http1.new(&h, NULL, on_msg, &g), 0);
		feeds(h, PROTO_DIR_WRITE, UPGRADE_RESPONSES, &ts);
		feed(h, PROTO_DIR_READ, accept, sizeof(accept) - 1,
		     sizeof(accept), &ts);
		feed(h, PROTO_DIR_WRITE, cli, clen, step, &ts);
		feed(h, PROTO_DIR_READ, srv, slen, step, &ts);
		cr_assert(!proto_http1.ignored(h));
		cr_assert_eq(g.n, 5, "step %zu: %zu messages", step, g.n);
		cr_assert(g.m[0]->flags & HTTP_MSG_WS_HANDSHAKE);
		cr_assert(g.m[1]->flags & HTTP_MSG_WS_HANDSHAKE);
		cr_assert_eq(g.m[1]->status, 101);
		for (i = 0; i < 2; i++) {
			r = g.m[2 + i];
			line = message_line(txt, i);
			cr_assert(r->is_request);
			cr_assert(r->flags & HTTP_MSG_WEBSOCKET);
			cr_assert_str_eq(r->method, "GET");
			cr_assert_str_eq(r->target, "/v1/responses");
			cr_assert_str_eq(r->authority, "api.openai.com");
			cr_assert_str_eq(http_msg__header(r, "authorization"),
					 "Bearer sk-x");
			cr_assert_str_eq((char *)r->body, line);
			cr_assert_eq(r->dir, PROTO_DIR_WRITE);
			free(line);
		}
		r = g.m[4];
		cr_assert(!r->is_request);
		cr_assert_eq(r->status, 101);
		cr_assert_eq(r->dir, PROTO_DIR_READ);
		cr_assert(r->flags & HTTP_MSG_WEBSOCKET);
		cr_assert_eq(r->flags & HTTP_MSG_INCOMPLETE, 0);
		cr_assert_eq(r->n_marks, 4, "a mark per server message");
		for (i = 0; i < 4; i++) {
			line = message_line(txt, 3 + i);
			cr_assert_eq(asprintf(&want, "data: %s\n\n", line) > 0,
				     true);
			cr_assert(strstr((char *)r->body, want),
				  "step %zu: %s", step, want);
			cr_assert_eq(memcmp(r->body + r->marks[i].body_off,
					    want, strlen(want)), 0);
			free(want);
			free(line);
		}
		proto_http1.stats(h, &st);
		cr_assert_eq(st.ws_connections, 1);
		cr_assert_eq(st.ws_messages, 7);
		cr_assert_eq(st.ws_control_frames, 3);
		cr_assert_eq(st.ws_other_messages, 1, "the binary one");
		cr_assert_eq(st.ws_frame_errors + st.ws_deflate_errors, 0);
		proto_http1.flush(h, PROTO_DIR_WRITE, ts);
		proto_http1.flush(h, PROTO_DIR_READ, ts);
		cr_assert_eq(g.n, 5, "the second response never came");
		proto_http1.free(h);
		got_free(&g);
	}
	free(cli);
	free(srv);
	free(txt);
}

static void frame(struct wsbuf *b, bool client, const char *s)
{
	ws_frame_add(b, WS_OP_TEXT, true, false, client ? KEY : NULL, s,
		     strlen(s), false);
}

Test(ws_map, realtime_turns_and_audio)
{
	static const char up[] =
		"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\n"
		"Host: api.openai.com\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n\r\n";
	static const char acc[] =
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n\r\n";
	struct wsbuf c = { 0 }, s = { 0 };
	struct proto_stats st;
	struct http_msg *r;
	struct got g = { 0 };
	uint64_t ts = 1;
	void *h;

	frame(&s, false, "{\"type\":\"session.created\"}");
	frame(&c, true, "{\"type\":\"session.update\",\"session\":"
			"{\"instructions\":\"Be a pirate.\"}}");
	frame(&c, true, "{\"type\":\"conversation.item.create\",\"item\":"
			"{\"type\":\"message\",\"role\":\"user\",\"content\":"
			"[{\"type\":\"input_text\",\"text\":\"Hi\"}]}}");
	frame(&c, true, "{\"event_id\":\"e1\",\"type\":"
			"\"input_audio_buffer.append\",\"audio\":\"AUDIOAUDIO\"}");
	frame(&c, true, "{\"type\":\"input_audio_buffer.append\","
			"\"audio\":\"AUDIOAUDIO\"}");
	frame(&c, true, "{\"type\":\"response.create\"}");
	cr_assert_eq(proto_http1.new(&h, NULL, on_msg, &g), 0);
	feeds(h, PROTO_DIR_WRITE, up, &ts);
	feeds(h, PROTO_DIR_READ, acc, &ts);
	feed(h, PROTO_DIR_READ, s.p, s.len, s.len, &ts);
	feed(h, PROTO_DIR_WRITE, c.p, c.len, 5, &ts);
	cr_assert_eq(g.n, 3);
	r = g.m[2];
	cr_assert(r->is_request);
	cr_assert_eq(r->audio_chunks, 2);
	cr_assert(strstr((char *)r->body, "\"model\":\"gpt-realtime\""));
	cr_assert(strstr((char *)r->body, "Be a pirate."));
	cr_assert(strstr((char *)r->body, "\"Hi\""));
	cr_assert_null(strstr((char *)r->body, "AUDIO"), "audio not kept");
	s.len = 0;
	frame(&s, false, "{\"type\":\"response.created\"}");
	frame(&s, false, "{\"type\":\"response.output_audio.delta\","
			 "\"delta\":\"AUDIOAUDIO\"}");
	frame(&s, false, "{\"type\":\"response.output_audio_transcript."
			 "delta\",\"delta\":\"Arr\"}");
	frame(&s, false, "{\"type\":\"response.done\",\"response\":"
			 "{\"status\":\"completed\"}}");
	feed(h, PROTO_DIR_READ, s.p, s.len, 3, &ts);
	cr_assert_eq(g.n, 4);
	r = g.m[3];
	cr_assert_eq(r->status, 101);
	cr_assert_eq(r->audio_chunks, 1);
	cr_assert_null(strstr((char *)r->body, "AUDIO"), "audio not kept");
	cr_assert(strstr((char *)r->body,
			 "data: {\"type\":\"response.output_audio.delta\"}\n"));
	cr_assert(strstr((char *)r->body, "response.done"));
	proto_http1.stats(h, &st);
	cr_assert_eq(st.ws_audio_chunks, 3);
	cr_assert_eq(st.ws_other_messages, 1, "session.created");
	proto_http1.free(h);
	got_free(&g);
	free(c.p);
	free(s.p);
}

/* A refused upgrade stays HTTP; a 101 to another protocol is ignored. */
Test(ws_map, not_websocket)
{
	static const char no[] = "HTTP/1.1 401 Unauthorized\r\n"
				 "Content-Length: 0\r\n\r\n";
	static const char h2c[] = "HTTP/1.1 101 Switching Protocols\r\n"
				  "Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n";
	struct got g = { 0 };
	uint64_t ts = 1;
	void *h;

	cr_assert_eq(proto_http1.new(&h, NULL, on_msg, &g), 0);
	feeds(h, PROTO_DIR_WRITE, UPGRADE_RESPONSES, &ts);
	feeds(h, PROTO_DIR_READ, no, &ts);
	cr_assert_eq(g.n, 2);
	cr_assert(!proto_http1.ignored(h));
	feeds(h, PROTO_DIR_READ, "\x81\x02hi", &ts);
	feeds(h, PROTO_DIR_WRITE, UPGRADE_RESPONSES, &ts);
	feeds(h, PROTO_DIR_READ, h2c, &ts);
	cr_assert(proto_http1.ignored(h));
	cr_assert_eq(g.m[3]->flags & HTTP_MSG_WS_HANDSHAKE, 0);
	proto_http1.free(h);
	got_free(&g);
}

/*
 * Realtime's model: the URL's model=, else the client's session.update,
 * else the server's session.created; read by extract__request().
 */
static char *realtime_model(const char *target, const char *srv,
			    const char *cli)
{
	static const char acc[] =
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n\r\n";
	struct wsbuf c = { 0 }, s = { 0 };
	const cJSON *id;
	struct got g = { 0 };
	char up[256], *model;
	uint64_t ts = 1;
	cJSON *data;
	void *h;

	snprintf(up, sizeof(up), "GET %s HTTP/1.1\r\nHost: api.openai.com\r\n"
		 "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n", target);
	frame(&s, false, srv);
	frame(&c, true, cli);
	frame(&c, true, "{\"type\":\"response.create\"}");
	cr_assert_eq(proto_http1.new(&h, NULL, on_msg, &g), 0);
	feeds(h, PROTO_DIR_WRITE, up, &ts);
	feeds(h, PROTO_DIR_READ, acc, &ts);
	feed(h, PROTO_DIR_READ, s.p, s.len, s.len, &ts);
	feed(h, PROTO_DIR_WRITE, c.p, c.len, c.len, &ts);
	cr_assert_eq(g.n, 3);
	data = cJSON_CreateObject();
	cr_assert_eq(extract__request("openai.realtime",
				      (char *)g.m[2]->body,
				      g.m[2]->body_len, data, NULL), 0);
	id = cJSON_GetObjectItem(cJSON_GetObjectItem(data, "model"), "id");
	model = cJSON_IsString(id) ? strdup(id->valuestring) : NULL;
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(data, "streaming")));
	cJSON_Delete(data);
	proto_http1.free(h);
	got_free(&g);
	free(c.p);
	free(s.p);
	return model;
}

Test(ws_map, realtime_model)
{
	static const char srv[] = "{\"type\":\"session.created\",\"session\":"
				  "{\"model\":\"from-server\"}}";
	static const char cli[] = "{\"type\":\"session.update\",\"session\":"
				  "{\"model\":\"from-client\"}}";
	static const char cli_none[] = "{\"type\":\"session.update\","
				       "\"session\":{}}";
	char *m;

	m = realtime_model("/v1/realtime?model=from-url", srv, cli);
	cr_assert_str_eq(m, "from-url");
	free(m);
	m = realtime_model("/v1/realtime", srv, cli);
	cr_assert_str_eq(m, "from-client");
	free(m);
	m = realtime_model("/v1/realtime", srv, cli_none);
	cr_assert_str_eq(m, "from-server");
	free(m);
}
