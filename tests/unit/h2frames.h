/* SPDX-License-Identifier: MIT */
/*
 * h2frames.h - test helpers: HTTP/2 frames (RFC 9113 §4.1) built by
 * hand into a growing buffer, header blocks encoded by nghttp2's HPACK
 * deflater (one per direction, as a real peer keeps one).
 */
#ifndef OISP_TEST_H2FRAMES_H
#define OISP_TEST_H2FRAMES_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#define H2_PREFACE	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct h2buf {
	unsigned char *p;
	size_t len, cap;
};

static inline void h2b_put(struct h2buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		cr_assert(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void h2b_free(struct h2buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* One frame of @type with @flags on stream @sid carrying @p[0..n). */
static inline void h2_frame(struct h2buf *b, uint8_t type, uint8_t flags,
			    uint32_t sid, const void *p, size_t n)
{
	unsigned char h[9] = {
		(unsigned char)(n >> 16), (unsigned char)(n >> 8),
		(unsigned char)n, type, flags,
		(unsigned char)(sid >> 24), (unsigned char)(sid >> 16),
		(unsigned char)(sid >> 8), (unsigned char)sid,
	};

	h2b_put(b, h, sizeof(h));
	if (n)
		h2b_put(b, p, n);
}

/* A padded DATA frame: pad length byte, @p[0..n), @pad zero bytes. */
static inline void h2_data_padded(struct h2buf *b, uint8_t flags, uint32_t sid,
				  const void *p, size_t n, uint8_t pad)
{
	unsigned char tmp[1024] = { 0 };

	cr_assert(n + pad + 1 <= sizeof(tmp));
	tmp[0] = pad;
	memcpy(tmp + 1, p, n);
	h2_frame(b, 0x0, flags | 0x08, sid, tmp, n + 1 + pad);
}

/* SETTINGS with one (@id, @val) pair; @id 0: none. */
static inline void h2_settings(struct h2buf *b, uint16_t id, uint32_t val)
{
	unsigned char s[6] = {
		(unsigned char)(id >> 8), (unsigned char)id,
		(unsigned char)(val >> 24), (unsigned char)(val >> 16),
		(unsigned char)(val >> 8), (unsigned char)val,
	};

	h2_frame(b, 0x4, 0, 0, s, id ? sizeof(s) : 0);
}

/*
 * The header block of the NULL-terminated pairs @kv ("name", "value",
 * ..., NULL) encoded with @def, appended to @out.
 */
static inline void h2_hpack(nghttp2_hd_deflater *def, struct h2buf *out,
			    const char *const *kv)
{
	nghttp2_nv nv[32];
	size_t n = 0, bound;
	ssize_t rv;
	unsigned char *tmp;

	for (; kv[2 * n]; n++) {
		cr_assert(n < 32);
		nv[n] = (nghttp2_nv){
			.name = (uint8_t *)kv[2 * n],
			.namelen = strlen(kv[2 * n]),
			.value = (uint8_t *)kv[2 * n + 1],
			.valuelen = strlen(kv[2 * n + 1]),
		};
	}
	bound = nghttp2_hd_deflate_bound(def, nv, n);
	tmp = malloc(bound);
	cr_assert(tmp);
	rv = nghttp2_hd_deflate_hd(def, tmp, bound, nv, n);
	cr_assert_geq(rv, 0);
	h2b_put(out, tmp, (size_t)rv);
	free(tmp);
}

/* HEADERS (END_HEADERS set) on @sid with the fields @kv. */
static inline void h2_headers(struct h2buf *b, nghttp2_hd_deflater *def,
			      uint8_t flags, uint32_t sid,
			      const char *const *kv)
{
	struct h2buf blk = { 0 };

	h2_hpack(def, &blk, kv);
	h2_frame(b, 0x1, flags | 0x04, sid, blk.p, blk.len);
	h2b_free(&blk);
}

#endif /* OISP_TEST_H2FRAMES_H */
