// SPDX-License-Identifier: MIT
/*
 * capture.c - loader of the capture object (the bpf/ files, linked into
 * capture.skel.h) and reader of its ring buffer (capture.h).  The uprobe
 * registry lives in attach.c; the TLS stacks' table in stack.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capture/attach.h"
#include "capture/capture.h"
#include "capture/kbtf.h"
#include "capture/rings.h"
#include "capture.skel.h"
#include "config/config.h"
#include "lib/log.h"
#include "capture/stack.h"
#include "capture/uprobe.h"

/* Pending rescans of single processes after exec/dlopen. */
#define RESCAN_MAX	512
#define RESCAN_STAGES	4
/* rustls's socket programs at most (rustls_progs()) */
#define RUSTLS_SOCK_PROGS	3

/* When the rescans run, in ns after the exec/dlopen record was read. */
static const __u64 rescan_delay_ns[RESCAN_STAGES] = {
	0, 20000000ULL, 200000000ULL, 2000000000ULL,
};

struct rescan {
	int pid;
	int stage;		/* index into rescan_delay_ns */
	__u64 base_ns;		/* when the record was read */
};

struct capture {
	struct capture_bpf *skel;
	struct rings *rb;
	struct attach *att;
	capture_record_fn fn;
	void *ctx;
	__u64 last_full_ns;	/* last full /proc scan */
	int nrescan;
	struct rescan rescan[RESCAN_MAX];
	__u64 rescans_dropped;
	__u64 records, bytes;	/* data records read, their plaintext */
	__u64 unselected;	/* of them, from unselected images */
	__u64 skips;		/* capture__skip_conn() calls */
	bool multi;		/* uprobe_multi links (uprobe.h) */
	/* rustls's socket programs (rustls_progs()), once a rustls file is probed */
	struct bpf_link *rustls_sock[RUSTLS_SOCK_PROGS];
	int rustls_sock_err;	/* their attach failed: not tried again */
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* libbpf's print callback: its levels onto ours (log.h). */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	enum log_level l = LOG_DEBUG;

	if (level == LIBBPF_WARN)
		l = LOG_WARN;
	else if (level == LIBBPF_INFO)
		l = LOG_INFO;
	log__vprintf(l, fmt, ap);
	return 0;
}

static struct rescan *find_rescan(struct capture *c, int pid)
{
	int i;

	for (i = 0; i < c->nrescan; i++)
		if (c->rescan[i].pid == pid)
			return &c->rescan[i];
	return NULL;
}

static void drop_rescan(struct capture *c, struct rescan *r)
{
	*r = c->rescan[--c->nrescan];
}

/* (Re)starts the rescan schedule of @pid: first scan as soon as possible. */
static void schedule_rescan(struct capture *c, int pid, __u64 now)
{
	struct rescan *r = find_rescan(c, pid);

	if (!r) {
		if (c->nrescan == RESCAN_MAX) {
			/* The next full scan catches what this misses. */
			c->rescans_dropped++;
			return;
		}
		r = &c->rescan[c->nrescan++];
		r->pid = pid;
	}
	r->stage = 0;
	r->base_ns = now;
}

static void run_rescans(struct capture *c, __u64 now)
{
	struct rescan *r;
	int i = 0, n;

	while (i < c->nrescan) {
		r = &c->rescan[i];
		if (r->base_ns + rescan_delay_ns[r->stage] > now) {
			i++;
			continue;
		}
		n = attach__scan_pid(c->att, r->pid);
		if (n > 0)
			pr_debug("pid %d: %d new file(s) attached", r->pid, n);
		if (n == -ENOENT || ++r->stage == RESCAN_STAGES) {
			drop_rescan(c, r);	/* i now holds the last one */
			continue;
		}
		i++;
	}
}

/*
 * The socket programs of rustls's design @fd (bpf/rustls.bpf.c) into
 * @p: the socket tracepoints, or the sys_enter program of kernels
 * before 6.3.  Returns how many (at most RUSTLS_SOCK_PROGS).
 */
static int rustls_progs(const struct capture *c, bool fd,
			struct bpf_program **p)
{
	if (fd) {
		p[0] = c->skel->progs.rustls_sys_enter;
		return 1;
	}
	p[0] = c->skel->progs.rustls_sock_recv;
	p[1] = c->skel->progs.rustls_sock_state;
	p[2] = c->skel->progs.rustls_sock_destroy;
	return 3;
}

