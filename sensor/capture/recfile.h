/* SPDX-License-Identifier: MIT */
/*
 * recfile.h - capture files: the record/replay seam.
 *
 * `oisp-sensor record FILE` writes the ring-buffer records it receives,
 * byte for byte, into a capture file; `oisp-sensor replay FILE` feeds
 * them to the same pipeline.  Fuzzers and unit tests reach the pipeline
 * through this seam without root or eBPF.
 *
 * File format (all integers little-endian):
 *
 *	offset  size  field
 *	0       8     magic               "OISPCAP\0"
 *	8       4     abi                 CAP_ABI_VERSION of bpf/capture_abi.h
 *	12      4     hdr_size            bytes in this header (>= 88); a reader
 *	                                  skips bytes past the fields it knows
 *	16      8     realtime_offset_ns  CLOCK_REALTIME - CLOCK_MONOTONIC at
 *	                                  record time, in ns: an event's wall
 *	                                  clock time is cap_hdr.ts_ns + this
 *	24      64    hostname            NUL-terminated, NUL-padded
 *	88      ...   records
 *
 * Each record is a __u32 length followed by that many bytes.  The bytes
 * are a record as it came off the ring buffer: a struct cap_hdr
 * followed by the rest of a struct cap_data (only CAP_DATA_HDR_SIZE +
 * data.len bytes, whatever size class the ring held it in; data.len is
 * at most CAP_CHUNK_MAX, 64 KiB, which readers built when it was 16 KiB
 * reject as corrupt), of a struct cap_proc or of a struct cap_free.  The record structs themselves
 * are in host byte order, which is little-endian on every architecture
 * the BPF side supports.  A file ends after the last complete record; a
 * partial length or record is reported as truncation.
 *
 * The module logs nothing: it returns -errno, and the reader describes
 * corruption in the caller's @err buffer.
 */
#ifndef OISP_RECFILE_H
#define OISP_RECFILE_H

#include <stddef.h>

#include "capture/record.h"

#define RECFILE_MAGIC		"OISPCAP"	/* 8 bytes with the NUL */
#define RECFILE_HDR_SIZE	88
#define RECFILE_HOSTNAME_LEN	64
/* The largest record: a struct cap_data with a full chunk. */
#define RECFILE_RECORD_MAX	(CAP_DATA_HDR_SIZE + CAP_CHUNK_MAX)

struct recfile_writer;
struct recfile_reader;

struct recfile_info {
	__u32 abi;			/* CAP_ABI_VERSION of the recording */
	__u64 realtime_offset_ns;	/* wall clock - CLOCK_MONOTONIC, ns */
	char hostname[RECFILE_HOSTNAME_LEN];	/* NUL-terminated */
};

/*
 * Fills @info for a recording made now on this host: abi =
 * CAP_ABI_VERSION, realtime_offset_ns from clock_gettime(2) of
 * CLOCK_REALTIME and CLOCK_MONOTONIC, hostname from gethostname(2)
 * (truncated to 63 bytes).  Returns 0 or -errno of clock_gettime.
 */
int recfile__info_now(struct recfile_info *info);

/*
 * Creates the capture file @path, or empties the one there, and writes
 * the header from @info; "-" writes to stdout, which is left open by
 * close.  The file is opened as lib/wfile.h says (mode 0640 before the
 * umask; a symbolic link, a FIFO, another user's file or one with
 * several links is refused, and nothing is emptied before the checks).
 * The header's abi is always CAP_ABI_VERSION: info->abi is ignored.
 * Records are buffered in memory until recfile__flush() or
 * recfile__close_writer().  On failure @err (of @errlen bytes, may be
 * NULL/0) gets "FILE: reason".
 * Returns 0 and the writer in *@out, or -errno of wfile__open() or
 * write(2), or -ENOMEM.
 */
int recfile__create(struct recfile_writer **out, const char *path,
		    const struct recfile_info *info, char *err, size_t errlen);

/*
 * Appends the record @rec of @len bytes (copied; the caller keeps @rec).
 * Returns 0, -EBADMSG if @rec is not a well-formed record (see
 * record__check() in record.h; nothing written), or -errno of write(2) when
 * the buffer had to be written out.
 */
int recfile__write(struct recfile_writer *w, const void *rec, size_t len);

/* Writes the buffered records out.  Returns 0 or -errno of write(2). */
int recfile__flush(struct recfile_writer *w);

/*
 * Flushes, closes the file (not stdout) and frees @w; NULL is fine.
 * Returns the result of the flush, or else -errno of close(2), or 0.
 */
int recfile__close_writer(struct recfile_writer *w);

/*
 * Opens the capture file @path ("-" reads stdin, which is left open by
 * close) and reads its header into @info (may be NULL).  On failure
 * @err (of @errlen bytes, may be NULL/0) gets "FILE: offset N: reason".
 * Returns 0 and the reader in *@out; -errno of open(2)/read(2);
 * -ENOMEM; or -EBADMSG for a short header, a bad magic, a hdr_size
 * below 88 or an abi outside CAP_ABI_OLDEST..CAP_ABI_VERSION.
 */
int recfile__open(struct recfile_reader **out, const char *path,
		  struct recfile_info *info, char *err, size_t errlen);

/*
 * Reads the next record.  *@rec points into the reader's own buffer
 * (8-byte aligned, so it can be cast to struct cap_hdr/cap_data/cap_proc)
 * and stays valid until the next call or close; *@len is its size.
 * Returns 1 with a record, 0 at a clean end of file, -EBADMSG for a
 * corrupt file (a length above RECFILE_RECORD_MAX, a record that fails
 * record__check() (record.h), a truncated length or record), or -errno of
 * read(2).  On errors @err gets "FILE: offset N: reason", N being the
 * byte offset of the record's length field.  After an error the reader
 * is positioned nowhere useful: only close it.
 */
int recfile__next(struct recfile_reader *r, const void **rec, size_t *len,
		  char *err, size_t errlen);

/* Closes the file (not stdin) and frees @r; NULL is fine. */
void recfile__close_reader(struct recfile_reader *r);

#endif /* OISP_RECFILE_H */
