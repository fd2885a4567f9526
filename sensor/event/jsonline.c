// SPDX-License-Identifier: MIT
/*
 * The JSON Lines writer (jsonline.h).  cJSON prints the tree; it copies
 * string bytes through as they are.  JSON's own syntax is ASCII, so
 * fixing the printed text fixes every string in it: each invalid UTF-8
 * sequence becomes U+FFFD afterwards, in one pass that is a
 * 16-byte-at-a-time scan when the text is valid.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "event/jsonline.h"
#include "lib/utf8.h"
#include "lib/vec16.h"

size_t event__u64_text(uint64_t v, char *buf)
{
	char tmp[EVENT_U64_TEXT];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/*
 * cJSON prints every number with sprintf("%1.15g") and reads it back
 * with sscanf to check it: some 3,000 instructions a number, a good part
 * of a small event's printing.  For an integral value of magnitude below
 * 10^15 that text is exactly the integer's digits (%g with precision 15
 * takes the fixed-point form for exponents below 15 and drops the
 * fraction's zeros; such a value is exact in a double, so the check
 * passes).  Fractions, -0, larger values, NaN and infinities are left to
 * cJSON.
 *
 * cJSON prints a string by passing over its bytes twice, each through a
 * switch: once to count what needs escaping, once to copy.  A string of
 * STR_SWAP_MIN bytes or more is escaped here instead, exactly as cJSON's
 * print_string_ptr() escapes (\" \\ \b \f \n \r \t, other bytes below
 * 0x20 as \u00xx with lower-case hex digits, every other byte as it is):
 * runs that need no escape are found sixteen bytes at a time and copied
 * with memcpy.  Messages and replies are most of an AI event's bytes.
 *
 * While a line is printed, those numbers and strings become raw nodes
 * holding the text cJSON would have printed for them, so the line is the
 * same byte for byte.  The texts go into one buffer kept from line to
 * line (grown when needed), and the nodes are pointed at them only once
 * all are written, since the buffer may move as it grows; everything is
 * put back afterwards.  Beyond MAX_SWAPS nodes in one line, or when
 * memory runs out, the rest are left to cJSON: the text is the same
 * either way.
 */
#define MAX_SWAPS	256
#define STR_SWAP_MIN	16
/*
 * Buffers kept from one line to the next up to this size; a larger one
 * (a body of megabytes in one event) is freed once used, so that one
 * large event does not hold its size for the sensor's lifetime.
 */
#define KEEP_MAX	(1u << 20)

struct swap {
	cJSON *item;
	char *valuestring;
	size_t off;		/* of the node's text in event_swaps.text */
	int type;
};

struct event_swaps {
	char *text;		/* NUL-terminated texts, one after the other */
	size_t len, cap;	/* bytes used, bytes allocated */
	size_t n;
	struct swap s[MAX_SWAPS];
};

/* Room for @n more bytes of text; false when out of memory. */
static bool text_reserve(struct event_swaps *sw, size_t n)
{
	size_t cap;
	char *t;

	if (sw->cap - sw->len >= n)
		return true;
	if (n > SIZE_MAX / 2 - sw->len)
		return false;
	cap = sw->len + n;
	if (cap < sw->cap * 2)
		cap = sw->cap * 2;
	if (cap < 4096)
		cap = 4096;
	t = realloc(sw->text, cap);
	if (!t)
		return false;
	sw->text = t;
	sw->cap = cap;
	return true;
}

/*
 * Appends the text cJSON prints for @d when it is an integer's digits;
 * false (nothing appended) when it is not, or out of memory.
 */
static bool text_put_int(struct event_swaps *sw, double d)
{
	char *o;
	long long v;

	if (!(d > -1e15 && d < 1e15) || (d == 0 && signbit(d)))
		return false;
	v = (long long)d;
	/* A sign, then the digits and the NUL. */
	if ((double)v != d || !text_reserve(sw, 1 + EVENT_U64_TEXT))
		return false;
	o = sw->text + sw->len;
	if (v < 0) {
		*o++ = '-';
		v = -v;
	}
	o += event__u64_text((uint64_t)v, o);
	sw->len = (size_t)(o + 1 - sw->text);
	return true;
}

/* No byte of the block at @p needs an escape in a JSON string. */
static inline bool block_unescaped(const unsigned char *p)
{
	u8x16 v = vec16__load(p);

	return vec16__none((u8x16)(v < 0x20) | (u8x16)(v == '"') |
			(u8x16)(v == '\\'));
}

/* Writes the escape cJSON prints for @c (a byte that needs one) at @o;
 * returns its length (2 or 6). */
static size_t put_escape(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e;

	switch (c) {
	case '"':	e = '"'; break;
	case '\\':	e = '\\'; break;
	case '\b':	e = 'b'; break;
	case '\f':	e = 'f'; break;
	case '\n':	e = 'n'; break;
	case '\r':	e = 'r'; break;
	case '\t':	e = 't'; break;
	default:
		o[0] = '\\';
		o[1] = 'u';
		o[2] = '0';
		o[3] = '0';
		o[4] = hex[c >> 4];
		o[5] = hex[c & 0xf];
		return 6;
	}
	o[0] = '\\';
	o[1] = e;
	return 2;
}

/*
 * Appends @s (@n bytes, no NUL) as the quoted JSON string cJSON prints
 * for it; false (nothing appended) when out of memory.
 */
