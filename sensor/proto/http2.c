// SPDX-License-Identifier: MIT
/*
 * HTTP/2 (RFC 9113) as a wire protocol, seen from the client's preface.
 *
 * Each direction is a sequence of frames: a 9-byte header, then the
 * payload.  DATA payloads go straight to the body of their stream's
 * message, their padding skipped; every other frame is held whole
 * (bounded by CTRL_FRAME_MAX) and then acted on.  Header blocks
 * (HEADERS or PUSH_PROMISE, then CONTINUATION) go fragment by fragment
 * through nghttp2's HPACK inflater of their direction, whatever becomes
 * of their fields, so that its dynamic table stays in step with the
 * sender's encoder.  Each stream makes one request (write direction)
 * and one response (read direction); END_STREAM ends a message,
 * RST_STREAM, a GOAWAY above the stream's id, a gap or the end of the
 * connection end it INCOMPLETE (the end of the connection does not when
 * the body has all the bytes its content-length declares).
 *
 * Whatever breaks the framing (a bad preface, a frame longer than the
 * receiver allows, a bad header block, lost bytes) ends the connection
 * for the parser: its messages in progress are emitted INCOMPLETE and
 * ignored() turns true.  HPACK cannot resynchronise after a loss.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "lib/budget.h"
#include "proto/body.h"
#include "proto/http2.h"

#define PREFACE			"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN		(sizeof(PREFACE) - 1)
#define FRAME_HDR		9
#define DEFAULT_MAX_FRAME	16384u		/* RFC 9113 §6.5.2 */
#define MAX_FRAME_LIMIT		((1u << 24) - 1)
/* Non-DATA frames are held whole: beyond this the connection is dropped. */
#define CTRL_FRAME_MAX		(256u << 10)
#define DEFAULT_MAX_BODY	(4u << 20)
/* Decoded header section bytes kept per message (names, values, 4 each). */
#define MAX_HEADER_BYTES	(64u << 10)
#define FIELD_OVERHEAD		4
/* An inflater's own memory, roughly, besides its dynamic table. */
#define INFLATER_CHARGE		256
/*
 * Dynamic table size honoured (SETTINGS_HEADER_TABLE_SIZE): a larger
 * one would let the peers make the sensor hold that much; an encoder
 * that uses more fails the inflater, which drops the connection.
 */
#define HPACK_TABLE_MAX		(64u << 10)
#define HPACK_TABLE_DEFAULT	4096u

enum {
	T_DATA = 0x0, T_HEADERS = 0x1, T_PRIORITY = 0x2, T_RST_STREAM = 0x3,
	T_SETTINGS = 0x4, T_PUSH_PROMISE = 0x5, T_PING = 0x6, T_GOAWAY = 0x7,
	T_WINDOW_UPDATE = 0x8, T_CONTINUATION = 0x9,
};

#define F_END_STREAM	0x01
#define F_ACK		0x01
#define F_END_HEADERS	0x04
#define F_PADDED	0x08
#define F_PRIORITY	0x20

#define S_HEADER_TABLE_SIZE	0x1
#define S_MAX_FRAME_SIZE	0x5

/* One direction's message of one stream. */
struct h2msg {
	struct http_msg *m;	/* NULL: not started, emitted or dropped */
	bool headers_done;	/* the (final) header section is complete */
	bool done;		/* ended: later frames are not kept */
	size_t hdr_bytes;
	size_t cap_headers, cap_trailers;
	struct body_state body;
	size_t held_meta;	/* budget charge besides the body */
};

struct h2stream {
	uint32_t id;
	struct h2msg x[2];	/* by enum proto_dir */
};

