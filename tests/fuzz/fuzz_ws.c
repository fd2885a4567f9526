// SPDX-License-Identifier: MIT
/*
 * WebSocket frames with permessage-deflate (proto/ws.c) after a 101, as
 * the HTTP/1.1 entry hands them over, grouped into messages
 * (proto/wsmap.c) and extracted (ai/extract_realtime.c and the
 * Responses stream).  The target writes the handshake itself; the first
 * input byte picks it: bits 0-1 the path (/v1/responses, /v1/realtime,
 * another), bit 2 permessage-deflate, bit 3 client_no_context_takeover,
 * bit 5 server_no_context_takeover, bit 4 gaps (a control byte of 0xff
 * is then a gap of the read side), bit 6 a 16 KiB memory budget whose
 * shed callback drops the connection's bodies.  Then pieces as in
 * pieces.h: a control byte (bit 0: direction, bits 1-7: length - 1)
 * and its bytes, fed as one call.  Both directions are flushed at the
 * end; every message handed out is extracted and freed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ai/extract.h"
#include "lib/budget.h"
#include "pieces.h"
#include "proto/http1.h"
#include "proto/sse.h"

static size_t shed_conn(void *ctx, size_t need)
{
	return proto_http1.shed(*(void **)ctx);
}

static const char *const paths[] = {
	"/v1/responses", "/v1/realtime?model=gpt-realtime", "/chat", "/x",
};

static void extract(struct http_msg *msg, const char *api)
{
	struct extract_event xe[64];
	struct sse_event *ev = NULL;
	cJSON *data = cJSON_CreateObject();
	size_t n = 0, i;

	if (!data || !msg->body_len)
		goto out;
	if (msg->is_request) {
		extract__request(api, (const char *)msg->body, msg->body_len,
				 data, NULL);
		goto out;
	}
	if (sse__parse((const char *)msg->body, msg->body_len, 64, &ev,
		       &n) == -ENOMEM)
		goto out;
	for (i = 0; i < n && i < 64; i++) {
		xe[i].event = ev[i].event;
		xe[i].data = ev[i].data;
	}
	extract__response_stream(api, xe, i, data, NULL);
	sse__free_events(ev, n);
out:
	cJSON_Delete(data);
}

static void on_msg(void *ctx, struct http_msg *msg)
{
	const char *api = ctx;

	if (msg->flags & HTTP_MSG_WEBSOCKET)
		extract(msg, api);
	http_msg__free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_limits lim = { .max_body = 4096 };
	char up[256], acc[256];
	struct budget *b = NULL;
	const char *api;
	void *st = NULL;
	uint64_t ts = 1;
	uint8_t ctl;
	int n;

	if (size < 1)
		return 0;
	ctl = data[0];
	api = (ctl & 3) == 1 ? "openai.realtime" : "openai.responses";
	if ((ctl & 0x40) && budget__new(&b, 16384) == 0) {
		budget__on_shed(b, shed_conn, &st);
		lim.budget = b;
	}
	if (proto_http1.new(&st, &lim, on_msg, (void *)api)) {
		budget__free(b);
		return 0;
	}
	n = snprintf(up, sizeof(up), "GET %s HTTP/1.1\r\nHost: h\r\n"
		     "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		     paths[ctl & 3]);
	proto_http1.feed(st, PROTO_DIR_WRITE, up, (size_t)n, ts++);
	n = snprintf(acc, sizeof(acc), "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\nConnection: Upgrade\r\n%s%s%s\r\n",
		     ctl & 4 ? "Sec-WebSocket-Extensions: permessage-deflate" :
			       "",
		     ctl & 4 && ctl & 8 ? "; client_no_context_takeover" : "",
		     ctl & 4 ? (ctl & 0x20 ?
				"; server_no_context_takeover\r\n" : "\r\n") :
			       "");
	proto_http1.feed(st, PROTO_DIR_READ, acc, (size_t)n, ts++);
	ts = fuzz_pieces(&proto_http1, st, data, size, ts);
	proto_http1.flush(st, PROTO_DIR_WRITE, ts);
	proto_http1.flush(st, PROTO_DIR_READ, ts);
	proto_http1.free(st);
	budget__free(b);
	return 0;
}
