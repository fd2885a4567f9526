// SPDX-License-Identifier: MIT
/*
 * HTTP/2 (RFC 9113) as a wire protocol, seen from the client preface
 * (either direction) or joined mid-way.
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
/* The last index of the static table (RFC 7541 Appendix A). */
#define HPACK_STATIC_LAST	61u
/*
 * Calls a hunting direction may start without frames before the
 * connection is given up (and skipped in the kernel): a large body read
 * in TLS records that do not fall on frame boundaries ends within it.
 */
#define HUNT_MAX_CALLS		256
/* A joined direction's header block is held whole up to this. */
#define JOINED_BLOCK_MAX	(256u << 10)

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
	size_t unknown;		/* header fields not decoded */
};

struct h2stream {
	uint32_t id;
	bool unknown_counted;	/* in streams_hpack_unknown */
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
	bool started;		/* bytes of this direction were fed */
	bool expect_preface;	/* it began with the client preface */
	/* the start was not seen: HPACK decoded leniently (see above) */
	bool joined;
	bool hunting;		/* framing lost: skipping to a call start */
	bool at_call;		/* the next feed starts a call */
	bool lost;		/* hunting after a gap (a resync to count) */
	unsigned hunt_calls;	/* calls started without frames meanwhile */
	bool size_update_due;	/* joined inflater: announce its table */
	/* joined: the header block held whole */
	unsigned char *blk;
	size_t blen, blk_cap;
};

struct http2 {
	struct h2dir d[2];
	enum proto_dir req_dir;	/* the direction requests travel */
	bool role_known;	/* req_dir seen from a preface or fields */
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
	x->unknown = 0;
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

/* Starts @s's message in @dir.  0 or -ENOMEM. */
static int msg_new(struct http2 *h, struct h2stream *s, enum proto_dir dir)
{
	struct http_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->dir = dir;
	m->is_request = dir == h->req_dir;
	m->stream_id = s->id;
	m->http_major = 2;
	m->ts_start = m->ts_end = h->d[dir].ts;
	s->x[dir].m = m;
	return 0;
}

/*
 * Ends @s: messages still in progress are emitted INCOMPLETE (the
 * request first, so that its response finds it), then @s goes.  A
 * stream reset or refused (GOAWAY) before its response began gets an
 * empty one (status 0) that says so.
 */
static void stream_abort(struct http2 *h, struct h2stream *s,
			 enum proto_gap why)
{
	enum proto_dir q = h->req_dir, r = proto_dir__other(q);

