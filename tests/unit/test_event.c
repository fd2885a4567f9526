// SPDX-License-Identifier: MIT
/*
 * event: the OISP envelope, ULIDs, timestamps and the JSON line writer.
 * Writes the events it builds to ../../build/tests/event-sample.jsonl
 * (when that directory exists) for tests/validate-events.py.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonpath.h"

#include "event/event.h"
#include "lib/utf8.h"
#include "meta/k8s.h"
#include "event/ulid.h"

#define SAMPLE "../../build/tests/event-sample.jsonl"

static void sample(const cJSON *ev)
{
	FILE *f = fopen(SAMPLE, "a");
	char *line;

	if (!f)
		return;
	line = event__to_line(ev, NULL);
	cr_assert(line);
	fprintf(f, "%s\n", line);
	free(line);
	fclose(f);
}

Test(ulid, format_time_and_monotonic)
{
	struct ulid_gen *g;
	char a[ULID_BUF], b[ULID_BUF], c[ULID_BUF];
	int i;

	cr_assert_eq(ulid__new(&g), 0);
	ulid__next(g, 1469918176385ULL, a);	/* the spec's example time */
	cr_assert_eq(strlen(a), 26);
	cr_assert_eq(strncmp(a, "01ARYZ6S41", 10), 0, "%s", a);
	for (i = 0; i < 26; i++)
		cr_assert(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", a[i]));
	ulid__next(g, 1469918176385ULL, b);
	ulid__next(g, 1469918176385ULL, c);
	cr_assert_lt(strcmp(a, b), 0);
	cr_assert_lt(strcmp(b, c), 0);
	cr_assert_eq(strncmp(b, a, 10), 0);
	ulid__next(g, 0, a);
	cr_assert_eq(strncmp(a, "0000000000", 10), 0);
	ulid__next(g, 0xffffffffffffULL, a);
	cr_assert_eq(strncmp(a, "7ZZZZZZZZZ", 10), 0);
	ulid__free(g);
	ulid__free(NULL);
}

Test(ulid, different_generators_differ)
{
	struct ulid_gen *g1, *g2;
	char a[ULID_BUF], b[ULID_BUF];

	cr_assert_eq(ulid__new(&g1), 0);
	cr_assert_eq(ulid__new(&g2), 0);
	ulid__next(g1, 1700000000000ULL, a);
	ulid__next(g2, 1700000000000ULL, b);
	cr_assert_str_neq(a, b);
	ulid__free(g1);
	ulid__free(g2);
}

