/* SPDX-License-Identifier: MIT */
/*
 * siphash.h - SipHash-2-4, a keyed hash for hash tables whose keys an
 * attacker chooses (J.-P. Aumasson, D. J. Bernstein, "SipHash: a fast
 * short-input PRF", INDOCRYPT 2012; https://github.com/veorq/SipHash).
 * Without the key, colliding inputs cannot be computed.
 */
#ifndef OISP_SIPHASH_H
#define OISP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_SIZE 16

/*
 * The 64-bit SipHash-2-4 of the @len bytes at @data under the 16-byte
 * @key, as the reference implementation computes it (its test vectors
 * hold).  Pure; never fails.
 */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_SIZE], const void *data,
		   size_t len);

#endif /* OISP_SIPHASH_H */
