// SPDX-License-Identifier: MIT
/*
 * The JSON text of a body cut short, made whole: see jsonprefix.h.
 *
 * A scan keeps, for each open container, what it expects next and where
 * its last whole member or element ended.  At the cut, the text is taken
 * up to such an end (or, in JSON_PREFIX_PARTIAL mode, up to the cut
 * inside a string value, which is then closed) and the open containers
 * are closed in turn.  The grammar is RFC 8259's; only what the cut needs
 * is followed, and cJSON judges the rest.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ai/jsonprefix.h"

/* What an open container expects next. */
enum want {
	W_KEY,		/* an object's key, or its end */
	W_IN_KEY,	/* inside the key's string */
	W_COLON,
	W_VALUE,	/* a value (an array's: or its end) */
	W_IN_STR,	/* inside a string value */
	W_IN_SCALAR,	/* inside a number or literal */
	W_CHILD,	/* a container value is open, one level in */
	W_AFTER,	/* ',' or the end */
};

struct level {
	size_t good;	/* end of its last whole member, or of its opening */
	char open;	/* '{' or '[' */
	enum want want;
};

/* String state: an escape in progress, and where it began. */
struct str_state {
	bool esc;		/* after '\' */
	unsigned hex_left;	/* \u digits still to come */
	unsigned u;		/* their value so far */
	size_t esc_start;
	size_t esc_end;		/* just past the last whole escape */
	/* Start of a whole \uD800-\uDBFF not yet followed by its pair. */
	size_t hi_start;
};

struct scan {
	struct level *lv;
	size_t depth;
	size_t end;		/* the root ended here (0: not yet) */
	struct str_state s;
};

#define NO_POS	SIZE_MAX

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void value_done(struct level *l, size_t end)
{
	l->want = W_AFTER;
	l->good = end;
}

static int push(struct scan *sc, char open, size_t at)
{
	struct level *l;

	if (sc->depth >= CJSON_NESTING_LIMIT)
		return -EBADMSG;
	l = &sc->lv[sc->depth++];
	l->open = open;
	l->good = at + 1;
	l->want = open == '{' ? W_KEY : W_VALUE;
	return 0;
}

