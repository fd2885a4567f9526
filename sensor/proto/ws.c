// SPDX-License-Identifier: MIT
/*
 * WebSocket frames (RFC 6455 §5) and permessage-deflate (RFC 7692).
 * See ws.h for the contract.
 *
 * Each direction is a small state machine: the frame header is gathered
 * into hdr[] (2 to 14 bytes, whatever the feed boundaries), then the
 * payload is consumed as it arrives: unmasked into a scratch buffer,
 * inflated when the message is compressed, appended to the message.
 * Control frame payloads (at most 125 bytes) go to their own buffer, so
 * that a ping between two fragments leaves the message alone.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "lib/budget.h"
#include "proto/body.h"
#include "proto/ws.h"

#define DEFAULT_MAX_MSG		(4u << 20)
#define SCRATCH			16384
#define CTL_MAX			125

struct ws_dir {
	bool from_client;	/* frames must be masked */
	bool no_ctx;		/* the sender's no_context_takeover */
	bool closed;		/* a close frame was seen */
	/* the frame header being gathered */
	unsigned char hdr[14];
	size_t hlen, hneed;
	/* the frame whose payload is being read */
	bool in_payload;
	unsigned op;
	bool fin, masked;
	unsigned char key[4];
	uint64_t left;		/* payload bytes still to come */
	uint64_t off;		/* payload bytes read, for the mask */
	/*
	 * The data message in progress, kept as a message body is
	 * (proto/body.h): bounded, charged, shed alike.  msg_skip: a bomb's
	 * rest is not inflated.
	 */
	bool in_msg, msg_deflate, msg_skip;
	unsigned msg_op;
	struct http_msg body;
	struct body_state bs;
	uint64_t zin;		/* compressed bytes */
	uint64_t ts_first;
	/* control frame payload */
	unsigned char ctl[CTL_MAX];
	size_t ctl_len;
	/* permessage-deflate */
	z_stream z;
	bool z_init;
};

struct ws {
	struct ws_params p;
	size_t max_msg;
	struct budget *bg;
	ws_msg_fn cb;
	void *ctx;
	bool dead;
	uint64_t ts;
	struct ws_dir d[2];		/* by enum proto_dir */
	struct ws_stats st;
	unsigned char scratch[SCRATCH];	/* unmasked payload */
	unsigned char zout[SCRATCH];	/* inflated payload */
};

/* ---- handshake ---- */

/* Next ", "- or ";"-separated token of @s at *@i: [start, end). */
static bool next_tok(const char *s, size_t *i, size_t *start, size_t *end,
		     char *sep)
{
	while (s[*i] == ' ' || s[*i] == '\t')
		(*i)++;
	if (!s[*i])
		return false;
	*start = *i;
	while (s[*i] && s[*i] != ',' && s[*i] != ';')
		(*i)++;
	*end = *i;
	while (*end > *start && (s[*end - 1] == ' ' || s[*end - 1] == '\t'))
		(*end)--;
	*sep = s[*i];
	if (s[*i])
		(*i)++;
	return true;
}

static bool tok_is(const char *s, size_t start, size_t end, const char *lit)
{
	size_t n = strlen(lit);

	return end - start >= n && strncasecmp(s + start, lit, n) == 0 &&
	       (end - start == n || s[start + n] == '=' ||
		s[start + n] == ' ');
}

int ws__parse_extensions(const char *hdr, struct ws_params *p)
{
	size_t i = 0, a, b;
	bool in_pmd = false, first = true;
	char sep;

	memset(p, 0, sizeof(*p));
	if (!hdr)
		return 0;
	while (next_tok(hdr, &i, &a, &b, &sep)) {
		if (first) {
			/* an extension name; its parameters follow ';' */
			in_pmd = tok_is(hdr, a, b, "permessage-deflate") &&
				 !p->deflate;
			if (in_pmd)
				p->deflate = true;
		} else if (in_pmd) {
			if (tok_is(hdr, a, b, "client_no_context_takeover"))
				p->client_no_ctx = true;
			else if (tok_is(hdr, a, b,
					"server_no_context_takeover"))
				p->server_no_ctx = true;
		}
		first = sep == ',';
	}
	return 0;
}

/* ---- messages ---- */

static void msg_release(struct ws *w, struct ws_dir *d)
{
	budget__release(w->bg, d->bs.cap);
	free(d->body.body);
	memset(&d->body, 0, sizeof(d->body));
	memset(&d->bs, 0, sizeof(d->bs));
}

