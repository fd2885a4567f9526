// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ai/aistats.h"
#include "capture/capture.h"
#include "lib/log.h"
#include "serve/metrics.h"
#include "lib/utf8.h"
#include "event/output.h"
#include "pipeline/pipeline.h"

#define PREFIX			"oisp_sensor_"
#define CTYPE_METRICS		"text/plain; version=0.0.4; charset=utf-8"
#define CTYPE_TEXT		"text/plain; charset=utf-8"
#define TEXT_INITIAL		16384
#define ACL_MAX_ENTRIES		256

/* ---- The exposition text --------------------------------------------- */

struct metrics_text {
	char *buf;
	size_t len, cap;
	int err;
};

int metrics_text__new(struct metrics_text **out)
{
	struct metrics_text *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->buf = malloc(TEXT_INITIAL);
	if (!t->buf) {
		free(t);
		return -ENOMEM;
	}
	t->cap = TEXT_INITIAL;
	t->buf[0] = '\0';
	*out = t;
	return 0;
}

void metrics_text__reset(struct metrics_text *t)
{
	t->len = 0;
	t->buf[0] = '\0';
	t->err = 0;
}

const char *metrics_text__data(const struct metrics_text *t, size_t *len)
{
	if (len)
		*len = t->len;
	return t->buf;
}

int metrics_text__error(const struct metrics_text *t)
{
	return t->err;
}

void metrics_text__free(struct metrics_text *t)
{
	if (!t)
		return;
	free(t->buf);
	free(t);
}

static void fail(struct metrics_text *t, int err)
{
	if (!t->err)
		t->err = err;
}

/* Room for @n more bytes and the NUL. */
static bool reserve(struct metrics_text *t, size_t n)
{
	size_t cap = t->cap;
	char *b;

	if (t->err)
		return false;
	if (t->len + n + 1 <= cap)
		return true;
	while (t->len + n + 1 > cap)
		cap *= 2;
	b = realloc(t->buf, cap);
	if (!b) {
		fail(t, -ENOMEM);
		return false;
	}
	t->buf = b;
	t->cap = cap;
	return true;
}

static void put(struct metrics_text *t, const char *s, size_t n)
{
	if (!reserve(t, n))
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void puts_(struct metrics_text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* Label value: \\ \" \n escaped, invalid UTF-8 replaced by U+FFFD. */
static void put_label_value(struct metrics_text *t, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ?: "");
	const unsigned char *end = p + strlen((const char *)p);
	int n;

	while (*p) {
		n = utf8__seq(p, (size_t)(end - p));
		if (n <= 0) {
			put(t, "\xef\xbf\xbd", 3);
			p++;
		} else if (*p == '\\') {
			put(t, "\\\\", 2);
			p++;
		} else if (*p == '"') {
			put(t, "\\\"", 2);
			p++;
		} else if (*p == '\n') {
			put(t, "\\n", 2);
			p++;
		} else {
			put(t, (const char *)p, (size_t)n);
			p += n;
		}
	}
}

/* HELP text: \\ and \n escaped. */
static void put_help(struct metrics_text *t, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(t, "\\\\", 2);
		else if (*s == '\n')
			put(t, "\\n", 2);
		else
			put(t, s, 1);
	}
}

/* Go's strconv.ParseFloat reads all of these. */
static void format_value(char *b, size_t len, double v)
{
	if (isnan(v))
		snprintf(b, len, "NaN");
	else if (isinf(v))
		snprintf(b, len, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(b, len, "%.0f", v);
	else if (snprintf(b, len, "%.15g", v) > 0 && strtod(b, NULL) != v)
		snprintf(b, len, "%.17g", v);
}

static void put_value(struct metrics_text *t, double v)
{
	char b[40];

	format_value(b, sizeof(b), v);
	puts_(t, b);
}

static bool name_ok(const char *s, bool colon)
{
	const char *p;

	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' ||
		      (colon && *p == ':')))
			return false;
	return true;
}

