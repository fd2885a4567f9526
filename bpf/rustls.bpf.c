// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rustls.bpf.c - plaintext of rustls over aws-lc, taken where rustls
 * encrypts and decrypts each TLS record: aws-lc's EVP_AEAD_CTX_seal (at
 * its entry, the plaintext is its input) and EVP_AEAD_CTX_open (at its
 * return, the plaintext is its output).  sensor/capture/rustls.c finds
 * them in stripped files and says where the programs go; the cookie is
 * enum cap_rustls_fn.  A uretprobe is fine here: neither C nor Rust
 * moves a thread's stack.
 *
 * Both functions take (ctx, out, out_len*, max_out, nonce, nonce_len,
 * in, in_len, ad, ad_len): the last four on the stack, above the return
 * address.  A call is taken only when its additional data is the header
 * of an application-data record of in_len bytes (RFC 8446 5.2: 17 03 03
 * and the length of ciphertext and tag; TLS 1.2, RFC 5246 6.2.3.3: seq,
 * 17 03 03 and the plaintext length), so nothing else that uses aws-lc's
 * AEAD is taken.  In TLS 1.3 the last byte of the plaintext is the
 * record's real type: only 0x17 (application data) is emitted, without
 * that byte.
 *
 * The connection id is the socket: each EVP_AEAD_CTX is one direction of
 * one key epoch, but rustls installs every key (EVP_AEAD_CTX_init*)
 * while processing what it just read from the socket, on the same
 * thread.  The sock_recv_length tracepoint keeps, per thread, the cookie
 * of the last socket the thread read data from; the init probe binds the
 * ctx to it.  The connection ends when the process releases the socket
 * (its last close(), on whichever thread), seen in TCP's state change
 * or the socket's destruction.  These tracepoints run in the socket code
 * only, so no other system call pays for them.
 *
 * Kernels before 6.3 have no sock_recv_length.  There (targ_rustls_fd)
 * a sys_enter program keeps the fd of each traced thread's last read
 * instead, the init probe binds the ctx to it when it is a socket then,
 * and close(fd) ends the connection; every system call of the host then
 * takes the kernel's traced path.  In either design a
 * ctx without a binding (a process traced after its handshake, or a key
 * installed by a thread that has read no socket) is counted in
 * missed_calls and not emitted.
 */
#include "capture.bpf.h"

#define TAG_LEN		16	/* AES-GCM and ChaCha20-Poly1305 */
#define AD_TLS13	5
#define AD_TLS12	13
#define CT_APPDATA	0x17
/*
 * Connection ids of sockets: the socket's cookie (bpf_get_socket_cookie(),
 * unique per boot and never reused) | CONN_SOCK, apart from any pointer;
 * with targ_rustls_fd, the fd | CONN_FD.
 */
#define CONN_SOCK	(1ULL << 63)
#define CONN_FD		(3ULL << 62)

extern const volatile bool targ_rustls_fd;

/* x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
#define NR_READ		0
#define NR_CLOSE	3
#define NR_READV	19
#define NR_RECVFROM	45
#define NR_RECVMSG	47
/* Those sys_enter looks at, as bits: one test for every other call. */
#define NR_MASK		(1ULL << NR_READ | 1ULL << NR_CLOSE | 1ULL << NR_READV | \
			 1ULL << NR_RECVFROM | 1ULL << NR_RECVMSG)

/* include/linux/socket.h */
#define MSG_PEEK	2

struct rustls_key {
	__u32 tgid;
	__u32 _pad;
	__u64 ctx;	/* EVP_AEAD_CTX * */
};

/*
 * The connection (CONN_SOCK | cookie, or CONN_FD | fd) each live
 * EVP_AEAD_CTX belongs to.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rustls_key);
	__type(value, __u64);
} rustls_keys SEC(".maps");

/*
 * The cookie of the socket each thread last read data from; with
 * targ_rustls_fd, 1 + the fd of its last read of any file.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} rustls_last SEC(".maps");

/*
 * Sockets (by cookie) of connections that made captured calls, and the
 * process that made them: their end is emitted.  Keyed by the cookie
 * alone because a TCP state change can run on any CPU and task (a
 * reset is handled in softirq); with targ_rustls_fd, by tgid << 32 | fd.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} rustls_conns SEC(".maps");

/*
 * Changes whenever a key is installed anywhere (rustls_keys may then
 * name another connection for a ctx address): the per-thread copies of
 * rustls_keys (struct rustls_thread) are good while it stays.
 */
__u32 rustls_keys_gen;

