// SPDX-License-Identifier: MIT
/* termout: strings escaped for a terminal, as text and in JSON (lib/termout.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/termout.h"

/* What @fn writes for @s, as a new string. */
static char *written(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	fn(f, s);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(termout, text_escapes_every_byte_that_drives_a_terminal)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "plain /path-1.2", "plain /path-1.2" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
		/* C0 controls, newline included, and DEL */
		{ "a\x1b]0;x\x07" "b\n\x7f", "a\\x1b]0;x\\x07b\\x0a\\x7f" },
		/* an 8-bit CSI (U+009B) and a byte that is not UTF-8 */
		{ "\xc2\x9b" "31m\xff", "\\xc2\\x9b31m\\xff" },
		/* a backslash is doubled, so "\x1b" cannot be faked */
		{ "a\\x1b", "a\\\\x1b" },
		/* a truncated sequence: every byte of the subpart */
		{ "\xe2\x82", "\\xe2\\x82" },
		{ "", "" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = written(termout__text, t[i].in);
		cr_assert_str_eq(s, t[i].out, "case %zu", i);
		free(s);
	}
}

Test(termout, json_keeps_its_text_but_no_raw_control)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "{\"path\":\"/a\\u001b\"}", "{\"path\":\"/a\\u001b\"}" },
		/* whitespace between tokens stays */
		{ "{\n\t\"a\": 1\r\n}", "{\n\t\"a\": 1\r\n}" },
		/* what cJSON leaves raw in a string: DEL, C1, invalid UTF-8 */
		{ "[\"\x7f\xc2\x9b\xff\xe2\x82\"]",
		  "[\"\\u007f\\u009b\\ufffd\\ufffd\"]" },
		{ "[\"caf\xc3\xa9\"]", "[\"caf\xc3\xa9\"]" },
		/* a raw C0 control outside the three kinds of whitespace */
		{ "[\"\x1b\"]", "[\"\\u001b\"]" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = written(termout__json, t[i].in);
		cr_assert_str_eq(s, t[i].out, "case %zu", i);
		free(s);
	}
}
