// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ringbench.bpf.c - the cost of one ring-buffer record as the sensor
 * writes it (bpf/capture.bpf.h, put_chunk()): reserve a size class,
 * write the header, copy the call's bytes from user memory, submit with
 * the sensor's wakeup rule.  A uprobe on ringbench's target() times that
 * work alone with bpf_ktime_get_ns(), and the copy within it.
 *
 * The layout is set by userspace before load: hdr_bytes is what comes
 * before the payload in the record (the sensor's CAP_DATA_HDR_SIZE), and
 * with round64 every reservation is padded so that the ring's 8-byte
 * header plus the record is a multiple of 64: every record then starts
 * on a cache line and the payload sits at (8 + hdr_bytes) mod 64 in all
 * of them.  Without it the payload's alignment follows the sizes of the
 * records before it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define HDR_MAX	192

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* set by userspace */
} rb SEC(".maps");

const volatile __u64 wake_bytes = 1 << 18;
const volatile __u32 hdr_bytes = 88;	/* a multiple of 8, <= HDR_MAX */
const volatile bool round64;
/*
 * The stride of the stores before the copy (0: none): the sensor's is
 * 4096, one per page.
 */
const volatile __u32 touch = 4096;
/* Read a byte of each page of the source first (its TLB misses too). */
const volatile bool src_touch;
/*
 * Read the ring's positions and size (bpf_ringbuf_query()) before the
 * reservation, so that the misses on their pages can overlap.
 */
const volatile bool prequery;
/*
 * Write each record to a perf buffer instead (bpf_perf_event_output()):
 * its pages are the kernel's direct map, in 2 MiB pages here, not a
 * vmap() of 4 KiB ones.  The helper copies from BPF memory only, so the
 * call's bytes go first into the thread's task storage (kmalloc'd, also
 * the direct map); a sample holds less than 64 KiB, so a call of more
 * than 32 KiB is two samples.
 */
const volatile bool use_perf;
/*
 * Copy the bytes into a staging slot instead, and write only a small
 * ring record naming it: the slots are the values of a hash map without
 * preallocation, kmalloc()ed one by one (the direct map, not a vmap()),
 * taken from and given back to a queue of free slot numbers; the reader
 * copies a slot out with a map lookup and gives it back.
 */
const volatile bool use_stage;
/* Wake the reader once more slots than this are in use. */
const volatile __u64 stage_wake = 1;
__u64 query_sink, sum_ns, copy_ns, records, lost;
/* Slots taken and not yet given back (the reader subtracts). */
__u64 stage_used;

/* A slot's bytes: its element (header, key, value) fits in 64 KiB. */
#define SLOT_BYTES	(65536 - 128)

struct slot {
	__u8 b[SLOT_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);		/* set by userspace */
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 1);		/* set by userspace */
	__type(value, __u32);
} free_slots SEC(".maps");

#define STAGE_MAX	(HDR_MAX + 32768)

struct stage {
	__u8 b[STAGE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stage);
} stages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

/* The record's header: hdr_bytes of filler before the payload at @d. */
static __always_inline void fill_hdr(__u8 *d)
{
	__u64 *h = (__u64 *)d;
	__u32 hdr = hdr_bytes, i;

	for (i = 0; i < HDR_MAX / 8; i++) {
		if (i >= hdr / 8)
			break;
		h[i] = i;
	}
}

/* The call's @len bytes at user @buf into @dst, timed into copy_ns. */
static __always_inline void copy_timed(void *dst, __u32 len, __u64 buf)
{
	__u64 t = bpf_ktime_get_ns();

	bpf_probe_read_user(dst, len, (void *)buf);
	__sync_fetch_and_add(&copy_ns, bpf_ktime_get_ns() - t);
}

/* One sample of @len (1..32768) bytes from @buf, as put() writes a record. */
static __always_inline void put_perf(void *ctx, __u64 buf, __u32 len)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 hdr = hdr_bytes;
	struct stage *s;

	s = bpf_task_storage_get(&stages, task, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s) {
		lost++;
		return;
	}
	fill_hdr(s->b);
	barrier_var(len);
	len = ((len - 1) & 32767) + 1;
	copy_timed(s->b + hdr, len, buf);
	if (bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, s->b, hdr + len))
		lost++;
}