#define KEYS_CACHED	4	/* a client and a server end, both directions */

/*
 * A thread's state for its seal and open calls, in task storage: one
 * lookup per call.  The last KEYS_CACHED ctx -> connection answers of
 * rustls_keys are kept here, because a thread seals and opens with the
 * same few ctxs call after call, and the hash lookup would cost each
 * call more than the rest of a skipped call's work.
 */
struct rustls_thread {
	/* open's call between entry and return; skipped()'s cache */
	struct call_args call;
	__u64 open_len;		/* that open's plaintext length, if it succeeds */
	__u32 gen;		/* rustls_keys_gen when ctx[] was filled */
	__u8 next;		/* the entry of ctx[] to replace next */
	__u8 open_tls13;	/* that open's record is TLS 1.3 */
	__u8 flags[KEYS_CACHED];	/* enum key_flag, of ctx[i] */
	__u8 _pad[2];
	__u64 ctx[KEYS_CACHED];	/* 0: empty */
	__u64 conn[KEYS_CACHED];
};

enum key_flag {
	KEY_NOTED = 1,	/* conn[i] is in rustls_conns */
	/*
	 * ctx[i] had a TLS 1.3 record: its records all are (RFC 8446 5.2:
	 * the outer type is always application data, the header 5 bytes,
	 * its length in_len plus the tag), so while ad_len stays 5 the
	 * header is not read again.
	 */
	KEY_TLS13 = 2,
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct rustls_thread);
} rustls_threads SEC(".maps");

static __always_inline void count_missed(void)
{
	struct cap_stats *st = stats(CAP_STACK_RUSTLS);

	if (st)
		__sync_fetch_and_add(&st->missed_calls, 1);
}

/* The file type bits of an inode's i_mode (include/uapi/linux/stat.h). */
#define MODE_FMT	0170000
#define MODE_SOCK	0140000

/*
 * Whether @fd of @t's file table is a socket now (targ_rustls_fd).  Read
 * at a key installation only, a few times per connection.
 */
static __always_inline bool fd_is_socket(struct task_struct *t, __s32 fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return false;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), fds + fd) || !f)
		return false;
	return (BPF_CORE_READ(f, f_inode, i_mode) & MODE_FMT) == MODE_SOCK;
}

/*
 * Binds the EVP_AEAD_CTX of @k to the socket thread @t last read data
 * from, and tells every thread's copy (struct rustls_thread) that it
 * changed.  A thread that has read no socket leaves the ctx without a
 * binding: its records are counted in missed_calls.  With
 * targ_rustls_fd, the binding is to the fd of the thread's last read
 * when that is a socket now; a key installed after a read of anything
 * else (an eventfd, a pipe, a file) is left without one.
 */
static __always_inline void bind_key(struct task_struct *t,
				     struct rustls_key *k)
{
	__u64 *last = bpf_task_storage_get(&rustls_last, t, 0, 0);
	__u64 conn = 0;

	if (last && *last && !targ_rustls_fd)
		conn = CONN_SOCK | *last;
	else if (last && *last && fd_is_socket(t, (__s32)(*last - 1)))
		conn = CONN_FD | (__u32)(*last - 1);
	if (conn)
		bpf_map_update_elem(&rustls_keys, k, &conn, BPF_ANY);
	else
		bpf_map_delete_elem(&rustls_keys, k);
	__sync_fetch_and_add(&rustls_keys_gen, 1);
}

/*
 * The index in @r of the connection of ctx @k, copied from rustls_keys
 * when not there; -1, counted in missed_calls, when the ctx has no
 * binding (its key was installed before the sensor attached).
 */
static __always_inline int key_slot(struct rustls_thread *r,
				    struct rustls_key *k)
{
	__u32 gen = rustls_keys_gen, i;
	__u64 *conn;

	if (r->gen != gen) {
		/*
		 * A key was installed: copies may be stale, and so may the
		 * skip answers of an image this thread ran before an exec
		 * (its new image installs keys before any call).
		 */
		r->gen = gen;
		r->ctx[0] = r->ctx[1] = r->ctx[2] = r->ctx[3] = 0;
		r->call.skip_conn[0] = r->call.skip_conn[1] = 0;
	}
	for (i = 0; i < KEYS_CACHED; i++)
		if (r->ctx[i] == k->ctx)
			return i;
	conn = bpf_map_lookup_elem(&rustls_keys, k);
	if (!conn) {
		count_missed();
		return -1;
	}
	i = r->next & (KEYS_CACHED - 1);
	r->next = i + 1;
	r->ctx[i] = k->ctx;
	r->conn[i] = *conn;
	r->flags[i] = 0;
	return i;
}

