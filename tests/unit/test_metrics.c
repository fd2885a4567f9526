// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ai/aistats.h"
#include "capture/capture.h"
#include "event/output.h"
#include "meta/k8s.h"
#include "pipeline/pipeline.h"
#include "serve/metrics.h"
#include "serve/metrics_acl.h"
#include "serve/metrics_families.h"
#include "serve/metrics_text.h"
#include "serve/stats.h"
#include "slurp.h"

static struct metrics_text *T;

static void text_setup(void)
{
	cr_assert_eq(metrics_text__new(&T), 0);
}

static void text_teardown(void)
{
	metrics_text__free(T);
}

static const char *text(void)
{
	cr_assert_eq(metrics_text__error(T), 0);
	return metrics_text__data(T, NULL);
}

TestSuite(text, .init = text_setup, .fini = text_teardown);

Test(text, help_and_type_lines)
{
	metrics_text__family(T, "a_total", "counter", "Line one\nback\\slash");
	metrics_text__sample(T, "a_total", NULL, 0, 3);
	cr_assert_str_eq(text(),
			 "# HELP a_total Line one\\nback\\\\slash\n"
			 "# TYPE a_total counter\n"
			 "a_total 3\n");
}

Test(text, label_values_are_escaped)
{
	struct metrics_label l[] = {
		{ "model", "say \"hi\"\\\nbye" },
		{ "ns", NULL },
	};

	metrics_text__sample(T, "x", l, 2, 1);
	cr_assert_str_eq(text(), "x{model=\"say \\\"hi\\\"\\\\\\nbye\",ns=\"\"} 1\n");
}

Test(text, invalid_utf8_is_replaced)
{
	/* Valid 2- and 4-byte sequences stay; a stray continuation byte,
	 * an overlong form and a surrogate become U+FFFD. */
	struct metrics_label l = { "m", "\xc3\xa9\xf0\x9f\x98\x80\x80\xc0\xaf\xed\xa0\x80." };

	metrics_text__sample(T, "x", &l, 1, 1);
	cr_assert_str_eq(text(),
			 "x{m=\"\xc3\xa9\xf0\x9f\x98\x80"
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.\"} 1\n");
}

Test(text, values)
{
	metrics_text__sample(T, "a", NULL, 0, 0);
	metrics_text__sample(T, "b", NULL, 0, 18446744073709551615.0);
	metrics_text__sample(T, "c", NULL, 0, 0.1);
	metrics_text__sample(T, "d", NULL, 0, 1.0 / 0.0);
	metrics_text__sample(T, "e", NULL, 0, -1.0 / 0.0);
	metrics_text__sample(T, "f", NULL, 0, 0.0 / 0.0);
	metrics_text__sample(T, "g", NULL, 0, 123456789012);
	cr_assert_str_eq(text(), "a 0\nb 1.8446744073709552e+19\nc 0.1\n"
				 "d +Inf\ne -Inf\nf NaN\ng 123456789012\n");
}

Test(text, histogram_buckets_are_cumulative)
{
	const double b[] = { 0.5, 1 };
	const uint64_t n[] = { 2, 0, 1 };
	struct metrics_label l = { "p", "o" };

	metrics_text__histogram(T, "h_seconds", &l, 1, b, n, 2, 3.25);
	cr_assert_str_eq(text(),
			 "h_seconds_bucket{p=\"o\",le=\"0.5\"} 2\n"
			 "h_seconds_bucket{p=\"o\",le=\"1\"} 2\n"
			 "h_seconds_bucket{p=\"o\",le=\"+Inf\"} 3\n"
			 "h_seconds_sum{p=\"o\"} 3.25\n"
			 "h_seconds_count{p=\"o\"} 3\n");
}

