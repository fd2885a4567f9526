/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * capture.bpf.h - what every program of the capture object shares: the
 * load-time knobs, the maps, the per-thread call storage, and the code
 * that turns one TLS call into ring-buffer records (emit_call()) or ends
 * a connection (emit_conn_end()).
 *
 * The object is linked from several compilation units (Makefile,
 * `bpftool gen object`): capture.bpf.c defines the knobs and maps
 * declared extern here, proc.bpf.c holds the process tracepoints and the
 * dlopen probe, and each TLS stack has a file of its own (openssl.bpf.c)
 * whose probes decode the library's arguments and call the emit code
 * below.  The helpers are __always_inline: each probe keeps the
 * instructions of a single-file build, with no BPF-to-BPF calls.
 *
 * Records go to the ring buffers in chunks of at most targ_chunk_bytes
 * (struct cap_data, capture_abi.h), reserved in size classes so small
 * calls take little ring space.  There are two rings, which userspace
 * reads as one stream in time order (sensor/capture/rings.c): rb_small
 * takes the calls of at most CAP_CLASS_1 bytes and the control records,
 * rb the chunks of larger calls.  A small record writes a few cache lines; in a
 * ring of a few MiB they are still cached when the ring comes round
 * again, in one of tens of MiB they are not, and a record then costs the
 * traced thread several times more (bench/results/RESULTS.md, "Two
 * rings").  Large chunks stream through memory at the same cost in
 * either, and the large ring holds megabyte calls whole.  Wakeups are
 * batched: records wake the reader only once more than a quarter of
 * their ring waits (targ_wakeup_bytes, targ_wakeup_small_bytes), and
 * then at most once per targ_wakeup_gap_ns per CPU; userspace also polls
 * on a timer.  Process events (exec, dlopen) wake it at once, because
 * they ask userspace to attach to files a new program is about to use.
 */
#ifndef OISP_CAPTURE_BPF_H
#define OISP_CAPTURE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "capture_abi.h"

/* Set by userspace between open and load (skel->rodata); capture.bpf.c. */
extern const volatile __u32 targ_max_call_bytes;
extern const volatile __u64 targ_wakeup_bytes;
extern const volatile __u64 targ_wakeup_small_bytes;
extern const volatile __u32 targ_self_tgid;
/*
 * capture.write_probe: entry.  Writes are emitted at their entry with the
 * length asked for, and userspace attaches no return probe to them: one
 * hit per write instead of two.
 */
extern const volatile bool targ_write_at_entry;
/* Targeted mode: only tgids in `selected` are captured. */
extern const volatile bool targ_targeted;
/* Least time between two forced wakeups from one CPU, in ns. */
extern const volatile __u64 targ_wakeup_gap_ns;
/*
 * Payload bytes per record of a large call: CAP_CHUNK_MAX or CAP_CLASS_3
 * (capture_abi.h, CAP_BIG_CHUNK_RING_MIN).  A record costs the traced
 * thread a fixed part (the reservation, the header, the first page of
 * the copy) beside its bytes: a 64 KiB record costs about two and a half
 * 16 KiB ones (bench/results/RESULTS.md, section 1g).
 */
extern const volatile __u32 targ_chunk_bytes;

/*
 * A TLS call between its entry and its return, whatever the stack: the
 * connection id (struct cap_data.conn), the buffer, and where the length
 * comes from.
 */
struct call_args {
	__u64 conn;
	__u64 buf;
	__u64 outp;	/* the length is stored at this user address; or 0 */
	__u8 dir;	/* enum cap_dir */
	__u8 ex;	/* the call returns 1 and the length through outp */
	__u8 live;	/* set at entry, cleared by the return */
	__u8 noted;	/* this thread's tgid is in traced_tgids */
	/* skip_conns, as last looked up by this thread: see skipped() */
	__u8 skip_next;		/* the slot to replace next */
	__u8 skip[2];
	__u8 _pad;
	__u32 skip_gen;
	__u64 skip_conn[2];	/* 0: empty */
};

/*
 * The maps, defined in capture.bpf.c.  Each type is named so that the
 * definition and these declarations are one type; the linker checks
 * that every unit agrees on it.
 */

/*
 * The call in progress of each thread, in task storage: a hash map keyed
 * by pid_tgid cost 2-3 times as much per hit (update at entry, lookup
 * and delete at return), and this storage is freed with the thread.
 * When one hooked function calls another (LibreSSL's SSL_write_ex calls
 * SSL_write), the inner entry overwrites the outer one and the call is
 * emitted only once.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_args);
} calls_map_t;
extern calls_map_t calls SEC(".maps");

/*
 * Userspace sets the sizes (bpf_map__set_max_entries) before load: rb is
 * capture.ring_buffer_bytes, rb_small capture.small_ring_buffer_bytes.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} rb_map_t;
extern rb_map_t rb SEC(".maps");
extern rb_map_t rb_small SEC(".maps");

/* Row @stack (enum cap_stack), or CAP_STATS_CONTROL: capture_abi.h. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CAP_STATS_ROWS);
	__type(key, __u32);
	__type(value, struct cap_stats);
} cap_stats_map_t;
extern cap_stats_map_t cap_stats SEC(".maps");

/* Per-CPU state: see next_call_id() and wakeup_flag(). */
struct cpu_state {
	__u64 last_call_id;
	__u64 last_wakeup_ns;
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpu_state_map_t;
extern cpu_state_map_t cpu_state SEC(".maps");

/* Processes that made a captured call: their exit is reported. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids_map_t;
extern traced_tgids_map_t traced_tgids SEC(".maps");

/*
 * A CLOCK_MONOTONIC time in ns per connection of a process (the key as
 * userspace names it); the least recently used goes when full.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CAP_SKIP_MAX);
	__type(key, struct cap_conn_key);
	__type(value, __u64);
} conn_time_map_t;

/*
 * Connections userspace has stopped looking at for good (the server side
 * of HTTP, a protocol other than HTTP/1.x, a switch of protocols after
 * a 101): their calls are counted in skipped_calls and not copied.  The
 * value is the CLOCK_MONOTONIC time of the record userspace decided on;
 * an entry older than its process's last exec (exec_ts) belongs to the
 * old image and is dropped.  The end of a connection (emit_conn_end())
 * deletes an entry; the LRU drops the oldest when full, and the calls of
 * that connection are copied again (userspace tells the kernel again).
 */
extern conn_time_map_t skip_conns SEC(".maps");

/*
 * CLOCK_MONOTONIC time at which each connection id of a traced process
 * last ended (emit_conn_end()).  Userspace decides to skip a connection
 * from records that lag behind the kernel: its entry can arrive after
 * the connection ended and its id (a freed SSL*, a closed fd) went to a
 * new connection.  An entry of skip_conns decided from a record older
 * than the id's last end belongs to the old connection and is dropped
 * (lookup_skip()).  LRU: an id whose end was evicted falls back to
 * userspace dropping the entry when it reads the end record.
 */
extern conn_time_map_t conn_ends SEC(".maps");

/*
 * Changes whenever an entry of skip_conns may have appeared or gone: 0
 * until userspace adds the first (no lookups until then); userspace adds
 * 1 after each update, the end of a connection adds 1 here.  A thread's
 * cached answer (struct call_args) is good while the generation is
 * unchanged; exec clears the exec'ing thread's.
 */
extern __u32 skip_gen;

/* CLOCK_MONOTONIC ns of a process's last exec, on its group leader. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} exec_ts_map_t;
extern exec_ts_map_t exec_ts SEC(".maps");

/*
 * Targeted mode: the processes userspace attached for; their exit and
 * forks are reported.  Their probes are detached asynchronously (each
 * close waits for a grace period), so a process that leaves the
 * selection (an exec) is dropped from here at once and its calls are
 * ignored meanwhile.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} selected_map_t;
extern selected_map_t selected SEC(".maps");

/* State of one call while bpf_loop() emits its chunks. */
struct emit_ctx {
	__u64 buf;	/* user address of the call's buffer */
	__u32 copy;	/* bytes to copy: min(call_len, cap) */
	__u32 truncated;
	__u32 chunk;	/* payload bytes per record: targ_chunk_bytes */
	__u32 _pad;
	struct cap_stats *st;
	/* The first CAP_DATA_HDR_SIZE bytes of every chunk's cap_data. */
	__u64 hdr[CAP_DATA_HDR_SIZE / 8];
};

/* This CPU's counters of @row: a stack (enum cap_stack) or the control row. */
static __always_inline struct cap_stats *stats(__u32 row)
{
	return bpf_map_lookup_elem(&cap_stats, &row);
}

static __always_inline struct cpu_state *cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_state, &zero);
}