/* Whether rustls connections are named by fd (the sys_enter design). */
static bool rustls_fd(const struct capture *c)
{
	return c->skel->rodata->targ_rustls_fd;
}

/*
 * Chooses how rustls connections learn their socket (bpf/rustls.bpf.c),
 * before the load: @mode (enum capture_rustls_sockets), auto taking the
 * socket tracepoints where the kernel has sock_recv_length.  Only the
 * chosen programs are loaded: a tp_btf program whose tracepoint the
 * kernel lacks would fail the whole load.  Returns 0 or -errno.
 */
static int rustls_prepare(struct capture *c, int mode)
{
	struct bpf_program *p[RUSTLS_SOCK_PROGS];
	int d, i, n, err;
	bool fd;

	fd = mode == CAPTURE_RUSTLS_SYSCALLS ||
	     (mode == CAPTURE_RUSTLS_AUTO &&
	      !kbtf__has_type("btf_trace_sock_recv_length", BTF_KIND_TYPEDEF));
	c->skel->rodata->targ_rustls_fd = fd;
	for (d = 0; d < 2; d++) {
		n = rustls_progs(c, d, p);
		for (i = 0; i < n; i++) {
			err = bpf_program__set_autoload(p[i], d == fd);
			if (err)
				return err;
		}
	}
	pr_info("rustls: connections named by %s", fd ?
		"fd, from a sys_enter program (no sock_recv_length "
		"tracepoint, or capture.rustls_sockets: syscalls)" :
		"socket, from socket tracepoints");
	return 0;
}

/*
 * Attaches rustls's socket programs (rustls_progs(): they name a rustls
 * connection by its socket and see its end) once the first rustls file
 * has been probed: they run for every process on the host, so not
 * before.  The socket tracepoints run at every socket read, TCP state
 * change and TCP socket destruction; the sys_enter program of kernels
 * before 6.3 at every system call.  They stay attached until the capture
 * closes; if one fails, none is kept.
 */
static void rustls_sock_sync(struct capture *c)
{
	struct bpf_program *progs[RUSTLS_SOCK_PROGS];
	struct attach_stats as;
	int i, n;

	if (c->rustls_sock[0] || c->rustls_sock_err)
		return;
	attach__stats(c->att, &as);
	if (!as.stack_files[CAP_STACK_RUSTLS])
		return;
	n = rustls_progs(c, rustls_fd(c), progs);
	for (i = 0; i < n; i++) {
		c->rustls_sock[i] = bpf_program__attach(progs[i]);
		if (!c->rustls_sock[i]) {
			c->rustls_sock_err = -errno;
			pr_err("attach %s for rustls: %s; rustls calls are not "
			       "captured", bpf_program__section_name(progs[i]),
			       strerror(-c->rustls_sock_err));
			while (i--) {
				bpf_link__destroy(c->rustls_sock[i]);
				c->rustls_sock[i] = NULL;
			}
			return;
		}
	}
	pr_info("rustls: %s attached", rustls_fd(c) ? "sys_enter" :
		"socket tracepoints");
}

/*
 * At exec, before the new program has mapped its libraries: attach to
 * the TLS stacks' files of a container root seen for the first time
 * (attach.h), instead of after its maps show them (rescans below, or
 * the dlopen probe on its ld.so, itself attached only now).  The first
 * uprobe registered after a quiet spell waits for an RCU grace period
 * (8-20 ms measured in this VM, more under load), so a call made sooner
 * than that after the exec can still be missed.  Logged: time from the
 * exec (the record's timestamp, CLOCK_MONOTONIC) to the probes in place,
 * and how much of it the scan took.  On our own root: one stat(2).
 */
