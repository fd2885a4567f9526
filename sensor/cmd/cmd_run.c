// SPDX-License-Identifier: MIT
/*
 * `oisp-sensor run`: attach to every OpenSSL on the host and write OISP
 * events until SIGINT/SIGTERM.  Start-up order: configuration, the
 * single-instance lock (a second sensor stops here, before it touches
 * anything), capabilities limited to privs.h's PRIVS_RUN | PRIVS_SETUP
 * (before any thread starts), engine (rules, output), status socket,
 * BPF capture, then PRIVS_RUN only, then the loop.  Shutdown drains the
 * ring buffer, completes the messages in progress, and detaches every
 * probe.
 *
 * With metrics.enabled, the metrics endpoint (metrics.h) is bound after
 * the status socket and served from the same loop; /readyz turns 200
 * once the capture is attached.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "capture/capture.h"
#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "cmd/engine.h"
#include "lib/heap.h"
#include "meta/k8s.h"
#include "lib/log.h"
#include "cmd/loop.h"
#include "serve/metrics.h"
#include "serve/metrics_acl.h"
#include "serve/metrics_families.h"
#include "event/output.h"
#include "pipeline/pipeline.h"
#include "lib/privs.h"
#include "serve/stats.h"
#include "serve/status.h"
#include "capture/target.h"

#define TICK_MS			50
#define HOUSEKEEPING_NS		1000000000ULL

struct run {
	struct cli_opts o;
	struct engine *e;
	struct capture *cap;
	struct status_server *status;
	struct metrics *metrics;	/* NULL unless metrics.enabled */
	struct loop *loop;
	struct target *target;		/* capture.targets.*, or NULL */
	int lock_fd;			/* status__lock(), -1 if not held */
	uint64_t start_ns, last_housekeeping;
};

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct run *r = ctx;
	const struct cap_free *f = rec;

	pipeline__feed(r->e->pl, rec, len);
	/*
	 * A skip decided on the records before a connection's end, or when
	 * the end closed it (just now), was that connection's: the kernel
	 * ignores it too (conn_ends), unless that end left its LRU map.
	 */
	if (len >= sizeof(*f) && f->hdr.kind == CAP_KIND_FREE)
		capture__unskip_conn(r->cap, f->hdr.tgid, f->conn);
	return 0;
}

/* The pipeline ignores this connection: stop copying it in the kernel. */
static void on_ignore(void *ctx, uint32_t tgid, uint64_t conn, uint64_t last_ns)
{
	struct run *r = ctx;
	int err = capture__skip_conn(r->cap, tgid, conn, last_ns);

	/* Nothing is lost: its records keep coming and are dropped here. */
	if (err)
		pr_debug("skip connection %u/%#llx: %s", tgid,
			 (unsigned long long)conn, strerror(-err));
}

static int on_ring(void *ctx)
{
	struct run *r = ctx;
	int n = capture__poll(r->cap);

	return n < 0 && n != -EINTR ? n : 0;
}

static int on_tick(void *ctx, uint64_t now)
{
	struct run *r = ctx;
	int err = on_ring(r);

	if (err)
		return err;
	if (r->metrics) {
		metrics__heartbeat(r->metrics, now);
		/* Connection timeouts and work MHD left pending. */
		metrics__run(r->metrics);
	}
	if (now - r->last_housekeeping >= HOUSEKEEPING_NS) {
		r->last_housekeeping = now;
		capture__tick(r->cap, now);
		pipeline__tick(r->e->pl, now);
		output__check(r->e->out);
	}
	return 0;
}

static int on_hup(void *ctx)
{
	struct run *r = ctx;
	int err = output__reopen(r->e->out);

	if (err)
		pr_err("reopening %s: %s", output__path(r->e->out),
		       strerror(-err));
	return 0;
}

/*
 * "identifying": {"since": RFC 3339 UTC time the search began, "s": its
 * seconds so far} for a file searched off the loop; left out without
 * memory.
 */
