// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * capture.bpf.c - plaintext of OpenSSL's SSL_write/SSL_read (+ _ex) calls,
 * plus the process events userspace needs to keep its uprobes current.
 *
 * The uprobe programs carry no target: sensor/capture/attach.c attaches them by
 * file and offset, once per OpenSSL file (for all processes, or for the
 * selected ones), with the function as the BPF cookie.  The entry probe
 * keeps the arguments in the thread's task storage; the return probe
 * reads the result and copies the bytes the call moved straight into
 * ring-buffer records of at most CAP_CHUNK_MAX bytes (struct cap_data,
 * bpf/capture_abi.h), reserved in size classes so small calls take
 * little ring space.
 *
 * Connections userspace has stopped parsing (skip_conns) are not copied:
 * the entry probe counts their calls and stores nothing.
 *
 * Wakeups are batched: records wake the reader only once more than
 * targ_wakeup_bytes wait in the ring, and then at most once per
 * targ_wakeup_gap_ns per CPU; userspace also polls on a timer.
 * Process events (exec, dlopen) wake it at once, because they ask
 * userspace to attach to files that a new program is about to use.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "capture_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace between open and load (skel->rodata). */
const volatile __u32 targ_max_call_bytes = 262144;
const volatile __u64 targ_wakeup_bytes = 2 << 20;
const volatile __u32 targ_self_tgid = 0;
/*
 * capture.write_probe: entry.  Writes are emitted at their entry with the
 * length asked for, and userspace attaches no return probe to them: one
 * hit per write instead of two.
 */
const volatile bool targ_write_at_entry = false;
/* Targeted mode: only tgids in `selected` are captured. */
const volatile bool targ_targeted = false;
/* Least time between two forced wakeups from one CPU, in ns. */
const volatile __u64 targ_wakeup_gap_ns = 1000000;

/* Arguments of an SSL call between its entry and its return. */
struct call_args {
	__u64 ssl;
	__u64 buf;
	__u64 outp;	/* _ex: size_t *written / *readbytes; else 0 */
	__u8 dir;	/* enum cap_dir */
	__u8 ex;	/* 1 for SSL_write_ex/SSL_read_ex */
	__u8 live;	/* set at entry, cleared by the return */
	__u8 noted;	/* this thread's tgid is in traced_tgids */
	/* skip_conns, as last looked up by this thread: see skipped() */
	__u8 skip_next;		/* the slot to replace next */
	__u8 skip[2];
	__u8 _pad;
	__u32 skip_gen;
	__u64 skip_ssl[2];	/* 0: empty */
};

/*
 * The call in progress of each thread, in task storage: a hash map keyed
 * by pid_tgid cost 2-3 times as much per hit (update at entry, lookup
 * and delete at return), and this storage is freed with the thread.
 * When one hooked function calls another (LibreSSL's SSL_write_ex calls
 * SSL_write), the inner entry overwrites the outer one and the call is
 * emitted only once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_args);
} calls SEC(".maps");

/* Userspace sets the size (bpf_map__set_max_entries) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cap_stats);
} cap_stats SEC(".maps");

/* Per-CPU state: see next_call_id() and wakeup_flag(). */
struct cpu_state {
	__u64 last_call_id;
	__u64 last_wakeup_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpu_state SEC(".maps");

/* Processes that made a captured call: their exit is reported. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

/*
 * Connections userspace has stopped looking at for good (the server side
 * of HTTP, a protocol other than HTTP/1.x, a switch of protocols after
 * a 101): their calls are counted in skipped_calls and not copied.  The
 * value is the CLOCK_MONOTONIC time of the record userspace decided on;
 * an entry older than its process's last exec (exec_ts) belongs to the
 * old image and is dropped.  SSL_free() deletes an entry; the LRU drops
 * the oldest when full, and the calls of that connection are copied
 * again (userspace tells the kernel again).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CAP_SKIP_MAX);
	__type(key, struct cap_conn_key);
	__type(value, __u64);
} skip_conns SEC(".maps");

/*
 * Changes whenever an entry of skip_conns may have appeared or gone: 0
 * until userspace adds the first (no lookups until then); userspace adds
 * 1 after each update, SSL_free() adds 1 here.  A thread's cached answer
 * (struct call_args) is good while the generation is unchanged; exec
 * clears the exec'ing thread's.
 */
__u32 skip_gen;

/* CLOCK_MONOTONIC ns of a process's last exec, on its group leader. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} exec_ts SEC(".maps");

/*
 * Targeted mode: the processes userspace attached for; their exit and
 * forks are reported.  Their probes are detached asynchronously (each
 * close waits for a grace period), so a process that leaves the
 * selection (an exec) is dropped from here at once and its calls are
 * ignored meanwhile.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} selected SEC(".maps");

/* State of one call while bpf_loop() emits its chunks. */
struct emit_ctx {
	__u64 buf;	/* user address of the call's buffer */
	__u32 copy;	/* bytes to copy: min(call_len, cap) */
	__u32 truncated;
	struct cap_stats *st;
	/* The first CAP_DATA_HDR_SIZE bytes of every chunk's cap_data. */
	__u64 hdr[CAP_DATA_HDR_SIZE / 8];
};

static __always_inline struct cap_stats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cap_stats, &zero);
}

