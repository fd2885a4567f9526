// SPDX-License-Identifier: MIT
/*
 * `oisp-sensor run`: attach to every OpenSSL on the host and write OISP
 * events until SIGINT/SIGTERM.  Start-up order: configuration, engine
 * (rules, output), status socket (a second sensor stops here), BPF
 * capture, then the loop.  Shutdown drains the ring buffer, completes
 * the messages in progress, and detaches every probe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "capture.h"
#include "cli.h"
#include "cmd.h"
#include "engine.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "pipeline.h"
#include "status.h"

#define TICK_MS			50
#define HOUSEKEEPING_NS		1000000000ULL

struct run {
	struct cli_opts o;
	struct engine *e;
	struct capture *cap;
	struct status_server *status;
	struct loop *loop;
	uint64_t start_ns, last_housekeeping;
};

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct run *r = ctx;

	pipeline__feed(r->e->pl, rec, len);
	return 0;
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
	if (now - r->last_housekeeping >= HOUSEKEEPING_NS) {
		r->last_housekeeping = now;
		capture__tick(r->cap, now);
		pipeline__tick(r->e->pl, now);
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

static int add_file(void *ctx, const char *path, __u64 dev, __u64 ino,
		    __u32 nprocs)
{
	cJSON *f = cJSON_CreateObject();

	if (!f)
		return -ENOMEM;
	cJSON_AddStringToObject(f, "path", path);
	cJSON_AddNumberToObject(f, "dev", (double)dev);
	cJSON_AddNumberToObject(f, "ino", (double)ino);
	cJSON_AddNumberToObject(f, "processes", nprocs);
	cJSON_AddItemToArray(ctx, f);
	return 0;
}

#define NUM(obj, name, val) cJSON_AddNumberToObject(obj, name, (double)(val))

static cJSON *status_capture(const struct run *r)
{
	struct capture_stats cs = { 0 };
	cJSON *root = cJSON_CreateObject(), *c, *a;

	capture__stats(r->cap, &cs);
	c = cJSON_AddObjectToObject(root, "capture");
	NUM(c, "calls", cs.kern.calls);
	NUM(c, "records", cs.kern.records);
	NUM(c, "bytes", cs.kern.bytes);
	NUM(c, "lost_records", cs.kern.lost_records);
	NUM(c, "lost_bytes", cs.kern.lost_bytes);
	NUM(c, "truncated_calls", cs.kern.truncated_calls);
	NUM(c, "truncated_bytes", cs.kern.truncated_bytes);
	NUM(c, "read_faults", cs.kern.read_faults);
	NUM(c, "lost_control", cs.kern.lost_control);
	a = cJSON_AddObjectToObject(root, "attach");
	NUM(a, "files", cs.files_attached);
	NUM(a, "ld_so", cs.ldso_attached);
	NUM(a, "processes", cs.procs_traced);
	NUM(a, "errors", cs.attach_errors);
	capture__for_each_file(r->cap, add_file,
			       cJSON_AddArrayToObject(a, "list"));
	return root;
}

static char *status_json(const struct run *r)
{
	struct pipeline_stats ps;
	struct output_stats os;
	cJSON *root, *o, *ev, *p;
	char *json;

	pipeline__stats(r->e->pl, &ps);
	output__stats(r->e->out, &os);
	root = status_capture(r);
	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "version", OISP_VERSION);
	NUM(root, "pid", getpid());
	NUM(root, "uptime_s", (double)(loop__now_ns() - r->start_ns) / 1e9);
	o = cJSON_AddObjectToObject(root, "output");
	cJSON_AddStringToObject(o, "path", output__path(r->e->out));
	NUM(o, "lines", os.lines);
	NUM(o, "bytes", os.bytes);
	NUM(o, "write_errors", os.write_errors);
	ev = cJSON_AddObjectToObject(root, "events");
	NUM(ev, "ai.request", ps.events_request);
	NUM(ev, "ai.response", ps.events_response);
	NUM(ev, "partial", ps.events_partial);
	NUM(ev, "redacted", ps.events_redacted);
	p = cJSON_AddObjectToObject(root, "pipeline");
	NUM(p, "records", ps.records);
	NUM(p, "bad_records", ps.bad_records);
	NUM(p, "connections", ps.connections);
	NUM(p, "connections_evicted", ps.connections_evicted);
	NUM(p, "connections_idle_closed", ps.connections_idle);
	NUM(p, "connections_not_http1", ps.connections_not_http1);
	NUM(p, "http_messages", ps.http_messages);
	NUM(p, "parse_errors", ps.parse_errors);
	NUM(p, "unmatched", ps.unmatched);
	NUM(p, "unpaired_responses", ps.unpaired_responses);
	NUM(p, "server_side_skipped", ps.server_side_skipped);
	NUM(p, "gaps", ps.gaps);
	NUM(p, "bodies_truncated", ps.bodies_truncated);
	NUM(p, "decode_errors", ps.decode_errors);
	NUM(p, "json_errors", ps.json_errors);
	NUM(p, "redaction_errors", ps.redaction_errors);
	NUM(p, "write_errors", ps.write_errors);
	json = cJSON_PrintUnformatted(root);
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

static int run_setup(struct run *r)
{
	struct capture_opts co = {
		.max_call_bytes = r->o.cfg.max_call_bytes,
		.ringbuf_bytes = r->o.cfg.ringbuf_bytes,
		.self_tgid = (__u32)getpid(),
	};
	int err;

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
	err = loop__new(&r->loop, TICK_MS);
	if (err)
		return err;
	err = capture__open(&r->cap, &co, on_record, r);
	if (err) {
		pr_err("could not start the BPF capture: %s", strerror(-err));
		return err;
	}
	err = loop__add(r->loop, capture__epoll_fd(r->cap), on_ring, r);
	if (!err)
		err = loop__add(r->loop, status__fd(r->status), on_status, r);
	if (err)
		return err;
	loop__on_tick(r->loop, on_tick, r);
	loop__on_hup(r->loop, on_hup, r);
	return 0;
}

static void run_teardown(struct run *r)
{
	if (r->cap)
		capture__poll(r->cap);
	if (r->e)
		engine__flush(r->e);
	capture__close(r->cap);
	status__close(r->status);
	loop__free(r->loop);
	engine__close(r->e);
	config__free(&r->o.cfg);
}

int cmd_run(int argc, char **argv)
{
	struct capture_stats cs = { 0 };
	struct run r = { 0 };
	int ret, status = 1;

	ret = cli__parse(argc, argv, "run", &r.o);
	if (ret) {
		status = ret > 0 ? 0 : 2;
		goto out;
	}
	r.start_ns = r.last_housekeeping = loop__now_ns();
	if (run_setup(&r))
		goto out;
	capture__stats(r.cap, &cs);
	pr_info("ready: %u OpenSSL files attached, writing events to %s",
		cs.files_attached, output__path(r.e->out));
	if (loop__run(r.loop) == 0)
		status = 0;
out:
	run_teardown(&r);
	return status;
}
