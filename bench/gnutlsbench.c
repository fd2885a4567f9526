// SPDX-License-Identifier: MIT
/*
 * gnutlsbench - tlsbench's bio mode over GnuTLS: HTTP/1.1 request/response
 * rounds between a client and a server session in one thread, as fast as
 * they go, to measure what probes on gnutls_record_send/_recv cost the
 * program that is traced.
 *
 *	gnutlsbench --size BYTES --seconds S
 *
 * A round is one OpenAI-style chat request (POST /v1/chat/completions to
 * api.openai.com, a JSON body of BYTES) and its JSON response, each sent
 * with as many gnutls_record_send calls and received with as many
 * gnutls_record_recv calls as it takes (one per TLS record, 16 KiB at
 * most: unlike SSL_write, a send takes one record).  The sessions
 * move their records through two in-memory queues (push and pull
 * functions): no system calls, the time is the record calls themselves.
 *
 * Prints one JSON line in tlsbench's format (mode "bio"): rounds,
 * seconds, write and read calls (both sides) and the time inside them,
 * and warm_calls, the calls of the warm-up rounds before the measure.
 * The certificate is a throwaway self-signed P-256 one made at start;
 * the client does not verify it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "msgs.h"

#define QUEUE_BYTES	(4 << 20)
#define READ_BUF_BYTES	(128 << 10)
#define WARMUP_ROUNDS	64

/* One direction's bytes in flight: [head, tail) of buf. */
struct queue {
	char *buf;
	size_t head, tail;
};

/* A session's transport: it pushes to @out and pulls from @in. */
struct end {
	gnutls_session_t s;
	struct queue *in, *out;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "gnutlsbench: %s: %s\n", what, gnutls_strerror(err));
	exit(1);
}

static ssize_t push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct end *e = p;
	struct queue *q = e->out;

	if (q->head == q->tail)
		q->head = q->tail = 0;
	if (len > QUEUE_BYTES - q->tail) {
		gnutls_transport_set_errno(e->s, EAGAIN);
		return -1;
	}
	memcpy(q->buf + q->tail, data, len);
	q->tail += len;
	return (ssize_t)len;
}

static ssize_t pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct end *e = p;
	struct queue *q = e->in;

	if (q->head == q->tail) {
		gnutls_transport_set_errno(e->s, EAGAIN);
		return -1;
	}
	if (len > q->tail - q->head)
		len = q->tail - q->head;
	memcpy(data, q->buf + q->head, len);
	q->head += len;
	return (ssize_t)len;
}

static gnutls_certificate_credentials_t server_creds(void)
{
	gnutls_certificate_credentials_t cred;
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	int err;

	if ((err = gnutls_x509_privkey_init(&key)) ||
	    (err = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) ||
	    (err = gnutls_x509_crt_init(&crt)) ||
	    (err = gnutls_x509_crt_set_key(crt, key)) ||
	    (err = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
			0, "api.openai.com", 14)) ||
	    (err = gnutls_x509_crt_set_serial(crt, "\x01", 1)) ||
	    (err = gnutls_x509_crt_set_activation_time(crt, time(NULL) - 3600)) ||
	    (err = gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 86400)) ||
	    (err = gnutls_x509_crt_set_version(crt, 3)) ||
	    (err = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) ||
	    (err = gnutls_certificate_allocate_credentials(&cred)) ||
	    (err = gnutls_certificate_set_x509_key(cred, &crt, 1, key)))
		die("self-signed certificate", err);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return cred;
}

static void new_session(struct end *e, unsigned int flags, void *cred)
{
	int err;

	if ((err = gnutls_init(&e->s, flags | GNUTLS_NONBLOCK)) ||
	    (err = gnutls_set_default_priority(e->s)) ||
	    (err = gnutls_credentials_set(e->s, GNUTLS_CRD_CERTIFICATE, cred)))
		die("gnutls_init", err);
	gnutls_transport_set_ptr(e->s, e);
	gnutls_transport_set_push_function(e->s, push);
	gnutls_transport_set_pull_function(e->s, pull);
}

static void handshake_pair(struct end *c, struct end *s)
{
	int rc = GNUTLS_E_AGAIN, rs = GNUTLS_E_AGAIN, i;

	for (i = 0; i < 100 && (rc || rs); i++) {
		if (rc)
			rc = gnutls_handshake(c->s);
		if (rs)
			rs = gnutls_handshake(s->s);
		if ((rc && rc != GNUTLS_E_AGAIN) || (rs && rs != GNUTLS_E_AGAIN))
			die("handshake", rc ? rc : rs);
	}
	if (rc || rs)
		die("handshake", GNUTLS_E_AGAIN);
}

