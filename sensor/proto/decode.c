// SPDX-License-Identifier: MIT
/*
 * Content-Encoding decoding.  Each coding of the list is one stage; a
 * stage decodes into a buffer that may hold max_out + 1 bytes, so that
 * reaching the extra byte tells truncation apart from an exact fit
 * without decoding anything more.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>

#include "proto/decode.h"

#define MAX_CODINGS	8
#define MIN_CAP		4096
#define ZCHUNK		(1u << 30)	/* z_stream counts in uInt */

enum coding {
	C_GZIP,
	C_DEFLATE,
	C_BR,
};

/* How a stage ended. */
enum end {
	END_DONE,	/* the coded stream ended properly */
	END_FULL,	/* output reached its limit */
	END_SHORT,	/* input ran out first */
	END_CORRUPT,	/* the decoder rejected the input */
	END_NOMEM,
};

struct obuf {
	unsigned char *p;
	size_t len, cap;	/* cap includes room for the NUL */
	size_t limit;		/* max_out + 1 */
};

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Splits @ce into codings, in the order they were applied.  Returns the
 * number of codings or -ENOTSUP.
 */
static int parse_codings(const char *ce, enum coding *c)
{
	static const struct {
		const char *name;
		int coding;		/* -1: identity */
	} known[] = {
		{ "gzip", C_GZIP }, { "x-gzip", C_GZIP },
		{ "deflate", C_DEFLATE }, { "br", C_BR },
		{ "identity", -1 },
	};
	const char *p = ce, *end;
	size_t len, i;
	int n = 0;

	while (p && *p) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		while (p < end && ows(*p))
			p++;
		len = (size_t)(end - p);
		while (len && ows(p[len - 1]))
			len--;
		for (i = 0; len && i < sizeof(known) / sizeof(known[0]); i++)
			if (strlen(known[i].name) == len &&
			    strncasecmp(known[i].name, p, len) == 0)
				break;
		if (len && i == sizeof(known) / sizeof(known[0]))
			return -ENOTSUP;
		if (len && known[i].coding >= 0) {
			if (n == MAX_CODINGS)
				return -ENOTSUP;
			c[n++] = known[i].coding;
		}
		p = *end ? end + 1 : end;
	}
	return n;
}

static int obuf_init(struct obuf *o, size_t max_out, size_t hint)
{
	o->limit = max_out + 1;
	o->len = 0;
	o->cap = hint < MIN_CAP ? MIN_CAP : hint;
	if (o->cap > o->limit + 1)
		o->cap = o->limit + 1;
	o->p = malloc(o->cap);
	return o->p ? 0 : -ENOMEM;
}

/*
 * Returns how many bytes may be written at o->p + o->len now (0: the
 * limit is reached), growing the buffer when it is full; -ENOMEM.
 */
static long obuf_room(struct obuf *o)
{
	size_t cap, room;
	unsigned char *p;

	if (o->len == o->limit)
		return 0;
	if (o->len + 1 == o->cap) {
		cap = o->cap * 2;
		if (cap > o->limit + 1)
			cap = o->limit + 1;
		p = realloc(o->p, cap);
		if (!p)
			return -ENOMEM;
		o->p = p;
		o->cap = cap;
	}
	room = o->cap - 1 - o->len;
	return room > ZCHUNK ? ZCHUNK : (long)room;
}

static bool gzip_magic(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/*
 * Inflates @in with zlib window bits @wbits into @o.  With @members,
 * concatenated gzip members (RFC 1952 §2.2) are decoded one after the
 * other; bytes after the last one are ignored.
 */
static enum end inflate_into(const unsigned char *in, size_t in_len,
			     int wbits, bool members, struct obuf *o)
{
	size_t rem = in_len, chunk;
	enum end end = END_SHORT;
	z_stream zs;
	long room;
	int ret;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, wbits) != Z_OK)
		return END_NOMEM;
	zs.next_in = (unsigned char *)in;
	for (;;) {
		if (!zs.avail_in && rem) {
			chunk = rem > ZCHUNK ? ZCHUNK : rem;
			zs.avail_in = (uInt)chunk;
			rem -= chunk;
		}
		room = obuf_room(o);
		if (room <= 0) {
			end = room ? END_NOMEM : END_FULL;
			break;
		}
		zs.next_out = o->p + o->len;
		zs.avail_out = (uInt)room;
		/*
		 * All the input is there: Z_FINISH spares zlib its 32 KiB
		 * window (allocated, and the output copied into it) when
		 * the stream ends in this call, the usual case; a call
		 * that ends short of it keeps the window as Z_NO_FLUSH
		 * would, and returns Z_BUF_ERROR for Z_OK.
		 */
		ret = inflate(&zs, Z_FINISH);
		o->len += (size_t)room - zs.avail_out;
		if (ret == Z_STREAM_END) {
			if (members &&
			    gzip_magic(zs.next_in, zs.avail_in + rem) &&
			    inflateReset(&zs) == Z_OK)
				continue;
			end = END_DONE;
			break;
		}
		if (ret == Z_MEM_ERROR) {
			end = END_NOMEM;
			break;
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			end = END_CORRUPT;
			break;
		}
		if (zs.avail_out && !zs.avail_in && !rem) {
			end = END_SHORT;
			break;
		}
	}
	inflateEnd(&zs);
	return end;
}