int metrics_text__family(struct metrics_text *t, const char *name,
			 const char *type, const char *help)
{
	static const char *const types[] = {
		"counter", "gauge", "histogram", "summary", "untyped",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(type, types[i]))
			break;
	if (i == sizeof(types) / sizeof(types[0]) || !name_ok(name, true)) {
		fail(t, -EINVAL);
		return t->err;
	}
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_help(t, help);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, type);
	puts_(t, "\n");
	return t->err;
}

static void put_labels(struct metrics_text *t, const struct metrics_label *l,
		       size_t n, const char *le)
{
	size_t i;

	if (!n && !le)
		return;
	puts_(t, "{");
	for (i = 0; i < n; i++) {
		if (!name_ok(l[i].name, false) || !strncmp(l[i].name, "__", 2)) {
			fail(t, -EINVAL);
			return;
		}
		if (i)
			puts_(t, ",");
		puts_(t, l[i].name);
		puts_(t, "=\"");
		put_label_value(t, l[i].value);
		puts_(t, "\"");
	}
	if (le) {
		puts_(t, n ? ",le=\"" : "le=\"");
		puts_(t, le);
		puts_(t, "\"");
	}
	puts_(t, "}");
}

static void put_sample(struct metrics_text *t, const char *name,
		       const char *suffix, const struct metrics_label *l,
		       size_t n, const char *le, double v)
{
	if (!name_ok(name, true)) {
		fail(t, -EINVAL);
		return;
	}
	puts_(t, name);
	puts_(t, suffix);
	put_labels(t, l, n, le);
	puts_(t, " ");
	put_value(t, v);
	puts_(t, "\n");
}

int metrics_text__sample(struct metrics_text *t, const char *name,
			 const struct metrics_label *labels, size_t nlabels,
			 double value)
{
	put_sample(t, name, "", labels, nlabels, NULL, value);
	return t->err;
}

