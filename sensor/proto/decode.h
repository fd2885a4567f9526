/* SPDX-License-Identifier: MIT */
/*
 * decode.h - undoes HTTP content codings (RFC 9110 §8.4): gzip (RFC 1952),
 * deflate (RFC 1950 zlib, or raw RFC 1951 as some servers send it) and
 * br (RFC 7932), with zlib and the brotli decoder.
 *
 * Output is always bounded, so a decompression bomb costs at most max_out
 * bytes and the time to produce them.  A body cut short by the capture
 * still yields what could be decoded from it.
 */
#ifndef OISP_DECODE_H
#define OISP_DECODE_H

#include <errno.h>	/* the -E... return values */
#include <stddef.h>

enum decode_flag {
	/* output hit max_out (e.g. a decompression bomb): the rest dropped */
	DECODE_TRUNCATED = 1 << 0,
	/* input ended early or was corrupt: out holds what could be decoded */
	DECODE_INCOMPLETE = 1 << 1,
};

/*
 * Decodes @in (@in_len bytes, the caller's) per @content_encoding, the
 * Content-Encoding field value: NULL, "" or "identity" mean none; a list
 * such as "gzip, br" was applied in order and is decoded in reverse order
 * (RFC 9110 §8.4).  Tokens: gzip, x-gzip, deflate, br, identity; case-
 * insensitive, OWS trimmed, empty list elements ignored.  "gzip" also
 * accepts zlib data and concatenated gzip members; "deflate" accepts zlib
 * (RFC 1950) or raw deflate (RFC 1951) data.
 *
 * On success *@out is malloc'd (the caller frees it), holds *@out_len <=
 * @max_out bytes and is NUL-terminated (the NUL is not counted); *@flags
 * is a set of enum decode_flag.  With no coding the input is copied.
 *
 * Returns 0 (maybe with flags), -ENOTSUP for an unknown or unsupported
 * coding (*@out = NULL), -EBADMSG when nothing could be decoded (*@out =
 * NULL), -ENOMEM.
 */
int decode__content(const char *content_encoding, const void *in,
		    size_t in_len, size_t max_out, unsigned char **out,
		    size_t *out_len, unsigned *flags);

#endif /* OISP_DECODE_H */