struct h2dir {
	nghttp2_hd_inflater *inf;
	size_t table_max;	/* SETTINGS_HEADER_TABLE_SIZE in force */
	size_t table_next;	/* ... from the next header block on */
	uint32_t max_frame;	/* set by the other direction's SETTINGS */
	size_t preface_got;	/* write direction: preface bytes matched */
	unsigned char hdr[FRAME_HDR];
	size_t hgot;
	uint32_t flen, left, sid;
	uint8_t type, flags;
	/* non-DATA payload being held */
	unsigned char *buf;
	size_t bcap, bgot;
	/* DATA: padding still to learn / skip */
	bool pad_pending;
	uint32_t pad;
	/* header block waiting for CONTINUATION */
	bool in_block;
	uint32_t block_sid;
	bool block_end_stream;
	bool block_keep;	/* false: its fields are decoded, not kept */
	uint64_t ts, seq;
	bool ended;
};

struct http2 {
	struct h2dir d[2];
	struct h2stream *streams[HTTP2_MAX_STREAMS];
	size_t n_streams;
	struct proto_limits lim;
	proto_msg_fn cb;
	void *ctx;
	bool dead;
	struct proto_stats st;
};

static uint32_t be24(const unsigned char *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ---- messages ---- */

static void msg_release(struct http2 *h, struct h2msg *x)
{
	budget__release(h->lim.budget, x->held_meta + x->body.cap);
	x->held_meta = x->body.cap = 0;
}

static void msg_clear(struct http2 *h, struct h2msg *x)
{
	msg_release(h, x);
	http_msg__free(x->m);
	x->m = NULL;
	x->headers_done = false;
	x->body.shed = false;
	x->hdr_bytes = 0;
	x->cap_headers = x->cap_trailers = x->body.cap_marks = 0;
}

/* Hands @x's message to the callback with @flags added; @x is done. */
static void msg_emit(struct http2 *h, struct h2msg *x, unsigned flags,
		     enum proto_gap why)
{
	struct http_msg *m = x->m;
	size_t held = x->held_meta + x->body.cap;

	x->done = true;
	if (!m || !x->headers_done) {
		msg_clear(h, x);
		return;
	}
	x->m = NULL;
	x->held_meta = x->body.cap = 0;
	msg_clear(h, x);
	m->flags |= flags;
	m->gap = flags & HTTP_MSG_INCOMPLETE ? why : PROTO_GAP_NONE;
	h->st.messages++;
	h->cb(h->ctx, m);
	budget__release(h->lim.budget, held);
}

static struct h2stream *stream_find(const struct http2 *h, uint32_t id)
{
	size_t i;

	for (i = 0; i < h->n_streams; i++)
		if (h->streams[i]->id == id)
			return h->streams[i];
	return NULL;
}

static void stream_free(struct http2 *h, struct h2stream *s)
{
	size_t i;

	for (i = 0; i < h->n_streams; i++) {
		if (h->streams[i] != s)
			continue;
		h->streams[i] = h->streams[--h->n_streams];
		break;
	}
	msg_clear(h, &s->x[0]);
	msg_clear(h, &s->x[1]);
	budget__release(h->lim.budget, sizeof(*s));
	free(s);
}

/*
 * Ends @s: messages still in progress are emitted INCOMPLETE (the
 * request first, so that its response finds it), then @s goes.
 */
static void stream_abort(struct http2 *h, struct h2stream *s,
			 enum proto_gap why)
{
	int i;

	for (i = PROTO_DIR_WRITE; i <= PROTO_DIR_READ; i++)
		if (!s->x[i].done)
			msg_emit(h, &s->x[i], HTTP_MSG_INCOMPLETE, why);
	stream_free(h, s);
}

static void abort_all(struct http2 *h, enum proto_gap why)
{
	while (h->n_streams)
		stream_abort(h, h->streams[0], why);
}

/* The framing is broken: nothing more of this connection is parsed. */
static void conn_fail(struct http2 *h, enum proto_gap why)
{
	if (why == PROTO_GAP_NONE)
		h->st.parse_errors++;
	abort_all(h, why);
	h->dead = true;
}

/* END_STREAM on @dir of @s. */
static void stream_end(struct http2 *h, struct h2stream *s,
		       enum proto_dir dir)
{
	/* A response ending first: the request is emitted before it. */
	if (dir == PROTO_DIR_READ && !s->x[PROTO_DIR_WRITE].done)
		msg_emit(h, &s->x[PROTO_DIR_WRITE], HTTP_MSG_INCOMPLETE,
			 PROTO_GAP_NONE);
	msg_emit(h, &s->x[dir], 0, PROTO_GAP_NONE);
	if (s->x[0].done && s->x[1].done)
		stream_free(h, s);
}

/* ---- header sections ---- */

static int field_add(struct http2 *h, struct h2msg *x, bool trailer,
		     const nghttp2_nv *nv)
{
	struct http_msg *m = x->m;
	struct http_header **arr = trailer ? &m->trailers : &m->headers;
	size_t *n = trailer ? &m->n_trailers : &m->n_headers;
	size_t *cap = trailer ? &x->cap_trailers : &x->cap_headers;
	struct http_header *hd;
	char *name;

	if (*n == *cap) {
		hd = reallocarray(*arr, *cap ? *cap * 2 : 16, sizeof(*hd));
		if (!hd)
			return -ENOMEM;
		*arr = hd;
		*cap = *cap ? *cap * 2 : 16;
	}
	name = malloc(nv->namelen + nv->valuelen + 2);
	if (!name)
		return -ENOMEM;
	memcpy(name, nv->name, nv->namelen);
	name[nv->namelen] = '\0';
	memcpy(name + nv->namelen + 1, nv->value, nv->valuelen);
	name[nv->namelen + 1 + nv->valuelen] = '\0';
	(*arr)[*n].name = name;
	(*arr)[*n].value = name + nv->namelen + 1;
	(*n)++;
	return 0;
}

/* :status is three digits (RFC 9113 §8.3.2); anything else gives 0. */
static int atoi_status(const nghttp2_nv *nv)
{
	const uint8_t *v = nv->value;

	if (nv->valuelen != 3 || v[0] < '1' || v[0] > '9' ||
	    v[1] < '0' || v[1] > '9' || v[2] < '0' || v[2] > '9')
		return 0;
	return (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
}

static char *nv_dup(const nghttp2_nv *nv)
{
	return strndup((const char *)nv->value, nv->valuelen);
}

static bool nv_is(const nghttp2_nv *nv, const char *name)
{
	size_t n = strlen(name);

	return nv->namelen == n && memcmp(nv->name, name, n) == 0;
}

/*
 * One decoded field of @x's message: pseudo-header fields fill the
 * start line (RFC 9113 §8.3), the others the header or trailer section.
 * Returns 0, -E2BIG past the bound or the budget (the message is then
 * dropped), -ENOMEM.
 */
static int field_take(struct http2 *h, struct h2msg *x, const nghttp2_nv *nv)
{
	struct http_msg *m = x->m;
	size_t charge = (nv->namelen + nv->valuelen + FIELD_OVERHEAD) * 2;
	char **slot = NULL;

	x->hdr_bytes += nv->namelen + nv->valuelen + FIELD_OVERHEAD;
	if (x->hdr_bytes > MAX_HEADER_BYTES)
		return -E2BIG;
	if (budget__reserve(h->lim.budget, charge))
		return -ENOBUFS;
	x->held_meta += charge;
	if (nv->namelen && nv->name[0] == ':') {
		if (x->headers_done)
			return 0;	/* not allowed in trailers: dropped */
		if (nv_is(nv, ":method"))
			slot = &m->method;
		else if (nv_is(nv, ":path"))
			slot = &m->target;
		else if (nv_is(nv, ":status"))
			m->status = atoi_status(nv);
		else if (nv_is(nv, ":authority") &&
			 !http_msg__header(m, "host")) {
			/* As HTTP/1.1 would carry it (RFC 9113 §8.3.1). */
			nghttp2_nv hv = {
				.name = (uint8_t *)"host", .namelen = 4,
				.value = nv->value, .valuelen = nv->valuelen,
			};

			return field_add(h, x, false, &hv);
		}
		if (slot && !*slot) {
			*slot = nv_dup(nv);
			if (!*slot)
				return -ENOMEM;
		}
		return 0;
	}
	return field_add(h, x, x->headers_done, nv);
}

/*
 * A header block starts on stream @sid in @d's direction @dir: the
 * message it fills, or NULL when its fields are decoded and not kept
 * (a pushed stream, an unknown one, one past the stream bound).
 */
static struct h2stream *block_begin(struct http2 *h, enum proto_dir dir,
				    uint32_t sid)
{
	struct h2stream *s = stream_find(h, sid);
	struct h2msg *x;

	if (!s) {
		/* Requests open streams; the client's ids are odd. */
		if (dir != PROTO_DIR_WRITE || !(sid & 1))
			return NULL;
		if (h->n_streams == HTTP2_MAX_STREAMS) {
			h->st.streams_dropped++;
			return NULL;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		budget__charge(h->lim.budget, sizeof(*s));
		s->id = sid;
		h->streams[h->n_streams++] = s;
	}
	x = &s->x[dir];
	if (x->done)
		return NULL;
	if (!x->m) {
		x->m = calloc(1, sizeof(*x->m));
		if (!x->m)
			return NULL;
		x->m->dir = dir;
		x->m->is_request = dir == PROTO_DIR_WRITE;
		x->m->stream_id = sid;
		x->m->http_major = 2;
		x->m->ts_start = x->m->ts_end = h->d[dir].ts;
	}
	return s;
}

/* The header block of @s in @dir is complete. */
static void block_end(struct http2 *h, struct h2stream *s, enum proto_dir dir,
		      bool end_stream)
{
	struct h2msg *x = &s->x[dir];
	struct http_msg *m = x->m;

	if (!m)
		return;
	m->ts_end = h->d[dir].ts;
	if (!x->headers_done) {
		if (!m->is_request && m->status >= 100 && m->status < 200) {
			/* Interim response (RFC 9113 §8.1): the final one follows. */
			msg_clear(h, x);
			return;
		}
		x->headers_done = true;
		x->hdr_bytes = 0;	/* the trailer section gets its own bound */
		m->authority = http_msg__header(m, "host");
		if (m->is_request && (!m->method || !m->target)) {
			/* CONNECT (RFC 9113 §8.5): a tunnel, no request here. */
			s->x[0].done = s->x[1].done = true;
			stream_free(h, s);
			return;
		}
	}
	if (end_stream)
		stream_end(h, s, dir);
}

/*
 * Decodes the fragment @p[0..n) of the header block in progress in @dir;
 * @final when it is the block's last.  Returns 0 or -EPROTO (the
 * inflater failed: the connection cannot be decoded any more).
 */
static int block_fragment(struct http2 *h, enum proto_dir dir,
			  const unsigned char *p, size_t n, bool final)
{
	struct h2dir *d = &h->d[dir];
	/* Looked up again: the other direction may have ended it. */
	struct h2stream *s = d->block_keep ? stream_find(h, d->block_sid) : NULL;
	struct h2msg *x = s ? &s->x[dir] : NULL;
	int flags, err;
	nghttp2_nv nv;
	ssize_t rv;

	for (;;) {
		flags = 0;
		rv = nghttp2_hd_inflate_hd2(d->inf, &nv, &flags, p, n, final);
		if (rv < 0)
			return -EPROTO;
		p += rv;
		n -= (size_t)rv;
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) && x && x->m) {
			err = field_take(h, x, &nv);
			if (err) {
				/* Too big, over budget, no memory: it goes. */
				if (err == -E2BIG)
					h->st.parse_errors++;
				else if (err == -ENOBUFS)
					budget__count_shed(h->lim.budget, 1,
							   x->hdr_bytes);
				msg_clear(h, x);
				x->done = true;
			}
		}
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inf);
			break;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && n == 0)
			break;
	}
	if (!final)
		return 0;
	d->in_block = false;
	if (s)
		block_end(h, s, dir, d->block_end_stream);
	return 0;
}