int metrics_text__histogram(struct metrics_text *t, const char *name,
			    const struct metrics_label *labels, size_t nlabels,
			    const double *bounds, const uint64_t *counts,
			    size_t nbounds, double sum)
{
	uint64_t cum = 0;
	char le[40];
	size_t i;

	for (i = 0; i <= nbounds; i++) {
		cum += counts[i];
		if (i < nbounds)
			format_value(le, sizeof(le), bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		put_sample(t, name, "_bucket", labels, nlabels, le,
			   (double)cum);
	}
	put_sample(t, name, "_sum", labels, nlabels, NULL, sum);
	put_sample(t, name, "_count", labels, nlabels, NULL, (double)cum);
	return t->err;
}

/* ---- The sensor's metric families ------------------------------------ */

struct simple {
	const char *name;	/* after PREFIX */
	const char *type;
	const char *help;
	double v;
};

static void simple_family(struct metrics_text *t, const struct simple *s)
{
	char name[128];

	snprintf(name, sizeof(name), PREFIX "%s", s->name);
	metrics_text__family(t, name, s->type, s->help);
	metrics_text__sample(t, name, NULL, 0, s->v);
}

enum ai_family {
	AI_REQUESTS,
	AI_RESPONSES,
	AI_TOKENS,
	AI_LATENCY,
};

struct ai_ctx {
	struct metrics_text *t;
	enum ai_family which;
};

static int ai_series(void *ctx, const struct aistats_series *s)
{
	struct ai_ctx *a = ctx;
	struct metrics_label l[4] = {
		{ "provider", s->provider },
		{ "model", s->model },
		{ "namespace", s->ns },
	};

	switch (a->which) {
	case AI_REQUESTS:
		metrics_text__sample(a->t, PREFIX "ai_requests_total", l, 3,
				     (double)s->requests);
		break;
	case AI_RESPONSES:
		l[3] = (struct metrics_label){ "success", "true" };
		metrics_text__sample(a->t, PREFIX "ai_responses_total", l, 4,
				     (double)s->responses_ok);
		l[3].value = "false";
		metrics_text__sample(a->t, PREFIX "ai_responses_total", l, 4,
				     (double)s->responses_err);
		break;
	case AI_TOKENS:
		l[3] = (struct metrics_label){ "direction", "input" };
		metrics_text__sample(a->t, PREFIX "ai_tokens_total", l, 4,
				     (double)s->prompt_tokens);
		l[3].value = "output";
		metrics_text__sample(a->t, PREFIX "ai_tokens_total", l, 4,
				     (double)s->completion_tokens);
		break;
	case AI_LATENCY:
		metrics_text__histogram(a->t, PREFIX "ai_latency_seconds", l, 3,
					aistats__latency_bounds(), s->latency,
					AISTATS_LATENCY_BUCKETS,
					s->latency_sum_s);
		break;
	}
	return metrics_text__error(a->t);
}

static void render_ai(struct metrics_text *t, const struct aistats *ai)
{
	static const struct {
		enum ai_family which;
		const char *name, *type, *help;
	} fam[] = {
		{ AI_REQUESTS, PREFIX "ai_requests_total", "counter",
		  "AI API requests seen (ai.request events written)." },
		{ AI_RESPONSES, PREFIX "ai_responses_total", "counter",
		  "AI API responses seen (ai.response events written), by data.success." },
		{ AI_TOKENS, PREFIX "ai_tokens_total", "counter",
		  "Tokens reported in AI responses' usage: input (prompt) or output (completion)." },
		{ AI_LATENCY, PREFIX "ai_latency_seconds", "histogram",
		  "Time from the first byte of an AI request to the last byte of its response." },
	};
	struct ai_ctx a = { .t = t };
	size_t i;

	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		metrics_text__family(t, fam[i].name, fam[i].type, fam[i].help);
		a.which = fam[i].which;
		aistats__for_each(ai, ai_series, &a);
	}
	simple_family(t, &(struct simple){ "ai_series", "gauge",
		"Label sets (provider, model, namespace) in use for the AI families.",
		(double)aistats__count(ai) });
	simple_family(t, &(struct simple){ "ai_series_folded_total", "counter",
		"AI calls counted under model=\"other\" because the series limit was reached.",
		(double)aistats__folded(ai) });
}

static void render_events(struct metrics_text *t,
			  const struct pipeline_stats *ps)
{
	const char *name = PREFIX "events_total";

	metrics_text__family(t, name, "counter",
			     "OISP events written, by event_type.");
	metrics_text__sample(t, name, &(struct metrics_label){ "type", "ai.request" },
			     1, (double)ps->events_request);
	metrics_text__sample(t, name, &(struct metrics_label){ "type", "ai.response" },
			     1, (double)ps->events_response);
}

