// SPDX-License-Identifier: MIT
/*
 * Incremental HTTP/1.1 stream parser on top of nodejs http-parser.
 *
 * A stream is in one of two modes.  In PARSE mode its bytes go to
 * http-parser, whose callbacks build the current message.  In SYNC mode
 * (a new stream, after a gap, after a parse error) bytes are skipped up
 * to the next line that looks like a start line; that line is handed to
 * a freshly initialised parser and the stream is back in PARSE mode.  A
 * candidate line split across feeds is held in a small buffer, so that
 * mode never keeps more than SYNC_MAX bytes.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "lib/budget.h"
#include "proto/body.h"
#include "proto/http1.h"
#include "proto/ws.h"
#include "proto/wsmap.h"

#define DEFAULT_MAX_BODY	(4u << 20)
#define DEFAULT_MAX_HEADER	(64u << 10)
#define SYNC_MAX		8192
#define METHOD_MAX		24
#define FIELD_OVERHEAD		4	/* ": " and CRLF */
/*
 * Budget charge per header byte: the parser's copy while the field
 * arrives and the message's own copy; plus a field's slot and malloc
 * overhead at its start.
 */
#define HDR_CHARGE		2
#define FIELD_CHARGE		(sizeof(struct http_header) + 16)

enum mode {
	MODE_SYNC,
	MODE_PARSE,
};

/* A growable byte string, always NUL-terminated once allocated. */
struct sbuf {
	char *p;
	size_t len, cap;
};

struct httpstream {
	http_parser parser;
	struct http_limits lim;
	proto_msg_fn cb;
	void *ctx;
	enum mode mode;
	bool not_http1;
	bool enomem;
	bool hdr_overflow;
	bool expect_head;
	bool switched;		/* a 101 response just completed */
	size_t rest;		/* bytes of the last feed after the 101 */
	bool upgraded;		/* the parser stopped at an upgrade */
	uint64_t ts;		/* ts of the bytes being parsed */
	uint64_t seq;		/* feed() counter, for body marks */
	uint64_t fed;		/* bytes fed since creation or flush */
	unsigned char head[9];	/* first bytes, for HTTP/2 detection */

	/* SYNC mode */
	bool at_line_start;
	uint64_t skipped;	/* bytes skipped in this resync */
	char *rbuf;		/* candidate start line split across feeds */
	size_t rlen;
	uint64_t rbuf_ts;

	/* the message being built (PARSE mode) */
	struct http_msg *cur;
	bool line_done;		/* its start line is whole */
	bool headers_done;
	bool in_value;		/* last header callback was a value */
	size_t hdr_bytes;
	size_t cap_headers, cap_trailers;
	struct body_state body;	/* of the message in progress */
	uint64_t body_hint;	/* Content-Length, 0 if none (chunked, EOF) */
	struct sbuf url, name, value;
	/*
	 * Budget charges of the message in progress: its header section
	 * and marks (held_meta), its body (body.cap, unless shed, when the
	 * body is dropped and no more of it is kept).
	 */
	size_t held_meta;
	bool budget_refused;	/* hdr_overflow was the budget's doing */

	struct httpstream_stats st;
};