static void add_identifying(cJSON *f, const struct attach_file *af)
{
	time_t sec = (time_t)(af->identifying_since_ns / 1000000000ULL);
	unsigned int ms = (af->identifying_since_ns / 1000000ULL) % 1000;
	struct timespec now;
	char buf[64];
	struct tm tm;
	cJSON *o;
	double s;

	clock_gettime(CLOCK_REALTIME, &now);
	s = (double)now.tv_sec + (double)now.tv_nsec / 1e9 -
	    (double)af->identifying_since_ns / 1e9;
	o = cJSON_AddObjectToObject(f, "identifying");
	if (!o || !gmtime_r(&sec, &tm))
		return;
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ms);
	cJSON_AddStringToObject(o, "since", buf);
	cJSON_AddNumberToObject(o, "s", s > 0 ? s : 0);
}

/* The arrays of "attach": the files, and those being identified. */
struct file_lists {
	cJSON *list, *identifying;
};

static int add_file(void *ctx, const struct attach_file *af)
{
	struct file_lists *l = ctx;
	cJSON *f = cJSON_CreateObject();

	if (!f)
		return -ENOMEM;
	cJSON_AddStringToObject(f, "path", af->path);
	cJSON_AddNumberToObject(f, "dev", (double)af->dev);
	cJSON_AddNumberToObject(f, "ino", (double)af->ino);
	cJSON_AddNumberToObject(f, "processes", af->nprocs);
	if (af->aliases)
		cJSON_AddNumberToObject(f, "aliases", af->aliases);
	if (af->identifying_since_ns)
		add_identifying(f, af);
	/* Nothing known yet: listed apart, not as a stack's file. */
	if (!af->stack) {
		if (!cJSON_AddItemToArray(l->identifying, f))
			cJSON_Delete(f);
		return 0;
	}
	cJSON_AddStringToObject(f, "stack", af->stack);
	if (af->skipped)
		cJSON_AddStringToObject(f, "skipped", af->skipped);
	if (af->found)
		cJSON_AddStringToObject(f, "found", af->found);
	if (!cJSON_AddItemToArray(l->list, f))
		cJSON_Delete(f);
	return 0;
}

#define NUM(obj, name, val) cJSON_AddNumberToObject(obj, name, (double)(val))

/*
 * "capture" (the table's rows), "capture_by_stack" (each TLS stack's
 * share, by tls_stack.label) and "attach" (how, and the files).
 */
static int status_capture(const struct run *r, cJSON *root)
{
	struct capture_stats cs = { 0 };
	struct file_lists l;
	cJSON *c, *a, *by;
	unsigned int i;

	capture__stats(r->cap, &cs);
	c = cJSON_AddObjectToObject(root, "capture");
	if (!c || stats__to_json(c, &stats_capture, &cs))
		return -ENOMEM;
	by = cJSON_AddObjectToObject(root, "capture_by_stack");
	for (i = 0; by && i < CAP_STACK_NR; i++) {
		if (!cs.stack_label[i])
			continue;
		c = cJSON_AddObjectToObject(by, cs.stack_label[i]);
		if (!c || stats__to_json(c, &stats_capture_stack, &cs.stack[i]))
			return -ENOMEM;
	}
	if (!by)
		return -ENOMEM;
	a = cJSON_AddObjectToObject(root, "attach");
	if (!a)
		return -ENOMEM;
	cJSON_AddStringToObject(a, "mode", cs.multi ? "uprobe_multi"
							 : "perf-event");
	cJSON_AddBoolToObject(a, "targeted", cs.targeted);
	/* capture.rustls_sockets as chosen, and whether a rustls file made it attach */
	cJSON_AddStringToObject(a, "rustls_sockets",
				cs.rustls_fd ? "syscalls" : "tracepoints");
	cJSON_AddBoolToObject(a, "rustls_attached", cs.rustls_attached);
	/* A file that does not fit in memory is left out of the list. */
	l.list = cJSON_AddArrayToObject(a, "list");
	l.identifying = cJSON_AddArrayToObject(a, "identifying");
	capture__for_each_file(r->cap, add_file, &l);
	return 0;
}