Test(text, bad_names_are_sticky_errors)
{
	struct metrics_label l = { "__reserved", "v" };

	cr_assert_eq(metrics_text__family(T, "ok", "countr", "h"), -EINVAL);
	metrics_text__reset(T);
	cr_assert_eq(metrics_text__family(T, "9bad", "gauge", "h"), -EINVAL);
	metrics_text__reset(T);
	cr_assert_eq(metrics_text__sample(T, "x", &l, 1, 1), -EINVAL);
	cr_assert_eq(metrics_text__sample(T, "fine", NULL, 0, 1), -EINVAL);
	metrics_text__reset(T);
	cr_assert_eq(metrics_text__sample(T, "fine", NULL, 0, 1), 0);
}

/* Every sample belongs to the family declared (HELP, TYPE) just before. */
static void check_structure(const char *s)
{
	char fam[128] = "", type[32] = "", line[1024], name[128];
	const char *nl;
	size_t n, k;

	for (; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		cr_assert_not_null(nl, "text ends without a newline");
		n = (size_t)(nl - s);
		cr_assert_lt(n, sizeof(line));
		memcpy(line, s, n);
		line[n] = '\0';
		if (!strncmp(line, "# HELP ", 7)) {
			cr_assert_eq(sscanf(line + 7, "%127s", fam), 1);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			cr_assert_eq(sscanf(line + 7, "%127s %31s", name, type), 2);
			cr_assert_str_eq(name, fam, "TYPE %s after HELP %s", name, fam);
			continue;
		}
		k = strcspn(line, "{ ");
		cr_assert_lt(k, sizeof(name));
		memcpy(name, line, k);
		name[k] = '\0';
		if (!strcmp(type, "histogram"))
			cr_assert(strstr(name, fam) == name, "%s in family %s", name, fam);
		else
			cr_assert_str_eq(name, fam, "sample %s in family %s", name, fam);
	}
}

Test(text, sensor_families)
{
	struct pipeline_stats ps = { .events_request = 5, .events_response = 4,
				     .parse_errors = 2 };
	struct output_stats os = { .lines = 9, .write_errors = 1 };
	struct capture_stats cs = { .files_attached = 3, .procs_traced = 7 };
	struct k8s_stats ks = { .lists_ok = 2, .pods = 6 };
	struct metrics_sources src = {
		.pipeline = &ps, .output = &os, .capture = &cs, .k8s = &ks,
		.uptime_s = 1.5,
	};
	struct aistats *ai;
	const char *s;

	cs.kern.lost_records = 11;
	cs.kern.lost_control = 12;
	cs.stack_label[CAP_STACK_OPENSSL] = "openssl";
	cs.stack_label[CAP_STACK_GNUTLS] = "gnutls";
	cs.stack[CAP_STACK_OPENSSL].kern.lost_records = 7;
	cs.stack[CAP_STACK_GNUTLS].kern.lost_records = 4;
	cs.stack[CAP_STACK_OPENSSL].files_attached = 2;
	cs.stack[CAP_STACK_GNUTLS].files_attached = 1;
	cr_assert_eq(aistats__new(&ai, 0), 0);
	aistats__record_request(ai, "openai", "gpt-4o-mini", "");
	aistats__record_response(ai, "openai", "gpt-4o-mini", "", true, 8, 2, 400);
	src.ai = ai;
	cr_assert_eq(metrics__render(T, &src), 0);
	s = text();
	check_structure(s);
	cr_assert_not_null(strstr(s, "oisp_sensor_build_info{version=\"" OISP_VERSION "\"} 1\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_pipeline_events_request_total 5\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_pipeline_events_response_total 4\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_ai_requests_total{provider=\"openai\",model=\"gpt-4o-mini\",namespace=\"\"} 1\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_ai_responses_total{provider=\"openai\",model=\"gpt-4o-mini\",namespace=\"\",success=\"true\"} 1\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_ai_tokens_total{provider=\"openai\",model=\"gpt-4o-mini\",namespace=\"\",direction=\"input\"} 8\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_ai_tokens_total{provider=\"openai\",model=\"gpt-4o-mini\",namespace=\"\",direction=\"output\"} 2\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_ai_latency_seconds_bucket{provider=\"openai\",model=\"gpt-4o-mini\",namespace=\"\",le=\"0.5\"} 1\n"));
	/* Counted per TLS stack: one series each, labelled, and no total. */
	cr_assert_not_null(strstr(s, "# TYPE oisp_sensor_capture_lost_records_total counter\n"
				     "oisp_sensor_capture_lost_records_total{stack=\"openssl\"} 7\n"
				     "oisp_sensor_capture_lost_records_total{stack=\"gnutls\"} 4\n#"));
	cr_assert_not_null(strstr(s, "# TYPE oisp_sensor_capture_files_attached gauge\n"
				     "oisp_sensor_capture_files_attached{stack=\"openssl\"} 2\n"
				     "oisp_sensor_capture_files_attached{stack=\"gnutls\"} 1\n#"));
	/* No stack's: the total. */
	cr_assert_not_null(strstr(s, "oisp_sensor_capture_lost_control_total 12\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_capture_procs_traced 7\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_pipeline_parse_errors_total 2\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_pipeline_connections 0\n"));
	cr_assert_not_null(strstr(s, "# TYPE oisp_sensor_pipeline_connections_total counter\n"
				     "oisp_sensor_pipeline_connections_total 0\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_kubernetes_lists_ok_total 2\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_kubernetes_pods 6\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_output_write_errors_total 1\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_output_lines_total 9\n"));
	cr_assert_not_null(strstr(s, "oisp_sensor_uptime_seconds 1.5\n"));
	cr_assert_not_null(strstr(s, "# TYPE process_resident_memory_bytes gauge\n"));
	aistats__free(ai);
}