/* RFC 1950 §2.2: CM = 8, CINFO <= 7, and the FCHECK multiple of 31. */
static bool zlib_header(const unsigned char *p, size_t n)
{
	return n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
	       ((unsigned)p[0] << 8 | p[1]) % 31 == 0;
}

static bool brotli_alloc_error(BrotliDecoderErrorCode e)
{
	return e <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
	       e >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES;
}

static enum end brotli_into(const unsigned char *in, size_t in_len,
			    struct obuf *o)
{
	BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
	const uint8_t *next_in = in;
	size_t avail_in = in_len, avail_out;
	BrotliDecoderResult r;
	enum end end;
	uint8_t *next_out;
	long room;

	if (!st)
		return END_NOMEM;
	for (;;) {
		room = obuf_room(o);
		if (room <= 0) {
			end = room ? END_NOMEM : END_FULL;
			break;
		}
		next_out = o->p + o->len;
		avail_out = (size_t)room;
		r = BrotliDecoderDecompressStream(st, &avail_in, &next_in,
						  &avail_out, &next_out, NULL);
		o->len += (size_t)room - avail_out;
		if (r == BROTLI_DECODER_RESULT_SUCCESS) {
			end = END_DONE;
			break;
		}
		if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
			end = END_SHORT;
			break;
		}
		if (r == BROTLI_DECODER_RESULT_ERROR) {
			end = END_CORRUPT;
			if (brotli_alloc_error(BrotliDecoderGetErrorCode(st)))
				end = END_NOMEM;
			break;
		}
	}
	BrotliDecoderDestroyInstance(st);
	return end;
}

static enum end stage_run(enum coding c, const unsigned char *in,
			  size_t in_len, struct obuf *o)
{
	enum end end;

	switch (c) {
	case C_GZIP:
		/* 15 + 32: a gzip or a zlib header, whichever is there. */
		return inflate_into(in, in_len, 15 + 32, true, o);
	case C_DEFLATE:
		if (!zlib_header(in, in_len))
			return inflate_into(in, in_len, -15, false, o);
		end = inflate_into(in, in_len, 15, false, o);
		if (end == END_CORRUPT && !o->len)
			end = inflate_into(in, in_len, -15, false, o);
		return end;
	case C_BR:
		return brotli_into(in, in_len, o);
	}
	return END_CORRUPT;
}

/* Decodes one coding into *@o.  Returns 0, -EBADMSG or -ENOMEM. */
static int stage(enum coding c, const unsigned char *in, size_t in_len,
		 size_t max_out, struct obuf *o, unsigned *flags)
{
	size_t hint = in_len > SIZE_MAX / 4 ? SIZE_MAX / 4 : in_len * 4;
	enum end end;

	if (obuf_init(o, max_out, hint))
		return -ENOMEM;
	end = stage_run(c, in, in_len, o);
	if (end != END_NOMEM && o->len > max_out) {
		/* The extra byte: there is more than max_out. */
		o->len = max_out;
		*flags |= DECODE_TRUNCATED;
		end = END_DONE;
	}
	switch (end) {
	case END_DONE:
	case END_FULL:
		break;
	case END_SHORT:
	case END_CORRUPT:
		if (!o->len)
			goto err;
		*flags |= DECODE_INCOMPLETE;
		break;
	case END_NOMEM:
		free(o->p);
		o->p = NULL;
		return -ENOMEM;
	}
	o->p[o->len] = '\0';
	return 0;
err:
	free(o->p);
	o->p = NULL;
	return -EBADMSG;
}

static int copy_out(const void *in, size_t in_len, size_t max_out,
		    struct obuf *o, unsigned *flags)
{
	size_t n = in_len;

	if (n > max_out) {
		n = max_out;
		*flags |= DECODE_TRUNCATED;
	}
	o->p = malloc(n + 1);
	if (!o->p)
		return -ENOMEM;
	if (n)
		memcpy(o->p, in, n);
	o->p[n] = '\0';
	o->len = n;
	return 0;
}

int decode__content(const char *content_encoding, const void *in,
		    size_t in_len, size_t max_out, unsigned char **out,
		    size_t *out_len, unsigned *flags)
{
	enum coding c[MAX_CODINGS];
	struct obuf cur = { 0 }, next;
	const unsigned char *src = in;
	size_t src_len = in_len;
	int n, i, err;

	*out = NULL;
	*out_len = 0;
	*flags = 0;
	/* Stages size their buffers max_out + 2: keep that from wrapping. */
	if (max_out > SIZE_MAX / 2)
		max_out = SIZE_MAX / 2;
	n = parse_codings(content_encoding, c);
	if (n < 0)
		return n;
	if (!n) {
		err = copy_out(in, in_len, max_out, &cur, flags);
		goto out;
	}
	for (i = n - 1; i >= 0; i--) {
		err = stage(c[i], src, src_len, max_out, &next, flags);
		free(cur.p);
		cur = next;
		if (err)
			goto out;
		src = cur.p;
		src_len = cur.len;
	}
	err = 0;
out:
	if (err) {
		free(cur.p);
		*flags = 0;
		return err;
	}
	*out = cur.p;
	*out_len = cur.len;
	return 0;
}
