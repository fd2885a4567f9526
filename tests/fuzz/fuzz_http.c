// SPDX-License-Identifier: MIT
/*
 * HTTP/1.1 stream parser: the input is fed in pieces whose sizes come
 * from the input itself, with gaps and a final flush, as the pipeline
 * does.  Every message handed out must be freed by the callee.
 *
 * The limits are the production defaults (4 MiB of body, 64 KiB of
 * header section).  Bit 6 of the first byte adds a memory budget of
 * 8 KiB whose shed callback drops the stream's own body, as the
 * pipeline's does, from within the feed that asked for memory.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/budget.h"
#include "pieces.h"
#include "proto/http1.h"

static size_t shed_stream(void *ctx, size_t need)
{
	return httpstream__shed(*(struct httpstream **)ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim = { 0 };
	struct httpstream *s = NULL;
	struct budget *b = NULL;
	size_t off = 0, n = 0, piece;
	uint64_t ts = 1;
	uint8_t ctl;

	if (size < 1)
		return 0;
	if ((data[0] & 0x40) && budget__new(&b, 8192) == 0) {
		budget__on_shed(b, shed_stream, &s);
		lim.budget = b;
	}
	if (httpstream__new(&s, &lim, fuzz_count_msg, &n)) {
		budget__free(b);
		return 0;
	}
	ctl = data[0];
	data++;
	size--;
	while (off < size) {
		piece = 1 + (data[off] % 64) * ((ctl & 3) + 1);
		if (piece > size - off)
			piece = size - off;
		if ((ctl & 0x10) && data[off] == 0xff)
			httpstream__gap(s, PROTO_GAP_RECORDS_LOST);
		if ((ctl & 0x20) && data[off] == 0xfe)
			httpstream__expect_head_response(s);
		httpstream__feed(s, data + off, piece, ts++);
		off += piece;
	}
	httpstream__flush(s, ts);
	httpstream__free(s);
	budget__free(b);
	return 0;
}
