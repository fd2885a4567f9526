// SPDX-License-Identifier: MIT
/*
 * `oisp-sensor replay FILE`: the whole userspace pipeline on a capture
 * file written by `record`, offline, with no BPF and no root.  Events go
 * to stdout unless --output or a configuration file says otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "capture_abi.h"
#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "cmd/engine.h"
#include "event/output.h"
#include "lib/log.h"
#include "pipeline/pipeline.h"
#include "capture/recfile.h"

/* Idle timeouts run on the records' own clock, every this many records. */
#define TICK_EVERY	1024

/*
 * The longest the pipeline took over one step (a record, with the events
 * it completed; a tick; the final flush): how long the live sensor's
 * event loop would have stalled on it.  Logged at debug level, so that
 * `make bench` can measure it on the hostile captures.
 */
struct stall {
	uint64_t max_ns;
	uint64_t record;	/* 1-based; 0: the flush */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void stall_note(struct stall *s, uint64_t t0, uint64_t record)
{
	uint64_t d = mono_ns() - t0;

	if (d > s->max_ns) {
		s->max_ns = d;
		s->record = record;
	}
}

static void print_summary(const struct engine *e)
{
	struct output_stats os;
	struct pipeline_stats st;

	pipeline__stats(e->pl, &st);
	output__stats(e->out, &os);
	pr_info("replay: %" PRIu64 " records (%" PRIu64 " malformed), %"
		PRIu64 " HTTP messages, %" PRIu64 " ai.request and %" PRIu64
		" ai.response events, %" PRIu64 " partial, %" PRIu64
		" parse errors, %" PRIu64 " write errors",
		st.records, st.bad_records, st.http_messages,
		st.events_request, st.events_response, st.events_partial,
		st.parse_errors, st.write_errors);
	/* Only then: the line stays the same for captures within budget. */
	if (st.budget_shed_messages || st.budget_shed_connections)
		pr_info("replay: memory budget: %" PRIu64 " messages shed (%"
			PRIu64 " body bytes), %" PRIu64
			" connections closed, high water %" PRIu64 " of %"
			PRIu64 " bytes",
			st.budget_shed_messages, st.budget_shed_bytes,
			st.budget_shed_connections,
			st.memory_high_water_bytes, st.memory_budget_bytes);
	/*
	 * Lines held for one write(2) and then refused are the output's to
	 * count: the pipeline had handed them over.
	 */
	if (os.write_errors)
		pr_info("replay: %" PRIu64 " event lines not written (output.write_errors)",
			os.write_errors);
}

int cmd_replay(int argc, char **argv)
{
	struct recfile_reader *r = NULL;
	struct recfile_info info;
	struct engine *e = NULL;
	struct stall stall = { 0 };
	struct cli_opts o;
	const void *rec;
	uint64_t n = 0, t0;
	char err[512];
	size_t len;
	int ret, status = 1;
	bool timed;

	ret = cli__parse_file(argc, argv, "replay", &o);
	if (ret) {
		status = cli__exit_status(ret);
		goto out;
	}
	if (!o.output_set && !o.config_set)
		config__set(&o.cfg, "output.path", "-", err, sizeof(err));
	ret = recfile__open(&r, o.file, &info, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		goto out;
	}
	ret = engine__open(&e, &o.cfg, false, info.realtime_offset_ns);
	if (ret)
		goto out;
	/* Two clock reads a record cost more than many records' work. */
	timed = log__enabled(LOG_DEBUG);
	while ((ret = recfile__next(r, &rec, &len, err, sizeof(err))) == 1) {
		t0 = timed ? mono_ns() : 0;
		pipeline__feed(e->pl, rec, len);
		if (++n % TICK_EVERY == 0)
			pipeline__tick(e->pl,
				       ((const struct cap_hdr *)rec)->ts_ns);
		if (timed)
			stall_note(&stall, t0, n);
	}
	t0 = mono_ns();
	engine__flush(e);
	stall_note(&stall, t0, 0);
	print_summary(e);
	pr_debug("replay: longest step %.3f ms (%s %" PRIu64 ")",
		 (double)stall.max_ns / 1e6,
		 stall.record ? "record" : "flush", stall.record);
	if (ret < 0) {
		pr_err("%s", err);
		goto out;
	}
	status = 0;
out:
	engine__close(e);
	recfile__close_reader(r);
	config__free(&o.cfg);
	return status;
}