static int on_message_begin(http_parser *p);
static int on_url(http_parser *p, const char *at, size_t len);
static int on_status(http_parser *p, const char *at, size_t len);
static int on_header_field(http_parser *p, const char *at, size_t len);
static int on_header_value(http_parser *p, const char *at, size_t len);
static int on_headers_complete(http_parser *p);
static int on_body(http_parser *p, const char *at, size_t len);
static int on_message_complete(http_parser *p);

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_status = on_status,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static int sbuf_add(struct sbuf *b, const char *at, size_t len)
{
	size_t cap;
	char *p;

	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, at, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

static void sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Returns a malloc'd copy of @b's contents ("" when empty); NULL: ENOMEM. */
static char *sbuf_dup(const struct sbuf *b)
{
	return strndup(b->p ? b->p : "", b->len);
}

/* ---- building the current message (http-parser callbacks) ---- */

static struct httpstream *stream_of(http_parser *p)
{
	return p->data;
}

/*
 * Counts header section bytes and charges them to the budget; false (and
 * a parse error) past the limit or when the budget refuses them.
 */
static bool hdr_account(struct httpstream *s, size_t len)
{
	size_t charge = len * HDR_CHARGE;

	s->hdr_bytes += len;
	if (s->hdr_bytes > s->lim.max_header_bytes) {
		s->hdr_overflow = true;
		return false;
	}
	if (budget__reserve(s->lim.budget, charge)) {
		s->hdr_overflow = true;
		s->budget_refused = true;
		return false;
	}
	s->held_meta += charge;
	return true;
}

/* Gives back what the message in progress has charged. */
static void msg_release(struct httpstream *s)
{
	budget__release(s->lim.budget, s->held_meta + s->body.cap);
	s->held_meta = 0;
	s->body.cap = 0;
}

static void msg_reset(struct httpstream *s)
{
	msg_release(s);
	http_msg__free(s->cur);
	s->cur = NULL;
	s->line_done = false;
	s->headers_done = false;
	s->in_value = false;
	s->body.shed = false;
	s->hdr_bytes = 0;
	s->cap_headers = s->cap_trailers = s->body.cap = s->body.cap_marks = 0;
	s->body_hint = 0;
	/*
	 * Not kept between messages: a 64 KiB request-target once would
	 * otherwise stay with every idle stream.
	 */
	sbuf_free(&s->url);
	sbuf_free(&s->name);
	sbuf_free(&s->value);
}

/*
 * Hands the current message to the callback; @flags are added to it and
 * @why (PROTO_GAP_NONE: no gap) says what a gap took from it.
 */
static void msg_emit(struct httpstream *s, unsigned flags, enum proto_gap why)
{
	struct http_msg *m = s->cur;
	/* Its memory stays charged until the callback has freed it. */
	size_t held = s->held_meta + s->body.cap;

	s->held_meta = s->body.cap = 0;
	s->cur = NULL;
	msg_reset(s);
	m->flags |= flags;
	m->gap = why;
	s->st.messages++;
	s->cb(s->ctx, m);
	budget__release(s->lim.budget, held);
}

/* Drops or emits (INCOMPLETE, for reason @why) the message in progress. */
static void msg_abort(struct httpstream *s, enum proto_gap why)
{
	if (s->cur && s->headers_done)
		msg_emit(s, HTTP_MSG_INCOMPLETE, why);
	else
		msg_reset(s);
}

static int on_message_begin(http_parser *p)
{
	struct httpstream *s = stream_of(p);

	/* HTTP_BOTH can announce a request starting with 'H' only once. */
	if (s->cur && !s->headers_done)
		return 0;
	msg_reset(s);
	s->cur = calloc(1, sizeof(*s->cur));
	if (!s->cur) {
		s->enomem = true;
		return -1;
	}
	s->cur->ts_start = s->ts;
	s->cur->ts_end = s->ts;
	if (s->skipped) {
		s->cur->flags |= HTTP_MSG_RESYNCED;
		s->st.resyncs++;
		s->skipped = 0;
	}
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct httpstream *s = stream_of(p);

	if (!hdr_account(s, len))
		return -1;
	if (sbuf_add(&s->url, at, len)) {
		s->enomem = true;
		return -1;
	}
	return 0;
}

static int on_status(http_parser *p, const char *at, size_t len)
{
	/* The reason phrase is not kept, only counted (RFC 9112 §4). */
	return hdr_account(stream_of(p), len) ? 0 : -1;
}

/* Trailing OWS is part of what http-parser hands over; RFC 9110 §5.5. */
static void trim_ows(char *v)
{
	size_t n = strlen(v);

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
}

/* Appends the field line held in name/value to headers or trailers. */
static int field_finish(struct httpstream *s)
{
	struct http_msg *m = s->cur;
	struct http_header **arr = s->headers_done ? &m->trailers : &m->headers;
	size_t *n = s->headers_done ? &m->n_trailers : &m->n_headers;
	size_t *cap = s->headers_done ? &s->cap_trailers : &s->cap_headers;
	struct http_header *h;
	char *name, *value;
	size_t nl, vl;

	if (!s->in_value && !s->name.len)
		return 0;
	if (*n == *cap) {
		h = reallocarray(*arr, *cap ? *cap * 2 : 16, sizeof(*h));
		if (!h)
			return -ENOMEM;
		*arr = h;
		*cap = *cap ? *cap * 2 : 16;
	}
	/* One allocation, "name\0value\0", each cut at a NUL as strndup cuts. */
	nl = s->name.len ? strnlen(s->name.p, s->name.len) : 0;
	vl = s->value.len ? strnlen(s->value.p, s->value.len) : 0;
	name = malloc(nl + vl + 2);
	if (!name)
		return -ENOMEM;
	value = name + nl + 1;
	memcpy(name, s->name.p ? s->name.p : "", nl);
	name[nl] = '\0';
	memcpy(value, s->value.p ? s->value.p : "", vl);
	value[vl] = '\0';
	trim_ows(value);
	(*arr)[*n].name = name;
	(*arr)[*n].value = value;
	(*n)++;
	s->name.len = s->value.len = 0;
	s->in_value = false;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct httpstream *s = stream_of(p);

	s->line_done = true;
	if (s->in_value && field_finish(s))
		goto nomem;
	if (!hdr_account(s, len + (s->name.len ? 0 : FIELD_OVERHEAD)))
		return -1;
	if (!s->name.len &&
	    budget__reserve(s->lim.budget, FIELD_CHARGE) == 0)
		s->held_meta += FIELD_CHARGE;
	if (sbuf_add(&s->name, at, len))
		goto nomem;
	return 0;
nomem:
	s->enomem = true;
	return -1;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct httpstream *s = stream_of(p);

	if (!hdr_account(s, len))
		return -1;
	s->in_value = true;
	if (sbuf_add(&s->value, at, len)) {
		s->enomem = true;
		return -1;
	}
	return 0;
}

/* Returns 1 to tell http-parser that the message has no body. */
static int on_headers_complete(http_parser *p)
{
	struct httpstream *s = stream_of(p);
	struct http_msg *m = s->cur;

	s->line_done = true;
	if (field_finish(s))
		goto nomem;
	m->is_request = p->type == HTTP_REQUEST;
	m->http_major = p->http_major;
	m->http_minor = p->http_minor;
	if (m->is_request) {
		m->method = strdup(http_method_str(p->method));
		m->target = sbuf_dup(&s->url);
		if (!m->method || !m->target)
			goto nomem;
		m->authority = http_msg__header(m, "host");
	} else {
		m->status = p->status_code;
	}
	s->headers_done = true;
	s->hdr_bytes = 0;	/* the trailer section gets its own budget */
	if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX)
		s->body_hint = p->content_length;
	if (!m->is_request && m->status >= 200 && s->expect_head) {
		s->expect_head = false;
		return 1;
	}
	return 0;
nomem:
	s->enomem = true;
	return -1;
}