/* A HEADERS or PUSH_PROMISE frame's block starts with @p[0..n). */
static int block_start(struct http2 *h, enum proto_dir dir, uint32_t sid,
		       bool keep, const unsigned char *p, size_t n)
{
	struct h2dir *d = &h->d[dir];

	/* The sender saw the new limit before this block (lenient). */
	if (d->table_next > d->table_max) {
		if (nghttp2_hd_inflate_change_table_size(d->inf, d->table_next))
			return -EPROTO;
		budget__charge(h->lim.budget, d->table_next - d->table_max);
		d->table_max = d->table_next;
	}
	d->in_block = true;
	d->block_sid = sid;
	d->block_end_stream = keep && (d->flags & F_END_STREAM);
	d->block_keep = keep && block_begin(h, dir, sid);
	return block_fragment(h, dir, p, n, d->flags & F_END_HEADERS);
}

/* ---- bodies ---- */

static void body_drop(struct http2 *h, struct h2msg *x)
{
	body__drop(&x->body, x->m, h->lim.budget);
}

/* DATA payload bytes @p[0..n) of the current frame in @dir. */
static int body_add(struct http2 *h, enum proto_dir dir,
		    const unsigned char *p, size_t n)
{
	struct h2dir *d = &h->d[dir];
	struct h2stream *s = stream_find(h, d->sid);
	struct h2msg *x = s ? &s->x[dir] : NULL;
	struct http_msg *m = x ? x->m : NULL;

	if (!m || !x->headers_done || !n)
		return 0;
	if (!m->body_total)
		m->ts_body = d->ts;
	/* A mark is only timing: one that cannot be allocated is lost. */
	(void)body__mark(&x->body, m, h->lim.budget, d->seq, d->ts,
			 &x->held_meta);
	return body__append(&x->body, m, h->lim.budget, h->lim.max_body, 0,
			    p, n, d->ts);
}

