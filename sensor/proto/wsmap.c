// SPDX-License-Identifier: MIT
/*
 * WebSocket messages grouped into HTTP requests and responses.  See
 * wsmap.h for the grouping and its formats.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/budget.h"
#include "lib/jscan.h"
#include "proto/body.h"
#include "proto/wsmap.h"

#define DEFAULT_MAX_BODY	(4u << 20)
#define TYPE_MAX		64

enum wsmap_mode {
	MODE_OTHER,
	MODE_RESPONSES,		/* OpenAI Responses over WebSocket */
	MODE_REALTIME,		/* OpenAI Realtime */
};

/*
 * A buffer kept as a message body is (proto/body.h): bounded by
 * max_body (HTTP_MSG_TRUNCATED past it), charged, shed alike.
 */
struct wbuf {
	struct http_msg m;
	struct body_state b;
};

struct wsmap {
	enum wsmap_mode mode;
	size_t max_body;
	struct budget *bg;
	proto_msg_fn cb;
	void *ctx;
	enum proto_dir client_dir;
	/* the upgrade request, for the requests made here */
	char *target;
	struct http_header *headers;
	size_t n_headers;
	size_t tmpl_charge;
	char *url_model;	/* Realtime: model= of the URL, or NULL */
	/* requests sent whose response has not ended */
	uint64_t outstanding;
	/* the response in progress */
	struct http_msg *resp;
	struct body_state rb;
	size_t resp_meta;	/* its marks, charged */
	bool resp_started;	/* Realtime: response.created seen */
	uint64_t seq;
	/*
	 * Realtime: the server's latest session.created/updated (for its
	 * model), the client's latest session.update, the turn so far
	 */
	struct wbuf srv_session, session, turn;
	uint64_t turn_audio_chunks, turn_audio_bytes;
	struct wsmap_stats st;
};

/* ---- small helpers ---- */

static void wbuf_free(struct wsmap *m, struct wbuf *b)
{
	budget__release(m->bg, b->b.cap);
	free(b->m.body);
	memset(b, 0, sizeof(*b));
}

static size_t wbuf_drop(struct wsmap *m, struct wbuf *b)
{
	return b->m.body_total ? body__drop(&b->b, &b->m, m->bg) : 0;
}

static int wbuf_add(struct wsmap *m, struct wbuf *b, const void *p, size_t n)
{
	return body__append(&b->b, &b->m, m->bg, m->max_body, 0, p, n, 0);
}

/* What of the buffer was lost: HTTP_MSG_TRUNCATED and HTTP_MSG_SHED. */
static unsigned wbuf_flags(const struct wbuf *b)
{
	return b->m.flags & (HTTP_MSG_TRUNCATED | HTTP_MSG_SHED);
}

static int wbuf_str(struct wsmap *m, struct wbuf *b, const char *s)
{
	return wbuf_add(m, b, s, strlen(s));
}

/*
 * The "type" member of the JSON object @p (top level only), copied into
 * @out (TYPE_MAX bytes, "" when absent or too long).  One pass over the
 * message, no allocation: audio messages are skipped by it whole.
 */
static void json_type(const unsigned char *p, size_t n, char *out)
{
	struct jscan_member mb;
	struct jscan s;

	out[0] = '\0';
	if (jscan__open(&s, p, n, false))
		return;
	while (jscan__next(&s, &mb) > 0) {
		if (!jscan__key_is(&mb, "type"))
			continue;
		if (mb.val_len > 2 && mb.val_len - 2 < TYPE_MAX &&
		    mb.val[0] == '"' && mb.val[mb.val_len - 1] == '"') {
			memcpy(out, mb.val + 1, mb.val_len - 2);
			out[mb.val_len - 2] = '\0';
		}
		return;
	}
}

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* ---- messages handed on ---- */

/*
 * Copies the @n fields at @src into *@out (*@n_out of them; a field's
 * value in its name's allocation, as parsers make them), adding their
 * size to *@charge.  Returns 0 or -ENOMEM (what was copied is in *@out).
 */
