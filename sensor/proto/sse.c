// SPDX-License-Identifier: MIT
/*
 * Event stream interpretation (WHATWG HTML, "Server-sent events").  The
 * event type and last event ID buffers are kept as slices of the input.
 * Every string of the result goes to one text buffer while parsing (the
 * data buffer is its tail), sized for the input up front; the events
 * refer to it by offset until the end.  The text is then handed to the
 * event array (ev[0].data is its start), so a stream costs a few
 * allocations rather than three per event.
 *
 * Each string of the text comes from a line of its own in the input: a
 * "data" line's value (its LF ending the data, or becoming the NUL), an
 * "event" line's value (the type buffer is reset at dispatch) and an "id"
 * line's value, copied once at the first dispatch after it and shared by
 * the events that follow (the last event ID persists: copying it per
 * event let a long id and many short events ask for gigabytes).  Every
 * such line has a line end or ends the input, so the text never exceeds
 * the input by more than one byte, and it is never grown past that.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sse.h"

#define NONE	SIZE_MAX	/* no string */

struct slice {
	const char *p;
	size_t len;
};

/* An event being collected: its strings as offsets into the text. */
struct ev_off {
	size_t data, event, id, end_off;
};

struct sse_parser {
	struct ev_off *ev;
	size_t n, cap, max;
	char *text;		/* every string, NUL-terminated */
	size_t text_len, text_cap;	/* text_cap: allocated once */
	size_t data_start;	/* the data buffer is text[data_start..] */
	struct slice type;	/* event type buffer */
	struct slice last_id;	/* last event ID buffer */
	size_t id_off;		/* its copy in the text; NONE: none yet */
};

/*
 * Appends @len bytes and then @tail to the text, which was allocated
 * whole: -E2BIG if it would not fit (it always should, see the top).
 */
static int text_add(struct sse_parser *ps, const char *p, size_t len,
		    char tail)
{
	if (len >= ps->text_cap - ps->text_len)
		return -E2BIG;
	if (len)
		memcpy(ps->text + ps->text_len, p, len);
	ps->text_len += len;
	ps->text[ps->text_len++] = tail;
	return 0;
}

/* A copy of @s in the text (NONE when empty), as an offset. */
static int slice_add(struct sse_parser *ps, struct slice s, size_t *off)
{
	*off = NONE;
	if (!s.len)
		return 0;
	*off = ps->text_len;
	return text_add(ps, s.p, s.len, '\0');
}

/* "Dispatch the event": returns 0, -E2BIG or -ENOMEM. */
static int dispatch(struct sse_parser *ps, size_t end_off)
{
	struct ev_off *e;
	size_t cap;
	int err;

	if (ps->text_len == ps->data_start) {
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
	/* The data buffer's last LF goes: it becomes the NUL. */
	ps->text[ps->text_len - 1] = '\0';
	e->data = ps->data_start;
	e->end_off = end_off;
	err = slice_add(ps, ps->type, &e->event);
	/* A new "id" line since the last copy: copy it, once. */
	if (!err && ps->last_id.p)
		err = slice_add(ps, ps->last_id, &ps->id_off);
	if (err)
		return err;
	ps->last_id.p = NULL;
	e->id = ps->id_off;
	ps->n++;
	ps->data_start = ps->text_len;
	ps->type.len = 0;
	return 0;
}

static bool field_is(const char *name, size_t len, const char *want,
		     size_t want_len)
{
	return len == want_len && memcmp(name, want, len) == 0;
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
	if (field_is(p, name_len, "data", 4)) {
		return text_add(ps, val, val_len, '\n');
	} else if (field_is(p, name_len, "event", 5)) {
		ps->type = (struct slice){ val, val_len };
	} else if (field_is(p, name_len, "id", 2)) {
		/* @val is never NULL: .p set marks a copy to make. */
		if (!memchr(val, '\0', val_len))
			ps->last_id = (struct slice){ val, val_len };
	}
	/* "retry" sets the reconnection time: nothing to do here. */
	return 0;
}

void sse__free_events(struct sse_event *ev, size_t n)
{
	/* The first event's data opens the text that holds every string. */
	if (ev && n)
		free(ev[0].data);
	free(ev);
}

static char *str_at(char *base, size_t off)
{
	return off == NONE ? NULL : base + off;
}

/*
 * The event array, pointing into the text, which it takes over: the
 * first thing the text ever receives is the first event's data.
 */
static struct sse_event *finish(struct sse_parser *ps)
{
	struct sse_event *ev = calloc(ps->n, sizeof(*ev));
	size_t i;

	if (!ev)
		return NULL;
	for (i = 0; i < ps->n; i++) {
		ev[i].data = ps->text + ps->ev[i].data;
		ev[i].event = str_at(ps->text, ps->ev[i].event);
		ev[i].id = str_at(ps->text, ps->ev[i].id);
		ev[i].end_off = ps->ev[i].end_off;
	}
	ps->text = NULL;
	return ev;
}

/*
 * The next line end (CR or LF) at or after @pos, @len if none.  The next
 * LF and the next CR found are remembered (NONE: not searched yet), so
 * that each is searched for once over the whole buffer whatever line
 * ends the stream uses.
 */
static size_t line_end(const char *buf, size_t len, size_t pos,
		       size_t *nl, size_t *cr)
{
	const char *p;

	if (*nl == NONE || *nl < pos) {
		p = memchr(buf + pos, '\n', len - pos);
		*nl = p ? (size_t)(p - buf) : len;
	}
	if (*cr == NONE || *cr < pos) {
		p = memchr(buf + pos, '\r', len - pos);
		*cr = p ? (size_t)(p - buf) : len;
	}
	return *nl < *cr ? *nl : *cr;
}

int sse__parse(const char *buf, size_t len, size_t max_events,
	       struct sse_event **events, size_t *n_events)
{
	struct sse_parser ps = { .max = max_events, .id_off = NONE };
	size_t pos = 0, e, next, nl = NONE, cr = NONE;
	int err = 0;

	*events = NULL;
	*n_events = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	/* The strings take at most the input and one byte (see the top). */
	if (len >= SIZE_MAX / 2)
		return -E2BIG;
	ps.text_cap = len + 2;
	ps.text = malloc(ps.text_cap);
	if (!ps.text)
		return -ENOMEM;
	while (pos < len && !err) {
		e = line_end(buf, len, pos, &nl, &cr);
		next = e < len ? e + 1 : len;
		if (e + 1 < len && buf[e] == '\r' && buf[e + 1] == '\n')
			next++;
		err = line(&ps, buf + pos, e - pos, next);
		pos = next;
	}
	/* The capture may end mid-stream: keep what the last event has. */
	if (!err)
		err = dispatch(&ps, len);
	if (err != -ENOMEM && ps.n) {
		*events = finish(&ps);
		if (*events)
			*n_events = ps.n;
		else
			err = -ENOMEM;
	}
	free(ps.text);
	free(ps.ev);
	return err;
}