/* Drops the body of the message in progress for the budget. */
static size_t body_drop(struct httpstream *s)
{
	return body__drop(&s->body, s->cur, s->lim.budget);
}

size_t httpstream__held(const struct httpstream *s)
{
	return s && s->cur && !s->body.shed ? s->body.cap : 0;
}

size_t httpstream__shed(struct httpstream *s)
{
	return httpstream__held(s) ? body_drop(s) : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct httpstream *s = stream_of(p);
	struct http_msg *m = s->cur;

	if (!len)
		return 0;
	if (!m->body_total)
		m->ts_body = s->ts;
	if (body__mark(&s->body, m, s->lim.budget, s->seq, s->ts,
		       &s->held_meta) ||
	    body__append(&s->body, m, s->lim.budget, s->lim.max_body,
			 s->body_hint, at, len, s->ts)) {
		s->enomem = true;
		return -1;
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct httpstream *s = stream_of(p);

	if (!s->cur)
		return 0;
	if (s->headers_done && field_finish(s)) {
		s->enomem = true;
		return -1;
	}
	s->cur->ts_end = s->ts;
	s->upgraded = p->upgrade;
	if (!s->cur->is_request && s->cur->status == 101) {
		/* Whatever follows is another protocol: stop right here. */
		s->switched = true;
		http_parser_pause(p, 1);
	}
	msg_emit(s, 0, PROTO_GAP_NONE);
	return 0;
}

/* ---- finding start lines ---- */

enum verdict {
	V_NO,		/* not a start line */
	V_MAYBE,	/* a prefix of one: need the rest of the line */
	V_START,	/* request line or status line */
	V_H2,		/* the HTTP/2 connection preface */
};

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Matches @p[*i..n) against the literal @lit.  Returns V_START on a full
 * match (advancing *i), V_MAYBE when @p ends first, V_NO otherwise.
 */
static enum verdict match_lit(const unsigned char *p, size_t n, size_t *i,
			      const char *lit)
{
	for (; *lit; lit++, (*i)++) {
		if (*i == n)
			return V_MAYBE;
		if (p[*i] != (unsigned char)*lit)
			return V_NO;
	}
	return V_START;
}

/* "HTTP/1." DIGIT at @p[*i]. */
static enum verdict match_version(const unsigned char *p, size_t n, size_t *i)
{
	enum verdict v = match_lit(p, n, i, "HTTP/1.");

	if (v != V_START)
		return v;
	if (*i == n)
		return V_MAYBE;
	if (!is_digit(p[*i]))
		return V_NO;
	(*i)++;
	return V_START;
}

/* status-line = HTTP-version SP 3DIGIT [SP reason] (RFC 9112 §4). */
static enum verdict match_status(const unsigned char *p, size_t n)
{
	enum verdict v;
	size_t i = 0;

	v = match_version(p, n, &i);
	if (v != V_START)
		return v;
	v = match_lit(p, n, &i, " ");
	if (v != V_START)
		return v;
	for (; i < 12; i++) {
		if (i == n)
			return V_MAYBE;
		if (!is_digit(p[i]))
			return V_NO;
	}
	return i == n || p[i] == ' ' ? V_START : V_NO;
}

/*
 * request-line = method SP request-target SP HTTP-version (RFC 9112 §3);
 * methods are taken as upper-case tokens, as http-parser knows them.
 */
static enum verdict match_request(const unsigned char *p, size_t n)
{
	size_t i = 0, start;
	enum verdict v;

	while (i < n && i < METHOD_MAX &&
	       ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' || p[i] == '_'))
		i++;
	if (i == n)
		return V_MAYBE;
	if (i == 0 || p[i] != ' ')
		return V_NO;
	start = ++i;
	while (i < n && p[i] > ' ' && p[i] < 0x7f)
		i++;
	if (i == n)
		return V_MAYBE;
	if (i == start || p[i] != ' ')
		return V_NO;
	i++;
	v = match_version(p, n, &i);
	if (v != V_START)
		return v;
	return i == n ? V_START : V_NO;
}

/*
 * Classifies the line @p[0..n), without its LF; @eol tells whether the
 * line is complete.  An incomplete line that could still become a start
 * line is V_MAYBE.
 */
static enum verdict classify(const char *line, size_t n, bool eol)
{
	static const char preface[] = "PRI * HTTP/2.0";
	const unsigned char *p = (const unsigned char *)line;
	enum verdict a, b;

	if (n && p[n - 1] == '\r')
		n--;
	if (n == sizeof(preface) - 1 && memcmp(p, preface, n) == 0 && eol)
		return V_H2;
	a = match_status(p, n);
	b = match_request(p, n);
	if (!eol && n < sizeof(preface) - 1 &&
	    memcmp(p, preface, n) == 0)
		return V_MAYBE;
	if (a == V_NO && b == V_NO)
		return V_NO;
	if (!eol)
		return V_MAYBE;
	return a == V_START || b == V_START ? V_START : V_NO;
}

static void skip(struct httpstream *s, size_t n)
{
	s->skipped += n;
	s->st.bytes_skipped += n;
}

static void sync_start(struct httpstream *s, bool at_line_start)
{
	if (s->rlen)
		skip(s, s->rlen);
	http_parser_init(&s->parser, HTTP_BOTH);
	s->parser.data = s;
	s->upgraded = s->switched = false;
	s->mode = MODE_SYNC;
	s->at_line_start = at_line_start;
	s->rlen = 0;
}

static size_t parse(struct httpstream *s, const char *p, size_t n);

/*
 * The buffer for a start line split across feeds, allocated the first
 * time one is: most streams never need it.  Charged to the budget until
 * the stream is freed.
 */
static int rbuf_get(struct httpstream *s)
{
	if (s->rbuf)
		return 0;
	s->rbuf = malloc(SYNC_MAX);
	if (!s->rbuf)
		return -ENOMEM;
	budget__charge(s->lim.budget, SYNC_MAX);
	return 0;
}

/*
 * Continues a candidate line held in rbuf with the feed @p.  Returns
 * bytes used of @p.  When the candidate fails, @p itself is looked at as
 * a line start: the bytes in between may have been lost.
 */
static size_t sync_buffered(struct httpstream *s, const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	size_t take = nl ? (size_t)(nl - p) + 1 : n;
	uint64_t ts = s->ts;
	size_t used, len;
	enum verdict v;

	if (s->rlen + take > SYNC_MAX) {
		skip(s, s->rlen);
		s->rlen = 0;
		s->at_line_start = true;
		return 0;
	}
	memcpy(s->rbuf + s->rlen, p, take);
	s->rlen += take;
	v = classify(s->rbuf, nl ? s->rlen - 1 : s->rlen, nl != NULL);
	if (v == V_MAYBE)
		return take;
	if (v == V_H2) {
		s->not_http1 = true;
		return n;
	}
	if (v == V_NO) {
		s->rlen -= take;
		skip(s, s->rlen);
		s->rlen = 0;
		s->at_line_start = true;
		return 0;
	}
	/* The start line began in an earlier feed: parse it with that ts. */
	s->mode = MODE_PARSE;
	s->ts = s->rbuf_ts;
	len = s->rlen;
	s->rlen = 0;
	used = parse(s, s->rbuf, len);
	s->ts = ts;
	if (s->mode == MODE_SYNC) {
		/* Rejected after all: the rest of the line goes too. */
		skip(s, len - used);
		s->at_line_start = true;
	}
	return take;
}

/*
 * SYNC mode: skips bytes up to the next start line.  Returns the number
 * of bytes of @p used; on finding a start line at @p + used, the mode is
 * PARSE.
 */
static size_t sync_scan(struct httpstream *s, const char *p, size_t n)
{
	const char *nl;
	enum verdict v;

	if (s->rlen)
		return sync_buffered(s, p, n);
	nl = memchr(p, '\n', n);
	if (!s->at_line_start) {
		if (!nl) {
			skip(s, n);
			return n;
		}
		skip(s, (size_t)(nl - p) + 1);
		s->at_line_start = true;
		return (size_t)(nl - p) + 1;
	}
	v = classify(p, nl ? (size_t)(nl - p) : n, nl != NULL);
	switch (v) {
	case V_START:
		s->mode = MODE_PARSE;
		return 0;
	case V_H2:
		s->not_http1 = true;
		return n;
	case V_MAYBE:
		if (n <= SYNC_MAX && rbuf_get(s) == 0) {
			memcpy(s->rbuf, p, n);
			s->rlen = n;
			s->rbuf_ts = s->ts;
			return n;
		}
		/* fall through */
	case V_NO:
		break;
	}
	if (!nl) {
		skip(s, n);
		s->at_line_start = false;
		return n;
	}
	skip(s, (size_t)(nl - p) + 1);
	return (size_t)(nl - p) + 1;
}

/* ---- PARSE mode ---- */

/*
 * Runs http-parser over @p.  Returns the bytes used; on a parse error the
 * message in progress is given up and the mode is SYNC.
 */
static size_t parse(struct httpstream *s, const char *p, size_t n)
{
	size_t used = http_parser_execute(&s->parser, &settings, p, n);
	enum http_errno err = HTTP_PARSER_ERRNO(&s->parser);

	if (s->switched) {
		/* What follows the 101 is the new protocol's (rest). */
		s->not_http1 = true;
		return used <= n ? used : n;
	}
	if (err == HPE_OK && !s->enomem && !s->hdr_overflow) {
		if (!s->upgraded)
			return n;
		/*
		 * http-parser stops after a request asking for an upgrade (or
		 * a CONNECT); the answer may well be "no", so go on as HTTP.
		 */
		http_parser_init(&s->parser, HTTP_BOTH);
		s->parser.data = s;
		s->upgraded = false;
		return used;
	}
	if (err == HPE_CLOSED_CONNECTION && !s->cur && !s->enomem) {
		/* More after "Connection: close": parse it all the same. */
		http_parser_init(&s->parser, HTTP_BOTH);
		s->parser.data = s;
		return used;
	}
	if (s->budget_refused)
		budget__count_shed(s->lim.budget, 1, s->hdr_bytes);
	else if (!s->enomem)
		s->st.parse_errors++;
	msg_abort(s, PROTO_GAP_NONE);
	s->hdr_overflow = false;
	s->budget_refused = false;
	if (used > n)
		used = n;
	if (used == 0) {
		/* Guarantees progress: the first byte is what failed. */
		used = 1;
		skip(s, 1);
	}
	sync_start(s, p[used - 1] == '\n');
	return used;
}

static bool is_h2_settings(const unsigned char *h)
{
	uint32_t len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];

	/* RFC 9113 §6.5: type 4 on stream 0, a multiple of 6 bytes long. */
	return h[3] == 0x04 && (h[4] & ~1u) == 0 && len % 6 == 0 &&
	       len <= 16384 && !(h[5] | h[6] | h[7] | h[8]);
}

/* Looks at a stream's first 9 bytes for an HTTP/2 server's SETTINGS. */
static void sniff_h2(struct httpstream *s, const unsigned char *p, size_t n)
{
	size_t k = sizeof(s->head) - s->fed;

	if (k > n)
		k = n;
	memcpy(s->head + s->fed, p, k);
	if (s->fed + k == sizeof(s->head) && is_h2_settings(s->head))
		s->not_http1 = true;
}

int httpstream__feed(struct httpstream *s, const void *buf, size_t len,
		     uint64_t ts_ns)
{
	const char *p = buf;
	size_t used;
	int err = 0;

	if (!len || s->not_http1)
		return 0;
	if (s->fed < sizeof(s->head))
		sniff_h2(s, buf, len);
	s->fed += len;
	s->ts = ts_ns;
	s->seq++;
	/*
	 * A feed is one SSL_read/SSL_write call: after lost bytes the next
	 * message most likely starts at one, not after a line end.
	 */
	if (s->mode == MODE_SYNC && !s->rlen)
		s->at_line_start = true;
	while (len && !s->not_http1) {
		if (s->mode == MODE_SYNC) {
			used = sync_scan(s, p, len);
		} else {
			used = parse(s, p, len);
			if (s->cur && s->cur->ts_end < ts_ns)
				s->cur->ts_end = ts_ns;
		}
		if (s->enomem) {
			s->enomem = false;
			err = -ENOMEM;
		}
		p += used;
		len -= used;
	}
	s->rest = len;
	return err;
}

size_t httpstream__rest(const struct httpstream *s)
{
	return s && s->switched ? s->rest : 0;
}

void httpstream__expect_head_response(struct httpstream *s)
{
	if (s)
		s->expect_head = true;
}

void httpstream__gap(struct httpstream *s, enum proto_gap why)
{
	if (!s || s->not_http1)
		return;
	msg_abort(s, why);
	sync_start(s, true);
}

void httpstream__flush(struct httpstream *s, uint64_t ts_ns)
{
	if (!s || s->not_http1)
		return;
	if (s->mode == MODE_PARSE && s->cur && s->headers_done) {
		/*
		 * Zero bytes tell http-parser about the EOF: it completes a
		 * body delimited by the close, and fails anything else.
		 */
		http_parser_execute(&s->parser, &settings, NULL, 0);
		s->enomem = false;
	}
	msg_abort(s, PROTO_GAP_NONE);
	sync_start(s, true);
	s->skipped = 0;
	s->fed = 0;
	s->expect_head = false;
}

bool httpstream__in_message(const struct httpstream *s)
{
	return s && ((s->mode == MODE_PARSE && s->cur) || s->rlen);
}

bool httpstream__in_start_line(const struct httpstream *s)
{
	return s && ((s->mode == MODE_PARSE && s->cur && !s->line_done) ||
		     s->rlen);
}

void httpstream__stats(const struct httpstream *s, struct httpstream_stats *st)
{
	if (s)
		*st = s->st;
	else
		memset(st, 0, sizeof(*st));
}

bool httpstream__not_http1(const struct httpstream *s)
{
	return s && s->not_http1;
}

int httpstream__new(struct httpstream **out, const struct http_limits *lim,
		    proto_msg_fn cb, void *ctx)
{
	struct httpstream *s;

	*out = NULL;
	if (!cb)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (lim)
		s->lim = *lim;
	if (!s->lim.max_body)
		s->lim.max_body = DEFAULT_MAX_BODY;
	if (!s->lim.max_header_bytes)
		s->lim.max_header_bytes = DEFAULT_MAX_HEADER;
	s->cb = cb;
	s->ctx = ctx;
	budget__charge(s->lim.budget, sizeof(*s));
	sync_start(s, true);
	*out = s;
	return 0;
}

void httpstream__free(struct httpstream *s)
{
	if (!s)
		return;
	msg_reset(s);
	budget__release(s->lim.budget,
			sizeof(*s) + (s->rbuf ? SYNC_MAX : 0));
	free(s->rbuf);
	free(s);
}

/* ---- the "http1" protocol entry: one stream per direction ---- */

struct http1;

struct http1_dir {
	struct http1 *h;
	enum proto_dir dir;
};

struct http1 {
	struct httpstream *hs[2];	/* by enum proto_dir */
	struct http1_dir d[2];		/* each stream's callback context */
	proto_msg_fn cb;
	void *ctx;
	struct proto_limits lim;
	bool not_http1;			/* set by a successful feed() */
	/*
	 * WebSocket (RFC 6455 §4): the grouping made from a request with
	 * "Upgrade: websocket" waits in up for its answer; a 101 starts
	 * ws, and from then on both directions' bytes are frames.
	 */
	struct wsmap *up, *wsm;
	enum proto_dir up_dir;		/* the upgrade request's */
	struct ws *ws;
	bool ws_switch;			/* the 101 came in this feed */
	bool ws_ended;			/* wsm told of the end */
	struct ws_params wsp;
};

/* A token list header (RFC 9110 §5.6.1) @v names @tok. */
static bool has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	for (; v && *v; v++) {
		v += strspn(v, " \t");
		if (strncasecmp(v, tok, n) == 0 &&
		    (v[n] == '\0' || v[n] == ',' || v[n] == ' ' ||
		     v[n] == '\t'))
			return true;
		v += strcspn(v, ",");
		if (!*v)
			break;
	}
	return false;
}