/* The rustls_conns key of @conn of @tgid. */
static __always_inline __u64 conns_key(__u32 tgid, __u64 conn)
{
	return targ_rustls_fd ? (__u64)tgid << 32 | (__u32)conn :
				conn & ~CONN_SOCK;
}

/* Remembers that the socket of @conn, of @tgid, made captured calls. */
static __always_inline void note_conn(__u32 tgid, __u64 conn)
{
	__u64 key = conns_key(tgid, conn);

	bpf_map_update_elem(&rustls_conns, &key, &tgid, BPF_ANY);
}

/* The stack arguments of seal and open: in, in_len, ad, ad_len. */
struct aead_args {
	__u64 in;
	__u64 in_len;
	__u64 ad;
	__u64 ad_len;
};

/*
 * Checks that @a's additional data is the header of an application-data
 * record whose length field is @a->in_len plus @delta, and tells whether
 * it is TLS 1.3's.  Returns 1 (TLS 1.3), 2 (TLS 1.2) or 0 (not a record).
 */
static __always_inline int record_kind(const struct aead_args *a, __s64 delta)
{
	__u8 ad[AD_TLS12];
	const __u8 *h;

	if (a->ad_len == AD_TLS13) {
		if (bpf_probe_read_user(ad, AD_TLS13, (void *)a->ad))
			return 0;
		h = ad;
	} else if (a->ad_len == AD_TLS12) {
		if (bpf_probe_read_user(ad, AD_TLS12, (void *)a->ad))
			return 0;
		h = ad + 8;
	} else {
		return 0;
	}
	if (h[0] != CT_APPDATA || h[1] != 3 || h[2] != 3 ||
	    (__s64)((__u32)h[3] << 8 | h[4]) != (__s64)a->in_len + delta)
		return 0;
	return a->ad_len == AD_TLS13 ? 1 : 2;
}

/* The last byte of the @n bytes at user address @buf, or -1. */
static __always_inline int last_byte(__u64 buf, __u64 n)
{
	__u8 b;

	if (!n || bpf_probe_read_user(&b, 1, (void *)(buf + n - 1)))
		return -1;
	return b;
}

/*
 * Entry of seal, open or init: the cookie (enum cap_rustls_fn) says
 * which.  The cheap questions come first (which connection, is it
 * skipped), so that a skipped call reads no user memory.
 */
SEC("uprobe")
int BPF_KPROBE(rustls_enter, void *actx, void *out)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 fn = bpf_get_attach_cookie(ctx);
	struct rustls_key k = { .tgid = t->tgid, .ctx = (__u64)actx };
	struct call_args a = { .dir = CAP_DIR_WRITE }, *p;
	struct rustls_thread *r;
	struct aead_args s;
	int kind, i;

	if (fn >= CAP_RUSTLS_NR || !tgid_traced(k.tgid))
		return 0;
	if (fn == CAP_RUSTLS_INIT) {
		bind_key(t, &k);
		return 0;
	}
	r = bpf_task_storage_get(&rustls_threads, t, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!r) {
		count_missed();
		return 0;
	}
	i = key_slot(r, &k);
	if (i < 0)
		return 0;
	i &= KEYS_CACHED - 1;
	a.conn = r->conn[i];
	p = &r->call;
	if (skipped(t, p, a.conn, CAP_STACK_RUSTLS))
		return 0;
	if (bpf_probe_read_user(&s, sizeof(s), (void *)(PT_REGS_SP(ctx) + 8)))
		return 0;
	/* The header's length: seal's in + tag (1.3), open's in - tag (1.2). */
	if ((r->flags[i] & KEY_TLS13) && s.ad_len == AD_TLS13)
		kind = 1;
	else if (fn == CAP_RUSTLS_SEAL)
		kind = record_kind(&s, s.ad_len == AD_TLS13 ? TAG_LEN : 0);
	else
		kind = record_kind(&s, s.ad_len == AD_TLS13 ? 0 : -TAG_LEN);
	if (!kind)
		return 0;
	if (kind == 1)
		r->flags[i] |= KEY_TLS13;
	if (!(r->flags[i] & KEY_NOTED)) {
		note_conn(k.tgid, a.conn);
		r->flags[i] |= KEY_NOTED;
	}
	if (fn == CAP_RUSTLS_SEAL) {
		a.buf = s.in;
		if (kind == 1 && last_byte(s.in, s.in_len) != CT_APPDATA)
			return 0;
		if (s.in_len > (kind == 1))
			emit_call(t, &a, p, s.in_len - (kind == 1),
				  CAP_STACK_RUSTLS);
		return 0;
	}
	/*
	 * aws-lc's open of an AEAD with a tag of TAG_LEN bytes (every TLS
	 * suite rustls has) writes in_len - TAG_LEN bytes when it succeeds:
	 * no need to read *out_len back at the return.
	 */
	if (s.in_len <= TAG_LEN)
		return 0;
	p->conn = a.conn;
	p->buf = (__u64)out;
	p->dir = CAP_DIR_READ;
	p->live = 1;
	r->open_len = s.in_len - TAG_LEN;
	r->open_tls13 = kind == 1;
	return 0;
}

