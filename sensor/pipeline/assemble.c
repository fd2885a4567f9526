// SPDX-License-Identifier: MIT
/*
 * Event assembly: the OISP event of each reported HTTP message.  See
 * assemble.h for the contract.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "ai/aistats.h"
#include "ai/extract.h"
#include "ai/redact.h"
#include "ai/rules.h"
#include "ai/shorten.h"
#include "event/event.h"
#include "event/jsonb.h"
#include "event/output.h"
#include "event/ulid.h"
#include "lib/budget.h"
#include "meta/k8s.h"
#include "meta/procinfo.h"
#include "pipeline/assemble.h"
#include "pipeline/pipeline.h"
#include "proto/decode.h"
#include "proto/proto.h"
#include "proto/sse.h"

#define MAX_REASONS	6
/*
 * Budget charge while an event is built (event_charge()): per value of
 * the body, a node of the parsed tree (cJSON's is 64 bytes, plus the
 * allocator's rounding); per byte, the strings, the line and its
 * escapes.  The event's own tree is bounded by extraction's limits
 * (EXTRACT_MAX_ITEMS elements, EXTRACT_MAX_TEXT bytes), within the byte
 * charge.  An estimate, kept high.
 */
#define NODE_CHARGE	((size_t)80)
#define BYTE_CHARGE	4
/*
 * Bodies up to this size are charged for the most values they can hold
 * (one per two bytes, "0,") without being scanned: the charge is small,
 * and the scan would cost every ordinary body a pass over its bytes.
 */
#define SCAN_FROM	((size_t)1 << 20)
/* The completeness reason of data dropped for the memory budget. */
#define REASON_BUDGET	"memory_budget"
/* The line buffer is kept for the next event up to this size. */
#define LINE_KEEP	(1u << 20)
/*
 * Rounds of shortening for output.max_event_bytes: escapes can make a
 * round fall short, and a line that cannot reach the limit (its
 * metadata alone is longer) must not loop.
 */
#define SHORTEN_ROUNDS	8

struct assembler {
	const struct pipeline_opts *o;
	struct pipeline_stats *st;
	struct budget *budget;
	struct ulid_gen *ulid;
	struct event_buf line;		/* the event being written, reused */
	struct event_cache *envelopes;	/* printed envelope parts */
};

struct emit_args {
	const char *type;
	uint64_t ts_mono;
	const char *rule;
	const char *reasons[MAX_REASONS];
	size_t n_reasons;
	bool redacted;
	bool shed;			/* memory_budget is a reason */
	bool cut;			/* the body extracted is a prefix */
	size_t charged;			/* reserved from the budget */
	const char *related;
	char ns[64];			/* out: the pod's namespace, "" if none */
};

/*
 * Prints the event into as->line; while it is longer than
 * output.max_event_bytes, shortens @data (ai/shorten.h) and prints it
 * again.  Returns 0 or -ENOMEM.
 */
static int write_line(struct assembler *as, const struct event_proc *proc,
		      const struct event_meta *meta, cJSON *data,
		      char *id_out)
{
	const struct pipeline_opts *o = as->o;
	struct shorten_stats sh = { 0 };
	int err, i;

	err = event__write_line(&as->line, as->envelopes, as->ulid, o->host,
				proc, meta, data, id_out);
	for (i = 0; !err && o->max_event_bytes && i < SHORTEN_ROUNDS &&
		    as->line.len > o->max_event_bytes; i++) {
		if (!shorten__data(data, as->line.len - o->max_event_bytes,
				   &sh))
			break;
		err = event__write_line(&as->line, as->envelopes, as->ulid,
					o->host, proc, meta, data, id_out);
	}
	if (sh.strings || sh.elements)
		as->st->events_shortened++;
	if (!err && o->max_event_bytes && as->line.len > o->max_event_bytes)
		as->st->events_over_limit++;
	return err;
}

/*
 * Builds the event from @data (consumed) and writes it as one line; the
 * process object starts from @who.
 */