Test(event, format_ts)
{
	char buf[32];

	event__format_ts(1795420201123456789ULL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2026-11-23T07:50:01.123456Z");
	event__format_ts(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1970-01-01T00:00:00.000000Z");
	event__format_ts(1000, buf, 5);
	cr_assert_str_eq(buf, "1970");
}

static const struct event_host host = {
	.hostname = "node-1", .kernel = "6.8.0-45-generic", .arch = "x86_64",
};

Test(event, request_envelope)
{
	struct ulid_gen *g;
	struct event_proc p = {
		.pid = 4242, .tid = 4243, .ppid = 1, .uid = 0, .gid = 0,
		.comm = "python3", .exe = "/usr/bin/python3.11",
		.cmdline = "python3 agent.py", .user = "root",
	};
	struct event_meta m = {
		.type = "ai.request", .ts_real_ns = 1795420201123456789ULL,
		.ts_mono_ns = 98765432109876543ULL,
		.capture_point = "tls_client", .rule = "openai",
		.completeness = "full",
	};
	char id[ULID_BUF];
	cJSON *ev, *data;

	cr_assert_eq(ulid__new(&g), 0);
	ev = event__new(g, &host, &p, &m, &data, id);
	cr_assert(ev && data);
	cr_assert_str_eq(str(ev, "oisp_version"), "0.1");
	cr_assert_str_eq(str(ev, "event_id"), id);
	cr_assert_eq(strlen(id), 26);
	cr_assert_str_eq(str(ev, "event_type"), "ai.request");
	cr_assert_str_eq(str(ev, "ts"), "2026-11-23T07:50:01.123456Z");
	cr_assert_str_eq(str(ev, "source.collector"), "oisp-sensor");
	cr_assert_str_eq(str(ev, "source.collector_version"), OISP_VERSION);
	cr_assert_str_eq(str(ev, "source.capture_method"), "ebpf_uprobe");
	cr_assert_str_eq(str(ev, "source.capture_point"), "tls_client");
	cr_assert_str_eq(str(ev, "source.sensor_host"), "node-1");
	cr_assert_str_eq(str(ev, "confidence.level"), "high");
	cr_assert_str_eq(str(ev, "confidence.completeness"), "full");
	cr_assert_str_eq(str(ev, "confidence.ai_detection_method"),
			 "known_endpoint");
	cr_assert_str_eq(str(ev, "confidence.rule"), "openai");
	cr_assert_str_eq(str(ev, "confidence.content_source"), "tls_boundary");
	cr_assert(cJSON_IsFalse(get(ev, "confidence.redaction_applied")));
	cr_assert_null(get(ev, "confidence.reasons"));
	cr_assert_str_eq(str(ev, "host.os"), "linux");
	cr_assert_str_eq(str(ev, "host.arch"), "x86_64");
	cr_assert_str_eq(str(ev, "host.kernel_version"), "6.8.0-45-generic");
	cr_assert_eq(num(ev, "process.pid"), 4242);
	cr_assert_eq(num(ev, "process.thread_id"), 4243);
	cr_assert_eq(num(ev, "process.ppid"), 1);
	cr_assert_str_eq(str(ev, "process.name"), "python3");
	cr_assert_str_eq(str(ev, "process.exe"), "/usr/bin/python3.11");
	cr_assert_eq(num(ev, "actor.uid"), 0);
	cr_assert_str_eq(str(ev, "actor.user"), "root");
	cr_assert_null(get(ev, "related_events"));
	cr_assert(cJSON_IsObject(get(ev, "data")));
	cr_assert_eq(get(ev, "data"), data);

	cJSON_AddStringToObject(data, "request_id", id);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(data, "provider"),
				"name", "openai");
	cJSON_AddStringToObject(data, "request_type", "chat");
	sample(ev);
	cJSON_Delete(ev);
	ulid__free(g);
}

Test(event, ts_mono_is_exact_in_the_line)
{
	struct ulid_gen *g;
	struct event_meta m = {
		.type = "ai.request", .ts_real_ns = 1, .completeness = "full",
		.ts_mono_ns = 18446744073709551615ULL,
	};
	char *line;
	cJSON *ev;

	cr_assert_eq(ulid__new(&g), 0);
	ev = event__new(g, NULL, NULL, &m, NULL, NULL);
	cr_assert(ev);
	line = event__to_line(ev, NULL);
	cr_assert(strstr(line, "\"ts_mono\":18446744073709551615,"), "%s",
		  line);
	cr_assert_null(get(ev, "host"));
	cr_assert_null(get(ev, "process"));
	cr_assert_str_eq(str(ev, "confidence.ai_detection_method"),
			 "heuristic");
	free(line);
	cJSON_Delete(ev);
	ulid__free(g);
}

Test(event, partial_response_with_relation)
{
	static const char *const reasons[] = { "body_truncated",
					       "capture_data_lost" };
	struct ulid_gen *g;
	struct event_proc p = { .pid = 7, .uid = 1000, .gid = 1000,
				.comm = "node" };
	struct event_meta m = {
		.type = "ai.response", .ts_real_ns = 1700000000000000000ULL,
		.ts_mono_ns = 5, .capture_point = "tls_server",
		.rule = "anthropic", .completeness = "partial",
		.reasons = reasons, .n_reasons = 2,
		.redaction_applied = true,
		.related_event_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV",
	};
	cJSON *ev, *data;
	char *line;
	size_t len;

	cr_assert_eq(ulid__new(&g), 0);
	ev = event__new(g, &host, &p, &m, &data, NULL);
	cr_assert(ev);
	cr_assert_str_eq(str(ev, "confidence.level"), "medium");
	cr_assert_str_eq(str(ev, "confidence.reasons.1"), "capture_data_lost");
	cr_assert(cJSON_IsTrue(get(ev, "confidence.redaction_applied")));
	cr_assert_str_eq(str(ev, "related_events.0.event_id"),
			 "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	cr_assert_str_eq(str(ev, "related_events.0.relationship"),
			 "caused_by");
	cr_assert_null(get(ev, "process.thread_id"));
	cr_assert_null(get(ev, "process.ppid"));
	cr_assert_null(get(ev, "process.exe"));
	cr_assert_null(get(ev, "process.container_id"));
	cr_assert_null(get(ev, "host.container"));
	cr_assert_null(get(ev, "host.k8s"));

	cJSON_AddStringToObject(data, "request_id",
				"01ARZ3NDEKTSV4RRFFQ69G5FAW");
	cJSON_AddNumberToObject(data, "status_code", 200);
	cJSON_AddBoolToObject(data, "success", true);
	cJSON_AddStringToObject(data, "note", "bad \xff byte");
	line = event__to_line(ev, &len);
	cr_assert(line);
	cr_assert_eq(strlen(line), len);
	cr_assert_null(strchr(line, '\n'));
	cr_assert(utf8__valid(line, len));
	cr_assert(strstr(line, "bad \xef\xbf\xbd byte"));
	free(line);
	cJSON_DeleteItemFromObject(data, "note");
	sample(ev);
	cJSON_Delete(ev);
	ulid__free(g);
}

#define CID "a3f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00"

static cJSON *container_event(struct ulid_gen *g, const struct event_host *h,
			      const struct event_proc *p)
{
	struct event_meta m = {
		.type = "ai.request", .ts_real_ns = 1795420201123456789ULL,
		.ts_mono_ns = 1, .capture_point = "tls_client",
		.rule = "openai", .completeness = "full",
	};
	cJSON *ev, *data;

	ev = event__new(g, h, p, &m, &data, NULL);
	cr_assert(ev);
	cJSON_AddStringToObject(data, "request_id",
				"01ARZ3NDEKTSV4RRFFQ69G5FAX");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(data, "provider"),
				"name", "openai");
	cJSON_AddStringToObject(data, "request_type", "chat");
	return ev;
}