static void msg_reset(struct ws *w, struct ws_dir *d)
{
	msg_release(w, d);
	d->in_msg = d->msg_deflate = d->msg_skip = false;
	d->zin = 0;
}

/* Drops what the message in progress keeps, for the budget. */
static size_t msg_drop(struct ws *w, struct ws_dir *d)
{
	return d->in_msg ? body__drop(&d->bs, &d->body, w->bg) : 0;
}

/* Ends the connection's parsing: bad input or lost bytes. */
static void ws_kill(struct ws *w)
{
	int i;

	w->dead = true;
	for (i = 0; i < 2; i++)
		msg_reset(w, &w->d[i]);
}

/*
 * Appends to the message.  An uncompressed message's first buffer is
 * sized by its first frame (off + left: that frame's length while its
 * first bytes are appended), as a declared length sizes an HTTP body's:
 * most messages are one small frame, and 4 KiB each would be waste.
 */
static int msg_append(struct ws *w, struct ws_dir *d, const unsigned char *p,
		      size_t n)
{
	uint64_t hint = d->msg_deflate ? 0 : d->off + d->left;

	return body__append(&d->bs, &d->body, w->bg, w->max_msg, hint, p, n,
			    w->ts);
}

static void msg_deliver(struct ws *w, struct ws_dir *d, enum proto_dir dir)
{
	struct ws_msg m = {
		.dir = dir,
		.from_client = d->from_client,
		.opcode = d->msg_op,
		.data = d->body.body ? d->body.body :
				       (const unsigned char *)"",
		.len = d->body.body_len,
		.total = d->body.body_total,
		.truncated = (d->body.flags & HTTP_MSG_TRUNCATED) ||
			     d->msg_skip,
		.shed = d->bs.shed,
		.ts_first = d->ts_first,
		.ts_last = w->ts,
	};

	w->st.messages++;
	if (m.truncated)
		w->st.oversize++;
	w->cb(w->ctx, &m);
	msg_reset(w, d);
}

/* ---- permessage-deflate ---- */

static int z_get(struct ws *w, struct ws_dir *d)
{
	if (d->z_init)
		return 0;
	memset(&d->z, 0, sizeof(d->z));
	/* Raw DEFLATE (RFC 7692 §7.2.2), the largest window (§7.1.2.2). */
	if (inflateInit2(&d->z, -15) != Z_OK)
		return -ENOMEM;
	d->z_init = true;
	budget__charge(w->bg, WS_ZSTATE_CHARGE);
	return 0;
}

/*
 * A deflate bomb: cut at max_msg and expanding beyond the ratio.  With
 * context takeover every byte would still have to be inflated to keep
 * the window, so the connection is given up; without, the rest of the
 * message is skipped.
 */
static bool z_bomb(struct ws *w, struct ws_dir *d)
{
	if (!(d->body.flags & HTTP_MSG_TRUNCATED) ||
	    d->body.body_total <= (d->zin + 1) * WS_BOMB_RATIO)
		return false;
	w->st.deflate_bombs++;
	if (!d->no_ctx) {
		ws_kill(w);
		return true;
	}
	d->msg_skip = true;
	return true;
}

/* Inflates @n compressed bytes of the message into it. */
static int z_feed(struct ws *w, struct ws_dir *d, const unsigned char *p,
		  size_t n)
{
	size_t out;
	int rc, err;

	if (d->msg_skip)
		return 0;
	if (z_get(w, d))
		return -ENOMEM;
	d->zin += n;
	d->z.next_in = (unsigned char *)p;
	d->z.avail_in = (uInt)n;
	do {
		d->z.next_out = w->zout;
		d->z.avail_out = sizeof(w->zout);
		rc = inflate(&d->z, Z_SYNC_FLUSH);
		out = sizeof(w->zout) - d->z.avail_out;
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			w->st.deflate_errors++;
			ws_kill(w);
			return 0;
		}
		err = msg_append(w, d, w->zout, out);
		if (err)
			return err;
		if (z_bomb(w, d))
			return 0;
		if (rc == Z_STREAM_END) {
			/* A final block (BFINAL): what follows is not ours. */
			inflateReset(&d->z);
			break;
		}
	} while (d->z.avail_in || d->z.avail_out == 0);
	return 0;
}

/* ---- frames ---- */