/* ---- allow-list ---- */

static struct sockaddr_storage sa(const char *ip)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else
		cr_assert_fail("bad test address %s", ip);
	return ss;
}

static bool allows(const struct metrics_acl *a, const char *ip)
{
	struct sockaddr_storage ss = sa(ip);

	return metrics_acl__allows(a, (struct sockaddr *)&ss, sizeof(ss));
}

Test(acl, matches_ipv4_ipv6_and_mapped)
{
	struct metrics_acl *a;
	char err[256];

	cr_assert_eq(metrics_acl__parse(&a, "10.0.0.0/8, 192.168.1.7 ,fd00::/8,"
					"172.16.0.0/12,::1", err, sizeof(err)), 0, "%s", err);
	cr_assert(allows(a, "10.1.2.3"));
	cr_assert(allows(a, "10.255.255.255"));
	cr_assert_not(allows(a, "11.0.0.0"));
	cr_assert(allows(a, "192.168.1.7"));
	cr_assert_not(allows(a, "192.168.1.8"));
	cr_assert(allows(a, "172.31.255.1"));
	cr_assert_not(allows(a, "172.32.0.1"));
	cr_assert(allows(a, "fd12:3456::1"));
	cr_assert_not(allows(a, "fe80::1"));
	cr_assert(allows(a, "::1"));
	cr_assert_not(allows(a, "::2"));
	/* A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d. */
	cr_assert(allows(a, "::ffff:10.9.8.7"));
	cr_assert_not(allows(a, "::ffff:127.0.0.1"));
	metrics_acl__free(a);
}

Test(acl, zero_prefix_and_odd_prefixes)
{
	struct metrics_acl *a;
	char err[256];

	cr_assert_eq(metrics_acl__parse(&a, "0.0.0.0/0", err, sizeof(err)), 0);
	cr_assert(allows(a, "1.2.3.4"));
	cr_assert_not(allows(a, "2001:db8::1"));
	metrics_acl__free(a);
	cr_assert_eq(metrics_acl__parse(&a, "100.64.0.0/10,2001:db8:8000::/33",
					err, sizeof(err)), 0, "%s", err);
	cr_assert(allows(a, "100.127.255.255"));
	cr_assert_not(allows(a, "100.128.0.0"));
	cr_assert(allows(a, "2001:db8:ffff::1"));
	cr_assert_not(allows(a, "2001:db8:7fff::1"));
	metrics_acl__free(a);
}

