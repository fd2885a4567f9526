// SPDX-License-Identifier: MIT
/*
 * The pipeline: connection state, request/response pairing and event
 * assembly.  See pipeline.h for the contract.
 *
 * Roles: a connection whose process writes requests (and reads
 * responses) is the client side; one that reads requests is the server
 * side.  The HTTP parser of each direction detects which kind of message
 * it carries, so the role follows from the first message seen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ai/aistats.h"
#include "capture_abi.h"
#include "pipeline/conntab.h"
#include "proto/decode.h"
#include "event/event.h"
#include "ai/extract.h"
#include "proto/http1.h"
#include "meta/k8s.h"
#include "lib/log.h"
#include "event/output.h"
#include "pipeline/pipeline.h"
#include "meta/procinfo.h"
#include "capture/recfile.h"
#include "ai/redact.h"
#include "ai/rules.h"
#include "proto/sse.h"
#include "event/ulid.h"

enum { DIR_W = 0, DIR_R = 1 };
enum { ROLE_UNKNOWN, ROLE_CLIENT, ROLE_SERVER };

/* Requests in flight on one connection beyond which the oldest is dropped. */
#define MAX_PENDING	256
#define MAX_SSE_EVENTS	200000
#define MAX_REASONS	4
/* Recent execve()s remembered, direct-mapped by tgid. */
#define EXEC_SLOTS	4096
/*
 * Records of an ignored connection this long after the ignore hook was
 * called mean the kernel forgot it (its map is an LRU): tell it again.
 * Records closer than that were in flight when the hook ran.
 */
#define IGNORE_RETELL_NS	1000000000ULL
/* The line buffer is kept for the next event up to this size. */
#define LINE_KEEP	(1u << 20)

struct pending {
	struct pending *next;
	bool report;			/* an ai.request event was written */
	char event_id[27];
	char request_id[27];
	struct rule_match m;
	char *model;			/* request's model.id */
	char *host;
	uint64_t ts_start;
};

struct dir_state {
	uint64_t call_id;		/* call the last record belonged to */
	uint64_t next_off;		/* offset expected next in that call */
	bool open;			/* that call has records still to come */
	bool lost;			/* set while a gap flushes the message */
	const char *lost_reason;	/* why: confidence.reasons entry */
};

struct conn {
	struct conn_key key;
	struct pipeline *pl;
	struct httpstream *hs[2];
	struct dir_state ds[2];
	int cur_dir;			/* direction being fed: for on_message */
	int role;
	bool ignore;			/* server side, not HTTP/1.x, or 101 */
	uint64_t ignore_ts;		/* record time of the last hook call */
	uint64_t last_ts;
	uint32_t tid, uid, gid;
	char comm[CAP_COMM_LEN + 1];
	struct pending *pend_head, *pend_tail;
	size_t n_pending;
};

struct exec_mark {
	uint32_t tgid;
	uint64_t ts;
};

struct pipeline {
	struct pipeline_opts o;
	struct conntab *conns;
	struct ulid_gen *ulid;
	struct pipeline_stats st;
	struct exec_mark execs[EXEC_SLOTS];
	struct event_buf line;		/* the event being written, reused */
	struct event_cache *envelopes;	/* printed envelope parts */
	pipeline_ignore_fn on_ignore;	/* NULL: none */
	void *ignore_ctx;
};

struct emit_args {
	const char *type;
	uint64_t ts_mono;
	const char *rule;
	const char *reasons[MAX_REASONS];
	size_t n_reasons;
	bool redacted;
	const char *related;
	char ns[64];			/* out: the pod's namespace, "" if none */
};

/*
 * The connection is not looked at again until it ends; the hook lets the
 * live capture stop copying its calls.
 */
static void conn_ignore(struct pipeline *p, struct conn *c)
{
	c->ignore = true;
	c->ignore_ts = c->last_ts;
	if (p->on_ignore)
		p->on_ignore(p->ignore_ctx, c->key.tgid, c->key.conn,
			     c->last_ts);
}

