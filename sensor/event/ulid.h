/* SPDX-License-Identifier: MIT */
/*
 * ulid.h - ULID generator (https://github.com/ulid/spec).
 *
 * A ULID is 128 bits: a 48-bit Unix time in milliseconds, then 80 random
 * bits, written as 26 Crockford base32 characters (0-9, A-Z without
 * I, L, O, U).  The random part comes from getrandom(2).  Within one
 * millisecond one generator increments the previous random part by one
 * instead of drawing a new one, so its IDs sort in generation order
 * (the spec's "monotonic" mode).  A generator is not thread-safe: use one
 * per thread.
 */
#ifndef OISP_ULID_H
#define OISP_ULID_H

#include <stdint.h>

/* Characters in a ULID, and the buffer size ulid__next writes. */
#define ULID_LEN	26
#define ULID_BUF	27

struct ulid_gen;

/*
 * Creates a generator in *@out.  Seeds a fallback generator from
 * getrandom(2), used only if getrandom fails later.
 * Returns 0, -ENOMEM, or -errno of getrandom(2).
 */
int ulid__new(struct ulid_gen **out);

/*
 * Writes the next ULID for the time @unix_ms (ms since the epoch; only
 * the low 48 bits are used) to @out as 26 characters plus NUL.  When
 * @unix_ms equals the previous call's, the random part is the previous
 * one plus one (on the 2^80 overflow, the time part is advanced by 1 ms).
 */
void ulid__next(struct ulid_gen *g, uint64_t unix_ms, char out[ULID_BUF]);

/* Frees @g; NULL is allowed. */
void ulid__free(struct ulid_gen *g);

#endif /* OISP_ULID_H */
