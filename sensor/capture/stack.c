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

int stack__match_fd(int fd, struct stack_match *m)
{
	struct elfsym *es = NULL;
	unsigned int i;
	__u64 off;
	int err;

	memset(m, 0, sizeof(*m));
	err = elfsym__open_fd(fd, &es);
	if (err)
		return err;
	if (!elfsym__native(es)) {
		err = -ENOEXEC;
		goto out_free;
	}
	for (i = 0; tls_stacks[i]; i++) {
		err = match_stack(es, fd, tls_stacks[i], m);
		if (!err && wraps_another(es, tls_stacks[i])) {
			m->stack = NULL;
			continue;
		}
		if (err != -ENOENT)
			goto out_free;
	}
	err = 0;
	m->noffs = 0;
	if (elfsym__offset(es, LDSO_SYM, &off) == 0) {
		m->ldso = true;
		m->offs[0] = off;
		m->noffs = 1;
	} else {
		err = -ENOENT;
	}
out_free:
	elfsym__free(es);
	return err;
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