/* ---- frames ---- */

static void on_settings(struct http2 *h, enum proto_dir dir,
			const unsigned char *p, size_t n)
{
	/* What one end allows governs what the other end sends. */
	struct h2dir *o = &h->d[proto_dir__other(dir)];
	uint32_t v;
	size_t i;

	for (i = 0; i + 6 <= n; i += 6) {
		v = be32(p + i + 2);
		switch ((p[i] << 8) | p[i + 1]) {
		case S_HEADER_TABLE_SIZE:
			o->table_next = v < HPACK_TABLE_MAX ? v : HPACK_TABLE_MAX;
			break;
		case S_MAX_FRAME_SIZE:
			/* In force once acknowledged: never below the old one. */
			if (v > o->max_frame && v <= MAX_FRAME_LIMIT)
				o->max_frame = v;
			break;
		}
	}
}

/*
 * Strips the padding (and the priority fields, @prio bytes) off the
 * payload @*p[0..*n).  Returns 0 or -EPROTO.
 */
static int unpad(const struct h2dir *d, const unsigned char **p, size_t *n,
		 size_t prio)
{
	size_t pad = 0;

	if (d->flags & F_PADDED) {
		if (*n < 1)
			return -EPROTO;
		pad = (*p)[0];
		(*p)++;
		(*n)--;
	}
	if (*n < prio + pad)
		return -EPROTO;
	*p += prio;
	*n -= prio + pad;
	return 0;
}