/*
 * Records do not wake the reader (it also polls on a timer) until more
 * than a quarter of their ring waits (rb_small when @small, a constant);
 * then at most one forced wakeup per CPU per targ_wakeup_gap_ns, because
 * a wakeup (an irq_work, an IPI in a VM) costs the traced thread
 * microseconds.  One wakeup serves both rings: the reader drains both.
 * Called after the record was reserved, so the query counts it.  @now is
 * the record's own time (cap_hdr.ts_ns, in ns): a second clock read
 * costs about 100 ns under a hypervisor (docs/design-rustls.md), and the
 * gap does not need the difference.
 */
static __always_inline __u64 wakeup_flag(const bool small, __u64 now)
{
	struct cpu_state *cs;

	if (small) {
		if (bpf_ringbuf_query(&rb_small, BPF_RB_AVAIL_DATA) <=
		    targ_wakeup_small_bytes)
			return BPF_RB_NO_WAKEUP;
	} else if (bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) <=
		   targ_wakeup_bytes) {
		return BPF_RB_NO_WAKEUP;
	}
	cs = cpu();
	if (!cs)
		return BPF_RB_FORCE_WAKEUP;
	/*
	 * Signed: a program preempted on this CPU after taking its time can
	 * come here after a later one; it is within the gap.
	 */
	if ((__s64)(now - cs->last_wakeup_ns) < (__s64)targ_wakeup_gap_ns)
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
 * Stores a zero in every page of a record's payload @data (class @cls,
 * a constant) past its first, before the copy fills them.  The ring is
 * vmap()ed in 4 KiB pages, and each page of a large record misses the
 * TLB (a large ring is beyond its reach, and without PCID the kernel's
 * page-table isolation flushes it at every entry); under virtualisation
 * a walk costs a few hundred ns.
 * The copy (rep movsb) meets those misses one after the other; these
 * stores are independent and the CPU walks for them in parallel, which
 * takes about a fifth off a 16 KiB record (bench/results/RESULTS.md,
 * section 1g).  The copy overwrites the bytes stored here or they are
 * past its length, in the reserved record, which no reader looks at; a
 * failed copy zeroes them.
 */
