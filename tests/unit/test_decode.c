// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "proto/decode.h"

#define FIX "../fixtures/http/"

static const char text[] =
	"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":"
	"[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
	"\"Hello! How can I help you today? Hello! How can I help you?\"}}]}";

/* Compresses with zlib: wbits 31 gzip, 15 zlib, -15 raw deflate. */
static unsigned char *zip(const void *in, size_t len, int wbits, size_t *out_len)
{
	size_t cap = compressBound(len) + 64;
	unsigned char *out = malloc(cap);
	z_stream zs = { 0 };

	cr_assert_not_null(out);
	cr_assert_eq(deflateInit2(&zs, 9, Z_DEFLATED, wbits, 8,
				  Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)in;
	zs.avail_in = len;
	zs.next_out = out;
	zs.avail_out = cap;
	cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

/* Decodes and checks the result is @want exactly, with no flags. */
static void check(const char *ce, const void *in, size_t in_len,
		  const void *want, size_t want_len)
{
	unsigned char *out;
	unsigned flags;
	size_t len;

	cr_assert_eq(decode__content(ce, in, in_len, 1 << 20, &out, &len,
				     &flags), 0, "%s", ce ? ce : "(null)");
	cr_assert_eq(flags, 0, "%s", ce ? ce : "(null)");
	cr_assert_eq(len, want_len, "%s", ce ? ce : "(null)");
	cr_assert_eq(memcmp(out, want, len), 0);
	cr_assert_eq(out[len], '\0');
	free(out);
}

Test(decode, identity)
{
	check(NULL, text, strlen(text), text, strlen(text));
	check("", text, strlen(text), text, strlen(text));
	check("identity", text, strlen(text), text, strlen(text));
	check(" Identity ,", text, strlen(text), text, strlen(text));
	check(NULL, "", 0, "", 0);
}

Test(decode, identity_truncated)
{
	unsigned char *out;
	unsigned flags;
	size_t len;

	cr_assert_eq(decode__content(NULL, text, strlen(text), 10, &out, &len,
				     &flags), 0);
	cr_assert_eq(flags, DECODE_TRUNCATED);
	cr_assert_eq(len, 10);
	cr_assert_eq(memcmp(out, text, 10), 0);
	free(out);
}

Test(decode, gzip)
{
	size_t n;
	unsigned char *gz = zip(text, strlen(text), 31, &n);

	check("gzip", gz, n, text, strlen(text));
	check("x-gzip", gz, n, text, strlen(text));
	check("  GZip\t", gz, n, text, strlen(text));
	check("identity, gzip", gz, n, text, strlen(text));
	free(gz);
}

Test(decode, gzip_members)
{
	size_t n1, n2;
	unsigned char *a = zip("hello ", 6, 31, &n1);
	unsigned char *b = zip("world", 5, 31, &n2);
	unsigned char *both = malloc(n1 + n2 + 3);

	memcpy(both, a, n1);
	memcpy(both + n1, b, n2);
	check("gzip", both, n1 + n2, "hello world", 11);
	/* Bytes after the last member are ignored. */
	memcpy(both + n1 + n2, "\0\0\0", 3);
	check("gzip", both, n1 + n2 + 3, "hello world", 11);
	free(a);
	free(b);
	free(both);
}

Test(decode, deflate_both_forms)
{
	size_t n;
	unsigned char *z = zip(text, strlen(text), 15, &n);

	check("deflate", z, n, text, strlen(text));
	free(z);
	z = zip(text, strlen(text), -15, &n);
	check("deflate", z, n, text, strlen(text));
	check("Deflate", z, n, text, strlen(text));
	free(z);
}

Test(decode, brotli)
{
	size_t n, tn;
	unsigned char *br = slurp(FIX "hello.br", &n);
	unsigned char *want = slurp(FIX "hello.txt", &tn);

	check("br", br, n, want, tn);
	check("BR", br, n, want, tn);
	free(br);
	/* Applied gzip first, then br: decoded br first. */
	br = slurp(FIX "hello.gz.br", &n);
	check("gzip, br", br, n, want, tn);
	check("x-gzip,br", br, n, want, tn);
	free(br);
	free(want);
}

Test(decode, list_in_reverse_order)
{
	size_t n1, n2;
	unsigned char *z = zip(text, strlen(text), 15, &n1);
	unsigned char *gz = zip(z, n1, 31, &n2);

	check("deflate, gzip", gz, n2, text, strlen(text));
	free(z);
	free(gz);
}

Test(decode, exact_fit_is_not_truncated)
{
	size_t n, len;
	unsigned char *gz = zip(text, strlen(text), 31, &n), *out;
	unsigned flags;

	cr_assert_eq(decode__content("gzip", gz, n, strlen(text), &out, &len,
				     &flags), 0);
	cr_assert_eq(flags, 0);
	cr_assert_eq(len, strlen(text));
	free(out);
	cr_assert_eq(decode__content("gzip", gz, n, strlen(text) - 1, &out,
				     &len, &flags), 0);
	cr_assert_eq(flags, DECODE_TRUNCATED);
	cr_assert_eq(len, strlen(text) - 1);
	cr_assert_eq(memcmp(out, text, len), 0);
	free(out);
	free(gz);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1 GiB of zeros, deflated in one gzip member. */
static unsigned char *gzip_bomb(size_t *out_len)
{
	static unsigned char zeros[1 << 16];
	size_t cap = 8 << 20, i;
	unsigned char *out = malloc(cap);
	z_stream zs = { 0 };

	cr_assert_eq(deflateInit2(&zs, 1, Z_DEFLATED, 31, 8, Z_RLE), Z_OK);
	zs.next_out = out;
	zs.avail_out = cap;
	for (i = 0; i < (1u << 30) / sizeof(zeros); i++) {
		zs.next_in = zeros;
		zs.avail_in = sizeof(zeros);
		cr_assert_eq(deflate(&zs, Z_NO_FLUSH), Z_OK);
		cr_assert_eq(zs.avail_in, 0);
	}
	cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

Test(decode, bombs_are_bounded)
{
	unsigned char *bomb, *out;
	size_t n, len, i;
	unsigned flags;
	double t;

	bomb = gzip_bomb(&n);
	t = now();
	cr_assert_eq(decode__content("gzip", bomb, n, 1 << 20, &out, &len,
				     &flags), 0);
	cr_assert_lt(now() - t, 0.5);
	cr_assert_eq(flags, DECODE_TRUNCATED);
	cr_assert_eq(len, 1 << 20);
	for (i = 0; i < len; i++)
		cr_assert_eq(out[i], 0);
	free(out);
	free(bomb);

	bomb = slurp(FIX "zeros-1g.br", &n);
	t = now();
	cr_assert_eq(decode__content("br", bomb, n, 1 << 20, &out, &len,
				     &flags), 0);
	cr_assert_lt(now() - t, 0.5);
	cr_assert_eq(flags, DECODE_TRUNCATED);
	cr_assert_eq(len, 1 << 20);
	free(out);
	free(bomb);
}

Test(decode, truncated_input)
{
	static const char *const ce[] = { "gzip", "deflate", "br" };
	unsigned char *in[3], *out, *want;
	size_t n[3], len, tn, i;
	unsigned flags;

	want = slurp(FIX "hello.txt", &tn);
	in[0] = zip(want, tn, 31, &n[0]);
	in[1] = zip(want, tn, 15, &n[1]);
	in[2] = slurp(FIX "hello.br", &n[2]);
	for (i = 0; i < 3; i++) {
		/* Cut before the end: a prefix of the text, flagged. */
		cr_assert_eq(decode__content(ce[i], in[i], n[i] - 4, 1 << 20,
					     &out, &len, &flags), 0, "%s", ce[i]);
		cr_assert_eq(flags, DECODE_INCOMPLETE, "%s", ce[i]);
		cr_assert_leq(len, tn);
		cr_assert_eq(memcmp(out, want, len), 0);
		free(out);
		/* Nothing decodable: an error. */
		cr_assert_eq(decode__content(ce[i], in[i], 2, 1 << 20, &out,
					     &len, &flags), -EBADMSG, "%s",
			     ce[i]);
		cr_assert_null(out);
		cr_assert_eq(decode__content(ce[i], in[i], 0, 1 << 20, &out,
					     &len, &flags), -EBADMSG);
		free(in[i]);
	}
	free(want);
}

Test(decode, corrupt_input)
{
	unsigned char *gz, *out;
	size_t n, len;
	unsigned flags;

	/* Not compressed at all. */
	cr_assert_eq(decode__content("gzip", text, strlen(text), 1 << 20,
				     &out, &len, &flags), -EBADMSG);
	cr_assert_null(out);
	cr_assert_eq(decode__content("br", "\xff\xff\xff\xff", 4, 1 << 20,
				     &out, &len, &flags), -EBADMSG);
	cr_assert_null(out);
	/* A damaged trailer: the text is there, the CRC is not right. */
	gz = zip(text, strlen(text), 31, &n);
	gz[n - 6] ^= 0xff;
	cr_assert_eq(decode__content("gzip", gz, n, 1 << 20, &out, &len,
				     &flags), 0);
	cr_assert_eq(flags, DECODE_INCOMPLETE);
	cr_assert_eq(len, strlen(text));
	free(out);
	free(gz);
}

Test(decode, unknown_coding)
{
	unsigned char *out = (unsigned char *)"x";
	unsigned flags;
	size_t len;

	cr_assert_eq(decode__content("compress", text, 4, 100, &out, &len,
				     &flags), -ENOTSUP);
	cr_assert_null(out);
	cr_assert_eq(decode__content("zstd", text, 4, 100, &out, &len,
				     &flags), -ENOTSUP);
	cr_assert_eq(decode__content("gzip, foo", text, 4, 100, &out, &len,
				     &flags), -ENOTSUP);
	cr_assert_eq(decode__content("gzipx", text, 4, 100, &out, &len,
				     &flags), -ENOTSUP);
	cr_assert_eq(decode__content("gzip,gzip,gzip,gzip,gzip,gzip,gzip,"
				     "gzip,gzip", text, 4, 100, &out, &len,
				     &flags), -ENOTSUP);
}
