/* SPDX-License-Identifier: MIT */
/*
 * budget.h - a global memory budget: bytes of captured data held at once.
 *
 * Any local user can make the sensor hold what they send (issue 12): a
 * body one byte short of its Content-Length, on thousands of connections,
 * waits for the idle timeout.  Every buffer that holds captured data
 * charges its size here (the pipeline's HTTP bodies and header sections,
 * decoded bodies, an estimate of each event being built, the connections'
 * own state) and releases it when freed.  When a reservation would go
 * over the limit, the shed callback frees older or larger work (the
 * pipeline drops the largest body in progress, keeping its headers) and
 * the reservation is tried again; when nothing is left to shed it fails,
 * and the caller drops the data it wanted to keep.  The process itself
 * is never the victim.
 *
 * Sizes are in bytes.  Single-threaded: the pipeline's thread only.
 * Every function accepts a NULL budget, which accounts nothing and
 * grants every reservation (unit tests, fuzzers of one parser).
 */
#ifndef OISP_BUDGET_H
#define OISP_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct budget;

/*
 * Frees memory to make room for @need more bytes: releases what it frees
 * (budget__release) and returns the number of bytes released, 0 when it
 * has nothing left to shed.  It must not reserve from the budget itself.
 */
typedef size_t (*budget_shed_fn)(void *ctx, size_t need);

/* Counters since creation (budget__stats). */
struct budget_stats {
	uint64_t used;		/* bytes charged now */
	uint64_t high;		/* most bytes charged at once */
	uint64_t limit;
	uint64_t shed_messages;	/* messages that lost data to it */
	uint64_t shed_bytes;	/* captured bytes they lost */
	uint64_t shed_connections;	/* connections closed for it */
};

/* Creates a budget of @limit bytes (>= 1).  Returns 0, -EINVAL, -ENOMEM. */
int budget__new(struct budget **out, size_t limit);

/* Sets the shed callback (NULL: none) and its @ctx. */
void budget__on_shed(struct budget *b, budget_shed_fn fn, void *ctx);

/*
 * Charges @n bytes if they fit under the limit, shedding first when they
 * do not.  Returns 0, or -ENOMEM (nothing charged) when shedding cannot
 * make room; the caller then does without the memory.
 */
int budget__reserve(struct budget *b, size_t n);

/*
 * Charges @n bytes whatever the limit: memory that is already allocated
 * or cannot be refused (a connection's state).  Sheds first to make
 * room, as a reservation does; when that is not enough the budget goes
 * over its limit, and the caller brings it back (budget__over(), then
 * budget__trim() or dropping whole work) at a safe point.
 */
void budget__charge(struct budget *b, size_t n);

/* Gives back @n bytes charged before (never more than charged). */
void budget__release(struct budget *b, size_t n);

/* True while more than the limit is charged. */
bool budget__over(const struct budget *b);

/* Sheds until the budget is under its limit or nothing is left to shed. */
void budget__trim(struct budget *b);

/* Counts @msgs messages that lost @bytes captured bytes to the budget. */
void budget__count_shed(struct budget *b, uint64_t msgs, uint64_t bytes);

/* Counts a connection closed to bring the budget under its limit. */
void budget__count_conn(struct budget *b);

/* Fills @st (zeros for a NULL budget). */
void budget__stats(const struct budget *b, struct budget_stats *st);

/* Frees @b; NULL is fine.  Charges still held are forgotten. */
void budget__free(struct budget *b);

#endif /* OISP_BUDGET_H */