/* Return of open: 1 when the record was authentic and is decrypted. */
SEC("uretprobe")
int BPF_KRETPROBE(rustls_return, long ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct rustls_thread *r;
	struct call_args *p;
	__u64 n;

	r = bpf_task_storage_get(&rustls_threads, t, 0, 0);
	if (!r || !r->call.live)
		return 0;
	p = &r->call;
	p->live = 0;
	if ((int)ret != 1)
		return 0;
	n = r->open_len;
	if (r->open_tls13) {
		/* A zero-padded record (RFC 8446 5.4) is not taken apart. */
		if (last_byte(p->buf, n) != CT_APPDATA)
			return 0;
		n--;
	}
	if (n)
		emit_call(t, p, p, n, CAP_STACK_RUSTLS);
	return 0;
}

/*
 * Every socket read on the host while a rustls file is probed (userspace
 * attaches this only then), at its return with @ret bytes: keeps the
 * socket of each traced thread's last read that returned data.
 */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(rustls_sock_recv, struct sock *sk, int ret, int flags)
{
	struct task_struct *t;
	__u64 *slot;

	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	t = bpf_get_current_task_btf();
	if (!tgid_traced(t->tgid))
		return 0;
	slot = bpf_task_storage_get(&rustls_last, t, 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (slot)
		*slot = bpf_get_socket_cookie(sk);
	return 0;
}

/*
 * Ends the connection of socket @sk if it made captured calls.  A cookie
 * of 0 was never asked for, so the socket was never bound.
 */
static __always_inline void end_sock(const struct sock *sk)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;
	__u32 *tgid, pid;

	if (!cookie)
		return;
	tgid = bpf_map_lookup_elem(&rustls_conns, &cookie);
	if (!tgid)
		return;
	pid = *tgid;
	if (!bpf_map_delete_elem(&rustls_conns, &cookie))
		emit_conn_end(pid, CONN_SOCK | cookie);
}

/*
 * Every TCP state change on the host while a rustls file is probed: the
 * one tcp_close() makes when the process releases the socket (its last
 * close(); inet_release() has cleared sock->sk by then) ends the
 * connection.  Other changes do not: after a shutdown(), a reset or the
 * peer's FIN the process can still read what was received.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(rustls_sock_state, const struct sock *sk, int oldstate,
	     int newstate)
{
	struct socket *so = sk->sk_socket;

	if (!so || so->sk != sk)
		end_sock(sk);
	return 0;
}

/*
 * Every TCP socket destroyed on the host while a rustls file is probed:
 * a socket released in state TCP_CLOSE (reset, or closed by both ends
 * before the process's close()) changes state no more, and is destroyed
 * at once.
 */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(rustls_sock_destroy, const struct sock *sk)
{
	end_sock(sk);
	return 0;
}

/*
 * Kernels before 6.3 (targ_rustls_fd; userspace loads this instead of the
 * socket tracepoints): every system call while a rustls file is probed.
 * Keeps the fd of each traced thread's last read, and ends a connection
 * at its close(), on any thread of the process.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(rustls_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *t;
	__u64 *slot, key;
	__s32 fd;

	if ((__u64)id >= 64 || !(NR_MASK >> id & 1))
		return 0;
	t = bpf_get_current_task_btf();
	if (!tgid_traced(t->tgid))
		return 0;
	fd = (__s32)regs->di;
	if (id == NR_CLOSE) {
		key = conns_key(t->tgid, (__u32)fd);
		if (!bpf_map_delete_elem(&rustls_conns, &key))
			emit_conn_end(t->tgid, CONN_FD | (__u32)fd);
		return 0;
	}
	slot = bpf_task_storage_get(&rustls_last, t, 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (slot)
		*slot = (__u64)(__u32)fd + 1;
	return 0;
}
