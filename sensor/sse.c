// SPDX-License-Identifier: MIT
/*
 * Event stream interpretation (WHATWG HTML, "Server-sent events").  The
 * event type and last event ID buffers are kept as slices of the input;
 * only the data buffer, which joins several lines, is copied.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

struct slice {
	const char *p;
	size_t len;
};

struct sse_parser {
	struct sse_event *ev;
	size_t n, cap, max;
	char *data;		/* data buffer */
	size_t data_len, data_cap;
	struct slice type;	/* event type buffer */
	struct slice last_id;	/* last event ID buffer */
};

static int data_add(struct sse_parser *ps, const char *p, size_t len)
{
	size_t cap;
	char *d;

	if (ps->data_len + len + 1 > ps->data_cap) {
		cap = ps->data_cap ? ps->data_cap : 256;
		while (cap < ps->data_len + len + 1)
			cap *= 2;
		d = realloc(ps->data, cap);
		if (!d)
			return -ENOMEM;
		ps->data = d;
		ps->data_cap = cap;
	}
	memcpy(ps->data + ps->data_len, p, len);
	ps->data_len += len;
	ps->data[ps->data_len] = '\n';
	ps->data_len++;
	return 0;
}

static char *slice_dup(struct slice s)
{
	return s.len ? strndup(s.p, s.len) : NULL;
}

/* "Dispatch the event": returns 0, -E2BIG or -ENOMEM. */
static int dispatch(struct sse_parser *ps, size_t end_off)
{
	struct sse_event *e;
	size_t cap;

	if (!ps->data_len) {
		ps->type.len = 0;
		return 0;
	}
	if (ps->n == ps->max)
		return -E2BIG;
	if (ps->n == ps->cap) {
		cap = ps->cap ? ps->cap * 2 : 16;
		e = reallocarray(ps->ev, cap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		ps->ev = e;
		ps->cap = cap;
	}
	e = &ps->ev[ps->n];
	/* The data buffer's last LF goes. */
	e->data = strndup(ps->data, ps->data_len - 1);
	e->event = slice_dup(ps->type);
	e->id = slice_dup(ps->last_id);
	e->end_off = end_off;
	ps->n++;
	if (!e->data || (ps->type.len && !e->event) ||
	    (ps->last_id.len && !e->id))
		return -ENOMEM;
	ps->data_len = 0;
	ps->type.len = 0;
	return 0;
}

static bool field_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

/* Processes one line (without its line end); @next is the offset after it. */
static int line(struct sse_parser *ps, const char *p, size_t len, size_t next)
{
	const char *colon, *val;
	size_t name_len, val_len;

	if (!len)
		return dispatch(ps, next);
	if (p[0] == ':')
		return 0;
	colon = memchr(p, ':', len);
	if (colon) {
		name_len = (size_t)(colon - p);
		val = colon + 1;
		val_len = len - name_len - 1;
		if (val_len && *val == ' ') {
			val++;
			val_len--;
		}
	} else {
		name_len = len;
		val = p + len;
		val_len = 0;
	}
	if (field_is(p, name_len, "event")) {
		ps->type = (struct slice){ val, val_len };
	} else if (field_is(p, name_len, "data")) {
		return data_add(ps, val, val_len);
	} else if (field_is(p, name_len, "id")) {
		if (!memchr(val, '\0', val_len))
			ps->last_id = (struct slice){ val, val_len };
	}
	/* "retry" sets the reconnection time: nothing to do here. */
	return 0;
}

void sse__free_events(struct sse_event *ev, size_t n)
{
	size_t i;

	if (!ev)
		return;
	for (i = 0; i < n; i++) {
		free(ev[i].event);
		free(ev[i].data);
		free(ev[i].id);
	}
	free(ev);
}

int sse__parse(const char *buf, size_t len, size_t max_events,
	       struct sse_event **events, size_t *n_events)
{
	struct sse_parser ps = { .max = max_events };
	size_t pos = 0, e, next;
	int err = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len && !err) {
		for (e = pos; e < len && buf[e] != '\n' && buf[e] != '\r'; e++)
			;
		next = e < len ? e + 1 : len;
		if (e + 1 < len && buf[e] == '\r' && buf[e + 1] == '\n')
			next++;
		err = line(&ps, buf + pos, e - pos, next);
		pos = next;
	}
	/* The capture may end mid-stream: keep what the last event has. */
	if (!err)
		err = dispatch(&ps, len);
	free(ps.data);
	if (err == -ENOMEM) {
		sse__free_events(ps.ev, ps.n);
		ps.ev = NULL;
		ps.n = 0;
	}
	*events = ps.ev;
	*n_events = ps.n;
	return err;
}
