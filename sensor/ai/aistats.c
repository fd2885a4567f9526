// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ai/aistats.h"
#include "lib/utf8.h"

/*
 * Series live in an array, in creation order (so the rendering is
 * stable from scrape to scrape); an open-addressing table of indexes
 * finds them by key.  The table never shrinks: AI series, like
 * Prometheus series, live as long as the process.
 */
struct entry {
	struct aistats_series s;
	uint64_t hash;
	char *key;		/* provider\0model\0ns\0, owns the strings */
};

struct aistats {
	struct entry *e;
	size_t n, alloc, cap;	/* used, allocated, hard cap (max + reserve) */
	size_t max;		/* series before folding */
	uint32_t *idx;		/* slot -> entry index + 1; 0 empty */
	size_t nslots;		/* power of two, > 2 * cap */
	uint64_t folded;
	struct aistats_series overflow;	/* the catch-all */
};

static const double latency_bounds[AISTATS_LATENCY_BUCKETS] = {
	0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300,
};

const double *aistats__latency_bounds(void)
{
	return latency_bounds;
}

int aistats__new(struct aistats **out, size_t max_series)
{
	struct aistats *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->max = max_series ?: AISTATS_DEF_MAX_SERIES;
	st->cap = st->max + AISTATS_FOLD_RESERVE;
	for (st->nslots = 64; st->nslots <= 2 * st->cap; st->nslots *= 2)
		;
	st->idx = calloc(st->nslots, sizeof(*st->idx));
	if (!st->idx) {
		free(st);
		return -ENOMEM;
	}
	st->overflow.provider = AISTATS_OTHER;
	st->overflow.model = AISTATS_OTHER;
	st->overflow.ns = AISTATS_OTHER;
	*out = st;
	return 0;
}

/* Bytes of @s kept: at most AISTATS_MAX_VALUE, not inside a UTF-8 char. */
static size_t value_len(const char *s)
{
	size_t n = strnlen(s, AISTATS_MAX_VALUE + 1);

	if (n <= AISTATS_MAX_VALUE)
		return n;
	return utf8__cut(s, AISTATS_MAX_VALUE);
}

struct key {
	const char *v[3];
	size_t len[3];
	uint64_t hash;
};

/* FNV-1a over the three values, each followed by a NUL. */
static void key_init(struct key *k, const char *provider, const char *model,
		     const char *ns)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i, j;

	k->v[0] = provider && *provider ? provider : AISTATS_OTHER;
	k->v[1] = model && *model ? model : AISTATS_UNKNOWN_MODEL;
	k->v[2] = ns ?: "";
	for (i = 0; i < 3; i++) {
		k->len[i] = value_len(k->v[i]);
		for (j = 0; j <= k->len[i]; j++) {
			h ^= j < k->len[i] ? (unsigned char)k->v[i][j] : 0;
			h *= 0x100000001b3ULL;
		}
	}
	k->hash = h;
}

static bool key_eq(const struct entry *e, const struct key *k)
{
	const char *p = e->key;
	size_t i;

	if (e->hash != k->hash)
		return false;
	for (i = 0; i < 3; i++) {
		if (strlen(p) != k->len[i] || memcmp(p, k->v[i], k->len[i]))
			return false;
		p += k->len[i] + 1;
	}
	return true;
}

/* The slot holding @k, or the empty slot where it would go. */
static size_t slot_of(const struct aistats *st, const struct key *k)
{
	size_t mask = st->nslots - 1, i = k->hash & mask;

	while (st->idx[i] && !key_eq(&st->e[st->idx[i] - 1], k))
		i = (i + 1) & mask;
	return i;
}

