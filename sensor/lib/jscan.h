/* SPDX-License-Identifier: MIT */
/*
 * jscan.h - a minimal scanner over the top-level members of one JSON
 * object (RFC 8259), for the hot paths that need a member or two of a
 * small object and should not build a cJSON tree for it: the event type
 * of each WebSocket message (proto/wsmap.c) and the delta events of the
 * OpenAI Responses stream (ai/extract_response.c).
 *
 * It is a fast path, not a parser: JSON is cJSON's job, and every
 * caller falls back to cJSON when the scanner reports an error.
 *
 *   lenient (strict false): members are found without checking their
 *     values (nested values are skipped by their brackets, strings
 *     respected).  For routing only: what is routed is parsed by cJSON
 *     later.
 *   strict: accepts a subset of what cJSON_Parse() (cJSON 1.7) accepts,
 *     and reads it as cJSON does: keys without escapes; values that are
 *     strings, numbers as RFC 8259 §6 has them (at most 63 characters,
 *     the most cJSON reads), true, false, null, or empty arrays and
 *     objects; the four white space characters of RFC 8259 §2; no byte
 *     order mark; nothing but white space after the object.  Anything
 *     else is -EBADMSG, even where cJSON would accept it, so that a
 *     caller that falls back on any error gets cJSON's result exactly.
 *
 * Bytes are read only below the given length; nothing is allocated.
 */
#ifndef OISP_JSCAN_H
#define OISP_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct jscan {
	const unsigned char *p;
	size_t n, i;
	bool strict;
	bool first;		/* no member read yet */
};

/* One member: raw text, escapes not decoded. */
struct jscan_member {
	const unsigned char *key;	/* between the quotes */
	size_t key_len;
	const unsigned char *val;	/* the value's text (a string: quoted) */
	size_t val_len;
};

/*
 * Starts scanning the object at @p (@n bytes; only white space may come
 * before its '{').  Returns 0 or -EBADMSG (not an object).
 */
int jscan__open(struct jscan *s, const void *p, size_t n, bool strict);

/*
 * The next member into *@m.  Returns 1, 0 at the end of the object
 * (strict: and of the text), or -EBADMSG: malformed, truncated, or
 * (strict) beyond what the scanner reads.  After 0 or -EBADMSG it must
 * not be called again.
 */
int jscan__next(struct jscan *s, struct jscan_member *m);

/*
 * True when @m's key is @key (raw comparison; strict keys are
 * unescaped).  Inline: with a literal @key the length is a constant.
 */
static inline bool jscan__key_is(const struct jscan_member *m,
				 const char *key)
{
	size_t len = strlen(key);

	return m->key_len == len && memcmp(m->key, key, len) == 0;
}

/*
 * Decodes the string value @v (@n bytes, with its quotes, as
 * jscan__next() gives it) into @out (at least @n bytes), NUL-terminated,
 * the decoded length in *@len.  Escapes as RFC 8259 §7 has them; \u
 * escapes become UTF-8, surrogate pairs one 4-byte sequence; other bytes
 * are copied as they are (UTF-8 or not), as cJSON copies them.  Returns
 * 0, or -EBADMSG where cJSON would fail or differ: an unknown escape, a
 * \u escape without four hex digits, a lone surrogate, \u0000, a NUL
 * byte, no closing quote.
 */
int jscan__string(const unsigned char *v, size_t n, char *out, size_t *len);

#endif /* OISP_JSCAN_H */
