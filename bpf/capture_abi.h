/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * capture_abi.h - the record ABI shared by the bpf/ programs and userspace.
 *
 * Every record the BPF programs put on the ring buffer starts with
 * struct cap_hdr.  The same bytes are written by `oisp-sensor record`
 * and read back by `oisp-sensor replay`, so this layout is also the
 * on-disk capture format (see sensor/capture/recfile.h): change it only together
 * with CAP_ABI_VERSION.
 */
#ifndef OISP_CAPTURE_ABI_H
#define OISP_CAPTURE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * 2: data records of up to 64 KiB (CAP_CHUNK_MAX); 1: up to 16 KiB, with
 * the same layout.  Readers take every version from CAP_ABI_OLDEST.
 */
#define CAP_ABI_VERSION		2
#define CAP_ABI_OLDEST		1
#define CAP_COMM_LEN		16
/*
 * Payload bytes in one ring-buffer record; larger SSL calls are split.
 * The probes cut at CAP_CHUNK_MAX when the large ring holds at least
 * CAP_BIG_CHUNK_RING_MIN bytes, else at CAP_CLASS_3: records of 16 KiB
 * (capture files of this ABI version written before hold no larger).
 */
#define CAP_CHUNK_MAX		65536
/* Upper bound of the per-call capture cap (capture.max_bytes_per_call). */
#define CAP_CALL_MAX		(16u << 20)

enum cap_kind {
	CAP_KIND_DATA = 1,	/* struct cap_data: plaintext of one SSL call */
	CAP_KIND_EXEC = 2,	/* struct cap_proc: sched_process_exec */
	CAP_KIND_EXIT = 3,	/* struct cap_proc: a traced tgid exited */
	CAP_KIND_DLOPEN = 4,	/* struct cap_proc: ld.so changed its link map */
	/* struct cap_proc: a traced process forked (targeted mode only) */
	CAP_KIND_FORK = 5,
	/* struct cap_free: SSL_free() in a process that made captured calls */
	CAP_KIND_FREE = 6,
};

/*
 * The TLS stack a record came from.  OpenSSL is 0: capture files of ABI
 * version 1 written before the field existed hold 0 there.
 */
enum cap_stack {
	CAP_STACK_OPENSSL = 0,
	CAP_STACK_GNUTLS = 1,	/* libgnutls: the connection id is the session */
	CAP_STACK_GO = 2,	/* Go's crypto/tls, in Go executables */
	/* BoringSSL linked into stripped executables (Bun): the SSL* */
	CAP_STACK_BORINGSSL = 3,
	/* rustls over aws-lc (its AEAD calls): the connection is the socket */
	CAP_STACK_RUSTLS = 4,
	/* OpenSSL 3 linked statically without exports (Copilot's runtime.node) */
	CAP_STACK_OPENSSL_STATIC = 5,
	CAP_STACK_NR,
};

enum cap_dir {
	CAP_DIR_WRITE = 1,	/* SSL_write/SSL_write_ex: bytes sent */
	CAP_DIR_READ = 2,	/* SSL_read/SSL_read_ex: bytes received */
};

/*
 * The function a uprobe sits on, passed as its BPF cookie
 * (bpf_get_attach_cookie()): one entry program serves them all.
 */
enum cap_fn {
	CAP_FN_WRITE = 0,	/* SSL_write(ssl, buf, num) */
	CAP_FN_WRITE_EX = 1,	/* SSL_write_ex(ssl, buf, num, *written) */
	CAP_FN_READ = 2,	/* SSL_read(ssl, buf, num) */
	CAP_FN_READ_EX = 3,	/* SSL_read_ex(ssl, buf, num, *readbytes) */
	CAP_FN_FREE = 4,	/* SSL_free(ssl): the connection ends */
	/* ssl_write_internal(ssl, buf, num, flags, *written): OpenSSL 3 */
	CAP_FN_WRITE_INTERNAL = 5,
	/*
	 * SSL_new(ctx) -> SSL *, at its return: a connection starts at that
	 * address, so whatever an earlier one left there ends (static
	 * BoringSSL and OpenSSL 3, where SSL_free is not found)
	 */
	CAP_FN_NEW = 6,
	CAP_FN_NR = 7,
};

/*
 * GnuTLS's functions (bpf/gnutls.bpf.c), as the cookies of its probes;
 * the API of GnuTLS 3.7 (gnutls/gnutls.h).
 */
