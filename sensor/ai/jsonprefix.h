/* SPDX-License-Identifier: MIT */
/*
 * jsonprefix.h - the JSON text of a body cut short, made whole.
 *
 * A body captured only in part (the per-call capture cap, lost records,
 * a connection that ended) is a prefix of a JSON text (RFC 8259).  Rather
 * than parse it by hand, the prefix is cut back to the end of the last
 * complete value and the containers still open are closed after it: the
 * result is JSON that cJSON parses like any body, holding every value
 * that came whole.  One pass over the bytes, no tree: the work is linear
 * in the length, and the memory the copy plus one small entry per open
 * container (at most CJSON_NESTING_LIMIT of them).
 */
#ifndef OISP_JSONPREFIX_H
#define OISP_JSONPREFIX_H

#include <stddef.h>

enum json_prefix_mode {
	/*
	 * Only whole values: an element of an array that was cut is left
	 * out with all it holds (the message or tool cut mid-way), and so is
	 * an object's member that was cut; the members before it stay.
	 */
	JSON_PREFIX_WHOLE = 0,
	/*
	 * Also what was cut: a string value cut mid-way is kept up to the
	 * cut (at an escape and UTF-16 surrogate boundary), and the objects
	 * and arrays around it are kept (the reply text seen so far).
	 * Numbers, literals and keys cut mid-way are still left out.
	 */
	JSON_PREFIX_PARTIAL = 1,
};

/*
 * Makes the @len bytes at @p, the start of a JSON text whose root is an
 * object or an array, into a whole JSON text by @mode.  A text already
 * whole is returned up to the end of its root.  Stores a malloc'd,
 * NUL-terminated copy in *out (the caller frees it) and its length in
 * *out_len.  The values themselves are not checked: cJSON does that.
 * Returns 0 (a root of which nothing was whole is returned empty);
 * -EBADMSG when @p does not start an object or an array, goes on in a
 * way JSON cannot, or nests deeper than CJSON_NESTING_LIMIT; -ENOMEM.
 */
int json_prefix__close(const char *p, size_t len, enum json_prefix_mode mode,
		       char **out, size_t *out_len);

#endif /* OISP_JSONPREFIX_H */