static int headers_copy(const struct http_header *src, size_t n,
			struct http_header **out, size_t *n_out,
			size_t *charge)
{
	struct http_header *h;
	size_t i, ln, lv;

	*out = NULL;
	*n_out = 0;
	if (!n)
		return 0;
	h = calloc(n, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ln = strlen(src[i].name);
		lv = strlen(src[i].value);
		h[i].name = malloc(ln + lv + 2);
		if (!h[i].name)
			break;
		memcpy(h[i].name, src[i].name, ln + 1);
		h[i].value = h[i].name + ln + 1;
		memcpy(h[i].value, src[i].value, lv + 1);
		*charge += ln + lv + 2 + sizeof(*h) + 16;
	}
	*out = h;
	*n_out = i;
	return i == n ? 0 : -ENOMEM;
}

/* Hands @msg on; what it holds stays charged until the callback is done. */
static void emit(struct wsmap *m, struct http_msg *msg, size_t charged)
{
	msg->flags |= HTTP_MSG_WEBSOCKET;
	msg->http_major = 1;
	msg->http_minor = 1;
	m->cb(m->ctx, msg);
	budget__release(m->bg, charged);
}

/*
 * A request of the upgrade's target and headers with body @body (@len
 * bytes kept, @total seen), arrived from @ts0 to @ts1; *@charge is what
 * it was charged.  NULL: no memory.
 */
static struct http_msg *request_new(struct wsmap *m, const void *body,
				    size_t len, uint64_t total, unsigned flags,
				    uint64_t ts0, uint64_t ts1, size_t *charge)
{
	struct http_msg *r = calloc(1, sizeof(*r));
	size_t i;

	*charge = sizeof(*r) + len + 1;
	if (!r)
		return NULL;
	r->dir = m->client_dir;
	r->is_request = true;
	r->method = strdup("GET");
	r->target = strdup(m->target);
	r->body = malloc(len + 1);
	if (!r->method || !r->target || !r->body ||
	    headers_copy(m->headers, m->n_headers, &r->headers,
			 &r->n_headers, charge)) {
		http_msg__free(r);
		return NULL;
	}
	for (i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, "host") == 0)
			r->authority = r->headers[i].value;
	memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->body_len = len;
	r->body_total = total;
	r->flags = flags;
	r->ts_start = r->ts_body = ts0;
	r->ts_end = ts1;
	budget__charge(m->bg, *charge);
	return r;
}

/*
 * Emits a request (as request_new()) with the audio messages counted
 * since the last one (Realtime's turn; none otherwise).
 */
static void request_emit(struct wsmap *m, const void *body, size_t len,
			 uint64_t total, unsigned flags, uint64_t ts0,
			 uint64_t ts1)
{
	size_t charge;
	struct http_msg *r = request_new(m, body, len, total, flags, ts0, ts1,
					 &charge);

	if (!r)
		return;
	r->audio_chunks = m->turn_audio_chunks;
	r->audio_bytes = m->turn_audio_bytes;
	emit(m, r, charge);
}

static void response_emit(struct wsmap *m, unsigned flags, enum proto_gap why)
{
	struct http_msg *r = m->resp;
	size_t charged = m->rb.cap + m->resp_meta;

	if (!r)
		return;
	m->resp = NULL;
	memset(&m->rb, 0, sizeof(m->rb));
	m->resp_meta = 0;
	m->resp_started = false;
	if (m->outstanding)
		m->outstanding--;
	r->flags |= flags;
	r->gap = why;
	emit(m, r, charged);
}

/*
 * Appends server message @wm to the response in progress, as SSE data
 * lines (@p, @n: what of it is kept; a line per line of it).
 */
