// SPDX-License-Identifier: MIT
/*
 * `oisp-sensor record FILE`: writes the raw capture records to FILE (see
 * recfile.h) until SIGINT/SIGTERM, for `replay`, tests and benchmarks.
 * capture.targets.exe, .comm and .cgroup select processes as for `run`;
 * k8s_namespace is refused, since record has no Kubernetes API client.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "lib/log.h"
#include "cmd/loop.h"
#include "lib/privs.h"
#include "capture/recfile.h"
#include "capture/target.h"

#define TICK_MS 50

struct rec {
	struct recfile_writer *w;
	struct capture *cap;
	struct target *target;		/* capture.targets.*, or NULL */
	uint64_t records;
	uint64_t bad_records;
	int err;
};

static int on_record(void *ctx, const void *data, size_t len)
{
	struct rec *r = ctx;
	int err = recfile__write(r->w, data, len);

	if (err == -EBADMSG) {
		r->bad_records++;	/* malformed: counted, not fatal */
		return 0;
	}
	if (err) {
		r->err = err;
		return err;
	}
	r->records++;
	return 0;
}

static int on_ring(void *ctx)
{
	struct rec *r = ctx;
	int n = capture__poll(r->cap);

	return r->err ? r->err : (n < 0 && n != -EINTR ? n : 0);
}

/* capture.targets.* of @cfg but k8s_namespace, which is refused;
 * r->target stays NULL when none is set.  Returns 0, -EINVAL (logged)
 * or -ENOMEM. */
static int make_target(struct rec *r, const struct config *cfg)
{
	if (cfg->target_k8s_namespace) {
		pr_err("capture.targets.k8s_namespace: not supported by record, "
		       "which has no Kubernetes API client (use exe, comm or "
		       "cgroup)");
		return -EINVAL;
	}
	return target__from_config(&r->target, cfg);
}

static int on_tick(void *ctx, uint64_t now)
{
	struct rec *r = ctx;

	capture__tick(r->cap, now);
	return on_ring(ctx);
}

int cmd_record(int argc, char **argv)
{
	struct recfile_info info = { .abi = CAP_ABI_VERSION };
	struct capture_opts co = { 0 };
	struct loop *loop = NULL;
	struct rec r = { 0 };
	struct cli_opts o;
	char errbuf[320];
	int ret, status = 1;

	ret = cli__parse_file(argc, argv, "record", &o);
	if (ret) {
		status = cli__exit_status(ret);
		goto out;
	}
	if (make_target(&r, &o.cfg)) {
		status = 2;
		goto out;
	}
	recfile__info_now(&info);
	ret = recfile__create(&r.w, o.file, &info, errbuf, sizeof(errbuf));
	if (ret) {
		pr_err("%s", errbuf);
		goto out;
	}
	capture__opts_from_config(&co, &o.cfg);
	co.target = r.target;
	privs__raise_nofile();
	ret = loop__new(&loop, TICK_MS);
	if (!ret)
		ret = capture__open(&r.cap, &co, on_record, &r);
	if (!ret)
		ret = loop__add(loop, capture__epoll_fd(r.cap), on_ring, &r);
	/* Files searched off the loop: probed as soon as they are done. */
	if (!ret && capture__identify_fd(r.cap) >= 0)
		ret = loop__add(loop, capture__identify_fd(r.cap), on_ring, &r);
	if (ret) {
		pr_err("could not start the BPF capture: %s", strerror(-ret));
		goto out;
	}
	loop__on_tick(loop, on_tick, &r);
	pr_info("ready: recording to %s%s", o.file,
		r.target ? " (targeted: capture.targets)" : "");
	ret = loop__run(loop);
	capture__poll(r.cap);
	if (ret || r.err) {
		pr_err("recording stopped: %s", strerror(-(ret ?: r.err)));
		goto out;
	}
	status = 0;
out:
	capture__close(r.cap);
	target__free(r.target);
	if (recfile__close_writer(r.w) && status == 0) {
		pr_err("%s: write failed", o.file);
		status = 1;
	}
	pr_info("%" PRIu64 " records written, %" PRIu64 " malformed skipped",
		r.records, r.bad_records);
	loop__free(loop);
	config__free(&o.cfg);
	return status;
}
