// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ringbench.bpf.c - the cost of one ring-buffer record as the sensor
 * writes it (bpf/capture.bpf.h, put_chunk()): reserve a size class,
 * write an 88-byte header, copy the call's bytes from user memory,
 * submit with the sensor's wakeup rule.  A uprobe on ringbench's
 * target() times that work alone with bpf_ktime_get_ns().
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define HDR	88

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* set by userspace */
} rb SEC(".maps");

const volatile __u64 wake_bytes = 1 << 18;
__u64 sum_ns, records, lost;

struct rec {
	__u64 hdr[HDR / 8];
	__u8 data[16384];
};

static __always_inline void put(__u64 buf, __u32 len, const __u32 cls)
{
	struct rec *d = bpf_ringbuf_reserve(&rb, HDR + cls, 0);
	int i;

	if (!d) {
		lost++;
		return;
	}
	for (i = 0; i < HDR / 8; i++)
		d->hdr[i] = i;
	barrier_var(len);
	len = ((len - 1) & (cls - 1)) + 1;
	bpf_probe_read_user(d->data, len, (void *)buf);
	bpf_ringbuf_submit(d, bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >
			   wake_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

SEC("uprobe")
int BPF_KPROBE(emit, void *buf, __u64 len)
{
	__u64 t0 = bpf_ktime_get_ns();

	if (!len || len > 16384)
		return 0;
	if (len <= 512)
		put((__u64)buf, len, 512);
	else if (len <= 2048)
		put((__u64)buf, len, 2048);
	else if (len <= 8192)
		put((__u64)buf, len, 8192);
	else
		put((__u64)buf, len, 16384);
	__sync_fetch_and_add(&sum_ns, bpf_ktime_get_ns() - t0);
	__sync_fetch_and_add(&records, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