static void bad(const char *list, const char *named)
{
	struct metrics_acl *a = NULL;
	char err[256] = "";

	cr_assert_eq(metrics_acl__parse(&a, list, err, sizeof(err)), -EINVAL,
		     "%s was accepted", list);
	cr_assert_null(a);
	cr_assert_not_null(strstr(err, named), "%s: message %s", list, err);
}

Test(acl, strict_parsing_names_the_entry)
{
	bad("10.0.0.0/8,10.0.0.300/8", "\"10.0.0.300/8\"");
	bad("10.0.0.0/33", "\"10.0.0.0/33\"");
	bad("10.0.0.0/8,,127.0.0.1", "empty entry");
	bad("", "empty entry");
	bad("10.0.0.0/", "\"10.0.0.0/\"");
	bad("10.0.0.0/+8", "\"10.0.0.0/+8\"");
	bad("10.0.0.0/08", "\"10.0.0.0/08\"");
	bad("10.0.0.0/8x", "\"10.0.0.0/8x\"");
	bad("10.1.0.0/8", "host bits");
	bad("::1/129", "\"::1/129\"");
	bad("fe80::1%eth0", "\"fe80::1%eth0\"");
	bad("localhost", "\"localhost\"");
	bad("10.0.0", "\"10.0.0\"");
}

/* ---- the server, driven like the sensor's loop drives it ---- */

static int render_fixed(void *ctx, struct metrics_text *t)
{
	metrics_text__family(t, "oisp_sensor_test_total", "counter", "test");
	return metrics_text__sample(t, "oisp_sensor_test_total", NULL, 0, 42);
}

/* A TCP socket from @src (a loopback address) connected to the server. */
static int connect_from(struct metrics *m, const char *src)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)metrics__port(m)) };
	struct sockaddr_in from = { .sin_family = AF_INET };
	int fd;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	inet_pton(AF_INET, src, &from.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0,
		     "bind %s: %s", src, strerror(errno));
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
		     "connect from %s: %s", src, strerror(errno));
	return fd;
}

/*
 * GET @path from @src; the whole response (MHD closes) in @buf, empty
 * when the server closed without answering.  The loop is driven for at
 * most 500 rounds of 10 ms: the harness's bound, not an assertion.
 */
