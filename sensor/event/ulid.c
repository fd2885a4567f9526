// SPDX-License-Identifier: MIT
/*
 * ULID generation, following the ULID spec (https://github.com/ulid/spec):
 * 48-bit big-endian ms time, 80 random bits, Crockford base32.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "event/ulid.h"

struct ulid_gen {
	uint64_t last_ms;
	bool have_last;
	uint8_t rnd[10];	/* big-endian 80-bit random part of the last ID */
	uint64_t sm_state;	/* splitmix64, only when getrandom fails */
};

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* getrandom(2) that retries EINTR and short reads. */
static int fill_random(void *buf, size_t len, unsigned int flags)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = getrandom(p, len, flags);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ulid__new(struct ulid_gen **out)
{
	struct ulid_gen *g;
	int err;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	err = fill_random(&g->sm_state, sizeof(g->sm_state), 0);
	if (err) {
		free(g);
		return err;
	}
	*out = g;
	return 0;
}

/* Never blocks: the entropy pool can be uninitialised early at boot. */
static void new_random(struct ulid_gen *g)
{
	uint64_t a, b;

	if (fill_random(g->rnd, sizeof(g->rnd), GRND_NONBLOCK) == 0)
		return;
	a = splitmix64(&g->sm_state);
	b = splitmix64(&g->sm_state);
	memcpy(g->rnd, &a, 8);
	memcpy(g->rnd + 8, &b, 2);
}

/* Adds one to the 80-bit random part; true on overflow (wrapped to 0). */
static bool increment_random(struct ulid_gen *g)
{
	int i;

	for (i = (int)sizeof(g->rnd) - 1; i >= 0; i--) {
		if (++g->rnd[i] != 0)
			return false;
	}
	return true;
}

void ulid__next(struct ulid_gen *g, uint64_t unix_ms, char out[ULID_BUF])
{
	unsigned __int128 v = 0;
	int i;

	unix_ms &= 0xffffffffffffULL;
	if (g->have_last && unix_ms == g->last_ms) {
		if (increment_random(g))
			unix_ms = (unix_ms + 1) & 0xffffffffffffULL;
	} else {
		new_random(g);
	}
	g->last_ms = unix_ms;
	g->have_last = true;

	/* 48 bits of time, then the 80 random bits, big-endian. */
	v = unix_ms;
	for (i = 0; i < (int)sizeof(g->rnd); i++)
		v = v << 8 | g->rnd[i];
	/* 128 bits as 26 groups of 5 bits: the first group holds 3 bits. */
	for (i = 0; i < ULID_LEN; i++)
		out[i] = crockford[(unsigned int)(v >> (125 - 5 * i)) & 31];
	out[ULID_LEN] = '\0';
}

void ulid__free(struct ulid_gen *g)
{
	free(g);
}
