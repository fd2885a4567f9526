/* SPDX-License-Identifier: MIT */
/*
 * sse.h - text/event-stream bodies, interpreted as the WHATWG HTML
 * standard says ("Server-sent events", §9.2.6 "Interpreting an event
 * stream"), over a whole captured body rather than a live connection.
 */
#ifndef OISP_SSE_H
#define OISP_SSE_H

#include <errno.h>	/* the -E... return values */
#include <stddef.h>

/*
 * The events the sensor keeps of one response body: far more than a
 * reply's deltas (one per token, tens of thousands for long reasoning
 * outputs), and a bound on what a hostile body can make it hold.
 */
#define SSE_MAX_EVENTS	200000

/*
 * One dispatched event; the strings are owned by the event array (one
 * block holds them all: never free them one by one).
 */
struct sse_event {
	/* "event" field; NULL if none (type "message") */
	char *event;
	/* "data" field values joined with "\n"; never NULL */
	char *data;
	/* the last event ID at dispatch; NULL if none or empty (shared
	 * between events: see sse__parse) */
	char *id;
	/* input offset just past the blank line that dispatched it (len for
	 * a trailing undispatched one) */
	size_t end_off;
};

/*
 * Parses the event stream @buf[0..@len) (UTF-8, need not be NUL-
 * terminated, the caller keeps it).  Lines end with CRLF, LF or CR; a
 * leading U+FEFF BOM is skipped; lines starting with ':' are comments;
 * "field: value" loses one space after the colon; a line without a colon
 * is a field with an empty value; "retry" and unknown fields are ignored.
 * As the standard says, a blank line dispatches the event only when its
 * data buffer is not empty (an "event:" alone dispatches nothing), and
 * "id" persists to later events.  Because a capture may end mid-stream,
 * a last line without its line end is still interpreted and a last event
 * not followed by a blank line is returned too, with end_off = @len.
 *
 * *@events is malloc'd (NULL when there are none); free it with
 * sse__free_events(*@events, *@n_events).  At most @max_events events are
 * returned (production: SSE_MAX_EVENTS); past that the parse stops with
 * -E2BIG, what was found being returned as on success.
 *
 * Memory is bounded by the input, whatever it holds: the strings take at
 * most @len + 2 bytes, allocated once (a persistent "id" is stored once
 * and shared by the events that carry it, so ev[i].id of several events
 * may be one pointer), and the events 96 bytes each at most, an event
 * taking at least 6 bytes of input ("data\n\n").
 *
 * Returns 0; -E2BIG (events past @max_events left out, the rest returned);
 * -ENOMEM (*@events is NULL and *@n_events 0).  A caller reports either
 * error as incomplete content: the events it has are not the whole body.
 */
int sse__parse(const char *buf, size_t len, size_t max_events,
	       struct sse_event **events, size_t *n_events);

/* Frees @n events of @ev and the array; NULL is fine. */
void sse__free_events(struct sse_event *ev, size_t n);

#endif /* OISP_SSE_H */