static bool text_put_string(struct event_swaps *sw, const unsigned char *s,
			    size_t n)
{
	size_t start = sw->len, i = 0, run;
	char *o;

	/* Every byte as it is, the quotes and the NUL. */
	if (n > SIZE_MAX - 8 || !text_reserve(sw, n + 3))
		return false;
	o = sw->text + sw->len;
	*o++ = '"';
	for (;;) {
		run = i;
		while (run + 16 <= n && block_unescaped(s + run))
			run += 16;
		while (run < n && s[run] >= 0x20 && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		memcpy(o, s + i, run - i);
		o += run - i;
		i = run;
		if (i == n)
			break;
		/* Up to five more bytes for this escape. */
		sw->len = (size_t)(o - sw->text);
		if (!text_reserve(sw, n - i + 8)) {
			sw->len = start;
			return false;
		}
		o = sw->text + sw->len;
		o += put_escape(o, s[i++]);
	}
	*o++ = '"';
	*o++ = '\0';
	sw->len = (size_t)(o - sw->text);
	return true;
}

/* Writes the text of @v when it is a number or string worth swapping. */
static void swap_one(struct event_swaps *sw, cJSON *v)
{
	struct swap *s = &sw->s[sw->n];
	size_t start = sw->len;
	const char *str = v->valuestring;

	switch (v->type & 0xff) {
	case cJSON_Number:
		if (!text_put_int(sw, v->valuedouble))
			return;
		break;
	case cJSON_String:
		if (!str || strnlen(str, STR_SWAP_MIN) < STR_SWAP_MIN ||
		    !text_put_string(sw, (const unsigned char *)str,
				     strlen(str)))
			return;
		break;
	default:
		return;
	}
	s->item = v;
	s->type = v->type;
	s->valuestring = v->valuestring;
	s->off = start;
	sw->n++;
}

/* Writes the texts of @v's subtree (@v itself included, not its
 * siblings). */
static void swaps_write(struct event_swaps *sw, cJSON *v)
{
	cJSON *c;

	if (sw->n == MAX_SWAPS)
		return;
	if (v->type & (cJSON_Number | cJSON_String)) {
		swap_one(sw, v);
		return;
	}
	for (c = v->child; c && sw->n < MAX_SWAPS; c = c->next)
		swaps_write(sw, c);
}

/* Points the nodes at their texts: raw, and references, so that
 * cJSON_Delete would not free the text (not that it gets the chance). */
static void swaps_apply(struct event_swaps *sw)
{
	struct swap *s;
	size_t i;

	for (i = 0; i < sw->n; i++) {
		s = &sw->s[i];
		s->item->type = cJSON_Raw | cJSON_IsReference |
				(s->type & cJSON_StringIsConst);
		s->item->valuestring = sw->text + s->off;
	}
}

static void swaps_restore(struct event_swaps *sw)
{
	struct swap *s;

	while (sw->n) {
		s = &sw->s[--sw->n];
		s->item->type = s->type;
		s->item->valuestring = s->valuestring;
	}
	sw->len = 0;
	if (sw->cap > KEEP_MAX) {
		free(sw->text);
		sw->text = NULL;
		sw->cap = 0;
	}
}

/* Replaces @b's text by @s (malloc'd, @n bytes, NUL-terminated). */
static void buf_adopt(struct event_buf *b, char *s, size_t n)
{
	free(b->p);
	b->p = s;
	b->len = n;
	b->cap = n + 1;
}

void event_buf__free(struct event_buf *b)
{
	free(b->p);
	if (b->swaps)
		free(b->swaps->text);
	free(b->swaps);
	memset(b, 0, sizeof(*b));
}

/*
 * Prints @v into @b with cJSON: into the buffer the last line left
 * (cJSON_PrintPreallocated does not allocate); when that is too small,
 * cJSON allocates a buffer that fits, which is kept for the next lines.
 */
static int print_tree(struct event_buf *b, cJSON *v)
{
	char *s;

	if (b->p && b->cap <= INT_MAX &&
	    cJSON_PrintPreallocated(v, b->p, (int)b->cap, false)) {
		b->len = strlen(b->p);
		return 0;
	}
	s = cJSON_PrintUnformatted(v);
	if (!s)
		return -ENOMEM;
	buf_adopt(b, s, strlen(s));
	return 0;
}

int event__json(struct event_buf *b, const cJSON *v)
{
	cJSON *t = (cJSON *)v;
	char *s;
	int err;

	if (!v)
		return -ENOMEM;
	/* The previous line has been written: a large buffer goes. */
	if (b->cap > KEEP_MAX) {
		free(b->p);
		b->p = NULL;
		b->len = b->cap = 0;
	}
	/* Without the scratch space, cJSON prints everything itself. */
	if (!b->swaps)
		b->swaps = calloc(1, sizeof(*b->swaps));
	if (b->swaps) {
		swaps_write(b->swaps, t);
		swaps_apply(b->swaps);
	}
	err = print_tree(b, t);
	if (b->swaps)
		swaps_restore(b->swaps);
	if (err)
		return err;
	if (!utf8__valid(b->p, b->len)) {
		s = utf8__dup(b->p, b->len);
		if (!s)
			return -ENOMEM;
		buf_adopt(b, s, strlen(s));
	}
	return 0;
}

char *event__to_line(const cJSON *ev, size_t *len)
{
	struct event_buf b = { 0 };
	char *line;

	if (event__json(&b, ev)) {
		event_buf__free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	line = b.p;
	b.p = NULL;
	event_buf__free(&b);
	return line;
}
