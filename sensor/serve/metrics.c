// SPDX-License-Identifier: MIT
/*
 * The metrics endpoint's HTTP server (metrics.h): libmicrohttpd in
 * external-epoll mode, serving /metrics, /healthz and /readyz to the
 * clients of the allow-list.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lib/log.h"
#include "lib/stats.h"
#include "serve/metrics.h"
#include "serve/metrics_acl.h"
#include "serve/metrics_text.h"
#include "serve/stats.h"

#define PREFIX			STATS_METRIC_PREFIX
#define CTYPE_METRICS		"text/plain; version=0.0.4; charset=utf-8"
#define CTYPE_TEXT		"text/plain; charset=utf-8"
#define STR_(x)			#x
#define STR(x)			STR_(x)

/* The server's own counters, section "metrics" (lib/stats.h). */
#define SERVER_STATS(X) \
	X(requests, COUNTER, OK, \
	  "HTTP requests answered by the metrics endpoint.") \
	X(denied, COUNTER, OK, \
	  "Connections refused at accept: client not in metrics.allowed_ips.") \
	X(over_ip_limit, COUNTER, OK, \
	  "Connections refused at accept: the client's address already held " \
	  STR(METRICS_MAX_PER_IP) ".")

struct server_stats {
	SERVER_STATS(STATS_MEMBER)
};

#define SERVER_FIELD(name, kind, alert, help) \
	STATS_FIELD(struct server_stats, name, name, kind, alert, help)

static const struct stats_field server_fields[] = {
	SERVER_STATS(SERVER_FIELD)
};

static const struct stats_table server_table = {
	"metrics", NULL, server_fields,
	sizeof(server_fields) / sizeof(server_fields[0]),
};

/* The live connections of one client address (IPv4 as ::ffff:a.b.c.d). */
struct peer {
	unsigned char addr[16];
	unsigned int n;		/* 0: a free entry */
};

struct metrics {
	struct MHD_Daemon *d;
	struct metrics_acl *acl;	/* NULL: anyone */
	struct metrics_text *text;
	metrics_render_fn render;
	void *ctx;
	uint64_t stale_ns, heartbeat_ns;
	bool ready;
	unsigned int port;
	int epfd;
	struct server_stats st;
	/* At most one entry per live connection, so never short. */
	struct peer peers[METRICS_MAX_CONNECTIONS];
};

_Static_assert(METRICS_MAX_PER_IP < METRICS_MAX_CONNECTIONS,
	       "one address must not be able to take every slot");

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* libmicrohttpd's own error messages, routed through log.h. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	if (!log__enabled(LOG_WARN))
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	pr_warn("metrics endpoint: %s", buf);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
			     const char *ctype, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
				    "no-store") != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
				     "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c,
				  unsigned int status, const char *body)
{
	return reply(c, status, CTYPE_TEXT, body, strlen(body));
}

/* @sa's address in 16 bytes, or false for a family other than IPv4/6. */
static bool peer_key(const struct sockaddr *sa, socklen_t salen,
		     unsigned char key[16])
{
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static struct peer *peer_find(struct metrics *m, const unsigned char key[16])
{
	size_t i;

	for (i = 0; i < METRICS_MAX_CONNECTIONS; i++)
		if (m->peers[i].n && !memcmp(m->peers[i].addr, key, 16))
			return &m->peers[i];
	return NULL;
}

/*
 * libmicrohttpd's accept policy: a client outside the allow-list, or
 * whose address already holds METRICS_MAX_PER_IP connections, is closed
 * as soon as it is accepted, before it takes a connection slot.  Done
 * here rather than with MHD_OPTION_PER_IP_CONNECTION_LIMIT, which logs
 * a warning per refusal: a client could fill the log by reconnecting.
 * Runs on the loop thread, like the handlers.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa,
				 socklen_t salen)
{
	struct metrics *m = cls;
	unsigned char key[16];
	struct peer *p;

	if (m->acl && !metrics_acl__allows(m->acl, sa, salen)) {
		m->st.denied++;
		return MHD_NO;
	}
	if (!peer_key(sa, salen, key))
		return MHD_YES;
	p = peer_find(m, key);
	if (p && p->n >= METRICS_MAX_PER_IP) {
		m->st.over_ip_limit++;
		return MHD_NO;
	}
	return MHD_YES;
}

/* Counts the live connections per address, for on_accept(). */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct metrics *m = cls;
	unsigned char key[16];
	struct peer *p;
	size_t i;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		p = *ctx;
		if (p)
			p->n--;
		*ctx = NULL;
		return;
	}
	*ctx = NULL;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr ||
	    !peer_key(ci->client_addr,
		      ci->client_addr->sa_family == AF_INET6 ?
		      sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		      key))
		return;
	p = peer_find(m, key);
	for (i = 0; !p && i < METRICS_MAX_CONNECTIONS; i++)
		if (!m->peers[i].n)
			p = &m->peers[i];
	if (!p)
		return;
	if (!p->n)
		memcpy(p->addr, key, 16);
	p->n++;
	*ctx = p;
}

/* The server's own families, after the sensor's. */
static void render_server(struct metrics *m)
{
	struct metrics_text *t = m->text;

	metrics_text__family(t, PREFIX "ready", "gauge",
			     "1 once the probes are attached and the pipeline runs (/readyz).");
	metrics_text__sample(t, PREFIX "ready", NULL, 0, m->ready);
	stats__render(t, &server_table, &m->st);
}