static __always_inline struct cpu_state *cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_state, &zero);
}

/*
 * Records do not wake the reader (it also polls on a timer) until more
 * than targ_wakeup_bytes wait; then at most one forced wakeup per CPU
 * per targ_wakeup_gap_ns, because a wakeup (an irq_work, an IPI in a
 * VM) costs the traced thread microseconds.  Called after the record
 * was reserved, so the query counts it.
 */
static __always_inline __u64 wakeup_flag(void)
{
	struct cpu_state *cs;
	__u64 now;

	if (bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) <= targ_wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	cs = cpu();
	if (!cs)
		return BPF_RB_FORCE_WAKEUP;
	now = bpf_ktime_get_ns();
	if (now - cs->last_wakeup_ns < targ_wakeup_gap_ns)
		return BPF_RB_NO_WAKEUP;
	cs->last_wakeup_ns = now;
	return BPF_RB_FORCE_WAKEUP;
}

/*
 * Fills @h from the current task @t: read through its BTF pointer rather
 * than with bpf_get_current_{pid_tgid,uid_gid,comm}(), whose calls cost
 * a traced call about 100 ns more in all.
 */
static __always_inline void fill_hdr(struct cap_hdr *h, __u32 kind,
				     struct task_struct *t)
{
	const struct cred *cred = t->cred;
	__u64 *comm = (__u64 *)t->comm;

	h->kind = kind;
	h->tgid = t->tgid;
	h->tid = t->pid;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->_pad = 0;
	h->ts_ns = bpf_ktime_get_ns();
	((__u64 *)h->comm)[0] = comm[0];
	((__u64 *)h->comm)[1] = comm[1];
}

/*
 * Unique per call per boot: (microseconds since boot, made strictly
 * increasing per CPU) << 12 | cpu.  A restarted sensor starts again from
 * the clock, which no earlier run can have overtaken: a call costs far
 * more than a microsecond of probe time.
 */
static __always_inline __u64 next_call_id(__u64 ts_ns)
{
	__u64 now = ts_ns >> 10;
	struct cpu_state *cs = cpu();

	if (!cs)
		return 0;
	if (now <= cs->last_call_id)
		now = cs->last_call_id + 1;
	cs->last_call_id = now;
	return now << 12 | (bpf_get_smp_processor_id() & 0xfff);
}

/*
 * Reserves a record of size class @cls (a constant) on the ring and
 * copies @len <= @cls bytes of the call straight into it: one copy, and
 * a preempted program cannot overwrite another's staging buffer.
 */