	if ((why == PROTO_GAP_STREAM_RESET || why == PROTO_GAP_GOAWAY) &&
	    s->x[q].done && !s->x[r].done && !s->x[r].m &&
	    msg_new(h, s, r) == 0)
		s->x[r].headers_done = true;
	if (!s->x[q].done)
		msg_emit(h, &s->x[q], HTTP_MSG_INCOMPLETE, why);
	if (!s->x[r].done)
		msg_emit(h, &s->x[r], HTTP_MSG_INCOMPLETE, why);
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
	if (dir != h->req_dir && !s->x[h->req_dir].done)
		msg_emit(h, &s->x[h->req_dir], HTTP_MSG_INCOMPLETE,
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
		if (dir != h->req_dir || !(sid & 1))
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
	if (!x->m && msg_new(h, s, dir))
		return NULL;
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
	if (x->unknown) {
		m->flags |= HTTP_MSG_FIELDS_UNKNOWN;
		if (!s->unknown_counted)
			h->st.streams_hpack_unknown++;
		s->unknown_counted = true;
	}
	if (!x->headers_done) {
		if (!m->is_request && m->status >= 100 && m->status < 200) {
			/* Interim response (RFC 9113 §8.1): the final one follows. */
			msg_clear(h, x);
			return;
		}
		if (!m->is_request && !m->status && !x->unknown) {
			/* Its header section was lost: trailers, or garbage. */
			msg_clear(h, x);
			x->done = true;
			if (s->x[0].done && s->x[1].done)
				stream_free(h, s);
			return;
		}
		x->headers_done = true;
		x->hdr_bytes = 0;	/* the trailer section gets its own bound */
		m->authority = http_msg__header(m, "host");
		/*
		 * CONNECT (RFC 9113 §8.5): a tunnel, no request here.  A
		 * request whose :path could not be decoded still goes.
		 */
		if (m->is_request && (!m->method || !m->target) &&
		    (!x->unknown || (m->method &&
				     strcmp(m->method, "CONNECT") == 0))) {
			s->x[0].done = s->x[1].done = true;
			stream_free(h, s);
			return;
		}
	}
	if (end_stream)
		stream_end(h, s, dir);
}

/*
 * One field decoded by @dir's inflater for @x (NULL or without a
 * message: decoded, not kept).  An empty name is a field left out.
 */
static void field_emit(struct http2 *h, struct h2msg *x, const nghttp2_nv *nv)
{
	int err;

	if (!nv->namelen) {
		h->st.hpack_fields_unknown++;
		if (x && x->m)
			x->unknown++;
		return;
	}
	if (!x || !x->m)
		return;
	err = field_take(h, x, nv);
	if (!err)
		return;
	/* Too big, over budget, no memory: it goes. */
	if (err == -E2BIG)
		h->st.parse_errors++;
	else if (err == -ENOBUFS)
		budget__count_shed(h->lim.budget, 1, x->hdr_bytes);
	msg_clear(h, x);
	x->done = true;
}

/*
 * Runs @p[0..n) of a header block through @dir's inflater, the fields
 * going to @x; @final when the block ends there.  Returns 0 or -EPROTO
 * (the inflater failed: the connection cannot be decoded any more).
 */
static int inflate_run(struct http2 *h, enum proto_dir dir, struct h2msg *x,
		       const unsigned char *p, size_t n, bool final)
{
	nghttp2_hd_inflater *inf = h->d[dir].inf;
	int flags;
	nghttp2_nv nv;
	ssize_t rv;

	for (;;) {
		flags = 0;
		rv = nghttp2_hd_inflate_hd2(inf, &nv, &flags, p, n, final);
		if (rv < 0)
			return -EPROTO;
		p += rv;
		n -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			field_emit(h, x, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(inf);
			return 0;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && n == 0)
			return 0;
	}
}

/* ---- joined header blocks (RFC 7541 §5, §6) ---- */

enum { R_INDEXED, R_INCR, R_PLAIN, R_SIZE };

/* One field representation: its kind, index, length, value's offset. */
struct hrep {
	int kind;
	uint32_t idx;	/* (name) index; 0: literal name */
	size_t len, val_off;
};

/*
 * An integer with an @prefix-bit prefix (RFC 7541 §5.1) at @p[0..n),
 * at most 2^28 + 2^prefix.  Returns the bytes it takes, 0 when it is
 * truncated or longer.
 */
static size_t hp_int(const unsigned char *p, size_t n, unsigned prefix,
		     uint32_t *v)
{
	uint32_t max = (1u << prefix) - 1, val;
	unsigned shift = 0;
	size_t i;

	if (!n)
		return 0;
	val = p[0] & max;
	for (i = 1; val >= max && i < n && i < 5; i++, shift += 7) {
		val += (uint32_t)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80)) {
			*v = val;
			return i + 1;
		}
	}
	if (val >= max)
		return 0;
	*v = val;
	return 1;
}

/* A string literal (RFC 7541 §5.2): its bytes in @p[0..n), 0: truncated. */
static size_t hp_str(const unsigned char *p, size_t n)
{
	uint32_t len;
	size_t k = hp_int(p, n, 7, &len);

	return k && len <= n - k ? k + len : 0;
}

