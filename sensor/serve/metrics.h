/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - the sensor's HTTP endpoint for Kubernetes and Prometheus:
 * /metrics, /healthz and /readyz, served by libmicrohttpd.
 *
 * /metrics follows the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/):
 * "# HELP" and "# TYPE" once per family, then its samples, label values
 * escaped (\\, \", \n), values as Go's ParseFloat reads them.
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
 * The allow-list (metrics_acl) is checked for every request: a client
 * outside it gets 403 and nothing else.
 */
#ifndef OISP_METRICS_H
#define OISP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct metrics;
struct metrics_text;
struct metrics_acl;
struct pipeline_stats;
struct output_stats;
struct capture_stats;
struct aistats;

/* ---- The exposition text --------------------------------------------- */

struct metrics_label {
	const char *name;	/* [a-zA-Z_][a-zA-Z0-9_]*, not "__" prefixed */
	const char *value;	/* any bytes; NULL is "" */
};

/* Creates an empty text.  Returns 0 or -ENOMEM. */
int metrics_text__new(struct metrics_text **out);

/* Empties @t, keeping its buffer and clearing its error. */
void metrics_text__reset(struct metrics_text *t);

/*
 * Writes "# HELP @name @help" (help escaped: \\ and \n) and
 * "# TYPE @name @type".  @type is counter, gauge, histogram, summary or
 * untyped.  Errors are sticky, as for seq_file: every writer returns
 * the text's error, and metrics_text__error() reports the first one:
 * -EINVAL (bad name or type) or -ENOMEM.
 */
int metrics_text__family(struct metrics_text *t, const char *name,
			 const char *type, const char *help);

/*
 * Writes one sample line: @name{labels} @value.  Label values are
 * escaped (\\, \", \n) and invalid UTF-8 is replaced by U+FFFD, because
 * Prometheus rejects the whole scrape for one bad label value.  Values
 * print as integers when integral, else in the shortest form that reads
 * back the same; NaN and infinities as NaN, +Inf, -Inf.
 */
int metrics_text__sample(struct metrics_text *t, const char *name,
			 const struct metrics_label *labels, size_t nlabels,
			 double value);

/*
 * Writes a histogram's samples: @name_bucket{labels,le="B"} for each of
 * the @nbounds ascending upper bounds @bounds and le="+Inf", then
 * @name_sum and @name_count.  @counts holds @nbounds + 1 per-bucket
 * (not cumulative) counts, the last for +Inf.
 */
int metrics_text__histogram(struct metrics_text *t, const char *name,
			    const struct metrics_label *labels, size_t nlabels,
			    const double *bounds, const uint64_t *counts,
			    size_t nbounds, double sum);

/* The text so far (NUL-terminated, owned by @t) and its length. */
const char *metrics_text__data(const struct metrics_text *t, size_t *len);

/* 0, or the first error of a writer since creation or reset. */
int metrics_text__error(const struct metrics_text *t);

/* NULL is fine. */
void metrics_text__free(struct metrics_text *t);

/* ---- The sensor's metric families ------------------------------------ */

struct metrics_sources {
	const struct pipeline_stats *pipeline;	/* required */
	const struct output_stats *output;	/* required */
	const struct capture_stats *capture;	/* NULL: capture families left out */
	const struct aistats *ai;		/* NULL: AI families without samples */
	double uptime_s;			/* seconds since start */
};

/*
 * Writes every oisp_sensor_* family of the sensor, and the process_*
 * families of the calling process (CPU seconds, resident memory, open
 * file descriptors, start time).  Returns metrics_text__error().
 */
int metrics__render(struct metrics_text *t, const struct metrics_sources *s);

/* ---- The allow-list -------------------------------------------------- */

/*
 * Parses "CIDR,CIDR,..." (spaces around entries are allowed).  An entry
 * is an IPv4 or IPv6 address, optionally with "/PREFIX" (0-32 or
 * 0-128; no prefix means the single address).  Parsing is strict: an
 * empty entry, a malformed address or prefix, or host bits set beyond
 * the prefix (10.1.0.0/8) is an error that names the entry in @err.
 * An IPv4 entry also matches the IPv4-mapped IPv6 form (::ffff:a.b.c.d)
 * of its addresses, which is how a dual-stack socket sees IPv4 clients.
 * Returns 0 with *@out set, -EINVAL or -ENOMEM.
 */
int metrics_acl__parse(struct metrics_acl **out, const char *list, char *err,
		       size_t errlen);

/* True when @sa (AF_INET or AF_INET6) is in one of the networks. */
bool metrics_acl__allows(const struct metrics_acl *a,
			 const struct sockaddr *sa, socklen_t salen);

/* NULL is fine. */
void metrics_acl__free(struct metrics_acl *a);

/* ---- The server ------------------------------------------------------ */

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
#define METRICS_CONN_TIMEOUT_S	10

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
