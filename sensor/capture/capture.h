/* SPDX-License-Identifier: MIT */
/*
 * capture.h - the BPF side of the sensor: loads the capture object
 * (bpf/: shared state, process events, one file per TLS stack), keeps
 * its uprobes attached to every TLS stack's library in use (attach.h,
 * stack.h), and hands the records of the ring buffer to a callback.
 * Those records are the capture -> pipeline seam (stack.h, record.h):
 * an opaque connection id, a direction and the TLS stack, so that
 * nothing after capture knows which library made the bytes.
 *
 * This is the only module that includes the generated skeleton.  It
 * also includes the record ABI (bpf/capture_abi.h), so callers get
 * struct cap_data and friends from here.
 *
 * Startup follows libbpf-bootstrap: open, set the rodata knobs and the
 * ring size, load, attach the tracepoints, create the ring buffer, then
 * scan the library directories and /proc and attach the uprobes.
 * Afterwards each exec into a container root not seen before scans that
 * root's library directories at once (attach__scan_root()), and exec
 * and dlopen records (and timers, for what those miss) drive rescans of
 * single processes; a full /proc rescan runs every
 * CAPTURE_RESCAN_NS.  After start-up, a file whose TLS stack can only
 * be found by searching its code (BoringSSL, rustls, static OpenSSL 3)
 * is searched on a worker thread (identify.h) and probed when the
 * result comes back (capture__identify_fd()), so that the ring buffer
 * is drained meanwhile.
 */
#ifndef OISP_SENSOR_CAPTURE_H
#define OISP_SENSOR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "capture_abi.h"
#include "capture/attach.h"
#include "capture/capture_stats.h"

struct target;

/*
 * A 4 MiB body (capture.max_body_bytes) and its header section in one
 * call, whole; the ring holds seven such calls at once.
 */
#define CAPTURE_DEF_MAX_CALL	((4u << 20) + (64u << 10))
#define CAPTURE_DEF_RINGBUF	(32u << 20)
#define CAPTURE_DEF_SMALL_RINGBUF	(4u << 20)
#define CAPTURE_RESCAN_NS	(10ULL * 1000000000ULL)

struct capture;

struct capture_opts {
	__u32 max_call_bytes;	/* per-call cap in bytes; 0: the default;
				 * at most CAP_CALL_MAX */
	__u32 ringbuf_bytes;	/* the ring of large chunks: power of two
				 * >= 4096; 0: 32 MiB */
	__u32 small_ringbuf_bytes; /* the ring of records of at most
				    * CAP_CLASS_1 bytes and control records:
				    * power of two >= 4096; 0: 4 MiB */
	__u32 self_tgid;	/* getpid(): our own calls are ignored */
	__u32 wakeup_bytes;	/* bytes waiting in the large ring before a
				 * record wakes the reader; 0: ringbuf_bytes
				 * / 4 (the small ring's: a quarter of it) */
	int attach_mode;	/* enum capture_attach_mode (config.h) */
	int rustls_sockets;	/* enum capture_rustls_sockets (config.h) */
	bool write_at_entry;	/* capture.write_probe: entry (one hit per
				 * write; see docs/config.md) */
	struct target *target;	/* targeted mode (target.h): borrowed, must
				 * outlive the capture; NULL: every process */
};

struct config;

/*
 * Fills @o from the capture.* keys of @cfg (docs/config.md), with
 * self_tgid set to getpid() and no target (targeted mode is the
 * caller's: target.h).
 */
void capture__opts_from_config(struct capture_opts *o,
			       const struct config *cfg);

/*
 * Called for each CAP_KIND_DATA, CAP_KIND_EXEC and CAP_KIND_EXIT record
 * (CAP_KIND_DLOPEN is handled inside).  @rec points
 * into the ring and is valid during the call only; @len is its size in
 * bytes (CAP_DATA_HDR_SIZE + len for data).  Return 0, or <0 to stop
 * polling (capture__poll() then returns that value).
 */
typedef int (*capture_record_fn)(void *ctx, const void *rec, size_t len);