enum cap_gnutls_fn {
	/* gnutls_record_send(session, data, size): >= 3.6.3 jumps to send2 */
	CAP_GNUTLS_SEND = 0,
	/* gnutls_record_send2(session, data, size, pad, flags) */
	CAP_GNUTLS_SEND2 = 1,
	/* gnutls_record_send_range(session, data, size, range) */
	CAP_GNUTLS_SEND_RANGE = 2,
	CAP_GNUTLS_RECV = 3,	/* gnutls_record_recv(session, data, size) */
	/* gnutls_record_recv_seq(session, data, size, seq) */
	CAP_GNUTLS_RECV_SEQ = 4,
	CAP_GNUTLS_DEINIT = 5,	/* gnutls_deinit(session): the session ends */
	CAP_GNUTLS_NR = 6,
};

/*
 * Go's crypto/tls (bpf/gotls.bpf.c): the BPF cookie of a uprobe at the
 * entry of a method of *tls.Conn, or at one of its return instructions.
 */
enum cap_go_fn {
	CAP_GO_WRITE = 0,	/* (*Conn).Write(b []byte) (int, error) */
	CAP_GO_READ = 1,	/* (*Conn).Read(b []byte) (int, error) */
	CAP_GO_CLOSE = 2,	/* (*Conn).Close() error: the connection ends */
	CAP_GO_READ_RET = 3,	/* a return instruction of Read */
	CAP_GO_NR = 4,
	/*
	 * Or'ed into a _RET cookie: the function keeps its receiver and b's
	 * data pointer in their spill slots, at RSP + 8 and RSP + 16 at its
	 * returns (a call entered before the probes were attached).
	 */
	CAP_GO_F_SPILLED = 0x100,
};

/*
 * rustls over aws-lc (bpf/rustls.bpf.c): the BPF cookie of a uprobe on
 * one of aws-lc's AEAD functions (aws-lc include/openssl/aead.h).
 */
enum cap_rustls_fn {
	/* EVP_AEAD_CTX_seal(ctx, out, out_len, max_out, nonce, nonce_len,
	 * in, in_len, ad, ad_len): a record is encrypted */
	CAP_RUSTLS_SEAL = 0,
	/* EVP_AEAD_CTX_open(same arguments): a record is decrypted */
	CAP_RUSTLS_OPEN = 1,
	/* EVP_AEAD_CTX_init(_with_direction)(ctx, ...): a key is installed */
	CAP_RUSTLS_INIT = 2,
	CAP_RUSTLS_NR = 3,
};

enum cap_flag {
	/* The call moved more than the cap; bytes past it were not copied. */
	CAP_F_TRUNCATED = 1 << 0,
	/* bpf_probe_read_user() failed for this chunk; data[] is zeroed. */
	CAP_F_READ_FAULT = 1 << 1,
};

struct cap_hdr {
	__u32 kind;		/* enum cap_kind */
	__u32 tgid;		/* process id */
	__u32 tid;		/* thread id */
	__u32 uid;
	__u32 gid;
	__u32 _pad;
	__u64 ts_ns;		/* CLOCK_MONOTONIC, bpf_ktime_get_ns() */
	char comm[CAP_COMM_LEN];
};
_Static_assert(sizeof(struct cap_hdr) == 48, "cap_hdr ABI");

/*
 * The plaintext of one call of a TLS stack.  With hdr.tgid, @conn names
 * the connection: an opaque id that only the stack's probes give meaning
 * to (OpenSSL: the SSL*).  Nothing after capture knows which library
 * made the record beyond @stack, which is for counters and `status`.
 */
struct cap_data {
	struct cap_hdr hdr;
	__u64 conn;		/* connection id within the process */
	__u64 call_id;		/* groups the chunks of one call (unique per boot) */
	__u32 dir;		/* enum cap_dir */
	__u32 flags;		/* enum cap_flag */
	__u32 call_len;		/* bytes the call returned (> 0) */
	__u32 offset;		/* offset of data[0] within the call's buffer */
	__u32 len;		/* bytes that follow in data[] */
	__u32 stack;		/* enum cap_stack */
	__u8 data[CAP_CHUNK_MAX];
};
/*
 * A record reserved on the ring is CAP_DATA_HDR_SIZE plus the smallest
 * size class (CAP_CLASS_*) that holds len; readers use len, and capture
 * files (recfile.h) hold exactly CAP_DATA_HDR_SIZE + len bytes.
 */