static void render_capture(struct metrics_text *t,
			   const struct capture_stats *cs)
{
	const struct simple s[] = {
		{ "capture_calls_total", "counter",
		  "SSL read/write calls captured by the uprobes.", (double)cs->kern.calls },
		{ "capture_records_total", "counter",
		  "Data records read from the BPF ring buffer.", (double)cs->records },
		{ "capture_bytes_total", "counter",
		  "Plaintext bytes read from the BPF ring buffer.", (double)cs->bytes },
		{ "capture_lost_records_total", "counter",
		  "Records the full ring buffer could not take.", (double)cs->kern.lost_records },
		{ "capture_lost_bytes_total", "counter",
		  "Plaintext bytes of the records lost.", (double)cs->kern.lost_bytes },
		{ "capture_truncated_calls_total", "counter",
		  "Calls longer than capture.max_bytes_per_call, cut.", (double)cs->kern.truncated_calls },
		{ "capture_truncated_bytes_total", "counter",
		  "Bytes not copied because of the per-call cap.", (double)cs->kern.truncated_bytes },
		{ "capture_read_faults_total", "counter",
		  "Plaintext that could not be read from the traced process.", (double)cs->kern.read_faults },
		{ "capture_lost_control_total", "counter",
		  "Exec, exit and dlopen records lost.", (double)cs->kern.lost_control },
		{ "capture_missed_calls_total", "counter",
		  "SSL calls not captured: no task storage for their arguments.", (double)cs->kern.missed_calls },
		{ "capture_skipped_calls_total", "counter",
		  "SSL calls of connections the sensor ignores (server side, not HTTP/1.x, switched protocols), not copied.", (double)cs->kern.skipped_calls },
		{ "capture_skipped_connections_total", "counter",
		  "Connections whose calls the sensor stopped copying in the kernel.", (double)cs->skipped_conns },
		{ "attached_files", "gauge",
		  "OpenSSL files (libssl or executables) with uprobes attached.", (double)cs->files_attached },
		{ "attach_errors", "gauge",
		  "OpenSSL files whose uprobes could not be attached.", (double)cs->attach_errors },
		{ "traced_processes", "gauge",
		  "Processes mapping an attached OpenSSL file, at the last full scan.", (double)cs->procs_traced },
		{ "denied_processes", "gauge",
		  "Processes whose maps or mapped files could not be read at the last full scan (their OpenSSL is missed).", (double)cs->procs_denied },
		{ "targeted_processes", "gauge",
		  "Targeted mode: processes with probes of their own.", (double)cs->procs_targeted },
	};
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		simple_family(t, &s[i]);
}

static void render_pipeline(struct metrics_text *t,
			    const struct pipeline_stats *ps,
			    const struct output_stats *os)
{
	const struct simple s[] = {
		{ "events_partial_total", "counter",
		  "Events written with confidence.completeness \"partial\".", (double)ps->events_partial },
		{ "events_redacted_total", "counter",
		  "Events in which redaction replaced something.", (double)ps->events_redacted },
		{ "events_dropped_total", "counter",
		  "Events that could not be built or written.", (double)ps->write_errors },
		{ "pipeline_records_total", "counter",
		  "Capture records fed to the pipeline.", (double)ps->records },
		{ "pipeline_bad_records_total", "counter",
		  "Capture records that failed validation.", (double)ps->bad_records },
		{ "connections", "gauge",
		  "TLS connections tracked now.", (double)ps->connections },
		{ "connections_evicted_total", "counter",
		  "Connections flushed because the table was full.", (double)ps->connections_evicted },
		{ "connections_idle_closed_total", "counter",
		  "Connections flushed after the idle timeout.", (double)ps->connections_idle },
		{ "connections_freed_total", "counter",
		  "Connections ended by SSL_free().", (double)ps->connections_freed },
		{ "connections_not_http1_total", "counter",
		  "Connections not parsed because they are not HTTP/1.x (e.g. HTTP/2).", (double)ps->connections_not_http1 },
		{ "http_messages_total", "counter",
		  "HTTP messages parsed.", (double)ps->http_messages },
		{ "http_parse_errors_total", "counter",
		  "HTTP parse errors (counted when their connection closes).", (double)ps->parse_errors },
		{ "capture_gaps_total", "counter",
		  "Messages with lost or truncated capture data.", (double)ps->gaps },
		{ "unmatched_requests_total", "counter",
		  "HTTP requests no classification rule matched.", (double)ps->unmatched },
		{ "unpaired_responses_total", "counter",
		  "HTTP responses with no request seen.", (double)ps->unpaired_responses },
		{ "bodies_truncated_total", "counter",
		  "Bodies cut at capture.max_body_bytes.", (double)ps->bodies_truncated },
		{ "decode_errors_total", "counter",
		  "Bodies whose Content-Encoding could not be decoded.", (double)ps->decode_errors },
		{ "json_errors_total", "counter",
		  "AI bodies that were not valid JSON.", (double)ps->json_errors },
		{ "redaction_errors_total", "counter",
		  "Values dropped because redaction failed.", (double)ps->redaction_errors },
		{ "output_lines_total", "counter",
		  "Lines written to the events file.", (double)os->lines },
		{ "output_bytes_total", "counter",
		  "Bytes written to the events file.", (double)os->bytes },
		{ "output_write_errors_total", "counter",
		  "Lines the events file did not take (write failed).", (double)os->write_errors },
	};
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		simple_family(t, &s[i]);
}