/* Builds the event from @data (consumed) and writes it as one line. */
static void emit(struct pipeline *p, struct conn *c, struct emit_args *a,
		 cJSON *data, char *id_out)
{
	const struct proc_meta *pm = NULL;
	struct k8s_pod pod = { 0 };
	struct event_proc proc = {
		.pid = c->key.tgid, .tid = c->tid, .uid = c->uid,
		.gid = c->gid, .comm = c->comm,
	};
	struct event_meta meta = {
		.type = a->type,
		.ts_real_ns = a->ts_mono + p->o.realtime_offset_ns,
		.ts_mono_ns = a->ts_mono,
		.capture_point = c->role == ROLE_SERVER ? "tls_server"
							 : "tls_client",
		.rule = a->rule,
		.reasons = a->reasons,
		.n_reasons = a->n_reasons,
		.redaction_applied = a->redacted,
		.related_event_id = a->related,
	};
	char *cmdline = NULL;
	int err;

	meta.completeness = a->n_reasons ? "partial" :
			    a->redacted ? "redacted" : "full";
	if (p->o.procinfo)
		pm = procinfo__get(p->o.procinfo, c->key.tgid, false);
	if (pm) {
		proc.ppid = pm->ppid;
		proc.exe = pm->exe;
		proc.user = pm->user;
		if (pm->cmdline && p->o.secrets &&
		    redactor__string(p->o.secrets, pm->cmdline, &cmdline,
				     NULL) >= 0)
			proc.cmdline = cmdline ?: pm->cmdline;
		proc.container_id = pm->container_id;
		proc.container_runtime = pm->container_runtime;
		proc.pod_uid = pm->pod_uid;
		if (k8s__lookup(p->o.k8s, pm->pod_uid, &pod) == 0) {
			proc.pod = &pod;
			snprintf(a->ns, sizeof(a->ns), "%s",
				 pod.namespace);
		}
	}
	err = event__write_line(&p->line, p->envelopes, p->ulid, p->o.host,
				&proc, &meta, data, id_out);
	free(cmdline);
	k8s_pod__clear(&pod);
	cJSON_Delete(data);
	if (err) {
		event_buf__free(&p->line);
		p->st.write_errors++;
		return;
	}
	err = output__write_line(p->o.out, p->line.p, p->line.len);
	/* A huge body made a huge line: do not hold on to its memory. */
	if (p->line.cap > LINE_KEEP)
		event_buf__free(&p->line);
	if (err) {
		p->st.write_errors++;
		return;
	}
	if (strcmp(a->type, "ai.request") == 0)
		p->st.events_request++;
	else
		p->st.events_response++;
	if (a->n_reasons)
		p->st.events_partial++;
	if (a->redacted)
		p->st.events_redacted++;
}

static void add_reason(struct emit_args *a, const char *reason)
{
	if (a->n_reasons < MAX_REASONS)
		a->reasons[a->n_reasons++] = reason;
}

/* Sets completeness reasons from the message flags and capture losses. */
static void msg_reasons(struct pipeline *p, struct conn *c, int dir,
			const struct http_msg *msg, struct emit_args *a)
{
	if (msg->flags & HTTP_MSG_TRUNCATED) {
		add_reason(a, "body_truncated");
		p->st.bodies_truncated++;
	}
	if (msg->flags & HTTP_MSG_INCOMPLETE)
		add_reason(a, "message_incomplete");
	if (c->ds[dir].lost)
		add_reason(a, c->ds[dir].lost_reason);
}

static void apply_redaction(struct pipeline *p, cJSON *data,
			    struct emit_args *a)
{
	static const char *const content_fields[] = {
		"messages", "choices", "tool_calls", "tools", "error",
	};
	struct redact_findings f = { 0 };
	size_t i;
	int n;

