// SPDX-License-Identifier: MIT
/*
 * count - loads bench/count.bpf.c and attaches its counting probes to
 * SSL_write, SSL_write_ex, SSL_read and SSL_read_ex of one libssl (or,
 * with --stack gnutls, gnutls_record_send, _send2, _recv and _recv_seq
 * of one libgnutls), for every process.  With --stack go, --lib is a Go
 * executable and the probes go where the sensor puts its own
 * (capture/gotls.c, resolved by the same code, stack__match_fd()): the
 * start of (*tls.Conn).Write's body, the entry of Read and a uprobe on
 * each of Read's return instructions (no uretprobe in Go; Close, once
 * per connection, is left out).  With --stack boringssl, --lib is a Bun
 * executable and the probes go on the SSL_write and SSL_read the sensor
 * finds (capture/boringssl.c), uprobe and uretprobe.  With --stack rustls,
 * --lib is an executable or shared object with rustls over aws-lc and the
 * probes go where the sensor puts its own (capture/rustls.c): a uprobe on
 * EVP_AEAD_CTX_seal (counted as write_enter), a uprobe and a uretprobe on
 * _open (read_enter, read_return) and a uprobe on _init (write_ex_enter),
 * and, when the kernel has it (as the sensor decides, kbtf__has_type()),
 * the socket-read BTF tracepoint sock_recv_length (sock_recv), which the
 * sensor's rustls capture runs at every socket read; its tracepoints at a
 * connection's end run once per connection and are not mirrored.  The
 * floor is thus a counting program at every hook the sensor runs per
 * call in the traced thread.  Prints "ready" once
 * attached; then each
 * line read on stdin prints the hit counts so far as one JSON line; EOF
 * detaches.
 *
 *	count [--lib PATH] [--stack openssl|gnutls|go|boringssl|rustls]
 *	      [--writes both|entry|return] [--reads ...]
 *
 * --writes/--reads choose the probes per direction (default both: a
 * uprobe and a uretprobe, as the sensor has today); Go ignores them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/btf.h>

#include "capture/kbtf.h"
#include "capture/stack.h"
#include "capture_abi.h"
#include "count.h"
#include "count.skel.h"

#define DEFAULT_LIB	"/lib/x86_64-linux-gnu/libssl.so.3"

enum probe_set {
	PROBE_ENTRY = 1,
	PROBE_RETURN = 2,
	PROBE_BOTH = 3,
};

/* Go's probes at most: as many as the sensor may put in one file. */
#define GO_LINKS_MAX	TLS_PROBES_MAX

/* Which of a stack's four data functions (funcs[stack][func]). */
enum func { F_WRITE, F_WRITE_EX, F_READ, F_READ_EX, F_NR };

struct probe {
	enum func func;
	bool write;
	bool ret;
	enum count_slot slot;
};

/*
 * --stack openssl (default) or gnutls: GnuTLS's counterparts of the four,
 * those the sensor probes (gnutls_record_send jumps to _send2).
 */
enum { STACK_OPENSSL, STACK_GNUTLS, STACK_GO, STACK_BORINGSSL, STACK_RUSTLS };
static const char *const stack_names[] = {
	"openssl", "gnutls", "go", "boringssl", "rustls" };
static const char *const funcs[][F_NR] = {
	{ "SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex" },
	{ "gnutls_record_send", "gnutls_record_send2", "gnutls_record_recv",
	  "gnutls_record_recv_seq" },
};

static const struct probe probes[] = {
	{ F_WRITE, true, false, COUNT_WRITE_ENTER },
	{ F_WRITE_EX, true, false, COUNT_WRITE_EX_ENTER },
	{ F_READ, false, false, COUNT_READ_ENTER },
	{ F_READ_EX, false, false, COUNT_READ_EX_ENTER },
	{ F_WRITE, true, true, COUNT_WRITE_RETURN },
	{ F_WRITE_EX, true, true, COUNT_WRITE_EX_RETURN },
	{ F_READ, false, true, COUNT_READ_RETURN },
	{ F_READ_EX, false, true, COUNT_READ_EX_RETURN },
};

_Static_assert(GO_LINKS_MAX >= sizeof(probes) / sizeof(probes[0]),
	       "links[] holds every stack's probes");

static const char *const slot_names[COUNT_NR] = {
	"write_enter", "write_ex_enter", "read_enter", "read_ex_enter",
	"write_return", "write_ex_return", "read_return", "read_ex_return",
	"sock_recv",
};

struct opts {
	const char *lib;
	unsigned int stack;	/* index of stack_names and funcs */
	enum probe_set writes;
	enum probe_set reads;
};

