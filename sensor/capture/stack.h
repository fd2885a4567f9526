/* SPDX-License-Identifier: MIT */
/*
 * stack.h - the TLS stacks capture knows, one table entry each, and how
 * a file is recognised as carrying one (or as ld.so).
 *
 * The capture -> pipeline seam.  Each stack's BPF probes (bpf/NAME.bpf.c)
 * decode its library's calls into records (bpf/capture_abi.h, record.h)
 * that name the connection by an opaque id (struct cap_data.conn: with
 * hdr.tgid, unique among live connections; OpenSSL's SSL*), a direction
 * (enum cap_dir) and the stack (enum cap_stack, for counters only), and
 * report the end of a connection (struct cap_free) so that its id may be
 * reused.  Nothing after capture knows which library made the bytes.
 *
 * Adding a stack: a bpf/NAME.bpf.c whose probes call emit_call() and
 * emit_conn_end() (bpf/capture.bpf.h) and count in their stack's row
 * (stats(), skipped(), call_slot()), an enum cap_stack value, and a
 * struct tls_stack in sensor/capture/NAME.c listed in stack.c.  The
 * registry (attach.h) then finds, probes and counts its files like
 * OpenSSL's, and status and /metrics show its counters under its label.
 */
#ifndef OISP_STACK_H
#define OISP_STACK_H

#include <stdbool.h>
#include <linux/types.h>

#include "capture_abi.h"

struct elfsym;
struct stack_match;

/* Offsets probed in one file at most (uprobe__attach()'s limit). */
#define TLS_PROBES_MAX	32

enum tls_probe_flag {
	/* A file carries the stack only when it exports all of these. */
	TLS_PROBE_REQUIRED = 1 << 0,
	/* The return program is attached too (the result gives the length). */
	TLS_PROBE_RETURN = 1 << 1,
	/*
	 * A write: with capture.write_probe: entry its data is taken at the
	 * entry and no return probe is attached.
	 */
	TLS_PROBE_WRITE = 1 << 2,
	/* The connection ends here (SSL_free): entry only. */
	TLS_PROBE_END = 1 << 3,
	/*
	 * With TLS_PROBE_RETURN: the offset is a return instruction of the
	 * function, and the return program goes there as a uprobe (Go: no
	 * uretprobe, see retsites.h).  Only the return program runs there.
	 */
	TLS_PROBE_RETSITE = 1 << 4,
};

/* One function of the library, and how it is probed. */
struct tls_probe {
	const char *sym;	/* exported symbol (ELF dynamic or static) */
	__u64 cookie;		/* BPF cookie the programs read (enum cap_fn) */
	unsigned int flags;	/* enum tls_probe_flag */
};

struct tls_stack {
	const char *name;	/* in logs and `status`: "OpenSSL" */
	/* In /metrics (label stack) and status keys: "openssl" */
	const char *label;
	enum cap_stack id;	/* in its records' cap_data.stack */
	/*
	 * Library file names the directory scans look at ("libssl": files
	 * named libssl*.so*); NULL-terminated.  Processes are recognised by
	 * what they map, whatever the name (a static build in an executable).
	 */
	const char *const *lib_prefixes;
	const struct tls_probe *probes;	/* in the order of their cookies */
	unsigned int nprobes;		/* <= TLS_PROBES_MAX */
	/* Its programs in the capture object (bpf/NAME.bpf.c), by name. */
	const char *enter_prog;		/* on every probe but return sites */
	const char *return_prog;	/* on TLS_PROBE_RETURN probes */
	/*
	 * For a stack whose functions are not exported (Go's): instead of
	 * looking up @probes by symbol, fills @m's offsets, cookies and
	 * flags from the ELF file open at @fd (read into @es; both the
	 * caller's).  Returns 0 when the file carries the stack; -ENOENT
	 * when it does not; another -errno, with @m->why set, when it does
	 * but cannot be probed with certainty (the file is then skipped).
	 */
	int (*resolve)(struct elfsym *es, int fd, struct stack_match *m);
	/*
	 * The resolve hook reads a table (Go's .gopclntab), not code: it
	 * runs with the exports' lookup, on the event loop
	 * (stack__match_quick()).  Other resolve hooks search .text and
	 * .eh_frame and run on the identification worker (identify.h,
	 * stack__match_search()).
	 */
	bool resolve_quick;
	/*
	 * A stack with a resolve hook that may be found in a file where
	 * another stack was found by its resolve hook (runtime.node holds
	 * rustls and a static OpenSSL): each is probed with its own
	 * programs.  Files whose first stack is found by its exports are
	 * that stack's only.
	 */
	bool shares_file;
};

/* The stacks, NULL-terminated, in the order files are matched against. */
extern const struct tls_stack *const tls_stacks[];