	if (!p->o.redactor)
		return;
	n = redactor__json(p->o.redactor, data, &f);
	if (n > 0)
		a->redacted = true;
	if (n >= 0)
		return;
	/* Part of the content may still be in clear: write none of it. */
	for (i = 0; i < sizeof(content_fields) / sizeof(content_fields[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(data, content_fields[i]);
	a->redacted = true;
	add_reason(a, "redaction_failed_content_dropped");
	p->st.redaction_errors++;
}

/*
 * Decodes @msg's body per its Content-Encoding.  Returns a malloc'd
 * buffer (NUL-terminated) in *out, or points *out at the body itself
 * (*owned = false) when there is nothing to decode.
 */
static void body_decode(struct pipeline *p, const struct http_msg *msg,
			const char **out, size_t *out_len, bool *owned,
			struct emit_args *a)
{
	const char *enc = http_msg__header(msg, "content-encoding");
	unsigned char *dec = NULL;
	unsigned flags = 0;
	size_t dlen = 0;
	int err;

	*out = (const char *)msg->body;
	*out_len = msg->body_len;
	*owned = false;
	if (!enc || !msg->body_len)
		return;
	err = decode__content(enc, msg->body, msg->body_len,
			      p->o.max_body_bytes * 8, &dec, &dlen, &flags);
	if (err == 0 && !(msg->flags & (HTTP_MSG_TRUNCATED |
					HTTP_MSG_INCOMPLETE)) &&
	    (flags & DECODE_INCOMPLETE)) {
		p->st.decode_errors++;
		add_reason(a, "decode_error");
	}
	if (err) {
		p->st.decode_errors++;
		add_reason(a, "decode_error");
		free(dec);
		return;
	}
	if (flags & DECODE_TRUNCATED) {
		/* A decompression bomb, or just a large body: counted too. */
		add_reason(a, "decoded_body_truncated");
		if (!(msg->flags & HTTP_MSG_TRUNCATED))
			p->st.bodies_truncated++;
	}
	*out = (const char *)dec;
	*out_len = dlen;
	*owned = true;
}

static const char *header_cb(const void *ctx, const char *name)
{
	return http_msg__header(ctx, name);
}

/*
 * Adds @v (consumed) as @key.  Keys here are literals: cJSON's "CS"
 * variant takes them as they are instead of copying each.  Returns @v,
 * NULL when out of memory (counted nowhere: the field is just missing).
 */
static cJSON *add_item(cJSON *o, const char *key, cJSON *v)
{
	if (v && cJSON_AddItemToObjectCS(o, key, v))
		return v;
	cJSON_Delete(v);
	return NULL;
}

static void add_str(cJSON *o, const char *key, const char *val)
{
	if (val)
		add_item(o, key, cJSON_CreateString(val));
}

static void add_num(cJSON *o, const char *key, double v)
{
	add_item(o, key, cJSON_CreateNumber(v));
}

static void add_bool(cJSON *o, const char *key, bool v)
{
	add_item(o, key, cJSON_CreateBool(v));
}

static cJSON *add_obj(cJSON *o, const char *key)
{
	return add_item(o, key, cJSON_CreateObject());
}

/* The request-target without its query: queries can carry API keys. */
static char *path_only(const char *target)
{
	size_t n = target ? strcspn(target, "?#") : 0;

	return target ? strndup(target, n) : NULL;
}

static void add_provider(cJSON *data, const struct pending *pd)
{
	cJSON *prov = add_obj(data, "provider");

	if (!prov)
		return;
	add_str(prov, "name", pd->m.provider ? pd->m.provider : "other");
	add_str(prov, "endpoint", pd->host);
}

/*
 * OISP auth.type plus which header carried the credential; the value
 * itself is never written.
 */
static void add_auth(cJSON *data, const struct http_msg *msg)
{
	static const char *const key_headers[] = {
		"x-api-key", "api-key", "x-goog-api-key",
	};
	const char *authz = http_msg__header(msg, "authorization");
	const char *header = NULL, *type = "api_key", *scheme = NULL;
	cJSON *auth;
	size_t i;

	if (authz) {
		header = "authorization";
		if (strncasecmp(authz, "bearer ", 7) == 0)
			scheme = "bearer";
		else
			type = "unknown";
	}
	for (i = 0; !header && i < sizeof(key_headers) / sizeof(key_headers[0]);
	     i++)
		if (http_msg__header(msg, key_headers[i]))
			header = key_headers[i];
	if (!header)
		return;
	auth = add_obj(data, "auth");
	if (!auth)
		return;
	add_str(auth, "type", type);
	add_str(auth, "header", header);
	add_str(auth, "scheme", scheme);
}

static const char *model_id(const cJSON *data)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(data, "model");

	m = cJSON_GetObjectItemCaseSensitive(m, "id");
	return cJSON_IsString(m) ? m->valuestring : NULL;
}

static void pending_push(struct conn *c, struct pending *pd)
{
	if (c->pend_tail)
		c->pend_tail->next = pd;
	else
		c->pend_head = pd;
	c->pend_tail = pd;
	c->n_pending++;
}

static struct pending *pending_pop(struct conn *c)
{
	struct pending *pd = c->pend_head;

	if (!pd)
		return NULL;
	c->pend_head = pd->next;
	if (!c->pend_head)
		c->pend_tail = NULL;
	c->n_pending--;
	pd->next = NULL;
	return pd;
}

static void pending_free(struct pending *pd)
{
	if (!pd)
		return;
	free(pd->model);
	free(pd->host);
	free(pd);
}

static void on_request(struct conn *c, int dir, struct http_msg *msg)
{
	struct pipeline *p = c->pl;
	struct emit_args a = { .type = "ai.request", .ts_mono = msg->ts_start };
	struct rules_req rq;
	struct pending *pd;
	const char *body;
	size_t body_len;
	bool owned;
	cJSON *data, *http;
	char *path;

	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return;
	pd->ts_start = msg->ts_start;
	pd->host = strdup(http_msg__header(msg, "host") ?: "");
	rq = (struct rules_req){
		.host = pd->host, .method = msg->method ?: "",
		.path = msg->target ?: "", .header = header_cb, .ctx = msg,
	};
	if (!rules__match(p->o.rules, &rq, &pd->m))
		p->st.unmatched++;
	pd->report = pd->m.rule || !p->o.ai_only;
	if (msg->method && strcmp(msg->method, "HEAD") == 0)
		httpstream__expect_head_response(c->hs[!dir]);
	if (c->n_pending >= MAX_PENDING)
		pending_free(pending_pop(c));
	pending_push(c, pd);
	if (!pd->report)
		return;

	data = cJSON_CreateObject();
	if (!data)
		return;
	ulid__next(p->ulid, (msg->ts_start + p->o.realtime_offset_ns) /
			    1000000, pd->request_id);
	add_str(data, "request_id", pd->request_id);
	add_provider(data, pd);
	add_str(data, "request_type", pd->m.request_type ?: "other");
	add_str(data, "api", pd->m.api ?: "other");
	msg_reasons(p, c, dir, msg, &a);
	body_decode(p, msg, &body, &body_len, &owned, &a);
	if (body_len && extract__request(pd->m.api ?: "other", body, body_len,
					 data) == -EBADMSG)
		p->st.json_errors++;
	if (owned)
		free((char *)body);
	if (pd->m.api && msg->target)
		extract__request_path(pd->m.api, msg->target, data);
	add_auth(data, msg);
	http = add_obj(data, "http");
	if (http) {
		add_str(http, "method", msg->method);
		path = path_only(msg->target);
		add_str(http, "path", path);
		free(path);
		add_str(http, "host", pd->host);
		add_num(http, "body_bytes", (double)msg->body_total);
		add_str(http, "content_encoding",
			http_msg__header(msg, "content-encoding"));
	}
	if (model_id(data))
		pd->model = strdup(model_id(data));
	apply_redaction(p, data, &a);
	a.rule = pd->m.rule;
	emit(p, c, &a, data, pd->event_id);
	if (p->o.aistats)
		aistats__record_request(p->o.aistats, pd->m.provider ?: "other",
					pd->model, a.ns);
}

/* CLOCK_MONOTONIC time at which body byte @off arrived. */
static uint64_t body_ts(const struct http_msg *msg, size_t off)
{
	uint64_t ts = msg->ts_body;
	size_t i;

	for (i = 0; i < msg->n_marks && msg->marks[i].body_off <= off; i++)
		ts = msg->marks[i].ts_ns;
	return ts;
}

static void response_stream(struct pipeline *p, struct pending *pd,
			    const struct http_msg *msg, const char *body,
			    size_t len, bool encoded, cJSON *data)
{
	struct extract_event *xe = NULL;
	struct sse_event *ev = NULL;
	size_t n = 0, i, first = 0;
	uint64_t ts;

	if (sse__parse(body, len, MAX_SSE_EVENTS, &ev, &n) == -ENOMEM)
		return;
	xe = calloc(n + 1, sizeof(*xe));
	if (!xe)
		goto out;
	for (i = 0; i < n; i++) {
		xe[i].event = ev[i].event;
		xe[i].data = ev[i].data;
	}
	extract__response_stream(pd->m.api ?: "other", xe, n, data, &first);
	if (first < n) {
		/* Offsets map to arrival times only for an uncoded body. */
		ts = encoded ? msg->ts_body :
		     body_ts(msg, ev[first].end_off ? ev[first].end_off - 1 : 0);
		if (ts >= pd->ts_start)
			add_num(data, "time_to_first_token_ms",
				(double)(ts - pd->ts_start) / 1e6);
	}
out:
	free(xe);
	sse__free_events(ev, n);
}

static uint64_t usage_tokens(const cJSON *data, const char *name)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(data, "usage");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, name);