static int parse_set(const char *s, enum probe_set *set)
{
	if (!strcmp(s, "both"))
		*set = PROBE_BOTH;
	else if (!strcmp(s, "entry"))
		*set = PROBE_ENTRY;
	else if (!strcmp(s, "return"))
		*set = PROBE_RETURN;
	else
		return -EINVAL;
	return 0;
}

static int parse_stack(const char *s, unsigned int *stack)
{
	for (*stack = 0; *stack < sizeof(stack_names) / sizeof(stack_names[0]);
	     (*stack)++)
		if (!strcmp(s, stack_names[*stack]))
			return 0;
	return -EINVAL;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i, err = 0;

	o->lib = DEFAULT_LIB;
	o->stack = STACK_OPENSSL;
	o->writes = PROBE_BOTH;
	o->reads = PROBE_BOTH;
	for (i = 1; i < argc && !err; i++) {
		if (i + 1 >= argc)
			return -EINVAL;
		if (!strcmp(argv[i], "--lib"))
			o->lib = argv[++i];
		else if (!strcmp(argv[i], "--stack"))
			err = parse_stack(argv[++i], &o->stack);
		else if (!strcmp(argv[i], "--writes"))
			err = parse_set(argv[++i], &o->writes);
		else if (!strcmp(argv[i], "--reads"))
			err = parse_set(argv[++i], &o->reads);
		else
			err = -EINVAL;
	}
	return err;
}

static struct bpf_program *slot_prog(struct count_bpf *skel,
				     enum count_slot slot)
{
	struct bpf_program *const progs[COUNT_NR] = {
		skel->progs.cnt_write_enter, skel->progs.cnt_wex_enter,
		skel->progs.cnt_read_enter, skel->progs.cnt_rex_enter,
		skel->progs.cnt_write_ret, skel->progs.cnt_wex_ret,
		skel->progs.cnt_read_ret, skel->progs.cnt_rex_ret,
	};

	return progs[slot];
}

static bool wanted(const struct opts *o, const struct probe *p)
{
	enum probe_set set = p->write ? o->writes : o->reads;

	return set & (p->ret ? PROBE_RETURN : PROBE_ENTRY);
}

