// SPDX-License-Identifier: MIT
/*
 * k8s: the PodList parser on a recorded PodList, and the API client
 * against a loopback HTTPS server (OpenSSL, in a thread) that serves it
 * and requires the bearer token.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "meta/k8s.h"
#include "slurp.h"

#define FIX		"../fixtures/k8s/"
#define CHAT_UID	"6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"
#define APISERVER_HASH	"4c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"
#define PAGE1_CONTINUE	"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDgyMTM5NzcsInN0YXJ0Ijoib2lzcC1zZW5zb3IvIn0"

static const struct k8s_pod *find(const struct k8s_pod *pods, size_t n,
				  const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(pods[i].name, name) == 0)
			return &pods[i];
	cr_assert_fail("pod %s not parsed", name);
	return NULL;
}

/* The value of label @key, NULL when absent. */
static const char *label(const struct k8s_pod *p, const char *want)
{
	const char *pos = NULL, *key, *value;

	while ((pos = k8s_pod__next_label(p, pos, &key, &value)))
		if (strcmp(key, want) == 0)
			return value;
	return NULL;
}

static size_t count_labels(const struct k8s_pod *p)
{
	const char *pos = NULL, *key, *value;
	size_t n = 0;

	while ((pos = k8s_pod__next_label(p, pos, &key, &value)))
		n++;
	return n;
}

static void check_chat(const struct k8s_pod *p)
{
	cr_assert_str_eq(p->uid, CHAT_UID);
	cr_assert_str_eq(p->name, "chat-api-7d4b9c8f6d-x2x7q");
	cr_assert_str_eq(p->namespace, "ai-apps");
	cr_assert_str_eq(p->node_name, "worker-1");
	cr_assert_str_eq(p->service_account, "chat-api");
	cr_assert_str_eq(p->deployment, "chat-api");
	cr_assert_str_eq(p->mirror_uid, "");
	cr_assert_eq(p->n_labels, 5);
	cr_assert_eq(count_labels(p), 5);
	cr_assert_str_eq(label(p, "app"), "chat-api");
	cr_assert_str_eq(label(p, "app.kubernetes.io/part-of"), "assistant");
	cr_assert_str_eq(label(p, "pod-template-hash"), "7d4b9c8f6d");
	cr_assert_str_eq(label(p, "team"), "ml-platform");
	cr_assert_null(label(p, "missing"));
}

/* ------------------------------------------------------------------ */
/* The parser */