	return cJSON_IsNumber(v) && v->valuedouble > 0 ?
	       (uint64_t)v->valuedouble : 0;
}

/* What the /metrics counters need of a response, taken before emit(). */
struct response_stats {
	const char *model;		/* points into a copy below */
	char model_buf[128];
	bool ok;
	uint64_t prompt, completion;
	double latency_ms;		/* -1: unknown */
};

static void response_stats(struct response_stats *rs, const cJSON *data,
			   bool ok)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(data, "latency_ms");
	const char *m = model_id(data);

	snprintf(rs->model_buf, sizeof(rs->model_buf), "%s", m ?: "");
	rs->model = m ? rs->model_buf : NULL;
	rs->ok = ok;
	rs->prompt = usage_tokens(data, "prompt_tokens");
	rs->completion = usage_tokens(data, "completion_tokens");
	rs->latency_ms = cJSON_IsNumber(lat) ? lat->valuedouble : -1;
}

static void on_response(struct conn *c, int dir, struct http_msg *msg)
{
	struct pipeline *p = c->pl;
	struct emit_args a = { .type = "ai.response", .ts_mono = msg->ts_start };
	const char *ctype, *body;
	struct response_stats rs;
	struct pending *pd;
	size_t body_len;
	bool owned, sse, ok;
	cJSON *data, *http, *model;

	if (msg->status >= 100 && msg->status < 200) {
		if (msg->status == 101)
			conn_ignore(p, c);	/* protocol switched */
		return;
	}
	pd = pending_pop(c);
	if (!pd) {
		p->st.unpaired_responses++;
		return;
	}
	if (!pd->report) {
		pending_free(pd);
		return;
	}
	data = cJSON_CreateObject();
	if (!data)
		goto out;
	add_str(data, "request_id", pd->request_id);
	add_provider(data, pd);
	msg_reasons(p, c, dir, msg, &a);
	ctype = http_msg__header(msg, "content-type");
	sse = ctype && strncasecmp(ctype, "text/event-stream", 17) == 0;
	body_decode(p, msg, &body, &body_len, &owned, &a);
	if (sse)
		response_stream(p, pd, msg, body, body_len, owned, data);
	else if (body_len && extract__response(pd->m.api ?: "other", body,
					       body_len, data) == -EBADMSG)
		p->st.json_errors++;
	if (owned)
		free((char *)body);
	if (!model_id(data) && pd->model) {
		cJSON_DeleteItemFromObjectCaseSensitive(data, "model");
		model = add_obj(data, "model");
		if (model)
			add_str(model, "id", pd->model);
	}
	ok = msg->status >= 200 && msg->status < 300 &&
	     !extract__has_error(data);
	add_num(data, "status_code", msg->status);
	add_bool(data, "success", ok);
	if (!cJSON_HasObjectItem(data, "streaming"))
		add_bool(data, "streaming", sse);
	if (msg->ts_end >= pd->ts_start)
		add_num(data, "latency_ms",
			(double)(msg->ts_end - pd->ts_start) / 1e6);
	http = add_obj(data, "http");
	if (http) {
		add_num(http, "status", msg->status);
		add_str(http, "content_type", ctype);
		add_str(http, "content_encoding",
			http_msg__header(msg, "content-encoding"));
		add_num(http, "body_bytes", (double)msg->body_total);
	}
	apply_redaction(p, data, &a);
	a.rule = pd->m.rule;
	a.related = pd->event_id;
	response_stats(&rs, data, ok);
	emit(p, c, &a, data, NULL);
	if (p->o.aistats)
		aistats__record_response(p->o.aistats, pd->m.provider ?: "other",
					 pd->model ?: rs.model, a.ns, rs.ok,
					 rs.prompt, rs.completion,
					 rs.latency_ms);
out:
	pending_free(pd);
}

