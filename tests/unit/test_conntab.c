// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <stdint.h>

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
