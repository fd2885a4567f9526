// SPDX-License-Identifier: MIT
/*
 * gnutls.c - GnuTLS as a TLS stack (stack.h).  Its probes are in
 * bpf/gnutls.bpf.c; the connection id is the gnutls_session_t.
 *
 * A file carries it when it exports gnutls_record_send and
 * gnutls_record_recv: libgnutls.so* (the directory scans look at files
 * named libgnutls*), or an executable with a static GnuTLS.  The other
 * functions that move application data are probed when present (GnuTLS
 * 3.7 API, gnutls/gnutls.h): gnutls_record_send2 (>= 3.6.3), which
 * gnutls_record_send calls; gnutls_record_send_range (length hiding,
 * gnutls-cli --ranges); gnutls_record_recv_seq (DTLS programs).  The
 * session ends at gnutls_deinit.
 *
 * Not probed: gnutls_record_recv_packet (zero copy: the data is in a
 * packet whose layout is private to GnuTLS), gnutls_record_send_file
 * (kernel TLS sendfile: the bytes come from a file, not memory), and the
 * TLS 1.3 early data calls (0-RTT, which servers rarely accept).
 */
#include <stddef.h>

#include "capture/stack.h"

static const char *const gnutls_libs[] = { "libgnutls", NULL };

static const struct tls_probe gnutls_probes[] = {
	{ "gnutls_record_send", CAP_GNUTLS_SEND,
	  TLS_PROBE_REQUIRED | TLS_PROBE_RETURN | TLS_PROBE_WRITE },
	{ "gnutls_record_send2", CAP_GNUTLS_SEND2,
	  TLS_PROBE_RETURN | TLS_PROBE_WRITE },
	{ "gnutls_record_send_range", CAP_GNUTLS_SEND_RANGE,
	  TLS_PROBE_RETURN | TLS_PROBE_WRITE },
	{ "gnutls_record_recv", CAP_GNUTLS_RECV,
	  TLS_PROBE_REQUIRED | TLS_PROBE_RETURN },
	{ "gnutls_record_recv_seq", CAP_GNUTLS_RECV_SEQ, TLS_PROBE_RETURN },
	{ "gnutls_deinit", CAP_GNUTLS_DEINIT, TLS_PROBE_END },
};
_Static_assert(sizeof(gnutls_probes) / sizeof(gnutls_probes[0]) ==
	       CAP_GNUTLS_NR, "one probe per enum cap_gnutls_fn");

const struct tls_stack gnutls_stack = {
	.name = "GnuTLS",
	.label = "gnutls",
	.id = CAP_STACK_GNUTLS,
	.lib_prefixes = gnutls_libs,
	.probes = gnutls_probes,
	.nprobes = CAP_GNUTLS_NR,
	.enter_prog = "gnutls_enter",
	.return_prog = "gnutls_return",
};