static void exec_scan_root(struct capture *c, const struct cap_hdr *h)
{
	__u64 t0 = mono_ns(), now;
	int n = attach__scan_root(c->att, (int)h->tgid);

	if (n <= 0)
		return;
	rustls_sock_sync(c);
	now = mono_ns();
	pr_debug("pid %u: new root, %d file(s) attached %.3f ms after exec "
		 "(scan %.3f ms)", h->tgid, n,
		 now > h->ts_ns ? (double)(now - h->ts_ns) / 1e6 : 0.0,
		 (double)(now - t0) / 1e6);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	const struct cap_hdr *h = data;
	struct capture *c = ctx;
	struct rescan *r;

	if (size < sizeof(*h))
		return 0;
	switch (h->kind) {
	case CAP_KIND_DATA:
		/* Reserved by size class: pass on only what len covers. */
		if (size < CAP_DATA_HDR_SIZE ||
		    ((const struct cap_data *)data)->len >
		    size - CAP_DATA_HDR_SIZE)
			return 0;
		size = CAP_DATA_HDR_SIZE + ((const struct cap_data *)data)->len;
		c->records++;
		c->bytes += size - CAP_DATA_HDR_SIZE;
		/* Targeted: made after an exec left the selection. */
		if (!attach__pid_selected(c->att, (int)h->tgid)) {
			c->unselected++;
			return 0;
		}
		break;
	case CAP_KIND_EXEC:
		/* Also passed on: the pipeline reads the new image's metadata. */
		exec_scan_root(c, h);
		schedule_rescan(c, (int)h->tgid, mono_ns());
		break;
	case CAP_KIND_DLOPEN:
	case CAP_KIND_FORK:
		schedule_rescan(c, (int)h->tgid, mono_ns());
		return 0;
	case CAP_KIND_EXIT:
		attach__forget_pid(c->att, (int)h->tgid);
		r = find_rescan(c, (int)h->tgid);
		if (r)
			drop_rescan(c, r);
		break;
	default:
		break;
	}
	return c->fn ? c->fn(c->ctx, data, size) : 0;
}

void capture__opts_from_config(struct capture_opts *o,
			       const struct config *cfg)
{
	*o = (struct capture_opts){
		.max_call_bytes = cfg->max_call_bytes,
		.ringbuf_bytes = cfg->ringbuf_bytes,
		.small_ringbuf_bytes = cfg->small_ringbuf_bytes,
		.attach_mode = cfg->attach_mode,
		.rustls_sockets = cfg->rustls_sockets,
		.write_at_entry = cfg->write_probe == CONFIG_WRITE_AT_ENTRY,
		.self_tgid = (__u32)getpid(),
	};
}

static int check_opts(const struct capture_opts *in, struct capture_opts *o)
{
	if (in)
		*o = *in;
	if (!o->max_call_bytes)
		o->max_call_bytes = CAPTURE_DEF_MAX_CALL;
	if (!o->ringbuf_bytes)
		o->ringbuf_bytes = CAPTURE_DEF_RINGBUF;
	if (!o->small_ringbuf_bytes)
		o->small_ringbuf_bytes = CAPTURE_DEF_SMALL_RINGBUF;
	if (!o->wakeup_bytes)
		o->wakeup_bytes = o->ringbuf_bytes / 4;
	if (o->max_call_bytes > CAP_CALL_MAX) {
		pr_err("max_call_bytes %u is above %u", o->max_call_bytes,
		       CAP_CALL_MAX);
		return -EINVAL;
	}
	if (o->attach_mode > CAPTURE_ATTACH_PERF) {
		pr_err("attach mode %d is unknown", o->attach_mode);
		return -EINVAL;
	}
	if (o->rustls_sockets > CAPTURE_RUSTLS_SYSCALLS) {
		pr_err("rustls sockets mode %d is unknown", o->rustls_sockets);
		return -EINVAL;
	}
	if (o->ringbuf_bytes < 4096 ||
	    (o->ringbuf_bytes & (o->ringbuf_bytes - 1))) {
		pr_err("ring buffer size %u is not a power of two >= 4096",
		       o->ringbuf_bytes);
		return -EINVAL;
	}
	if (o->small_ringbuf_bytes < 4096 ||
	    (o->small_ringbuf_bytes & (o->small_ringbuf_bytes - 1))) {
		pr_err("small ring buffer size %u is not a power of two >= 4096",
		       o->small_ringbuf_bytes);
		return -EINVAL;
	}
	return 0;
}

/*
 * Fills @p with the uprobe programs the table of TLS stacks names
 * (stack.h) and ld.so's.  Returns 0, or -ENOENT (logged) when the
 * object lacks one: a stack's entry in the table and its bpf/ file
 * disagree.
 */