static void pop(struct scan *sc, size_t at)
{
	if (--sc->depth == 0)
		sc->end = at + 1;
	else
		value_done(&sc->lv[sc->depth - 1], at + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One byte inside a string of level @l. */
static void str_byte(struct scan *sc, struct level *l, char c, size_t i)
{
	struct str_state *s = &sc->s;
	int h;

	if (s->hex_left) {
		h = hexval(c);
		s->u = s->u << 4 | (unsigned)(h < 0 ? 0 : h);
		if (--s->hex_left == 0) {
			s->hi_start = s->u >= 0xd800 && s->u <= 0xdbff ?
				      s->esc_start : NO_POS;
			s->esc_end = i + 1;
		}
		return;
	}
	if (s->esc) {
		s->esc = false;
		if (c == 'u') {
			s->hex_left = 4;
			s->u = 0;
		} else {
			s->hi_start = NO_POS;
			s->esc_end = i + 1;
		}
		return;
	}
	if (c == '\\') {
		s->esc = true;
		s->esc_start = i;
		return;
	}
	s->hi_start = NO_POS;
	if (c != '"')
		return;
	if (l->want == W_IN_KEY)
		l->want = W_COLON;
	else
		value_done(l, i + 1);
}

static void str_start(struct scan *sc, struct level *l, enum want w)
{
	memset(&sc->s, 0, sizeof(sc->s));
	sc->s.hi_start = NO_POS;
	l->want = w;
}

/* One byte outside strings and scalars; -EBADMSG when it cannot be JSON. */
static int token(struct scan *sc, struct level *l, char c, size_t i)
{
	switch (l->want) {
	case W_KEY:
		if (c == '"')
			str_start(sc, l, W_IN_KEY);
		else if (c == '}')
			pop(sc, i);
		else
			return -EBADMSG;
		return 0;
	case W_COLON:
		if (c != ':')
			return -EBADMSG;
		l->want = W_VALUE;
		return 0;
	case W_VALUE:
		if (c == '"') {
			str_start(sc, l, W_IN_STR);
		} else if (c == '{' || c == '[') {
			l->want = W_CHILD;
			return push(sc, c, i);
		} else if (c == ']' && l->open == '[') {
			pop(sc, i);
		} else if (c == '}' || c == ']' || c == ',' || c == ':') {
			return -EBADMSG;
		} else {
			l->want = W_IN_SCALAR;
		}
		return 0;
	case W_AFTER:
		if (c == ',')
			l->want = l->open == '{' ? W_KEY : W_VALUE;
		else if (c == (l->open == '{' ? '}' : ']'))
			pop(sc, i);
		else
			return -EBADMSG;
		return 0;
	default:
		return -EBADMSG;
	}
}

static int scan_bytes(struct scan *sc, const char *p, size_t len)
{
	struct level *l;
	size_t i;
	char c;
	int err;

	for (i = 0; i < len && !sc->end; i++) {
		c = p[i];
		if (!sc->depth) {
			if (is_ws(c))
				continue;
			if (c != '{' && c != '[')
				return -EBADMSG;
			push(sc, c, i);
			continue;
		}
		l = &sc->lv[sc->depth - 1];
		if (l->want == W_IN_KEY || l->want == W_IN_STR) {
			str_byte(sc, l, c, i);
			continue;
		}
		if (l->want == W_IN_SCALAR) {
			if (!is_ws(c) && !strchr(",}]:", c) && c)
				continue;
			value_done(l, i);
		}
		if (is_ws(c))
			continue;
		err = token(sc, l, c, i);
		if (err)
			return err;
	}
	return 0;
}

/* Bytes of @p[0..n) that end in a whole UTF-8 sequence (RFC 3629). */
static size_t utf8_whole(const char *p, size_t n)
{
	size_t i = n, need;
	unsigned char b;

	while (i > 0 && n - i < 4 && ((unsigned char)p[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n;
	b = (unsigned char)p[i - 1];
	if (b < 0xc0)
		return n;
	need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
	return n - (i - 1) >= need ? n : i - 1;
}

/*
 * Where the text is cut (*cut), how many levels stay open (*keep) and
 * whether a string is closed first (*quote), by @mode.
 */
static void cut_point(const struct scan *sc, const char *p, size_t len,
		      enum json_prefix_mode mode, size_t *cut, size_t *keep,
		      bool *quote)
{
	const struct level *in = &sc->lv[sc->depth - 1];
	const struct str_state *s = &sc->s;
	size_t j, n = len;

	*quote = false;
	*keep = sc->depth;
	*cut = in->good;
	if (mode == JSON_PREFIX_PARTIAL) {
		if (in->want != W_IN_STR)
			return;
		if (s->hi_start != NO_POS)
			n = s->hi_start;
		else if (s->esc || s->hex_left)
			n = s->esc_start;
		*cut = utf8_whole(p, n);
		/*
		 * A \u escape whose four "digits" are not hex is not JSON,
		 * but cJSON takes it; a UTF-8 lead byte among them must not
		 * leave it three, or cJSON takes the closing quote as the
		 * fourth.
		 */
		if (*cut > s->esc_start && *cut < s->esc_end)
			*cut = s->esc_start;
		*quote = true;
		return;
	}
	/* The outermost array whose element is cut loses that element. */
	for (j = 1; j < sc->depth; j++) {
		if (sc->lv[j - 1].open == '[') {
			*keep = j;
			*cut = sc->lv[j - 1].good;
			return;
		}
	}
}

int json_prefix__close(const char *p, size_t len, enum json_prefix_mode mode,
		       char **out, size_t *out_len)
{
	struct scan sc = { 0 };
	size_t cut, keep, i, o;
	bool quote;
	char *buf;
	int err;

	sc.lv = malloc(CJSON_NESTING_LIMIT * sizeof(*sc.lv));
	if (!sc.lv)
		return -ENOMEM;
	err = scan_bytes(&sc, p, len);
	if (err)
		goto out;
	err = -EBADMSG;
	if (!sc.end && !sc.depth)
		goto out;
	if (sc.end) {
		cut = sc.end;
		keep = 0;
		quote = false;
	} else {
		cut_point(&sc, p, len, mode, &cut, &keep, &quote);
	}
	err = -ENOMEM;
	buf = malloc(cut + keep + 2);
	if (!buf)
		goto out;
	memcpy(buf, p, cut);
	o = cut;
	if (quote)
		buf[o++] = '"';
	for (i = keep; i > 0; i--)
		buf[o++] = sc.lv[i - 1].open == '{' ? '}' : ']';
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	err = 0;
out:
	free(sc.lv);
	return err;
}
