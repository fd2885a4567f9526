// SPDX-License-Identifier: MIT
/*
 * Chained hash table with an intrusive doubly linked LRU list.  Buckets
 * are a power of two, sized for a load factor of at most 1 at capacity.
 * Keys come from the traced programs (an SSL* is an address the program
 * chose), so the bucket is SipHash-2-4 of the key under a secret drawn
 * per table: without the secret no one can pick keys that share a
 * bucket and turn lookups into list walks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/siphash.h"
#include "pipeline/conntab.h"

struct entry {
	struct conn_key key;
	void *val;
	struct entry *hnext;		/* bucket chain */
	struct entry *prev, *next;	/* LRU: head = oldest */
};

struct conntab {
	struct entry **buckets;
	size_t mask;
	size_t count, max;
	struct entry *oldest, *newest;
	uint8_t secret[SIPHASH_KEY_SIZE];
};

static size_t key_hash(const struct conntab *t, const struct conn_key *k)
{
	uint8_t msg[12];	/* conn, then tgid; the padding left out */

	memcpy(msg, &k->conn, sizeof(k->conn));
	memcpy(msg + 8, &k->tgid, sizeof(k->tgid));
	return (size_t)siphash24(t->secret, msg, sizeof(msg));
}

/* Fills @buf from the kernel's CSPRNG; waits for it only at early boot. */
static int random_bytes(uint8_t *buf, size_t n)
{
	ssize_t r;

	while (n) {
		r = getrandom(buf, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

static int key_eq(const struct conn_key *a, const struct conn_key *b)
{
	return a->tgid == b->tgid && a->conn == b->conn;
}

int conntab__new(struct conntab **out, size_t max_entries)
{
	struct conntab *t;
	size_t n = 16;
	int err;

	if (!max_entries)
		return -EINVAL;
	while (n < max_entries && n < ((size_t)1 << 30))
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	err = random_bytes(t->secret, sizeof(t->secret));
	if (err) {
		free(t);
		return err;
	}
	/* An array of pointers: sizeof(*p) is the pointer size, as meant. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	t->mask = n - 1;
	t->max = max_entries;
	*out = t;
	return 0;
}

static struct entry **find_slot(const struct conntab *t,
				const struct conn_key *k)
{
	struct entry **pp = &t->buckets[key_hash(t, k) & t->mask];

	while (*pp && !key_eq(&(*pp)->key, k))
		pp = &(*pp)->hnext;
	return pp;
}

static void lru_unlink(struct conntab *t, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		t->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->newest = e->prev;
	e->prev = e->next = NULL;
}

static void lru_append(struct conntab *t, struct entry *e)
{
	e->prev = t->newest;
	e->next = NULL;
	if (t->newest)
		t->newest->next = e;
	else
		t->oldest = e;
	t->newest = e;
}

void *conntab__get(struct conntab *t, const struct conn_key *k)
{
	struct entry *e;

	/*
	 * The connection of the last lookup, without hashing: records come
	 * in runs (a stream's events, a WebSocket's messages).
	 */
	if (t->newest && key_eq(&t->newest->key, k))
		return t->newest->val;
	e = *find_slot(t, k);
	if (!e)
		return NULL;
	if (t->newest != e) {
		lru_unlink(t, e);
		lru_append(t, e);
	}
	return e->val;
}

void *conntab__del(struct conntab *t, const struct conn_key *k)
{
	struct entry **pp = find_slot(t, k);
	struct entry *e = *pp;
	void *val;

	if (!e)
		return NULL;
	*pp = e->hnext;
	lru_unlink(t, e);
	val = e->val;
	free(e);
	t->count--;
	return val;
}

int conntab__put(struct conntab *t, const struct conn_key *k, void *val,
		 void **evicted)
{
	struct entry *e = calloc(1, sizeof(*e));
	struct entry **pp;

	*evicted = NULL;
	if (!e)
		return -ENOMEM;
	if (t->count >= t->max) {
		struct conn_key old = t->oldest->key;

		*evicted = conntab__del(t, &old);
	}
	e->key = *k;
	e->val = val;
	pp = &t->buckets[key_hash(t, k) & t->mask];
	e->hnext = *pp;
	*pp = e;
	lru_append(t, e);
	t->count++;
	return 0;
}

void *conntab__oldest(const struct conntab *t, struct conn_key *k)
{
	if (!t->oldest)
		return NULL;
	*k = t->oldest->key;
	return t->oldest->val;
}

size_t conntab__count(const struct conntab *t)
{
	return t->count;
}

int conntab__for_each(struct conntab *t,
		      int (*cb)(void *ctx, const struct conn_key *k, void *val),
		      void *ctx)
{
	struct entry *e = t->oldest, *next;
	struct conn_key k;
	int err;

	while (e) {
		next = e->next;
		k = e->key;
		err = cb(ctx, &k, e->val);
		if (err)
			return err;
		e = next;
	}
	return 0;
}

size_t conntab__longest_chain(const struct conntab *t)
{
	size_t i, n, longest = 0;
	const struct entry *e;

	for (i = 0; i <= t->mask; i++) {
		for (n = 0, e = t->buckets[i]; e; e = e->hnext)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}

void conntab__free(struct conntab *t)
{
	struct entry *e, *next;

	if (!t)
		return;
	for (e = t->oldest; e; e = next) {
		next = e->next;
		free(e);
	}
	free(t->buckets);
	free(t);
}