static __always_inline int put_chunk(const struct emit_ctx *ec, __u32 off,
				      __u32 len, __u32 flags, const __u32 cls)
{
	struct cap_stats *st = ec->st;
	struct cap_data *d;
	long err;

	d = bpf_ringbuf_reserve(&rb, CAP_DATA_HDR_SIZE + cls, 0);
	if (!d) {
		__sync_fetch_and_add(&st->lost_records, 1);
		__sync_fetch_and_add(&st->lost_bytes, len);
		return -1;
	}
	__builtin_memcpy(d, ec->hdr, CAP_DATA_HDR_SIZE);
	/*
	 * 1 <= len <= cls here; say it so that the verifier sees it on the
	 * register that reaches the helper (cls is a power of two).
	 */
	barrier_var(len);
	len = ((len - 1) & (cls - 1)) + 1;
	d->offset = off;
	d->len = len;
	d->flags = flags;
	err = bpf_probe_read_user(d->data, len, (void *)(ec->buf + off));
	if (err) {
		/* The helper has zeroed d->data. */
		d->flags |= CAP_F_READ_FAULT;
		__sync_fetch_and_add(&st->read_faults, 1);
	}
	bpf_ringbuf_submit(d, wakeup_flag());
	return 0;
}

static long emit_chunk(__u32 i, void *data)
{
	struct emit_ctx *ec = data;
	__u32 off, len, flags = 0;

	off = i * CAP_CHUNK_MAX;
	if (off >= ec->copy)
		return 1;
	len = ec->copy - off;
	if (len > CAP_CHUNK_MAX)
		len = CAP_CHUNK_MAX;
	if (off + len >= ec->copy && ec->truncated)
		flags |= CAP_F_TRUNCATED;
	if (len <= CAP_CLASS_0)
		put_chunk(ec, off, len, flags, CAP_CLASS_0);
	else if (len <= CAP_CLASS_1)
		put_chunk(ec, off, len, flags, CAP_CLASS_1);
	else if (len <= CAP_CLASS_2)
		put_chunk(ec, off, len, flags, CAP_CLASS_2);
	else
		put_chunk(ec, off, len, flags, CAP_CHUNK_MAX);
	return 0;
}

/*
 * Records @tgid in traced_tgids, so that its exit is reported; once per
 * thread when the thread has a task-storage @slot, else every call.
 */
static __always_inline void note_traced(__u32 tgid, struct call_args *slot)
{
	__u8 one = 1;

	if (slot && slot->noted)
		return;
	if (!bpf_map_lookup_elem(&traced_tgids, &tgid))
		bpf_map_update_elem(&traced_tgids, &tgid, &one, BPF_NOEXIST);
	if (slot)
		slot->noted = 1;
}

/*
 * Emits the @n bytes the call of @args moved; @slot is the thread's task
 * storage (at return, @args itself).
 */
static __always_inline void emit_call(struct task_struct *t,
				      const struct call_args *args,
				      struct call_args *slot, __u64 n)
{
	struct emit_ctx ec = { .buf = args->buf };
	struct cap_data *d = (struct cap_data *)ec.hdr;
	__u32 cap = targ_max_call_bytes, nchunks;
	struct cap_stats *st = stats();

	if (!st)
		return;
	ec.st = st;
	if (cap > CAP_CALL_MAX)
		cap = CAP_CALL_MAX;
	if (n > 0xffffffffULL)
		n = 0xffffffffULL;
	ec.copy = n > cap ? cap : n;
	ec.truncated = n > cap;

	fill_hdr(&d->hdr, CAP_KIND_DATA, t);
	d->conn = args->ssl;
	d->stack = CAP_STACK_OPENSSL;
	d->call_id = next_call_id(d->hdr.ts_ns);
	d->dir = args->dir;
	d->call_len = n;
	note_traced(d->hdr.tgid, slot);

	__sync_fetch_and_add(&st->calls, 1);
	if (ec.truncated) {
		__sync_fetch_and_add(&st->truncated_calls, 1);
		__sync_fetch_and_add(&st->truncated_bytes, n - cap);
	}
	nchunks = (ec.copy + CAP_CHUNK_MAX - 1) / CAP_CHUNK_MAX;
	/* bpf_loop()'s indirect calls cost more than one chunk's copy. */
	if (nchunks == 1)
		emit_chunk(0, &ec);
	else
		bpf_loop(nchunks, emit_chunk, &ec, 0);
}

/* Whether skip_conns holds @ssl of @t's process for its current image. */
static __always_inline bool lookup_skip(struct task_struct *t, __u64 ssl)
{
	struct cap_conn_key k = { .tgid = t->tgid, .conn = ssl };
	__u64 *since, *exec;

	since = bpf_map_lookup_elem(&skip_conns, &k);
	if (!since)
		return false;
	exec = bpf_task_storage_get(&exec_ts, t->group_leader, 0, 0);
	if (exec && *exec > *since) {
		bpf_map_delete_elem(&skip_conns, &k);
		return false;
	}
	return true;
}

