// SPDX-License-Identifier: MIT
/*
 * The OISP v0.1 envelope (oisp-spec schema/v0.1/envelope.schema.json,
 * common/{host,process,actor,confidence}.schema.json) built as a cJSON
 * tree; envcache.c prints its fixed parts once per process instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "event/envelope.h"
#include "event/event.h"
#include "event/ulid.h"
#include "meta/k8s.h"

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
bool envelope__format_date(time_t secs, char *date)
{
	struct tm tm;

	return gmtime_r(&secs, &tm) &&
	       strftime(date, ENVELOPE_DATE_BUF, "%Y-%m-%dT%H:%M:%S", &tm);
}

void event__format_ts(uint64_t ts_real_ns, char *buf, size_t buflen)
{
	time_t secs = (time_t)(ts_real_ns / 1000000000ULL);
	unsigned int usec = (unsigned int)(ts_real_ns % 1000000000ULL / 1000);
	char date[ENVELOPE_DATE_BUF];

	if (!buflen)
		return;
	if (!envelope__format_date(secs, date)) {
		snprintf(buf, buflen, "1970-01-01T00:00:00.000000Z");
		return;
	}
	snprintf(buf, buflen, "%s.%06uZ", date, usec);
}

/* Adds an unsigned 64-bit integer exactly (a double has 53 bits). */
static cJSON *add_u64(cJSON *o, const char *key, uint64_t v)
{
	char num[EVENT_U64_TEXT];

	event__u64_text(v, num);
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

bool envelope__add_fixed(cJSON *ev, const struct event_host *h,
			 const struct event_proc *p, const struct event_meta *m)
{
	return add_source(ev, h, m) && add_confidence(ev, m) &&
	       add_host(ev, h, p) && add_process(ev, p);
}

bool envelope__add_ref(cJSON *o, const char *key, const char *val, bool raw)
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

bool envelope__add_related(cJSON *ev, const char *id, bool by_ref)
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
		return envelope__add_ref(o, "event_id", id, false) &&
		       envelope__add_ref(o, "relationship", "caused_by", false);
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
	    !envelope__add_fixed(ev, h, p, m) ||
	    !envelope__add_related(ev, m->related_event_id, false))
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

int event__write_line(struct event_buf *b, struct event_cache *cache,
		      struct ulid_gen *g, const struct event_host *h,
		      const struct event_proc *p, const struct event_meta *m,
		      const cJSON *data, char *id_out)
{
	cJSON *ev;

	if (cache)
		return envelope__write_cached(b, cache, g, h, p, m, data, id_out);
	ev = event__new(g, h, p, m, NULL, id_out);
	if (!ev)
		return -ENOMEM;
	/* event__new's empty "data" is the last member: @data's goes there. */
	cJSON_DeleteItemFromObjectCaseSensitive(ev, "data");
	return envelope__print(b, ev, data);
}

int envelope__print(struct event_buf *b, cJSON *ev, const cJSON *data)
{
	cJSON *ref;
	int err = -ENOMEM;

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
