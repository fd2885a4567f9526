// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gnutls.bpf.c - plaintext of GnuTLS's record calls that move
 * application data (gnutls_record_send, _send2, _send_range,
 * gnutls_record_recv, _recv_seq), and the end of its sessions
 * (gnutls_deinit).  The connection id is the gnutls_session_t.
 *
 * As for OpenSSL (openssl.bpf.c), the programs carry no target:
 * sensor/capture/gnutls.c names the functions, attach.c attaches them
 * per libgnutls file with the function (enum cap_gnutls_fn) as the BPF
 * cookie.  The entry probe keeps the arguments in the thread's task
 * storage; the return probe reads the byte count the call returns
 * (ssize_t: > 0 bytes moved, 0 end of data, < 0 a GNUTLS_E_* error) and
 * hands the bytes to emit_call() (capture.bpf.h).
 *
 * gnutls_record_send() is gnutls_record_send2(session, data, size, 0, 0)
 * (GnuTLS >= 3.6.3; a tail jump through the PLT in Debian's build, a
 * plain call or inlined in others).  Both are probed, so that a build
 * where send2 is inlined, or a GnuTLS older than send2, is still seen;
 * the inner entry that follows the outer one with the same session,
 * buffer and size is recognised here and ignored, so the call is
 * emitted and counted once.  Its return probe runs after the outer
 * one's on the same return (chained uretprobes) and finds nothing live.
 */
#include "capture.bpf.h"

/*
 * call_args.ex of a thread whose last entry was gnutls_record_send():
 * its conn, buf and outp (the size) say which call send2 must match.
 * Only this file's programs read ex for GnuTLS calls.
 */
#define GNUTLS_OUTER_SEND	2

/*
 * Entry of one of the functions of enum cap_gnutls_fn, told by the
 * cookie.  gnutls_record_send_range's fourth argument (the range) and
 * gnutls_record_recv_seq's (the sequence number out) do not change
 * where the data is.
 */
SEC("uprobe")
int BPF_KPROBE(gnutls_enter, void *session, void *buf, __u64 size)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 fn = bpf_get_attach_cookie(ctx);
	__u32 tgid = t->tgid;
	struct call_args *p;
	struct call_args a = {
		.conn = (__u64)session,
		.buf = (__u64)buf,
		.dir = fn <= CAP_GNUTLS_SEND_RANGE ? CAP_DIR_WRITE
						   : CAP_DIR_READ,
	};

	if (fn >= CAP_GNUTLS_NR || !tgid_traced(tgid))
		return 0;
	if (fn == CAP_GNUTLS_DEINIT) {
		emit_conn_end(tgid, a.conn);
		return 0;
	}
	p = call_slot(t, CAP_STACK_GNUTLS);
	if (!p)
		return 0;
	if (fn == CAP_GNUTLS_SEND2 && p->ex == GNUTLS_OUTER_SEND &&
	    p->conn == a.conn && p->buf == a.buf && p->outp == size) {
		/* gnutls_record_send()'s own call: the outer entry has it. */
		p->ex = 0;
		return 0;
	}
	/*
	 * What the return probe and the nested send2 entry read, stored
	 * before the skip test so that a skipped send is recognised too.
	 */
	p->conn = a.conn;
	p->buf = a.buf;
	p->outp = size;
	p->dir = a.dir;
	p->ex = fn == CAP_GNUTLS_SEND ? GNUTLS_OUTER_SEND : 0;
	p->live = 0;
	if (skipped(t, p, a.conn, CAP_STACK_GNUTLS))
		return 0;
	if (a.dir == CAP_DIR_WRITE && targ_write_at_entry) {
		if ((__s64)size > 0 && buf)
			emit_call(t, &a, p, size, CAP_STACK_GNUTLS);
		return 0;
	}
	p->live = 1;
	return 0;
}

/* Return of any of the five: the entry's arguments say which. */
SEC("uretprobe")
int BPF_KRETPROBE(gnutls_return, long ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct cap_stats *st;
	struct call_args *p;

	p = bpf_task_storage_get(&calls, t, 0, 0);
	if (!p || !p->live)
		return 0;
	p->live = 0;
	if (ret <= 0)
		return 0;
	if (!p->buf) {
		/*
		 * A send retried after GNUTLS_E_AGAIN with (NULL, 0), as
		 * the API allows: the bytes sent are in the first call's
		 * buffer, which this call does not name.
		 */
		st = stats(CAP_STACK_GNUTLS);
		if (st)
			__sync_fetch_and_add(&st->missed_calls, 1);
		return 0;
	}
	emit_call(t, p, p, ret, CAP_STACK_GNUTLS);
	return 0;
}
