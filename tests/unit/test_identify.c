// SPDX-License-Identifier: MIT
/*
 * The identification worker (identify.h) with a work function the test
 * holds back on a gate: results come back through the eventfd in
 * submission order with the job's own descriptor, the queue is bounded,
 * and shutdown drops what is queued and leaves a busy worker behind
 * without losing its descriptor.  Then the registry's pending entries
 * (attach.h, attach__start_identify()): a file whose code must be
 * searched is one entry, found again while pending, listed as being
 * identified, and becomes what the search found.  No BPF, no root.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "capture/attach_int.h"
#include "capture/identify.h"

/* The gate the fake work function waits at; shared with a worker. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	unsigned int entered, left;
	bool saw_cancel;
};

static struct gate g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void gate_set(bool open)
{
	pthread_mutex_lock(&g.lock);
	g.open = open;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
}

/* Waits until the work function has been entered @n times. */
static void wait_entered(unsigned int n)
{
	pthread_mutex_lock(&g.lock);
	while (g.entered < n)
		pthread_cond_wait(&g.cond, &g.lock);
	pthread_mutex_unlock(&g.lock);
}

static void wait_left(unsigned int n)
{
	pthread_mutex_lock(&g.lock);
	while (g.left < n)
		pthread_cond_wait(&g.cond, &g.lock);
	pthread_mutex_unlock(&g.lock);
}

/* Writes the job's fd into found[] and adds one entry, at the gate. */
static int fake_search(int fd, struct stack_match m[STACK_MATCH_MAX],
		       unsigned int *n, const int *cancel)
{
	pthread_mutex_lock(&g.lock);
	g.entered++;
	pthread_cond_broadcast(&g.cond);
	while (!g.open)
		pthread_cond_wait(&g.cond, &g.lock);
	g.saw_cancel = __atomic_load_n(cancel, __ATOMIC_RELAXED);
	g.left++;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	snprintf(m[*n].found, sizeof(m[*n].found), "fd %d", fd);
	m[*n].err = -ENOENT;
	(*n)++;
	return -ENOENT;
}

static void reset(void)
{
	pthread_mutex_lock(&g.lock);
	g.open = false;
	g.entered = g.left = 0;
	g.saw_cancel = false;
	pthread_mutex_unlock(&g.lock);
}

/* Waits up to 5 s for @fd to turn readable. */
static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 5000) == 1;
}

TestSuite(identify, .init = reset);