/*
 * The opening handshake (RFC 6455 §4.1, §4.2.2): a GET asking for
 * "Upgrade: websocket" and the 101 answering it.  Both are flagged
 * HTTP_MSG_WS_HANDSHAKE for the pairing, which reports neither.
 */
static void ws_handshake(struct http1 *h, struct http1_dir *d,
			 struct http_msg *msg)
{
	const char *v;

	if (msg->is_request) {
		v = http_msg__header(msg, "upgrade");
		if (!msg->method || strcmp(msg->method, "GET") != 0 ||
		    !has_token(v, "websocket") || h->ws)
			return;
		wsmap__free(h->up);
		h->up = NULL;
		msg->dir = d->dir;
		h->up_dir = d->dir;
		if (wsmap__new(&h->up, msg, h->lim.max_body, h->lim.budget,
			       h->cb, h->ctx) == 0)
			msg->flags |= HTTP_MSG_WS_HANDSHAKE;
		return;
	}
	if (!h->up || d->dir == h->up_dir ||
	    (msg->status < 200 && msg->status != 101))
		return;
	if (msg->status == 101 &&
	    has_token(http_msg__header(msg, "upgrade"), "websocket")) {
		ws__parse_extensions(http_msg__header(msg,
					"sec-websocket-extensions"), &h->wsp);
		msg->flags |= HTTP_MSG_WS_HANDSHAKE;
		h->ws_switch = true;
		return;
	}
	/* Refused: the connection goes on as HTTP. */
	wsmap__free(h->up);
	h->up = NULL;
}

