/* SPDX-License-Identifier: MIT */
/*
 * rings.h - the capture object's BPF ring buffers (BPF_MAP_TYPE_RINGBUF)
 * read as one stream, in the order the records were made.
 *
 * The probes write small calls and control records to one ring and the
 * chunks of larger calls to another (bpf/capture.bpf.h says why).  A
 * connection's records can therefore be in both, and the reader merges
 * them by the time in their header (struct cap_hdr.ts_ns, capture_abi.h):
 * at each step it delivers the committed head with the earliest time.
 * Within a ring, records are in the order they were reserved, and a
 * record's time was taken before its reservation.  A connection's calls
 * do not overlap, so a later call takes its time after every record of
 * the earlier one was committed, and so after everything ahead of them
 * in their ring was reserved: it sorts after all of that, and a fresh
 * look at the other ring, once it is seen, finds the earlier records.
 * All chunks of one call carry the call's time, which is why a call is
 * never split between the rings.  A head still being written
 * (BPF_RINGBUF_BUSY_BIT) stops the reading until it is committed, as in
 * one ring.  Equal times go to the ring given first.
 *
 * The ring layout is the kernel's (kernel/bpf/ringbuf.c, uapi
 * linux/bpf.h): a consumer page whose first word is the consumer
 * position, written by the reader; a producer page whose first word is
 * the producer position; then the data area, mapped twice in a row so
 * that a record that wraps is contiguous.  Each record has an 8-byte
 * header (its length with the busy and discard bits, and a page offset)
 * and is padded to 8 bytes.  The consumer position is published every
 * eighth of a ring and at the end of each read, not after every record:
 * the producers read it at every reservation, and each store would move
 * its cache line to the reader's CPU and back.
 */
#ifndef OISP_CAPTURE_RINGS_H
#define OISP_CAPTURE_RINGS_H

#include <stddef.h>

#define RINGS_MAX	4

struct rings;

/*
 * Called for each record, in order: @data points into the ring (valid
 * until the callback returns), @size is the record's length as
 * reserved.  Returns 0, or a negative errno that stops the read (the
 * record counts as read).
 */
typedef int (*rings_record_fn)(void *ctx, void *data, size_t size);

/* One ring already mapped by the caller (rings__open_maps()). */
struct ring_map {
	void *consumer;		/* the consumer page, read-write */
	const void *producer;	/* the producer page, then the data area twice */
	size_t size;		/* the data area in bytes, a power of two */
	int fd;			/* polled for EPOLLIN by rings__epoll_fd(); -1: none */
};

/*
 * Maps the @n (1..RINGS_MAX) ring buffer maps @fds, of data areas
 * @sizes bytes (powers of two, the maps' max_entries), and reads them
 * with @fn(@ctx, ...).  Equal times go to the lower index first.  The
 * fds stay the caller's and must outlive the rings.  Returns 0 with
 * *@out set, -EINVAL for a bad size or count, -ENOMEM, or the -errno of
 * mmap() or epoll.
 */
int rings__open(struct rings **out, const int *fds, const size_t *sizes,
		int n, rings_record_fn fn, void *ctx);

/*
 * As rings__open(), over @n rings the caller has mapped (@maps is
 * copied; the memory stays the caller's and must outlive the rings).
 * Used by the tests, which lay out rings in ordinary memory.
 */
int rings__open_maps(struct rings **out, const struct ring_map *maps,
		     int n, rings_record_fn fn, void *ctx);

/* An epoll fd that is readable when any ring has data; -EINVAL without. */
int rings__epoll_fd(const struct rings *r);

/*
 * Delivers every committed record, merged in time order, until a ring's
 * head is still being written or all are empty.  Returns the number of
 * records delivered, or the callback's negative errno.
 */
long rings__consume(struct rings *r);

/* Unmaps and frees @r (NULL: nothing). */
void rings__free(struct rings *r);

#endif /* OISP_CAPTURE_RINGS_H */