/* A whole non-DATA frame of @dir, payload in d->buf.  0 or -EPROTO. */
static int on_frame(struct http2 *h, enum proto_dir dir)
{
	struct h2dir *d = &h->d[dir];
	/* An empty frame may come before any buffer. */
	const unsigned char *p = d->buf ? d->buf : (const unsigned char *)"";
	size_t n = d->flen;
	struct h2stream *s;
	uint32_t last;
	size_t i;

	if (d->in_block) {
		/* RFC 9113 §6.10: nothing may come between. */
		if (d->type != T_CONTINUATION || d->sid != d->block_sid)
			return -EPROTO;
		return block_fragment(h, dir, p, n, d->flags & F_END_HEADERS);
	}
	switch (d->type) {
	case T_HEADERS:
		if (!d->sid || unpad(d, &p, &n, d->flags & F_PRIORITY ? 5 : 0))
			return -EPROTO;
		return block_start(h, dir, d->sid, true, p, n);
	case T_PUSH_PROMISE:
		/* Decoded to keep HPACK in step; pushed streams not kept. */
		if (unpad(d, &p, &n, 4))
			return -EPROTO;
		return block_start(h, dir, d->sid, false, p, n);
	case T_CONTINUATION:
		return -EPROTO;
	case T_SETTINGS:
		if (d->sid || n % 6)
			return -EPROTO;
		if (!(d->flags & F_ACK))
			on_settings(h, dir, p, n);
		return 0;
	case T_RST_STREAM:
		if (n != 4 || !d->sid)
			return -EPROTO;
		s = stream_find(h, d->sid);
		if (s)
			stream_abort(h, s, PROTO_GAP_NONE);
		return 0;
	case T_GOAWAY:
		if (n < 8 || d->sid)
			return -EPROTO;
		/* The server did not process the client's streams above. */
		last = be32(p) & 0x7fffffffu;
		for (i = 0; dir == PROTO_DIR_READ && i < h->n_streams;) {
			if (h->streams[i]->id > last)
				stream_abort(h, h->streams[i], PROTO_GAP_NONE);
			else
				i++;
		}
		return 0;
	case T_PING:
		return n == 8 && !d->sid ? 0 : -EPROTO;
	case T_WINDOW_UPDATE:
		return n == 4 ? 0 : -EPROTO;
	case T_PRIORITY:
		return n == 5 ? 0 : -EPROTO;
	default:
		return 0;	/* unknown types are skipped (§5.5) */
	}
}