static void response_add(struct wsmap *m, const struct ws_msg *wm,
			 const unsigned char *p, size_t n)
{
	struct http_msg *r = m->resp;
	const unsigned char *nl;
	size_t line;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return;
		r->dir = proto_dir__other(m->client_dir);
		r->status = 101;
		r->ts_start = wm->ts_first;
		budget__charge(m->bg, sizeof(*r));
		m->resp_meta = sizeof(*r);
		m->resp = r;
	}
	if (wm->truncated || wm->shed)
		r->flags |= wm->shed ? HTTP_MSG_SHED : HTTP_MSG_TRUNCATED;
	if (body__mark(&m->rb, r, m->bg, ++m->seq, wm->ts_last,
		       &m->resp_meta))
		return;
	if (!r->ts_body)
		r->ts_body = wm->ts_last;
	do {
		nl = memchr(p, '\n', n);
		line = nl ? (size_t)(nl - p) + 1 : n;
		if (body__append(&m->rb, r, m->bg, m->max_body, 0, "data: ",
				 6, wm->ts_last) ||
		    body__append(&m->rb, r, m->bg, m->max_body, 0, p, line,
				 wm->ts_last))
			return;
		p += line;
		n -= line;
	} while (n);
	body__append(&m->rb, r, m->bg, m->max_body, 0, "\n\n", 2,
		     wm->ts_last);
}

/* ---- Responses over WebSocket ---- */

static bool responses_end(const char *type)
{
	return streq(type, "response.completed") ||
	       streq(type, "response.failed") ||
	       streq(type, "response.incomplete") || streq(type, "error");
}

static unsigned msg_flags(const struct ws_msg *wm)
{
	return (wm->truncated ? HTTP_MSG_TRUNCATED : 0) |
	       (wm->shed ? HTTP_MSG_SHED : 0);
}

static void responses_message(struct wsmap *m, const struct ws_msg *wm,
			      const char *type)
{
	if (wm->from_client) {
		if (!streq(type, "response.create")) {
			m->st.other_messages++;
			return;
		}
		m->outstanding++;
		request_emit(m, wm->data, wm->len, wm->total, msg_flags(wm),
			     wm->ts_first, wm->ts_last);
		return;
	}
	if (!m->outstanding) {
		m->st.other_messages++;
		return;
	}
	response_add(m, wm, wm->data, wm->len);
	if (responses_end(type))
		response_emit(m, 0, PROTO_GAP_NONE);
}

/* ---- Realtime ---- */

static bool realtime_audio(const char *type)
{
	return streq(type, "input_audio_buffer.append") ||
	       streq(type, "response.audio.delta") ||
	       streq(type, "response.output_audio.delta");
}

/* Adds @wm to the turn: a ',' between events. */
static void turn_add(struct wsmap *m, const struct ws_msg *wm)
{
	if (m->turn.m.body_total)
		wbuf_add(m, &m->turn, ",", 1);
	wbuf_add(m, &m->turn, wm->data, wm->len);
	if (wm->truncated || wm->shed)
		m->turn.m.flags |= HTTP_MSG_TRUNCATED;
}

/* The turn so far, with @last (response.create) or none, as a request. */
static void realtime_request(struct wsmap *m, const struct ws_msg *last,
			     uint64_t ts)
{
	struct wbuf b = { 0 };
	unsigned flags;

	wbuf_str(m, &b, "{\"model\":");
	if (m->url_model) {
		wbuf_str(m, &b, "\"");
		wbuf_str(m, &b, m->url_model);
		wbuf_str(m, &b, "\"");
	} else {
		wbuf_str(m, &b, "null");
	}
	wbuf_str(m, &b, ",\"events\":[");
	if (m->srv_session.m.body_len) {
		wbuf_add(m, &b, m->srv_session.m.body,
			 m->srv_session.m.body_len);
		if (m->session.m.body_len || m->turn.m.body_len || last)
			wbuf_str(m, &b, ",");
	}
	if (m->session.m.body_len) {
		wbuf_add(m, &b, m->session.m.body, m->session.m.body_len);
		if (m->turn.m.body_len || last)
			wbuf_str(m, &b, ",");
	}
	if (m->turn.m.body_len) {
		wbuf_add(m, &b, m->turn.m.body, m->turn.m.body_len);
		if (last)
			wbuf_str(m, &b, ",");
	}
	if (last)
		wbuf_add(m, &b, last->data, last->len);
	wbuf_str(m, &b, "]}");
	flags = wbuf_flags(&b) | wbuf_flags(&m->turn) |
		wbuf_flags(&m->session) | (last ? msg_flags(last) : 0);
	m->outstanding++;
	/* Sent as a request with the turn's audio counts. */
	request_emit(m, b.m.body ? (char *)b.m.body : "", b.m.body_len,
		     b.m.body_len, flags, ts, last ? last->ts_last : ts);
	wbuf_free(m, &b);
	wbuf_free(m, &m->turn);
	m->turn_audio_chunks = m->turn_audio_bytes = 0;
}