/* Payload bytes of a data frame, unmasked. */
static int data_bytes(struct ws *w, struct ws_dir *d, const unsigned char *p,
		      size_t n)
{
	return d->msg_deflate ? z_feed(w, d, p, n) : msg_append(w, d, p, n);
}

/* Takes the mask off @n bytes (from payload offset d->off) into scratch. */
static const unsigned char *unmask(struct ws *w, struct ws_dir *d,
				   const unsigned char *p, size_t n)
{
	unsigned char k[8];
	uint64_t k8, v;
	size_t i = 0;

	/* The key rotated to this offset, twice: 8 bytes at a time. */
	for (i = 0; i < 8; i++)
		k[i] = d->key[(d->off + i) & 3];
	memcpy(&k8, k, sizeof(k8));
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, sizeof(v));
		v ^= k8;
		memcpy(w->scratch + i, &v, sizeof(v));
	}
	for (; i < n; i++)
		w->scratch[i] = p[i] ^ k[i & 7];
	return w->scratch;
}

static bool frame_error(struct ws *w)
{
	w->st.frame_errors++;
	ws_kill(w);
	return false;
}

/* The header is complete: checks it and starts the frame. */
static bool frame_start(struct ws *w, struct ws_dir *d)
{
	const unsigned char *h = d->hdr;
	unsigned rsv = h[0] & 0x70;
	uint64_t len = h[1] & 0x7f;
	size_t k = 2, i;
	bool ctl;

	d->fin = h[0] & 0x80;
	d->op = h[0] & 0x0f;
	d->masked = h[1] & 0x80;
	ctl = d->op & 0x8;
	if (len == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
		k = 4;
	} else if (len == 127) {
		len = 0;
		for (i = 2; i < 10; i++)
			len = len << 8 | h[i];
		k = 10;
		if (len >> 63)
			return frame_error(w);
	}
	if (d->masked)
		memcpy(d->key, h + k, 4);
	if (d->masked != d->from_client)
		return frame_error(w);
	if (ctl) {
		if (rsv || !d->fin || len > CTL_MAX ||
		    (d->op != WS_OP_CLOSE && d->op != WS_OP_PING &&
		     d->op != WS_OP_PONG))
			return frame_error(w);
		w->st.control_frames++;
		d->ctl_len = 0;
	} else if (d->op == WS_OP_CONT) {
		if (!d->in_msg || rsv)
			return frame_error(w);
	} else if (d->op == WS_OP_TEXT || d->op == WS_OP_BINARY) {
		/* RSV1 is permessage-deflate's, on a message's first frame. */
		if (d->in_msg || (rsv & ~0x40u) ||
		    (rsv && !w->p.deflate))
			return frame_error(w);
		d->in_msg = true;
		d->msg_op = d->op;
		d->msg_deflate = rsv != 0;
		d->ts_first = w->ts;
	} else {
		return frame_error(w);
	}
	w->st.frames++;
	d->left = len;
	d->off = 0;
	d->in_payload = true;
	return true;
}

/* The frame's payload is all read. */
static int frame_end(struct ws *w, struct ws_dir *d, enum proto_dir dir)
{
	static const unsigned char tail[4] = { 0x00, 0x00, 0xff, 0xff };
	int err;

	d->in_payload = false;
	d->hlen = 0;
	d->hneed = 2;
	if (d->op & 0x8) {
		if (d->op == WS_OP_CLOSE)
			d->closed = true;
		return 0;
	}
	if (!d->fin)
		return 0;
	if (d->msg_deflate) {
		/* RFC 7692 §7.2.2: the tail the sender took off. */
		err = z_feed(w, d, tail, sizeof(tail));
		if (err || w->dead)
			return err;
		if (d->no_ctx && d->z_init)
			inflateReset(&d->z);
	}
	msg_deliver(w, d, dir);
	return 0;
}

/* Gathers header bytes; returns those used of @p. */
static size_t hdr_bytes(struct ws *w, struct ws_dir *d, const unsigned char *p,
			size_t n)
{
	size_t take, used = 0;

	while (used < n && d->hlen < d->hneed) {
		take = d->hneed - d->hlen;
		if (take > n - used)
			take = n - used;
		memcpy(d->hdr + d->hlen, p + used, take);
		d->hlen += take;
		used += take;
		if (d->hlen == 2) {
			/* Now the full header length is known. */
			d->hneed = 2 + ((d->hdr[1] & 0x80) ? 4 : 0);
			if ((d->hdr[1] & 0x7f) == 126)
				d->hneed += 2;
			else if ((d->hdr[1] & 0x7f) == 127)
				d->hneed += 8;
		}
	}
	return used;
}