/* Parses the representation at @p[0..n) (n > 0).  0 or -EPROTO. */
static int rep_parse(const unsigned char *p, size_t n, struct hrep *r)
{
	unsigned prefix;
	size_t k, sl;

	if (p[0] & 0x80) {
		r->kind = R_INDEXED;
		prefix = 7;
	} else if (p[0] & 0x40) {
		r->kind = R_INCR;
		prefix = 6;
	} else if (p[0] & 0x20) {
		r->kind = R_SIZE;
		prefix = 5;
	} else {
		r->kind = R_PLAIN;	/* without indexing, never indexed */
		prefix = 4;
	}
	k = hp_int(p, n, prefix, &r->idx);
	if (!k || (r->kind == R_INDEXED && !r->idx))
		return -EPROTO;
	r->len = r->val_off = k;
	if (r->kind == R_INDEXED || r->kind == R_SIZE)
		return 0;
	if (!r->idx) {
		sl = hp_str(p + k, n - k);
		if (!sl)
			return -EPROTO;
		k += sl;
	}
	r->val_off = k;
	sl = hp_str(p + k, n - k);
	if (!sl)
		return -EPROTO;
	r->len = k + sl;
	return 0;
}

/*
 * The role of the peers, when not known yet, from the first static
 * pseudo-header reference of a block sent in @dir: entries 1-7 are a
 * request's (:authority, :method, :path, :scheme), 8-14 a response's
 * (:status).
 */
static void role_learn(struct http2 *h, enum proto_dir dir,
		       const unsigned char *p, size_t n)
{
	struct hrep r;
	size_t off;

	for (off = 0; off < n && !rep_parse(p + off, n - off, &r);
	     off += r.len) {
		if (r.kind == R_SIZE || !r.idx || r.idx > 14)
			continue;
		h->req_dir = r.idx <= 7 ? dir : proto_dir__other(dir);
		h->role_known = true;
		return;
	}
}

/* A field left out of @x: its representation names an unknown entry. */
static void field_unknown(struct http2 *h, struct h2msg *x)
{
	h->st.hpack_fields_unknown++;
	if (x && x->m)
		x->unknown++;
}

/*
 * The representations of a joined block, @p[0..n), one by one through
 * the inflater, those naming an entry from before the join left out
 * (or, when they insert one, inserted with an empty name).
 */
static int joined_decode(struct http2 *h, enum proto_dir dir, struct h2msg *x,
			 const unsigned char *p, size_t n)
{
	static const unsigned char empty_name[2] = { 0x40, 0x00 };
	struct h2dir *d = &h->d[dir];
	struct hrep r;
	size_t off, known;
	bool unknown;
	int err = 0;

	for (off = 0; off < n && !err; off += r.len) {
		if (rep_parse(p + off, n - off, &r))
			return -EPROTO;
		/* Dynamic entries our inflater has: the newest ones. */
		known = nghttp2_hd_inflate_get_num_table_entries(d->inf) -
			HPACK_STATIC_LAST;
		unknown = r.idx > HPACK_STATIC_LAST &&
			  r.idx - HPACK_STATIC_LAST - 1 >= known;
		if (r.kind == R_SIZE)
			continue;	/* our table keeps its own size */
		if (!unknown) {
			err = inflate_run(h, dir, x, p + off, r.len, false);
		} else if (r.kind == R_INCR) {
			err = inflate_run(h, dir, x, empty_name, 2, false);
			if (!err)
				err = inflate_run(h, dir, x, p + off + r.val_off,
						  r.len - r.val_off, false);
		} else {
			field_unknown(h, x);
		}
	}
	return err ? err : inflate_run(h, dir, x, (const unsigned char *)"",
				       0, true);
}

/* A joined direction's header block is complete in d->blk. */
static int block_joined(struct http2 *h, enum proto_dir dir)
{
	struct h2dir *d = &h->d[dir];
	struct h2stream *s = NULL;
	struct h2msg *x = NULL;
	unsigned char su[8];
	size_t k;
	uint32_t v;
	int err;

	d->in_block = false;
	if (!h->role_known)
		role_learn(h, dir, d->blk, d->blen);
	if (d->block_keep)
		s = block_begin(h, dir, d->block_sid);
	if (s)
		x = &s->x[dir];
	if (d->size_update_due) {
		/* Our inflater's table grows to the most ever honoured. */
		su[0] = 0x3f;
		for (k = 1, v = HPACK_TABLE_MAX - 31; v >= 0x80; v >>= 7)
			su[k++] = (unsigned char)(0x80 | (v & 0x7f));
		su[k++] = (unsigned char)v;
		err = inflate_run(h, dir, NULL, su, k, false);
		if (err)
			return err;
		d->size_update_due = false;
	}
	err = joined_decode(h, dir, x, d->blk, d->blen);
	d->blen = 0;
	if (err)
		return err;
	if (s)
		block_end(h, s, dir, d->block_end_stream);
	return 0;
}

