// SPDX-License-Identifier: MIT
/*
 * The global memory budget.  See budget.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/budget.h"

struct budget {
	size_t limit;
	size_t used;
	size_t high;
	budget_shed_fn shed;
	void *ctx;
	bool shedding;		/* the callback is running: no nesting */
	uint64_t shed_messages, shed_bytes, shed_connections;
};

int budget__new(struct budget **out, size_t limit)
{
	struct budget *b;

	if (!limit)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->limit = limit;
	*out = b;
	return 0;
}

void budget__on_shed(struct budget *b, budget_shed_fn fn, void *ctx)
{
	if (!b)
		return;
	b->shed = fn;
	b->ctx = ctx;
}

static void charge(struct budget *b, size_t n)
{
	b->used += n;
	if (b->used > b->high)
		b->high = b->used;
}

static bool fits(const struct budget *b, size_t n)
{
	return n <= b->limit && b->used <= b->limit - n;
}

/* One call of the shed callback for @need bytes; 0: nothing shed. */
static size_t shed_once(struct budget *b, size_t need)
{
	size_t freed;

	if (!b->shed || b->shedding)
		return 0;
	b->shedding = true;
	freed = b->shed(b->ctx, need);
	b->shedding = false;
	return freed;
}

int budget__reserve(struct budget *b, size_t n)
{
	if (!b)
		return 0;
	while (!fits(b, n)) {
		/* More than the whole budget: shedding everything won't do. */
		if (n > b->limit || !shed_once(b, b->used + n - b->limit))
			return -ENOMEM;
	}
	charge(b, n);
	return 0;
}

void budget__charge(struct budget *b, size_t n)
{
	if (!b)
		return;
	while (!fits(b, n) && n <= b->limit &&
	       shed_once(b, b->used + n - b->limit))
		;
	charge(b, n);
}

void budget__release(struct budget *b, size_t n)
{
	if (!b)
		return;
	b->used = n > b->used ? 0 : b->used - n;
}

bool budget__over(const struct budget *b)
{
	return b && b->used > b->limit;
}

void budget__trim(struct budget *b)
{
	while (budget__over(b) && shed_once(b, b->used - b->limit))
		;
}

void budget__count_shed(struct budget *b, uint64_t msgs, uint64_t bytes)
{
	if (!b)
		return;
	b->shed_messages += msgs;
	b->shed_bytes += bytes;
}

void budget__count_conn(struct budget *b)
{
	if (b)
		b->shed_connections++;
}

void budget__stats(const struct budget *b, struct budget_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!b)
		return;
	st->used = b->used;
	st->high = b->high;
	st->limit = b->limit;
	st->shed_messages = b->shed_messages;
	st->shed_bytes = b->shed_bytes;
	st->shed_connections = b->shed_connections;
}

void budget__free(struct budget *b)
{
	free(b);
}