static int status_k8s(cJSON *root, struct k8s *k)
{
	struct k8s_stats ks;
	cJSON *o = cJSON_AddObjectToObject(root, "kubernetes");

	k8s__stats(k, &ks);
	if (!o || stats__to_json(o, &stats_kubernetes, &ks))
		return -ENOMEM;
	if (ks.last_error[0])
		cJSON_AddStringToObject(o, "last_error", ks.last_error);
	return 0;
}

static int status_output(const struct run *r, cJSON *root)
{
	struct output_stats os;
	cJSON *o = cJSON_AddObjectToObject(root, "output");

	output__stats(r->e->out, &os);
	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "path", output__path(r->e->out));
	if (stats__to_json(o, &stats_output, &os))
		return -ENOMEM;
	if (os.last_errno)
		cJSON_AddStringToObject(o, "last_error",
					strerror(os.last_errno));
	return 0;
}

/*
 * "config": {KEY: {"value": TEXT or null, "source": "default", "file",
 * "env" or "flag"}} for every key, so that an operator sees which layer
 * set what.
 */
static int status_config(const struct config *c, cJSON *root)
{
	cJSON *cfg = cJSON_AddObjectToObject(root, "config"), *k;
	struct config_key key;
	char *text;
	size_t i;
	int n;

	if (!cfg)
		return -ENOMEM;
	for (i = 0; !config__key(i, &key); i++) {
		k = cJSON_AddObjectToObject(cfg, key.key);
		if (!k)
			return -ENOMEM;
		n = config__format(c, i, NULL, 0);
		if (n < 0) {
			cJSON_AddNullToObject(k, "value");
		} else {
			text = malloc((size_t)n + 1);
			if (!text)
				return -ENOMEM;
			config__format(c, i, text, (size_t)n + 1);
			cJSON_AddStringToObject(k, "value", text);
			free(text);
		}
		if (!cJSON_AddStringToObject(k, "source", config__source(c, i)))
			return -ENOMEM;
	}
	return 0;
}

/* The status document (status.h); NULL when out of memory. */
static char *status_json(const struct run *r)
{
	struct pipeline_stats ps;
	cJSON *root, *p;
	char *json = NULL;

	pipeline__stats(r->e->pl, &ps);
	root = cJSON_CreateObject();
	if (!root || status_capture(r, root))
		goto out;
	cJSON_AddStringToObject(root, "version", OISP_VERSION);
	NUM(root, "pid", getpid());
	NUM(root, "uptime_s", (double)(loop__now_ns() - r->start_ns) / 1e9);
	if (status_output(r, root) || status_config(&r->o.cfg, root))
		goto out;
	if (r->e->k8s && status_k8s(root, r->e->k8s))
		goto out;
	p = cJSON_AddObjectToObject(root, "pipeline");
	if (!p || stats__to_json(p, &stats_pipeline, &ps))
		goto out;
	json = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return json;
}

static int on_status(void *ctx)
{
	struct run *r = ctx;
	char *json = status_json(r);
	int err;

	if (!json)
		return 0;
	do {
		err = status__serve(r->status, json);
	} while (err == 0);
	free(json);
	return 0;
}

static int on_metrics(void *ctx)
{
	struct run *r = ctx;

	metrics__run(r->metrics);
	return 0;
}

/* The AI counters the pipeline keeps (NULL until the engine has them). */
static const struct aistats *run_aistats(const struct run *r)
{
	return r->e->aistats;
}

