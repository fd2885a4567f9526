// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * count.bpf.c - the floor of the cost-to-the-traced-program benchmark: a
 * uprobe and a uretprobe on SSL_write, SSL_write_ex, SSL_read and
 * SSL_read_ex that only count their hits (or GnuTLS's and Go's
 * counterparts, bench/count.c), and for rustls the socket-read BTF
 * tracepoint the sensor attaches with its rustls probes.  Whatever the
 * sensor costs above this is the sensor's own work; this much is the
 * trap itself.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "count.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int hit(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &slot);

	if (v)
		*v += 1;
	return 0;
}

SEC("uprobe")
int cnt_write_enter(void *ctx)
{
	return hit(COUNT_WRITE_ENTER);
}

SEC("uprobe")
int cnt_wex_enter(void *ctx)
{
	return hit(COUNT_WRITE_EX_ENTER);
}

SEC("uprobe")
int cnt_read_enter(void *ctx)
{
	return hit(COUNT_READ_ENTER);
}

SEC("uprobe")
int cnt_rex_enter(void *ctx)
{
	return hit(COUNT_READ_EX_ENTER);
}

SEC("uretprobe")
int cnt_write_ret(void *ctx)
{
	return hit(COUNT_WRITE_RETURN);
}

SEC("uretprobe")
int cnt_wex_ret(void *ctx)
{
	return hit(COUNT_WRITE_EX_RETURN);
}

SEC("uretprobe")
int cnt_read_ret(void *ctx)
{
	return hit(COUNT_READ_RETURN);
}

SEC("uretprobe")
int cnt_rex_ret(void *ctx)
{
	return hit(COUNT_READ_EX_RETURN);
}

/* Go: a uprobe on a return instruction of (*tls.Conn).Read, no uretprobe. */
SEC("uprobe")
int cnt_read_site(void *ctx)
{
	return hit(COUNT_READ_RETURN);
}

/*
 * rustls: the sock_recv_length tracepoint, which the sensor's rustls
 * capture needs at every socket read (bpf/rustls.bpf.c); count.c loads
 * it with --stack rustls only, on a kernel that has it.
 */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(cnt_sock_recv, struct sock *sk, int ret, int flags)
{
	return hit(COUNT_SOCK_RECV);
}
