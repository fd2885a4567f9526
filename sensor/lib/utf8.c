// SPDX-License-Identifier: MIT
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/vec16.h"

int utf8__seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	int need, i;

	if (c >= 0x01 && c <= 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return -1;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i < need; i++) {
		if ((size_t)i >= n || s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

/* No byte of the block at @p is NUL or above 0x7f. */
static inline bool block_plain(const unsigned char *p)
{
	u8x16 v = vec16__load(p);

	return vec16__none((u8x16)((u8x16)(v - 1) > 0x7e));
}

/*
 * Length of the leading run of bytes 0x01..0x7f at @p: most text is
 * ASCII, so it is passed sixteen bytes at a time.
 */
static size_t ascii_run(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i + 16 <= len && block_plain(p + i))
		i += 16;
	while (i < len && p[i] >= 0x01 && p[i] <= 0x7f)
		i++;
	return i;
}

/* Length of the leading valid UTF-8 (without NUL) at @p. */
static size_t valid_prefix(const unsigned char *p, size_t len)
{
	size_t i = 0;
	int k;

	for (;;) {
		i += ascii_run(p + i, len - i);
		if (i >= len)
			return len;
		k = utf8__seq(p + i, len - i);
		if (k < 0)
			return i;
		i += (size_t)k;
	}
}

bool utf8__valid(const char *s, size_t len)
{
	return valid_prefix((const unsigned char *)s, len) == len;
}

char *utf8__dup(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, o;
	char *out;
	int k;

	i = len ? valid_prefix(p, len) : 0;
	if (i == len) {
		out = malloc(len + 1);
		if (!out)
			return NULL;
		if (len)
			memcpy(out, s, len);
		out[len] = '\0';
		return out;
	}
	/* Worst case: every byte after the valid prefix becomes U+FFFD. */
	if (len - i > (SIZE_MAX - 1 - i) / UTF8_REPLACEMENT_LEN)
		return NULL;
	out = malloc(i + (len - i) * UTF8_REPLACEMENT_LEN + 1);
	if (!out)
		return NULL;
	memcpy(out, s, i);
	o = i;
	while (i < len) {
		k = utf8__seq(p + i, len - i);
		if (k > 0) {
			memcpy(out + o, p + i, (size_t)k);
			o += (size_t)k;
			i += (size_t)k;
			continue;
		}
		memcpy(out + o, UTF8_REPLACEMENT, UTF8_REPLACEMENT_LEN);
		o += UTF8_REPLACEMENT_LEN;
		i += (size_t)-k;
	}
	out[o] = '\0';
	return out;
}

size_t utf8__cut(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}