/*
 * Loads and attaches everything (see above) and routes libbpf's log
 * through log.h.  @opts may be NULL for the defaults; @fn and @ctx are
 * kept for capture__poll().  Each failing step is logged.
 * Returns 0 with *@out set, -EINVAL for bad options, or the -errno of
 * the step that failed (-EPERM without privileges).
 */
int capture__open(struct capture **out, const struct capture_opts *opts,
		  capture_record_fn fn, void *ctx);

/* An epoll fd readable when a ring buffer has records (rings.h), or -EINVAL. */
int capture__epoll_fd(const struct capture *c);

/*
 * The descriptor that turns readable when a file searched off the loop
 * (attach__start_identify()) is ready to be probed: poll it and call
 * capture__poll(), which probes it.  -1 when there is no worker (the
 * searches run in the scans).  capture__tick() takes the results too.
 */
int capture__identify_fd(const struct capture *c);

/*
 * Consumes all records waiting in the ring: DATA and EXIT go to the
 * callback; EXEC scans a new container root at once (capture.h, above),
 * and EXEC and DLOPEN trigger a rescan of that process (after the
 * batch, once per process) and schedule rescans at +20 ms, +200 ms and
 * +2 s.  Then probes the files whose search has finished
 * (capture__identify_fd()).  Returns the number of records consumed, or
 * the callback's <0 result (rings.h: the two rings are read as one
 * stream in time order).
 */
int capture__poll(struct capture *c);

/*
 * Runs the rescans due at @now_mono_ns (CLOCK_MONOTONIC, ns), and a full
 * /proc rescan when CAPTURE_RESCAN_NS have passed since the last.
 * Returns 0 or -errno of a failed full rescan.
 */
int capture__tick(struct capture *c, __u64 now_mono_ns);

/*
 * Fills @st: the totals, and each TLS stack's share (st->stack[] by enum
 * cap_stack).  Returns 0 or -errno from reading the per-CPU stats map.
 */
int capture__stats(const struct capture *c, struct capture_stats *st);

/*
 * Stops the copying of connection (@tgid, @conn)'s SSL calls, which
 * userspace has stopped parsing (pipeline.h, pipeline_ignore_fn): the
 * BPF side counts them in cap_stats.skipped_calls instead.  @since_ns
 * is the CLOCK_MONOTONIC time (bpf_ktime_get_ns()) of the record that
 * decided; if the process exec'd after it, the entry is not applied
 * (the new image's SSL* are new connections).  SSL_free() ends it; at
 * most CAP_SKIP_MAX are kept, least recently used first out.
 * Returns 0, -EINVAL for a NULL @c, or -errno of the map update.
 */
int capture__skip_conn(struct capture *c, __u32 tgid, __u64 conn,
		       __u64 since_ns);

/*
 * Connection (@tgid, @conn) ended (a struct cap_free record, handled in
 * ring order): drops its skip_conns entry.  The BPF side drops it when
 * the connection ends, and ignores one decided from a record older than
 * the id's last end (conn_ends, capture.bpf.h), which userspace, reading
 * the ring later, may add after the end.  This covers an end that
 * conn_ends no longer holds (LRU); every entry there when the end record
 * is handled was decided on records before it.  Nothing to
 * do (no system call) before the first capture__skip_conn().  Returns 0
 * (also when there was no entry), -EINVAL for a NULL @c, or -errno of
 * the map delete.
 */
int capture__unskip_conn(struct capture *c, __u32 tgid, __u64 conn);

/*
 * Calls @cb for each attached TLS stack file, and each one a stack
 * refused (see attach__for_each_file()).  Returns 0 or @cb's nonzero
 * result.
 */
int capture__for_each_file(const struct capture *c,
			   int (*cb)(void *ctx, const struct attach_file *af),
			   void *ctx);

/* True when the uprobes are uprobe_multi links (uprobe.h). */
bool capture__multi(const struct capture *c);

/* Detaches every probe and frees everything; NULL is fine. */
void capture__close(struct capture *c);

#endif /* OISP_SENSOR_CAPTURE_H */