extern const struct tls_stack openssl_stack;	/* openssl.c */
extern const struct tls_stack gnutls_stack;	/* gnutls.c */
extern const struct tls_stack go_stack;		/* gotls.c */
extern const struct tls_stack boringssl_stack;	/* boringssl.c */
extern const struct tls_stack rustls_stack;	/* rustls.c */
extern const struct tls_stack openssl_static_stack; /* openssl_static.c */

/* ld.so: a file exporting this gets the dlopen probe (bpf/proc.bpf.c). */
#define LDSO_SYM	"_dl_debug_state"
#define LDSO_PROG	"dl_debug_state"

/* Bytes of struct stack_match.found, with its NUL. */
#define STACK_FOUND_MAX	256

/* Stacks one file may carry at most (a first one and a shares_file one). */
#define STACK_MATCH_MAX	2

/* What a file carries: a stack, ld.so or nothing. */
struct stack_match {
	const struct tls_stack *stack;	/* NULL: not a stack's file */
	int err;			/* the stack's error; 0: found */
	/*
	 * A file of this stack that is not probed (error returns), and why
	 * (a static string, for `status` and the log); else NULL.
	 */
	const struct tls_stack *skipped;
	const char *why;
	/*
	 * For a stack that looks for its functions (resolve): what it found
	 * and how sure it is, for `status`; "" when it says nothing.
	 */
	char found[STACK_FOUND_MAX];
	bool ldso;			/* glibc ld.so (when !stack) */
	__u32 noffs;			/* probed functions */
	__u64 offs[TLS_PROBES_MAX];	/* their file offsets */
	__u64 cookies[TLS_PROBES_MAX];	/* their tls_probe.cookie */
	unsigned int flags[TLS_PROBES_MAX];	/* their tls_probe.flags */
};

/*
 * Reads the ELF file open at @fd (the caller keeps it) and fills @m: the
 * first stack of tls_stacks[] whose required functions it exports (and
 * that is not a wrapper calling another stack's required functions), with
 * the offsets of those of its functions that are there, or else ld.so
 * with the offset of LDSO_SYM.  Returns 0, -ENOENT when it is neither,
 * -ENOEXEC for an ELF of another machine, or -errno of reading it.
 */
int stack__match_fd(int fd, struct stack_match *m);

/*
 * stack__match_fd() for every stack the file carries: @m[0] as
 * stack__match_fd() fills it, and, when its stack (found or refused) has
 * a resolve hook, @m[1] for a shares_file stack that is found or
 * refused there too (its error in @m[1].err).  *@n: entries filled (0
 * when the file is no stack's, ld.so or not).  Returns as
 * stack__match_fd() (the first entry's result).
 */
int stack__match_all(int fd, struct stack_match m[STACK_MATCH_MAX],
		     unsigned int *n);

/*
 * The part of stack__match_all() that stays cheap (no code is read):
 * the stacks found by their exports or a resolve_quick hook, and ld.so.
 * Fills @m and *@n as stack__match_all() would if no other stack were
 * there, and sets *@search when stack__match_search() may still find
 * one: nothing was found (not ld.so either), or the first stack was
 * found (or refused) by a resolve hook and a shares_file stack may
 * follow.  Returns as stack__match_all().
 */
int stack__match_quick(int fd, struct stack_match m[STACK_MATCH_MAX],
		       unsigned int *n, bool *search);

/*
 * The rest of stack__match_all() after stack__match_quick() left
 * *@search set: the stacks that search code, continuing from
 * @m[0..*@n) (updated).  Safe to run on another thread than the loop's
 * (no shared state; @fd is read with pread(2)).  *@cancel (NULL: never)
 * is read before each stack is tried: -ECANCELED once it is set.
 * Otherwise returns as stack__match_all().
 */
int stack__match_search(int fd, struct stack_match m[STACK_MATCH_MAX],
			unsigned int *n, const int *cancel);

/*
 * Adds probes @p[0..@n) at virtual addresses @addr[0..@n) of the file
 * of @es to @m (their file offsets, cookies and flags), for resolve
 * hooks.  Returns 0; -ERANGE with @m->why set, and no probe kept, when
 * no segment of the file holds an address; -E2BIG past TLS_PROBES_MAX.
 */
int stack_match__add(struct stack_match *m, struct elfsym *es,
		     const __u64 *addr, const struct tls_probe *p,
		     unsigned int n);

/*
 * The end of a resolve hook whose finder returned @err (not -ENOENT)
 * with @why: @err with @m->why set to @why, or, when it found the
 * functions, stack_match__add()'s result for them.
 */
int stack_match__found(struct stack_match *m, struct elfsym *es, int err,
		       const char *why, const __u64 *addr,
		       const struct tls_probe *p, unsigned int n);

/*
 * True when directory entry @name may be a stack's library (one of
 * lib_prefixes, and ".so" in the name) or, with @ldso, an ld.so
 * (ld-linux*.so*, ld-musl*.so*).
 */
bool stack__lib_name(const char *name, bool ldso);

#endif /* OISP_STACK_H */
