// SPDX-License-Identifier: MIT
/*
 * openssl_static.c - OpenSSL 3 linked statically into a stripped file
 * that exports none of its functions (Copilot CLI's runtime.node, whose
 * native-tls vendors OpenSSL 3.5) as a TLS stack (stack.h).
 *
 * Every SSL_write* and SSL_read* of OpenSSL 3 ends in ssl_write_internal
 * and ssl_read_internal, found by ossl3.h from the __func__ strings of
 * their error sites.  ssl_read_internal(s, buf, num, *readbytes) has
 * SSL_read_ex's prototype and result (1, or <= 0), so OpenSSL's
 * CAP_FN_READ_EX code serves it; ssl_write_internal(s, buf, num, flags,
 * *written) has written in its 5th argument (CAP_FN_WRITE_INTERNAL).
 * Both run ossl3_enter and ossl3_return (bpf/openssl.bpf.c), which count
 * in this stack's row.  The connection id is the SSL*.
 *
 * SSL_free reports no error and has no name to find it by; SSL_new,
 * found by its name and its two reasons, is probed at its return instead
 * (CAP_FN_NEW, ossl3_return): the SSL* it returns starts a connection,
 * and whatever an earlier connection at that address left (its
 * in-kernel skip, its state in userspace) ends there.  Without SSL_new
 * (not certain in a build: `status` says why) a connection's state ends
 * when it has been idle long enough, or when a new one reuses its SSL*
 * after a request was answered, or at the process's exit.
 *
 * A file may carry this stack next to another one found by its code
 * (runtime.node also holds rustls): stack.h, shares_file.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "capture/elfsym.h"
#include "capture/finder.h"
#include "capture/ossl3.h"
#include "capture/stack.h"

static const char *const openssl_static_libs[] = { NULL };

/* Labels only: the functions are found by ossl3__find_elf(). */
static const struct tls_probe openssl_static_probes[] = {
	{ "ssl_write_internal (OpenSSL 3, static)", CAP_FN_WRITE_INTERNAL,
	  TLS_PROBE_REQUIRED | TLS_PROBE_RETURN },
	{ "ssl_read_internal (OpenSSL 3, static)", CAP_FN_READ_EX,
	  TLS_PROBE_REQUIRED | TLS_PROBE_RETURN },
	{ "SSL_new (OpenSSL 3, static)", CAP_FN_NEW, TLS_PROBE_RETURN },
};

/*
 * Tells in @m->found what the search found (SSL_new's address, or why
 * it is not probed), or how far it came.
 */
static void describe(struct stack_match *m, const struct ossl3_result *r,
		     int err)
{
	char nw[80], sites[24];

	if (err) {
		snprintf(m->found, sizeof(m->found),
			 "OpenSSL %s, ssl_lib.c loaded %u times",
			 r->version[0] ? r->version : "?", r->nrefs);
		return;
	}
	snprintf(sites, sizeof(sites), "%u sites", r->ssl_new.nsites);
	finder__new_text(nw, sizeof(nw), r->ssl_new.entry, sites, r->new_why);
	snprintf(m->found, sizeof(m->found),
		 "OpenSSL %s: ssl_write_internal %#llx (%u sites), ssl_read_internal %#llx (%u sites), %s; .eh_frame entries, each site reached by decoding",
		 r->version, (unsigned long long)r->write.entry,
		 r->write.nsites, (unsigned long long)r->read.entry,
		 r->read.nsites, nw);
}

static int openssl_static_resolve(struct elfsym *es, int fd,
				  struct stack_match *m)
{
	struct ossl3_result r;
	int err;

	err = ossl3__find_elf(es, fd, &r);
	if (err == -ENOENT)
		return err;
	describe(m, &r, err);
	return finder__probe(m, es, err, r.why, r.write.entry, r.read.entry,
			     r.ssl_new.entry, openssl_static_probes);
}

const struct tls_stack openssl_static_stack = {
	.name = "OpenSSL (static)",
	.label = "openssl_static",
	.id = CAP_STACK_OPENSSL_STATIC,
	.lib_prefixes = openssl_static_libs,
	.probes = openssl_static_probes,
	.nprobes = sizeof(openssl_static_probes) /
		   sizeof(openssl_static_probes[0]),
	.enter_prog = "ossl3_enter",
	.return_prog = "ossl3_return",
	.resolve = openssl_static_resolve,
	.shares_file = true,
};
