// SPDX-License-Identifier: MIT
/*
 * stack.c - the table of TLS stacks and the recognition of their files
 * (stack.h).
 */
#include <errno.h>
#include <string.h>

#include "capture/elfsym.h"
#include "capture/stack.h"

const struct tls_stack *const tls_stacks[] = {
	&openssl_stack,
	&gnutls_stack,
	&go_stack,
	&boringssl_stack,
	&rustls_stack,
	&openssl_static_stack,
	NULL,
};

/*
 * Fills @m with @s's functions that the file of @es (open at @fd)
 * exports, or that @s's resolve hook finds.  Returns 0 when the file is
 * @s's, -ENOENT when not, or the resolve hook's error.
 */
static int match_stack(struct elfsym *es, int fd, const struct tls_stack *s,
		       struct stack_match *m)
{
	const struct tls_probe *p;
	unsigned int i;
	__u64 off;
	int err;

	m->noffs = 0;
	if (s->resolve) {
		err = s->resolve(es, fd, m);
		if (!err)
			m->stack = s;
		else if (err != -ENOENT)
			m->skipped = s;
		return err;
	}
	for (i = 0; i < s->nprobes && i < TLS_PROBES_MAX; i++) {
		p = &s->probes[i];
		if (elfsym__offset(es, p->sym, &off)) {
			if (p->flags & TLS_PROBE_REQUIRED)
				return -ENOENT;
			continue;
		}
		m->offs[m->noffs] = off;
		m->cookies[m->noffs] = p->cookie;
		m->flags[m->noffs++] = p->flags;
	}
	m->stack = s;
	return 0;
}

/*
 * True when the file of @es calls all the required functions of a stack
 * other than @s from another file: a wrapper of that stack with @s's API
 * (GnuTLS's libgnutls-openssl exports SSL_write over gnutls_record_send).
 * Its calls are captured where they land, once.
 */
static bool wraps_another(const struct elfsym *es, const struct tls_stack *s)
{
	const struct tls_stack *o;
	unsigned int i, j, nreq;
	bool all;

	for (i = 0; tls_stacks[i]; i++) {
		o = tls_stacks[i];
		if (o == s)
			continue;
		all = true;
		nreq = 0;
		for (j = 0; j < o->nprobes && all; j++) {
			if (!(o->probes[j].flags & TLS_PROBE_REQUIRED))
				continue;
			nreq++;
			all = elfsym__imports(es, o->probes[j].sym);
		}
		if (all && nreq)
			return true;
	}
	return false;
}

/* Whether @s is found by searching code (stack__match_search()). */
static bool searched(const struct tls_stack *s)
{
	return s->resolve && !s->resolve_quick;
}

/*
 * Matches the file of @es (open at @fd) against the stacks of one pass
 * (@search: those searched(), else the others), after the entries
 * @m[0..*@n) of an earlier pass: once a stack is found by its exports
 * the file is its alone; after one found by a resolve hook, only
 * shares_file stacks are tried.  Returns 0, or -ECANCELED when
 * *@cancel (may be NULL) is set before a stack is tried.
 */
static int match_pass(struct elfsym *es, int fd, struct stack_match *m,
		      unsigned int *n, bool search, const int *cancel)
{
	const struct tls_stack *s, *first;
	unsigned int i;
	int err;

	for (i = 0; tls_stacks[i] && *n < STACK_MATCH_MAX; i++) {
		s = tls_stacks[i];
		if (searched(s) != search)
			continue;
		if (*n) {
			first = m[0].stack ? m[0].stack : m[0].skipped;
			if (!first->resolve)
				break;	/* found by its exports: its file */
			if (!s->shares_file)
				continue;
		}
		if (cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED))
			return -ECANCELED;
		err = match_stack(es, fd, s, &m[*n]);
		if (!err && wraps_another(es, s))
			err = -ENOENT;
		if (err == -ENOENT) {
			memset(&m[*n], 0, sizeof(m[*n]));
			continue;
		}
		m[*n].err = err;
		(*n)++;
	}
	return 0;
}