/*
 * True when the calls of @ssl in @t's process are not to be copied
 * (skip_conns); counts the call in skipped_calls.  The answers for the
 * last two connections are cached in the thread's storage @p for as long
 * as skip_gen stays: a thread mostly calls on the one or two connections
 * it called on last (a client, a proxy, both ends of a BIO pair), and
 * the hash lookup would cost every call some 50 ns.
 */
static __always_inline bool skipped(struct task_struct *t,
				    struct call_args *p, __u64 ssl)
{
	__u32 gen = skip_gen, i;
	struct cap_stats *st;
	bool skip;

	if (!gen)
		return false;
	if (p->skip_gen != gen) {
		p->skip_gen = gen;
		p->skip_ssl[0] = 0;
		p->skip_ssl[1] = 0;
	}
	if (p->skip_ssl[0] == ssl) {
		skip = p->skip[0];
	} else if (p->skip_ssl[1] == ssl) {
		skip = p->skip[1];
	} else {
		i = p->skip_next & 1;
		p->skip_next = !i;
		skip = lookup_skip(t, ssl);
		p->skip_ssl[i] = ssl;
		p->skip[i] = skip;
	}
	if (!skip)
		return false;
	st = stats();
	if (st)
		__sync_fetch_and_add(&st->skipped_calls, 1);
	return true;
}

/* SSL_free(): the address may next be another connection's. */
static __always_inline void forget_skip(__u32 tgid, __u64 ssl)
{
	struct cap_conn_key k = { .tgid = tgid, .conn = ssl };

	if (skip_gen && !bpf_map_delete_elem(&skip_conns, &k))
		__sync_fetch_and_add(&skip_gen, 1);
}

static __always_inline bool is_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_self_tgid;
}

/*
 * Reserves a control record (struct cap_proc or cap_free) of @size bytes
 * and fills its header as @kind; NULL, counted in lost_control, when the
 * ring is full.
 */
static __always_inline void *control_reserve(__u64 size, __u32 kind)
{
	struct cap_stats *st;
	struct cap_hdr *h;

	h = bpf_ringbuf_reserve(&rb, size, 0);
	if (!h) {
		st = stats();
		if (st)
			__sync_fetch_and_add(&st->lost_control, 1);
		return NULL;
	}
	fill_hdr(h, kind, bpf_get_current_task_btf());
	return h;
}

/* SSL_free() of a connection of a process that made captured calls. */
static __always_inline void emit_free(__u32 tgid, __u64 ssl)
{
	struct cap_free *f;

	if (!ssl || !bpf_map_lookup_elem(&traced_tgids, &tgid))
		return;
	f = control_reserve(sizeof(*f), CAP_KIND_FREE);
	if (!f)
		return;
	f->conn = ssl;
	bpf_ringbuf_submit(f, wakeup_flag());
}

/*
 * Entry of SSL_write, SSL_write_ex, SSL_read, SSL_read_ex or SSL_free:
 * the cookie (enum cap_fn) tells which.  Attached per file either as one
 * uprobe_multi link for all the offsets or as one uprobe each.
 */
