/* SPDX-License-Identifier: MIT */
/*
 * utf8.h - every UTF-8 check of the sensor (RFC 3629): events and
 * metrics labels must be valid UTF-8, and captured text is not.
 *
 * Invalid input is replaced as Unicode 15, section 3.9 recommends
 * ("U+FFFD Substitution of Maximal Subparts"): one U+FFFD for each
 * maximal invalid subpart (a stray continuation byte, a truncated
 * sequence, the first byte of an overlong form, a surrogate or a code
 * point above U+10FFFF).  NUL counts as invalid everywhere here, so that
 * the result is also a C string.
 */
#ifndef OISP_UTF8_H
#define OISP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, encoded (UTF8_REPLACEMENT_LEN bytes). */
#define UTF8_REPLACEMENT	"\xef\xbf\xbd"
#define UTF8_REPLACEMENT_LEN	3

/*
 * Length of the valid UTF-8 sequence at @s (1-4; at most @n bytes are
 * read, @n >= 1), or minus the length of its maximal invalid subpart.
 * NUL counts as invalid.
 */
int utf8__seq(const unsigned char *s, size_t n);

/* True when the @len bytes at @s are valid UTF-8 without NUL bytes. */
bool utf8__valid(const char *s, size_t len);

/*
 * Returns a malloc'd NUL-terminated copy of the @len bytes at @s in
 * which each maximal invalid subpart and each NUL byte is replaced by
 * U+FFFD, so valid UTF-8.  NULL when out of memory.  @s may be NULL when
 * @len is 0.
 */
char *utf8__dup(const char *s, size_t len);

/*
 * The largest length <= @n at which @s can be cut without splitting a
 * character: @n moved back over continuation bytes (10xxxxxx).  Reads
 * @s[1..@n], so @s must hold more than @n bytes (the byte at @n, for a
 * NUL-terminated string, may be its NUL).  Valid input stays valid.
 */
size_t utf8__cut(const char *s, size_t n);

#endif /* OISP_UTF8_H */