static int attach_all(struct count_bpf *skel, const struct opts *o,
		      struct bpf_link **links)
{
	size_t i;
	int err;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const char *func = funcs[o->stack][probes[i].func];
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = func,
			    .retprobe = probes[i].ret);

		if (!wanted(o, &probes[i]))
			continue;
		links[i] = bpf_program__attach_uprobe_opts(
			slot_prog(skel, probes[i].slot), -1, o->lib, 0, &uo);
		if (!links[i]) {
			err = -errno;
			fprintf(stderr, "count: attach %s%s in %s: %s\n",
				func, probes[i].ret ? " (return)" : "",
				o->lib, strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * The offsets the sensor probes in @o->lib as stack @want, found by its
 * own resolver (stack__match_fd()), into @m.  Returns 0 or -errno.
 */
static int resolve(const struct opts *o, const struct tls_stack *want,
		   struct stack_match *m)
{
	int fd, err;

	fd = open(o->lib, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = stack__match_fd(fd, m);
	close(fd);
	if (!err && m->stack != want)
		err = -ENOENT;
	if (err)
		fprintf(stderr, "count: %s: not probed as %s (%s)\n", o->lib,
			want->name, m->why ? m->why : strerror(-err));
	return err;
}

/*
 * The counting program for the probe with @cookie of stack @want, at
 * the entry or (@ret) the return; NULL: not counted.
 */
static struct bpf_program *prog_for(struct count_bpf *skel,
				    const struct tls_stack *want, __u64 cookie,
				    bool ret)
{
	if (want == &boringssl_stack && cookie == CAP_FN_WRITE)
		return ret ? skel->progs.cnt_write_ret : skel->progs.cnt_write_enter;
	if (want == &boringssl_stack && cookie == CAP_FN_READ)
		return ret ? skel->progs.cnt_read_ret : skel->progs.cnt_read_enter;
	if (want == &rustls_stack) {
		switch (cookie) {
		case CAP_RUSTLS_SEAL:
			return ret ? NULL : skel->progs.cnt_write_enter;
		case CAP_RUSTLS_OPEN:
			return ret ? skel->progs.cnt_read_ret : skel->progs.cnt_read_enter;
		case CAP_RUSTLS_INIT:
			return ret ? NULL : skel->progs.cnt_wex_enter;
		}
		return NULL;
	}
	if (want != &go_stack || ret)
		return NULL;
	switch (cookie & 0xff) {
	case CAP_GO_WRITE:
		return skel->progs.cnt_write_enter;
	case CAP_GO_READ:
		return skel->progs.cnt_read_enter;
	case CAP_GO_READ_RET:
		return skel->progs.cnt_read_site;
	}
	return NULL;
}

/*
 * Attaches a counting uprobe (and with @with_ret a uretprobe) at each offset the
 * sensor probes in the executable @o->lib, found by its own resolver,
 * running prog_for()'s program; links[] has room for GO_LINKS_MAX.
 * Returns 0 or -errno: -E2BIG when the probes would not fit.
 */
static int attach_resolved(struct count_bpf *skel, const struct opts *o,
			   const struct tls_stack *want, bool with_ret,
			   struct bpf_link **links)
{
	struct stack_match m = { 0 };
	struct bpf_program *prog;
	unsigned int i, r, nl = 0;
	int err;

	err = resolve(o, want, &m);
	for (i = 0; i < m.noffs && !err; i++) {
		for (r = 0; r < (with_ret ? 2 : 1) && !err; r++) {
			prog = prog_for(skel, want, m.cookies[i], r);
			if (!prog)
				continue;
			if (nl == GO_LINKS_MAX) {
				fprintf(stderr, "count: more than %d probes in %s\n",
					GO_LINKS_MAX, o->lib);
				return -E2BIG;
			}
			links[nl] = bpf_program__attach_uprobe(prog, r, -1,
							       o->lib, m.offs[i]);
			if (!links[nl++]) {
				err = -errno;
				fprintf(stderr, "count: attach at %#llx in %s: %s\n",
					(unsigned long long)m.offs[i], o->lib,
					strerror(-err));
			}
		}
	}
	return err;
}

/*
 * --stack rustls: the uprobes of attach_resolved(), and the socket-read
 * tracepoint when it is loaded, its link in the first free entry of
 * links[] (GO_LINKS_MAX).
 */
static int attach_rustls(struct count_bpf *skel, const struct opts *o,
			 struct bpf_link **links)
{
	struct bpf_program *sock = skel->progs.cnt_sock_recv;
	unsigned int i = 0;
	int err;

	err = attach_resolved(skel, o, &rustls_stack, true, links);
	if (err || !bpf_program__autoload(sock))
		return err;
	while (i < GO_LINKS_MAX && links[i])
		i++;
	if (i == GO_LINKS_MAX)
		return -E2BIG;
	links[i] = bpf_program__attach(sock);
	if (!links[i]) {
		err = -errno;
		fprintf(stderr, "count: attach sock_recv_length: %s\n",
			strerror(-err));
	}
	return err;
}

static int print_counts(struct count_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus(), fd, err, cpu;
	__u64 *vals, sum;
	__u32 slot;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	fd = bpf_map__fd(skel->maps.hits);
	printf("{");
	for (slot = 0; slot < COUNT_NR; slot++) {
		err = bpf_map_lookup_elem(fd, &slot, vals);
		if (err) {
			err = -errno;
			break;
		}
		for (sum = 0, cpu = 0; cpu < ncpu; cpu++)
			sum += vals[cpu];
		printf("%s\"%s\":%llu", slot ? "," : "", slot_names[slot],
		       (unsigned long long)sum);
	}
	printf("}\n");
	fflush(stdout);
	free(vals);
	return err;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[GO_LINKS_MAX] = { 0 };
	struct count_bpf *skel = NULL;
	char line[64];
	struct opts o;
	size_t i;
	int err;

	err = parse_opts(argc, argv, &o);
	if (err) {
		fprintf(stderr, "usage: count [--lib PATH] [--stack openssl|gnutls|go|boringssl|rustls] "
			"[--writes both|entry|return] [--reads both|entry|return]\n");
		return 2;
	}
	skel = count_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "count: open: %s\n", strerror(-err));
		goto out;
	}
	bpf_program__set_autoload(skel->progs.cnt_sock_recv,
				  o.stack == STACK_RUSTLS &&
				  kbtf__has_type("btf_trace_sock_recv_length",
						 BTF_KIND_TYPEDEF));
	err = count_bpf__load(skel);
	if (err) {
		fprintf(stderr, "count: load: %s\n", strerror(-err));
		goto out;
	}
	if (o.stack == STACK_GO)
		err = attach_resolved(skel, &o, &go_stack, false, links);
	else if (o.stack == STACK_BORINGSSL)
		err = attach_resolved(skel, &o, &boringssl_stack, true, links);
	else if (o.stack == STACK_RUSTLS)
		err = attach_rustls(skel, &o, links);
	else
		err = attach_all(skel, &o, links);
	if (err)
		goto out;
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		err = print_counts(skel);
		if (err) {
			fprintf(stderr, "count: read hits: %s\n", strerror(-err));
			goto out;
		}
	}
out:
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		bpf_link__destroy(links[i]);
	count_bpf__destroy(skel);
	return err ? 1 : 0;
}