/* Holds the fragment @p[0..n) of a joined direction's header block. */
static int block_hold(struct http2 *h, enum proto_dir dir,
		      const unsigned char *p, size_t n)
{
	struct h2dir *d = &h->d[dir];
	size_t cap;
	unsigned char *b;

	if (!n)
		return 0;
	if (d->blen + n > JOINED_BLOCK_MAX)
		return -EPROTO;
	if (d->blen + n > d->blk_cap) {
		cap = d->blen + n < 4096 ? 4096 : d->blen + n;
		b = realloc(d->blk, cap);
		if (!b)
			return -ENOMEM;
		budget__charge(h->lim.budget, cap - d->blk_cap);
		d->blk = b;
		d->blk_cap = cap;
	}
	memcpy(d->blk + d->blen, p, n);
	d->blen += n;
	return 0;
}

/*
 * Decodes the fragment @p[0..n) of the header block in progress in @dir;
 * @final when it is the block's last.  Returns 0, -ENOMEM or -EPROTO
 * (the block cannot be decoded: neither can the connection any more).
 */
static int block_fragment(struct http2 *h, enum proto_dir dir,
			  const unsigned char *p, size_t n, bool final)
{
	struct h2dir *d = &h->d[dir];
	struct h2stream *s;
	int err;

	if (d->joined) {
		err = block_hold(h, dir, p, n);
		return err || !final ? err : block_joined(h, dir);
	}
	/* Looked up again: the other direction may have ended it. */
	s = d->block_keep ? stream_find(h, d->block_sid) : NULL;
	err = inflate_run(h, dir, s ? &s->x[dir] : NULL, p, n, final);
	if (err || !final)
		return err;
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
	if (!d->joined && d->table_next > d->table_max) {
		if (nghttp2_hd_inflate_change_table_size(d->inf, d->table_next))
			return -EPROTO;
		budget__charge(h->lim.budget, d->table_next - d->table_max);
		d->table_max = d->table_next;
	}
	d->in_block = true;
	d->block_sid = sid;
	d->block_end_stream = keep && (d->flags & F_END_STREAM);
	/* A joined block waits for its end: the role may show there. */
	d->block_keep = keep && (d->joined || block_begin(h, dir, sid));
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
		if (s) {
			h->st.streams_reset++;
			stream_abort(h, s, PROTO_GAP_STREAM_RESET);
		}
		return 0;
	case T_GOAWAY:
		if (n < 8 || d->sid)
			return -EPROTO;
		/* The server did not process the client's streams above. */
		last = be32(p) & 0x7fffffffu;
		for (i = 0; dir != h->req_dir && i < h->n_streams;) {
			if (h->streams[i]->id > last)
				stream_abort(h, h->streams[i], PROTO_GAP_GOAWAY);
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
	/* A joined direction's limit may have been raised unseen. */
	if (d->flen > (d->joined ? MAX_FRAME_LIMIT : d->max_frame))
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
		if (d->expect_preface && d->preface_got < PREFACE_LEN) {
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

/* ---- finding the framing ---- */

/* RFC 9113 §6: a frame header that its type's rules allow. */
static bool frame_rules_ok(uint8_t type, uint8_t fl, uint32_t sid,
			   uint32_t len)
{
	switch (type) {
	case T_DATA:
		return sid && !(fl & ~(F_END_STREAM | F_PADDED)) &&
		       (!(fl & F_PADDED) || len);
	case T_HEADERS:
		return sid && !(fl & ~(F_END_STREAM | F_END_HEADERS |
				       F_PADDED | F_PRIORITY)) &&
		       len >= (fl & F_PADDED ? 1u : 0u) +
			      (fl & F_PRIORITY ? 5u : 0u);
	case T_PRIORITY:
		return sid && len == 5 && !fl;
	case T_RST_STREAM:
		return sid && len == 4 && !fl;
	case T_SETTINGS:
		return !sid && len % 6 == 0 && !(fl & ~F_ACK) &&
		       (!(fl & F_ACK) || !len);
	case T_PUSH_PROMISE:
		return sid && !(fl & ~(F_END_HEADERS | F_PADDED)) && len >= 4;
	case T_PING:
		return !sid && len == 8 && !(fl & ~F_ACK);
	case T_GOAWAY:
		return !sid && len >= 8 && !fl;
	case T_WINDOW_UPDATE:
		return len == 4 && !fl;
	case T_CONTINUATION:
		return sid && !(fl & ~F_END_HEADERS);
	default:
		return false;	/* skipped when in sync, not a sign of it */
	}
}

/*
 * True when @p[0..n), the first bytes of a call, are HTTP/2 frames: at
 * least one whole frame header; every header's type one of RFC 9113's,
 * its flags only the type's, its stream id zero or not as the type
 * requires, the reserved bit clear, its length at most @max_frame and
 * the type's; a header block followed by nothing but its CONTINUATION
 * frames; the frames tiling the bytes, the last one possibly running on
 * into the next call.  Text never passes (a first byte above 0 gives a
 * length over 64 KiB), nor does a call that starts mid-frame, but for
 * about one chance in 10^5 when its bytes are random.
 */
static bool frames_plausible(const unsigned char *p, size_t n,
			     uint32_t max_frame)
{
	const unsigned char *f;
	uint32_t len, sid, block_sid = 0;
	bool in_block = false;
	size_t off;

	if (n < FRAME_HDR)
		return false;
	for (off = 0; off + FRAME_HDR <= n; off += FRAME_HDR + len) {
		f = p + off;
		len = be24(f);
		sid = be32(f + 5);
		if (len > max_frame || (sid & 0x80000000u) ||
		    in_block != (f[3] == T_CONTINUATION) ||
		    (in_block && sid != block_sid) ||
		    !frame_rules_ok(f[3], f[4], sid, len))
			return false;
		if (f[3] == T_HEADERS || f[3] == T_PUSH_PROMISE ||
		    f[3] == T_CONTINUATION) {
			in_block = !(f[4] & F_END_HEADERS);
			block_sid = sid;
		}
	}
	return off >= n;
}

/*
 * @dir's framing and HPACK state are lost: from its next call that
 * starts with frames on, its header blocks are decoded as joined, with
 * a new inflater.  Returns 0 or -ENOMEM.
 */
static int dir_join(struct http2 *h, enum proto_dir dir)
{
	struct h2dir *d = &h->d[dir];
	nghttp2_hd_inflater *inf;

	if (nghttp2_hd_inflate_new(&inf))
		return -ENOMEM;
	if (nghttp2_hd_inflate_change_table_size(inf, HPACK_TABLE_MAX)) {
		nghttp2_hd_inflate_del(inf);
		return -ENOMEM;
	}
	nghttp2_hd_inflate_del(d->inf);
	budget__release(h->lim.budget, d->table_max);
	budget__charge(h->lim.budget, HPACK_TABLE_MAX);
	d->inf = inf;
	d->table_max = d->table_next = HPACK_TABLE_MAX;
	d->size_update_due = true;
	d->joined = d->hunting = true;
	d->hgot = d->bgot = d->blen = 0;
	d->left = 0;
	d->pad_pending = d->in_block = false;
	return 0;
}

/*
 * The first bytes of @dir, @p[0..n): the client preface, or the start
 * of the server's side of a connection whose client side began with it,
 * or frames of a connection joined mid-way.
 */
static int dir_begin(struct http2 *h, enum proto_dir dir,
		     const unsigned char *p, size_t n)
{
	struct h2dir *d = &h->d[dir], *o = &h->d[proto_dir__other(dir)];
	size_t k = n < PREFACE_LEN ? n : PREFACE_LEN;

	d->started = true;
	/* Frames never start with 'P': a bad preface fails in feed_dir(). */
	if (memcmp(p, PREFACE, k < 3 ? k : 3) == 0) {
		/* Its sender is the client: the traced process, or its peer. */
		d->expect_preface = true;
		h->req_dir = dir;
		h->role_known = true;
		if (o->started && o->joined && h->st.joined) {
			/* That was the server's first SETTINGS after all. */
			h->st.joined--;
		}
		return 0;
	}
	if (o->started && !o->joined)
		return 0;
	if (!o->started) {
		h->st.joined++;
		/* Only the server sends a bare SETTINGS first (§3.4). */
		if (n >= FRAME_HDR && p[3] == T_SETTINGS && !(p[4] & F_ACK))
			h->req_dir = proto_dir__other(dir);
	}
	return dir_join(h, dir);
}

/* ---- the "http2" protocol entry ---- */

static bool http2_detect(enum proto_dir dir, const void *buf, size_t len)
{
	size_t n = len < PREFACE_LEN ? len : PREFACE_LEN;

	/*
	 * A short first write is taken when it is the preface's start; the
	 * preface read is a server's connection.
	 */
	if (n && memcmp(buf, PREFACE, n) == 0)
		return true;
	return frames_plausible(buf, len, DEFAULT_MAX_FRAME);
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
		budget__release(h->lim.budget, h->d[i].bcap + h->d[i].blk_cap);
		free(h->d[i].buf);
		free(h->d[i].blk);
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
	h->req_dir = PROTO_DIR_WRITE;
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
	bool at_call = d->at_call || !d->started;
	int err = 0;

	if (h->dead || d->ended || !len)
		return 0;
	d->ts = ts_ns;
	d->seq++;
	d->at_call = false;
	if (!d->started)
		err = dir_begin(h, dir, buf, len);
	if (!err && d->hunting) {
		if (!at_call)
			return 0;
		if (!frames_plausible(buf, len, d->max_frame)) {
			if (++d->hunt_calls > HUNT_MAX_CALLS)
				conn_fail(h, PROTO_GAP_NONE);
			return 0;
		}
		d->hunting = false;
		d->hunt_calls = 0;
		if (d->lost)
			h->st.resyncs++;
		d->lost = false;
	}
	if (!err)
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

static void http2_call_start(void *st, enum proto_dir dir)
{
	struct http2 *h = st;

	h->d[dir].at_call = true;
}

/*
 * The messages of @dir in progress end INCOMPLETE with @why (a request
 * still going on the other side is emitted first, as at END_STREAM);
 * those not begun may begin after the resync.  Then @dir hunts.
 */
static void http2_gap(void *st, enum proto_dir dir, enum proto_gap why)
{
	struct http2 *h = st;
	struct h2dir *d = &h->d[dir];
	enum proto_dir q = h->req_dir;
	struct h2stream *s;
	size_t i;

	if (h->dead || d->hunting)
		return;
	for (i = 0; i < h->n_streams;) {
		s = h->streams[i];
		if (s->x[dir].m && !s->x[dir].done) {
			if (dir != q && !s->x[q].done)
				msg_emit(h, &s->x[q], HTTP_MSG_INCOMPLETE,
					 PROTO_GAP_NONE);
			msg_emit(h, &s->x[dir], HTTP_MSG_INCOMPLETE, why);
		}
		if (s->x[0].done && s->x[1].done)
			stream_free(h, s);
		else
			i++;
	}
	if (dir_join(h, dir)) {
		conn_fail(h, why);
		return;
	}
	d->lost = true;
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
static bool http2_starts_request(const void *st, enum proto_dir dir,
				 const void *buf, size_t len)
{
	return false;
}

static bool http2_server_end(const void *st)
{
	const struct http2 *h = st;

	return h->role_known && h->req_dir == PROTO_DIR_READ;
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
	.call_start = http2_call_start,
	.gap = http2_gap,
	.flush = http2_flush,
	.in_message = http2_in_message,
	.starts_request = http2_starts_request,
	.ignored = http2_ignored,
	.server_end = http2_server_end,
	.held = http2_held,
	.shed = http2_shed,
	.stats = http2_stats,
	.free = http2_free,
};
