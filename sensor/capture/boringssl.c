// SPDX-License-Identifier: MIT
/*
 * boringssl.c - BoringSSL linked statically into a stripped executable
 * (Bun, and programs compiled with Bun: Claude Code) as a TLS stack
 * (stack.h).  Its SSL_write and SSL_read have OpenSSL's prototypes
 * (SSL*, buf, int num) -> int, so the OpenSSL programs serve them
 * (bpf/openssl.bpf.c, boringssl_enter and boringssl_return, which count
 * in this stack's row); the connection id is the SSL*.
 *
 * Nothing is exported: the functions are found by bssl.h from the error
 * call sites of ssl/ssl_lib.cc.  A file with that file name whose
 * functions cannot all be found with certainty is not probed; the reason
 * is kept for `status`.  A BoringSSL that exports SSL_write (a shared
 * libssl of BoringSSL) is OpenSSL's stack, matched first.
 *
 * SSL_free reports no error and has no signature; SSL_new, whose first
 * check reports SSL_R_NULL_SSL_CTX, is probed at its return instead
 * (CAP_FN_NEW, boringssl_return): the SSL* it returns starts a
 * connection, and whatever an earlier connection at that address left
 * (its in-kernel skip, its state in userspace) ends there.  A build
 * where SSL_new is not certain is probed without it (`status` says why):
 * a connection's state then ends when a new one reuses its SSL* after a
 * request was answered, or at the process's exit.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "capture/bssl.h"
#include "capture/elfsym.h"
#include "capture/finder.h"
#include "capture/stack.h"

static const char *const boringssl_libs[] = { NULL };

static const struct tls_probe boringssl_probes[] = {
	{ "SSL_write", CAP_FN_WRITE,
	  TLS_PROBE_REQUIRED | TLS_PROBE_RETURN | TLS_PROBE_WRITE },
	{ "SSL_read", CAP_FN_READ, TLS_PROBE_REQUIRED | TLS_PROBE_RETURN },
	{ "SSL_new", CAP_FN_NEW, TLS_PROBE_RETURN },
};

/* How the entry of @fn was proven, for `status`. */
static const char *how(const struct bssl_func *fn)
{
	if (fn->eh_entry && fn->call_entry)
		return ".eh_frame and function start agree";
	return fn->eh_entry ? ".eh_frame" : "function start";
}

/*
 * Tells in @m->found what the search found: the entries and what proved
 * them (SSL_new's address, or why it is not probed), or (refused) how
 * far it came.
 */
static void describe(struct stack_match *m, const struct bssl_result *r,
		     int err)
{
	char nw[80];

	if (err) {
		snprintf(m->found, sizeof(m->found),
			 "ssl_lib.cc loaded %u times, %u error calls in %u functions",
			 r->nrefs, r->nsites, r->nfuncs);
		return;
	}
	finder__new_text(nw, sizeof(nw), r->ssl_new.entry, how(&r->ssl_new),
			 r->new_why);
	snprintf(m->found, sizeof(m->found),
		 "SSL_write %#llx (%s), SSL_read %#llx (%s), %s; %u error calls in %u functions, each reached by decoding",
		 (unsigned long long)r->write.entry, how(&r->write),
		 (unsigned long long)r->read.entry, how(&r->read), nw,
		 r->nsites, r->nfuncs);
}

static int boringssl_resolve(struct elfsym *es, int fd, struct stack_match *m)
{
	struct bssl_result r;
	int err;

	err = bssl__find_elf(es, fd, &r);
	if (err == -ENOENT)
		return err;
	describe(m, &r, err);
	return finder__probe(m, es, err, r.why, r.write.entry, r.read.entry,
			     r.ssl_new.entry, boringssl_probes);
}

const struct tls_stack boringssl_stack = {
	.name = "BoringSSL",
	.label = "boringssl",
	.id = CAP_STACK_BORINGSSL,
	.lib_prefixes = boringssl_libs,
	.probes = boringssl_probes,
	.nprobes = sizeof(boringssl_probes) / sizeof(boringssl_probes[0]),
	.enter_prog = "boringssl_enter",
	.return_prog = "boringssl_return",
	.resolve = boringssl_resolve,
};