static void realtime_client(struct wsmap *m, const struct ws_msg *wm,
			    const char *type)
{
	if (realtime_audio(type)) {
		m->turn_audio_chunks++;
		m->turn_audio_bytes += wm->total;
		return;
	}
	if (streq(type, "session.update")) {
		wbuf_free(m, &m->session);
		wbuf_add(m, &m->session, wm->data, wm->len);
		m->session.m.flags |= msg_flags(wm);
	} else if (streq(type, "conversation.item.create")) {
		turn_add(m, wm);
	} else if (streq(type, "response.create")) {
		realtime_request(m, wm, wm->ts_first);
	} else {
		m->st.other_messages++;
	}
}

static void realtime_server(struct wsmap *m, const struct ws_msg *wm,
			    const char *type)
{
	char stub[TYPE_MAX + 16];
	size_t n;

	if (streq(type, "session.created") || streq(type, "session.updated")) {
		wbuf_free(m, &m->srv_session);
		wbuf_add(m, &m->srv_session, wm->data, wm->len);
		m->st.other_messages++;
		return;
	}
	if (streq(type, "response.created") && !m->resp_started &&
	    !m->resp && !m->outstanding)
		/* Server-side turn detection: no response.create asked. */
		realtime_request(m, NULL, wm->ts_first);
	if (!m->outstanding) {
		m->st.other_messages++;
		return;
	}
	if (streq(type, "response.created"))
		m->resp_started = true;
	if (realtime_audio(type)) {
		n = (size_t)snprintf(stub, sizeof(stub), "{\"type\":\"%s\"}",
				     type);
		response_add(m, wm, (const unsigned char *)stub, n);
		if (m->resp) {
			m->resp->audio_chunks++;
			m->resp->audio_bytes += wm->total;
		}
		return;
	}
	response_add(m, wm, wm->data, wm->len);
	if (streq(type, "response.done") ||
	    (streq(type, "error") && !m->resp_started))
		response_emit(m, 0, PROTO_GAP_NONE);
}

/* ---- anything else ---- */

static void other_message(struct wsmap *m, const struct ws_msg *wm)
{
	m->st.other_messages++;
	if (wm->from_client) {
		response_emit(m, 0, PROTO_GAP_NONE);
		m->outstanding = 1;
		request_emit(m, wm->data, wm->len, wm->total, msg_flags(wm),
			     wm->ts_first, wm->ts_last);
		return;
	}
	if (m->outstanding)
		response_add(m, wm, wm->data, wm->len);
}

void wsmap__message(void *ctx, const struct ws_msg *wm)
{
	struct wsmap *m = ctx;
	char type[TYPE_MAX];

	if (m->mode == MODE_OTHER) {
		other_message(m, wm);
		return;
	}
	if (wm->opcode != WS_OP_TEXT) {
		/* OpenAI's events are JSON text. */
		m->st.other_messages++;
		return;
	}
	json_type(wm->data, wm->len, type);
	if (m->mode == MODE_RESPONSES) {
		responses_message(m, wm, type);
		return;
	}
	if (realtime_audio(type)) {
		m->st.audio_chunks++;
		m->st.audio_bytes += wm->total;
	}
	if (wm->from_client)
		realtime_client(m, wm, type);
	else
		realtime_server(m, wm, type);
}