static int find_uprobes(struct capture_bpf *skel, struct attach_progs *p)
{
	const struct tls_stack *ts;
	unsigned int i;

	for (i = 0; tls_stacks[i]; i++) {
		ts = tls_stacks[i];
		p->enter[ts->id] = bpf_object__find_program_by_name(
			skel->obj, ts->enter_prog);
		p->ret[ts->id] = bpf_object__find_program_by_name(
			skel->obj, ts->return_prog);
		if (!p->enter[ts->id] || !p->ret[ts->id]) {
			pr_err("%s: no program %s or %s in the BPF object",
			       ts->name, ts->enter_prog, ts->return_prog);
			return -ENOENT;
		}
	}
	p->dl_debug_state = bpf_object__find_program_by_name(skel->obj,
							     LDSO_PROG);
	if (!p->dl_debug_state) {
		pr_err("no program %s in the BPF object", LDSO_PROG);
		return -ENOENT;
	}
	return 0;
}

static int prepare_prog(struct bpf_program *prog, bool multi)
{
	int err;

	if (!prog)
		return 0;
	err = uprobe__prepare(prog, multi);
	if (err)
		pr_err("set attach type of %s: %s", bpf_program__name(prog),
		       strerror(-err));
	return err;
}

/* Between open and load: every uprobe program for @p->multi links. */
static int prepare_uprobes(const struct attach_progs *p)
{
	unsigned int i;
	int err;

	for (i = 0; i < CAP_STACK_NR; i++) {
		err = prepare_prog(p->enter[i], p->multi);
		if (!err)
			err = prepare_prog(p->ret[i], p->multi);
		if (err)
			return err;
	}
	err = prepare_prog(p->dl_debug_state, p->multi);
	if (err)
		return err;
	pr_info("uprobes: %s links", p->multi ? "uprobe_multi" : "perf-event");
	return 0;
}

static int attach_tracepoints(struct capture_bpf *skel, bool targeted)
{
	int err;

	skel->links.handle_exec = bpf_program__attach(skel->progs.handle_exec);
	if (!skel->links.handle_exec) {
		err = -errno;
		pr_err("attach tp_btf/sched_process_exec: %s", strerror(-err));
		return err;
	}
	skel->links.handle_exit = bpf_program__attach(skel->progs.handle_exit);
	if (!skel->links.handle_exit) {
		err = -errno;
		pr_err("attach tp_btf/sched_process_exit: %s", strerror(-err));
		return err;
	}
	if (!targeted)
		return 0;
	skel->links.handle_fork = bpf_program__attach(skel->progs.handle_fork);
	if (!skel->links.handle_fork) {
		err = -errno;
		pr_err("attach tp_btf/sched_process_fork: %s", strerror(-err));
		return err;
	}
	return 0;
}

static int start_attach(struct capture *c, const struct capture_opts *o,
			const struct attach_progs *p)
{
	struct capture_bpf *skel = c->skel;
	int err;

	err = attach__new(&c->att, p);
	if (err)
		return err;
	if (o->target) {
		attach__set_target(c->att, o->target,
				   bpf_map__fd(skel->maps.selected));
		pr_info("targeted mode: probes only in the selected processes");
	}
	attach__scan_dirs(c->att);
	err = attach__scan_all(c->att);
	if (err < 0)
		return err;
	c->last_full_ns = mono_ns();
	/* Not fatal: without the worker, files are searched in the scans. */
	attach__start_identify(c->att);
	return 0;
}