static void http1_on_msg(void *ctx, struct http_msg *msg)
{
	struct http1_dir *d = ctx;
	struct http1 *h = d->h;

	msg->dir = d->dir;
	ws_handshake(h, d, msg);
	/* The answer to HEAD has no body, whatever it says (RFC 9110 §9.3.2). */
	if (msg->method && strcmp(msg->method, "HEAD") == 0)
		httpstream__expect_head_response(h->hs[!d->dir]);
	h->cb(h->ctx, msg);
}

/*
 * HTTP/1.x has no preface to recognise: any bytes are taken, and the
 * streams resync at the next start line or find out that they carry
 * HTTP/2 (ignored()).
 */
static bool http1_detect(enum proto_dir dir, const void *buf, size_t len)
{
	return true;
}

static void http1_free(void *st)
{
	struct http1 *h = st;

	if (!h)
		return;
	httpstream__free(h->hs[PROTO_DIR_WRITE]);
	httpstream__free(h->hs[PROTO_DIR_READ]);
	ws__free(h->ws);
	wsmap__free(h->wsm);
	wsmap__free(h->up);
	free(h);
}

static int http1_new(void **out, const struct proto_limits *lim,
		     proto_msg_fn cb, void *ctx)
{
	struct http_limits hl = {
		.max_body = lim ? lim->max_body : 0,
		.budget = lim ? lim->budget : NULL,
	};
	struct http1 *h;
	int i, err;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cb = cb;
	h->ctx = ctx;
	if (lim)
		h->lim = *lim;
	for (i = PROTO_DIR_WRITE; i <= PROTO_DIR_READ; i++) {
		h->d[i] = (struct http1_dir){ .h = h, .dir = i };
		err = httpstream__new(&h->hs[i], &hl, http1_on_msg, &h->d[i]);
		if (err) {
			http1_free(h);
			return err;
		}
	}
	*out = h;
	return 0;
}

