// SPDX-License-Identifier: MIT
/*
 * The OISP v0.1 envelope (oisp-spec schema/v0.1/envelope.schema.json,
 * common/{host,process,actor,confidence}.schema.json) and UTF-8 hygiene.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "event/event.h"
#include "lib/utf8.h"
#include "meta/k8s.h"
#include "event/ulid.h"

#ifndef OISP_VERSION
#define OISP_VERSION "0.0.0"
#endif

/* Copies at most @size - 1 bytes of @src; always NUL-terminates. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int event__host_load(struct event_host *h)
{
	struct utsname u;

	memset(h, 0, sizeof(*h));
	if (uname(&u) < 0)
		return -errno;
	copy_str(h->hostname, sizeof(h->hostname), u.nodename);
	copy_str(h->kernel, sizeof(h->kernel), u.release);
	copy_str(h->arch, sizeof(h->arch), u.machine);
	return 0;
}

/* host.arch is an enum in OISP: x86_64, aarch64, arm, i686, other. */
static const char *oisp_arch(const char *machine)
{
	if (strcmp(machine, "x86_64") == 0 || strcmp(machine, "aarch64") == 0)
		return machine;
	if (strcmp(machine, "arm64") == 0)
		return "aarch64";
	if (strncmp(machine, "arm", 3) == 0)
		return "arm";
	if (machine[0] == 'i' && strcmp(machine + 2, "86") == 0)
		return "i686";
	return "other";
}

/*
 * Text is checked sixteen bytes at a time with GCC's vector extension
 * (SSE2 on x86-64, NEON on arm64): one test per block, and a block that
 * fails is then looked at byte by byte.
 */
typedef unsigned char u8x16 __attribute__((vector_size(16)));