Test(identify, results_in_order_through_the_eventfd)
{
	struct stack_match m[STACK_MATCH_MAX] = { 0 };
	struct identify_result r;
	struct identify *id;
	struct stat a, b;
	int tags[3], i, fd;

	cr_assert_eq(identify__new(&id, fake_search), 0);
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	snprintf(m[0].found, sizeof(m[0].found), "quick");
	for (i = 0; i < 3; i++)
		cr_assert_eq(identify__submit(id, fd, &tags[i], m, 1), 0);
	cr_expect_eq(identify__held(id), 3);
	wait_entered(1);
	cr_expect_eq(identify__take(id, &r), -EAGAIN, "nothing is done yet");
	gate_set(true);
	for (i = 0; i < 3; i++) {
		while (identify__take(id, &r) == -EAGAIN)
			cr_assert(readable(identify__fd(id)));
		cr_expect_eq(r.tag, &tags[i]);
		cr_expect_eq(r.err, -ENOENT);
		/* Continued from the quick phase's entry. */
		cr_expect_eq(r.n, 2);
		cr_expect_str_eq(r.m[0].found, "quick");
		cr_assert(r.fd >= 0 && r.fd != fd);
		/* Its own descriptor of the same file. */
		cr_assert_eq(fstat(fd, &a), 0);
		cr_assert_eq(fstat(r.fd, &b), 0);
		cr_expect(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
		close(r.fd);
	}
	cr_expect_eq(identify__take(id, &r), -EAGAIN);
	cr_expect_eq(identify__held(id), 0);
	identify__free(id, 1000);
	close(fd);
}

Test(identify, bounded_queue)
{
	struct stack_match m[STACK_MATCH_MAX] = { 0 };
	struct identify *id;
	int i, p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(identify__new(&id, fake_search), 0);
	for (i = 0; i < IDENTIFY_JOBS_MAX; i++)
		cr_assert_eq(identify__submit(id, p[1], NULL, m, 0), 0);
	cr_expect_eq(identify__submit(id, p[1], NULL, m, 0), -EAGAIN);
	cr_expect_eq(identify__held(id), IDENTIFY_JOBS_MAX);
	cr_expect_eq(identify__submit(id, -1, NULL, m, 0), -EAGAIN);
	gate_set(true);
	identify__free(id, 1000);
	close(p[0]);
	close(p[1]);
}

/*
 * Shutdown with one job searching and others queued: the queued ones'
 * descriptors are closed at once, the busy worker is left behind (its
 * search cannot be interrupted) and, once it returns, it has seen the
 * cancel flag and closes its own: the pipe's write end is then closed
 * everywhere, and its read end reads EOF.
 */
Test(identify, shutdown_leaves_a_busy_worker_behind)
{
	struct stack_match m[STACK_MATCH_MAX] = { 0 };
	struct identify *id;
	int p[2], i;
	char c;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(identify__new(&id, fake_search), 0);
	for (i = 0; i < 4; i++)
		cr_assert_eq(identify__submit(id, p[1], NULL, m, 0), 0);
	close(p[1]);
	wait_entered(1);
	identify__free(id, 10);
	cr_expect_eq(g.left, 0, "the search was not waited for");
	gate_set(true);
	wait_left(1);
	/* Every copy closed: the queued ones by free, the busy one after. */
	cr_expect_eq(read(p[0], &c, 1), 0);
	cr_expect(g.saw_cancel);
	cr_expect_eq(g.entered, 1, "no queued job ran after the cancel");
	close(p[0]);
}

Test(identify, shutdown_of_an_idle_worker)
{
	struct identify *id;

	cr_assert_eq(identify__new(&id, fake_search), 0);
	identify__free(id, 1000);
	identify__free(NULL, 0);
	cr_expect_eq(g.entered, 0);
}

/* The quick phase leaves a search only where one may find something. */
Test(identify, quick_phase_split)
{
	struct stack_match m[STACK_MATCH_MAX];
	const char *ldso = "/lib64/ld-linux-x86-64.so.2";
	unsigned int n;
	bool search;
	int fd;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_expect_eq(stack__match_quick(fd, m, &n, &search), -ENOENT);
	cr_expect(search, "no exports: its code is to be searched");
	cr_expect_eq(n, 0);
	cr_expect_eq(stack__match_search(fd, m, &n, NULL), -ENOENT);
	cr_expect_eq(n, 0);
	close(fd);

	fd = open(ldso, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	cr_expect_eq(stack__match_quick(fd, m, &n, &search), 0);
	cr_expect(m[0].ldso);
	cr_expect_not(search, "ld.so is known by its exports");
	close(fd);
}

Test(identify, search_cancelled_before_a_stack)
{
	struct stack_match m[STACK_MATCH_MAX] = { 0 };
	unsigned int n = 0;
	int fd, cancel = 1;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_expect_eq(stack__match_search(fd, m, &n, &cancel), -ECANCELED);
	close(fd);
}

static int count_identifying(void *ctx, const struct attach_file *af)
{
	if (af->identifying_since_ns && !af->stack)
		(*(int *)ctx)++;
	return 0;
}

/*
 * A file with no exports (this test program) is searched by the real
 * worker: pending, one entry however often it is looked up, a selected
 * process noted once, listed as identifying; then negative.
 */
Test(identify, pending_entry_in_the_registry)
{
	struct attach_progs progs = { 0 };
	struct attach_stats st;
	struct attach *a;
	struct afile *f, *f2;
	int added = 0, listed = 0;

	cr_assert_eq(attach__new(&a, &progs), 0);
	cr_assert_eq(attach__start_identify(a), 0);
	cr_assert(attach__identify_fd(a) >= 0);
	f = attach_lookup_path(a, "/proc/self/exe", "self", false, &added,
			       NULL);
	cr_assert_not_null(f);
	cr_expect_eq(f->kind, AFILE_PENDING);
	cr_expect(f->searching);
	cr_expect(attach_linkable(f));
	cr_expect_eq(added, 0, "not attached yet");
	cr_expect_eq(attach_link_pid(a, f, 4242), 0);
	cr_expect_eq(attach_link_pid(a, f, 4242), 0);
	cr_expect_eq(f->nwait_pids, 1, "noted once");
	/* The worker may have finished: still one entry until taken. */
	f2 = attach_lookup_path(a, "/proc/self/exe", "self", false, &added,
				NULL);
	cr_expect_eq(f2, f, "the same entry, no second job");
	attach__stats(a, &st);
	cr_expect_eq(st.files_identifying, 1);
	attach__for_each_file(a, count_identifying, &listed);
	cr_expect_eq(listed, 1);

	while (f->searching) {
		cr_assert(readable(attach__identify_fd(a)));
		cr_expect_eq(attach__identified(a), 0);
	}
	cr_expect_eq(f->kind, AFILE_NONE, "no stack: a negative entry");
	cr_expect_eq(f->nwait_pids, 0);
	attach__stats(a, &st);
	cr_expect_eq(st.files_identifying, 0);
	listed = 0;
	attach__for_each_file(a, count_identifying, &listed);
	cr_expect_eq(listed, 0);
	attach__free(a);
}
