/* SPDX-License-Identifier: MIT */
/*
 * body.h - the body of an HTTP message being received, for every wire
 * protocol: kept up to a limit, charged to the memory budget
 * (lib/budget.h), shed when the budget asks, with arrival-time marks.
 *
 * A protocol keeps one struct body_state per message in progress and
 * hands it, with the message, to these functions; what they do to the
 * message (body, body_len, body_total, flags, marks, ts_body, ts_end) is
 * what proto.h documents for struct http_msg.
 */
#ifndef OISP_PROTO_BODY_H
#define OISP_PROTO_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

struct budget;

struct body_state {
	size_t cap;		/* bytes allocated at msg->body, charged */
	size_t cap_marks;	/* entries allocated at msg->marks */
	uint64_t mark_seq;	/* the feed that made the last mark */
	bool shed;		/* the budget took the body: keep no more */
};

/*
 * Drops what is kept of @m's body for the budget @bg: the memory is
 * given back, the message is flagged HTTP_MSG_SHED and the drop counted.
 * Returns the bytes given back (0 when already shed).
 */
size_t body__drop(struct body_state *b, struct http_msg *m,
		  struct budget *bg);

/*
 * Notes that body bytes from feed number @seq, at CLOCK_MONOTONIC @ts_ns,
 * start at m->body_total (at most one mark per feed, HTTP_MAX_MARKS in
 * all).  Mark memory is charged to @bg and added to *@held_meta; without
 * budget room the rest go unmarked.  Returns 0, or -ENOMEM when the
 * allocation failed (the mark is lost).
 */
int body__mark(struct body_state *b, struct http_msg *m, struct budget *bg,
	       uint64_t seq, uint64_t ts_ns, size_t *held_meta);

/*
 * Appends @n body bytes at @p, arrived at @ts_ns: at most @max_body are
 * kept in all (past that, HTTP_MSG_TRUNCATED), none once shed; all are
 * counted in body_total.  @hint is the length the message declared (0:
 * none): the first buffer takes it whole, up to 1 MiB, so that a body
 * arriving in many reads is not copied at each doubling.  A budget
 * refusal sheds the body (body__drop()).  Returns 0 or -ENOMEM.
 */
int body__append(struct body_state *b, struct http_msg *m,
		 struct budget *bg, size_t max_body, uint64_t hint,
		 const void *p, size_t n, uint64_t ts_ns);

#endif /* OISP_PROTO_BODY_H */