static __always_inline void touch_pages(__u8 *data, const __u32 cls)
{
	__u32 i;

	/*
	 * Straight-line stores: a loop bounded by the length would multiply
	 * the verifier's states in each size class.
	 */
	for (i = 1; i <= cls / 4096; i++)
		data[i * 4096 - 1] = 0;
}

/*
 * Reserves a record of size class @cls (a constant) on its ring and
 * copies @len <= @cls bytes of the call straight into it: one copy, and
 * a preempted program cannot overwrite another's staging buffer.  A call
 * of at most CAP_CLASS_1 bytes goes to rb_small, every chunk of a larger
 * one to rb, its small last chunk too: the chunks share the call's time,
 * and the reader's merge by time keeps a connection's records in order
 * only when no record of a later call can overtake a chunk that waits
 * behind another connection's record in the other ring.
 */
static __always_inline int put_chunk(const struct emit_ctx *ec, __u32 off,
				      __u32 len, __u32 flags, const __u32 cls)
{
	/* A whole call in one ring (see rings.h): small calls, one chunk. */
	const bool small = cls <= CAP_CLASS_1 && ec->copy <= CAP_CLASS_1;
	struct cap_stats *st = ec->st;
	struct cap_data *d;
	long err;

	if (small)
		d = bpf_ringbuf_reserve(&rb_small, CAP_DATA_HDR_SIZE + cls, 0);
	else
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
	touch_pages(d->data, cls);
	err = bpf_probe_read_user(d->data, len, (void *)(ec->buf + off));
	if (err) {
		/* The helper has zeroed d->data. */
		d->flags |= CAP_F_READ_FAULT;
		__sync_fetch_and_add(&st->read_faults, 1);
	}
	bpf_ringbuf_submit(d, wakeup_flag(small, d->hdr.ts_ns));
	return 0;
}

