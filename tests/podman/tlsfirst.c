// SPDX-License-Identifier: MIT
/*
 * tlsfirst - an OpenSSL client whose first TLS call comes as soon after its
 * start as it can: for the podman test of a short-lived container in an
 * image the sensor has never seen (cookbook/podman/podman_test.py).
 *
 *   tlsfirst IP PORT HOST TAG GAP_MS
 *
 * Connects to IP:PORT (TLS, SNI and Host HOST, no certificate check: the
 * test's server), and POSTs an OpenAI chat call whose user message is
 * "TAG call 1"; then, GAP_MS milliseconds later, "TAG call 2" on a new
 * connection.  Prints one line per call on stdout:
 *   call N connect_us C write_us W status S
 * C and W: microseconds from main() to the start of SSL_connect() and of
 * SSL_write() (CLOCK_MONOTONIC).  Exit status 0 when both calls got HTTP
 * 200, 1 otherwise, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

static long long us_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000LL +
	       (t.tv_nsec - t0->tv_nsec) / 1000;
}

/* One call; returns the HTTP status, or -1. */
static int call(SSL_CTX *ctx, const struct sockaddr_in *sa, const char *host,
		const char *tag, int n, const struct timespec *t0)
{
	char body[256], req[1024], resp[4096];
	long long c_us, w_us;
	int fd, len, got = 0, r, status = -1;
	SSL *ssl = NULL;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		goto out;
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) ||
	    !SSL_set_tlsext_host_name(ssl, host))
		goto out;
	c_us = us_since(t0);
	if (SSL_connect(ssl) != 1)
		goto out;
	snprintf(body, sizeof(body),
		 "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"%s call %d\"}]}", tag, n);
	len = snprintf(req, sizeof(req),
		       "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\n"
		       "Authorization: Bearer sk-test-oisp-podman\r\n"
		       "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s", host, strlen(body), body);
	w_us = us_since(t0);
	if (SSL_write(ssl, req, len) != len)
		goto out;
	while (got < (int)sizeof(resp) - 1 &&
	       (r = SSL_read(ssl, resp + got, (int)sizeof(resp) - 1 - got)) > 0)
		got += r;
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	printf("call %d connect_us %lld write_us %lld status %d\n", n, c_us,
	       w_us, status);
out:
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	return status;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timespec t0;
	SSL_CTX *ctx;
	int gap_ms, ok;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (argc != 6 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: tlsfirst IP PORT HOST TAG GAP_MS\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	gap_ms = atoi(argv[5]);
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return 1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ok = call(ctx, &sa, argv[3], argv[4], 1, &t0) == 200;
	usleep((useconds_t)gap_ms * 1000);
	ok &= call(ctx, &sa, argv[3], argv[4], 2, &t0) == 200;
	SSL_CTX_free(ctx);
	fflush(stdout);
	return ok ? 0 : 1;
}
