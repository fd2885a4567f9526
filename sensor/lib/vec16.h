/* SPDX-License-Identifier: MIT */
/*
 * vec16.h - sixteen bytes tested at once with GCC's vector extension
 * (SSE2 on x86-64, NEON on arm64): the UTF-8 check (utf8.c) and the JSON
 * string escaper (event/jsonline.c) look for a byte that needs attention
 * one block at a time, and fall back to bytes only in the block that has
 * one; the JSON scanner (jscan.c) goes to it with vec16__first().
 */
#ifndef OISP_VEC16_H
#define OISP_VEC16_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef unsigned char u8x16 __attribute__((vector_size(16)));

/* The sixteen bytes at @p (no alignment needed). */
static inline u8x16 vec16__load(const unsigned char *p)
{
	u8x16 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* True when no byte of @bad (a comparison's result) is set. */
static inline bool vec16__none(u8x16 bad)
{
	uint64_t w[2];

	memcpy(w, &bad, sizeof(w));
	return !(w[0] | w[1]);
}

/*
 * The index of the first byte of @bad (a comparison's result) that is
 * set, 16 if none: where in the block the byte that needs attention is.
 */
static inline unsigned vec16__first(u8x16 bad)
{
	uint64_t w[2];

	memcpy(w, &bad, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (w[0])
		return (unsigned)__builtin_ctzll(w[0]) / 8;
	return w[1] ? 8 + (unsigned)__builtin_ctzll(w[1]) / 8 : 16;
#else
	if (w[0])
		return (unsigned)__builtin_clzll(w[0]) / 8;
	return w[1] ? 8 + (unsigned)__builtin_clzll(w[1]) / 8 : 16;
#endif
}

#endif /* OISP_VEC16_H */
