// SPDX-License-Identifier: MIT
/*
 * rings.c - the capture object's BPF ring buffers read as one stream in
 * time order (rings.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "capture_abi.h"
#include "capture/rings.h"

enum head_state {
	HEAD_EMPTY,
	HEAD_BUSY,	/* reserved, not yet committed */
	HEAD_READY,
};

struct head {
	void *data;
	uint32_t len;
	uint64_t ts;
};

struct ring {
	unsigned long *cons_pos;	/* the consumer page's first word */
	const unsigned long *prod_pos;	/* the producer page's first word */
	const unsigned char *data;	/* the data area, mapped twice */
	unsigned long mask;		/* its size - 1 */
	unsigned long pos;		/* the next record to read */
	unsigned long prod;		/* the producer position last loaded */
	unsigned long published;	/* the consumer position last stored */
	size_t map_len;			/* of the producer mapping; 0: not ours */
	int fd;
};

struct rings {
	rings_record_fn fn;
	void *ctx;
	int n;
	int epfd;
	size_t page;
	struct ring ring[RINGS_MAX];
};

/* Bytes a record of length @len takes in the ring: header and padding. */
static unsigned long rec_span(uint32_t len)
{
	return ((unsigned long)len + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
}

/*
 * The head of @r in @h: the producer position is loaded again only when
 * every record up to the last one loaded has been read, so a ring found
 * empty was looked at now.  Discarded records are passed over.
 */
static enum head_state peek(struct ring *r, struct head *h)
{
	const uint32_t *hdr;
	uint32_t len;

	for (;;) {
		if (r->pos >= r->prod)
			r->prod = __atomic_load_n(r->prod_pos, __ATOMIC_ACQUIRE);
		if (r->pos >= r->prod)
			return HEAD_EMPTY;
		hdr = (const uint32_t *)(r->data + (r->pos & r->mask));
		len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			return HEAD_BUSY;
		if (len & BPF_RINGBUF_DISCARD_BIT) {
			r->pos += rec_span(len & ~BPF_RINGBUF_DISCARD_BIT);
			continue;
		}
		h->data = (void *)(hdr + 2);
		h->len = len;
		h->ts = 0;
		if (len >= sizeof(struct cap_hdr))
			memcpy(&h->ts, (const unsigned char *)h->data +
			       offsetof(struct cap_hdr, ts_ns), sizeof(h->ts));
		return HEAD_READY;
	}
}

static void publish(struct ring *r)
{
	if (r->pos != r->published) {
		__atomic_store_n(r->cons_pos, r->pos, __ATOMIC_RELEASE);
		r->published = r->pos;
	}
}

static void publish_all(struct rings *rs)
{
	int i;

	for (i = 0; i < rs->n; i++)
		publish(&rs->ring[i]);
}

long rings__consume(struct rings *rs)
{
	enum head_state st[RINGS_MAX] = { HEAD_EMPTY };
	struct head h[RINGS_MAX] = { 0 };
	bool ready, empty;
	struct ring *r;
	long cnt = 0;
	int i, best, err;

	if (!rs)
		return -EINVAL;
	for (;;) {
		ready = empty = false;
		for (i = 0; i < rs->n; i++) {
			st[i] = peek(&rs->ring[i], &h[i]);
			if (st[i] == HEAD_BUSY)
				goto out;
			ready |= st[i] == HEAD_READY;
			empty |= st[i] == HEAD_EMPTY;
		}
		if (!ready)
			break;
		/*
		 * A committed record was seen: an earlier record of its
		 * connection in a ring looked at before it is visible now.
		 */
		for (i = 0; empty && i < rs->n; i++) {
			if (st[i] != HEAD_EMPTY)
				continue;
			st[i] = peek(&rs->ring[i], &h[i]);
			if (st[i] == HEAD_BUSY)
				goto out;
		}
		best = -1;
		for (i = 0; i < rs->n; i++)
			if (st[i] == HEAD_READY &&
			    (best < 0 || h[i].ts < h[best].ts))
				best = i;
		if (best < 0)
			break;
		r = &rs->ring[best];
		err = rs->fn(rs->ctx, h[best].data, h[best].len);
		r->pos += rec_span(h[best].len);
		cnt++;
		if (err < 0) {
			publish_all(rs);
			return err;
		}
		if (r->pos - r->published > r->mask / 8)
			publish(r);
	}
out:
	publish_all(rs);
	return cnt;
}

static int add_ring(struct rings *rs, const struct ring_map *m)
{
	struct ring *r = &rs->ring[rs->n];
	struct epoll_event ev = { .events = EPOLLIN };

	if (!m->size || (m->size & (m->size - 1)))
		return -EINVAL;
	r->cons_pos = m->consumer;
	r->prod_pos = m->producer;
	r->data = (const unsigned char *)m->producer + rs->page;
	r->mask = m->size - 1;
	r->pos = r->published = __atomic_load_n(r->cons_pos, __ATOMIC_ACQUIRE);
	r->prod = r->pos;
	r->fd = m->fd;
	if (m->fd >= 0) {
		ev.data.u32 = (uint32_t)rs->n;
		if (epoll_ctl(rs->epfd, EPOLL_CTL_ADD, m->fd, &ev))
			return -errno;
	}
	rs->n++;
	return 0;
}

/* A reader of @n rings, none added yet: 0 with *@out set, or -errno. */
static int rings_new(struct rings **out, int n, rings_record_fn fn,
		     void *ctx)
{
	struct rings *rs;

	if (n < 1 || n > RINGS_MAX || !fn)
		return -EINVAL;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->fn = fn;
	rs->ctx = ctx;
	rs->page = (size_t)sysconf(_SC_PAGESIZE);
	rs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rs->epfd < 0) {
		free(rs);
		return -ENOMEM;
	}
	*out = rs;
	return 0;
}

