// SPDX-License-Identifier: MIT
/*
 * The members of one JSON object, without a tree.  See jscan.h: a fast
 * path whose callers fall back to cJSON.
 */
#include <errno.h>
#include <string.h>

#include "lib/jscan.h"
#include "lib/vec16.h"

/* cJSON reads at most this many characters of a number. */
#define NUMBER_MAX	63

/* JSON white space (RFC 8259 §2). */
static inline size_t ws(const unsigned char *p, size_t n, size_t i)
{
	while (i < n && p[i] <= ' ' &&
	       (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

/*
 * The first byte from @p[i] that a string cannot simply copy: its end
 * ('"'), an escape, or NUL (which strict scanning refuses); @n if none.
 * Sixteen bytes at a time while there are as many.
 */
static inline size_t plain_end(const unsigned char *p, size_t n, size_t i)
{
	unsigned k;
	u8x16 v;

	for (; i + 16 <= n; i += 16) {
		v = vec16__load(p + i);
		k = vec16__first((u8x16)(v == '"') | (u8x16)(v == '\\') |
				 (u8x16)(v == 0));
		if (k < 16)
			return i + k;
	}
	while (i < n && p[i] != '"' && p[i] != '\\' && p[i])
		i++;
	return i;
}

static bool digit(const unsigned char *p, size_t n, size_t i)
{
	return i < n && p[i] >= '0' && p[i] <= '9';
}

/* ---- lenient ---- */

/* Past the string starting at @p[i] ('"'); @n when unterminated. */
static size_t skip_string(const unsigned char *p, size_t n, size_t i)
{
	for (i++; (i = plain_end(p, n, i)) < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return n;
}

/* Past the JSON value at @p[i] (not validated, strings respected). */
static size_t skip_value(const unsigned char *p, size_t n, size_t i)
{
	size_t depth = 0;

	for (; i < n; i++) {
		if (p[i] == '"') {
			i = skip_string(p, n, i) - 1;
			if (!depth)
				return i + 1;
		} else if (p[i] == '{' || p[i] == '[') {
			depth++;
		} else if (p[i] == '}' || p[i] == ']') {
			if (!depth)
				return i;
			if (!--depth)
				return i + 1;
		} else if (!depth && (p[i] == ',' || p[i] == ' ' ||
				      p[i] == '\n' || p[i] == '\r' ||
				      p[i] == '\t')) {
			return i;
		}
	}
	return n;
}

/* ---- strict ---- */

/* The four hex digits at @p (bytes known to be there); -1: not hex. */
static long hex4(const unsigned char *p)
{
	long v = 0;
	int i, c;

	for (i = 0; i < 4; i++) {
		c = p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | c;
	}
	return v;
}

/*
 * The \u escape at @p[i] (RFC 8259 §7; a surrogate pair is two): its
 * code point into *@cp; returns the bytes it takes (6 or 12), 0 where
 * cJSON would fail or differ (cJSON reads a bad hex digit as 0 and
 * \u0000 as an end of string).
 */
static size_t uescape(const unsigned char *p, size_t n, size_t i,
		      unsigned long *cp)
{
	long hi, lo;

	if (n - i < 6 || (hi = hex4(p + i + 2)) <= 0 ||
	    (hi >= 0xdc00 && hi <= 0xdfff))
		return 0;
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = (unsigned long)hi;
		return 6;
	}
	if (n - i < 12 || p[i + 6] != '\\' || p[i + 7] != 'u')
		return 0;
	lo = hex4(p + i + 8);
	if (lo < 0xdc00 || lo > 0xdfff)
		return 0;
	*cp = 0x10000 + ((unsigned long)(hi & 0x3ff) << 10) +
	      (unsigned long)(lo & 0x3ff);
	return 12;
}

/* @cp as UTF-8 at @out (when not NULL); returns its length. */
static size_t utf8_put(unsigned long cp, char *out)
{
	unsigned char b[4];
	size_t len;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 4;
	}
	if (out)
		memcpy(out, b, len);
	return len;
}

/* The byte an escape \@c stands for; 0: not one of RFC 8259's. */
static unsigned char unescape(unsigned char c)
{
	switch (c) {
	case '"':
	case '\\':
	case '/':
		return c;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return 0;
	}
}

/*
 * The string at @p[i] ('"'), decoded into @out when not NULL (its
 * length into *@olen).  Returns the index past its closing quote, 0
 * where jscan__string() fails.
 */
static size_t string_scan(const unsigned char *p, size_t n, size_t i,
			  char *out, size_t *olen)
{
	unsigned long cp;
	size_t o = 0, run, step;
	unsigned char c;

	for (i++; i < n;) {
		/* A run of plain bytes, copied at once. */
		run = plain_end(p, n, i);
		if (out)
			memcpy(out + o, p + i, run - i);
		o += run - i;
		i = run;
		if (i >= n || !p[i])
			return 0;
		if (p[i] == '"') {
			if (olen)
				*olen = o;
			return i + 1;
		}
		if (i + 1 < n && p[i + 1] == 'u') {
			step = uescape(p, n, i, &cp);
			if (!step)
				return 0;
			o += utf8_put(cp, out ? out + o : NULL);
			i += step;
			continue;
		}
		c = i + 1 < n ? unescape(p[i + 1]) : 0;
		if (!c)
			return 0;
		if (out)
			out[o] = (char)c;
		o++;
		i += 2;
	}
	return 0;
}

/* Past the number at @p[i] (RFC 8259 §6); 0: not one, or too long. */
static size_t number_end(const unsigned char *p, size_t n, size_t i)
{
	size_t s = i;

	if (i < n && p[i] == '-')
		i++;
	if (!digit(p, n, i))
		return 0;
	if (p[i++] != '0')
		while (digit(p, n, i))
			i++;
	if (i < n && p[i] == '.') {
		if (!digit(p, n, ++i))
			return 0;
		while (digit(p, n, i))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (!digit(p, n, i))
			return 0;
		while (digit(p, n, i))
			i++;
	}
	return i - s <= NUMBER_MAX ? i : 0;
}

static size_t literal_end(const unsigned char *p, size_t n, size_t i,
			  const char *lit)
{
	size_t len = strlen(lit);

	return n - i >= len && memcmp(p + i, lit, len) == 0 ? i + len : 0;
}

/* Past the value at @p[i] as jscan.h's strict mode reads it; 0: not. */
static size_t value_end(const unsigned char *p, size_t n, size_t i)
{
	size_t j;

	switch (p[i]) {
	case '"':
		return string_scan(p, n, i, NULL, NULL);
	case 't':
		return literal_end(p, n, i, "true");
	case 'f':
		return literal_end(p, n, i, "false");
	case 'n':
		return literal_end(p, n, i, "null");
	case '[':
	case '{':
		/* Empty only: nothing nested is read here. */
		j = ws(p, n, i + 1);
		return j < n && p[j] == p[i] + 2 ? j + 1 : 0;
	default:
		return number_end(p, n, i);
	}
}

/* ---- members ---- */

int jscan__open(struct jscan *s, const void *p, size_t n, bool strict)
{
	s->p = p;
	s->n = n;
	s->strict = strict;
	s->first = true;
	s->i = ws(s->p, n, 0);
	if (s->i >= n || s->p[s->i] != '{')
		return -EBADMSG;
	s->i++;
	return 0;
}

/* The object closes at @i: strict text must end there. */
static int object_end(const struct jscan *s, size_t i)
{
	return s->strict && ws(s->p, s->n, i + 1) != s->n ? -EBADMSG : 0;
}

int jscan__next(struct jscan *s, struct jscan_member *m)
{
	const unsigned char *p = s->p;
	size_t n = s->n, i = ws(p, n, s->i), k, e;

	if (i < n && p[i] == '}')
		return object_end(s, i);
	if (!s->first) {
		if (i >= n || p[i] != ',')
			return -EBADMSG;
		i = ws(p, n, i + 1);
	}
	if (i >= n || p[i] != '"')
		return -EBADMSG;
	k = i + 1;
	if (s->strict) {
		i = plain_end(p, n, k);
		if (i >= n || p[i] != '"')
			return -EBADMSG;
		e = i++;
	} else {
		i = skip_string(p, n, i);
		e = i - 1;
	}
	i = ws(p, n, i);
	if (i >= n || p[i] != ':')
		return -EBADMSG;
	i = ws(p, n, i + 1);
	if (i >= n)
		return -EBADMSG;
	m->key = p + k;
	m->key_len = e - k;
	m->val = p + i;
	i = s->strict ? value_end(p, n, i) : skip_value(p, n, i);
	if (!i)
		return -EBADMSG;
	m->val_len = i - (size_t)(m->val - p);
	s->i = i;
	s->first = false;
	return 1;
}

int jscan__string(const unsigned char *v, size_t n, char *out, size_t *len)
{
	if (!n || v[0] != '"' || string_scan(v, n, 0, out, len) != n)
		return -EBADMSG;
	out[*len] = '\0';
	return 0;
}