/* Called by the metrics endpoint, on the loop thread, for each scrape. */
static int render_metrics(void *ctx, struct metrics_text *t)
{
	const struct run *r = ctx;
	struct capture_stats cs = { 0 };
	struct pipeline_stats ps;
	struct output_stats os;
	struct k8s_stats ks = { 0 };
	struct metrics_sources src = {
		.pipeline = &ps,
		.output = &os,
		.capture = &cs,
		.k8s = r->e->k8s ? &ks : NULL,
		.ai = run_aistats(r),
		.uptime_s = (double)(loop__now_ns() - r->start_ns) / 1e9,
	};

	pipeline__stats(r->e->pl, &ps);
	output__stats(r->e->out, &os);
	if (r->e->k8s)
		k8s__stats(r->e->k8s, &ks);
	if (!r->cap || capture__stats(r->cap, &cs))
		src.capture = NULL;
	return metrics__render(t, &src);
}

/*
 * The allow-list is checked before anything is opened, so that a bad
 * entry stops the sensor with nothing created.
 */
static int check_metrics_config(const struct config *cfg)
{
	struct metrics_acl *acl = NULL;
	char err[256];
	int ret;

	if (!cfg->metrics_enabled || !cfg->metrics_allowed_ips)
		return 0;
	ret = metrics_acl__parse(&acl, cfg->metrics_allowed_ips, err,
				 sizeof(err));
	if (ret)
		pr_err("metrics.allowed_ips: %s", err);
	metrics_acl__free(acl);
	return ret;
}

