// SPDX-License-Identifier: MIT
/*
 * termout.c - strings for a terminal, escaped: see termout.h.
 */
#include <stdbool.h>
#include <string.h>

#include "lib/termout.h"
#include "lib/utf8.h"

/* A C1 control (U+0080-U+009F) is 0xc2 0x80-0x9f in UTF-8. */
static bool is_c1(const unsigned char *p, int n)
{
	return n == 2 && p[0] == 0xc2 && p[1] <= 0x9f;
}

void termout__text(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	int n, i;

	while (left) {
		n = utf8__seq(p, left);
		if (n == 1 && *p >= 0x20 && *p != 0x7f && *p != '\\') {
			fputc(*p, out);
		} else if (n == 1 && *p == '\\') {
			fputs("\\\\", out);
		} else if (n > 1 && !is_c1(p, n)) {
			fwrite(p, 1, (size_t)n, out);
		} else {
			n = n < 0 ? -n : n;
			for (i = 0; i < n; i++)
				fprintf(out, "\\x%02x", p[i]);
		}
		p += n;
		left -= (size_t)n;
	}
}

void termout__json(FILE *out, const char *json)
{
	const unsigned char *p = (const unsigned char *)json;
	size_t left = strlen(json);
	int n;

	while (left) {
		n = utf8__seq(p, left);
		if (n < 0) {
			fputs("\\ufffd", out);
			n = -n;
		} else if (n == 1 && (*p == 0x7f ||
				      (*p < 0x20 && *p != '\t' &&
				       *p != '\n' && *p != '\r'))) {
			fprintf(out, "\\u%04x", *p);
		} else if (is_c1(p, n)) {
			fprintf(out, "\\u%04x", p[1]);
		} else {
			fwrite(p, 1, (size_t)n, out);
		}
		p += n;
		left -= (size_t)n;
	}
}