/* DATA whose payload has all arrived. */
static void data_end(struct http2 *h, enum proto_dir dir)
{
	struct h2dir *d = &h->d[dir];
	struct h2stream *s;

	if (!(d->flags & F_END_STREAM))
		return;
	s = stream_find(h, d->sid);
	if (s && !s->x[dir].done)
		stream_end(h, s, dir);
}

/* The frame header in d->hdr is complete. */
static int frame_begin(struct http2 *h, enum proto_dir dir)
{
	struct h2dir *d = &h->d[dir];
	unsigned char *b;

	d->flen = d->left = be24(d->hdr);
	d->type = d->hdr[3];
	d->flags = d->hdr[4];
	d->sid = be32(d->hdr + 5) & 0x7fffffffu;
	if (d->flen > d->max_frame)
		return -EPROTO;
	if (d->type == T_DATA) {
		if (!d->sid || d->in_block)
			return -EPROTO;
		d->pad_pending = d->flags & F_PADDED;
		if (d->pad_pending && !d->flen)
			return -EPROTO;
		d->pad = 0;
		return 0;
	}
	if (d->flen > CTRL_FRAME_MAX)
		return -EPROTO;
	if (d->flen > d->bcap) {
		b = realloc(d->buf, d->flen);
		if (!b)
			return -ENOMEM;
		budget__charge(h->lim.budget, d->flen - d->bcap);
		d->buf = b;
		d->bcap = d->flen;
	}
	d->bgot = 0;
	return 0;
}

/*
 * Consumes DATA payload bytes from @p[0..n).  Returns the bytes used,
 * or -EPROTO / -ENOMEM.
 */
static ssize_t data_step(struct http2 *h, enum proto_dir dir,
			 const unsigned char *p, size_t n)
{
	struct h2dir *d = &h->d[dir];
	size_t take, data;

	if (d->pad_pending) {
		d->pad = p[0];
		d->pad_pending = false;
		d->left--;
		if (d->pad > d->left)
			return -EPROTO;
		return 1;
	}
	take = n < d->left ? n : d->left;
	data = d->left > d->pad ? d->left - d->pad : 0;
	if (data > take)
		data = take;
	if (body_add(h, dir, p, data))
		return -ENOMEM;
	d->left -= take;
	return (ssize_t)take;
}

