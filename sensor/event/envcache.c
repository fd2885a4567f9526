// SPDX-License-Identifier: MIT
/*
 * The envelope cache (event.h, struct event_cache): the envelope's parts
 * that follow from the host and the process, printed once and reused.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/envelope.h"
#include "event/event.h"
#include "event/ulid.h"
#include "meta/k8s.h"

/*
 * Of the envelope, only event_id, event_type, ts, ts_mono and
 * related_events change from one event of a process to the next:
 * source, confidence, host, process and actor follow from the host, the
 * process and a few fields of the meta.  Building them as cJSON trees
 * and printing them for every event would be most of a small event's
 * cost.  They are built as event__new builds them, printed once by cJSON
 * and kept, keyed by everything they are built from (encoded without
 * loss), in a direct-mapped table; an event gets them as raw nodes that
 * reference the kept text.  Each slot holds a few hundred bytes (more
 * with long command lines or many pod labels).  The date part of the
 * last second's timestamp is kept too: gmtime_r and strftime cost more
 * than the rest of the envelope.
 */
#define CACHE_SLOTS	256

enum { PART_SOURCE, PART_CONFIDENCE, PART_HOST, PART_PROCESS, PART_ACTOR,
       N_PARTS };

/* The members envelope__add_fixed adds, in its order. */
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
	char date[ENVELOPE_DATE_BUF];
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

/* Everything envelope__add_fixed reads. */
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

	if (!tmp || !envelope__add_fixed(tmp, h, p, m))
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
		c->have_date = envelope__format_date((time_t)secs, c->date);
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

int envelope__write_cached(struct event_buf *b, struct event_cache *c,
			   struct ulid_gen *g, const struct event_host *h,
			   const struct event_proc *p,
			   const struct event_meta *m, const cJSON *data,
			   char *id_out)
{
	char id[ULID_BUF], ts[40], mono[EVENT_U64_TEXT];
	const struct cache_slot *s;
	cJSON *ev;
	int i;

	s = cache_get(c, h, p, m);
	ev = s ? cJSON_CreateObject() : NULL;
	if (!ev)
		return -ENOMEM;
	ulid__next(g, m->ts_real_ns / 1000000, id);
	if (id_out)
		memcpy(id_out, id, ULID_BUF);
	cache_ts(c, m->ts_real_ns, ts);
	event__u64_text(m->ts_mono_ns, mono);
	if (!envelope__add_ref(ev, "oisp_version", "0.1", false) ||
	    !envelope__add_ref(ev, "event_id", id, false) ||
	    (m->type && !envelope__add_ref(ev, "event_type", m->type, false)) ||
	    !envelope__add_ref(ev, "ts", ts, false) ||
	    !envelope__add_ref(ev, "ts_mono", mono, true))
		goto out;
	for (i = 0; i < N_PARTS; i++) {
		if (s->json[i] &&
		    !envelope__add_ref(ev, part_names[i], s->json[i], true))
			goto out;
	}
	if (!envelope__add_related(ev, m->related_event_id, true))
		goto out;
	return envelope__print(b, ev, data);
out:
	cJSON_Delete(ev);
	return -ENOMEM;
}
