// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "proto/sse.h"
#include "slurp.h"

#define BODIES "../fixtures/bodies/"

/* Replaces every LF of @s with @eol. */
static char *relf(const char *s, size_t len, const char *eol, size_t *out_len)
{
	char *out = malloc(len * 2 + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n') {
			strcpy(o, eol);
			o += strlen(eol);
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	*out_len = (size_t)(o - out);
	return out;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t parse(const char *s, size_t len, struct sse_event **ev)
{
	size_t n;

	cr_assert_eq(sse__parse(s, len, 1000, ev, &n), 0);
	return n;
}

static size_t parse_str(const char *s, struct sse_event **ev)
{
	return parse(s, strlen(s), ev);
}

static void check_openai(const char *buf, size_t len)
{
	struct sse_event *ev;
	size_t n = parse(buf, len, &ev), i;

	cr_assert_gt(n, 3);
	for (i = 0; i < n; i++) {
		cr_assert_null(ev[i].event);
		cr_assert_null(ev[i].id);
		cr_assert_leq(ev[i].end_off, len);
		cr_assert(buf[ev[i].end_off - 1] == '\n' ||
			  buf[ev[i].end_off - 1] == '\r');
		if (i < n - 1)
			cr_assert(starts_with(ev[i].data,
					      "{\"id\":\"chatcmpl-Stream1\","
					      "\"object\":\"chat.completion.chunk\""));
	}
	cr_assert_str_eq(ev[n - 1].data, "[DONE]");
	cr_assert_eq(ev[n - 1].end_off, len);
	sse__free_events(ev, n);
}

Test(sse, openai_chat_stream)
{
	size_t len, len2;
	char *buf = slurp(BODIES "openai_chat_stream.sse", &len), *crlf;

	check_openai(buf, len);
	crlf = relf(buf, len, "\r\n", &len2);
	check_openai(crlf, len2);
	free(crlf);
	crlf = relf(buf, len, "\r", &len2);
	check_openai(crlf, len2);
	free(crlf);
	free(buf);
}

static void check_anthropic(const char *buf, size_t len)
{
	struct sse_event *ev;
	size_t n = parse(buf, len, &ev);

	cr_assert_gt(n, 5);
	cr_assert_str_eq(ev[0].event, "message_start");
	cr_assert(starts_with(ev[0].data, "{\"type\":\"message_start\""));
	cr_assert_str_eq(ev[1].event, "ping");
	cr_assert_str_eq(ev[1].data, "{\"type\": \"ping\"}");
	cr_assert_str_eq(ev[n - 1].event, "message_stop");
	cr_assert_str_eq(ev[n - 1].data, "{\"type\":\"message_stop\"}");
	sse__free_events(ev, n);
}

Test(sse, anthropic_stream)
{
	size_t len, len2;
	char *buf = slurp(BODIES "anthropic_stream.sse", &len), *crlf;

	check_anthropic(buf, len);
	crlf = relf(buf, len, "\r\n", &len2);
	check_anthropic(crlf, len2);
	free(crlf);
	free(buf);
}

Test(sse, fields_and_offsets)
{
	static const char s[] =
		"\xef\xbb\xbf: comment\n"
		"retry: 3000\n"
		"event: a\r\n"
		"data:x\r\n"
		"data:  y\r"
		"id: 7\n"
		"\n"				/* ends at 59 */
		"foo: bar\n"
		"data\n"
		"\n"				/* ends at 74 */
		"event: lonely\n"
		"\n"
		"id\n"
		"data: z\n"
		"\n";
	struct sse_event *ev;
	size_t n = parse_str(s, &ev);

	cr_assert_eq(n, 3);
	cr_assert_str_eq(ev[0].event, "a");
	cr_assert_str_eq(ev[0].data, "x\n y");
	cr_assert_str_eq(ev[0].id, "7");
	cr_assert_eq(ev[0].end_off, 59);
	cr_assert_null(ev[1].event);
	cr_assert_str_eq(ev[1].data, "");
	cr_assert_str_eq(ev[1].id, "7");	/* the last event ID persists */
	cr_assert_eq(ev[1].end_off, 74);
	cr_assert_null(ev[2].event);		/* "event" alone dispatched nothing */
	cr_assert_str_eq(ev[2].data, "z");
	cr_assert_null(ev[2].id);		/* reset by an empty "id" */
	cr_assert_eq(ev[2].end_off, strlen(s));
	sse__free_events(ev, n);
}

Test(sse, trailing_event_without_blank_line)
{
	struct sse_event *ev;
	size_t n;

	n = parse_str("data: 1\n\ndata: 2\nevent: e\n", &ev);
	cr_assert_eq(n, 2);
	cr_assert_eq(ev[0].end_off, 9);
	cr_assert_str_eq(ev[1].data, "2");
	cr_assert_str_eq(ev[1].event, "e");
	cr_assert_eq(ev[1].end_off, 26);
	sse__free_events(ev, n);

	/* A last line without its line end is interpreted too. */
	n = parse_str("data: [DONE]", &ev);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(ev[0].data, "[DONE]");
	cr_assert_eq(ev[0].end_off, 12);
	sse__free_events(ev, n);

	n = parse_str("", &ev);
	cr_assert_eq(n, 0);
	cr_assert_null(ev);
	n = parse_str(": just a comment\n\n\n", &ev);
	cr_assert_eq(n, 0);
	sse__free_events(ev, n);
}

/*
 * Every prefix of a stream: the events dispatched by a blank line are the
 * full stream's first events; at most one more (the trailing one) is
 * returned, with end_off = prefix length.
 */
static void check_prefixes(const char *buf, size_t len)
{
	struct sse_event *all, *ev;
	size_t n_all = parse(buf, len, &all), n, i, k;

	for (k = 0; k <= len; k++) {
		n = parse(buf, k, &ev);
		cr_assert_leq(n, n_all);
		for (i = 0; i < n; i++) {
			if (ev[i].end_off == k && k < all[i].end_off) {
				cr_assert_eq(i, n - 1);
				cr_assert_eq(strncmp(ev[i].data, all[i].data,
						     strlen(ev[i].data)), 0);
				continue;
			}
			cr_assert_eq(ev[i].end_off, all[i].end_off);
			cr_assert_str_eq(ev[i].data, all[i].data);
			if (all[i].event)
				cr_assert_str_eq(ev[i].event, all[i].event);
			else
				cr_assert_null(ev[i].event);
		}
		sse__free_events(ev, n);
	}
	sse__free_events(all, n_all);
}

Test(sse, every_prefix)
{
	static const char s[] =
		"event: message_start\r\n"
		"data: {\"type\":\"message_start\"}\r\n"
		"\r\n"
		": keep-alive\r\n"
		"\r\n"
		"event: content_block_delta\r\n"
		"data: {\"delta\":{\"text\":\"Hi\"}}\r\n"
		"\r\n"
		"data: line1\n"
		"data: line2\n"
		"\n"
		"event: message_stop\r"
		"data: {\"type\":\"message_stop\"}\r"
		"\r";

	check_prefixes(s, strlen(s));
}

Test(sse, max_events)
{
	struct sse_event *ev;
	size_t n;

	cr_assert_eq(sse__parse("data: 1\n\ndata: 2\n\ndata: 3\n\n", 27, 2,
				&ev, &n), -E2BIG);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(ev[1].data, "2");
	sse__free_events(ev, n);
	cr_assert_eq(sse__parse("data: 1\n\ndata: 2\n\n", 18, 2, &ev, &n), 0);
	cr_assert_eq(n, 2);
	sse__free_events(ev, n);
	sse__free_events(NULL, 0);
}

/*
 * The strings are kept in one buffer sized from the input; an "id" that
 * persists is stored once and shared by the events that carry it.  CR
 * alone ends lines too, however many there are.
 */
Test(sse, persistent_id_shared)
{
	static char buf[70000];
	struct sse_event *ev;
	size_t n, len, i;
	char id[1000];

	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	len = (size_t)snprintf(buf, sizeof(buf), "id: %s\n", id);
	for (i = 0; i < 500; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"data: %zu\r\r", i);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len,
				"id: 2\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
	n = parse(buf, len, &ev);
	cr_assert_eq(n, 503);
	for (i = 0; i < 500; i++) {
		cr_assert_eq(ev[i].id, ev[0].id);
		cr_assert_eq(strtoul(ev[i].data, NULL, 10), i);
		cr_assert_null(ev[i].event);
	}
	cr_assert_str_eq(ev[0].id, id);
	cr_assert_str_eq(ev[500].id, "2");
	cr_assert_eq(ev[501].id, ev[500].id);
	cr_assert_null(ev[502].id);	/* "id" alone: the empty string */
	cr_assert_eq(ev[n - 1].end_off, len);
	sse__free_events(ev, n);
}

/*
 * Finding 4 of issue 12: a 64 KiB id, then 200,000 one-byte events (a
 * 1.6 MB body).  Copying the id per event asked for 13 GB; the strings
 * must now stay within the input's size, so the parse succeeds under a
 * 256 MiB address-space limit (not under the sanitizers, whose shadow
 * memory needs more).
 */
Test(sse, id_amplification)
{
	size_t idlen = 64 << 10, n_ev = SSE_MAX_EVENTS, len, i;
	struct sse_event *ev;
	char *buf, *p;
	size_t n;

#if !defined(__SANITIZE_ADDRESS__)
	struct rlimit rl = { 256u << 20, 256u << 20 };

	cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
#endif
	buf = malloc(4 + idlen + 1 + n_ev * 8);
	cr_assert_not_null(buf);
	p = buf;
	memcpy(p, "id: ", 4);
	p += 4;
	memset(p, 'i', idlen);
	p += idlen;
	*p++ = '\n';
	for (i = 0; i < n_ev; i++) {
		memcpy(p, "data:x\n\n", 8);
		p += 8;
	}
	len = (size_t)(p - buf);
	cr_assert_eq(sse__parse(buf, len, SSE_MAX_EVENTS, &ev, &n), 0);
	cr_assert_eq(n, n_ev);
	cr_assert_eq(strlen(ev[0].id), idlen);
	cr_assert_eq(ev[n - 1].id, ev[0].id);
	cr_assert_str_eq(ev[n - 1].data, "x");
	sse__free_events(ev, n);
	/* One event more than allowed: the rest is returned, with -E2BIG. */
	cr_assert_eq(sse__parse(buf, len, n_ev - 1, &ev, &n), -E2BIG);
	cr_assert_eq(n, n_ev - 1);
	sse__free_events(ev, n);
	free(buf);
}