static int feed_dir(struct http2 *h, enum proto_dir dir,
		    const unsigned char *p, size_t n)
{
	struct h2dir *d = &h->d[dir];
	size_t k;
	ssize_t used;
	int err;

	while (n && !h->dead) {
		if (dir == PROTO_DIR_WRITE && d->preface_got < PREFACE_LEN) {
			k = PREFACE_LEN - d->preface_got;
			if (k > n)
				k = n;
			if (memcmp(p, &PREFACE[d->preface_got], k))
				return -EPROTO;
			d->preface_got += k;
			p += k;
			n -= k;
			continue;
		}
		if (d->hgot < FRAME_HDR) {
			k = FRAME_HDR - d->hgot;
			if (k > n)
				k = n;
			memcpy(d->hdr + d->hgot, p, k);
			d->hgot += k;
			p += k;
			n -= k;
			if (d->hgot < FRAME_HDR)
				return 0;
			err = frame_begin(h, dir);
			if (err)
				return err;
		} else if (d->type == T_DATA) {
			used = data_step(h, dir, p, n);
			if (used < 0)
				return (int)used;
			p += used;
			n -= (size_t)used;
		} else {
			k = d->flen - d->bgot;
			if (k > n)
				k = n;
			memcpy(d->buf + d->bgot, p, k);
			d->bgot += k;
			d->left -= k;
			p += k;
			n -= k;
		}
		if (d->left || d->pad_pending)
			continue;
		d->hgot = 0;
		if (d->type == T_DATA) {
			data_end(h, dir);
		} else {
			err = on_frame(h, dir);
			if (err)
				return err;
		}
	}
	return 0;
}

/* ---- the "http2" protocol entry ---- */

static bool http2_detect(enum proto_dir dir, const void *buf, size_t len)
{
	size_t n = len < PREFACE_LEN ? len : PREFACE_LEN;

	/* A short first write is taken when it is the preface's start. */
	return dir == PROTO_DIR_WRITE && n && memcmp(buf, PREFACE, n) == 0;
}

static void http2_free(void *st)
{
	struct http2 *h = st;
	int i;

	if (!h)
		return;
	while (h->n_streams)
		stream_free(h, h->streams[0]);
	for (i = PROTO_DIR_WRITE; i <= PROTO_DIR_READ; i++) {
		nghttp2_hd_inflate_del(h->d[i].inf);
		if (h->d[i].inf)
			budget__release(h->lim.budget,
					INFLATER_CHARGE + h->d[i].table_max);
		budget__release(h->lim.budget, h->d[i].bcap);
		free(h->d[i].buf);
	}
	budget__release(h->lim.budget, sizeof(*h));
	free(h);
}

static int http2_new(void **out, const struct proto_limits *lim,
		     proto_msg_fn cb, void *ctx)
{
	struct http2 *h;
	int i;

	*out = NULL;
	if (!cb)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (lim)
		h->lim = *lim;
	if (!h->lim.max_body)
		h->lim.max_body = DEFAULT_MAX_BODY;
	h->cb = cb;
	h->ctx = ctx;
	budget__charge(h->lim.budget, sizeof(*h));
	for (i = PROTO_DIR_WRITE; i <= PROTO_DIR_READ; i++) {
		h->d[i].max_frame = DEFAULT_MAX_FRAME;
		h->d[i].table_max = h->d[i].table_next = HPACK_TABLE_DEFAULT;
		if (nghttp2_hd_inflate_new(&h->d[i].inf)) {
			http2_free(h);
			return -ENOMEM;
		}
		budget__charge(h->lim.budget,
			       INFLATER_CHARGE + HPACK_TABLE_DEFAULT);
	}
	*out = h;
	return 0;
}