int capture__open(struct capture **out, const struct capture_opts *opts,
		  capture_record_fn fn, void *ctx)
{
	struct capture_opts o = { 0 };
	struct attach_progs p = { 0 };
	struct capture *c;
	size_t sizes[2];
	int fds[2];
	int err;

	*out = NULL;
	err = check_opts(opts, &o);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	libbpf_set_print(libbpf_print);

	c->skel = capture_bpf__open();
	if (!c->skel) {
		err = -errno;
		pr_err("open BPF object: %s", strerror(-err));
		goto out_close;
	}
	c->skel->rodata->targ_max_call_bytes = o.max_call_bytes;
	c->skel->rodata->targ_wakeup_bytes = o.wakeup_bytes;
	c->skel->rodata->targ_wakeup_small_bytes = o.small_ringbuf_bytes / 4;
	c->skel->rodata->targ_chunk_bytes =
		o.ringbuf_bytes >= CAP_BIG_CHUNK_RING_MIN ? CAP_CHUNK_MAX : CAP_CLASS_3;
	c->skel->rodata->targ_self_tgid = o.self_tgid;
	c->skel->rodata->targ_write_at_entry = o.write_at_entry;
	c->skel->rodata->targ_targeted = o.target != NULL;
	err = rustls_prepare(c, o.rustls_sockets);
	if (err)
		goto out_close;
	err = bpf_map__set_max_entries(c->skel->maps.rb, o.ringbuf_bytes);
	if (!err)
		err = bpf_map__set_max_entries(c->skel->maps.rb_small,
					       o.small_ringbuf_bytes);
	if (err) {
		pr_err("set ring buffer sizes %u, %u: %s", o.ringbuf_bytes,
		       o.small_ringbuf_bytes, strerror(-err));
		goto out_close;
	}
	c->multi = o.attach_mode == CAPTURE_ATTACH_MULTI ||
		   (o.attach_mode == CAPTURE_ATTACH_AUTO && uprobe__multi_ok());
	p.multi = c->multi;
	p.write_at_entry = o.write_at_entry;
	err = find_uprobes(c->skel, &p);
	if (!err)
		err = prepare_uprobes(&p);
	if (err)
		goto out_close;
	err = capture_bpf__load(c->skel);
	if (err) {
		pr_err("load BPF programs: %s", strerror(-err));
		goto out_close;
	}
	err = attach_tracepoints(c->skel, o.target != NULL);
	if (err)
		goto out_close;
	/* The large ring first: the chunks of one call share a time. */
	fds[0] = bpf_map__fd(c->skel->maps.rb);
	fds[1] = bpf_map__fd(c->skel->maps.rb_small);
	sizes[0] = o.ringbuf_bytes;
	sizes[1] = o.small_ringbuf_bytes;
	err = rings__open(&c->rb, fds, sizes, 2, handle_record, c);
	if (err) {
		pr_err("map the ring buffers: %s", strerror(-err));
		goto out_close;
	}
	err = start_attach(c, &o, &p);
	if (err) {
		pr_err("attach uprobes: %s", strerror(-err));
		goto out_close;
	}
	rustls_sock_sync(c);
	*out = c;
	return 0;

out_close:
	capture__close(c);
	return err;
}

int capture__epoll_fd(const struct capture *c)
{
	if (!c || !c->rb)
		return -EINVAL;
	return rings__epoll_fd(c->rb);
}

/* Probes the files whose search has finished (attach__identified()). */
static void take_identified(struct capture *c)
{
	int n = attach__identified(c->att);

	if (n > 0)
		pr_debug("%d file(s) attached once identified", n);
}

int capture__identify_fd(const struct capture *c)
{
	return c ? attach__identify_fd(c->att) : -1;
}

int capture__poll(struct capture *c)
{
	int n;

	if (!c)
		return -EINVAL;
	n = (int)rings__consume(c->rb);
	if (c->nrescan)
		run_rescans(c, mono_ns());
	take_identified(c);
	rustls_sock_sync(c);
	return n;
}

int capture__tick(struct capture *c, __u64 now_mono_ns)
{
	int n;

	if (!c)
		return -EINVAL;
	if (c->nrescan)
		run_rescans(c, now_mono_ns);
	take_identified(c);
	rustls_sock_sync(c);
	if (now_mono_ns < c->last_full_ns + CAPTURE_RESCAN_NS)
		return 0;
	c->last_full_ns = now_mono_ns;
	n = attach__scan_all(c->att);
	if (n > 0)
		pr_debug("full rescan: %d new file(s) attached", n);
	return n < 0 ? n : 0;
}

/*
 * Adds row @row of the kernel's counters (summed over @ncpu CPUs, read
 * into @v) to @st's totals and, for a stack's row, to the stack's.
 */
static int add_kern_row(const struct capture *c, __u32 row, struct cap_stats *v,
			int ncpu, struct capture_stats *st)
{
	struct cap_stats *k = row < CAP_STACK_NR ? &st->stack[row].kern : NULL;
	int i;

	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.cap_stats), &row, v))
		return -errno;
