// SPDX-License-Identifier: MIT
/*
 * tlsbench - HTTP/1.1 request/response rounds over OpenSSL as fast as
 * they go, to measure what probes on SSL_write/SSL_read cost the
 * program that is traced.
 *
 *	tlsbench --mode bio|sock --size BYTES --seconds S [--rate R] [--host H]
 *
 * A round is one OpenAI-style chat request (POST /v1/chat/completions to
 * api.openai.com, a JSON body of BYTES) and its JSON response (also
 * BYTES of body), each sent with one SSL_write and received with as many
 * SSL_read calls as it takes (one per TLS record, 16 KiB at most).
 *
 * bio:  client and server in one thread over an in-memory BIO pair: no
 *       system calls, the time is the SSL calls themselves.
 * sock: a client thread and a server thread over a loopback TCP socket.
 *
 * --rate paces the rounds at R per second (the loss benchmark); without
 * it they go as fast as they can.  --host sends the requests to another
 * Host than api.openai.com (a host no rule knows: traffic the sensor
 * parses but does not report).
 *
 * Prints one JSON line: rounds, seconds, SSL_write and SSL_read calls
 * (both sides), and the time spent inside those calls (clock_gettime
 * around each call; in sock mode a read's time includes the wait for the
 * peer), and warm_calls, the SSL calls made outside the measured window
 * (the warm-up rounds, and in sock mode the server's read that sees the
 * close), which probes attached for the whole run see too.  The
 * certificate is a throwaway self-signed P-256 one made at start; the
 * client does not verify it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "msgs.h"

/* a whole request of the largest --size, with its TLS records */
#define BIO_PAIR_BYTES	(17 << 20)
#define READ_BUF_BYTES	(128 << 10)
#define WARMUP_ROUNDS	64

struct bench {
	const char *mode;
	size_t size;
	double seconds;
	double rate;		/* rounds per second; 0: unpaced */
	const char *host;	/* Host header */
	struct msgs m;
	SSL_CTX *cctx;
	SSL_CTX *sctx;
	/* sock mode */
	int lfd;
	struct calls srv;
	int srv_err;
	uint64_t srv_warm;	/* the server's warm_calls */
	/* SSL calls of both ends outside the measured window: the warm-up */
	uint64_t warm_calls;
};