/* bpf_loop() callback, and the one-chunk case of emit_call(). */
static long emit_chunk(__u32 i, void *data)
{
	struct emit_ctx *ec = data;
	__u32 off, len, flags = 0;

	off = i * ec->chunk;
	if (off >= ec->copy)
		return 1;
	len = ec->copy - off;
	if (len > ec->chunk)
		len = ec->chunk;
	if (off + len >= ec->copy && ec->truncated)
		flags |= CAP_F_TRUNCATED;
	if (len <= CAP_CLASS_0)
		put_chunk(ec, off, len, flags, CAP_CLASS_0);
	else if (len <= CAP_CLASS_1)
		put_chunk(ec, off, len, flags, CAP_CLASS_1);
	else if (len <= CAP_CLASS_2)
		put_chunk(ec, off, len, flags, CAP_CLASS_2);
	else if (len <= CAP_CLASS_3)
		put_chunk(ec, off, len, flags, CAP_CLASS_3);
	else if (len <= CAP_CLASS_4)
		put_chunk(ec, off, len, flags, CAP_CLASS_4);
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
 * Emits the @n bytes the call of @args moved, as records of TLS stack
 * @stack (enum cap_stack, a constant); @slot is the thread's task
 * storage (at return, @args itself).  The one entry point of every
 * stack's probes into the data path.
 */
static __always_inline void emit_call(struct task_struct *t,
				      const struct call_args *args,
				      struct call_args *slot, __u64 n,
				      const __u32 stack)
{
	struct emit_ctx ec = { .buf = args->buf, .chunk = CAP_CLASS_3 };
	struct cap_data *d = (struct cap_data *)ec.hdr;
	__u32 cap = targ_max_call_bytes, nchunks;
	struct cap_stats *st = stats(stack);

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
	d->conn = args->conn;
	d->stack = stack;
	d->call_id = next_call_id(d->hdr.ts_ns);
	d->dir = args->dir;
	d->call_len = n;
	note_traced(d->hdr.tgid, slot);

	__sync_fetch_and_add(&st->calls, 1);
	if (ec.truncated) {
		__sync_fetch_and_add(&st->truncated_calls, 1);
		__sync_fetch_and_add(&st->truncated_bytes, n - cap);
	}
	if (targ_chunk_bytes == CAP_CHUNK_MAX)
		ec.chunk = CAP_CHUNK_MAX;
	nchunks = (ec.copy + ec.chunk - 1) / ec.chunk;
	/* bpf_loop()'s indirect calls cost more than one chunk's copy. */
	if (nchunks == 1)
		emit_chunk(0, &ec);
	else
		bpf_loop(nchunks, emit_chunk, &ec, 0);
}

/*
 * Whether the calls of process @tgid are captured: not the sensor's own,
 * and in targeted mode a selected process.  Every stack's entry probe
 * asks first.
 */
static __always_inline bool tgid_traced(__u32 tgid)
{
	if (tgid == targ_self_tgid)
		return false;
	return !targ_targeted || bpf_map_lookup_elem(&selected, &tgid);
}

/*
 * The thread @t's call storage, created at its first call; NULL, counted
 * in missed_calls of TLS stack @stack, when there is no memory or the
 * storage was busy on this CPU.
 */
static __always_inline struct call_args *call_slot(struct task_struct *t,
						   const __u32 stack)
{
	struct call_args *p;
	struct cap_stats *st;

	p = bpf_task_storage_get(&calls, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		st = stats(stack);
		if (st)
			__sync_fetch_and_add(&st->missed_calls, 1);
	}
	return p;
}

/*
 * Whether skip_conns holds @conn of @t's process for its current image
 * and its current connection: an entry decided from a record older than
 * the process's last exec or the id's last end is dropped.
 */
static __always_inline bool lookup_skip(struct task_struct *t, __u64 conn)
{
	struct cap_conn_key k = { .tgid = t->tgid, .conn = conn };
	__u64 *since, *exec, *end;

	since = bpf_map_lookup_elem(&skip_conns, &k);
	if (!since)
		return false;
	exec = bpf_task_storage_get(&exec_ts, t->group_leader, 0, 0);
	end = bpf_map_lookup_elem(&conn_ends, &k);
	if ((exec && *exec > *since) || (end && *end > *since)) {
		bpf_map_delete_elem(&skip_conns, &k);
		return false;
	}
	return true;
}

/*
 * True when the calls of @conn in @t's process are not to be copied
 * (skip_conns).  The answers for the last two connections are cached in
 * the thread's storage @p for as long as skip_gen stays: a thread mostly
 * calls on the one or two connections it called on last (a client, a
 * proxy, both ends of a BIO pair), and the hash lookup would cost every
 * call some 50 ns.
 */
static __always_inline bool skip_cached(struct task_struct *t,
					struct call_args *p, __u64 conn)
{
	__u32 gen = skip_gen, i;
	bool skip;

	if (!gen)
		return false;
	if (p->skip_gen != gen) {
		p->skip_gen = gen;
		p->skip_conn[0] = 0;
		p->skip_conn[1] = 0;
	}
	if (p->skip_conn[0] == conn) {
		skip = p->skip[0];
	} else if (p->skip_conn[1] == conn) {
		skip = p->skip[1];
	} else {
		i = p->skip_next & 1;
		p->skip_next = !i;
		skip = lookup_skip(t, conn);
		p->skip_conn[i] = conn;
		p->skip[i] = skip;
	}
	return skip;
}

/* skip_cached(), and the call counted in skipped_calls of TLS stack @stack. */
static __always_inline bool skipped(struct task_struct *t,
				    struct call_args *p, __u64 conn,
				    const __u32 stack)
{
	struct cap_stats *st;

	if (!skip_cached(t, p, conn))
		return false;
	st = stats(stack);
	if (st)
		__sync_fetch_and_add(&st->skipped_calls, 1);
	return true;
}

/* The connection ended: its id may next be another connection's. */
static __always_inline void forget_skip(__u32 tgid, __u64 conn)
{
	struct cap_conn_key k = { .tgid = tgid, .conn = conn };

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

	h = bpf_ringbuf_reserve(&rb_small, size, 0);
	if (!h) {
		st = stats(CAP_STATS_CONTROL);
		if (st)
			__sync_fetch_and_add(&st->lost_control, 1);
		return NULL;
	}
	fill_hdr(h, kind, bpf_get_current_task_btf());
	return h;
}

/*
 * Connection @conn of process @tgid ended (OpenSSL: SSL_free()): drops
 * its skip_conns entry, and tells userspace (struct cap_free) when the
 * process made captured calls.  The other entry point of every stack.
 * The current task may be another process's, or none (rustls: a TCP
 * reset, in softirq): the record is then @tgid's, with tid 0 and no
 * comm.
 */
static __always_inline void emit_conn_end(__u32 tgid, __u64 conn)
{
	struct cap_conn_key k = { .tgid = tgid, .conn = conn };
	__u64 now;
	struct cap_free *f;

	forget_skip(tgid, conn);
	if (!conn || !bpf_map_lookup_elem(&traced_tgids, &tgid))
		return;
	/* Only traced processes' records lead to skips. */
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&conn_ends, &k, &now, BPF_ANY);
	f = control_reserve(sizeof(*f), CAP_KIND_FREE);
	if (!f)
		return;
	if (f->hdr.tgid != tgid) {
		f->hdr.tgid = tgid;
		f->hdr.tid = 0;
		__builtin_memset(f->hdr.comm, 0, sizeof(f->hdr.comm));
	}
	f->conn = conn;
	bpf_ringbuf_submit(f, wakeup_flag(true, f->hdr.ts_ns));
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
	bpf_ringbuf_submit(p, wake ? BPF_RB_FORCE_WAKEUP :
			   wakeup_flag(true, p->hdr.ts_ns));
}

#endif /* OISP_CAPTURE_BPF_H */