static int http2_feed(void *st, enum proto_dir dir, const void *buf,
		      size_t len, uint64_t ts_ns)
{
	struct http2 *h = st;
	struct h2dir *d = &h->d[dir];
	int err;

	if (h->dead || d->ended || !len)
		return 0;
	d->ts = ts_ns;
	d->seq++;
	err = feed_dir(h, dir, buf, len);
	if (err == -ENOMEM) {
		/* The framing position is lost with the bytes not parsed. */
		conn_fail(h, PROTO_GAP_NONE);
		return err;
	}
	if (err)
		conn_fail(h, PROTO_GAP_NONE);
	return 0;
}

static void http2_gap(void *st, enum proto_dir dir, enum proto_gap why)
{
	struct http2 *h = st;

	/* Neither the framing nor HPACK can resynchronise. */
	if (!h->dead)
		conn_fail(h, why);
}

/*
 * Whether @x's body has all the bytes its content-length declares (RFC
 * 9113 §8.1.1).  A peer that has them may end the connection without
 * reading the END_STREAM behind them: curl does, once a response's
 * bytes are in, when the last DATA frame carries padding or an empty
 * DATA frame ends the stream.
 */
static bool body_whole(const struct h2msg *x)
{
	const char *cl;
	char *end;

	if (!x->m || !x->headers_done || x->body.shed)
		return false;
	cl = http_msg__header(x->m, "content-length");
	if (!cl || *cl < '0' || *cl > '9')
		return false;
	errno = 0;
	return strtoull(cl, &end, 10) == x->m->body_total && !errno && !*end;
}

static void http2_flush(void *st, enum proto_dir dir, uint64_t ts_ns)
{
	struct http2 *h = st;
	size_t i;

	if (h->dead)
		return;
	h->d[dir].ended = true;
	h->d[dir].ts = ts_ns;
	for (i = 0; i < h->n_streams;) {
		struct h2stream *s = h->streams[i];

		if (!s->x[dir].done)
			msg_emit(h, &s->x[dir], body_whole(&s->x[dir]) ? 0 :
				 HTTP_MSG_INCOMPLETE, PROTO_GAP_NONE);
		if (s->x[0].done && s->x[1].done)
			stream_free(h, s);
		else
			i++;
	}
}

static bool http2_in_message(const void *st)
{
	const struct http2 *h = st;

	return h->n_streams > 0;
}

/* A new SSL* starts with the preface, never with a bare request. */
static bool http2_starts_request(const void *buf, size_t len)
{
	return false;
}

static bool http2_ignored(const void *st)
{
	const struct http2 *h = st;

	return h->dead;
}

static size_t http2_held(const void *st)
{
	const struct http2 *h = st;
	size_t i, n = 0;
	int k;

	for (i = 0; i < h->n_streams; i++)
		for (k = 0; k < 2; k++)
			if (!h->streams[i]->x[k].body.shed)
				n += h->streams[i]->x[k].body.cap;
	return n;
}

static size_t http2_shed(void *st)
{
	struct http2 *h = st;
	size_t i, n = http2_held(h);
	int k;

	for (i = 0; i < h->n_streams; i++)
		for (k = 0; k < 2; k++)
			if (h->streams[i]->x[k].m)
				body_drop(h, &h->streams[i]->x[k]);
	return n;
}

static void http2_stats(const void *st, struct proto_stats *out)
{
	const struct http2 *h = st;

	if (h)
		*out = h->st;
	else
		memset(out, 0, sizeof(*out));
}

const struct proto_ops proto_http2 = {
	.name = "http2",
	.detect = http2_detect,
	.new = http2_new,
	.feed = http2_feed,
	.gap = http2_gap,
	.flush = http2_flush,
	.in_message = http2_in_message,
	.starts_request = http2_starts_request,
	.ignored = http2_ignored,
	.held = http2_held,
	.shed = http2_shed,
	.stats = http2_stats,
	.free = http2_free,
};
