// SPDX-License-Identifier: MIT
/*
 * The two ring buffers read as one stream (capture/rings.h), over rings
 * laid out in ordinary memory the way the kernel maps a BPF ring buffer:
 * a consumer page, a producer page, and the data area twice in a row
 * (each record is written at both places, as the double mapping shows
 * it).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "capture_abi.h"
#include "capture/rings.h"

#define NRING	2
#define SIZE	4096

struct fake_ring {
	unsigned long *cons;
	unsigned char *prod_page;	/* producer page + 2 * SIZE */
	unsigned long prod;
	size_t page;
};

static struct fake_ring fr[NRING];
static struct rings *rs;

/* What the callback saw. */
struct seen {
	uint64_t ts;
	uint32_t tid;
	size_t size;
	unsigned long cons_at_call[NRING];
};

static struct seen seen[64];
static int nseen;
static int fail_at = -1;	/* the callback returns -EIO at this record */
static int inject_at = -1;	/* ...adds inject_ts to ring 0 at this one */
static uint64_t inject_ts;

static void ring_write(struct fake_ring *r, unsigned long pos,
		       const void *p, size_t n)
{
	unsigned char *data = r->prod_page + r->page;
	size_t i;

	for (i = 0; i < n; i++) {
		data[(pos + i) & (SIZE - 1)] = ((const unsigned char *)p)[i];
		data[((pos + i) & (SIZE - 1)) + SIZE] =
			((const unsigned char *)p)[i];
	}
}

static void set_prod(struct fake_ring *r)
{
	__atomic_store_n((unsigned long *)r->prod_page, r->prod,
			 __ATOMIC_RELEASE);
}

/*
 * Reserves a record of @size bytes (at least a struct cap_hdr) with time
 * @ts and tid @tid in ring @i; @busy leaves it uncommitted.  Returns its
 * position.
 */
static unsigned long put(int i, uint64_t ts, uint32_t tid, size_t size,
			 bool busy)
{
	struct fake_ring *r = &fr[i];
	unsigned char rec[512] = { 0 };
	struct cap_hdr *h = (struct cap_hdr *)rec;
	uint32_t hdr[2] = { (uint32_t)size | (busy ? BPF_RINGBUF_BUSY_BIT : 0),
			    0 };
	unsigned long pos = r->prod;

	cr_assert(size >= sizeof(*h) && size <= sizeof(rec));
	h->kind = CAP_KIND_EXEC;
	h->ts_ns = ts;
	h->tid = tid;
	ring_write(r, pos + 8, rec, size);
	ring_write(r, pos, hdr, sizeof(hdr));
	r->prod = pos + ((size + 8 + 7) & ~7UL);
	set_prod(r);
	return pos;
}

static void commit(int i, unsigned long pos, bool discard)
{
	struct fake_ring *r = &fr[i];
	unsigned char *data = r->prod_page + r->page;
	uint32_t len;

	memcpy(&len, data + (pos & (SIZE - 1)), sizeof(len));
	len &= ~BPF_RINGBUF_BUSY_BIT;
	if (discard)
		len |= BPF_RINGBUF_DISCARD_BIT;
	ring_write(r, pos, &len, sizeof(len));
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct cap_hdr *h = data;
	struct seen *s = &seen[nseen];
	int i;

	(void)ctx;
	cr_assert_lt(nseen, 64);
	s->ts = h->ts_ns;
	s->tid = h->tid;
	s->size = size;
	for (i = 0; i < NRING; i++)
		s->cons_at_call[i] = *fr[i].cons;
	if (nseen == inject_at)
		put(0, inject_ts, 99, sizeof(struct cap_hdr), false);
	return nseen++ == fail_at ? -EIO : 0;
}

static void setup(void)
{
	struct ring_map m[NRING];
	int i;

	nseen = 0;
	fail_at = inject_at = -1;
	for (i = 0; i < NRING; i++) {
		fr[i].page = (size_t)sysconf(_SC_PAGESIZE);
		fr[i].cons = calloc(1, fr[i].page);
		fr[i].prod_page = calloc(1, fr[i].page + 2 * SIZE);
		fr[i].prod = 0;
		cr_assert(fr[i].cons && fr[i].prod_page);
		m[i] = (struct ring_map){ .consumer = fr[i].cons,
					  .producer = fr[i].prod_page,
					  .size = SIZE, .fd = -1 };
	}
	cr_assert_eq(rings__open_maps(&rs, m, NRING, on_record, NULL), 0);
}

static void teardown(void)
{
	int i;

	rings__free(rs);
	for (i = 0; i < NRING; i++) {
		free(fr[i].cons);
		free(fr[i].prod_page);
	}
}

TestSuite(rings, .init = setup, .fini = teardown);

