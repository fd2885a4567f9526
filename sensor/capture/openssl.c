// SPDX-License-Identifier: MIT
/*
 * openssl.c - OpenSSL (and its forks that keep its API: LibreSSL,
 * BoringSSL's shared builds) as a TLS stack (stack.h).  Its probes are in
 * bpf/openssl.bpf.c; the connection id is the SSL*.
 *
 * A file carries it when it exports SSL_write and SSL_read: libssl.so*,
 * or an executable with a static OpenSSL such as /usr/bin/node.  The _ex
 * functions (OpenSSL >= 1.1.1) and SSL_free are probed when present.
 */
#include <stddef.h>

#include "capture/stack.h"

static const char *const openssl_libs[] = { "libssl", NULL };

static const struct tls_probe openssl_probes[] = {
	{ "SSL_write", CAP_FN_WRITE,
	  TLS_PROBE_REQUIRED | TLS_PROBE_RETURN | TLS_PROBE_WRITE },
	{ "SSL_write_ex", CAP_FN_WRITE_EX, TLS_PROBE_RETURN | TLS_PROBE_WRITE },
	{ "SSL_read", CAP_FN_READ, TLS_PROBE_REQUIRED | TLS_PROBE_RETURN },
	{ "SSL_read_ex", CAP_FN_READ_EX, TLS_PROBE_RETURN },
	{ "SSL_free", CAP_FN_FREE, TLS_PROBE_END },
};
/* One probe per exported function (CAP_FN_WRITE_INTERNAL is not one). */
#define OPENSSL_NPROBES	(CAP_FN_FREE + 1)
_Static_assert(sizeof(openssl_probes) / sizeof(openssl_probes[0]) ==
	       OPENSSL_NPROBES, "one probe per exported enum cap_fn");

const struct tls_stack openssl_stack = {
	.name = "OpenSSL",
	.label = "openssl",
	.id = CAP_STACK_OPENSSL,
	.lib_prefixes = openssl_libs,
	.probes = openssl_probes,
	.nprobes = OPENSSL_NPROBES,
	.enter_prog = "ssl_enter",
	.return_prog = "ssl_return",
};