Test(event, container_and_pod_metadata)
{
	static char labels[] = "app\0chat-api\0pod-template-hash\0"
			       "7d4b9c8f6d\0team\0ml-platform";
	struct k8s_pod pod = {
		.uid = "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b",
		.name = "chat-api-7d4b9c8f6d-x2x7q", .namespace = "ai-apps",
		.node_name = "worker-1", .service_account = "chat-api",
		.deployment = "chat-api", .labels = labels,
		.labels_len = sizeof(labels), .n_labels = 3,
	};
	struct event_proc p = {
		.pid = 10, .comm = "python3", .container_id = CID,
		.container_runtime = "containerd",
		.pod_uid = "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b", .pod = &pod,
	};
	struct ulid_gen *g;
	cJSON *ev;

	cr_assert_eq(ulid__new(&g), 0);
	ev = container_event(g, &host, &p);
	cr_assert_str_eq(str(ev, "host.hostname"), "node-1");
	cr_assert_str_eq(str(ev, "host.container.id"), CID);
	cr_assert_str_eq(str(ev, "host.container.runtime"), "containerd");
	cr_assert_str_eq(str(ev, "process.container_id"), CID);
	cr_assert_str_eq(str(ev, "host.k8s.pod_uid"), pod.uid);
	cr_assert_str_eq(str(ev, "host.k8s.pod_name"), pod.name);
	cr_assert_str_eq(str(ev, "host.k8s.namespace"), "ai-apps");
	cr_assert_str_eq(str(ev, "host.k8s.node_name"), "worker-1");
	cr_assert_str_eq(str(ev, "host.k8s.service_account"), "chat-api");
	cr_assert_str_eq(str(ev, "host.k8s.deployment"), "chat-api");
	cr_assert_eq(cJSON_GetArraySize(get(ev, "host.k8s.labels")), 3);
	cr_assert_str_eq(str(ev, "host.k8s.labels.app"), "chat-api");
	cr_assert_str_eq(str(ev, "host.k8s.labels.team"), "ml-platform");
	cr_assert_str_eq(str(ev, "host.k8s.labels.pod-template-hash"),
			 "7d4b9c8f6d");
	sample(ev);
	cJSON_Delete(ev);

	/* No API metadata: the cgroup's ids only; no runtime known. */
	p.pod = NULL;
	p.container_runtime = NULL;
	ev = container_event(g, &host, &p);
	cr_assert_str_eq(str(ev, "host.container.id"), CID);
	cr_assert_null(get(ev, "host.container.runtime"));
	cr_assert_str_eq(str(ev, "host.k8s.pod_uid"), pod.uid);
	cr_assert_eq(cJSON_GetArraySize(get(ev, "host.k8s")), 1);
	sample(ev);
	cJSON_Delete(ev);

	/* Static pod: the API's UID wins over the cgroup's config hash. */
	p.pod_uid = "4c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f";
	p.pod = &pod;
	pod.labels = NULL;
	pod.n_labels = 0;
	pod.deployment[0] = '\0';
	ev = container_event(g, NULL, &p);
	cr_assert_null(get(ev, "host.hostname"));
	cr_assert_str_eq(str(ev, "host.k8s.pod_uid"), pod.uid);
	cr_assert_null(get(ev, "host.k8s.labels"));
	cr_assert_null(get(ev, "host.k8s.deployment"));
	sample(ev);
	cJSON_Delete(ev);

	/* Empty strings are no ids. */
	p = (struct event_proc){ .pid = 11, .container_id = "", .pod_uid = "" };
	ev = container_event(g, &host, &p);
	cr_assert_null(get(ev, "host.container"));
	cr_assert_null(get(ev, "host.k8s"));
	cr_assert_null(get(ev, "process.container_id"));
	cJSON_Delete(ev);
	ulid__free(g);
}