static void die_ssl(const char *what)
{
	fprintf(stderr, "tlsbench: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (!x)
		return NULL;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"api.openai.com",
				   -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static void make_ctxs(struct bench *b)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert;

	if (!key)
		die_ssl("EVP_EC_gen");
	cert = self_signed(key);
	if (!cert)
		die_ssl("X509_sign");
	b->sctx = SSL_CTX_new(TLS_server_method());
	b->cctx = SSL_CTX_new(TLS_client_method());
	if (!b->sctx || !b->cctx)
		die_ssl("SSL_CTX_new");
	if (SSL_CTX_use_certificate(b->sctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(b->sctx, key) != 1)
		die_ssl("SSL_CTX_use_certificate");
	SSL_CTX_set_verify(b->cctx, SSL_VERIFY_NONE, NULL);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void timed_write(SSL *s, const char *buf, size_t len, struct calls *c)
{
	uint64_t t0 = now_ns();
	int n = SSL_write(s, buf, len);

	c->write_ns += now_ns() - t0;
	c->writes++;
	if (n != (int)len)
		die_ssl("SSL_write");
}

/* Reads exactly @len bytes (the peer's whole message). */
static int timed_read(SSL *s, char *buf, size_t len, struct calls *c)
{
	size_t got = 0;
	uint64_t t0;
	int n;

	while (got < len) {
		t0 = now_ns();
		n = SSL_read(s, buf, READ_BUF_BYTES);
		c->read_ns += now_ns() - t0;
		c->reads++;
		if (n <= 0)
			return -EIO;
		got += n;
	}
	return got == len ? 0 : -EPROTO;
}

/* One thread, in-memory BIO pair: the figure is the SSL calls alone. */
static void handshake_pair(SSL *cli, SSL *srv)
{
	int rc, rs, i;

	for (i = 0; i < 100; i++) {
		rc = SSL_do_handshake(cli);
		rs = SSL_do_handshake(srv);
		if (rc == 1 && rs == 1)
			return;
		if ((rc != 1 && SSL_get_error(cli, rc) != SSL_ERROR_WANT_READ) ||
		    (rs != 1 && SSL_get_error(srv, rs) != SSL_ERROR_WANT_READ))
			break;
	}
	die_ssl("handshake over BIO pair");
}

static void bio_round(struct bench *b, SSL *cli, SSL *srv, char *buf,
		      struct calls *c)
{
	timed_write(cli, b->m.req, b->m.req_len, c);
	if (timed_read(srv, buf, b->m.req_len, c))
		die_ssl("server SSL_read");
	timed_write(srv, b->m.resp, b->m.resp_len, c);
	if (timed_read(cli, buf, b->m.resp_len, c))
		die_ssl("client SSL_read");
}

/* With --rate, sleeps until round @n is due (@t0: the first round). */
static void pace(const struct bench *b, uint64_t t0, uint64_t n)
{
	uint64_t due;
	struct timespec ts;

	if (b->rate <= 0)
		return;
	due = t0 + (uint64_t)(n * 1e9 / b->rate);
	ts.tv_sec = due / 1000000000u;
	ts.tv_nsec = due % 1000000000u;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static uint64_t run_bio(struct bench *b, struct calls *c, double *secs)
{
	SSL *cli = SSL_new(b->cctx), *srv = SSL_new(b->sctx);
	BIO *bc, *bs;
	uint64_t rounds = 0, t0, t1, deadline;
	char *buf = malloc(READ_BUF_BYTES);
	struct calls warm = { 0 };
	int i;

	if (!cli || !srv || !buf ||
	    !BIO_new_bio_pair(&bc, BIO_PAIR_BYTES, &bs, BIO_PAIR_BYTES))
		die_ssl("SSL_new/BIO_new_bio_pair");
	SSL_set_bio(cli, bc, bc);
	SSL_set_bio(srv, bs, bs);
	SSL_set_connect_state(cli);
	SSL_set_accept_state(srv);
	handshake_pair(cli, srv);
	/* Paced too: an unpaced burst is not the rate asked for. */
	t0 = now_ns();
	for (i = 0; i < WARMUP_ROUNDS; i++) {
		pace(b, t0, (uint64_t)i);
		bio_round(b, cli, srv, buf, &warm);
	}
	b->warm_calls = warm.writes + warm.reads;
	t0 = now_ns();
	deadline = t0 + (uint64_t)(b->seconds * 1e9);
	do {
		pace(b, t0, rounds);
		bio_round(b, cli, srv, buf, c);
		rounds++;
	} while ((rounds & 15) || now_ns() < deadline);
	t1 = now_ns();
	*secs = (t1 - t0) / 1e9;
	SSL_free(cli);
	SSL_free(srv);
	free(buf);
	return rounds;
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void *server_main(void *arg)
{
	struct bench *b = arg;
	char *buf = malloc(READ_BUF_BYTES);
	struct calls warm = { 0 };
	SSL *s = NULL;
	int fd, i;

	fd = accept(b->lfd, NULL, NULL);
	if (fd < 0 || !buf) {
		b->srv_err = -errno;
		goto out;
	}
	set_nodelay(fd);
	s = SSL_new(b->sctx);
	if (!s || !SSL_set_fd(s, fd) || SSL_accept(s) != 1) {
		b->srv_err = -EPROTO;
		goto out;
	}
	/* The client's warm-up rounds are not counted. */
	for (i = 0; i < WARMUP_ROUNDS; i++) {
		if (timed_read(s, buf, b->m.req_len, &warm))
			goto out;
		timed_write(s, b->m.resp, b->m.resp_len, &warm);
	}
	b->srv_warm = warm.writes + warm.reads;
	/* Until the client closes: its reads fail and the loop ends. */
	while (!timed_read(s, buf, b->m.req_len, &b->srv))
		timed_write(s, b->m.resp, b->m.resp_len, &b->srv);
out:
	SSL_free(s);
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int listen_loopback(struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)sa, &sl)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void sock_round(struct bench *b, SSL *cli, char *buf, struct calls *c)
{
	timed_write(cli, b->m.req, b->m.req_len, c);
	if (timed_read(cli, buf, b->m.resp_len, c))
		die_ssl("client SSL_read");
}

static uint64_t run_sock(struct bench *b, struct calls *c, double *secs)
{
	char *buf = malloc(READ_BUF_BYTES);
	uint64_t rounds = 0, t0, t1, deadline;
	struct calls warm = { 0 };
	struct sockaddr_in sa;
	pthread_t th;
	SSL *cli;
	int fd, i;

	b->lfd = listen_loopback(&sa);
	if (b->lfd < 0 || !buf) {
		fprintf(stderr, "tlsbench: listen: %s\n", strerror(-b->lfd));
		exit(1);
	}
	if (pthread_create(&th, NULL, server_main, b)) {
		fprintf(stderr, "tlsbench: pthread_create failed\n");
		exit(1);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("tlsbench: connect");
		exit(1);
	}
	set_nodelay(fd);
	cli = SSL_new(b->cctx);
	if (!cli || !SSL_set_fd(cli, fd) || SSL_connect(cli) != 1)
		die_ssl("SSL_connect");
	t0 = now_ns();
	for (i = 0; i < WARMUP_ROUNDS; i++) {
		pace(b, t0, (uint64_t)i);
		sock_round(b, cli, buf, &warm);
	}
	b->warm_calls = warm.writes + warm.reads;
	t0 = now_ns();
	deadline = t0 + (uint64_t)(b->seconds * 1e9);
	do {
		pace(b, t0, rounds);
		sock_round(b, cli, buf, c);
		rounds++;
	} while ((rounds & 15) || now_ns() < deadline);
	t1 = now_ns();
	*secs = (t1 - t0) / 1e9;
	shutdown(fd, SHUT_RDWR);
	pthread_join(th, NULL);
	if (b->srv_err) {
		fprintf(stderr, "tlsbench: server: %s\n", strerror(-b->srv_err));
		exit(1);
	}
	c->writes += b->srv.writes;
	c->reads += b->srv.reads - 1;	/* the read that saw the close */
	c->write_ns += b->srv.write_ns;
	c->read_ns += b->srv.read_ns;
	/* and that read, outside the window too */
	b->warm_calls += b->srv_warm + 1;
	SSL_free(cli);
	close(fd);
	close(b->lfd);
	free(buf);
	return rounds;
}

static int parse_args(int argc, char **argv, struct bench *b)
{
	char *end;
	int i;

	b->mode = "bio";
	b->host = "api.openai.com";
	b->size = 4096;
	b->seconds = 1.0;
	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mode")) {
			b->mode = argv[i + 1];
		} else if (!strcmp(argv[i], "--size")) {
			errno = 0;
			b->size = strtoul(argv[i + 1], &end, 10);
			if (errno || *end || b->size < 1 || b->size > (16 << 20))
				return -EINVAL;
		} else if (!strcmp(argv[i], "--host")) {
			b->host = argv[i + 1];
		} else if (!strcmp(argv[i], "--rate")) {
			b->rate = strtod(argv[i + 1], &end);
			if (*end || b->rate < 0 || b->rate > 1e7)
				return -EINVAL;
		} else if (!strcmp(argv[i], "--seconds")) {
			b->seconds = strtod(argv[i + 1], &end);
			if (*end || b->seconds <= 0 || b->seconds > 3600)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	if (i != argc)
		return -EINVAL;
	if (strcmp(b->mode, "bio") && strcmp(b->mode, "sock"))
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct calls c = { 0 };
	uint64_t rounds;
	double secs;

	if (parse_args(argc, argv, &b)) {
		fprintf(stderr, "usage: tlsbench --mode bio|sock --size BYTES "
			"--seconds S [--rate R] [--host H]\n");
		return 2;
	}
	if (make_msgs(&b.m, b.size, b.host)) {
		fprintf(stderr, "tlsbench: out of memory\n");
		return 1;
	}
	make_ctxs(&b);
	if (!strcmp(b.mode, "bio"))
		rounds = run_bio(&b, &c, &secs);
	else
		rounds = run_sock(&b, &c, &secs);
	printf("{\"mode\":\"%s\",\"size\":%zu,\"req_bytes\":%zu,"
	       "\"resp_bytes\":%zu,\"rounds\":%" PRIu64 ",\"seconds\":%.6f,"
	       "\"writes\":%" PRIu64 ",\"reads\":%" PRIu64 ","
	       "\"write_ns\":%" PRIu64 ",\"read_ns\":%" PRIu64 ","
	       "\"warm_calls\":%" PRIu64 "}\n",
	       b.mode, b.size, b.m.req_len, b.m.resp_len, rounds, secs,
	       c.writes, c.reads, c.write_ns, c.read_ns, b.warm_calls);
	SSL_CTX_free(b.cctx);
	SSL_CTX_free(b.sctx);
	free(b.m.req);
	free(b.m.resp);
	return 0;
}
