// SPDX-License-Identifier: MIT
/*
 * The pipeline: capture records in, events out.  See pipeline.h for the
 * contract.  Three parts do the work, each in its own file:
 *   conn.c      the connection table and stream reassembly: records to
 *               a wire protocol (proto/proto.h) per connection, gaps
 *   pair.c      request/response pairing on each connection
 *   assemble.c  event assembly: the OISP event of each reported message
 * This file only dispatches the records and owns the parts.
 */
#include <errno.h>
#include <stdlib.h>

#include "capture_abi.h"
#include "capture/record.h"
#include "lib/budget.h"
#include "meta/procinfo.h"
#include "pipeline/assemble.h"
#include "pipeline/conn.h"
#include "pipeline/pipeline.h"

struct pipeline {
	struct pipeline_opts o;
	struct pipeline_stats st;
	struct budget *budget;
	struct assembler *as;
	struct conns *conns;
};

int pipeline__feed(struct pipeline *p, const void *rec, size_t len)
{
	const struct cap_hdr *h = rec;
	const struct cap_data *d = rec;

	p->st.records++;
	if (record__check(rec, len)) {
		p->st.bad_records++;
		return -EBADMSG;
	}
	switch (h->kind) {
	case CAP_KIND_DATA:
		if (d->call_len > p->st.largest_call_bytes)
			p->st.largest_call_bytes = d->call_len;
		return conns__data(p->conns, rec);
	case CAP_KIND_EXEC:
		conns__exec(p->conns, h->tgid, h->ts_ns);
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
		conns__freed(p->conns, h->tgid,
			     ((const struct cap_free *)rec)->conn);
		return 0;
	case CAP_KIND_EXIT:
		conns__exit(p->conns, h->tgid);
		if (p->o.procinfo)
			procinfo__forget(p->o.procinfo, h->tgid);
		return 0;
	default:
		return 0;
	}
}

void pipeline__tick(struct pipeline *p, uint64_t now_ns)
{
	conns__tick(p->conns, now_ns);
}

void pipeline__flush(struct pipeline *p)
{
	conns__close_all(p->conns);
}

void pipeline__stats(const struct pipeline *p, struct pipeline_stats *st)
{
	struct budget_stats bs;

	*st = p->st;
	conns__stats(p->conns, st);
	budget__stats(p->budget, &bs);
	st->memory_bytes = bs.used;
	st->memory_high_water_bytes = bs.high;
	st->memory_budget_bytes = bs.limit;
	st->budget_shed_messages = bs.shed_messages;
	st->budget_shed_bytes = bs.shed_bytes;
	st->budget_shed_connections = bs.shed_connections;
}

void pipeline__on_ignore(struct pipeline *p, pipeline_ignore_fn fn,
			 void *ctx)
{
	conns__on_ignore(p->conns, fn, ctx);
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
	if (!p->o.memory_budget_bytes)
		p->o.memory_budget_bytes = 256u << 20;
	err = budget__new(&p->budget, p->o.memory_budget_bytes);
	if (err)
		goto err_free;
	err = assembler__new(&p->as, &p->o, &p->st, p->budget);
	if (err)
		goto err_budget;
	err = conns__new(&p->conns, &p->o, &p->st, p->as, p->budget);
	if (err)
		goto err_as;
	*out = p;
	return 0;

err_as:
	assembler__free(p->as);
err_budget:
	budget__free(p->budget);
err_free:
	free(p);
	return err;
}

void pipeline__free(struct pipeline *p)
{
	if (!p)
		return;
	conns__free(p->conns);
	assembler__free(p->as);
	budget__free(p->budget);
	free(p);
}