static void on_message(void *ctx, struct http_msg *msg)
{
	struct conn *c = ctx;
	struct pipeline *p = c->pl;
	int dir = c->cur_dir;
	bool client;

	p->st.http_messages++;
	client = msg->is_request ? dir == DIR_W : dir == DIR_R;
	c->role = client ? ROLE_CLIENT : ROLE_SERVER;
	if (c->ignore) {
		/* e.g. the rest of a flush after a 101 */
	} else if (!client && !p->o.server_side) {
		p->st.server_side_skipped++;
		conn_ignore(p, c);
	} else if (msg->is_request) {
		on_request(c, dir, msg);
	} else {
		on_response(c, dir, msg);
	}
	http_msg__free(msg);
}

static void conn_free(struct conn *c)
{
	struct httpstream_stats hst;
	int i;

	if (!c)
		return;
	for (i = 0; i < 2; i++) {
		httpstream__stats(c->hs[i], &hst);
		c->pl->st.parse_errors += hst.parse_errors;
		httpstream__free(c->hs[i]);
	}
	while (c->pend_head)
		pending_free(pending_pop(c));
	free(c);
}

/* Completes what is in progress (requests first), then frees. */
static void conn_close(struct conn *c)
{
	int dir, i;

	if (!c)
		return;
	for (i = 0; i < 2; i++) {
		dir = c->role == ROLE_SERVER ? (i ? DIR_W : DIR_R) :
					       (i ? DIR_R : DIR_W);
		c->cur_dir = dir;
		if (!c->ignore)
			httpstream__flush(c->hs[dir], c->last_ts);
	}
	conn_free(c);
}

