/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - the sensor's HTTP endpoint for Kubernetes and Prometheus:
 * /metrics, /healthz and /readyz, served by libmicrohttpd.
 *
 * /metrics is the Prometheus text format (metrics_text.h), written by
 * the caller's render function (usually metrics__render(),
 * metrics_families.h), followed by the server's own families.
 *
 * Threading: libmicrohttpd runs in "external epoll" mode
 * (MHD_USE_EPOLL without a polling thread).  Its epoll fd sits in the
 * sensor's one event loop, next to the ring buffer and the status
 * socket, and metrics__run() runs it.  So the handlers run on the loop
 * thread and read the live counters directly: no lock, no snapshot copy,
 * and a scrape always sees one consistent state.  A loop that is stuck
 * stops answering /healthz, which is what a liveness probe wants to see.
 * Connections are bounded (count, idle timeout) and sockets non-blocking,
 * so a slow client cannot hold the loop.
 *
 * The allow-list (metrics_acl.h) is checked when a connection is
 * accepted (libmicrohttpd's accept policy): a client outside it is
 * closed at once, before it reads a byte or takes a connection slot,
 * and counted as metrics.denied.  Clients inside it may hold at most
 * METRICS_MAX_PER_IP connections per address, so one address cannot
 * take all METRICS_MAX_CONNECTIONS slots: filling them takes
 * METRICS_MAX_CONNECTIONS / METRICS_MAX_PER_IP allowed addresses.
 */
#ifndef OISP_METRICS_H
#define OISP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

struct metrics;
struct metrics_text;

/* Writes the sensor's families into @t (usually via metrics__render()).
 * Returns 0 or -errno (the scrape then gets 500). */
typedef int (*metrics_render_fn)(void *ctx, struct metrics_text *t);

struct metrics_opts {
	const char *address;	/* IPv4 or IPv6 literal; "::" is dual-stack */
	unsigned int port;	/* 0: any free port (see metrics__port()) */
	const char *allowed_ips; /* metrics_acl__parse() list; NULL: anyone */
	metrics_render_fn render; /* required */
	void *ctx;
	uint64_t stale_ns;	/* /healthz fails when the last heartbeat is
				 * older; 0: METRICS_DEF_STALE_NS */
};

#define METRICS_DEF_STALE_NS	(10ULL * 1000000000ULL)
#define METRICS_MAX_CONNECTIONS	32
#define METRICS_MAX_PER_IP	4	/* connections per client address */
#define METRICS_CONN_TIMEOUT_S	5	/* idle connections are closed */

/*
 * Validates the options, binds the listening socket and starts the
 * daemon (nothing is served until metrics__run()).  Not ready until
 * metrics__set_ready().  On error @err gets a message naming the bad
 * value or the address and reason, and -EINVAL (bad address or
 * allow-list), a socket/bind errno (-EADDRINUSE, -EACCES...) or
 * -ENOMEM is returned.
 */
int metrics__start(struct metrics **out, const struct metrics_opts *o,
		   char *err, size_t errlen);

/* The fd to watch for input (libmicrohttpd's epoll fd). */
int metrics__fd(const struct metrics *m);

/* The port bound, in host order. */
unsigned int metrics__port(const struct metrics *m);

/*
 * Accepts, reads and answers whatever is ready, without blocking, and
 * closes timed-out connections.  Call it when metrics__fd() is readable
 * and on every loop tick.  Returns 0 or -EIO.
 */
int metrics__run(struct metrics *m);

/* /readyz answers 200 once set true, 503 before and after set false. */
void metrics__set_ready(struct metrics *m, bool ready);

/* The loop is alive at CLOCK_MONOTONIC @now_ns (for /healthz). */
void metrics__heartbeat(struct metrics *m, uint64_t now_mono_ns);

/* Stops the daemon, closes every connection and frees; NULL is fine. */
void metrics__stop(struct metrics *m);

#endif /* OISP_METRICS_H */