Test(event, host_load)
{
	struct event_host h;

	cr_assert_eq(event__host_load(&h), 0);
	cr_assert_gt(strlen(h.hostname), 0);
	cr_assert_gt(strlen(h.kernel), 0);
	cr_assert_gt(strlen(h.arch), 0);
}

/*
 * event__write_line (the pipeline's path) and event__new + event__to_line
 * (the tree) must give the same line but for the event_id.
 */
static void same_line(const struct event_host *h, const struct event_proc *p,
		      const struct event_meta *m)
{
	struct event_cache *cache;
	struct event_buf b = { 0 };
	struct ulid_gen *g;
	char id1[ULID_BUF], id2[ULID_BUF], *line, *at, *d2_text;
	cJSON *ev, *data, *d2;
	int i;

	cr_assert_eq(ulid__new(&g), 0);
	cr_assert_eq(event_cache__new(&cache), 0);
	ev = event__new(g, h, p, m, &data, id1);
	cr_assert(ev);
	cJSON_AddStringToObject(data, "request_id", "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	cJSON_AddStringToObject(data, "note", "caf\xc3\xa9 \xff \"q\"\n\x01");
	cJSON_AddNumberToObject(data, "latency_ms", 0.236);
	cJSON_AddNumberToObject(data, "n", -0.0);
	cJSON_AddNumberToObject(data, "count", 42);
	cJSON_AddNumberToObject(data, "neg", -7);
	cJSON_AddNumberToObject(data, "big", 999999999999999.0);
	cJSON_AddNumberToObject(data, "huge", 1e15);
	cJSON_AddNumberToObject(data, "zero", 0);
	cJSON_AddNullToObject(data, "none");
	cJSON_AddItemToObject(data, "list", cJSON_CreateArray());
	line = event__to_line(ev, NULL);
	cr_assert(line);
	d2 = cJSON_Duplicate(data, true);
	d2_text = cJSON_PrintUnformatted(d2);
	cr_assert(d2_text);
	/* Without a cache, then with one: missed, then hit. */
	for (i = 0; i < 3; i++) {
		cr_assert_eq(event__write_line(&b, i ? cache : NULL, g, h, p,
					       m, d2, id2), 0);
		cr_assert_eq(strlen(b.p), b.len);
		/* One line: output__write_line() adds the '\n'. */
		cr_assert_null(memchr(b.p, '\n', b.len));
		at = strstr(b.p, id2);
		cr_assert(at);
		memcpy(at, id1, ULID_BUF - 1);
		cr_assert_str_eq(b.p, line);
	}
	/* The numbers printed as raw text were put back. */
	free(line);
	line = cJSON_PrintUnformatted(d2);
	cr_assert_str_eq(line, d2_text);
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(d2, "count")));
	cr_assert_null(cJSON_GetObjectItem(d2, "count")->valuestring);
	free(line);
	free(d2_text);
	cJSON_Delete(d2);
	cJSON_Delete(ev);
	event_buf__free(&b);
	event_cache__free(cache);
	ulid__free(g);
}