SEC("uprobe")
int BPF_KPROBE(ssl_enter, void *ssl, void *buf, __u64 num, void *outp)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 fn = bpf_get_attach_cookie(ctx);
	__u32 tgid = t->tgid;
	struct cap_stats *st;
	struct call_args *p;
	struct call_args a = {
		.ssl = (__u64)ssl,
		.buf = (__u64)buf,
		.dir = fn <= CAP_FN_WRITE_EX ? CAP_DIR_WRITE : CAP_DIR_READ,
		.ex = fn == CAP_FN_WRITE_EX || fn == CAP_FN_READ_EX,
	};

	if (tgid == targ_self_tgid || fn >= CAP_FN_NR)
		return 0;
	if (targ_targeted && !bpf_map_lookup_elem(&selected, &tgid))
		return 0;
	if (fn == CAP_FN_FREE) {
		forget_skip(tgid, a.ssl);
		emit_free(tgid, (__u64)ssl);
		return 0;
	}
	p = bpf_task_storage_get(&calls, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		/* No memory, or the storage was busy on this CPU. */
		st = stats();
		if (st)
			__sync_fetch_and_add(&st->missed_calls, 1);
		return 0;
	}
	if (skipped(t, p, a.ssl))
		return 0;
	if (a.dir == CAP_DIR_WRITE && targ_write_at_entry) {
		/* SSL_write's num is an int, SSL_write_ex's a size_t. */
		if (!a.ex)
			num = (__u64)(int)num;
		if ((__s64)num > 0)
			emit_call(t, &a, p, num);
		return 0;
	}
	p->ssl = a.ssl;
	p->buf = a.buf;
	p->outp = a.ex ? (__u64)outp : 0;
	p->dir = a.dir;
	p->ex = a.ex;
	p->live = 1;
	return 0;
}

/* Return of any of the four: the entry's arguments say which. */
SEC("uretprobe")
int BPF_KRETPROBE(ssl_return, long ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct call_args *p;
	__u64 n = 0;

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
		emit_call(t, p, p, n);
	return 0;
}

/* Emits a struct cap_proc; force-wakes the reader when @wake. */
static __always_inline void emit_proc(__u32 kind, __u32 tgid, __u32 ppid,
				      __u32 exit_code, bool wake)
{
	struct cap_proc *p;

	p = control_reserve(sizeof(*p), kind);
	if (!p)
		return;
	p->hdr.tgid = tgid;
	p->ppid = ppid;
	p->exit_code = exit_code;
	bpf_ringbuf_submit(p, wake ? BPF_RB_FORCE_WAKEUP : wakeup_flag());
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 ppid = BPF_CORE_READ(p, real_parent, tgid);
	struct call_args *c;
	__u64 *ts;

	/*
	 * The new image's SSL* are not the old one's (see skip_conns), and
	 * the exec'ing thread, the only one left, forgets its cached answers
	 * (skipped()).
	 */
	ts = bpf_task_storage_get(&exec_ts, p, 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ts)
		*ts = bpf_ktime_get_ns();
	c = bpf_task_storage_get(&calls, p, 0, 0);
	if (c) {
		c->skip_ssl[0] = 0;
		c->skip_ssl[1] = 0;
	}

	/*
	 * Targeted mode: the new image stays in `selected` until userspace
	 * reads this record and decides; it drops the calls an unselected
	 * image made meanwhile (attach__pid_selected()).
	 */
	emit_proc(CAP_KIND_EXEC, tgid, ppid, 0, true);
	return 0;
}

/*
 * Only the last thread of a group reports, and only for processes that
 * made a captured call or are selected (targeted mode).  signal->live
 * reaches 0 in do_exit() before this tracepoint, on kernels with and
 * without its group_dead argument.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	/* Selected processes too: userspace drops their probes. */
	if (!bpf_map_lookup_elem(&traced_tgids, &tgid) &&
	    !bpf_map_lookup_elem(&selected, &tgid))
		return 0;
	bpf_map_delete_elem(&traced_tgids, &tgid);
	emit_proc(CAP_KIND_EXIT, tgid, BPF_CORE_READ(p, real_parent, tgid),
		  BPF_CORE_READ(p, exit_code), false);
	return 0;
}

/*
 * Targeted mode (attached only then): a process that has probes of its
 * own forked a child, which inherits its text but not its probes;
 * userspace attaches for the child too.  Threads are not reported.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);

	if (ptgid == ctgid || !bpf_map_lookup_elem(&selected, &ptgid))
		return 0;
	emit_proc(CAP_KIND_FORK, ctgid, ptgid, 0, true);
	return 0;
}

/*
 * glibc's ld.so calls _dl_debug_state() on every link-map change,
 * dlopen() included: userspace then rescans the process's maps.
 */
SEC("uprobe")
int BPF_KPROBE(dl_debug_state)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (is_self())
		return 0;
	emit_proc(CAP_KIND_DLOPEN, pid_tgid >> 32, 0, 0, true);
	return 0;
}