static void emit(struct assembler *as, const struct event_proc *who,
		 bool server, struct emit_args *a, cJSON *data, char *id_out)
{
	const struct pipeline_opts *o = as->o;
	const struct proc_meta *pm = NULL;
	struct k8s_pod pod = { 0 };
	struct event_proc proc = *who;
	struct event_meta meta = {
		.type = a->type,
		.ts_real_ns = a->ts_mono + o->realtime_offset_ns,
		.ts_mono_ns = a->ts_mono,
		.capture_point = server ? "tls_server" : "tls_client",
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
	if (o->procinfo)
		pm = procinfo__get(o->procinfo, proc.pid, false);
	if (pm) {
		proc.ppid = pm->ppid;
		if (pm->comm[0])
			proc.comm = pm->comm;
		proc.exe = pm->exe;
		proc.user = pm->user;
		if (pm->cmdline && o->secrets &&
		    redactor__string(o->secrets, pm->cmdline, &cmdline,
				     NULL) >= 0)
			proc.cmdline = cmdline ?: pm->cmdline;
		proc.container_id = pm->container_id;
		proc.container_runtime = pm->container_runtime;
		proc.pod_uid = pm->pod_uid;
		if (k8s__lookup(o->k8s, pm->pod_uid, &pod) == 0) {
			proc.pod = &pod;
			snprintf(a->ns, sizeof(a->ns), "%s",
				 pod.namespace);
		}
	}
	err = write_line(as, &proc, &meta, data, id_out);
	free(cmdline);
	k8s_pod__clear(&pod);
	cJSON_Delete(data);
	if (err) {
		event_buf__free(&as->line);
		as->st->write_errors++;
		return;
	}
	err = output__write_line(o->out, as->line.p, as->line.len);
	/* A huge body made a huge line: do not hold on to its memory. */
	if (as->line.cap > LINE_KEEP)
		event_buf__free(&as->line);
	if (err) {
		as->st->write_errors++;
		return;
	}
	if (strcmp(a->type, "ai.request") == 0)
		as->st->events_request++;
	else
		as->st->events_response++;
	if (a->n_reasons)
		as->st->events_partial++;
	if (a->redacted)
		as->st->events_redacted++;
}

static void add_reason(struct emit_args *a, const char *reason)
{
	if (a->n_reasons < MAX_REASONS)
		a->reasons[a->n_reasons++] = reason;
}

/* Takes @reason out of @a's reasons, if there. */
static void drop_reason(struct emit_args *a, const char *reason)
{
	size_t i;

	for (i = 0; i < a->n_reasons; i++) {
		if (strcmp(a->reasons[i], reason))
			continue;
		memmove(&a->reasons[i], &a->reasons[i + 1],
			(a->n_reasons - i - 1) * sizeof(a->reasons[0]));
		a->n_reasons--;
		return;
	}
}

/*
 * Whether an event stream that ended without the end of its HTTP message
 * (the chunked body's last chunk, HTTP/2's END_STREAM) still holds the
 * whole answer: nothing was lost or cut, and its events reported the
 * finish reason and the token usage, which every provider sends last
 * (OpenAI chat completions and Responses, Anthropic Messages, Gemini).
 * Clients stop reading there: Codex, Bun and the SDKs close the
 * connection, exit or reset the HTTP/2 stream (RST_STREAM CANCEL, RFC
 * 9113 §8.1: hyper does so when the body is dropped) once the last
 * event came, and the end of the HTTP message may still be unread.
 */
static bool stream_whole(const struct http_msg *msg,
			 const struct ai_summary *sum)
{
	return (msg->flags & HTTP_MSG_INCOMPLETE) &&
	       !(msg->flags & (HTTP_MSG_TRUNCATED | HTTP_MSG_SHED)) &&
	       (msg->gap == PROTO_GAP_NONE ||
		msg->gap == PROTO_GAP_STREAM_RESET) && sum->finish_reason &&
	       (sum->total_tokens != AI_TOKENS_NONE ||
		sum->completion_tokens != AI_TOKENS_NONE);
}

/* The confidence.reasons entry for bytes that capture lost. */
static const char *gap_reason(enum proto_gap why)
{
	switch (why) {
	case PROTO_GAP_RECORDS_LOST:
		return "capture_records_lost";
	case PROTO_GAP_READ_FAULT:
		return "capture_read_fault";
	case PROTO_GAP_CALL_TRUNCATED:
		return "capture_call_truncated";
	case PROTO_GAP_STREAM_RESET:
		return "stream_reset";
	case PROTO_GAP_GOAWAY:
		return "connection_goaway";
	default:
		return NULL;
	}
}

/*
 * Data of this event was dropped for the memory budget: said once, and
 * counted once (@count) when the pipeline's parser did not count it.
 */
static void budget_reason(struct assembler *as, struct emit_args *a,
			  bool count, size_t bytes)
{
	if (count)
		budget__count_shed(as->budget, a->shed ? 0 : 1, bytes);
	if (a->shed)
		return;
	a->shed = true;
	add_reason(a, REASON_BUDGET);
}

/* Sets completeness reasons from the message flags and capture losses. */
static void msg_reasons(struct assembler *as, const struct http_msg *msg,
			struct emit_args *a)
{
	if (msg->flags & HTTP_MSG_TRUNCATED) {
		add_reason(a, "body_truncated");
		as->st->bodies_truncated++;
	}
	if (msg->flags & HTTP_MSG_INCOMPLETE)
		add_reason(a, "message_incomplete");
	if (msg->gap != PROTO_GAP_NONE)
		add_reason(a, gap_reason(msg->gap));
	if (msg->flags & HTTP_MSG_FIELDS_UNKNOWN)
		add_reason(a, "hpack_fields_unknown");
	/* Counted by the parser that dropped the body. */
	if (msg->flags & HTTP_MSG_SHED)
		budget_reason(as, a, false, 0);
}

static void apply_redaction(struct assembler *as, cJSON *data,
			    struct emit_args *a)
{
	static const char *const content_fields[] = {
		"messages", "choices", "tool_calls", "tools", "error",
	};
	struct redact_findings f = { 0 };
	size_t i;
	int n;

	if (!as->o->redactor)
		return;
	n = redactor__json(as->o->redactor, data, &f);
	if (n > 0)
		a->redacted = true;
	if (n >= 0)
		return;
	/* Part of the content may still be in clear: write none of it. */
	for (i = 0; i < sizeof(content_fields) / sizeof(content_fields[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(data, content_fields[i]);
	a->redacted = true;
	add_reason(a, "redaction_failed_content_dropped");
	as->st->redaction_errors++;
}

/*
 * Decodes @msg's body per its Content-Encoding.  Returns a malloc'd
 * buffer (NUL-terminated) in *out, or points *out at the body itself
 * (*owned = false) when there is nothing to decode.  The output is cut
 * at capture.max_body_bytes, like a body on the wire: a decompression
 * bomb costs that much memory and no more.  That room is reserved from
 * the budget before decoding (a refusal leaves the event without its
 * body: *out = NULL, *out_len = 0) and what decoding did not use is
 * given back at once; the rest stays in a->charged.
 */
static void body_decode(struct assembler *as, const struct http_msg *msg,
			const char **out, size_t *out_len, bool *owned,
			struct emit_args *a)
{
	const char *enc = http_msg__header(msg, "content-encoding");
	size_t max = as->o->max_body_bytes, dlen = 0;
	unsigned char *dec = NULL;
	unsigned flags = 0;
	int err;

	*out = (const char *)msg->body;
	*out_len = msg->body_len;
	*owned = false;
	if (!enc || !msg->body_len)
		return;
	if (budget__reserve(as->budget, max + 1)) {
		budget_reason(as, a, true, msg->body_len);
		*out = NULL;
		*out_len = 0;
		return;
	}
	err = decode__content(enc, msg->body, msg->body_len, max, &dec, &dlen,
			      &flags);
	budget__release(as->budget, err ? max + 1 : max - dlen);
	if (err == 0 && !(msg->flags & (HTTP_MSG_TRUNCATED |
					HTTP_MSG_INCOMPLETE)) &&
	    (flags & DECODE_INCOMPLETE)) {
		as->st->decode_errors++;
		add_reason(a, "decode_error");
	}
	if (err) {
		as->st->decode_errors++;
		add_reason(a, "decode_error");
		free(dec);
		return;
	}
	a->charged += dlen + 1;
	if (flags & DECODE_TRUNCATED) {
		/* A decompression bomb, or just a large body: counted too. */
		add_reason(a, "decoded_body_truncated");
		if (!(msg->flags & HTTP_MSG_TRUNCATED))
			as->st->bodies_truncated++;
		a->cut = true;
	}
	*out = (const char *)dec;
	*out_len = dlen;
	*owned = true;
}

/*
 * What building the event of body @p (@len bytes) may take: a JSON value
 * begins after each ',', '[' or '{' at most (plus the first), so two
 * bytes of "[0,0,...]" cost two nodes, while a long string costs its
 * bytes only.  One pass, no parsing.
 */
static size_t event_charge(const char *p, size_t len)
{
	size_t i, nodes = 1;

	if (len < SCAN_FROM)
		return len * BYTE_CHARGE + (len / 2 + 1) * NODE_CHARGE;
	for (i = 0; i < len; i++)
		nodes += p[i] == ',' || p[i] == '[' || p[i] == '{';
	return len * BYTE_CHARGE + nodes * NODE_CHARGE;
}

/*
 * The body as extraction will read it: decoded, and what building the
 * event may take (event_charge()) reserved from the budget (into
 * a->charged, given back by event_done()).  When the budget refuses,
 * the body is let go (*out_len = 0): the event keeps the headers'
 * fields and says memory_budget.
 */
static void body_prepare(struct assembler *as, const struct http_msg *msg,
			 const char **out, size_t *out_len, bool *owned,
			 struct emit_args *a)
{
	size_t est;

	a->cut = msg->flags & (HTTP_MSG_TRUNCATED | HTTP_MSG_INCOMPLETE);
	body_decode(as, msg, out, out_len, owned, a);
	if (!*out_len)
		return;
	est = event_charge(*out, *out_len);
	if (budget__reserve(as->budget, est) == 0) {
		a->charged += est;
		return;
	}
	budget_reason(as, a, true, msg->body_len);
	if (*owned)
		free((char *)*out);
	*out = NULL;
	*out_len = 0;
	*owned = false;
}

/* The event is written: what it reserved goes back to the budget. */
static void event_done(struct assembler *as, struct emit_args *a)
{
	budget__release(as->budget, a->charged);
	a->charged = 0;
}

static const char *header_cb(const void *ctx, const char *name)
{
	return http_msg__header(ctx, name);
}

/* Shortest path segment taken for a credential by its look alone. */
#define SECRET_SEGMENT_MIN	32

/* "scheme://" at @t (RFC 3986 §3.1): its length, else 0. */
static size_t scheme_len(const char *t)
{
	size_t i = 0;

	if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return 0;
	while (t[i] && (strchr("+-.", t[i]) ||
			(t[i] >= 'a' && t[i] <= 'z') ||
			(t[i] >= 'A' && t[i] <= 'Z') ||
			(t[i] >= '0' && t[i] <= '9')))
		i++;
	return strncmp(t + i, "://", 3) == 0 ? i + 3 : 0;
}

/*
 * A path segment that looks like a key or token: long, of token
 * characters only, mixing upper case, lower case and digits.  Resource
 * ids (UUIDs, "resp_0123abcd...", model names) are one case or carry
 * other punctuation.
 */
static bool looks_secret(const char *p, size_t n)
{
	bool up = false, lo = false, dig = false;
	size_t i;

	if (n < SECRET_SEGMENT_MIN)
		return false;
	for (i = 0; i < n; i++) {
		if (p[i] >= 'A' && p[i] <= 'Z')
			up = true;
		else if (p[i] >= 'a' && p[i] <= 'z')
			lo = true;
		else if (p[i] >= '0' && p[i] <= '9')
			dig = true;
		else if (!strchr("-_.~+=", p[i]))
			return false;
	}
	return up && lo && dig;
}

/*
 * Copies the path @p[0..n) into @out, without the parameters of each
 * segment (";a=b", RFC 3986 §3.3) and with segments that look like
 * credentials replaced.  @out has room for n + 1 bytes; returns its
 * length.
 */
static size_t copy_segments(const char *p, size_t n, char *out)
{
	static const char mask[] = "[REDACTED]";
	size_t i = 0, o = 0, seg, end;

	while (i < n) {
		if (p[i] == '/') {
			out[o++] = p[i++];
			continue;
		}
		seg = i;
		while (i < n && p[i] != '/' && p[i] != ';')
			i++;
		end = i;
		while (i < n && p[i] != '/')
			i++;
		if (looks_secret(p + seg, end - seg)) {
			memcpy(out + o, mask, sizeof(mask) - 1);
			o += sizeof(mask) - 1;
		} else {
			memcpy(out + o, p + seg, end - seg);
			o += end - seg;
		}
	}
	out[o] = '\0';
	return o;
}

/*
 * http.path: the path of the request-target (RFC 9112 §3.2) and
 * nothing else, as anything else can carry a credential: the query and
 * the fragment ("?key=..."), segment parameters (";api_key=..."), the
 * scheme, userinfo and host of an absolute-form target
 * ("https://user:key@host/p" gives "/p") and the userinfo of any other
 * form.  Segments that look like keys are replaced by "[REDACTED]" and
 * the always-on secrets redactor (@secrets, may be NULL) runs over what
 * is left.  Returns a malloc'd string, NULL for no target or no memory.
 */
static char *clean_path(const struct redactor *secrets, const char *target)
{
	const char *p = target, *at;
	size_t n, sch;
	char *out, *red = NULL;
	int ret;

	if (!target)
		return NULL;
	sch = scheme_len(p);
	if (sch) {
		p += sch;
		p += strcspn(p, "/?#");
	} else if (*p != '/') {
		/* authority-form (CONNECT) or garbage: no userinfo */
		n = strcspn(p, "/?#");
		at = memrchr(p, '@', n);
		if (at)
			p = at + 1;
	}
	n = strcspn(p, "?#");
	out = malloc(n + sizeof("/"));
	if (!out)
		return NULL;
	if (!copy_segments(p, n, out) && sch)
		strcpy(out, "/");
	ret = secrets ? redactor__string(secrets, out, &red, NULL) : 0;
	if (ret == 0)
		return out;
	free(out);
	/* Not checked: not written either. */
	return ret > 0 ? red : strdup("[REDACTED]");
}

/*
 * The authority as written in events (provider.endpoint, http.host):
 * host and port, never userinfo ("user:key@host" is a credential, RFC
 * 9110 §4.2.4 forbids it, a hostile sender need not care).  Returns a
 * malloc'd string, NULL for no memory.
 */
static char *clean_host(const char *authority)
{
	const char *h = authority ? authority : "";
	const char *at = strrchr(h, '@');

	return strdup(at ? at + 1 : h);
}

static void add_provider(cJSON *data, const struct exchange *x)
{
	cJSON *prov = jsonb__add_obj(data, "provider");

	if (!prov)
		return;
	jsonb__add_str(prov, "name", x->m.provider ? x->m.provider : "other");
	jsonb__add_str(prov, "endpoint", x->host);
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
	auth = jsonb__add_obj(data, "auth");
	if (!auth)
		return;
	jsonb__add_str(auth, "type", type);
	jsonb__add_str(auth, "header", header);
	jsonb__add_str(auth, "scheme", scheme);
}

/*
 * Fields of a message made from WebSocket messages (proto/wsmap.h):
 * always streamed, http.protocol "websocket", and the audio counted
 * rather than kept (data.audio {chunks, bytes}).
 */
static void add_websocket(cJSON *data, cJSON *http, const struct http_msg *msg)
{
	cJSON *audio;

	if (!(msg->flags & HTTP_MSG_WEBSOCKET))
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(data, "streaming");
	jsonb__add_bool(data, "streaming", true);
	if (http)
		jsonb__add_str(http, "protocol", "websocket");
	if (!msg->audio_chunks)
		return;
	audio = jsonb__add_obj(data, "audio");
	if (!audio)
		return;
	jsonb__add_num(audio, "chunks", (double)msg->audio_chunks);
	jsonb__add_num(audio, "bytes", (double)msg->audio_bytes);
}

/* What extraction's per-event bounds left out of the event. */
static void count_dropped(struct assembler *as, const struct ai_summary *sum)
{
	as->st->extract_elements_dropped += sum->elements_dropped;
	as->st->extract_bytes_dropped += sum->bytes_dropped;
}

/*
 * The path an AI request whose :path could not be decoded (HTTP/2
 * joined mid-way) most likely had, from the top-level members of its
 * JSON body: "input" the OpenAI Responses API, "prompt" the legacy
 * completions, "messages" Anthropic's Messages API when an
 * anthropic-version field came through, else OpenAI chat completions.
 * NULL when the body is not such an object (or is content-coded).
 */
static const char *guess_path(struct assembler *as, const struct http_msg *msg)
{
	const char *path = NULL;
	size_t est;
	cJSON *j;

	if (!msg->body_len || http_msg__header(msg, "content-encoding"))
		return NULL;
	est = event_charge((const char *)msg->body, msg->body_len);
	if (budget__reserve(as->budget, est))
		return NULL;
	j = cJSON_ParseWithLength((const char *)msg->body, msg->body_len);
	if (cJSON_IsObject(j) && cJSON_HasObjectItem(j, "model")) {
		if (cJSON_HasObjectItem(j, "input"))
			path = "/v1/responses";
		else if (cJSON_HasObjectItem(j, "prompt"))
			path = "/v1/completions";
		else if (!cJSON_IsArray(cJSON_GetObjectItem(j, "messages")))
			path = NULL;
		else if (http_msg__header(msg, "anthropic-version"))
			path = "/v1/messages";
		else
			path = "/v1/chat/completions";
	}
	cJSON_Delete(j);
	budget__release(as->budget, est);
	return path;
}

/*
 * Classifies @msg into x->m.  A request whose :path was not decoded is
 * tried again with the path its body suggests (guess_path()) and, when
 * that matches, x->guessed is set: its events say ai_detection_method
 * "heuristic" and name no rule.  Its host, when not decoded either,
 * matches only the rules without a host pattern (the generic
 * OpenAI-compatible ones: provider "other").
 */
static bool classify(struct assembler *as, const struct http_msg *msg,
		     struct rules_req *rq, struct exchange *x)
{
	if (rules__match(as->o->rules, rq, &x->m))
		return true;
	if (!(msg->flags & HTTP_MSG_FIELDS_UNKNOWN) || msg->target)
		return false;
	rq->path = guess_path(as, msg);
	if (!rq->method[0])
		rq->method = "POST";
	x->guessed = rq->path && rules__match(as->o->rules, rq, &x->m);
	return x->guessed;
}

/*
 * The body's length as sent, when it was not all captured: its
 * Content-Length (RFC 9110 §8.6) when it has one, else the bytes seen
 * plus those of the call the capture cap cut (framing included).  0
 * when not known.
 */
static uint64_t body_sent(const struct http_msg *msg)
{
	const char *cl = http_msg__header(msg, "content-length");
	unsigned long long v;
	char *end;

	if (cl && !http_msg__header(msg, "transfer-encoding") &&
	    *cl >= '0' && *cl <= '9') {
		errno = 0;
		v = strtoull(cl, &end, 10);
		if (!errno && !*end && v >= msg->body_total)
			return v;
	}
	return msg->gap_bytes ? msg->body_total + msg->gap_bytes : 0;
}

/*
 * http.body_bytes, and for a body not all captured body_truncated,
 * body_bytes_captured (what the event was made from) and
 * body_bytes_sent (body_sent()).
 */
static void add_body_bytes(cJSON *http, const struct http_msg *msg,
			   const struct emit_args *a)
{
	uint64_t sent;

	jsonb__add_num(http, "body_bytes", (double)msg->body_total);
	if (!a->cut || !msg->body_total)
		return;
	jsonb__add_bool(http, "body_truncated", true);
	jsonb__add_num(http, "body_bytes_captured", (double)msg->body_len);
	sent = body_sent(msg);
	if (sent)
		jsonb__add_num(http, "body_bytes_sent", (double)sent);
}

void assembler__request(struct assembler *as, const struct event_proc *proc,
			bool server, const struct http_msg *msg,
			struct exchange *x)
{
	const struct pipeline_opts *o = as->o;
	struct emit_args a = { .type = "ai.request", .ts_mono = msg->ts_start };
	struct rules_req rq;
	struct ai_summary sum;
	const char *body, *api;
	size_t body_len;
	bool owned;
	cJSON *data, *http;
	char *path;
	int err;

	x->ts_start = msg->ts_start;
	x->host = clean_host(msg->authority);
	rq = (struct rules_req){
		.host = x->host ?: "", .method = msg->method ?: "",
		.path = msg->target ?: "", .header = header_cb, .ctx = msg,
	};
	if (!classify(as, msg, &rq, x))
		as->st->unmatched++;
	x->report = x->m.rule || !o->ai_only;
	if (!x->report)
		return;

	api = x->m.api ?: "other";
	data = cJSON_CreateObject();
	if (!data)
		return;
	ulid__next(as->ulid, (msg->ts_start + o->realtime_offset_ns) /
			     1000000, x->request_id);
	jsonb__add_str(data, "request_id", x->request_id);
	add_provider(data, x);
	jsonb__add_str(data, "request_type", x->m.request_type ?: "other");
	jsonb__add_str(data, "api", x->m.api ?: "other");
	msg_reasons(as, msg, &a);
	body_prepare(as, msg, &body, &body_len, &owned, &a);
	ai_summary__init(&sum);
	err = body_len ? extract__request(api, body, body_len, data, &sum) : 0;
	if (err == -EBADMSG && a.cut) {
		err = extract__request_prefix(api, body, body_len, data, &sum);
		as->st->bodies_prefix_parsed += !err;
	}
	if (err == -EBADMSG)
		as->st->json_errors++;
	if (owned)
		free((char *)body);
	path = clean_path(o->secrets, msg->target);
	if (x->m.api && path)
		extract__request_path(x->m.api, path, data, &sum);
	count_dropped(as, &sum);
	add_auth(data, msg);
	http = jsonb__add_obj(data, "http");
	if (http) {
		jsonb__add_str(http, "method", msg->method);
		jsonb__add_str(http, "path", path);
		jsonb__add_str(http, "host", x->host);
		add_body_bytes(http, msg, &a);
		jsonb__add_str(http, "content_encoding",
			http_msg__header(msg, "content-encoding"));
	}
	add_websocket(data, http, msg);
	free(path);
	x->model = sum.model;		/* taken over */
	sum.model = NULL;
	ai_summary__clear(&sum);
	apply_redaction(as, data, &a);
	a.rule = x->guessed ? NULL : x->m.rule;
	emit(as, proc, server, &a, data, x->event_id);
	event_done(as, &a);
	if (o->aistats)
		aistats__record_request(o->aistats, x->m.provider ?: "other",
					x->model, a.ns);
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

/*
 * Extracts a text/event-stream body.  Returns 0, -E2BIG (events past
 * SSE_MAX_EVENTS left out) or -ENOMEM (nothing extracted): either way
 * the event's content is incomplete.
 */
static int response_stream(const struct exchange *x,
			   const struct http_msg *msg, const char *body,
			   size_t len, bool encoded, cJSON *data,
			   struct ai_summary *sum)
{
	struct extract_event *xe = NULL;
	struct sse_event *ev = NULL;
	size_t n = 0, i, first;
	uint64_t ts;
	int err;

	err = sse__parse(body, len, SSE_MAX_EVENTS, &ev, &n);
	if (err == -ENOMEM)
		return err;
	xe = calloc(n + 1, sizeof(*xe));
	if (!xe) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		xe[i].event = ev[i].event;
		xe[i].data = ev[i].data;
	}
	extract__response_stream(x->m.api ?: "other", xe, n, data, sum);
	first = sum->first_token_idx;
	if (first < n) {
		/* Offsets map to arrival times only for an uncoded body. */
		ts = encoded ? msg->ts_body :
		     body_ts(msg, ev[first].end_off ? ev[first].end_off - 1 : 0);
		if (ts >= x->ts_start)
			jsonb__add_num(data, "time_to_first_token_ms",
				(double)(ts - x->ts_start) / 1e6);
	}
out:
	free(xe);
	sse__free_events(ev, n);
	return err;
}

/* A token count of the summary for aistats: 0 when not reported. */
static uint64_t usage_tokens(int64_t n)
{
	return n > 0 ? (uint64_t)n : 0;
}

void assembler__response(struct assembler *as, const struct event_proc *proc,
			 bool server, const struct http_msg *msg,
			 const struct exchange *x)
{
	const struct pipeline_opts *o = as->o;
	struct emit_args a = { .type = "ai.response", .ts_mono = msg->ts_start };
	const char *ctype, *body;
	struct ai_summary sum;
	size_t body_len;
	bool owned, sse, ok, ws = msg->flags & HTTP_MSG_WEBSOCKET;
	const char *api = x->m.api ?: "other";
	double latency_ms;
	cJSON *data, *http, *model;
	int err;

	if (!x->report)
		return;
	data = cJSON_CreateObject();
	if (!data)
		return;
	ai_summary__init(&sum);
	jsonb__add_str(data, "request_id", x->request_id);
	add_provider(data, x);
	msg_reasons(as, msg, &a);
	ctype = http_msg__header(msg, "content-type");
	sse = ws || (ctype && strncasecmp(ctype, "text/event-stream", 17) == 0);
	/* A content-type not decoded (HTTP/2 joined): the body tells. */
	if (!ctype && (msg->flags & HTTP_MSG_FIELDS_UNKNOWN) && msg->body_len)
		sse = strncmp((const char *)msg->body, "data:", 5) == 0 ||
		      strncmp((const char *)msg->body, "event:", 6) == 0;
	body_prepare(as, msg, &body, &body_len, &owned, &a);
	if (sse) {
		if (response_stream(x, msg, body, body_len, owned, data, &sum))
			add_reason(&a, "stream_incomplete");
		else if (!ws && stream_whole(msg, &sum)) {
			drop_reason(&a, "message_incomplete");
			/* The reset's reason, which msg_reasons() gave. */
			if (msg->gap != PROTO_GAP_NONE)
				drop_reason(&a, gap_reason(msg->gap));
		}
	} else if (body_len) {
		err = extract__response(api, body, body_len, data, &sum);
		if (err == -EBADMSG && a.cut) {
			err = extract__response_prefix(api, body, body_len,
						       data, &sum);
			as->st->bodies_prefix_parsed += !err;
		}
		if (err == -EBADMSG)
			as->st->json_errors++;
	}
	if (owned)
		free((char *)body);
	count_dropped(as, &sum);
	if (!sum.model && x->model) {
		cJSON_DeleteItemFromObjectCaseSensitive(data, "model");
		model = jsonb__add_obj(data, "model");
		if (model)
			jsonb__add_str(model, "id", x->model);
	}
	/* Over a WebSocket the status is the handshake's: events decide. */
	ok = (ws || (msg->status >= 200 && msg->status < 300)) && !sum.error;
	jsonb__add_num(data, "status_code", msg->status);
	jsonb__add_bool(data, "success", ok);
	if (!cJSON_HasObjectItem(data, "streaming"))
		jsonb__add_bool(data, "streaming", sse);
	latency_ms = msg->ts_end >= x->ts_start ?
		     (double)(msg->ts_end - x->ts_start) / 1e6 : -1;
	if (latency_ms >= 0)
		jsonb__add_num(data, "latency_ms", latency_ms);
	http = jsonb__add_obj(data, "http");
	if (http) {
		jsonb__add_num(http, "status", msg->status);
		if (!ws)
			jsonb__add_str(http, "content_type", ctype);
		jsonb__add_str(http, "content_encoding",
			http_msg__header(msg, "content-encoding"));
		add_body_bytes(http, msg, &a);
	}
	add_websocket(data, http, msg);
	apply_redaction(as, data, &a);
	a.rule = x->guessed ? NULL : x->m.rule;
	a.related = x->event_id;
	emit(as, proc, server, &a, data, NULL);
	event_done(as, &a);
	if (o->aistats)
		aistats__record_response(o->aistats, x->m.provider ?: "other",
					 x->model ?: sum.model, a.ns, ok,
					 usage_tokens(sum.prompt_tokens),
					 usage_tokens(sum.completion_tokens),
					 latency_ms);
	ai_summary__clear(&sum);
}

void exchange__clear(struct exchange *x)
{
	free(x->model);
	free(x->host);
	x->model = x->host = NULL;
}

int assembler__new(struct assembler **out, const struct pipeline_opts *o,
		   struct pipeline_stats *st, struct budget *budget)
{
	struct assembler *as = calloc(1, sizeof(*as));
	int err;

	if (!as)
		return -ENOMEM;
	as->o = o;
	as->st = st;
	as->budget = budget;
	err = ulid__new(&as->ulid);
	if (err)
		goto err_free;
	err = event_cache__new(&as->envelopes);
	if (err)
		goto err_ulid;
	*out = as;
	return 0;

err_ulid:
	ulid__free(as->ulid);
err_free:
	free(as);
	return err;
}

void assembler__free(struct assembler *as)
{
	if (!as)
		return;
	ulid__free(as->ulid);
	event_cache__free(as->envelopes);
	event_buf__free(&as->line);
	free(as);
}
