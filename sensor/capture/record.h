/* SPDX-License-Identifier: MIT */
/*
 * record.h - the records capture hands to the pipeline (bpf/capture_abi.h),
 * and the one check of their shape, made wherever a record enters from
 * outside: the live ring buffer (pipeline__feed()) and capture files
 * (recfile.h, in both directions).
 *
 * A record is a struct cap_hdr followed by the rest of its kind's struct:
 * cap_data (only CAP_DATA_HDR_SIZE + data.len bytes, whatever size class
 * the ring held it in), cap_proc or cap_free.  The fields are the seam
 * described in capture.h: a connection id, a direction, a TLS stack.
 */
#ifndef OISP_RECORD_H
#define OISP_RECORD_H

#include <stddef.h>

#include "capture_abi.h"

/*
 * Returns 0 if @rec of @len bytes is a well-formed record, -EBADMSG
 * otherwise: len >= sizeof(struct cap_hdr) and the kind is one that
 * leaves capture (DATA, EXEC, EXIT, DLOPEN, FREE; FORK stays inside);
 * for DATA, len >= CAP_DATA_HDR_SIZE, data.len <= CAP_CHUNK_MAX, len ==
 * CAP_DATA_HDR_SIZE + data.len and dir is CAP_DIR_WRITE or CAP_DIR_READ;
 * for the others, len is the size of their struct (cap_proc, cap_free).
 * The offset and call_len of a chunk are not bounded here: the pipeline
 * takes a chunk's place in its call from them and copes with any value.
 * @rec need not be aligned.
 */
int record__check(const void *rec, size_t len);

#endif /* OISP_RECORD_H */