/*
 * The result once the passes are done: the first entry's error, or,
 * with no stack, ld.so's offset in @m[0] (0) or -ENOENT.
 */
static int match_end(struct elfsym *es, struct stack_match *m, unsigned int n)
{
	__u64 off;

	if (n)
		return m[0].err;
	if (elfsym__offset(es, LDSO_SYM, &off))
		return -ENOENT;
	m->ldso = true;
	m->offs[0] = off;
	m->noffs = 1;
	return 0;
}

/*
 * Opens the ELF file at @fd into *@es for a pass; -ENOEXEC (and *@es
 * NULL) for another machine's.
 */
static int open_native(int fd, struct elfsym **es)
{
	int err = elfsym__open_fd(fd, es);

	if (err)
		return err;
	if (elfsym__native(*es))
		return 0;
	elfsym__free(*es);
	*es = NULL;
	return -ENOEXEC;
}

int stack__match_quick(int fd, struct stack_match m[STACK_MATCH_MAX],
		       unsigned int *n, bool *search)
{
	const struct tls_stack *first;
	struct elfsym *es = NULL;
	int err;

	*n = 0;
	*search = false;
	memset(m, 0, sizeof(*m) * STACK_MATCH_MAX);
	err = open_native(fd, &es);
	if (err)
		return err;
	match_pass(es, fd, m, n, false, NULL);
	err = match_end(es, m, *n);
	if (!*n) {
		*search = err == -ENOENT;
	} else if (*n < STACK_MATCH_MAX) {
		first = m[0].stack ? m[0].stack : m[0].skipped;
		*search = first->resolve != NULL;
	}
	elfsym__free(es);
	return err;
}

int stack__match_search(int fd, struct stack_match m[STACK_MATCH_MAX],
			unsigned int *n, const int *cancel)
{
	struct elfsym *es = NULL;
	int err;

	err = open_native(fd, &es);
	if (!err)
		err = match_pass(es, fd, m, n, true, cancel);
	if (!err)
		err = match_end(es, m, *n);
	elfsym__free(es);
	return err;
}

int stack__match_all(int fd, struct stack_match m[STACK_MATCH_MAX],
		     unsigned int *n)
{
	bool search;
	int err;

	err = stack__match_quick(fd, m, n, &search);
	return search ? stack__match_search(fd, m, n, NULL) : err;
}

int stack__match_fd(int fd, struct stack_match *m)
{
	struct stack_match all[STACK_MATCH_MAX];
	unsigned int n;
	int err;

	err = stack__match_all(fd, all, &n);
	*m = all[0];
	return err;
}

int stack_match__add(struct stack_match *m, struct elfsym *es,
		     const __u64 *addr, const struct tls_probe *p,
		     unsigned int n)
{
	unsigned int i;
	__u64 off;

	for (i = 0; i < n; i++) {
		if (m->noffs >= TLS_PROBES_MAX) {
			m->noffs = 0;
			return -E2BIG;
		}
		if (elfsym__addr_offset(es, addr[i], &off)) {
			m->why = "the function lies outside the file's segments";
			m->noffs = 0;
			return -ERANGE;
		}
		m->offs[m->noffs] = off;
		m->cookies[m->noffs] = p[i].cookie;
		m->flags[m->noffs++] = p[i].flags;
	}
	return 0;
}

int stack_match__found(struct stack_match *m, struct elfsym *es, int err,
		       const char *why, const __u64 *addr,
		       const struct tls_probe *p, unsigned int n)
{
	if (err) {
		m->why = why;
		return err;
	}
	return stack_match__add(m, es, addr, p, n);
}

bool stack__lib_name(const char *name, bool ldso)
{
	const char *const *pre;
	unsigned int i;

	if (!strstr(name, ".so"))
		return false;
	if (ldso)
		return !strncmp(name, "ld-linux", 8) ||
		       !strncmp(name, "ld-musl", 7);
	for (i = 0; tls_stacks[i]; i++)
		for (pre = tls_stacks[i]->lib_prefixes; *pre; pre++)
			if (!strncmp(name, *pre, strlen(*pre)))
				return true;
	return false;
}
