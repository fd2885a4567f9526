// SPDX-License-Identifier: MIT
/*
 * finder.c - what the finders of functions in stripped files and their
 * stacks share (finder.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture/finder.h"
#include "capture/stack.h"
#include "capture/x86code.h"

int finder__optional(int err, const char **why, const char **opt_why,
		     void *fn, size_t size)
{
	if (!err)
		return 0;
	if (!*why)
		return err;
	*opt_why = *why;
	*why = NULL;
	memset(fn, 0, size);
	return 0;
}

int finder__end(int err, const char **why, const char *unread)
{
	if (err == -ENOENT)
		*why = NULL;
	else if (err && !*why)
		*why = err == -ENOMEM ? "out of memory" : unread;
	return err;
}

__u64 finder__load_start(const struct x86_walk *w, __u64 field,
			 unsigned int starts)
{
	unsigned int i;

	for (i = 1; i <= 4; i++)
		if ((starts & 1u << i) &&
		    x86_walk__spans(w, field - i, field + 4))
			return field - i;
	return 0;
}

void finder__new_text(char *buf, size_t size, __u64 entry, const char *how,
		      const char *new_why)
{
	if (entry)
		snprintf(buf, size, "SSL_new %#llx (%s)",
			 (unsigned long long)entry, how);
	else
		snprintf(buf, size, "no SSL_new (%s)", new_why);
}

int finder__probe(struct stack_match *m, struct elfsym *es, int err,
		  const char *why, __u64 write, __u64 read, __u64 ssl_new,
		  const struct tls_probe *p)
{
	const __u64 addr[3] = { write, read, ssl_new };

	return stack_match__found(m, es, err, why, addr, p, ssl_new ? 3 : 2);
}