Test(rings, merges_by_time)
{
	static const uint64_t want[] = { 10, 15, 20, 25, 30, 40 };
	int i;

	put(0, 10, 1, 200, false);
	put(0, 20, 2, 48, false);
	put(0, 40, 3, 48, false);
	put(1, 15, 4, 48, false);
	put(1, 25, 5, 48, false);
	put(1, 30, 6, 48, false);
	cr_assert_eq(rings__consume(rs), 6);
	for (i = 0; i < 6; i++)
		cr_expect_eq(seen[i].ts, want[i], "record %d: ts %lu", i,
			     (unsigned long)seen[i].ts);
	/* Sizes as reserved, and every position published at the end. */
	cr_expect_eq(seen[0].size, 200);
	cr_expect_eq(*fr[0].cons, fr[0].prod);
	cr_expect_eq(*fr[1].cons, fr[1].prod);
	cr_assert_eq(rings__consume(rs), 0);
}

Test(rings, equal_times_take_the_first_ring_first)
{
	put(1, 7, 2, 48, false);
	put(0, 7, 1, 48, false);
	cr_assert_eq(rings__consume(rs), 2);
	cr_expect_eq(seen[0].tid, 1);
	cr_expect_eq(seen[1].tid, 2);
}

/*
 * A record still being written stops the reading, even of the other
 * ring, whose records may be later than it.
 */
Test(rings, busy_head_waits)
{
	unsigned long pos;

	pos = put(0, 10, 1, 48, true);
	put(1, 5, 2, 48, false);
	put(1, 20, 3, 48, false);
	cr_assert_eq(rings__consume(rs), 0);
	cr_expect_eq(*fr[1].cons, 0, "nothing read, nothing published");
	commit(0, pos, false);
	cr_assert_eq(rings__consume(rs), 3);
	cr_expect_eq(seen[0].ts, 5);
	cr_expect_eq(seen[1].ts, 10);
	cr_expect_eq(seen[2].ts, 20);
}

Test(rings, discarded_records_are_passed_over)
{
	unsigned long pos;

	pos = put(0, 10, 1, 48, true);
	commit(0, pos, true);
	put(0, 11, 2, 48, false);
	cr_assert_eq(rings__consume(rs), 1);
	cr_expect_eq(seen[0].tid, 2);
	cr_expect_eq(*fr[0].cons, fr[0].prod);
}

/* A record that wraps round the end of the data area comes out whole. */
Test(rings, wrapped_record)
{
	unsigned long start = SIZE - 64;
	struct ring_map m[NRING];
	int i;

	fr[0].prod = start;
	*fr[0].cons = start;
	rings__free(rs);
	for (i = 0; i < NRING; i++)
		m[i] = (struct ring_map){ .consumer = fr[i].cons,
					  .producer = fr[i].prod_page,
					  .size = SIZE, .fd = -1 };
	cr_assert_eq(rings__open_maps(&rs, m, NRING, on_record, NULL), 0);
	put(0, 123, 77, 200, false);
	cr_assert_eq(rings__consume(rs), 1);
	cr_expect_eq(seen[0].ts, 123);
	cr_expect_eq(seen[0].tid, 77);
	cr_expect_eq(*fr[0].cons, start + ((200 + 8 + 7) & ~7UL));
}

/*
 * A record that appears while the reader is busy with another is still
 * merged in: here an earlier one in ring 0 while ring 1 has later ones.
 */
Test(rings, records_arriving_during_the_read)
{
	put(1, 10, 1, 48, false);
	put(1, 30, 2, 48, false);
	inject_at = 0;
	inject_ts = 20;
	cr_assert_eq(rings__consume(rs), 3);
	cr_expect_eq(seen[0].ts, 10);
	cr_expect_eq(seen[1].ts, 20);
	cr_expect_eq(seen[1].tid, 99);
	cr_expect_eq(seen[2].ts, 30);
}

/*
 * The consumer position never passes a record before its callback
 * returned, and a callback's error stops the read with that record
 * counted as read.
 */
Test(rings, positions_and_errors)
{
	unsigned long second;

	put(0, 1, 1, 48, false);
	second = put(0, 2, 2, 48, false);
	put(0, 3, 3, 48, false);
	fail_at = 1;
	cr_assert_eq(rings__consume(rs), -EIO);
	cr_assert_eq(nseen, 2);
	cr_expect_leq(seen[0].cons_at_call[0], 0);
	cr_expect_leq(seen[1].cons_at_call[0], second);
	cr_expect_eq(*fr[0].cons, second + 56);
	fail_at = -1;
	cr_assert_eq(rings__consume(rs), 1);
	cr_expect_eq(seen[2].ts, 3);
}

Test(rings, bad_arguments)
{
	struct ring_map m = { .consumer = fr[0].cons,
			      .producer = fr[0].prod_page,
			      .size = 3000, .fd = -1 };
	struct rings *r2 = NULL;

	cr_expect_eq(rings__open_maps(&r2, &m, 1, on_record, NULL), -EINVAL);
	m.size = SIZE;
	cr_expect_eq(rings__open_maps(&r2, &m, 0, on_record, NULL), -EINVAL);
	cr_expect_eq(rings__open_maps(&r2, &m, RINGS_MAX + 1, on_record, NULL),
		     -EINVAL);
	cr_expect_eq(rings__open_maps(&r2, &m, 1, NULL, NULL), -EINVAL);
	cr_expect_null(r2);
	cr_expect_eq(rings__consume(NULL), -EINVAL);
	cr_expect_eq(rings__epoll_fd(NULL), -EINVAL);
	cr_expect_geq(rings__epoll_fd(rs), 0);
}
