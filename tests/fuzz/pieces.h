/* SPDX-License-Identifier: MIT */
/*
 * pieces.h - what the wire-protocol fuzzers share: the message callback
 * of fuzz_http and fuzz_http2, and the input format of fuzz_http2 and
 * fuzz_ws: after the first byte (@ctl, the target's own switches), a
 * sequence of pieces, each a control byte (bit 0: direction, bits 1-7:
 * length - 1) and then its bytes, fed as one call of that direction;
 * when bit 4 of @ctl is set, a control byte of 0xff is a gap of
 * direction @gap_dir instead.  With @calls, each piece starts a call
 * (proto_ops.call_start), as each record of offset 0 does in the
 * pipeline.
 */
#ifndef OISP_FUZZ_PIECES_H
#define OISP_FUZZ_PIECES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/*
 * The message callback of the HTTP fuzzers: counts the message in the
 * size_t at @ctx, reads a header field and frees it.
 */
static inline void fuzz_count_msg(void *ctx, struct http_msg *msg)
{
	size_t *n = ctx;

	(*n)++;
	(void)http_msg__header(msg, "content-type");
	http_msg__free(msg);
}

/* Feeds @data[1..size) to @ops' state @st as pieces; returns the next ts. */
static inline uint64_t fuzz_pieces(const struct proto_ops *ops, void *st,
				   const uint8_t *data, size_t size,
				   uint64_t ts, enum proto_dir gap_dir,
				   bool calls)
{
	enum proto_dir dir;
	size_t off, piece;
	uint8_t c;

	for (off = 1; off < size; off += piece) {
		c = data[off++];
		if ((data[0] & 0x10) && c == 0xff) {
			ops->gap(st, gap_dir, PROTO_GAP_RECORDS_LOST);
			piece = 0;
			continue;
		}
		piece = (size_t)(c >> 1) + 1;
		if (piece > size - off)
			piece = size - off;
		dir = c & 1 ? PROTO_DIR_READ : PROTO_DIR_WRITE;
		if (calls && ops->call_start)
			ops->call_start(st, dir);
		ops->feed(st, dir, data + off, piece, ts++);
	}
	return ts;
}

#endif /* OISP_FUZZ_PIECES_H */
