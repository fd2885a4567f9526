// SPDX-License-Identifier: MIT
/*
 * HTTP/1.1 stream parser: the input is fed in pieces whose sizes come
 * from the input itself, with gaps and a final flush, as the pipeline
 * does.  Every message handed out must be freed by the callee.
 */
#include <stddef.h>
#include <stdint.h>

#include "proto/http1.h"

static void on_msg(void *ctx, struct http_msg *msg)
{
	size_t *n = ctx;

	(*n)++;
	(void)http_msg__header(msg, "content-type");
	http_msg__free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim = { .max_body = 4096, .max_header_bytes = 2048 };
	struct httpstream *s;
	size_t off = 0, n = 0, piece;
	uint64_t ts = 1;
	uint8_t ctl;

	if (size < 1 || httpstream__new(&s, &lim, on_msg, &n))
		return 0;
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
	return 0;
}