/* The decimal number at *@p (blanks before it skipped); moves *@p past it. */
static int parse_ul(const char **p, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(*p, &end, 10);
	if (end == *p || errno)
		return -EINVAL;
	*p = end;
	return 0;
}

/*
 * Resident set size in bytes from /proc/self/statm ("size resident ...",
 * in pages), or -1.
 */
static double rss_bytes(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	char line[256];
	const char *p;

	if (!f)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || parse_ul(&p, &size) || parse_ul(&p, &resident))
		return -1;
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	double n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static void render_process(struct metrics_text *t)
{
	struct rusage ru;
	double v;

	if (!getrusage(RUSAGE_SELF, &ru)) {
		metrics_text__family(t, "process_cpu_seconds_total", "counter",
				     "User and system CPU time spent, in seconds.");
		metrics_text__sample(t, "process_cpu_seconds_total", NULL, 0,
				     (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	v = rss_bytes();
	if (v >= 0) {
		metrics_text__family(t, "process_resident_memory_bytes", "gauge",
				     "Resident memory size in bytes.");
		metrics_text__sample(t, "process_resident_memory_bytes", NULL, 0, v);
	}
	v = open_fds();
	if (v >= 0) {
		metrics_text__family(t, "process_open_fds", "gauge",
				     "Number of open file descriptors.");
		metrics_text__sample(t, "process_open_fds", NULL, 0, v);
	}
}

int metrics__render(struct metrics_text *t, const struct metrics_sources *s)
{
	metrics_text__family(t, PREFIX "build_info", "gauge",
			     "Always 1; the version of the sensor is a label.");
	metrics_text__sample(t, PREFIX "build_info",
			     &(struct metrics_label){ "version", OISP_VERSION },
			     1, 1);
	simple_family(t, &(struct simple){ "uptime_seconds", "gauge",
		"Seconds since the sensor started.", s->uptime_s });
	render_events(t, s->pipeline);
	render_ai(t, s->ai);
	if (s->capture)
		render_capture(t, s->capture);
	render_pipeline(t, s->pipeline, s->output);
	render_process(t);
	return metrics_text__error(t);
}

/* ---- The allow-list -------------------------------------------------- */

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned int prefix;	/* bits */
	unsigned char addr[16];	/* network order; 4 bytes for AF_INET */
};

struct metrics_acl {
	size_t n;
	struct cidr v[];
};

static bool prefix_match(const unsigned char *a, const unsigned char *net,
			 unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, net, full))
		return false;
	if (!rest)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

static bool host_bits_zero(const struct cidr *c, unsigned int max)
{
	unsigned int b;

	for (b = c->prefix; b < max; b++)
		if (c->addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* Parses one trimmed entry of @len bytes.  Returns 0 or -EINVAL. */
static int cidr_parse(struct cidr *c, const char *s, size_t len, char *err,
		      size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long bits;
	unsigned int max;

	if (!len) {
		log__errbuf(err, errlen, "empty entry in the allow-list");
		return -EINVAL;
	}
	if (len >= sizeof(buf))
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	c->prefix = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9' ||
		    (slash[1] == '0' && slash[2]))
			goto bad;
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (errno || *end || bits > max)
			goto bad;
		c->prefix = (unsigned int)bits;
	}
	/* Host bits must be zero, as Python's ip_network(strict=True) wants. */
	if (!host_bits_zero(c, max)) {
		log__errbuf(err, errlen,
			    "\"%.*s\" has host bits set beyond /%u",
			    (int)len, s, c->prefix);
		return -EINVAL;
	}
	return 0;
bad:
	log__errbuf(err, errlen,
		    "\"%.*s\" is not an IPv4 or IPv6 address or CIDR",
		    (int)(len > 64 ? 64 : len), s);
	return -EINVAL;
}

int metrics_acl__parse(struct metrics_acl **out, const char *list, char *err,
		       size_t errlen)
{
	const char *p = list, *e, *comma;
	struct metrics_acl *a;
	size_t n = 1;
	int ret;

	for (e = list; *e; e++)
		n += *e == ',';
	if (n > ACL_MAX_ENTRIES) {
		log__errbuf(err, errlen, "more than %d networks in the allow-list",
			    ACL_MAX_ENTRIES);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a) + n * sizeof(a->v[0]));
	if (!a)
		return -ENOMEM;
	for (;;) {
		comma = strchr(p, ',');
		e = comma ?: p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		ret = cidr_parse(&a->v[a->n], p, (size_t)(e - p), err, errlen);
		if (ret) {
			free(a);
			return ret;
		}
		a->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = a;
	return 0;
}

bool metrics_acl__allows(const struct metrics_acl *a,
			 const struct sockaddr *sa, socklen_t salen)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	const unsigned char *v4 = NULL, *v6 = NULL;
	const struct sockaddr_in6 *s6;
	size_t i;

	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		v4 = (const unsigned char *)
		     &((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6 &&
		   salen >= sizeof(struct sockaddr_in6)) {
		s6 = (const struct sockaddr_in6 *)sa;
		v6 = s6->sin6_addr.s6_addr;
		if (!memcmp(v6, mapped, sizeof(mapped)))
			v4 = v6 + 12;
	} else {
		return false;
	}
	for (i = 0; i < a->n; i++) {
		if (a->v[i].family == AF_INET && v4 &&
		    prefix_match(v4, a->v[i].addr, a->v[i].prefix))
			return true;
		if (a->v[i].family == AF_INET6 && v6 &&
		    prefix_match(v6, a->v[i].addr, a->v[i].prefix))
			return true;
	}
	return false;
}

void metrics_acl__free(struct metrics_acl *a)
{
	free(a);
}

/* ---- The server ------------------------------------------------------ */

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
	uint64_t requests, denied;
};

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