static struct conn *conn_new(struct pipeline *p, const struct conn_key *k)
{
	struct http_limits lim = { .max_body = p->o.max_body_bytes };
	struct conn *c = calloc(1, sizeof(*c));
	int i;

	if (!c)
		return NULL;
	c->key = *k;
	c->pl = p;
	for (i = 0; i < 2; i++) {
		if (httpstream__new(&c->hs[i], &lim, on_message, c)) {
			conn_free(c);
			return NULL;
		}
	}
	return c;
}

/*
 * execve() destroys the old image and its SSL objects, so a connection
 * of the same tgid last used before the exec belongs to the old image,
 * whatever its SSL* (the new image's allocator may hand out the same
 * address).  Exec records come for every process on the host: they are
 * noted in O(1) and checked when a connection is next used; a slot
 * overwritten by another tgid only loses that check.
 */
static void exec_note(struct pipeline *p, const struct cap_hdr *h)
{
	struct exec_mark *e = &p->execs[h->tgid % EXEC_SLOTS];

	e->tgid = h->tgid;
	e->ts = h->ts_ns;
}

static bool exec_since(const struct pipeline *p, const struct conn *c)
{
	const struct exec_mark *e = &p->execs[c->key.tgid % EXEC_SLOTS];

	return e->tgid == c->key.tgid && e->ts > c->last_ts;
}

/* A request line ("METHOD SP target SP HTTP/1.x" CRLF) at @buf. */
static bool starts_with_request_line(const unsigned char *buf, size_t len)
{
	static const char ver[] = " HTTP/1.";
	const unsigned char *nl = memchr(buf, '\n', len);
	size_t i = 0, n, start;

	if (!nl)
		return false;
	n = (size_t)(nl - buf);
	if (n && buf[n - 1] == '\r')
		n--;
	while (i < n && i < 24 && buf[i] >= 'A' && buf[i] <= 'Z')
		i++;
	if (i == 0 || i == n || buf[i] != ' ')
		return false;
	start = ++i;
	while (i < n && buf[i] > ' ' && buf[i] < 0x7f)
		i++;
	return i > start && n - i == sizeof(ver) &&
	       memcmp(buf + i, ver, sizeof(ver) - 1) == 0 &&
	       buf[n - 1] >= '0' && buf[n - 1] <= '9';
}

/*
 * An SSL* freed and handed to a new connection of the same process looks
 * like the old connection going on.  The tell: an SSL call that starts
 * with a request line while a message of the old connection, in either
 * direction, is still in progress (a request body cut short, a response
 * half read).  The old connection is then closed (what it had is written
 * as partial, its unanswered requests dropped) and a new one begins.
 * HTTP/1.1 pipelining a request while a response is being read also
 * matches; it costs that response its completeness, never a wrong
 * pairing, and clients do not pipeline in practice.
 */
static bool conn_replaced(const struct conn *c, const struct cap_data *d)
{
	return d->offset == 0 && !c->ignore &&
	       (httpstream__in_message(c->hs[DIR_W]) ||
		httpstream__in_message(c->hs[DIR_R])) &&
	       starts_with_request_line(d->data, d->len);
}

