// SPDX-License-Identifier: MIT
/*
 * gotls.c - Go's crypto/tls as a TLS stack (stack.h).  Its probes are in
 * bpf/gotls.bpf.c; the connection id is the *tls.Conn.
 *
 * Go executables export nothing: the functions are found in .gopclntab
 * (gosym.h), which stripped builds keep.  (*Conn).Write and
 * (*Conn).Read get a uprobe at their entry and one at each of their
 * return instructions (retsites.h), never a uretprobe: Go moves
 * goroutine stacks, and a return address rewritten by a uretprobe
 * crashes the program.  Writes are taken at their entry (b is what is
 * sent): taken at their return, a write could reach the ring buffer
 * after the response another goroutine read meanwhile, and HTTP/1.1
 * pairs by order.  Their probe sits after the stack check, not at the
 * entry, which runs again when the stack must grow first.
 * (*Conn).Close ends the connection.  A Go
 * executable whose functions cannot all be found and decoded is not
 * probed; the reason is kept for `status`.
 */
#include <errno.h>
#include <stddef.h>

#include "capture/elfsym.h"
#include "capture/gosym.h"
#include "capture/retsites.h"
#include "capture/stack.h"

/* Return instructions probed per function at most (Go 1.19-1.26: 7-8). */
#define GO_RETS_MAX	24

static const char *const go_libs[] = { NULL };

/* The functions, by cookie; Read's return sites get CAP_GO_READ_RET. */
static const struct tls_probe go_probes[] = {
	{ "crypto/tls.(*Conn).Write", CAP_GO_WRITE,
	  TLS_PROBE_REQUIRED | TLS_PROBE_WRITE },
	{ "crypto/tls.(*Conn).Read", CAP_GO_READ, TLS_PROBE_REQUIRED },
	{ "crypto/tls.(*Conn).Close", CAP_GO_CLOSE, TLS_PROBE_END },
};
#define GO_NPROBES	(sizeof(go_probes) / sizeof(go_probes[0]))
_Static_assert(GO_NPROBES + GO_RETS_MAX <= TLS_PROBES_MAX,
	       "Go probes fit in a file's");

/* Adds probe @off with @cookie and @flags to @m. */
static void add(struct stack_match *m, __u64 off, __u64 cookie,
		unsigned int flags)
{
	m->offs[m->noffs] = off;
	m->cookies[m->noffs] = cookie;
	m->flags[m->noffs++] = flags;
}

/*
 * Adds function @p of @g: for Read its entry and its return
 * instructions, for Write the start of its body (after the stack
 * check), for Close its entry.  Returns 0, -ENOENT when the function is absent, or an
 * error with @m->why set.
 */
static int add_func(struct elfsym *es, int fd, const struct gosym *g,
		    const struct tls_probe *p, struct stack_match *m)
{
	__u64 entry, size, off, rets[GO_RETS_MAX], cookie, body;
	const unsigned char *code;
	unsigned int i, n;
	int err;

	err = gosym__func(g, p->sym, &entry, &size);
	if (err == -ENOENT)
		return err;
	if (!err)
		err = elfsym__addr_offset(es, entry, &off);
	if (err) {
		m->why = "crypto/tls function table entry unusable";
		return err;
	}
	if (p->flags & TLS_PROBE_END) {
		add(m, off, p->cookie, p->flags);
		return 0;
	}
	err = elfsym__read(es, fd, off, size, &code);
	if (err) {
		m->why = "crypto/tls function unreadable";
		return err;
	}
	if (p->flags & TLS_PROBE_WRITE) {
		/* Emitted there: once per call, not again after morestack. */
		err = retsites__go_body_start(code, size, entry, &body);
		if (err) {
			m->why = "no stack check at the start of (*Conn).Write";
			return err == -ENOENT ? -EILSEQ : err;
		}
		add(m, off + body, p->cookie, p->flags);
		return 0;
	}
	add(m, off, p->cookie, p->flags);
	err = retsites__find(code, size, entry, rets, GO_RETS_MAX, &n,
			     &m->why);
	if (err)
		return err;
	cookie = CAP_GO_READ_RET;
	if (retsites__go_spills_args(code, size, entry))
		cookie |= CAP_GO_F_SPILLED;
	for (i = 0; i < n; i++)
		add(m, off + rets[i], cookie,
		    TLS_PROBE_RETURN | TLS_PROBE_RETSITE);
	return 0;
}

static int go_resolve(struct elfsym *es, int fd, struct stack_match *m)
{
	struct gosym *g = NULL;
	unsigned int i;
	int err;

	err = gosym__open(es, fd, &g);
	if (err == -ENOENT)
		return err;	/* not Go */
	if (err) {
		m->why = err == -EPROTONOSUPPORT ?
			 "Go before 1.17 or not x86-64 (no register ABI)" :
			 "unreadable .gopclntab";
		return err;
	}
	for (i = 0; i < GO_NPROBES; i++) {
		err = add_func(es, fd, g, &go_probes[i], m);
		if (err == -ENOENT && !(go_probes[i].flags & TLS_PROBE_REQUIRED))
			err = 0;
		else if (err == -ENOENT) {
			m->why = "no crypto/tls (*Conn).Write and Read";
			err = -ESRCH;
		}
		if (err)
			break;
	}
	gosym__free(g);
	if (err)
		m->noffs = 0;
	return err;
}

const struct tls_stack go_stack = {
	.name = "go",
	.label = "go",
	.id = CAP_STACK_GO,
	.lib_prefixes = go_libs,
	.probes = go_probes,
	.nprobes = GO_NPROBES,
	.enter_prog = "go_enter",
	.return_prog = "go_return",
	.resolve = go_resolve,
	.resolve_quick = true,
};