static inline u8x16 load16(const unsigned char *p)
{
	u8x16 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* True when no byte of @bad (a comparison's result) is set. */
static inline bool none_set(u8x16 bad)
{
	uint64_t w[2];

	memcpy(w, &bad, sizeof(w));
	return !(w[0] | w[1]);
}

/* No byte of the block at @p is NUL or above 0x7f. */
static inline bool block_plain(const unsigned char *p)
{
	u8x16 v = load16(p);

	return none_set((u8x16)((u8x16)(v - 1) > 0x7e));
}

/* Length of the leading run of bytes 0x01..0x7f at @p. */
static size_t ascii_run(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i + 16 <= len && block_plain(p + i))
		i += 16;
	while (i < len && p[i] >= 0x01 && p[i] <= 0x7f)
		i++;
	return i;
}

/* Length of the leading valid UTF-8 (without NUL) at @p. */
static size_t utf8_valid_prefix(const unsigned char *p, size_t len)
{
	size_t i = 0;
	int k;

	for (;;) {
		i += ascii_run(p + i, len - i);
		if (i >= len)
			return len;
		k = utf8__seq(p + i, len - i);
		if (k < 0)
			return i;
		i += (size_t)k;
	}
}

bool event__utf8_valid(const char *s, size_t len)
{
	return utf8_valid_prefix((const unsigned char *)s, len) == len;
}

char *event__utf8_dup(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, o;
	char *out;
	int k;

	i = len ? utf8_valid_prefix(p, len) : 0;
	if (i == len) {
		out = malloc(len + 1);
		if (!out)
			return NULL;
		if (len)
			memcpy(out, s, len);
		out[len] = '\0';
		return out;
	}
	/* Worst case: every byte after the valid prefix becomes U+FFFD. */
	if (len - i > (SIZE_MAX - 1 - i) / 3)
		return NULL;
	out = malloc(i + (len - i) * 3 + 1);
	if (!out)
		return NULL;
	memcpy(out, s, i);
	o = i;
	while (i < len) {
		k = utf8__seq(p + i, len - i);
		if (k > 0) {
			memcpy(out + o, p + i, (size_t)k);
			o += (size_t)k;
			i += (size_t)k;
			continue;
		}
		memcpy(out + o, "\xef\xbf\xbd", 3);
		o += 3;
		i += (size_t)-k;
	}
	out[o] = '\0';
	return out;
}

/* "YYYY-MM-DDTHH:MM:SS" of @secs into @date (24 bytes); false on error. */
static bool format_date(time_t secs, char *date)
{
	struct tm tm;

	return gmtime_r(&secs, &tm) &&
	       strftime(date, 24, "%Y-%m-%dT%H:%M:%S", &tm);
}

void event__format_ts(uint64_t ts_real_ns, char *buf, size_t buflen)
{
	time_t secs = (time_t)(ts_real_ns / 1000000000ULL);
	unsigned int usec = (unsigned int)(ts_real_ns % 1000000000ULL / 1000);
	char date[24];

	if (!buflen)
		return;
	if (!format_date(secs, date)) {
		snprintf(buf, buflen, "1970-01-01T00:00:00.000000Z");
		return;
	}
	snprintf(buf, buflen, "%s.%06uZ", date, usec);
}

/*
 * Writes @v in decimal, NUL-terminated, at @buf (at least U64_TEXT
 * bytes).  Returns the number of digits.
 */
#define U64_TEXT	21
static size_t u64_text(uint64_t v, char *buf)
{
	char tmp[U64_TEXT];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* Adds an unsigned 64-bit integer exactly (a double has 53 bits). */
static cJSON *add_u64(cJSON *o, const char *key, uint64_t v)
{
	char num[U64_TEXT];

	u64_text(v, num);
	return cJSON_AddRawToObject(o, key, num);
}

/* cJSON_Add*ToObject return NULL on failure; this keeps the checks short. */
static bool add_str(cJSON *o, const char *key, const char *val)
{
	return !val || cJSON_AddStringToObject(o, key, val);
}

static bool add_source(cJSON *ev, const struct event_host *h,
		       const struct event_meta *m)
{
	cJSON *s = cJSON_AddObjectToObject(ev, "source");

	return s && add_str(s, "collector", "oisp-sensor") &&
	       add_str(s, "collector_version", OISP_VERSION) &&
	       add_str(s, "capture_method", "ebpf_uprobe") &&
	       add_str(s, "capture_point", m->capture_point) &&
	       add_str(s, "sensor_host", h ? h->hostname : NULL);
}

static bool add_confidence(cJSON *ev, const struct event_meta *m)
{
	const char *compl = m->completeness ?: "full";
	cJSON *c = cJSON_AddObjectToObject(ev, "confidence");
	cJSON *r;
	size_t i;

	if (!c || !add_str(c, "level", strcmp(compl, "partial") == 0 ?
				       "medium" : "high") ||
	    !add_str(c, "completeness", compl))
		return false;
	if (m->n_reasons) {
		r = cJSON_AddArrayToObject(c, "reasons");
		if (!r)
			return false;
		for (i = 0; i < m->n_reasons; i++) {
			if (!cJSON_AddItemToArray(r,
				cJSON_CreateString(m->reasons[i] ?: "")))
				return false;
		}
	}
	return add_str(c, "ai_detection_method",
		       m->rule ? "known_endpoint" : "heuristic") &&
	       add_str(c, "rule", m->rule) &&
	       add_str(c, "content_source", "tls_boundary") &&
	       cJSON_AddBoolToObject(c, "redaction_applied",
				     m->redaction_applied);
}

/* A string field, left out when NULL or empty. */
static bool add_nonempty(cJSON *o, const char *key, const char *val)
{
	return !val || !*val || cJSON_AddStringToObject(o, key, val);
}

/* host.container{id, runtime} (OISP common/host.schema.json). */
static bool add_container(cJSON *host, const struct event_proc *p)
{
	cJSON *o;

	if (!p->container_id || !*p->container_id)
		return true;
	o = cJSON_AddObjectToObject(host, "container");
	return o && add_str(o, "id", p->container_id) &&
	       add_nonempty(o, "runtime", p->container_runtime);
}

/* Labels packed "key\0value\0..." as struct k8s_pod keeps them. */
static bool add_labels(cJSON *o, const struct k8s_pod *pod)
{
	const char *pos = pod->labels, *end;
	const char *key;
	cJSON *l;

	/* NULL + 0 is undefined behaviour: test before computing the end. */
	if (!pod->labels || !pod->n_labels)
		return true;
	end = pod->labels + pod->labels_len;
	l = cJSON_AddObjectToObject(o, "labels");
	if (!l)
		return false;
	while (pos < end) {
		key = pos;
		pos += strlen(pos) + 1;
		if (!cJSON_AddStringToObject(l, key, pos))
			return false;
		pos += strlen(pos) + 1;
	}
	return true;
}

/* host.k8s{pod_uid, pod_name, namespace, node_name, ...}. */
static bool add_k8s(cJSON *host, const struct event_proc *p)
{
	const struct k8s_pod *pod = p->pod;
	const char *uid = pod && pod->uid[0] ? pod->uid : p->pod_uid;
	cJSON *o;

	if ((!uid || !*uid) && !pod)
		return true;
	o = cJSON_AddObjectToObject(host, "k8s");
	if (!o || !add_nonempty(o, "pod_uid", uid))
		return false;
	if (!pod)
		return true;
	return add_nonempty(o, "pod_name", pod->name) &&
	       add_nonempty(o, "namespace", pod->namespace) &&
	       add_nonempty(o, "node_name", pod->node_name) &&
	       add_nonempty(o, "service_account", pod->service_account) &&
	       add_nonempty(o, "deployment", pod->deployment) &&
	       add_labels(o, pod);
}

static bool add_host(cJSON *ev, const struct event_host *h,
		     const struct event_proc *p)
{
	bool ctr = p && ((p->container_id && *p->container_id) ||
			 (p->pod_uid && *p->pod_uid) || p->pod);
	cJSON *o;

	if (!h && !ctr)
		return true;
	o = cJSON_AddObjectToObject(ev, "host");
	if (!o)
		return false;
	if (h && (!add_str(o, "hostname", h->hostname) ||
		  !add_str(o, "os", "linux") ||
		  !add_str(o, "arch", oisp_arch(h->arch)) ||
		  !add_str(o, "kernel_version", h->kernel)))
		return false;
	return !p || (add_container(o, p) && add_k8s(o, p));
}

static bool add_process(cJSON *ev, const struct event_proc *p)
{
	cJSON *o, *a;

	if (!p)
		return true;
	o = cJSON_AddObjectToObject(ev, "process");
	if (!o || !cJSON_AddNumberToObject(o, "pid", p->pid) ||
	    (p->tid && !cJSON_AddNumberToObject(o, "thread_id", p->tid)) ||
	    (p->ppid && !cJSON_AddNumberToObject(o, "ppid", p->ppid)) ||
	    !add_str(o, "name", p->comm) || !add_str(o, "exe", p->exe) ||
	    !add_str(o, "cmdline", p->cmdline) ||
	    !add_nonempty(o, "container_id", p->container_id))
		return false;
	a = cJSON_AddObjectToObject(ev, "actor");
	return a && cJSON_AddNumberToObject(a, "uid", p->uid) &&
	       cJSON_AddNumberToObject(a, "gid", p->gid) &&
	       add_str(a, "user", p->user);
}

/*
 * Adds @val as @key without copying either: both must outlive @o.
 * @raw: @val is JSON text, printed as it is.
 */
static bool add_ref(cJSON *o, const char *key, const char *val, bool raw)
{
	cJSON *v = cJSON_CreateStringReference(val);

	if (!v)
		return false;
	if (raw)
		v->type = cJSON_Raw | cJSON_IsReference;
	if (!cJSON_AddItemToObjectCS(o, key, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}

/*
 * related_events: [{event_id: @id, relationship: caused_by}], when @id is
 * set; @by_ref: @id is referenced (it must outlive @ev), not copied.
 */
static bool add_related(cJSON *ev, const char *id, bool by_ref)
{
	cJSON *arr, *o;

	if (!id)
		return true;
	arr = cJSON_AddArrayToObject(ev, "related_events");
	o = cJSON_CreateObject();
	if (!arr || !o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	if (by_ref)
		return add_ref(o, "event_id", id, false) &&
		       add_ref(o, "relationship", "caused_by", false);
	return add_str(o, "event_id", id) &&
	       add_str(o, "relationship", "caused_by");
}

cJSON *event__new(struct ulid_gen *g, const struct event_host *h,
		  const struct event_proc *p, const struct event_meta *m,
		  cJSON **data, char *id_out)
{
	char id[ULID_BUF], ts[40];
	cJSON *ev, *d;

	if (data)
		*data = NULL;
	ev = cJSON_CreateObject();
	if (!ev)
		return NULL;
	ulid__next(g, m->ts_real_ns / 1000000, id);
	event__format_ts(m->ts_real_ns, ts, sizeof(ts));
	if (!add_str(ev, "oisp_version", "0.1") ||
	    !add_str(ev, "event_id", id) ||
	    !add_str(ev, "event_type", m->type) || !add_str(ev, "ts", ts) ||
	    !add_u64(ev, "ts_mono", m->ts_mono_ns) ||
	    !add_source(ev, h, m) || !add_confidence(ev, m) ||
	    !add_host(ev, h, p) || !add_process(ev, p) ||
	    !add_related(ev, m->related_event_id, false))
		goto err_free;
	d = cJSON_AddObjectToObject(ev, "data");
	if (!d)
		goto err_free;
	if (data)
		*data = d;
	if (id_out)
		memcpy(id_out, id, ULID_BUF);
	return ev;

err_free:
	cJSON_Delete(ev);
	return NULL;
}

/* ---- serialisation ---------------------------------------------------- */

/*
 * cJSON prints; it copies string bytes through as they are.  JSON's own
 * syntax is ASCII, so fixing the printed text fixes every string in it:
 * each invalid UTF-8 sequence becomes U+FFFD afterwards, in one pass that
 * is a 16-byte-at-a-time scan when the text is valid.
 */

/*
 * cJSON prints every number with sprintf("%1.15g") and reads it back
 * with sscanf to check it: some 3,000 instructions a number, a good part
 * of a small event's printing.  For an integral value of magnitude below
 * 10^15 that text is exactly the integer's digits (%g with precision 15
 * takes the fixed-point form for exponents below 15 and drops the
 * fraction's zeros; such a value is exact in a double, so the check
 * passes).  Fractions, -0, larger values, NaN and infinities are left to
 * cJSON.
 *
 * cJSON prints a string by passing over its bytes twice, each through a
 * switch: once to count what needs escaping, once to copy.  A string of
 * STR_SWAP_MIN bytes or more is escaped here instead, exactly as cJSON's
 * print_string_ptr() escapes (\" \\ \b \f \n \r \t, other bytes below
 * 0x20 as \u00xx with lower-case hex digits, every other byte as it is):
 * runs that need no escape are found sixteen bytes at a time and copied
 * with memcpy.  Messages and replies are most of an AI event's bytes.
 *
 * While a line is printed, those numbers and strings become raw nodes
 * holding the text cJSON would have printed for them, so the line is the
 * same byte for byte.  The texts go into one buffer kept from line to
 * line (grown when needed), and the nodes are pointed at them only once
 * all are written, since the buffer may move as it grows; everything is
 * put back afterwards.  Beyond MAX_SWAPS nodes in one line, or when
 * memory runs out, the rest are left to cJSON: the text is the same
 * either way.
 */
#define MAX_SWAPS	256
#define STR_SWAP_MIN	16
/*
 * Buffers kept from one line to the next up to this size; a larger one
 * (a body of megabytes in one event) is freed once used, so that one
 * large event does not hold its size for the sensor's lifetime.
 */
#define KEEP_MAX	(1u << 20)

struct swap {
	cJSON *item;
	char *valuestring;
	size_t off;		/* of the node's text in event_swaps.text */
	int type;
};

struct event_swaps {
	char *text;		/* NUL-terminated texts, one after the other */
	size_t len, cap;	/* bytes used, bytes allocated */
	size_t n;
	struct swap s[MAX_SWAPS];
};

/* Room for @n more bytes of text; false when out of memory. */
static bool text_reserve(struct event_swaps *sw, size_t n)
{
	size_t cap;
	char *t;

	if (sw->cap - sw->len >= n)
		return true;
	if (n > SIZE_MAX / 2 - sw->len)
		return false;
	cap = sw->len + n;
	if (cap < sw->cap * 2)
		cap = sw->cap * 2;
	if (cap < 4096)
		cap = 4096;
	t = realloc(sw->text, cap);
	if (!t)
		return false;
	sw->text = t;
	sw->cap = cap;
	return true;
}

/*
 * Appends the text cJSON prints for @d when it is an integer's digits;
 * false (nothing appended) when it is not, or out of memory.
 */
static bool text_put_int(struct event_swaps *sw, double d)
{
	char *o;
	long long v;

	if (!(d > -1e15 && d < 1e15) || (d == 0 && signbit(d)))
		return false;
	v = (long long)d;
	/* A sign, then the digits and the NUL. */
	if ((double)v != d || !text_reserve(sw, 1 + U64_TEXT))
		return false;
	o = sw->text + sw->len;
	if (v < 0) {
		*o++ = '-';
		v = -v;
	}
	o += u64_text((uint64_t)v, o);
	sw->len = (size_t)(o + 1 - sw->text);
	return true;
}

/* No byte of the block at @p needs an escape in a JSON string. */
static inline bool block_unescaped(const unsigned char *p)
{
	u8x16 v = load16(p);

	return none_set((u8x16)(v < 0x20) | (u8x16)(v == '"') |
			(u8x16)(v == '\\'));
}

/* Writes the escape cJSON prints for @c (a byte that needs one) at @o;
 * returns its length (2 or 6). */
static size_t put_escape(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e;

	switch (c) {
	case '"':	e = '"'; break;
	case '\\':	e = '\\'; break;
	case '\b':	e = 'b'; break;
	case '\f':	e = 'f'; break;
	case '\n':	e = 'n'; break;
	case '\r':	e = 'r'; break;
	case '\t':	e = 't'; break;
	default:
		o[0] = '\\';
		o[1] = 'u';
		o[2] = '0';
		o[3] = '0';
		o[4] = hex[c >> 4];
		o[5] = hex[c & 0xf];
		return 6;
	}
	o[0] = '\\';
	o[1] = e;
	return 2;
}

/*
 * Appends @s (@n bytes, no NUL) as the quoted JSON string cJSON prints
 * for it; false (nothing appended) when out of memory.
 */
static bool text_put_string(struct event_swaps *sw, const unsigned char *s,
			    size_t n)
{
	size_t start = sw->len, i = 0, run;
	char *o;

	/* Every byte as it is, the quotes and the NUL. */
	if (n > SIZE_MAX - 8 || !text_reserve(sw, n + 3))
		return false;
	o = sw->text + sw->len;
	*o++ = '"';
	for (;;) {
		run = i;
		while (run + 16 <= n && block_unescaped(s + run))
			run += 16;
		while (run < n && s[run] >= 0x20 && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		memcpy(o, s + i, run - i);
		o += run - i;
		i = run;
		if (i == n)
			break;
		/* Up to five more bytes for this escape. */
		sw->len = (size_t)(o - sw->text);
		if (!text_reserve(sw, n - i + 8)) {
			sw->len = start;
			return false;
		}
		o = sw->text + sw->len;
		o += put_escape(o, s[i++]);
	}
	*o++ = '"';
	*o++ = '\0';
	sw->len = (size_t)(o - sw->text);
	return true;
}

/* Writes the text of @v when it is a number or string worth swapping. */
static void swap_one(struct event_swaps *sw, cJSON *v)
{
	struct swap *s = &sw->s[sw->n];
	size_t start = sw->len;
	const char *str = v->valuestring;

	switch (v->type & 0xff) {
	case cJSON_Number:
		if (!text_put_int(sw, v->valuedouble))
			return;
		break;
	case cJSON_String:
		if (!str || strnlen(str, STR_SWAP_MIN) < STR_SWAP_MIN ||
		    !text_put_string(sw, (const unsigned char *)str,
				     strlen(str)))
			return;
		break;
	default:
		return;
	}
	s->item = v;
	s->type = v->type;
	s->valuestring = v->valuestring;
	s->off = start;
	sw->n++;
}

/* Writes the texts of @v's subtree (@v itself included, not its
 * siblings). */
static void swaps_write(struct event_swaps *sw, cJSON *v)
{
	cJSON *c;

	if (sw->n == MAX_SWAPS)
		return;
	if (v->type & (cJSON_Number | cJSON_String)) {
		swap_one(sw, v);
		return;
	}
	for (c = v->child; c && sw->n < MAX_SWAPS; c = c->next)
		swaps_write(sw, c);
}

/* Points the nodes at their texts: raw, and references, so that
 * cJSON_Delete would not free the text (not that it gets the chance). */
static void swaps_apply(struct event_swaps *sw)
{
	struct swap *s;
	size_t i;

	for (i = 0; i < sw->n; i++) {
		s = &sw->s[i];
		s->item->type = cJSON_Raw | cJSON_IsReference |
				(s->type & cJSON_StringIsConst);
		s->item->valuestring = sw->text + s->off;
	}
}

static void swaps_restore(struct event_swaps *sw)
{
	struct swap *s;

	while (sw->n) {
		s = &sw->s[--sw->n];
		s->item->type = s->type;
		s->item->valuestring = s->valuestring;
	}
	sw->len = 0;
	if (sw->cap > KEEP_MAX) {
		free(sw->text);
		sw->text = NULL;
		sw->cap = 0;
	}
}

/* Replaces @b's text by @s (malloc'd, @n bytes, NUL-terminated). */
static void buf_adopt(struct event_buf *b, char *s, size_t n)
{
	free(b->p);
	b->p = s;
	b->len = n;
	b->cap = n + 1;
}

void event_buf__free(struct event_buf *b)
{
	free(b->p);
	if (b->swaps)
		free(b->swaps->text);
	free(b->swaps);
	memset(b, 0, sizeof(*b));
}

/*
 * Prints @v into @b with cJSON: into the buffer the last line left
 * (cJSON_PrintPreallocated does not allocate); when that is too small,
 * cJSON allocates a buffer that fits, which is kept for the next lines.
 */
static int print_tree(struct event_buf *b, cJSON *v)
{
	char *s;

	if (b->p && b->cap <= INT_MAX &&
	    cJSON_PrintPreallocated(v, b->p, (int)b->cap, false)) {
		b->len = strlen(b->p);
		return 0;
	}
	s = cJSON_PrintUnformatted(v);
	if (!s)
		return -ENOMEM;
	buf_adopt(b, s, strlen(s));
	return 0;
}

int event__json(struct event_buf *b, const cJSON *v)
{
	cJSON *t = (cJSON *)v;
	char *s;
	int err;

	if (!v)
		return -ENOMEM;
	/* The previous line has been written: a large buffer goes. */
	if (b->cap > KEEP_MAX) {
		free(b->p);
		b->p = NULL;
		b->len = b->cap = 0;
	}
	/* Without the scratch space, cJSON prints everything itself. */
	if (!b->swaps)
		b->swaps = calloc(1, sizeof(*b->swaps));
	if (b->swaps) {
		swaps_write(b->swaps, t);
		swaps_apply(b->swaps);
	}
	err = print_tree(b, t);
	if (b->swaps)
		swaps_restore(b->swaps);
	if (err)
		return err;
	if (!event__utf8_valid(b->p, b->len)) {
		s = event__utf8_dup(b->p, b->len);
		if (!s)
			return -ENOMEM;
		buf_adopt(b, s, strlen(s));
	}
	return 0;
}

char *event__to_line(const cJSON *ev, size_t *len)
{
	struct event_buf b = { 0 };
	char *line;

	if (event__json(&b, ev)) {
		event_buf__free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	line = b.p;
	b.p = NULL;
	event_buf__free(&b);
	return line;
}

/* ---- the envelope's fixed parts, cached ------------------------------ */

/*
 * Of the envelope, only event_id, event_type, ts, ts_mono and
 * related_events change from one event of a process to the next:
 * source, confidence, host, process and actor follow from the host, the
 * process and a few fields of the meta.  Building them as cJSON trees
 * and printing them for every event was most of a small event's cost.
 * They are built as event__new builds them, printed once by cJSON and
 * kept, keyed by everything they are built from (encoded without loss),
 * in a direct-mapped table; an event gets them as raw nodes that
 * reference the kept text.  Each slot holds a few hundred bytes (more
 * with long command lines or many pod labels).  The date part of the
 * last second's timestamp is kept too: gmtime_r and strftime cost more
 * than the rest of the envelope.
 */
#define CACHE_SLOTS	256

enum { PART_SOURCE, PART_CONFIDENCE, PART_HOST, PART_PROCESS, PART_ACTOR,
       N_PARTS };

static const char *const part_names[N_PARTS] = {
	"source", "confidence", "host", "process", "actor",
};

struct cache_slot {
	unsigned char *key;		/* NULL: slot empty */
	size_t key_len;
	uint64_t hash;
	char *json[N_PARTS];		/* printed by cJSON; NULL: left out */
};

struct event_cache {
	struct cache_slot slot[CACHE_SLOTS];
	unsigned char *key;		/* the key being looked up */
	size_t key_len, key_cap;
	bool key_oom;
	bool have_date;
	uint64_t date_secs;		/* second that date[] shows */
	char date[24];
};

int event_cache__new(struct event_cache **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void slot_clear(struct cache_slot *s)
{
	int i;

	free(s->key);
	for (i = 0; i < N_PARTS; i++)
		free(s->json[i]);
	memset(s, 0, sizeof(*s));
}

void event_cache__free(struct event_cache *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		slot_clear(&c->slot[i]);
	free(c->key);
	free(c);
}

static void key_add(struct event_cache *c, const void *p, size_t n)
{
	size_t cap = c->key_cap ? c->key_cap : 512;
	unsigned char *k;

	if (c->key_oom || !n)
		return;
	if (n > SIZE_MAX / 2 - c->key_len) {
		c->key_oom = true;
		return;
	}
	while (cap < c->key_len + n)
		cap *= 2;
	if (cap != c->key_cap) {
		k = realloc(c->key, cap);
		if (!k) {
			c->key_oom = true;
			return;
		}
		c->key = k;
		c->key_cap = cap;
	}
	memcpy(c->key + c->key_len, p, n);
	c->key_len += n;
}

static void key_u32(struct event_cache *c, uint32_t v)
{
	key_add(c, &v, sizeof(v));
}

/* A flag byte (NULL or not), then the length and the bytes. */
static void key_mem(struct event_cache *c, const void *p, size_t n)
{
	unsigned char present = p != NULL;

	key_add(c, &present, 1);
	if (!p)
		return;
	key_add(c, &n, sizeof(n));
	key_add(c, p, n);
}

static void key_str(struct event_cache *c, const char *s)
{
	key_mem(c, s, s ? strlen(s) : 0);
}

static void key_pod(struct event_cache *c, const struct k8s_pod *pod)
{
	key_mem(c, pod, 0);
	if (!pod)
		return;
	key_str(c, pod->uid);
	key_str(c, pod->name);
	key_str(c, pod->namespace);
	key_str(c, pod->node_name);
	key_str(c, pod->service_account);
	key_str(c, pod->deployment);
	key_add(c, &pod->n_labels, sizeof(pod->n_labels));
	key_mem(c, pod->labels, pod->labels ? pod->labels_len : 0);
}

/* Everything add_source, add_confidence, add_host, add_process read. */
static void key_build(struct event_cache *c, const struct event_host *h,
		      const struct event_proc *p, const struct event_meta *m)
{
	unsigned char redacted = m->redaction_applied;
	size_t i;

	c->key_len = 0;
	c->key_oom = false;
	key_str(c, m->capture_point);
	key_str(c, m->rule);
	key_str(c, m->completeness);
	key_add(c, &redacted, 1);
	key_add(c, &m->n_reasons, sizeof(m->n_reasons));
	for (i = 0; i < m->n_reasons; i++)
		key_str(c, m->reasons[i]);
	key_mem(c, h, 0);
	if (h) {
		key_str(c, h->hostname);
		key_str(c, h->kernel);
		key_str(c, h->arch);
	}
	key_mem(c, p, 0);
	if (!p)
		return;
	key_u32(c, p->pid);
	key_u32(c, p->tid);
	key_u32(c, p->ppid);
	key_u32(c, p->uid);
	key_u32(c, p->gid);
	key_str(c, p->comm);
	key_str(c, p->exe);
	key_str(c, p->cmdline);
	key_str(c, p->user);
	key_str(c, p->container_id);
	key_str(c, p->container_runtime);
	key_str(c, p->pod_uid);
	key_pod(c, p->pod);
}

/* FNV-1a, 64 bits. */
static uint64_t key_hash(const unsigned char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ k[i]) * 0x100000001b3ULL;
	return h;
}

/* Builds the parts as event__new does and prints each into @s. */
static int slot_fill(struct cache_slot *s, const struct event_host *h,
		     const struct event_proc *p, const struct event_meta *m)
{
	cJSON *tmp = cJSON_CreateObject(), *part;
	int err = -ENOMEM, i;

	if (!tmp || !add_source(tmp, h, m) || !add_confidence(tmp, m) ||
	    !add_host(tmp, h, p) || !add_process(tmp, p))
		goto out;
	for (i = 0; i < N_PARTS; i++) {
		part = cJSON_GetObjectItemCaseSensitive(tmp, part_names[i]);
		if (!part)
			continue;
		s->json[i] = cJSON_PrintUnformatted(part);
		if (!s->json[i])
			goto out;
	}
	err = 0;
out:
	cJSON_Delete(tmp);
	return err;
}

/*
 * The slot holding the parts for @h, @p, @m, filled now if it held
 * something else.  NULL when out of memory.
 */
static const struct cache_slot *cache_get(struct event_cache *c,
					  const struct event_host *h,
					  const struct event_proc *p,
					  const struct event_meta *m)
{
	struct cache_slot *s;
	uint64_t hash;

	key_build(c, h, p, m);
	if (c->key_oom)
		return NULL;
	hash = key_hash(c->key, c->key_len);
	s = &c->slot[hash % CACHE_SLOTS];
	if (s->key && s->hash == hash && s->key_len == c->key_len &&
	    memcmp(s->key, c->key, c->key_len) == 0)
		return s;
	slot_clear(s);
	if (slot_fill(s, h, p, m))
		goto err_clear;
	s->key = malloc(c->key_len);
	if (!s->key)
		goto err_clear;
	memcpy(s->key, c->key, c->key_len);
	s->key_len = c->key_len;
	s->hash = hash;
	return s;

err_clear:
	slot_clear(s);
	return NULL;
}

/* event__format_ts into @buf (at least 32 bytes), the date reused. */
static void cache_ts(struct event_cache *c, uint64_t ts_real_ns, char *buf)
{
	uint64_t secs = ts_real_ns / 1000000000ULL;
	unsigned int usec = (unsigned int)(ts_real_ns % 1000000000ULL / 1000);
	size_t n;
	int i;

	if (!c->have_date || c->date_secs != secs) {
		c->have_date = format_date((time_t)secs, c->date);
		c->date_secs = secs;
		if (!c->have_date) {
			event__format_ts(ts_real_ns, buf, 32);
			return;
		}
	}
	n = strlen(c->date);
	memcpy(buf, c->date, n);
	buf[n] = '.';
	for (i = 6; i >= 1; i--) {
		buf[n + (size_t)i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	memcpy(buf + n + 7, "Z", 2);
}

/*
 * event__new's envelope, with the cached parts and every string by
 * reference: the strings on this stack frame outlive the tree.
 */
static int write_cached(struct event_buf *b, struct event_cache *c,
			struct ulid_gen *g, const struct event_host *h,
			const struct event_proc *p, const struct event_meta *m,
			const cJSON *data, char *id_out)
{
	char id[ULID_BUF], ts[40], mono[U64_TEXT];
	const struct cache_slot *s;
	cJSON *ev, *ref;
	int err = -ENOMEM, i;

	s = cache_get(c, h, p, m);
	ev = s ? cJSON_CreateObject() : NULL;
	if (!ev)
		return -ENOMEM;
	ulid__next(g, m->ts_real_ns / 1000000, id);
	if (id_out)
		memcpy(id_out, id, ULID_BUF);
	cache_ts(c, m->ts_real_ns, ts);
	u64_text(m->ts_mono_ns, mono);
	if (!add_ref(ev, "oisp_version", "0.1", false) ||
	    !add_ref(ev, "event_id", id, false) ||
	    (m->type && !add_ref(ev, "event_type", m->type, false)) ||
	    !add_ref(ev, "ts", ts, false) ||
	    !add_ref(ev, "ts_mono", mono, true))
		goto out;
	for (i = 0; i < N_PARTS; i++) {
		if (s->json[i] && !add_ref(ev, part_names[i], s->json[i], true))
			goto out;
	}
	if (!add_related(ev, m->related_event_id, true))
		goto out;
	/* @data's members, by reference: the envelope frees none of them. */
	ref = cJSON_CreateObjectReference(data ? data->child : NULL);
	if (!ref || !cJSON_AddItemToObjectCS(ev, "data", ref)) {
		cJSON_Delete(ref);
		goto out;
	}
	err = event__json(b, ev);
out:
	cJSON_Delete(ev);
	return err;
}

int event__write_line(struct event_buf *b, struct event_cache *cache,
		      struct ulid_gen *g, const struct event_host *h,
		      const struct event_proc *p, const struct event_meta *m,
		      const cJSON *data, char *id_out)
{
	cJSON *ev, *ref = NULL;
	int err = -ENOMEM;

	if (cache)
		return write_cached(b, cache, g, h, p, m, data, id_out);
	ev = event__new(g, h, p, m, NULL, id_out);
	if (!ev)
		return -ENOMEM;
	/* @data's members, by reference: the envelope frees none of them. */
	if (data) {
		ref = cJSON_CreateObjectReference(data->child);
		if (!ref ||
		    !cJSON_ReplaceItemInObjectCaseSensitive(ev, "data", ref)) {
			cJSON_Delete(ref);
			goto out;
		}
	}
	err = event__json(b, ev);
out:
	cJSON_Delete(ev);
	return err;
}