void wsmap__end(struct wsmap *m, enum proto_gap why)
{
	if (!m || !m->resp)
		return;
	/* Other traffic's responses end with the next request or the end. */
	response_emit(m, m->mode == MODE_OTHER && why == PROTO_GAP_NONE ?
			 0 : HTTP_MSG_INCOMPLETE, why);
}

bool wsmap__in_message(const struct wsmap *m)
{
	return m && m->resp;
}

size_t wsmap__held(const struct wsmap *m)
{
	return m ? m->rb.cap + m->turn.b.cap + m->session.b.cap +
		   m->srv_session.b.cap : 0;
}

size_t wsmap__shed(struct wsmap *m)
{
	if (!m)
		return 0;
	return body__drop(&m->rb, m->resp, m->bg) +
	       wbuf_drop(m, &m->turn) + wbuf_drop(m, &m->session) +
	       wbuf_drop(m, &m->srv_session);
}

void wsmap__stats(const struct wsmap *m, struct wsmap_stats *out)
{
	if (m)
		*out = m->st;
	else
		memset(out, 0, sizeof(*out));
}

/* ---- creation ---- */

/* The last path segment of @target (query left out) picks the mode. */
static enum wsmap_mode mode_of(const char *target)
{
	size_t n = strcspn(target, "?#");

	while (n && target[n - 1] == '/')
		n--;
	if (n >= 10 && memcmp(target + n - 10, "/responses", 10) == 0)
		return MODE_RESPONSES;
	if (n >= 9 && memcmp(target + n - 9, "/realtime", 9) == 0)
		return MODE_REALTIME;
	return MODE_OTHER;
}

/* model=NAME of the query, when NAME needs no escaping in JSON. */
static char *query_model(const char *target)
{
	const char *q = strchr(target, '?'), *v;
	size_t n, i;

	for (v = q; v; v = strchr(v + 1, '&')) {
		if (strncmp(v + 1, "model=", 6) != 0)
			continue;
		v += 7;
		n = strcspn(v, "&#");
		for (i = 0; i < n; i++)
			if (v[i] == '"' || v[i] == '\\' || v[i] == '%' ||
			    (unsigned char)v[i] < 0x20)
				return NULL;
		return n ? strndup(v, n) : NULL;
	}
	return NULL;
}

int wsmap__new(struct wsmap **out, const struct http_msg *up,
	       size_t max_body, struct budget *bg, proto_msg_fn cb, void *ctx)
{
	struct wsmap *m;
	size_t charge;

	*out = NULL;
	if (!cb || !up || !up->target)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->max_body = max_body ? max_body : DEFAULT_MAX_BODY;
	m->bg = bg;
	m->cb = cb;
	m->ctx = ctx;
	m->client_dir = up->dir;
	m->mode = mode_of(up->target);
	m->target = strdup(up->target);
	if (m->mode == MODE_REALTIME)
		m->url_model = query_model(up->target);
	charge = sizeof(*m) + strlen(up->target);
	if (!m->target || headers_copy(up->headers, up->n_headers,
				       &m->headers, &m->n_headers, &charge)) {
		wsmap__free(m);
		return -ENOMEM;
	}
	m->tmpl_charge = charge;
	budget__charge(bg, charge);
	*out = m;
	return 0;
}

void wsmap__free(struct wsmap *m)
{
	size_t i;

	if (!m)
		return;
	if (m->resp) {
		budget__release(m->bg, m->rb.cap + m->resp_meta);
		http_msg__free(m->resp);
	}
	wbuf_free(m, &m->turn);
	wbuf_free(m, &m->session);
	wbuf_free(m, &m->srv_session);
	for (i = 0; i < m->n_headers; i++)
		free(m->headers[i].name);
	free(m->headers);
	free(m->target);
	free(m->url_model);
	budget__release(m->bg, m->tmpl_charge);
	free(m);
}
