// SPDX-License-Identifier: MIT
/*
 * uprobe.c - uprobe_multi or perf-event uprobe links (see uprobe.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lib/log.h"
#include "capture/uprobe.h"
#include "capture/kbtf.h"

/* From Linux 6.6's include/uapi/linux/bpf.h, absent from older headers. */
#define UPROBE_BPF_TRACE_UPROBE_MULTI	48
#define UPROBE_BPF_F_UPROBE_MULTI_RETURN	1u
#define UPROBE_MAX_OFFS		32
#define UPROBE_FREE_THREADS	32

/* union bpf_attr as BPF_LINK_CREATE reads it for uprobe_multi links. */
struct uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 pad;
};
_Static_assert(sizeof(struct uprobe_multi_attr) == 64, "link_create attr");

struct uprobe_link {
	int fd;				/* uprobe_multi link, or -1 */
	__u32 nlinks;			/* perf-event links */
	struct bpf_link *links[UPROBE_MAX_OFFS];
};

bool uprobe__multi_ok(void)
{
	return kbtf__has_type("bpf_uprobe_multi_link", BTF_KIND_STRUCT);
}

int uprobe__prepare(struct bpf_program *prog, bool multi)
{
	return bpf_program__set_expected_attach_type(prog,
		multi ? (enum bpf_attach_type)UPROBE_BPF_TRACE_UPROBE_MULTI : 0);
}

static int attach_multi(struct uprobe_link *l, const struct bpf_program *prog,
			bool retprobe, const char *path, const __u64 *offs,
			const __u64 *cookies, __u32 cnt, int pid)
{
	struct uprobe_multi_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)bpf_program__fd(prog);
	attr.attach_type = UPROBE_BPF_TRACE_UPROBE_MULTI;
	attr.path = (__u64)(uintptr_t)path;
	attr.offsets = (__u64)(uintptr_t)offs;
	attr.cookies = (__u64)(uintptr_t)cookies;
	attr.cnt = cnt;
	attr.multi_flags = retprobe ? UPROBE_BPF_F_UPROBE_MULTI_RETURN : 0;
	attr.pid = pid > 0 ? (__u32)pid : 0;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return -errno;
	l->fd = fd;
	return 0;
}

static int attach_perf(struct uprobe_link *l, const struct bpf_program *prog,
		       bool retprobe, const char *path, const __u64 *offs,
		       const __u64 *cookies, __u32 cnt, int pid)
{
	struct bpf_link *link;
	__u32 i;

	for (i = 0; i < cnt; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe,
			    .bpf_cookie = cookies[i]);

		link = bpf_program__attach_uprobe_opts(prog, pid > 0 ? pid : -1,
						       path, (size_t)offs[i],
						       &opts);
		if (!link)
			return -errno;
		l->links[l->nlinks++] = link;
	}
	return 0;
}

int uprobe__attach(struct uprobe_link **out, const struct bpf_program *prog,
		   bool multi, bool retprobe, const char *path,
		   const __u64 *offs, const __u64 *cookies, __u32 cnt,
		   int pid)
{
	struct uprobe_link *l;
	int err;

	*out = NULL;
	if (!prog || !path || !cnt || cnt > UPROBE_MAX_OFFS)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fd = -1;
	if (multi)
		err = attach_multi(l, prog, retprobe, path, offs, cookies, cnt,
				   pid);
	else
		err = attach_perf(l, prog, retprobe, path, offs, cookies, cnt,
				  pid);
	if (err) {
		uprobe__free(l);
		return err;
	}
	*out = l;
	return 0;
}

void uprobe__free(struct uprobe_link *l)
{
	__u32 i;

	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	for (i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	free(l);
}

struct free_job {
	struct uprobe_link **v;
	size_t n, first, step;
};

static void *free_worker(void *arg)
{
	struct free_job *j = arg;
	size_t i;

	for (i = j->first; i < j->n; i += j->step)
		uprobe__free(j->v[i]);
	return NULL;
}

void uprobe__free_all(struct uprobe_link **v, size_t n)
{
	pthread_t tids[UPROBE_FREE_THREADS];
	struct free_job jobs[UPROBE_FREE_THREADS];
	size_t nthreads = n < UPROBE_FREE_THREADS ? n : UPROBE_FREE_THREADS;
	size_t i, started = 0;

	for (i = 0; i < nthreads; i++) {
		jobs[i] = (struct free_job){ v, n, i, nthreads };
		if (pthread_create(&tids[i], NULL, free_worker, &jobs[i]))
			break;
		started++;
	}
	if (started < nthreads) {
		/* The threads that did start take i % nthreads < started. */
		for (i = 0; i < n; i++)
			if (i % nthreads >= started)
				uprobe__free(v[i]);
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
}

struct uprobe_reaper {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t tid;
	bool started, stop;
	struct uprobe_link **q;		/* queued links */
	size_t n, cap;
};

int uprobe__reaper_new(struct uprobe_reaper **out)
{
	struct uprobe_reaper *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	*out = r;
	return 0;
}

static void *reaper_main(void *arg)
{
	struct uprobe_reaper *r = arg;
	struct uprobe_link *l;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->n && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->stop)
			break;
		l = r->q[--r->n];
		pthread_mutex_unlock(&r->lock);
		uprobe__free(l);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

void uprobe__free_later(struct uprobe_reaper *r, struct uprobe_link *l)
{
	struct uprobe_link **q;

	if (!l)
		return;
	pthread_mutex_lock(&r->lock);
	if (!r->started)
		r->started = !pthread_create(&r->tid, NULL, reaper_main, r);
	if (r->started && r->n == r->cap) {
		/* An array of pointers: its elements are pointers. */
		/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
		q = realloc(r->q, (r->cap ? 2 * r->cap : 64) * sizeof(*q));
		if (q) {
			r->q = q;
			r->cap = r->cap ? 2 * r->cap : 64;
		}
	}
	if (!r->started || r->n == r->cap) {
		pthread_mutex_unlock(&r->lock);
		uprobe__free(l);
		return;
	}
	r->q[r->n++] = l;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void uprobe__reaper_free(struct uprobe_reaper *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (r->started)
		pthread_join(r->tid, NULL);
	uprobe__free_all(r->q, r->n);
	free(r->q);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