/* @len bytes from @buf into a free slot, and a record of its number. */
static __always_inline void put_stage(__u64 buf, __u32 len)
{
	__u32 idx, hdr = hdr_bytes;
	struct slot *sl;
	__u8 *d;

	if (bpf_map_pop_elem(&free_slots, &idx)) {
		lost++;
		return;
	}
	sl = bpf_map_lookup_elem(&slots, &idx);
	d = bpf_ringbuf_reserve(&rb, hdr + 8, 0);
	if (!sl || !d) {
		if (d)
			bpf_ringbuf_discard(d, 0);
		bpf_map_push_elem(&free_slots, &idx, 0);
		lost++;
		return;
	}
	fill_hdr(d);
	barrier_var(len);
	len = ((len - 1) & 65535) + 1;
	if (len > SLOT_BYTES)
		len = SLOT_BYTES;
	copy_timed(sl->b, len, buf);
	/* the slot and its length where the header begins */
	((__u32 *)d)[0] = idx;
	((__u32 *)d)[1] = len;
	bpf_ringbuf_submit(d, __sync_fetch_and_add(&stage_used, 1) >=
			   stage_wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void put(__u64 buf, __u32 len, const __u32 cls)
{
	__u32 hdr = hdr_bytes, i;
	__u64 size = hdr + cls;
	__u8 *d;

	if (round64)
		size = ((size + 8 + 63) & ~63ULL) - 8;
	if (prequery)
		query_sink += bpf_ringbuf_query(&rb, BPF_RB_PROD_POS) +
			   bpf_ringbuf_query(&rb, BPF_RB_CONS_POS) +
			   bpf_ringbuf_query(&rb, BPF_RB_RING_SIZE);
	d = bpf_ringbuf_reserve(&rb, size, 0);
	if (!d) {
		lost++;
		return;
	}
	fill_hdr(d);
	barrier_var(len);
	len = ((len - 1) & (cls - 1)) + 1;
	/* touch_pages() of bpf/capture.bpf.h, with a stride of @touch */
	for (i = 1; touch && cls > 4096 && i <= 64; i++) {
		if (i * touch > cls)
			break;
		d[hdr + ((i * touch - 1) & (cls - 1))] = 0;
	}
	for (i = 1; src_touch && i <= cls / 4096; i++) {
		__u8 b;

		if (i * 4096 > len)
			break;
		bpf_probe_read_user(&b, 1, (void *)(buf + i * 4096 - 1));
	}
	copy_timed(d + hdr, len, buf);
	bpf_ringbuf_submit(d, bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >
			   wake_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

SEC("uprobe")
int BPF_KPROBE(emit, void *buf, __u64 len)
{
	__u64 t0 = bpf_ktime_get_ns();

	if (!len || len > 65536)
		return 0;
	if (use_perf) {
		put_perf(ctx, (__u64)buf, len > 32768 ? 32768 : len);
		if (len > 32768)
			put_perf(ctx, (__u64)buf + 32768, len - 32768);
		__sync_fetch_and_add(&sum_ns, bpf_ktime_get_ns() - t0);
		__sync_fetch_and_add(&records, 1);
		return 0;
	}
	if (use_stage && len > 2048) {
		put_stage((__u64)buf, len);
		__sync_fetch_and_add(&sum_ns, bpf_ktime_get_ns() - t0);
		__sync_fetch_and_add(&records, 1);
		return 0;
	}
	if (len <= 512)
		put((__u64)buf, len, 512);
	else if (len <= 2048)
		put((__u64)buf, len, 2048);
	else if (len <= 8192)
		put((__u64)buf, len, 8192);
	else if (len <= 16384)
		put((__u64)buf, len, 16384);
	else if (len <= 32768)
		put((__u64)buf, len, 32768);
	else
		put((__u64)buf, len, 65536);
	__sync_fetch_and_add(&sum_ns, bpf_ktime_get_ns() - t0);
	__sync_fetch_and_add(&records, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