static bool client_allowed(const struct metrics *m, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	if (!m->acl)
		return true;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return false;
	sa = ci->client_addr;
	return metrics_acl__allows(m->acl, sa,
				   sa->sa_family == AF_INET6 ?
				   sizeof(struct sockaddr_in6) :
				   sizeof(struct sockaddr_in));
}

/* The server's own families, after the sensor's. */
static void render_server(struct metrics *m)
{
	struct metrics_text *t = m->text;

	metrics_text__family(t, PREFIX "ready", "gauge",
			     "1 once the probes are attached and the pipeline runs (/readyz).");
	metrics_text__sample(t, PREFIX "ready", NULL, 0, m->ready);
	metrics_text__family(t, PREFIX "metrics_requests_total", "counter",
			     "HTTP requests answered by the metrics endpoint.");
	metrics_text__sample(t, PREFIX "metrics_requests_total", NULL, 0,
			     (double)m->requests);
	metrics_text__family(t, PREFIX "metrics_denied_total", "counter",
			     "Requests refused with 403: client not in metrics.allowed_ips.");
	metrics_text__sample(t, PREFIX "metrics_denied_total", NULL, 0,
			     (double)m->denied);
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

	m->requests++;
	if (!client_allowed(m, c)) {
		m->denied++;
		return reply_text(c, MHD_HTTP_FORBIDDEN, "forbidden\n");
	}
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
				0, NULL, NULL, on_request, m,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)METRICS_MAX_CONNECTIONS,
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