#define CAP_CLASS_0		512
#define CAP_CLASS_1		2048
#define CAP_CLASS_2		8192
#define CAP_CLASS_3		16384
#define CAP_CLASS_4		32768
#define CAP_DATA_HDR_SIZE	88
/* See CAP_CHUNK_MAX: a smaller ring would hold few records of 64 KiB. */
#define CAP_BIG_CHUNK_RING_MIN	(16u * CAP_CHUNK_MAX)
_Static_assert(__builtin_offsetof(struct cap_data, data) == CAP_DATA_HDR_SIZE,
	       "cap_data ABI");
_Static_assert(sizeof(struct cap_data) == CAP_DATA_HDR_SIZE + CAP_CHUNK_MAX,
	       "cap_data ABI");

struct cap_proc {
	struct cap_hdr hdr;
	__u32 ppid;		/* parent tgid (EXEC) */
	__u32 exit_code;	/* EXIT: task->exit_code */
};
_Static_assert(sizeof(struct cap_proc) == 56, "cap_proc ABI");

/*
 * A connection ended (OpenSSL: SSL_free()): its state ends here, so that
 * a new connection that gets the same id is not taken for it.
 */
struct cap_free {
	struct cap_hdr hdr;
	__u64 conn;		/* as in struct cap_data */
};
_Static_assert(sizeof(struct cap_free) == 56, "cap_free ABI");

/*
 * Per-CPU counters in the `cap_stats` array map, summed by userspace:
 * one row per TLS stack (enum cap_stack: the counts of its probes), and
 * row CAP_STATS_CONTROL for the process records' losses (lost_control),
 * which are no stack's.
 * Records and bytes delivered are counted by the reader instead: an
 * atomic add costs every traced call.  One row per counter, in the
 * layout of sensor/lib/stats.h: the list generates the struct here and
 * its "capture" rows in `status` and /metrics (sensor/serve/stats.c).
 * CAP_STATS_STACK are counted per stack (labelled by stack in /metrics),
 * lost_control in the control row only.
 */
#define CAP_STATS(X) \
	CAP_STATS_STACK(X) \
	X(lost_control, COUNTER, BAD, \
	  "Exec, exit, dlopen and connection-end records lost.")

#define CAP_STATS_STACK(X) \
	X(calls, COUNTER, OK, \
	  "TLS read/write calls captured by the uprobes.") \
	/* bpf_ringbuf_output() failed */ \
	X(lost_records, COUNTER, BAD, \
	  "Records the full ring buffer could not take.") \
	X(lost_bytes, COUNTER, BAD, \
	  "Plaintext bytes of the records lost.") \
	X(truncated_calls, COUNTER, OK, \
	  "Calls longer than capture.max_bytes_per_call, cut.") \
	/* bytes past the cap, never copied */ \
	X(truncated_bytes, COUNTER, OK, \
	  "Bytes not copied because of the per-call cap.") \
	/* bpf_probe_read_user() failures */ \
	X(read_faults, COUNTER, BAD, \
	  "Plaintext that could not be read from the traced process.") \
	X(missed_calls, COUNTER, BAD, \
	  "TLS calls not captured: no task storage for their arguments, a GnuTLS send retried without its buffer, or a rustls record whose key has no socket: installed before the sensor attached, or by a thread that had read no socket.") \
	/* connections in skip_conns */ \
	X(skipped_calls, COUNTER, OK, \
	  "TLS calls of connections the sensor ignores (server side, not HTTP/1.x, switched protocols), not copied.")

#define CAP_STATS_MEMBER(name, kind, alert, help)	__u64 name;
struct cap_stats {
	CAP_STATS(CAP_STATS_MEMBER)
};
#undef CAP_STATS_MEMBER
_Static_assert(sizeof(struct cap_stats) == 72, "cap_stats ABI");
#define CAP_STATS_CONTROL	CAP_STACK_NR
#define CAP_STATS_ROWS		(CAP_STACK_NR + 1)

/*
 * Key of the `skip_conns` map: a connection, as userspace keys it
 * (the tgid and the conn id of its records).
 */
struct cap_conn_key {
	__u32 tgid;
	__u32 _pad;
	__u64 conn;
};
_Static_assert(sizeof(struct cap_conn_key) == 16, "cap_conn_key ABI");
/* Entries of `skip_conns`; the least recently used goes when full. */
#define CAP_SKIP_MAX		16384

#endif /* OISP_CAPTURE_ABI_H */