Test(event, write_line_matches_the_tree)
{
	static char labels[] = "app\0chat-api\0team\0ml\xffplatform";
	static const char *const reasons[] = { "body_truncated", NULL };
	struct k8s_pod pod = {
		.uid = "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b",
		.name = "chat-api-7d4b9c8f6d-x2x7q", .namespace = "ai-apps",
		.deployment = "chat-api", .labels = labels,
		.labels_len = sizeof(labels), .n_labels = 2,
	};
	struct event_proc p = {
		.pid = 4242, .tid = 4243, .ppid = 1, .uid = 1000, .gid = 1000,
		.comm = "py\xfethon", .exe = "/usr/bin/python3.11",
		.cmdline = "python3 \"agent\".py", .user = "root",
		.container_id = CID, .container_runtime = "containerd",
		.pod_uid = "4c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f", .pod = &pod,
	};
	struct event_meta m = {
		.type = "ai.response", .ts_real_ns = 1795420201123456789ULL,
		.ts_mono_ns = 18446744073709551615ULL,
		.capture_point = "tls_client", .rule = "openai-chat",
		.completeness = "partial", .reasons = reasons, .n_reasons = 2,
		.redaction_applied = true,
		.related_event_id = "01ARZ3NDEKTSV4RRFFQ69G5FAW",
	};
	struct event_meta bare = { .type = NULL, .ts_real_ns = 1 };
	struct event_proc none = { .pid = 1 };

	same_line(&host, &p, &m);
	same_line(NULL, &p, &m);
	pod.labels = NULL;
	pod.uid[0] = '\0';
	same_line(&host, &p, &m);
	p.pod = NULL;
	p.container_runtime = "";
	same_line(&host, &p, &m);
	same_line(&host, &none, &bare);
	same_line(NULL, NULL, &bare);
	m.rule = NULL;
	m.n_reasons = 0;
	m.capture_point = NULL;
	same_line(&host, NULL, &m);
}

/* One cache, events of different processes and metas interleaved. */
Test(event, cache_tells_envelopes_apart)
{
	static const char *const reasons[] = { "body_truncated" };
	struct event_proc p[3] = {
		{ .pid = 10, .tid = 10, .uid = 1000, .gid = 1000, .comm = "a" },
		{ .pid = 10, .tid = 11, .uid = 1000, .gid = 1000, .comm = "a" },
		{ .pid = 10, .tid = 10, .uid = 1000, .gid = 1000, .comm = "a",
		  .cmdline = "a --x" },
	};
	struct event_meta m[2] = {
		{ .type = "ai.request", .ts_real_ns = 1795420201123456789ULL,
		  .capture_point = "tls_client", .rule = "openai-chat" },
		{ .type = "ai.response", .ts_real_ns = 1795420202000000999ULL,
		  .capture_point = "tls_client", .rule = "openai-chat",
		  .completeness = "partial", .reasons = reasons,
		  .n_reasons = 1 },
	};
	struct event_buf b1 = { 0 }, b2 = { 0 };
	struct event_cache *cache;
	struct ulid_gen *g;
	char id1[ULID_BUF], id2[ULID_BUF], *at;
	int i;

	cr_assert_eq(ulid__new(&g), 0);
	cr_assert_eq(event_cache__new(&cache), 0);
	for (i = 0; i < 24; i++) {
		const struct event_proc *pp = &p[i % 3];
		const struct event_meta *mm = &m[i / 3 % 2];

		cr_assert_eq(event__write_line(&b1, NULL, g, &host, pp, mm,
					       NULL, id1), 0);
		cr_assert_eq(event__write_line(&b2, cache, g, &host, pp, mm,
					       NULL, id2), 0);
		at = strstr(b2.p, id2);
		cr_assert(at);
		memcpy(at, id1, ULID_BUF - 1);
		cr_assert_str_eq(b2.p, b1.p);
	}
	event_buf__free(&b1);
	event_buf__free(&b2);
	event_cache__free(cache);
	event_cache__free(NULL);
	ulid__free(g);
}

Test(event, json_buffer_reuse_and_failure)
{
	struct event_buf b = { 0 };
	cJSON *o = cJSON_CreateObject(), *bad;

	cJSON_AddStringToObject(o, "k", "v");
	cr_assert_eq(event__json(&b, o), 0);
	cr_assert_str_eq(b.p, "{\"k\":\"v\"}");
	cr_assert_eq(event__json(&b, cJSON_GetObjectItem(o, "k")), 0);
	cr_assert_str_eq(b.p, "\"v\"");
	cr_assert_eq(b.len, 3);
	/* What cJSON refuses to print, event__json refuses too. */
	bad = cJSON_CreateRaw("1");
	free(bad->valuestring);
	bad->valuestring = NULL;
	cJSON_AddItemToObject(o, "raw", bad);
	cr_assert_eq(event__json(&b, o), -ENOMEM);
	cr_assert_null(event__to_line(o, NULL));
	cJSON_Delete(o);
	event_buf__free(&b);
	event_buf__free(&b);
}