static enum MHD_Result serve_metrics(struct metrics *m,
				     struct MHD_Connection *c)
{
	const char *data;
	size_t len;
	int err;

	metrics_text__reset(m->text);
	err = m->render(m->ctx, m->text);
	if (!err) {
		render_server(m);
		err = metrics_text__error(m->text);
	}
	if (err) {
		pr_warn("metrics endpoint: rendering /metrics: %s",
			strerror(-err));
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "could not render the metrics\n");
	}
	data = metrics_text__data(m->text, &len);
	return reply(c, MHD_HTTP_OK, CTYPE_METRICS, data, len);
}

static enum MHD_Result serve_healthz(struct metrics *m,
				     struct MHD_Connection *c)
{
	uint64_t age = now_ns() - m->heartbeat_ns;
	char body[96];

	if (age <= m->stale_ns)
		return reply_text(c, MHD_HTTP_OK, "ok\n");
	snprintf(body, sizeof(body), "stale: the event loop last ran %.1f s ago\n",
		 (double)age / 1e9);
	return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct metrics *m = cls;

	m->st.requests++;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(m, c);
	if (!strcmp(url, "/healthz"))
		return serve_healthz(m, c);
	if (!strcmp(url, "/readyz"))
		return m->ready ? reply_text(c, MHD_HTTP_OK, "ready\n") :
		       reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
	return reply_text(c, MHD_HTTP_NOT_FOUND,
			  "not found: try /metrics, /healthz or /readyz\n");
}

/* Binds and listens; returns the socket or -errno. */
static int listen_on(const char *address, unsigned int port, bool *v6,
		     char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, zero = 0, ret;

	if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		log__errbuf(err, errlen,
			    "metrics.address: \"%s\" is not an IPv4 or IPv6 address",
			    address);
		return -EINVAL;
	}
	*v6 = ss.ss_family == AF_INET6;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto err;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto err_close;
	/* "::" takes IPv4 clients too, whatever net.ipv6.bindv6only says. */
	if (*v6 && IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
		goto err_close;
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64))
		goto err_close;
	return fd;

err_close:
	ret = -errno;
	close(fd);
	errno = -ret;
err:
	ret = -errno;
	log__errbuf(err, errlen, "metrics endpoint %s%s%s:%u: %s",
		    *v6 ? "[" : "", address, *v6 ? "]" : "", port,
		    strerror(-ret));
	return ret;
}

static unsigned int bound_port(int fd)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getsockname(fd, &a.sa, &len))
		return 0;
	if (a.sa.sa_family == AF_INET6)
		return ntohs(a.in6.sin6_port);
	return ntohs(a.in.sin_port);
}

int metrics__start(struct metrics **out, const struct metrics_opts *o,
		   char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	char aclerr[256];
	struct metrics *m;
	bool v6 = false;
	int fd, ret;

	if (!o->render || !o->address || o->port > 65535) {
		log__errbuf(err, errlen, "metrics endpoint: bad options");
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->render = o->render;
	m->ctx = o->ctx;
	m->stale_ns = o->stale_ns ?: METRICS_DEF_STALE_NS;
	m->heartbeat_ns = now_ns();
	m->epfd = -1;
	if (o->allowed_ips) {
		ret = metrics_acl__parse(&m->acl, o->allowed_ips, aclerr,
					 sizeof(aclerr));
		if (ret) {
			log__errbuf(err, errlen, "metrics.allowed_ips: %s",
				    aclerr);
			goto err_free;
		}
	}
	ret = metrics_text__new(&m->text);
	if (ret)
		goto err_free;
	fd = listen_on(o->address, o->port, &v6, err, errlen);
	if (fd < 0) {
		ret = fd;
		goto err_free;
	}
	m->port = bound_port(fd);
	m->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
				(v6 ? MHD_USE_IPv6 : 0),
				0, on_accept, m, on_request, m,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)METRICS_MAX_CONNECTIONS,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)METRICS_CONN_TIMEOUT_S,
				MHD_OPTION_END);
	if (!m->d) {
		close(fd);
		log__errbuf(err, errlen,
			    "metrics endpoint: libmicrohttpd did not start");
		ret = -EIO;
		goto err_free;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		log__errbuf(err, errlen,
			    "metrics endpoint: libmicrohttpd has no epoll fd");
		ret = -EIO;
		goto err_free;
	}
	m->epfd = info->epoll_fd;
	*out = m;
	return 0;

err_free:
	metrics__stop(m);
	return ret;
}

int metrics__fd(const struct metrics *m)
{
	return m->epfd;
}

unsigned int metrics__port(const struct metrics *m)
{
	return m->port;
}

int metrics__run(struct metrics *m)
{
	return MHD_run(m->d) == MHD_YES ? 0 : -EIO;
}

void metrics__set_ready(struct metrics *m, bool ready)
{
	m->ready = ready;
}

void metrics__heartbeat(struct metrics *m, uint64_t now_mono_ns)
{
	m->heartbeat_ns = now_mono_ns;
}

void metrics__stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	metrics_text__free(m->text);
	metrics_acl__free(m->acl);
	free(m);
}