/*
 * Sends @len bytes: gnutls_record_send sends one record (16 KiB at most)
 * per call and returns what it took, so a larger message takes several.
 */
static void timed_write(struct end *e, const char *buf, size_t len,
			struct calls *c)
{
	size_t sent = 0;
	uint64_t t0;
	ssize_t n;

	while (sent < len) {
		t0 = now_ns();
		n = gnutls_record_send(e->s, buf + sent, len - sent);
		c->write_ns += now_ns() - t0;
		c->writes++;
		if (n <= 0)
			die("gnutls_record_send", n ? (int)n : GNUTLS_E_AGAIN);
		sent += (size_t)n;
	}
}

/* Reads exactly @len bytes (the peer's whole message). */
static void timed_read(struct end *e, char *buf, size_t len, struct calls *c)
{
	size_t got = 0;
	uint64_t t0;
	ssize_t n;

	while (got < len) {
		t0 = now_ns();
		n = gnutls_record_recv(e->s, buf, READ_BUF_BYTES);
		c->read_ns += now_ns() - t0;
		c->reads++;
		if (n <= 0)
			die("gnutls_record_recv", n ? (int)n : GNUTLS_E_PREMATURE_TERMINATION);
		got += (size_t)n;
	}
}

int main(int argc, char **argv)
{
	struct queue c2s = { .buf = malloc(QUEUE_BYTES) };
	struct queue s2c = { .buf = malloc(QUEUE_BYTES) };
	struct end cli = { .in = &s2c, .out = &c2s };
	struct end srv = { .in = &c2s, .out = &s2c };
	gnutls_certificate_credentials_t scred, ccred;
	struct calls c = { 0 }, warm = { 0 };
	uint64_t rounds = 0, t0, deadline;
	char *buf = malloc(READ_BUF_BYTES), *end;
	size_t size = 4096;
	struct msgs m;
	double seconds = 1.0, secs;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--size"))
			size = strtoul(argv[i + 1], &end, 10);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = strtod(argv[i + 1], &end);
		else
			break;
		if (*end)
			break;
	}
	if (i != argc || size < 1 || size > (1 << 20) || seconds <= 0) {
		fprintf(stderr, "usage: gnutlsbench --size BYTES --seconds S\n");
		return 2;
	}
	if (!c2s.buf || !s2c.buf || !buf ||
	    make_msgs(&m, size, "api.openai.com")) {
		fprintf(stderr, "gnutlsbench: out of memory\n");
		return 1;
	}
	scred = server_creds();
	if (gnutls_certificate_allocate_credentials(&ccred))
		die("credentials", GNUTLS_E_MEMORY_ERROR);
	new_session(&srv, GNUTLS_SERVER, scred);
	new_session(&cli, GNUTLS_CLIENT, ccred);
	handshake_pair(&cli, &srv);
	for (i = 0; i < WARMUP_ROUNDS; i++) {
		timed_write(&cli, m.req, m.req_len, &warm);
		timed_read(&srv, buf, m.req_len, &warm);
		timed_write(&srv, m.resp, m.resp_len, &warm);
		timed_read(&cli, buf, m.resp_len, &warm);
	}
	t0 = now_ns();
	deadline = t0 + (uint64_t)(seconds * 1e9);
	do {
		timed_write(&cli, m.req, m.req_len, &c);
		timed_read(&srv, buf, m.req_len, &c);
		timed_write(&srv, m.resp, m.resp_len, &c);
		timed_read(&cli, buf, m.resp_len, &c);
		rounds++;
	} while ((rounds & 15) || now_ns() < deadline);
	secs = (now_ns() - t0) / 1e9;
	printf("{\"mode\":\"bio\",\"size\":%zu,\"req_bytes\":%zu,"
	       "\"resp_bytes\":%zu,\"rounds\":%" PRIu64 ",\"seconds\":%.6f,"
	       "\"writes\":%" PRIu64 ",\"reads\":%" PRIu64 ","
	       "\"write_ns\":%" PRIu64 ",\"read_ns\":%" PRIu64 ","
	       "\"warm_calls\":%" PRIu64 "}\n",
	       size, m.req_len, m.resp_len, rounds, secs, c.writes, c.reads,
	       c.write_ns, c.read_ns, warm.writes + warm.reads);
	gnutls_deinit(cli.s);
	gnutls_deinit(srv.s);
	gnutls_certificate_free_credentials(scred);
	gnutls_certificate_free_credentials(ccred);
	free(m.req);
	free(m.resp);
	free(buf);
	free(c2s.buf);
	free(s2c.buf);
	return 0;
}
