// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gotls.bpf.c - plaintext of Go's crypto/tls: (*tls.Conn).Write and
 * (*tls.Conn).Read, and the end of a connection at (*tls.Conn).Close.
 * The connection id is the *tls.Conn (Go's heap objects do not move).
 *
 * sensor/capture/gotls.c finds the functions in the executable's
 * .gopclntab and Read's return instructions with a decoder; go_enter
 * runs at the entries and go_return at every return instruction of
 * Read, both as plain uprobes with the function (enum cap_go_fn) as the
 * BPF cookie.  A write is emitted at its entry, with b: its bytes then
 * reach the ring buffer before the response that another goroutine
 * (net/http's read loop) may read as soon as they are sent.  No uretprobe: it would rewrite the return address on the
 * goroutine's stack, and Go copies stacks when they grow or shrink and
 * walks them for the garbage collector, which then finds a return
 * address outside Go's text and aborts ("unexpected return pc").
 *
 * Arguments and results follow Go's ABIInternal on x86-64 (Go >= 1.17,
 * src/cmd/compile/abi-internal.md): the receiver in RAX, the slice b in
 * RBX (pointer), RCX (length), RDI (capacity); results n in RAX, err in
 * RBX and RCX; the current goroutine's g in R14.  A goroutine may block
 * in Read and resume on another thread, so the call in progress is kept
 * per goroutine (tgid, g), not per thread.  arm64 (not built): receiver
 * and arguments in R0.., results in R0.., g in R28, returns are RET.
 */
#include "capture.bpf.h"

#if defined(__TARGET_ARCH_x86)

/* A goroutine inside Write or Read: its process and its g. */
struct go_key {
	__u32 tgid;
	__u32 _pad;
	__u64 g;
};

struct go_call {
	__u64 conn;	/* *tls.Conn */
	__u64 buf;	/* b's data */
	__u32 dir;	/* enum cap_dir */
	__u32 _pad;
};

/*
 * Calls in progress.  An entry is left behind only when a goroutine
 * leaves Write or Read without returning (a panic unwinding it); the
 * LRU drops it eventually, and the goroutine's next entry replaces it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct go_key);
	__type(value, struct go_call);
} go_calls SEC(".maps");

/* Entry of (*Conn).Write, (*Conn).Read or (*Conn).Close. */
SEC("uprobe")
int go_enter(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 fn = bpf_get_attach_cookie(ctx);
	struct go_key k = { .tgid = t->tgid, .g = ctx->r14 };
	struct call_args a = {
		.conn = ctx->ax,
		.buf = ctx->bx,
		.dir = fn == CAP_GO_WRITE ? CAP_DIR_WRITE : CAP_DIR_READ,
	};
	struct go_call c;
	struct call_args *p;
	__u64 len = ctx->cx;

	if (!tgid_traced(k.tgid) || !a.conn || fn > CAP_GO_CLOSE)
		return 0;
	if (fn == CAP_GO_CLOSE) {
		emit_conn_end(k.tgid, a.conn);
		return 0;
	}
	p = call_slot(t, CAP_STACK_GO);
	if (!p || skipped(t, p, a.conn, CAP_STACK_GO))
		return 0;
	if (a.dir == CAP_DIR_WRITE) {
		if ((__s64)len > 0)
			emit_call(t, &a, p, len, CAP_STACK_GO);
		return 0;
	}
	c.conn = a.conn;
	c.buf = a.buf;
	c.dir = a.dir;
	c._pad = 0;
	bpf_map_update_elem(&go_calls, &k, &c, BPF_ANY);
	return 0;
}

/*
 * A call entered before its probes were attached (a goroutine that was
 * blocked in Read when the sensor started): when the function keeps its
 * receiver and b's data pointer in their spill slots (CAP_GO_F_SPILLED,
 * checked by decoding it), they are read there.  Fills @a; false when
 * the call is not to be taken.
 */
static __always_inline bool from_spill(struct pt_regs *ctx,
				       struct task_struct *t, __u64 cookie,
				       struct call_args *a)
{
	__u64 slots[2];
	struct call_args *p;

	if (!(cookie & CAP_GO_F_SPILLED) || !tgid_traced(t->tgid))
		return false;
	if (bpf_probe_read_user(slots, sizeof(slots), (void *)(ctx->sp + 8)))
		return false;
	a->conn = slots[0];
	a->buf = slots[1];
	p = call_slot(t, CAP_STACK_GO);
	/*
	 * Not counted here: a skipped Read was counted at its entry, which
	 * kept nothing for this return to find.
	 */
	return a->conn && p && !skip_cached(t, p, a->conn);
}

/* A return instruction of (*Conn).Read: n is in RAX. */
SEC("uprobe")
int go_return(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 fn = cookie & ~(__u64)CAP_GO_F_SPILLED;
	struct go_key k = { .tgid = t->tgid, .g = ctx->r14 };
	__s64 n = (__s64)ctx->ax;
	struct call_args a = {};
	struct go_call *c;

	if (fn != CAP_GO_READ_RET)
		return 0;
	a.dir = CAP_DIR_READ;
	c = bpf_map_lookup_elem(&go_calls, &k);
	if (c && c->dir == a.dir) {
		a.conn = c->conn;
		a.buf = c->buf;
		bpf_map_delete_elem(&go_calls, &k);
	} else if (n <= 0 || !from_spill(ctx, t, cookie, &a)) {
		return 0;
	}
	if (n > 0)
		emit_call(t, &a, bpf_task_storage_get(&calls, t, 0, 0), n,
			  CAP_STACK_GO);
	return 0;
}

#endif /* __TARGET_ARCH_x86 */