static void get_from(struct metrics *m, const char *src, const char *path,
		     char *buf, size_t len)
{
	struct pollfd pfd;
	size_t got = 0;
	char req[256];
	ssize_t n;
	int fd, i;

	fd = connect_from(m, src);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n"
		 "Connection: close\r\n\r\n", path);
	/* A refused client may see its write fail: the answer is what counts. */
	(void)!write(fd, req, strlen(req));
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (i = 0; i < 500; i++) {
		cr_assert_eq(metrics__run(m), 0);
		if (poll(&pfd, 1, 10) == 1) {
			n = read(fd, buf + got, len - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	buf[got] = '\0';
	close(fd);
}

static void get(struct metrics *m, const char *path, char *buf, size_t len)
{
	get_from(m, "127.0.0.1", path, buf, len);
}

/* Lets the server accept (and refuse) whatever is pending. */
static void drive(struct metrics *m)
{
	int i;

	for (i = 0; i < 50; i++) {
		cr_assert_eq(metrics__run(m), 0);
		usleep(2000);
	}
}

Test(server, endpoints)
{
	struct metrics_opts o = { .address = "127.0.0.1", .port = 0,
				  .allowed_ips = "127.0.0.0/8",
				  .render = render_fixed };
	struct metrics *m;
	char err[256], buf[4096];

	cr_assert_eq(metrics__start(&m, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(metrics__port(m), 0);
	cr_assert_geq(metrics__fd(m), 0);
	get(m, "/healthz", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.1 200", 12), "%s", buf);
	get(m, "/readyz", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.1 503", 12), "%s", buf);
	metrics__set_ready(m, true);
	get(m, "/readyz", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.1 200", 12), "%s", buf);
	get(m, "/metrics", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.1 200", 12), "%s", buf);
	cr_assert_not_null(strstr(buf, "text/plain; version=0.0.4"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\r\n\r\n# HELP oisp_sensor_test_total test\n"
				   "# TYPE oisp_sensor_test_total counter\n"
				   "oisp_sensor_test_total 42\n"), "%s", buf);
	cr_assert_not_null(strstr(buf, "oisp_sensor_ready 1\n"), "%s", buf);
	get(m, "/nope", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.1 404", 12), "%s", buf);
	/* A heartbeat long ago: the loop is stuck. */
	metrics__heartbeat(m, 1);
	get(m, "/healthz", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.1 503", 12), "%s", buf);
	metrics__stop(m);
}

Test(server, client_outside_the_allow_list_is_closed_at_accept)
{
	struct metrics_opts o = { .address = "127.0.0.1",
				  .allowed_ips = "127.0.0.1,10.0.0.0/8,::1",
				  .render = render_fixed };
	struct metrics *m;
	char err[256], buf[4096];

	cr_assert_eq(metrics__start(&m, &o, err, sizeof(err)), 0, "%s", err);
	get_from(m, "127.0.0.2", "/metrics", buf, sizeof(buf));
	cr_assert_str_empty(buf, "a denied client got an answer: %s", buf);
	get_from(m, "127.0.0.2", "/healthz", buf, sizeof(buf));
	cr_assert_str_empty(buf, "a denied client got an answer: %s", buf);
	get(m, "/metrics", buf, sizeof(buf));
	cr_assert_not_null(strstr(buf, "oisp_sensor_metrics_denied_total 2\n"),
			   "%s", buf);
	/* Denied clients never reached the request handler. */
	cr_assert_not_null(strstr(buf, "oisp_sensor_metrics_requests_total 1\n"),
			   "%s", buf);
	metrics__stop(m);
}

#define HOGS	(METRICS_MAX_CONNECTIONS + 8)

/*
 * Idle connections from @src, accepted (or refused) by the server, held
 * open while the allowed client 127.0.0.1 asks for /healthz.
 */
static void healthz_beside_hogs(const char *allowed, const char *src,
				const char *counter, unsigned int refused)
{
	struct metrics_opts o = { .address = "127.0.0.1",
				  .allowed_ips = allowed,
				  .render = render_fixed };
	char err[256], buf[4096], want[96];
	struct metrics *m;
	int hog[HOGS], i;

	cr_assert_eq(metrics__start(&m, &o, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < HOGS; i++) {
		hog[i] = connect_from(m, src);
		drive(m);
	}
	get(m, "/healthz", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.1 200", 12),
		  "/healthz beside %d idle connections from %s: \"%s\"",
		  HOGS, src, buf);
	get(m, "/metrics", buf, sizeof(buf));
	snprintf(want, sizeof(want), "oisp_sensor_metrics_%s_total %u\n",
		 counter, refused);
	cr_assert_not_null(strstr(buf, want), "%s", buf);
	for (i = 0; i < HOGS; i++)
		close(hog[i]);
	metrics__stop(m);
}

/* Finding: denied clients held every slot, and /healthz timed out. */
Test(server, denied_clients_take_no_slot)
{
	healthz_beside_hogs("127.0.0.1", "127.0.0.2", "denied", HOGS);
}

/* An allowed address cannot take every slot either. */
Test(server, one_address_takes_few_slots)
{
	healthz_beside_hogs("127.0.0.0/8", "127.0.0.2", "over_ip_limit",
			    HOGS - METRICS_MAX_PER_IP);
}

Test(server, bad_options_name_the_value)
{
	struct metrics_opts o = { .address = "127.0.0.1",
				  .allowed_ips = "10.0.0.0/8,bogus",
				  .render = render_fixed };
	struct metrics *m = NULL, *m2;
	char err[256];

	cr_assert_eq(metrics__start(&m, &o, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "metrics.allowed_ips"), "%s", err);
	cr_assert_not_null(strstr(err, "\"bogus\""), "%s", err);
	o.allowed_ips = NULL;
	o.address = "not-an-ip";
	cr_assert_eq(metrics__start(&m, &o, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "\"not-an-ip\""), "%s", err);
	/* The port is taken. */
	o.address = "127.0.0.1";
	cr_assert_eq(metrics__start(&m, &o, err, sizeof(err)), 0, "%s", err);
	o.port = metrics__port(m);
	cr_assert_eq(metrics__start(&m2, &o, err, sizeof(err)), -EADDRINUSE, "%s", err);
	cr_assert_not_null(strstr(err, "127.0.0.1:"), "%s", err);
	metrics__stop(m);
}

/* ---- the README lists exactly the names exported ---- */

#define MAX_NAMES	256

struct names {
	char *name[MAX_NAMES];
	char *text[MAX_NAMES];	/* HELP, or the README's meaning */
	size_t n;
};

static void names_add(struct names *s, const char *name, size_t len,
		      const char *text, size_t tlen)
{
	cr_assert_lt(s->n, MAX_NAMES);
	s->name[s->n] = strndup(name, len);
	s->text[s->n] = strndup(text, tlen);
	s->n++;
}

static const char *names_find(const struct names *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return s->text[i];
	return NULL;
}

static void names_free(struct names *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->name[i]);
		free(s->text[i]);
	}
}

static int render_sources(void *ctx, struct metrics_text *t)
{
	return metrics__render(t, ctx);
}

/* The families of a scrape with every source present, and their HELP. */
static void exported_families(struct names *out)
{
	struct pipeline_stats ps = { 0 };
	struct output_stats os = { 0 };
	struct capture_stats cs = { 0 };
	struct k8s_stats ks = { 0 };
	struct metrics_sources src = {
		.pipeline = &ps, .output = &os, .capture = &cs, .k8s = &ks,
	};
	struct metrics_opts o = { .address = "127.0.0.1",
				  .render = render_sources, .ctx = &src };
	const size_t len = 1 << 17;
	char err[256], *buf, *p, *sp, *nl;
	struct metrics *m;

	cr_assert_eq(aistats__new((struct aistats **)&src.ai, 0), 0);
	cr_assert_eq(metrics__start(&m, &o, err, sizeof(err)), 0, "%s", err);
	buf = malloc(len);
	cr_assert_not_null(buf);
	get(m, "/metrics", buf, len);
	cr_assert(!strncmp(buf, "HTTP/1.1 200", 12), "%s", buf);
	for (p = strstr(buf, "\n# HELP "); p; p = strstr(nl, "\n# HELP ")) {
		p += 8;
		sp = strchr(p, ' ');
		nl = strchr(p, '\n');
		cr_assert(sp && nl && sp < nl, "%s", p);
		names_add(out, p, (size_t)(sp - p), sp + 1, (size_t)(nl - sp - 1));
	}
	free(buf);
	metrics__stop(m);
	aistats__free((struct aistats *)src.ai);
}

/* Copies cell @i (0-based) of the table row @line, without blanks and `. */
static bool cell(const char *line, int i, char *out, size_t len)
{
	const char *p = line, *e;
	size_t n;

	for (; i >= 0; i--) {
		p = strchr(p, '|');
		if (!p)
			return false;
		p++;
	}
	e = strchr(p, '|');
	if (!e)
		return false;
	while (p < e && (*p == ' ' || *p == '`'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '`'))
		e--;
	n = (size_t)(e - p);
	cr_assert_lt(n, len, "%.*s", (int)n, p);
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/*
 * The rows of the table in README's "Metrics and health": status keys
 * (first column, may be empty) and families with their meaning.
 */
static void readme_table(const char *readme, struct names *keys,
			 struct names *fams)
{
	const char *start = strstr(readme, "\n## Metrics and health\n");
	const char *end, *line, *nl;
	char key[128], fam[128], meaning[512];

	cr_assert_not_null(start, "README has no \"Metrics and health\"");
	end = strstr(start + 1, "\n## ");
	cr_assert_not_null(end);
	for (line = start + 1; line < end; line = nl + 1) {
		nl = strchr(line, '\n');
		if (*line != '|')
			continue;
		cr_assert(cell(line, 0, key, sizeof(key)) &&
			  cell(line, 1, fam, sizeof(fam)) &&
			  cell(line, 2, meaning, sizeof(meaning)),
			  "%.*s", (int)(nl - line), line);
		if (!strcmp(fam, "Prometheus") || fam[0] == '-')
			continue;	/* the header and its rule */
		if (key[0])
			names_add(keys, key, strlen(key), fam, strlen(fam));
		names_add(fams, fam, strlen(fam), meaning, strlen(meaning));
	}
}

static bool histogram_sample(const struct names *fams, const char *name)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };
	char base[128];
	size_t i, n = strlen(name), k;

	for (i = 0; i < 3; i++) {
		k = strlen(suffix[i]);
		if (n > k && n - k < sizeof(base) &&
		    !strcmp(name + n - k, suffix[i])) {
			memcpy(base, name, n - k);
			base[n - k] = '\0';
			if (names_find(fams, base))
				return true;
		}
	}
	return false;
}

/* Every oisp_sensor_* name in @path is exported (oisp_sensor_NAME is a pattern). */
static void mentions_exported(const char *path, const struct names *fams)
{
	char *doc = slurp(path, NULL), name[128];
	const char *p = doc;
	size_t n;

	while ((p = strstr(p, "oisp_sensor_"))) {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
		cr_assert_lt(n, sizeof(name));
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (*p >= 'A' && *p <= 'Z')
			continue;
		cr_assert(names_find(fams, name) || histogram_sample(fams, name),
			  "%s names %s, which the sensor does not export",
			  path, name);
	}
	free(doc);
}

/*
 * @readme holds exactly the names of @exported, each with the same text
 * (a family's HELP, a status key's family).
 */
static void same_names(const struct names *exported,
		       const struct names *readme, const char *what)
{
	const char *text;
	size_t i;

	for (i = 0; i < exported->n; i++) {
		text = names_find(readme, exported->name[i]);
		cr_assert_not_null(text, "README does not list %s %s", what,
				   exported->name[i]);
		cr_assert_str_eq(text, exported->text[i], "README's row of %s",
				 exported->name[i]);
	}
	for (i = 0; i < readme->n; i++)
		cr_assert_not_null(names_find(exported, readme->name[i]),
				   "README lists %s %s, which is not exported",
				   what, readme->name[i]);
}

Test(docs, readme_lists_exactly_the_exported_names)
{
	const struct stats_table *tables[] = {
		&stats_output, &stats_kubernetes, &stats_capture,
		&stats_pipeline,
	};
	struct names fams = { 0 }, keys = { 0 }, rfams = { 0 }, rkeys = { 0 };
	const struct stats_field *f;
	char key[128], name[128];
	char *readme;
	glob_t docs;
	size_t i, j;

	exported_families(&fams);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		for (j = 0; j < tables[i]->n; j++) {
			f = &tables[i]->fields[j];
			snprintf(key, sizeof(key), "%s.%s", tables[i]->section,
				 f->name);
			cr_assert_eq(stats__family(tables[i], f, name,
						   sizeof(name)), 0);
			cr_assert_not_null(names_find(&fams, name), "%s", name);
			names_add(&keys, key, strlen(key), name, strlen(name));
		}
	}
	readme = slurp("../../README.md", NULL);
	readme_table(readme, &rkeys, &rfams);
	same_names(&fams, &rfams, "family");
	same_names(&keys, &rkeys, "status key");
	mentions_exported("../../README.md", &fams);
	cr_assert_eq(glob("../../docs/*.md", 0, NULL, &docs), 0);
	for (i = 0; i < docs.gl_pathc; i++)
		mentions_exported(docs.gl_pathv[i], &fams);
	globfree(&docs);
	free(readme);
	names_free(&fams);
	names_free(&keys);
	names_free(&rfams);
	names_free(&rkeys);
}