#define SUM_CPU(name, kind, alert, help) \
	st->kern.name += v[i].name; \
	if (k) \
		k->name += v[i].name;
	for (i = 0; i < ncpu; i++) {
		CAP_STATS(SUM_CPU)
	}
#undef SUM_CPU
	return 0;
}

int capture__stats(const struct capture *c, struct capture_stats *st)
{
	const struct tls_stack *ts;
	struct attach_stats as;
	struct cap_stats *v;
	int ncpu, err = 0;
	__u32 row;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	if (!c)
		return -EINVAL;
	attach__stats(c->att, &as);
	st->files_attached = as.files_attached;
	st->ldso_attached = as.ldso_attached;
	st->procs_traced = as.procs_traced;
	st->attach_errors = as.attach_errors;
	st->ldso_errors = as.ldso_errors;
	for (i = 0; tls_stacks[i]; i++) {
		ts = tls_stacks[i];
		st->stack_label[ts->id] = ts->label;
		st->stack[ts->id].files_attached = as.stack_files[ts->id];
		st->stack[ts->id].attach_errors = as.stack_errors[ts->id];
	}
	st->files_identifying = as.files_identifying;
	st->identify_deferred = as.identify_deferred;
	st->identify_cached = as.identify_cached;
	st->roots_scanned = as.roots_scanned;
	st->procs_targeted = as.procs_targeted;
	st->procs_denied = as.procs_denied;
	st->targeted = as.targeted;
	st->multi = c->multi;
	st->rustls_fd = rustls_fd(c);
	st->rustls_attached = c->rustls_sock[0] != NULL;
	st->records = c->records;
	st->bytes = c->bytes;
	st->unselected_records = c->unselected;
	st->skipped_conns = c->skips;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	/* Per-CPU values: each rounded up to 8 bytes (72 already is). */
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (row = 0; row < CAP_STATS_ROWS && !err; row++)
		err = add_kern_row(c, row, v, ncpu, st);
	free(v);
	return err;
}

/*
 * Tells the BPF side that skip_conns changed (skip_gen, capture.bpf.h):
 * never 0 once an entry was added (0 means no lookups at all).
 */
static void bump_skip_gen(struct capture *c)
{
	if (__atomic_add_fetch(&c->skel->bss->skip_gen, 1, __ATOMIC_SEQ_CST) == 0)
		__atomic_add_fetch(&c->skel->bss->skip_gen, 1, __ATOMIC_SEQ_CST);
}

int capture__skip_conn(struct capture *c, __u32 tgid, __u64 conn,
			__u64 since_ns)
{
	struct cap_conn_key k = { .tgid = tgid, .conn = conn };

	if (!c)
		return -EINVAL;
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.skip_conns), &k,
				&since_ns, BPF_ANY))
		return -errno;
	/* After the update: a thread that looks again must find it. */
	bump_skip_gen(c);
	c->skips++;
	return 0;
}

int capture__unskip_conn(struct capture *c, __u32 tgid, __u64 conn)
{
	struct cap_conn_key k = { .tgid = tgid, .conn = conn };

	if (!c)
		return -EINVAL;
	if (!c->skips)
		return 0;
	if (bpf_map_delete_elem(bpf_map__fd(c->skel->maps.skip_conns), &k))
		return errno == ENOENT ? 0 : -errno;
	/* After the delete: a thread's cached answer must be looked up again. */
	bump_skip_gen(c);
	return 0;
}

int capture__for_each_file(const struct capture *c,
			   int (*cb)(void *ctx, const struct attach_file *af),
			   void *ctx)
{
	return c ? attach__for_each_file(c->att, cb, ctx) : 0;
}

bool capture__multi(const struct capture *c)
{
	return c && c->multi;
}

void capture__close(struct capture *c)
{
	int i;

	if (!c)
		return;
	/* Uprobes first, so nothing new reaches the ring we free next. */
	attach__free(c->att);
	for (i = 0; i < RUSTLS_SOCK_PROGS; i++)
		bpf_link__destroy(c->rustls_sock[i]);
	rings__free(c->rb);
	capture_bpf__destroy(c->skel);
	free(c);
}
