/* SPDX-License-Identifier: MIT */
/*
 * pieces.h - the input format of the wire-protocol fuzzers (fuzz_http2,
 * fuzz_ws): after the first byte (@ctl, the target's own switches), a
 * sequence of pieces, each a control byte (bit 0: direction, bits 1-7:
 * length - 1) and then its bytes, fed as one call of that direction;
 * when bit 4 of @ctl is set, a control byte of 0xff is a gap of the read
 * side instead.
 */
#ifndef OISP_FUZZ_PIECES_H
#define OISP_FUZZ_PIECES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* Feeds @data[1..size) to @ops' state @st as pieces; returns the next ts. */
static inline uint64_t fuzz_pieces(const struct proto_ops *ops, void *st,
				   const uint8_t *data, size_t size,
				   uint64_t ts)
{
	size_t off, piece;
	uint8_t c;

	for (off = 1; off < size; off += piece) {
		c = data[off++];
		if ((data[0] & 0x10) && c == 0xff) {
			ops->gap(st, PROTO_DIR_READ, PROTO_GAP_RECORDS_LOST);
			piece = 0;
			continue;
		}
		piece = (size_t)(c >> 1) + 1;
		if (piece > size - off)
			piece = size - off;
		ops->feed(st, c & 1 ? PROTO_DIR_READ : PROTO_DIR_WRITE,
			  data + off, piece, ts++);
	}
	return ts;
}

#endif /* OISP_FUZZ_PIECES_H */