/* WebSocket: the grouping is told once that the frames ended. */
static void ws_end(struct http1 *h, enum proto_gap why)
{
	if (h->ws_ended)
		return;
	h->ws_ended = true;
	wsmap__end(h->wsm, why);
}

static int ws_feed(struct http1 *h, enum proto_dir dir, const void *buf,
		   size_t len, uint64_t ts_ns)
{
	int err = ws__feed(h->ws, dir, buf, len, ts_ns);

	if (ws__dead(h->ws))
		ws_end(h, PROTO_GAP_NONE);
	return err;
}

/*
 * The 101 answering a WebSocket upgrade ended HTTP on @dir: the frames
 * begin with the bytes after it (httpstream__rest() of them).
 */
static int ws_start(struct http1 *h, enum proto_dir dir, const void *buf,
		    size_t len, uint64_t ts_ns)
{
	size_t rest = httpstream__rest(h->hs[dir]);
	int err;

	h->ws_switch = false;
	h->wsm = h->up;
	h->up = NULL;
	err = ws__new(&h->ws, &h->wsp, h->up_dir, h->lim.max_body,
		      h->lim.budget, wsmap__message, h->wsm);
	if (err)
		return err;
	if (!rest || rest > len)
		return 0;
	return ws_feed(h, dir, (const char *)buf + len - rest, rest, ts_ns);
}