static struct conn *conn_get(struct pipeline *p, const struct cap_data *d)
{
	struct conn_key k = { .tgid = d->hdr.tgid, .conn = d->conn };
	struct conn *c = conntab__get(p->conns, &k);
	void *evicted;

	if (c && (exec_since(p, c) || conn_replaced(c, d))) {
		conntab__del(p->conns, &k);
		conn_close(c);
		c = NULL;
	}
	if (c)
		return c;
	c = conn_new(p, &k);
	if (!c)
		return NULL;
	if (conntab__put(p->conns, &k, c, &evicted)) {
		conn_free(c);
		return NULL;
	}
	if (evicted) {
		p->st.connections_evicted++;
		conn_close(evicted);
	}
	p->st.connections_total++;
	if (p->o.procinfo)
		procinfo__get(p->o.procinfo, k.tgid, true);
	return c;
}

/*
 * Chunks of one call arrive in order with increasing offsets; calls of
 * one direction arrive in order.  Anything else means records were lost
 * (ring buffer full) or cut (per-call cap): the parser must resync.
 */
static bool data_gap(struct dir_state *ds, const struct cap_data *d)
{
	bool gap = false;

	if (d->call_id != ds->call_id) {
		gap = ds->open || d->offset != 0;
		ds->call_id = d->call_id;
	} else if (d->offset != ds->next_off) {
		gap = true;
	}
	ds->next_off = (uint64_t)d->offset + d->len;
	ds->open = ds->next_off < d->call_len &&
		   !(d->flags & CAP_F_TRUNCATED);
	return gap;
}

/*
 * Bytes of this direction were lost: the message in progress, if its
 * headers were complete, is written now as partial (on_message sees
 * ds->lost); the parser resyncs at the next message, which is whole.
 */
static void stream_gap(struct pipeline *p, struct conn *c, int dir,
		       const char *reason)
{
	p->st.gaps++;
	c->ds[dir].lost = true;
	c->ds[dir].lost_reason = reason;
	httpstream__gap(c->hs[dir]);
	c->ds[dir].lost = false;
}

static int feed_data(struct pipeline *p, const struct cap_data *d)
{
	int dir = d->dir == CAP_DIR_WRITE ? DIR_W : DIR_R;
	struct conn *c = conn_get(p, d);
	struct dir_state *ds;
	bool gap;

	if (!c)
		return -ENOMEM;
	c->last_ts = d->hdr.ts_ns;
	c->tid = d->hdr.tid;
	c->uid = d->hdr.uid;
	c->gid = d->hdr.gid;
	memcpy(c->comm, d->hdr.comm, CAP_COMM_LEN);
	c->comm[CAP_COMM_LEN] = '\0';
	if (c->ignore) {
		if (c->last_ts > c->ignore_ts + IGNORE_RETELL_NS)
			conn_ignore(p, c);
		return 0;
	}
	ds = &c->ds[dir];
	c->cur_dir = dir;
	gap = data_gap(ds, d);
	if (d->flags & CAP_F_READ_FAULT) {
		stream_gap(p, c, dir, "capture_read_fault");
		return 0;
	}
	if (gap)
		stream_gap(p, c, dir, "capture_records_lost");
	if (httpstream__feed(c->hs[dir], d->data, d->len, d->hdr.ts_ns))
		return -ENOMEM;
	/* Bytes past the per-call cap never reached us. */
	if (d->flags & CAP_F_TRUNCATED)
		stream_gap(p, c, dir, "capture_call_truncated");
	if (!c->ignore && httpstream__not_http1(c->hs[dir])) {
		p->st.connections_not_http1++;
		conn_ignore(p, c);
	}
	return 0;
}

struct exit_walk {
	struct pipeline *p;
	uint32_t tgid;
};

static int close_if_tgid(void *ctx, const struct conn_key *k, void *val)
{
	struct exit_walk *w = ctx;

	if (k->tgid != w->tgid)
		return 0;
	conntab__del(w->p->conns, k);
	conn_close(val);
	return 0;
}

/*
 * SSL_free(): the connection ends; what is in progress is written as
 * partial, and the address may next be a new connection's.
 */
