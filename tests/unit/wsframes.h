/* SPDX-License-Identifier: MIT */
/*
 * wsframes.h - test helper: WebSocket frames (RFC 6455 §5.2) and
 * permessage-deflate payloads (RFC 7692 §7.2.1) built with zlib.
 * Include after <criterion/criterion.h>; link -lz (the sensor does).
 */
#ifndef OISP_TEST_WSFRAMES_H
#define OISP_TEST_WSFRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* A growing byte string of frames. */
struct wsbuf {
	unsigned char *p;
	size_t len;
};

static inline void wsbuf_add(struct wsbuf *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->len + n + 1);
	cr_assert(b->p);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/*
 * Appends one frame: @op, FIN when @fin, RSV1 when @rsv1, masked with
 * @key when not NULL (a client frame), the shortest length encoding
 * unless @len64 forces the 64-bit one.
 */
static inline void ws_frame_add(struct wsbuf *b, unsigned op, bool fin,
				bool rsv1, const unsigned char *key,
				const void *payload, size_t n, bool len64)
{
	unsigned char h[14];
	size_t k = 2, i;
	unsigned char *m;

	h[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op;
	if (n < 126 && !len64) {
		h[1] = (unsigned char)n;
	} else if (n < 65536 && !len64) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		k = 4;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		k = 10;
	}
	if (key) {
		h[1] |= 0x80;
		memcpy(h + k, key, 4);
		k += 4;
	}
	wsbuf_add(b, h, k);
	m = malloc(n + 1);
	cr_assert(m);
	memcpy(m, payload, n);
	for (i = 0; key && i < n; i++)
		m[i] ^= key[i & 3];
	wsbuf_add(b, m, n);
	free(m);
}

/*
 * A sender's compressor: raw DEFLATE, each message ended by a sync
 * flush whose 0x00 0x00 0xff 0xff tail is taken off.  Reset per message
 * for *_no_context_takeover.
 */
struct wsdeflate {
	z_stream z;
	bool no_ctx;
};

static inline void wsdeflate_init(struct wsdeflate *d, bool no_ctx)
{
	memset(d, 0, sizeof(*d));
	d->no_ctx = no_ctx;
	cr_assert_eq(deflateInit2(&d->z, 6, Z_DEFLATED, -15, 8,
				  Z_DEFAULT_STRATEGY), Z_OK);
}

/* @n bytes at @in compressed into a malloc'd buffer (*@out_len bytes). */
static inline unsigned char *wsdeflate_msg(struct wsdeflate *d,
					   const void *in, size_t n,
					   size_t *out_len)
{
	size_t cap = compressBound(n) + 64;
	unsigned char *out = malloc(cap);

	cr_assert(out);
	if (d->no_ctx)
		deflateReset(&d->z);
	d->z.next_in = (unsigned char *)in;
	d->z.avail_in = (uInt)n;
	d->z.next_out = out;
	d->z.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&d->z, Z_SYNC_FLUSH), Z_OK);
	*out_len = cap - d->z.avail_out;
	cr_assert(*out_len >= 4);
	cr_assert_eq(memcmp(out + *out_len - 4, "\0\0\xff\xff", 4), 0);
	*out_len -= 4;
	return out;
}

static inline void wsdeflate_end(struct wsdeflate *d)
{
	deflateEnd(&d->z);
}

#endif /* OISP_TEST_WSFRAMES_H */