static int http1_feed(void *st, enum proto_dir dir, const void *buf,
		      size_t len, uint64_t ts_ns)
{
	struct http1 *h = st;
	int err;

	if (h->ws)
		return ws_feed(h, dir, buf, len, ts_ns);
	err = httpstream__feed(h->hs[dir], buf, len, ts_ns);
	if (h->ws_switch && h->up)
		return err ? err : ws_start(h, dir, buf, len, ts_ns);
	if (!err && httpstream__not_http1(h->hs[dir]))
		h->not_http1 = true;
	return err;
}

static void http1_gap(void *st, enum proto_dir dir, enum proto_gap why)
{
	struct http1 *h = st;

	if (h->ws) {
		/* Frame boundaries are lost with the bytes. */
		ws__gap(h->ws, dir);
		ws_end(h, why);
		return;
	}
	httpstream__gap(h->hs[dir], why);
}

static void http1_flush(void *st, enum proto_dir dir, uint64_t ts_ns)
{
	struct http1 *h = st;

	if (h->ws) {
		ws_end(h, PROTO_GAP_NONE);
		return;
	}
	httpstream__flush(h->hs[dir], ts_ns);
}

static bool http1_in_message(const void *st)
{
	const struct http1 *h = st;

	if (h->ws)
		return wsmap__in_message(h->wsm) || ws__in_message(h->ws);
	return httpstream__in_message(h->hs[PROTO_DIR_WRITE]) ||
	       httpstream__in_message(h->hs[PROTO_DIR_READ]);
}

