// SPDX-License-Identifier: MIT
/*
 * HTTP/2 frames and HPACK (proto/http2.c): after the client preface,
 * which the target writes itself, the input is a sequence of pieces
 * (pieces.h), each a control byte (bit 0: direction, bits 1-7: length - 1) and then
 * its bytes, fed as one call of that direction; a control byte of 0xff
 * with bit 4 of the first byte set is a gap instead (in the read
 * direction, or the write one with bit 3 set).  Both directions are
 * flushed at the end.  Every message handed out must be freed by the
 * callee.
 *
 * Bit 5 of the first byte: no preface, the connection is joined
 * mid-way (HPACK decoded with an unknown dynamic table), and each piece
 * starts a call (proto_ops.call_start), where a lost framing is looked
 * for.  Bit 6 adds a memory budget of 16 KiB whose shed callback drops
 * the connection's bodies, as the pipeline's does.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_limits lim = { .max_body = 4096 };
	struct budget *b = NULL;
	void *st = NULL;
	size_t n = 0;
	uint64_t ts = 1;
	uint8_t ctl;

	if (size < 1)
		return 0;
	if ((data[0] & 0x40) && budget__new(&b, 16384) == 0) {
		budget__on_shed(b, shed_conn, &st);
		lim.budget = b;
	}
	if (proto_http2.new(&st, &lim, fuzz_count_msg, &n)) {
		budget__free(b);
		return 0;
	}
	ctl = data[0];
	if (!(ctl & 0x20))
		proto_http2.feed(st, PROTO_DIR_WRITE, preface,
				 sizeof(preface) - 1, ts++);
	ts = fuzz_pieces(&proto_http2, st, data, size, ts,
			 ctl & 0x08 ? PROTO_DIR_WRITE : PROTO_DIR_READ,
			 ctl & 0x20);
	proto_http2.flush(st, PROTO_DIR_WRITE, ts);
	proto_http2.flush(st, PROTO_DIR_READ, ts);
	proto_http2.free(st);
	budget__free(b);
	return 0;
}
