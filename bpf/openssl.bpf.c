// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * openssl.bpf.c - plaintext of OpenSSL's SSL_write/SSL_read (+ _ex)
 * calls, and the end of its connections (SSL_free).  The connection id
 * is the SSL*.
 *
 * The programs carry no target: sensor/capture/openssl.c says where they
 * go, and attach.c attaches them by file and offset, once per OpenSSL
 * file (for all processes, or for the selected ones), with the function
 * (enum cap_fn) as the BPF cookie.  The entry probe keeps the arguments
 * in the thread's task storage; the return probe reads the result and
 * hands the bytes the call moved to emit_call() (capture.bpf.h).
 * Connections userspace has stopped parsing (skip_conns) are not
 * copied: the entry probe counts their calls and stores nothing.
 *
 * BoringSSL linked into stripped executables (sensor/capture/boringssl.c)
 * has the same SSL_write and SSL_read; its probes run boringssl_enter
 * and boringssl_return, the same code with its own stack id as a
 * constant, so that its calls count in its row and cost the same.
 * OpenSSL 3 linked statically without exports
 * (sensor/capture/openssl_static.c) is probed on ssl_read_internal,
 * which has SSL_read_ex's prototype (CAP_FN_READ_EX), and on
 * ssl_write_internal, whose size_t *written is its 5th argument
 * (CAP_FN_WRITE_INTERNAL): ossl3_enter and ossl3_return.
 *
 * Neither static stack has an SSL_free that can be found; both probe
 * SSL_new's return instead (CAP_FN_NEW, where it is found): the SSL* it
 * returns starts a connection, so whatever an earlier connection at that
 * address left (its skip_conns entry, its state in userspace) ends there,
 * with the record SSL_free would give.  C code does not move its stack:
 * a uretprobe is safe there.
 */
#include "capture.bpf.h"

/*
 * Entry of SSL_write, SSL_write_ex, SSL_read, SSL_read_ex, SSL_free,
 * ssl_write_internal or SSL_new (nothing to do before its return): the
 * cookie @fn (enum cap_fn) tells which; @outp is the size_t * of the
 * bytes moved (the _ex and _internal functions); @stack (a constant) is
 * the stack the file was matched as.
 */
static __always_inline int enter(struct pt_regs *ctx, __u64 fn, void *ssl,
				 void *buf, __u64 num, void *outp,
				 const __u32 stack)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tgid = t->tgid;
	struct call_args *p;
	struct call_args a = {
		.conn = (__u64)ssl,
		.buf = (__u64)buf,
		.dir = fn <= CAP_FN_WRITE_EX || fn == CAP_FN_WRITE_INTERNAL ?
		       CAP_DIR_WRITE : CAP_DIR_READ,
		.ex = fn == CAP_FN_WRITE_EX || fn == CAP_FN_READ_EX ||
		      fn == CAP_FN_WRITE_INTERNAL,
	};

	if (fn >= CAP_FN_NR || fn == CAP_FN_NEW || !tgid_traced(tgid))
		return 0;
	if (fn == CAP_FN_FREE) {
		emit_conn_end(tgid, a.conn);
		return 0;
	}
	p = call_slot(t, stack);
	if (!p)
		return 0;
	if (skipped(t, p, a.conn, stack))
		return 0;
	/*
	 * ssl_write_internal may write less than num (partial writes) and
	 * is called again for the rest: its bytes are taken at the return.
	 */
	if (a.dir == CAP_DIR_WRITE && targ_write_at_entry &&
	    fn != CAP_FN_WRITE_INTERNAL) {
		/* SSL_write's num is an int, SSL_write_ex's a size_t. */
		if (!a.ex)
			num = (__u64)(int)num;
		if ((__s64)num > 0)
			emit_call(t, &a, p, num, stack);
		return 0;
	}
	p->conn = a.conn;
	p->buf = a.buf;
	p->outp = a.ex ? (__u64)outp : 0;
	p->dir = a.dir;
	p->ex = a.ex;
	p->live = 1;
	return 0;
}

/*
 * Return of SSL_new (the cookie @fn: its SSL* @ret starts a connection),
 * or of a read or write (any other @fn): the entry's arguments say
 * which.
 */
static __always_inline int leave(__u64 fn, long ret, const __u32 stack)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct call_args *p;
	__u64 n = 0;

	if (fn == CAP_FN_NEW) {
		if (ret && tgid_traced(t->tgid))
			emit_conn_end(t->tgid, (__u64)ret);
		return 0;
	}
	p = bpf_task_storage_get(&calls, t, 0, 0);
	if (!p || !p->live)
		return 0;
	p->live = 0;
	if (p->ex) {
		if ((int)ret != 1 || !p->outp)
			return 0;
		if (bpf_probe_read_user(&n, sizeof(n), (void *)p->outp))
			return 0;
	} else {
		if ((int)ret <= 0)
			return 0;
		n = (__u32)(int)ret;
	}
	if (n)
		emit_call(t, p, p, n, stack);
	return 0;
}

/*
 * Attached per file either as one uprobe_multi link for all the offsets
 * or as one uprobe each.
 */
SEC("uprobe")
int BPF_KPROBE(ssl_enter, void *ssl, void *buf, __u64 num, void *outp)
{
	return enter(ctx, bpf_get_attach_cookie(ctx), ssl, buf, num, outp,
		     CAP_STACK_OPENSSL);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_return, long ret)
{
	/* OpenSSL's own SSL_new is not probed (its SSL_free is). */
	return leave(CAP_FN_READ, ret, CAP_STACK_OPENSSL);
}

SEC("uprobe")
int BPF_KPROBE(boringssl_enter, void *ssl, void *buf, __u64 num)
{
	return enter(ctx, bpf_get_attach_cookie(ctx), ssl, buf, num, NULL,
		     CAP_STACK_BORINGSSL);
}

SEC("uretprobe")
int BPF_KRETPROBE(boringssl_return, long ret)
{
	return leave(bpf_get_attach_cookie(ctx), ret, CAP_STACK_BORINGSSL);
}

SEC("uprobe")
int BPF_KPROBE(ossl3_enter, void *ssl, void *buf, __u64 num, void *arg4,
	       void *arg5)
{
	__u64 fn = bpf_get_attach_cookie(ctx);

	return enter(ctx, fn, ssl, buf, num,
		     fn == CAP_FN_WRITE_INTERNAL ? arg5 : arg4,
		     CAP_STACK_OPENSSL_STATIC);
}

SEC("uretprobe")
int BPF_KRETPROBE(ossl3_return, long ret)
{
	return leave(bpf_get_attach_cookie(ctx), ret,
		     CAP_STACK_OPENSSL_STATIC);
}