/*
 * A whole request line ("METHOD SP target SP HTTP/1.x" CRLF) at @buf,
 * with an upper-case method, that is not the rest of a start line @dir's
 * stream holds the beginning of, nor of a WebSocket frame part-way.
 */
static bool http1_starts_request(const void *st, enum proto_dir dir,
				 const void *p, size_t len)
{
	static const char ver[] = " HTTP/1.";
	const unsigned char *buf = p;
	const unsigned char *nl = memchr(buf, '\n', len);
	const struct http1 *h = st;
	size_t i = 0, n, start;

	if (!nl)
		return false;
	if (h && (h->ws ? ws__in_frame(h->ws, dir) :
			  httpstream__in_start_line(h->hs[dir])))
		return false;
	n = (size_t)(nl - buf);
	if (n && buf[n - 1] == '\r')
		n--;
	while (i < n && i < 24 && buf[i] >= 'A' && buf[i] <= 'Z')
		i++;
	if (i == 0 || i == n || buf[i] != ' ')
		return false;
	start = ++i;
	while (i < n && buf[i] > ' ' && buf[i] < 0x7f)
		i++;
	return i > start && n - i == sizeof(ver) &&
	       memcmp(buf + i, ver, sizeof(ver) - 1) == 0 &&
	       buf[n - 1] >= '0' && buf[n - 1] <= '9';
}

static size_t http1_held(const void *st)
{
	const struct http1 *h = st;

	return httpstream__held(h->hs[PROTO_DIR_WRITE]) +
	       httpstream__held(h->hs[PROTO_DIR_READ]) +
	       ws__held(h->ws) + wsmap__held(h->wsm);
}

static size_t http1_shed(void *st)
{
	struct http1 *h = st;

	return httpstream__shed(h->hs[PROTO_DIR_WRITE]) +
	       httpstream__shed(h->hs[PROTO_DIR_READ]) +
	       ws__shed(h->ws) + wsmap__shed(h->wsm);
}

static bool http1_ignored(const void *st)
{
	const struct http1 *h = st;

	return h->not_http1 || ws__dead(h->ws);
}

static void ws_add_stats(const struct http1 *h, struct proto_stats *out)
{
	struct wsmap_stats ms;
	struct ws_stats ws;

	ws__stats(h->ws, &ws);
	wsmap__stats(h->wsm, &ms);
	out->ws_connections = 1;
	out->ws_frames = ws.frames;
	out->ws_control_frames = ws.control_frames;
	out->ws_messages = ws.messages;
	out->ws_oversize = ws.oversize;
	out->ws_frame_errors = ws.frame_errors;
	out->ws_deflate_errors = ws.deflate_errors;
	out->ws_deflate_bombs = ws.deflate_bombs;
	out->ws_other_messages = ms.other_messages;
	out->ws_audio_chunks = ms.audio_chunks;
	out->ws_audio_bytes = ms.audio_bytes;
}

static void http1_stats(const void *st, struct proto_stats *out)
{
	const struct http1 *h = st;
	struct httpstream_stats hst;
	int i;

	memset(out, 0, sizeof(*out));
	for (i = PROTO_DIR_WRITE; h && i <= PROTO_DIR_READ; i++) {
		httpstream__stats(h->hs[i], &hst);
		out->messages += hst.messages;
		out->parse_errors += hst.parse_errors;
	}
	if (h && h->ws)
		ws_add_stats(h, out);
}

const struct proto_ops proto_http1 = {
	.name = "http1",
	.detect = http1_detect,
	.new = http1_new,
	.feed = http1_feed,
	.gap = http1_gap,
	.flush = http1_flush,
	.in_message = http1_in_message,
	.starts_request = http1_starts_request,
	.ignored = http1_ignored,
	.held = http1_held,
	.shed = http1_shed,
	.stats = http1_stats,
	.free = http1_free,
};
