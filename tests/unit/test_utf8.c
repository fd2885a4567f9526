// SPDX-License-Identifier: MIT
/* utf8: validation, replacement by U+FFFD and cutting (lib/utf8.h). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

Test(utf8, dup_replaces_maximal_subparts)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} t[] = {
		{ "plain", 5, "plain" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },
		{ "a\xff" "b", 3, "a\xef\xbf\xbd" "b" },
		{ "a\0b", 3, "a\xef\xbf\xbd" "b" },
		/* truncated 3-byte sequence: one U+FFFD for the subpart */
		{ "\xe2\x82", 2, "\xef\xbf\xbd" },
		/* overlong '/' and a surrogate: each byte replaced */
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		/* above U+10FFFF */
		{ "\xf4\x90\x80\x80", 4,
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "", 0, "" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = utf8__dup(t[i].in, t[i].len);
		cr_assert(s);
		cr_assert_str_eq(s, t[i].out, "case %zu", i);
		cr_assert_eq(utf8__valid(s, strlen(s)), true);
		free(s);
	}
	cr_assert_not(utf8__valid("a\xff", 2));
	cr_assert_not(utf8__valid("a\0", 2));
}

Test(utf8, seq_lengths)
{
	cr_assert_eq(utf8__seq((const unsigned char *)"a", 1), 1);
	cr_assert_eq(utf8__seq((const unsigned char *)"\xc3\xa9", 2), 2);
	cr_assert_eq(utf8__seq((const unsigned char *)"\xe2\x82\xac", 3), 3);
	cr_assert_eq(utf8__seq((const unsigned char *)"\xf0\x9f\x98\x80", 4),
		     4);
	cr_assert_eq(utf8__seq((const unsigned char *)"", 1), -1);
	cr_assert_eq(utf8__seq((const unsigned char *)"\x80", 1), -1);
	/* truncated: the maximal subpart is the two bytes present */
	cr_assert_eq(utf8__seq((const unsigned char *)"\xe2\x82", 2), -2);
	cr_assert_eq(utf8__seq((const unsigned char *)"\xe2\x82x", 3), -2);
	cr_assert_eq(utf8__seq((const unsigned char *)"\xed\xa0\x80", 3), -1);
}

Test(utf8, valid_past_a_block)
{
	char s[64];

	memset(s, 'a', sizeof(s));
	cr_assert(utf8__valid(s, sizeof(s)));
	s[40] = (char)0xff;
	cr_assert_not(utf8__valid(s, sizeof(s)));
	s[40] = '\0';
	cr_assert_not(utf8__valid(s, sizeof(s)));
	cr_assert(utf8__valid(NULL, 0));
}

Test(utf8, cut_keeps_whole_characters)
{
	/* "a", then U+20AC in three bytes, then "b" */
	const char *s = "a\xe2\x82\xac" "b";

	cr_assert_eq(utf8__cut(s, 0), 0);
	cr_assert_eq(utf8__cut(s, 1), 1);
	cr_assert_eq(utf8__cut(s, 2), 1);
	cr_assert_eq(utf8__cut(s, 3), 1);
	cr_assert_eq(utf8__cut(s, 4), 4);
	cr_assert_eq(utf8__cut(s, 5), 5);
}
