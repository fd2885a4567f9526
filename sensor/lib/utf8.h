/* SPDX-License-Identifier: MIT */
/*
 * utf8.h - the one UTF-8 decoder check of the sensor (RFC 3629): events
 * and metrics labels must both be valid UTF-8.
 */
#ifndef OISP_UTF8_H
#define OISP_UTF8_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at @s (1-4; at most @n bytes are
 * read, @n >= 1), or minus the length of its maximal invalid subpart
 * (Unicode 15, section 3.9, "U+FFFD Substitution of Maximal Subparts").
 * NUL counts as invalid.
 */
int utf8__seq(const unsigned char *s, size_t n);

#endif /* OISP_UTF8_H */