int rings__open_maps(struct rings **out, const struct ring_map *maps,
		     int n, rings_record_fn fn, void *ctx)
{
	struct rings *rs;
	int i, err;

	err = rings_new(&rs, n, fn, ctx);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		err = add_ring(rs, &maps[i]);
		if (err) {
			rings__free(rs);
			return err;
		}
	}
	*out = rs;
	return 0;
}

int rings__open(struct rings **out, const int *fds, const size_t *sizes,
		int n, rings_record_fn fn, void *ctx)
{
	struct ring_map m;
	struct rings *rs;
	size_t len;
	void *p;
	int i, err;

	err = rings_new(&rs, n, fn, ctx);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (!sizes[i] || (sizes[i] & (sizes[i] - 1))) {
			err = -EINVAL;
			goto fail;
		}
		m = (struct ring_map){ .size = sizes[i], .fd = fds[i] };
		m.consumer = mmap(NULL, rs->page, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fds[i], 0);
		if (m.consumer == MAP_FAILED) {
			err = -errno;
			goto fail;
		}
		len = rs->page + 2 * sizes[i];
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fds[i],
			 (off_t)rs->page);
		if (p == MAP_FAILED) {
			err = -errno;
			munmap(m.consumer, rs->page);
			goto fail;
		}
		m.producer = p;
		err = add_ring(rs, &m);
		if (err) {
			munmap(m.consumer, rs->page);
			munmap(p, len);
			goto fail;
		}
		rs->ring[i].map_len = len;
	}
	*out = rs;
	return 0;

fail:
	rings__free(rs);
	return err;
}

int rings__epoll_fd(const struct rings *rs)
{
	return rs ? rs->epfd : -EINVAL;
}

void rings__free(struct rings *rs)
{
	struct ring *r;
	int i;

	if (!rs)
		return;
	for (i = 0; i < rs->n; i++) {
		r = &rs->ring[i];
		if (!r->map_len)
			continue;
		munmap(r->cons_pos, rs->page);
		munmap((void *)r->prod_pos, r->map_len);
	}
	close(rs->epfd);
	free(rs);
}