static void conn_freed(struct pipeline *p, const struct cap_free *f)
{
	struct conn_key k = { .tgid = f->hdr.tgid, .conn = f->conn };
	struct conn *c = conntab__get(p->conns, &k);

	if (!c)
		return;
	conntab__del(p->conns, &k);
	p->st.connections_freed++;
	conn_close(c);
}

int pipeline__feed(struct pipeline *p, const void *rec, size_t len)
{
	const struct cap_hdr *h = rec;
	struct exit_walk w;

	p->st.records++;
	if (recfile__check_record(rec, len)) {
		p->st.bad_records++;
		return -EBADMSG;
	}
	switch (h->kind) {
	case CAP_KIND_DATA:
		return feed_data(p, rec);
	case CAP_KIND_EXEC:
		exec_note(p, h);
		/*
		 * Read the new image's metadata now: a short-lived client
		 * may be gone by the time its first record is handled.
		 */
		if (p->o.procinfo) {
			procinfo__forget(p->o.procinfo, h->tgid);
			procinfo__get(p->o.procinfo, h->tgid, false);
		}
		return 0;
	case CAP_KIND_FREE:
		conn_freed(p, rec);
		return 0;
	case CAP_KIND_EXIT:
		w = (struct exit_walk){ .p = p, .tgid = h->tgid };
		conntab__for_each(p->conns, close_if_tgid, &w);
		if (p->o.procinfo)
			procinfo__forget(p->o.procinfo, h->tgid);
		return 0;
	default:
		return 0;
	}
}

void pipeline__tick(struct pipeline *p, uint64_t now_ns)
{
	struct conn_key k;
	struct conn *c;

	while ((c = conntab__oldest(p->conns, &k)) &&
	       c->last_ts + p->o.idle_timeout_ns < now_ns) {
		conntab__del(p->conns, &k);
		p->st.connections_idle++;
		conn_close(c);
	}
}

static int close_all(void *ctx, const struct conn_key *k, void *val)
{
	struct pipeline *p = ctx;

	conntab__del(p->conns, k);
	conn_close(val);
	return 0;
}

void pipeline__flush(struct pipeline *p)
{
	conntab__for_each(p->conns, close_all, p);
}

static int add_live_stats(void *ctx, const struct conn_key *k, void *val)
{
	struct pipeline_stats *st = ctx;
	struct conn *c = val;
	struct httpstream_stats hst;
	int i;

	for (i = 0; i < 2; i++) {
		httpstream__stats(c->hs[i], &hst);
		st->parse_errors += hst.parse_errors;
	}
	return 0;
}

void pipeline__stats(const struct pipeline *p, struct pipeline_stats *st)
{
	*st = p->st;
	st->connections = conntab__count(p->conns);
	conntab__for_each(p->conns, add_live_stats, st);
}

void pipeline__on_ignore(struct pipeline *p, pipeline_ignore_fn fn,
			 void *ctx)
{
	p->on_ignore = fn;
	p->ignore_ctx = ctx;
}

void pipeline__set_k8s(struct pipeline *p, struct k8s *k8s)
{
	p->o.k8s = k8s;
}

int pipeline__new(struct pipeline **out, const struct pipeline_opts *opts)
{
	struct pipeline *p;
	int err;

	if (!opts->rules || !opts->out || !opts->host)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->o = *opts;
	if (!p->o.max_body_bytes)
		p->o.max_body_bytes = 4u << 20;
	if (!p->o.max_connections)
		p->o.max_connections = 16384;
	if (!p->o.idle_timeout_ns)
		p->o.idle_timeout_ns = 300ULL * 1000000000ULL;
	err = conntab__new(&p->conns, p->o.max_connections);
	if (err)
		goto err_free;
	err = ulid__new(&p->ulid);
	if (err)
		goto err_conns;
	err = event_cache__new(&p->envelopes);
	if (err)
		goto err_ulid;
	*out = p;
	return 0;

err_ulid:
	ulid__free(p->ulid);
err_conns:
	conntab__free(p->conns);
err_free:
	free(p);
	return err;
}

static int free_conn_cb(void *ctx, const struct conn_key *k, void *val)
{
	conn_free(val);
	return 0;
}

void pipeline__free(struct pipeline *p)
{
	if (!p)
		return;
	conntab__for_each(p->conns, free_conn_cb, NULL);
	conntab__free(p->conns);
	ulid__free(p->ulid);
	event_cache__free(p->envelopes);
	event_buf__free(&p->line);
	free(p);
}
