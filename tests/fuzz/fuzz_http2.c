// SPDX-License-Identifier: MIT
/*
 * HTTP/2 frames and HPACK (proto/http2.c): after the client preface,
 * which the target writes itself, the input is a sequence of pieces
 * (pieces.h): each a control byte (bit 0: direction, bits 1-7: length -
 * 1) and then its bytes, fed as one call of that direction; a control
 * byte of 0xff with bit 4 of the first byte set is a gap instead.  Both directions
 * are flushed at the end.  Every message handed out must be freed by
 * the callee.
 *
 * Bit 6 of the first byte adds a memory budget of 16 KiB whose shed
 * callback drops the connection's bodies, as the pipeline's does.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/budget.h"
#include "pieces.h"
#include "proto/http2.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static size_t shed_conn(void *ctx, size_t need)
{
	return proto_http2.shed(*(void **)ctx);
}

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
	struct proto_limits lim = { .max_body = 4096 };
	struct budget *b = NULL;
	void *st = NULL;
	size_t n = 0;
	uint64_t ts = 1;

	if (size < 1)
		return 0;
	if ((data[0] & 0x40) && budget__new(&b, 16384) == 0) {
		budget__on_shed(b, shed_conn, &st);
		lim.budget = b;
	}
	if (proto_http2.new(&st, &lim, on_msg, &n)) {
		budget__free(b);
		return 0;
	}
	proto_http2.feed(st, PROTO_DIR_WRITE, preface, sizeof(preface) - 1,
			 ts++);
	ts = fuzz_pieces(&proto_http2, st, data, size, ts);
	proto_http2.flush(st, PROTO_DIR_WRITE, ts);
	proto_http2.flush(st, PROTO_DIR_READ, ts);
	proto_http2.free(st);
	budget__free(b);
	return 0;
}