static int start_metrics(struct run *r)
{
	struct metrics_opts mo = {
		.address = r->o.cfg.metrics_address,
		.port = r->o.cfg.metrics_port,
		.allowed_ips = r->o.cfg.metrics_allowed_ips,
		.render = render_metrics,
		.ctx = r,
	};
	char err[512];
	int ret;

	if (!r->o.cfg.metrics_enabled)
		return 0;
	ret = metrics__start(&r->metrics, &mo, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	pr_info("metrics endpoint on %s port %u (/metrics, /healthz, /readyz)",
		mo.address, metrics__port(r->metrics));
	return 0;
}

/*
 * One sensor per runtime directory (status.h): taken first, so that a
 * second sensor stops before it opens, binds or attaches anything.
 */
static int take_lock(struct run *r)
{
	char path[4096];
	long holder;
	int err;

	err = status__lock(r->o.cfg.status_socket, &r->lock_fd, &holder, path,
			   sizeof(path));
	if (err == -EADDRINUSE && holder)
		pr_err("another oisp-sensor is running: pid %ld holds %s",
		       holder, path);
	else if (err == -EADDRINUSE)
		pr_err("another oisp-sensor is running: %s is locked", path);
	else if (err)
		pr_err("lock file %s: %s", path[0] ? path : "(none)",
		       strerror(-err));
	return err;
}

/*
 * Limits the capabilities to @keep (privs.h).  Failing to drop is
 * logged, not fatal: the sensor then runs with more than it needs, as
 * it did before this step existed.
 */
static void limit_privs(uint64_t keep, bool no_new_privs, const char *when)
{
	struct privs_state ps;
	char names[512];
	bool bnd_kept;
	int err;

	err = privs__limit(keep, no_new_privs, &bnd_kept);
	if (err) {
		pr_warn("capabilities: could not drop those not needed %s: %s",
			when, strerror(-err));
		return;
	}
	if (privs__get(&ps))
		return;
	privs__names(ps.effective, names, sizeof(names));
	pr_info("capabilities %s: %s", when, names);
	if (bnd_kept)
		pr_debug("capabilities: bounding set left as is (no CAP_SETPCAP)");
}

/* target_ns_fn for capture.targets.k8s_namespace: the engine's pod list. */
static int pod_namespace(void *ctx, const char *pod_uid, char *ns, size_t len)
{
	struct run *r = ctx;
	struct k8s_pod pod;
	int err;

	err = k8s__lookup(r->e->k8s, pod_uid, &pod);
	if (err)
		return err;
	snprintf(ns, len, "%s", pod.namespace);
	k8s_pod__clear(&pod);
	return 0;
}

/* capture.targets.*: NULL when none is set (every process is traced). */
static int make_target(struct run *r)
{
	int ret = target__from_config(&r->target, &r->o.cfg);

	if (!ret && r->target)
		target__set_ns_lookup(r->target, pod_namespace, r);
	return ret;
}

static int run_setup(struct run *r)
{
	struct capture_opts co;
	int err;

	capture__opts_from_config(&co, &r->o.cfg);
	err = check_metrics_config(&r->o.cfg);
	if (!err)
		err = make_target(r);
	if (err)
		return err;
	co.target = r->target;
	err = take_lock(r);
	if (err)
		return err;
	limit_privs(PRIVS_RUN | PRIVS_SETUP, false, "during start-up");
	privs__raise_nofile();
	err = engine__open(&r->e, &r->o.cfg, true, engine__realtime_offset());
	if (err)
		return err;
	err = status__listen(&r->status, r->o.cfg.status_socket);
	if (err == -EADDRINUSE) {
		pr_err("another oisp-sensor is running (its status socket %s answers)",
		       r->o.cfg.status_socket);
		return err;
	}
	if (err) {
		pr_err("status socket %s: %s", r->o.cfg.status_socket,
		       strerror(-err));
		return err;
	}
	err = start_metrics(r);
	if (err)
		return err;
	err = loop__new(&r->loop, TICK_MS);
	if (err)
		return err;
	err = capture__open(&r->cap, &co, on_record, r);
	if (err) {
		pr_err("could not start the BPF capture: %s", strerror(-err));
		return err;
	}
	pipeline__on_ignore(r->e->pl, on_ignore, r);
	/* Attaching files of new processes needs these later. */
	limit_privs(capture__multi(r->cap) ? PRIVS_RUN_MULTI : PRIVS_RUN, true,
		    "once attached");
	/* After the drop: its worker thread inherits only what is kept. */
	err = engine__start_k8s(r->e, &r->o.cfg);
	if (err)
		return err;
	err = loop__add(r->loop, capture__epoll_fd(r->cap), on_ring, r);
	/* Files searched off the loop: probed as soon as they are done. */
	if (!err && capture__identify_fd(r->cap) >= 0)
		err = loop__add(r->loop, capture__identify_fd(r->cap), on_ring,
				r);
	if (!err)
		err = loop__add(r->loop, status__fd(r->status), on_status, r);
	if (!err && r->metrics)
		err = loop__add(r->loop, metrics__fd(r->metrics), on_metrics, r);
	if (err)
		return err;
	loop__on_tick(r->loop, on_tick, r);
	loop__on_hup(r->loop, on_hup, r);
	return 0;
}

static void run_teardown(struct run *r)
{
	metrics__stop(r->metrics);
	r->metrics = NULL;
	if (r->cap)
		capture__poll(r->cap);
	if (r->e)
		engine__flush(r->e);
	capture__close(r->cap);
	target__free(r->target);
	status__close(r->status);
	loop__free(r->loop);
	engine__close(r->e);
	status__unlock(r->lock_fd);
	config__free(&r->o.cfg);
}

int cmd_run(int argc, char **argv)
{
	struct capture_stats cs = { 0 };
	struct run r = { .lock_fd = -1 };
	int ret, status = 1;

	ret = cli__parse(argc, argv, "run", &r.o);
	if (ret) {
		status = cli__exit_status(ret);
		goto out;
	}
	r.start_ns = r.last_housekeeping = loop__now_ns();
	if (run_setup(&r))
		goto out;
	capture__stats(r.cap, &cs);
	pr_info("ready: %" PRIu64 " OpenSSL files attached, writing events to %s",
		cs.files_attached, output__path(r.e->out));
	heap__release();
	if (r.metrics)
		metrics__set_ready(r.metrics, true);
	if (loop__run(r.loop) == 0)
		status = 0;
out:
	run_teardown(&r);
	return status;
}