/* Payload bytes; returns those used of @p. */
static size_t payload_bytes(struct ws *w, struct ws_dir *d,
			    const unsigned char *p, size_t n, int *err)
{
	size_t take = n, step, done = 0;
	const unsigned char *q;

	if (take > d->left)
		take = (size_t)d->left;
	while (done < take) {
		step = take - done;
		if (d->masked && step > SCRATCH)
			step = SCRATCH;
		q = d->masked ? unmask(w, d, p + done, step) : p + done;
		if (d->op & 0x8) {
			memcpy(d->ctl + d->ctl_len, q, step);
			d->ctl_len += step;
		} else {
			*err = data_bytes(w, d, q, step);
			if (*err || w->dead)
				return take;
		}
		d->off += step;
		done += step;
	}
	d->left -= take;
	return take;
}

int ws__feed(struct ws *w, enum proto_dir dir, const void *buf, size_t len,
	     uint64_t ts_ns)
{
	struct ws_dir *d = &w->d[dir];
	const unsigned char *p = buf;
	size_t used;
	int err = 0;

	w->ts = ts_ns;
	while (len && !w->dead && !d->closed) {
		if (!d->in_payload) {
			used = hdr_bytes(w, d, p, len);
			p += used;
			len -= used;
			if (d->hlen < d->hneed || !frame_start(w, d))
				continue;
		}
		used = payload_bytes(w, d, p, len, &err);
		p += used;
		len -= used;
		if (err) {
			msg_reset(w, d);
			d->in_payload = false;
			d->hlen = 0;
			d->hneed = 2;
			/* The frame boundary is lost with the bytes. */
			ws_kill(w);
			return err;
		}
		if (!w->dead && d->left == 0)
			err = frame_end(w, d, dir);
		if (err) {
			ws_kill(w);
			return err;
		}
	}
	return 0;
}

void ws__gap(struct ws *w, enum proto_dir dir)
{
	if (w)
		ws_kill(w);
}

bool ws__dead(const struct ws *w)
{
	return w && w->dead;
}

bool ws__in_message(const struct ws *w)
{
	int i;

	for (i = 0; w && !w->dead && i < 2; i++) {
		if (w->d[i].in_msg || ws__in_frame(w, i))
			return true;
	}
	return false;
}

bool ws__in_frame(const struct ws *w, enum proto_dir dir)
{
	return w && !w->dead && (w->d[dir].in_payload || w->d[dir].hlen);
}

size_t ws__held(const struct ws *w)
{
	return w ? w->d[0].bs.cap + w->d[1].bs.cap : 0;
}

size_t ws__shed(struct ws *w)
{
	return w ? msg_drop(w, &w->d[0]) + msg_drop(w, &w->d[1]) : 0;
}

void ws__stats(const struct ws *w, struct ws_stats *out)
{
	if (w)
		*out = w->st;
	else
		memset(out, 0, sizeof(*out));
}

int ws__new(struct ws **out, const struct ws_params *p,
	    enum proto_dir client_dir, size_t max_msg, struct budget *bg,
	    ws_msg_fn cb, void *ctx)
{
	struct ws *w;
	int i;

	*out = NULL;
	if (!cb)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (p)
		w->p = *p;
	w->max_msg = max_msg ? max_msg : DEFAULT_MAX_MSG;
	w->bg = bg;
	w->cb = cb;
	w->ctx = ctx;
	for (i = 0; i < 2; i++) {
		w->d[i].from_client = i == (int)client_dir;
		w->d[i].no_ctx = w->d[i].from_client ? w->p.client_no_ctx :
						      w->p.server_no_ctx;
		w->d[i].hneed = 2;
	}
	budget__charge(bg, sizeof(*w));
	*out = w;
	return 0;
}

void ws__free(struct ws *w)
{
	int i;

	if (!w)
		return;
	for (i = 0; i < 2; i++) {
		msg_reset(w, &w->d[i]);
		if (w->d[i].z_init) {
			inflateEnd(&w->d[i].z);
			budget__release(w->bg, WS_ZSTATE_CHARGE);
		}
	}
	budget__release(w->bg, sizeof(*w));
	free(w);
}