/* event__json's text, compared with cJSON's own for the same tree. */
static void same_as_cjson(struct event_buf *b, cJSON *v)
{
	char *want = cJSON_PrintUnformatted(v), *fixed;

	cr_assert(want);
	fixed = utf8__dup(want, strlen(want));
	cr_assert(fixed);
	cr_assert_eq(event__json(b, v), 0);
	cr_assert_eq(b->len, strlen(fixed));
	cr_assert_str_eq(b->p, fixed);
	free(fixed);
	free(want);
}

/*
 * Strings of 16 bytes or more are escaped by jsonline.c, not by cJSON:
 * every byte value, escapes at block edges, long plain runs, NUL-free
 * random text; the line must be cJSON's byte for byte and the tree
 * untouched.
 */
Test(event, strings_escaped_as_cjson_escapes_them)
{
	static const char *const fixed[] = {
		"0123456789abcdef",
		"0123456789abcde\"",
		"\"0123456789abcdef0123456789abcdef\\",
		"line one\nline two\r\n\ttabbed \b\f\x01\x1f\x7f end",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 and \xff\xfe broken \xc3",
		"a/b/c/d/e/f/g/h/i/j/k </script> \\u0000 already escaped",
	};
	struct event_buf b = { 0 };
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *s;
	char all[256], key[32], buf[200];
	const char *before;
	unsigned int seed = 7;
	size_t i, j, n;

	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	cJSON_AddStringToObject(o, "every_byte", all);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		snprintf(key, sizeof(key), "fixed%zu", i);
		cJSON_AddStringToObject(o, key, fixed[i]);
	}
	cJSON_AddStringToObject(o, "short", "a\"b\n");
	cJSON_AddNumberToObject(o, "n", 12345);
	cJSON_AddItemToObject(o, "random", arr);
	/* Mostly plain text with a few bytes to escape, at random lengths
	 * around the 16-byte blocks. */
	for (i = 0; i < 400; i++) {
		n = (size_t)(rand_r(&seed) % 70);
		for (j = 0; j < n; j++) {
			unsigned int r = (unsigned int)rand_r(&seed) % 100;

			buf[j] = r < 85 ? (char)('a' + r % 26) :
				 r < 90 ? '"' : r < 93 ? '\\' :
				 r < 97 ? (char)(1 + r % 31) : (char)(0x80 + r);
		}
		buf[n] = '\0';
		cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
	}
	s = cJSON_GetObjectItem(o, "every_byte");
	before = s->valuestring;
	same_as_cjson(&b, o);
	/* Again into the same buffers, and one string alone. */
	same_as_cjson(&b, o);
	same_as_cjson(&b, s);
	cr_assert_eq(s->type, cJSON_String);
	cr_assert_eq(s->valuestring, before);
	cr_assert_str_eq(cJSON_GetObjectItem(o, "fixed0")->valuestring,
			 fixed[0]);
	cJSON_Delete(o);
	event_buf__free(&b);
}

/* A line over 1 MiB is printed whole, and its buffer is not kept for the
 * next, small line (nor is the escaped text behind it). */
Test(event, large_line_buffer_not_kept)
{
	struct event_buf b = { 0 };
	size_t n = (size_t)3 << 20, i;
	char *big = malloc(n + 1);
	cJSON *o = cJSON_CreateObject(), *small = cJSON_CreateObject();

	cr_assert(big && o && small);
	for (i = 0; i < n; i++)
		big[i] = i % 64 ? 'a' : '\n';
	big[n] = '\0';
	cJSON_AddStringToObject(o, "content", big);
	cJSON_AddStringToObject(small, "content", "a short reply, one line");
	same_as_cjson(&b, o);
	cr_assert_gt(b.cap, n);
	same_as_cjson(&b, small);
	cr_assert_lt(b.cap, 4096);
	same_as_cjson(&b, o);
	cJSON_Delete(small);
	cJSON_Delete(o);
	free(big);
	event_buf__free(&b);
}
