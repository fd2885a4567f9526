/* SPDX-License-Identifier: MIT */
/*
 * conntab.h - the connection table: (tgid, connection id) -> caller's state.
 *
 * A TLS connection is identified by the process that owns it and the
 * address of its SSL object (OpenSSL's SSL*), exactly as the capture
 * records key it (bpf/capture_abi.h).  The table is bounded: when it is
 * full, inserting evicts the least recently used entry and hands it back
 * so that the caller can flush and count it.  Lookups are O(1); the LRU
 * order also gives the idle entries for timeouts.
 */
#ifndef OISP_CONNTAB_H
#define OISP_CONNTAB_H

#include <stddef.h>
#include <stdint.h>

struct conntab;

struct conn_key {
	uint32_t tgid;
	uint64_t conn;		/* opaque connection id (cap_data.conn) */
};

/*
 * Creates a table holding at most @max_entries values (>= 1), hashed
 * with SipHash-2-4 under a 128-bit secret from getrandom(2), so that
 * traced programs cannot choose connection ids that collide.
 * Returns 0, -EINVAL, -ENOMEM, or -errno of getrandom(2).
 */
int conntab__new(struct conntab **out, size_t max_entries);

/* Returns the value for @k and marks it most recently used; NULL if absent. */
void *conntab__get(struct conntab *t, const struct conn_key *k);

/*
 * Inserts @val for @k, which must not be present.  When the table is full
 * the least recently used value is removed first and returned through
 * *@evicted (else *@evicted = NULL); the caller owns it.
 * Returns 0 or -ENOMEM (nothing inserted, nothing evicted).
 */
int conntab__put(struct conntab *t, const struct conn_key *k, void *val,
		 void **evicted);

/* Removes @k and returns its value (the caller owns it); NULL if absent. */
void *conntab__del(struct conntab *t, const struct conn_key *k);

/*
 * Returns the least recently used value without changing the order and
 * stores its key in *@k; NULL when the table is empty.
 */
void *conntab__oldest(const struct conntab *t, struct conn_key *k);

size_t conntab__count(const struct conntab *t);

/*
 * The number of entries in the fullest bucket (a lookup's worst case, in
 * entries compared); walks every bucket.  For tests and diagnostics.
 */
size_t conntab__longest_chain(const struct conntab *t);

/*
 * Calls @cb for every entry, least recently used first.  @cb may remove
 * the entry it is given (conntab__del) but no other.  A non-zero return
 * of @cb stops the walk and is returned.
 */
int conntab__for_each(struct conntab *t,
		      int (*cb)(void *ctx, const struct conn_key *k, void *val),
		      void *ctx);

/* Frees the table, not the values; NULL is fine. */
void conntab__free(struct conntab *t);

#endif /* OISP_CONNTAB_H */