static int entry_add(struct aistats *st, const struct key *k, size_t slot)
{
	size_t total = k->len[0] + k->len[1] + k->len[2] + 3, i;
	struct entry *e, *grown;
	size_t alloc;
	char *p;

	if (st->n == st->cap)
		return -ENOSPC;
	if (st->n == st->alloc) {
		alloc = st->alloc ? 2 * st->alloc : 16;
		if (alloc > st->cap)
			alloc = st->cap;
		grown = realloc(st->e, alloc * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		st->e = grown;
		st->alloc = alloc;
	}
	p = malloc(total);
	if (!p)
		return -ENOMEM;
	e = &st->e[st->n];
	memset(e, 0, sizeof(*e));
	e->key = p;
	e->hash = k->hash;
	for (i = 0; i < 3; i++) {
		memcpy(p, k->v[i], k->len[i]);
		p[k->len[i]] = '\0';
		if (i == 0)
			e->s.provider = p;
		else if (i == 1)
			e->s.model = p;
		else
			e->s.ns = p;
		p += k->len[i] + 1;
	}
	st->idx[slot] = (uint32_t)++st->n;
	return 0;
}

/*
 * The series for the key, created if there is room; when the table is
 * full the call is folded (see aistats.h).  Never NULL for a non-NULL
 * @st; *@err gets -ENOMEM when the catch-all was used for lack of memory.
 */
static struct aistats_series *series_get(struct aistats *st,
					 const char *provider,
					 const char *model, const char *ns,
					 int *err)
{
	struct key k;
	size_t slot;
	int ret;

	*err = 0;
	key_init(&k, provider, model, ns);
	slot = slot_of(st, &k);
	if (st->idx[slot])
		return &st->e[st->idx[slot] - 1].s;
	if (st->n < st->max) {
		ret = entry_add(st, &k, slot);
		if (!ret)
			return &st->e[st->n - 1].s;
		*err = ret;
		return &st->overflow;
	}
	st->folded++;
	key_init(&k, provider, AISTATS_OTHER, ns);
	slot = slot_of(st, &k);
	if (st->idx[slot])
		return &st->e[st->idx[slot] - 1].s;
	ret = entry_add(st, &k, slot);
	if (!ret)
		return &st->e[st->n - 1].s;
	if (ret == -ENOMEM)
		*err = ret;
	return &st->overflow;
}

int aistats__record_request(struct aistats *st, const char *provider,
			    const char *model, const char *ns)
{
	struct aistats_series *s;
	int err;

	if (!st)
		return 0;
	s = series_get(st, provider, model, ns, &err);
	s->requests++;
	return err;
}

int aistats__record_response(struct aistats *st, const char *provider,
			     const char *model, const char *ns, bool success,
			     uint64_t prompt_tokens, uint64_t completion_tokens,
			     double latency_ms)
{
	struct aistats_series *s;
	double sec;
	size_t i;
	int err;

	if (!st)
		return 0;
	s = series_get(st, provider, model, ns, &err);
	if (success)
		s->responses_ok++;
	else
		s->responses_err++;
	s->prompt_tokens += prompt_tokens;
	s->completion_tokens += completion_tokens;
	if (latency_ms >= 0) {
		sec = latency_ms / 1000.0;
		for (i = 0; i < AISTATS_LATENCY_BUCKETS; i++)
			if (sec <= latency_bounds[i])
				break;
		s->latency[i]++;
		s->latency_count++;
		s->latency_sum_s += sec;
	}
	return err;
}

int aistats__for_each(const struct aistats *st,
		      int (*cb)(void *ctx, const struct aistats_series *s),
		      void *ctx)
{
	const struct aistats_series *o;
	size_t i;
	int ret;

	if (!st)
		return 0;
	for (i = 0; i < st->n; i++) {
		ret = cb(ctx, &st->e[i].s);
		if (ret)
			return ret;
	}
	o = &st->overflow;
	if (o->requests || o->responses_ok || o->responses_err)
		return cb(ctx, o);
	return 0;
}

size_t aistats__count(const struct aistats *st)
{
	return st ? st->n : 0;
}

uint64_t aistats__folded(const struct aistats *st)
{
	return st ? st->folded : 0;
}

void aistats__free(struct aistats *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->n; i++)
		free(st->e[i].key);
	free(st->e);
	free(st->idx);
	free(st);
}
