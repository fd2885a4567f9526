/* SPDX-License-Identifier: MIT */
/*
 * gzip.h - test helper: a buffer gzip-compressed (RFC 1952) with zlib.
 * Include after <criterion/criterion.h>; link -lz (the sensor does).
 */
#ifndef OISP_TEST_GZIP_H
#define OISP_TEST_GZIP_H

#include <stdlib.h>

#include <zlib.h>

/*
 * @len bytes of @in as one gzip member, malloc'd (free it); its size in
 * *@out_len.  Fails the test on any zlib error.
 */
static inline unsigned char *gzip_buf(const void *in, size_t len,
				      size_t *out_len)
{
	z_stream zs = { 0 };
	size_t cap = compressBound(len) + 64;
	unsigned char *out = malloc(cap);

	cr_assert(out);
	cr_assert_eq(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9,
				  Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

#endif /* OISP_TEST_GZIP_H */
