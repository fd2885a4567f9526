// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <stdint.h>

#include "lib/siphash.h"
#include "pipeline/conntab.h"

Test(conntab, get_put_del)
{
	struct conntab *t;
	struct conn_key a = { 1, 0x1000 }, b = { 2, 0x1000 }, c = { 1, 0x2000 };
	void *ev;
	int x = 1, y = 2, z = 3;

	cr_assert_eq(conntab__new(&t, 10), 0);
	cr_assert_eq(conntab__put(t, &a, &x, &ev), 0);
	cr_assert_eq(conntab__put(t, &b, &y, &ev), 0);
	cr_assert_eq(conntab__put(t, &c, &z, &ev), 0);
	cr_assert_null(ev);
	/* Same SSL* in two processes, same process with two SSL*: distinct. */
	cr_assert_eq(conntab__get(t, &a), &x);
	cr_assert_eq(conntab__get(t, &b), &y);
	cr_assert_eq(conntab__get(t, &c), &z);
	cr_assert_eq(conntab__del(t, &b), &y);
	cr_assert_null(conntab__get(t, &b));
	cr_assert_eq(conntab__count(t), 2);
	conntab__free(t);
}

Test(conntab, full_table_evicts_least_recently_used)
{
	struct conntab *t;
	struct conn_key k[4], old;
	int v[4];
	void *ev;
	int i;

	cr_assert_eq(conntab__new(&t, 3), 0);
	for (i = 0; i < 3; i++) {
		k[i] = (struct conn_key){ 7, (uint64_t)(i + 1) * 64 };
		cr_assert_eq(conntab__put(t, &k[i], &v[i], &ev), 0);
	}
	conntab__get(t, &k[0]);		/* k[1] is now the oldest */
	cr_assert_eq(conntab__oldest(t, &old), &v[1]);
	cr_assert_eq(old.conn, k[1].conn);
	k[3] = (struct conn_key){ 7, 4096 };
	cr_assert_eq(conntab__put(t, &k[3], &v[3], &ev), 0);
	cr_assert_eq(ev, &v[1]);
	cr_assert_eq(conntab__count(t), 3);
	cr_assert_null(conntab__get(t, &k[1]));
	conntab__free(t);
}

struct walk {
	struct conntab *t;
	int seen;
};

static int del_odd(void *ctx, const struct conn_key *k, void *val)
{
	struct walk *w = ctx;

	w->seen++;
	if (k->conn & 1)
		cr_assert_eq(conntab__del(w->t, k), val);
	return 0;
}

Test(conntab, walk_may_delete_current)
{
	struct walk w = { 0 };
	struct conn_key k;
	void *ev;
	uint64_t i;

	cr_assert_eq(conntab__new(&w.t, 1000), 0);
	for (i = 0; i < 1000; i++) {
		k = (struct conn_key){ 1, i };
		cr_assert_eq(conntab__put(w.t, &k, &w, &ev), 0);
	}
	cr_assert_eq(conntab__for_each(w.t, del_odd, &w), 0);
	cr_assert_eq(w.seen, 1000);
	cr_assert_eq(conntab__count(w.t), 500);
	for (i = 0; i < 1000; i++) {
		k = (struct conn_key){ 1, i };
		cr_assert_eq(conntab__get(w.t, &k) != NULL, !(i & 1));
	}
	conntab__free(w.t);
}

/* The reference vectors (SipHash paper, appendix A; vectors.h). */
Test(siphash, reference_vectors)
{
	uint8_t key[SIPHASH_KEY_SIZE], msg[15];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	cr_expect_eq(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
	cr_expect_eq(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
}

/*
 * The former bucket hash, splitmix64's finaliser of conn ^ tgid: a
 * bijection anyone can invert to pick connection ids for one bucket.
 */
static uint64_t unxorshift(uint64_t y, int s)
{
	uint64_t x = y;
	int i;

	for (i = 0; i < 64 / s + 1; i++)
		x = y ^ (x >> s);
	return x;
}

static uint64_t mul_inverse(uint64_t a)
{
	uint64_t x = a;
	int i;

	for (i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

static uint64_t splitmix_inverse(uint64_t h)
{
	h = unxorshift(h, 31);
	h *= mul_inverse(0x94d049bb133111ebULL);
	h = unxorshift(h, 27);
	h *= mul_inverse(0xbf58476d1ce4e5b9ULL);
	return unxorshift(h, 30);
}

/*
 * Connection ids chosen so that the old hash put them all in bucket 0
 * of a 4096-bucket table: the keyed hash spreads them like any others
 * (4096 keys in 4096 buckets: the longest chain is about 7).
 */
Test(conntab, chosen_keys_do_not_share_a_bucket)
{
	enum { N = 4096 };
	static int vals[N];
	struct conntab *t;
	struct conn_key k;
	void *ev;
	size_t i;

	cr_assert_eq(conntab__new(&t, N), 0);
	for (i = 0; i < N; i++) {
		k.tgid = 4242;
		k.conn = splitmix_inverse((uint64_t)(i + 1) << 12) ^
			 ((uint64_t)k.tgid << 32 | k.tgid);
		cr_assert_eq(conntab__put(t, &k, &vals[i], &ev), 0);
		cr_assert_null(ev);
	}
	cr_assert_eq(conntab__count(t), N);
	cr_expect_leq(conntab__longest_chain(t), 16, "longest chain %zu",
		      conntab__longest_chain(t));
	conntab__free(t);
}