Test(podlist, recorded_fixture)
{
	struct k8s_pod *pods = NULL;
	const struct k8s_pod *p;
	char next[128] = "x", err[256];
	size_t n = 0, len;
	char *json = slurp(FIX "podlist.json", &len);

	cr_assert_eq(k8s__parse_podlist(json, len, &pods, &n, next,
					sizeof(next), err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(n, 6);
	cr_assert_str_eq(next, "");
	check_chat(find(pods, n, "chat-api-7d4b9c8f6d-x2x7q"));

	p = find(pods, n, "vector-db-0");	/* StatefulSet: no deployment */
	cr_assert_str_eq(p->deployment, "");
	cr_assert_str_eq(p->service_account, "default");
	cr_assert_str_eq(label(p, "statefulset.kubernetes.io/pod-name"),
			 "vector-db-0");

	p = find(pods, n, "kube-apiserver-worker-1");	/* static pod */
	cr_assert_str_eq(p->mirror_uid, APISERVER_HASH);
	cr_assert_str_eq(p->namespace, "kube-system");
	cr_assert_str_eq(p->service_account, "");
	cr_assert_str_eq(p->deployment, "");

	p = find(pods, n, "batch-embed-29371840-4kx9z");	/* Job */
	cr_assert_str_eq(p->deployment, "");
	cr_assert_str_eq(p->service_account, "embedder");

	p = find(pods, n, "debug-shell");	/* bare pod, no labels */
	cr_assert_null(p->labels);
	cr_assert_eq(p->n_labels, 0);
	cr_assert_eq(count_labels(p), 0);
	cr_assert_str_eq(p->deployment, "");

	k8s_pods__free(pods, n);
	k8s_pods__free(NULL, 0);
	k8s_pod__clear(NULL);
	free(json);
}

Test(podlist, pages_append)
{
	struct k8s_pod *pods = NULL;
	char next[256], err[256];
	size_t n = 0, len;
	char *json = slurp(FIX "podlist-page1.json", &len);

	cr_assert_eq(k8s__parse_podlist(json, len, &pods, &n, next,
					sizeof(next), err, sizeof(err)), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(next, PAGE1_CONTINUE);
	/* A token that does not fit: -ENOBUFS, nothing appended. */
	cr_assert_eq(k8s__parse_podlist(json, len, &pods, &n, next, 16, err,
					sizeof(err)), -ENOBUFS);
	cr_assert_eq(n, 3);
	free(json);
	json = slurp(FIX "podlist-page2.json", &len);
	cr_assert_eq(k8s__parse_podlist(json, len, &pods, &n, next,
					sizeof(next), err, sizeof(err)), 0);
	cr_assert_eq(n, 6);
	cr_assert_str_eq(next, "");
	check_chat(find(pods, n, "chat-api-7d4b9c8f6d-x2x7q"));
	find(pods, n, "debug-shell");
	k8s_pods__free(pods, n);
	free(json);
}

static int parse_str(const char *json, struct k8s_pod **pods, size_t *n,
		     char *err)
{
	char next[64];

	return k8s__parse_podlist(json, strlen(json), pods, n, next,
				  sizeof(next), err, 256);
}

Test(podlist, errors)
{
	struct k8s_pod *pods = NULL;
	char err[256];
	size_t n = 0;
	char *status = slurp(FIX "status-forbidden.json", NULL);

	cr_assert_eq(parse_str("{\"kind\":\"PodList\",\"items\":[", &pods, &n,
			       err), -EINVAL);
	cr_assert_str_eq(err, "the pod list is not JSON");
	cr_assert_eq(parse_str(status, &pods, &n, err), -EINVAL);
	cr_assert_str_eq(err, "not a PodList (kind Status)");
	cr_assert_eq(parse_str("{\"kind\":\"PodList\",\"items\":{}}", &pods,
			       &n, err), -EINVAL);
	cr_assert_eq(parse_str("[]", &pods, &n, err), -EINVAL);
	cr_assert_eq(n, 0);
	cr_assert_eq(parse_str("{\"kind\":\"PodList\",\"items\":[]}", &pods,
			       &n, err), 0);
	cr_assert_eq(parse_str("{\"kind\":\"PodList\",\"items\":null}", &pods,
			       &n, err), 0);
	cr_assert_eq(n, 0);
	free(pods);
	free(status);
}

Test(podlist, odd_items)
{
	static const char json[] =
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},"
		"\"items\":["
		/* no uid: skipped */
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"}},"
		/* uid not a string: skipped */
		"{\"metadata\":{\"name\":\"b\",\"uid\":7}},"
		/* a 300-char name is left empty; a number label skipped */
		"{\"metadata\":{\"uid\":\"u-1\",\"name\":\"%s\","
		"\"namespace\":\"ns\",\"labels\":{\"n\":3,\"k\":\"\"}},"
		"\"spec\":{\"serviceAccount\":\"old-field\"}},"
		/* ReplicaSet without pod-template-hash: suffix alphabet */
		"{\"metadata\":{\"uid\":\"u-2\",\"name\":\"web-5f9d8-abcde\","
		"\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
		"\"name\":\"web-5f9d8\",\"controller\":true}]}},"
		/* ReplicaSet whose name does not end in the hash label */
		"{\"metadata\":{\"uid\":\"u-3\",\"name\":\"x\","
		"\"labels\":{\"pod-template-hash\":\"zzz\"},"
		"\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
		"\"name\":\"web-5f9d8\",\"controller\":true}]}},"
		/* a non-controller owner is ignored */
		"{\"metadata\":{\"uid\":\"u-4\",\"name\":\"y\","
		"\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
		"\"name\":\"web-bcd42\"}]}},"
		/* ReplicaSet not made by a Deployment (suffix not a hash) */
		"{\"metadata\":{\"uid\":\"u-5\",\"name\":\"z\","
		"\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
		"\"name\":\"frontend\",\"controller\":true}]}}"
		"]}";
	char *buf, longname[301], err[256];
	struct k8s_pod *pods = NULL;
	size_t n = 0;

	memset(longname, 'n', 300);
	longname[300] = '\0';
	cr_assert_gt(asprintf(&buf, json, longname), 0);
	cr_assert_eq(parse_str(buf, &pods, &n, err), 0, "%s", err);
	cr_assert_eq(n, 5);
	cr_assert_str_eq(pods[0].uid, "u-1");
	cr_assert_str_eq(pods[0].name, "");
	cr_assert_str_eq(pods[0].namespace, "ns");
	cr_assert_str_eq(pods[0].service_account, "old-field");
	cr_assert_eq(pods[0].n_labels, 1);
	cr_assert_str_eq(label(&pods[0], "k"), "");
	cr_assert_str_eq(pods[1].deployment, "web");
	cr_assert_str_eq(pods[2].deployment, "");
	cr_assert_str_eq(pods[3].deployment, "");
	cr_assert_str_eq(pods[4].deployment, "");
	k8s_pods__free(pods, n);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* A loopback HTTPS API server */

enum srv_mode {
	SRV_LIST,	/* podlist.json */
	SRV_PAGED,	/* page 1, then page 2 when continue= is given */
	SRV_EMPTY,	/* a PodList with no items */
	SRV_FORBIDDEN,	/* 403 with a Status */
	SRV_HANG,	/* reads the request, never answers */
};

struct srv {
	SSL_CTX *ctx;
	int lfd, stop[2];
	int port;
	pthread_t th;
	atomic_int mode;
	atomic_int requests;
	char token[64];			/* required bearer token */
	char old_token[64];		/* also accepted while rotating */
	pthread_mutex_t lock;
	char last_path[1024];
	char last_auth[256];
};

static struct srv srv;
static char tmpdir[64], token_path[128];

static void put_token(const char *tok)
{
	char tmp[160];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", token_path);
	f = fopen(tmp, "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", tok);
	fclose(f);
	/* Replaced by rename, as the kubelet's atomic writer does. */
	cr_assert_eq(rename(tmp, token_path), 0);
	pthread_mutex_lock(&srv.lock);
	memcpy(srv.old_token, srv.token, sizeof(srv.token));
	snprintf(srv.token, sizeof(srv.token), "%s", tok);
	pthread_mutex_unlock(&srv.lock);
}

static void reply(SSL *ssl, int status, const char *body)
{
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, status == 200 ? "OK" : "Error", strlen(body));
	SSL_write(ssl, hdr, n);
	SSL_write(ssl, body, (int)strlen(body));
}

static void serve(SSL *ssl)
{
	char req[8192], path[1024] = "", auth[256] = "", want[128], old[128];
	char *p, *e;
	struct pollfd pf = { .fd = srv.stop[0], .events = POLLIN };
	size_t got = 0;
	char *body;
	int n;

	req[0] = '\0';
	while (got < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
		n = SSL_read(ssl, req + got, (int)(sizeof(req) - 1 - got));
		if (n <= 0)
			return;
		got += (size_t)n;
		req[got] = '\0';
	}
	if (sscanf(req, "GET %1023s HTTP/1.1", path) != 1)
		return;
	p = strcasestr(req, "\r\nAuthorization: ");
	if (p) {
		p += 17;
		e = strstr(p, "\r\n");
		snprintf(auth, sizeof(auth), "%.*s", (int)(e - p), p);
	}
	pthread_mutex_lock(&srv.lock);
	snprintf(srv.last_path, sizeof(srv.last_path), "%s", path);
	snprintf(srv.last_auth, sizeof(srv.last_auth), "%s", auth);
	snprintf(want, sizeof(want), "Bearer %s", srv.token);
	snprintf(old, sizeof(old), "Bearer %s", srv.old_token);
	pthread_mutex_unlock(&srv.lock);
	atomic_fetch_add(&srv.requests, 1);
	if (strcmp(auth, want) != 0 &&
	    (!srv.old_token[0] || strcmp(auth, old) != 0)) {
		reply(ssl, 401, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
		      "\"status\":\"Failure\",\"message\":\"Unauthorized\","
		      "\"reason\":\"Unauthorized\",\"code\":401}");
		return;
	}
	switch (atomic_load(&srv.mode)) {
	case SRV_HANG:
		poll(&pf, 1, 30000);
		return;
	case SRV_EMPTY:
		reply(ssl, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
		      "\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}");
		return;
	case SRV_FORBIDDEN:
		body = slurp(FIX "status-forbidden.json", NULL);
		reply(ssl, 403, body);
		free(body);
		return;
	case SRV_PAGED:
		body = slurp(strstr(path, "&continue=" PAGE1_CONTINUE) ?
			     FIX "podlist-page2.json" :
			     FIX "podlist-page1.json", NULL);
		break;
	default:
		body = slurp(FIX "podlist.json", NULL);
		break;
	}
	reply(ssl, 200, body);
	free(body);
}

static void *srv_main(void *arg)
{
	struct pollfd pf[2] = {
		{ .fd = srv.lfd, .events = POLLIN },
		{ .fd = srv.stop[0], .events = POLLIN },
	};
	SSL *ssl;
	int fd;

	for (;;) {
		if (poll(pf, 2, -1) < 0 || pf[1].revents)
			return NULL;
		fd = accept(srv.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		ssl = SSL_new(srv.ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			serve(ssl);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
	}
}

static void srv_setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	strcpy(tmpdir, "/tmp/test_k8s.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(token_path, sizeof(token_path), "%s/token", tmpdir);
	pthread_mutex_init(&srv.lock, NULL);
	put_token("tok-1");
	srv.ctx = SSL_CTX_new(TLS_server_method());
	cr_assert_not_null(srv.ctx);
	cr_assert_eq(SSL_CTX_use_certificate_file(srv.ctx,
			FIX "tls/server.pem", SSL_FILETYPE_PEM), 1);
	cr_assert_eq(SSL_CTX_use_PrivateKey_file(srv.ctx,
			FIX "tls/server.key", SSL_FILETYPE_PEM), 1);
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(srv.lfd, 16), 0);
	getsockname(srv.lfd, (struct sockaddr *)&a, &alen);
	srv.port = ntohs(a.sin_port);
	cr_assert_eq(pipe(srv.stop), 0);
	atomic_store(&srv.mode, SRV_LIST);
	cr_assert_eq(pthread_create(&srv.th, NULL, srv_main, NULL), 0);
}

static void srv_teardown(void)
{
	char c = 1;

	cr_assert_eq(write(srv.stop[1], &c, 1), 1);
	pthread_join(srv.th, NULL);
	close(srv.lfd);
	SSL_CTX_free(srv.ctx);
	unlink(token_path);
	rmdir(tmpdir);
}

TestSuite(client, .init = srv_setup, .fini = srv_teardown);

static struct k8s *start(const char *host, unsigned int refresh_s,
			 const char *ca)
{
	char url[128];
	struct k8s_opts o = {
		.api_server = url, .node_name = "worker-1",
		.token_path = token_path, .ca_path = ca,
		.refresh_s = refresh_s, .min_refresh_s = 1, .timeout_s = 5,
	};
	struct k8s *k;

	snprintf(url, sizeof(url), "https://%s:%d/", host, srv.port);
	cr_assert_eq(k8s__start(&k, &o), 0);
	return k;
}

/* Waits up to @ms for @pred on the stats; returns the last stats. */
static struct k8s_stats wait_stats(struct k8s *k,
				   bool (*pred)(const struct k8s_stats *),
				   int ms)
{
	struct timespec ts = { 0, 20 * 1000000 };
	struct k8s_stats st;

	for (;;) {
		k8s__stats(k, &st);
		if (pred(&st) || ms <= 0)
			return st;
		nanosleep(&ts, NULL);
		ms -= 20;
	}
}

/* Waits up to @ms for the server to count @n requests; returns its count. */
static int wait_requests(int n, int ms)
{
	struct timespec ts = { 0, 20 * 1000000 };
	int got;

	for (;;) {
		got = atomic_load(&srv.requests);
		if (got >= n || ms <= 0)
			return got;
		nanosleep(&ts, NULL);
		ms -= 20;
	}
}

static bool listed(const struct k8s_stats *st)
{
	return st->lists_ok > 0;
}

static bool failed(const struct k8s_stats *st)
{
	return st->lists_failed > 0;
}

static bool listed_twice(const struct k8s_stats *st)
{
	return st->lists_ok > 1;
}

static bool listed_thrice(const struct k8s_stats *st)
{
	return st->lists_ok > 2;
}

Test(client, lists_and_looks_up)
{
	struct k8s_stats st;
	struct k8s_pod pod;
	struct k8s *k = start("127.0.0.1", 60, FIX "tls/ca.pem");

	st = wait_stats(k, listed, 5000);
	cr_assert_eq(st.lists_ok, 1, "%s", st.last_error);
	cr_assert(st.have_list);
	cr_assert_eq(st.pods, 6);
	cr_assert_str_eq(st.last_error, "");
	pthread_mutex_lock(&srv.lock);
	cr_assert_str_eq(srv.last_path, "/api/v1/pods?fieldSelector="
			 "spec.nodeName%3Dworker-1&limit=500");
	cr_assert_str_eq(srv.last_auth, "Bearer tok-1");
	pthread_mutex_unlock(&srv.lock);

	cr_assert_eq(k8s__lookup(k, CHAT_UID, &pod), 0);
	check_chat(&pod);
	k8s_pod__clear(&pod);
	cr_assert_eq(k8s__lookup(k, APISERVER_HASH, &pod), 0);
	cr_assert_str_eq(pod.name, "kube-apiserver-worker-1");
	cr_assert_str_eq(pod.uid, "c0ffee00-1111-4222-8333-444455556666");
	k8s_pod__clear(&pod);
	cr_assert_eq(k8s__lookup(k, "00000000-0000-4000-8000-000000000000",
				 &pod), -ENOENT);
	cr_assert_null(pod.labels);
	cr_assert_eq(k8s__lookup(k, "", &pod), -ENOENT);
	cr_assert_eq(k8s__lookup(k, NULL, &pod), -ENOENT);
	k8s__stop(k);
}

Test(client, localhost_name_and_pages)
{
	struct k8s_stats st;
	struct k8s_pod pod;
	struct k8s *k;

	atomic_store(&srv.mode, SRV_PAGED);
	k = start("localhost", 60, FIX "tls/ca.pem");
	st = wait_stats(k, listed, 5000);
	cr_assert_eq(st.lists_ok, 1, "%s", st.last_error);
	cr_assert_eq(st.pods, 6);
	cr_assert_eq(atomic_load(&srv.requests), 2);
	pthread_mutex_lock(&srv.lock);
	cr_assert(strstr(srv.last_path, "&continue=" PAGE1_CONTINUE),
		  "%s", srv.last_path);
	pthread_mutex_unlock(&srv.lock);
	cr_assert_eq(k8s__lookup(k, "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b",
				 &pod), 0);
	cr_assert_str_eq(pod.name, "debug-shell");
	k8s__stop(k);
}

static bool rotated(const struct k8s_stats *st)
{
	bool ok;

	pthread_mutex_lock(&srv.lock);
	ok = strcmp(srv.last_auth, "Bearer tok-2-rotated") == 0;
	pthread_mutex_unlock(&srv.lock);
	return ok && st->lists_ok >= 2;
}

Test(client, token_is_read_again)
{
	struct k8s_stats st;
	struct k8s *k = start("127.0.0.1", 1, FIX "tls/ca.pem");

	st = wait_stats(k, listed, 5000);
	cr_assert_eq(st.lists_ok, 1, "%s", st.last_error);
	put_token("tok-2-rotated");
	/* The list after the rotation sends the new token. */
	st = wait_stats(k, rotated, 5000);
	cr_assert(rotated(&st), "%s", st.last_error);
	cr_assert_eq(st.lists_failed, 0, "%s", st.last_error);
	k8s__stop(k);
}

Test(client, failure_keeps_the_last_list_then_recovers)
{
	struct k8s_stats st;
	struct k8s_pod pod;
	struct k8s *k = start("127.0.0.1", 1, FIX "tls/ca.pem");

	st = wait_stats(k, listed, 5000);
	cr_assert_eq(st.lists_ok, 1, "%s", st.last_error);
	atomic_store(&srv.mode, SRV_FORBIDDEN);
	st = wait_stats(k, failed, 5000);
	cr_assert_geq(st.lists_failed, 1);
	cr_assert(strstr(st.last_error, "HTTP 403: pods is forbidden: User "
			 "\"system:serviceaccount:oisp-sensor:oisp-sensor\""),
		  "%s", st.last_error);
	cr_assert(st.have_list);
	cr_assert_eq(k8s__lookup(k, CHAT_UID, &pod), 0, "old list kept");
	k8s_pod__clear(&pod);

	atomic_store(&srv.mode, SRV_LIST);
	st = wait_stats(k, listed_twice, 5000);
	cr_assert_geq(st.lists_ok, 2);
	cr_assert_str_eq(st.last_error, "");
	k8s__stop(k);
}

Test(client, wrong_token_and_missing_token)
{
	struct k8s_stats st;
	struct k8s *k;

	pthread_mutex_lock(&srv.lock);
	strcpy(srv.token, "something-else");
	srv.old_token[0] = '\0';
	pthread_mutex_unlock(&srv.lock);
	k = start("127.0.0.1", 60, FIX "tls/ca.pem");
	st = wait_stats(k, failed, 5000);
	cr_assert_str_eq(st.last_error, "HTTP 401: Unauthorized");
	cr_assert_not(st.have_list);
	k8s__stop(k);

	unlink(token_path);
	k = start("127.0.0.1", 60, FIX "tls/ca.pem");
	st = wait_stats(k, failed, 5000);
	cr_assert(strstr(st.last_error, "No such file"), "%s", st.last_error);
	cr_assert_eq(atomic_load(&srv.requests), 1, "no request without token");
	k8s__stop(k);
}

Test(client, server_not_trusted)
{
	struct k8s_stats st;
	struct k8s *k;

	/* The system CAs do not sign the test server. */
	k = start("127.0.0.1", 60, NULL);
	st = wait_stats(k, failed, 5000);
	cr_assert_eq(st.lists_ok, 0);
	cr_assert(strstr(st.last_error, "certificate") ||
		  strstr(st.last_error, "SSL"), "%s", st.last_error);
	k8s__stop(k);
}

Test(client, miss_asks_for_an_early_list)
{
	struct timespec ts = { 0, 50 * 1000000 };
	struct k8s_stats st;
	struct k8s_pod pod;
	struct k8s *k;
	int i;

	atomic_store(&srv.mode, SRV_EMPTY);
	k = start("127.0.0.1", 3600, FIX "tls/ca.pem");
	st = wait_stats(k, listed, 5000);
	cr_assert_eq(st.pods, 0);
	atomic_store(&srv.mode, SRV_LIST);
	/* A new pod's first lookup misses and asks for a list. */
	cr_assert_eq(k8s__lookup(k, CHAT_UID, &pod), -ENOENT);
	for (i = 0; i < 100; i++) {
		if (k8s__lookup(k, CHAT_UID, &pod) == 0)
			break;
		nanosleep(&ts, NULL);
	}
	cr_assert_lt(i, 100, "no early list after a miss");
	check_chat(&pod);
	k8s_pod__clear(&pod);
	k8s__stats(k, &st);
	cr_assert_eq(st.lists_ok, 2);
	/* An unknown UID asks once, not at every lookup. */
	cr_assert_eq(k8s__lookup(k, "11111111-2222-4333-8444-555555555555",
				 &pod), -ENOENT);
	st = wait_stats(k, listed_thrice, 5000);
	cr_assert_eq(st.lists_ok, 3);
	for (i = 0; i < 20; i++)
		k8s__lookup(k, "11111111-2222-4333-8444-555555555555", &pod);
	/* Past min_refresh_s (1 s): a list asked for would have run. */
	nanosleep(&(struct timespec){ 1, 500 * 1000000 }, NULL);
	k8s__stats(k, &st);
	cr_assert_eq(st.lists_ok, 3);
	k8s__stop(k);
}

Test(client, stop_is_prompt_during_a_request)
{
	struct timespec a, b;
	struct k8s *k;
	double secs;

	atomic_store(&srv.mode, SRV_HANG);
	k = start("127.0.0.1", 60, FIX "tls/ca.pem");
	/* The request is in progress once the server has read it. */
	cr_assert_eq(wait_requests(1, 5000), 1);
	clock_gettime(CLOCK_MONOTONIC, &a);
	k8s__stop(k);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	cr_assert_lt(secs, 1.5, "k8s__stop took %.2f s", secs);
}

Test(client, stop_is_prompt_while_idle)
{
	struct timespec a, b;
	struct k8s *k = start("127.0.0.1", 3600, FIX "tls/ca.pem");
	double secs;

	wait_stats(k, listed, 5000);
	clock_gettime(CLOCK_MONOTONIC, &a);
	k8s__stop(k);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	cr_assert_lt(secs, 0.5, "k8s__stop took %.2f s", secs);
}

Test(k8s, bad_args)
{
	struct k8s_opts o = { .api_server = "https://x", .node_name = "n",
			      .token_path = "/t", .refresh_s = 30 };
	struct k8s_stats st;
	struct k8s_pod pod;
	struct k8s *k;

	o.node_name = "";
	cr_assert_eq(k8s__start(&k, &o), -EINVAL);
	o.node_name = "n";
	o.refresh_s = 0;
	cr_assert_eq(k8s__start(&k, &o), -EINVAL);
	o.refresh_s = 30;
	o.api_server = NULL;
	cr_assert_eq(k8s__start(&k, &o), -EINVAL);
	cr_assert_eq(k8s__lookup(NULL, CHAT_UID, &pod), -ENOENT);
	k8s__stats(NULL, &st);
	cr_assert_eq(st.lists_ok, 0);
	k8s__stop(NULL);
}

/* The bearer token is never sent in clear: only https:// URLs. */
Test(k8s, refuses_plain_http, .init = cr_redirect_stderr)
{
	static const char *const bad[] = {
		"http://127.0.0.1:8080", "HTTP://api:80", "api.example:443",
		"127.0.0.1:6443", " https://api", "ftp://api",
	};
	struct k8s_opts o = { .node_name = "n", .token_path = "/t",
			      .refresh_s = 30 };
	char line[512];
	struct k8s *k;
	size_t i;
	FILE *err;
	int refused = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k = NULL;
		o.api_server = bad[i];
		cr_expect_eq(k8s__start(&k, &o), -EPROTONOSUPPORT, "%s", bad[i]);
		k8s__stop(k);
	}
	fflush(stderr);
	err = cr_get_redirected_stderr();
	while (fgets(line, sizeof(line), err))
		refused += strstr(line, "kubernetes.api_server") &&
			   strstr(line, "https://") != NULL;
	cr_expect_eq(refused, (int)(sizeof(bad) / sizeof(bad[0])));
	/* The scheme is case-insensitive, as in curl. */
	o.api_server = "HTTPS://127.0.0.1:1";
	cr_assert_eq(k8s__start(&k, &o), 0);
	k8s__stop(k);
}
