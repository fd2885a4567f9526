// SPDX-License-Identifier: MIT
/*
 * Message bodies as they arrive, for every wire protocol.  See body.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/budget.h"
#include "proto/body.h"

/* The largest first buffer a declared length gets: it is only a claim. */
#define BODY_HINT_MAX	(1u << 20)

size_t body__drop(struct body_state *b, struct http_msg *m,
		  struct budget *bg)
{
	size_t freed = b->cap;

	if (!m || b->shed)
		return 0;
	budget__count_shed(bg, 1, m->body_len);
	free(m->body);
	m->body = NULL;
	m->body_len = 0;
	budget__release(bg, b->cap);
	b->cap = 0;
	b->shed = true;
	m->flags |= HTTP_MSG_SHED;
	return freed;
}

/* Room for @need bytes at m->body; a budget refusal sheds the body. */
static int grow(struct body_state *b, struct http_msg *m, struct budget *bg,
		size_t max_body, uint64_t hint, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096, more;
	unsigned char *nb;

	if (!b->cap && hint + 1 >= need && hint < BODY_HINT_MAX)
		cap = (size_t)hint + 1;
	while (cap < need)
		cap *= 2;
	if (cap > max_body + 1)
		cap = max_body + 1;
	/* May shed this very body: then nothing more of it is kept. */
	more = cap - b->cap;
	if (budget__reserve(bg, more)) {
		body__drop(b, m, bg);
		return 0;
	}
	if (b->shed) {
		budget__release(bg, more);
		return 0;
	}
	nb = realloc(m->body, cap);
	if (!nb) {
		budget__release(bg, more);
		return -ENOMEM;
	}
	m->body = nb;
	b->cap = cap;
	return 0;
}

int body__mark(struct body_state *b, struct http_msg *m, struct budget *bg,
	       uint64_t seq, uint64_t ts_ns, size_t *held_meta)
{
	struct http_ts_mark *mk;
	size_t cap;

	if (b->mark_seq == seq && m->n_marks)
		return 0;
	b->mark_seq = seq;
	if (m->n_marks == HTTP_MAX_MARKS)
		return 0;
	if (m->n_marks == b->cap_marks) {
		cap = b->cap_marks ? b->cap_marks * 4 : 8;
		if (cap > HTTP_MAX_MARKS)
			cap = HTTP_MAX_MARKS;
		/* Marks are only timing: without room, the rest go unmarked. */
		if (budget__reserve(bg, (cap - b->cap_marks) * sizeof(*mk)))
			return 0;
		*held_meta += (cap - b->cap_marks) * sizeof(*mk);
		mk = reallocarray(m->marks, cap, sizeof(*mk));
		if (!mk)
			return -ENOMEM;
		m->marks = mk;
		b->cap_marks = cap;
	}
	m->marks[m->n_marks].body_off = m->body_total;
	m->marks[m->n_marks].ts_ns = ts_ns;
	m->n_marks++;
	return 0;
}

int body__append(struct body_state *b, struct http_msg *m,
		 struct budget *bg, size_t max_body, uint64_t hint,
		 const void *p, size_t n, uint64_t ts_ns)
{
	size_t keep = b->shed ? 0 : max_body - m->body_len;

	if (keep > n)
		keep = n;
	if (keep && m->body_len + keep + 1 > b->cap &&
	    grow(b, m, bg, max_body, hint, m->body_len + keep + 1))
		return -ENOMEM;
	if (b->shed) {
		budget__count_shed(bg, 0, n);
		keep = 0;
	}
	if (keep) {
		memcpy(m->body + m->body_len, p, keep);
		m->body_len += keep;
		m->body[m->body_len] = '\0';
	}
	if (keep < n && !b->shed)
		m->flags |= HTTP_MSG_TRUNCATED;
	m->body_total += n;
	m->ts_end = ts_ns;
	return 0;
}
