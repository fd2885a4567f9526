/* SPDX-License-Identifier: MIT */
/*
 * termout.h - text for a terminal that may carry strings a user or a
 * file chose (paths, error texts, version strings read from an
 * inspected executable): no byte of them may drive the terminal.
 */
#ifndef OISP_TERMOUT_H
#define OISP_TERMOUT_H

#include <stdio.h>

/*
 * Writes the C string @s to @out for a terminal.  Every byte that could
 * drive it is written as \xNN: C0 controls (newlines included), DEL,
 * the C1 controls (U+0080-U+009F: 8-bit CSI, OSC...) and bytes that are
 * not UTF-8 (RFC 3629), which a terminal in another encoding could read
 * as C1.  A backslash becomes \\, so an escape can't be faked.  Other
 * UTF-8 is written as it is.  Errors of @out are left to its caller.
 */
void termout__text(FILE *out, const char *s);

/*
 * Writes the JSON text @json (RFC 8259) to @out so that no terminal
 * control reaches the terminal raw.  cJSON escapes C0 controls in
 * strings but writes DEL, the C1 controls and invalid UTF-8 as they
 * are: those become \u007f, \u0080-\u009f (the same string) and \ufffd
 * per maximal invalid subpart (JSON is UTF-8).  Tab, CR and LF are JSON
 * whitespace (and, in a string, already escaped by cJSON) and stay.
 */
void termout__json(FILE *out, const char *json);

#endif /* OISP_TERMOUT_H */
