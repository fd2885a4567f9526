// SPDX-License-Identifier: MIT
/*
 * identify.c - the identification worker (identify.h): a queue of jobs
 * under one mutex, one thread that runs them, an eventfd for the
 * results.
 *
 * Shutdown: the owner sets the cancel flag and drops the queued and
 * finished jobs, then joins the thread with a deadline.  A search phase
 * cannot be interrupted (the finders take no cancel flag), so a worker
 * still inside one past the deadline is detached instead: the structure
 * is reference-counted, and the last of the owner and the worker frees
 * it.  The sensor then exits without waiting for the search, and the
 * worker, if the process lives on, frees everything when it returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "capture/identify.h"

struct ijob {
	struct ijob *next;
	struct identify_result r;
};

/* A FIFO of jobs. */
struct iqueue {
	struct ijob *head, **tail;
};

struct identify {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a job was queued, or cancel */
	pthread_cond_t idle;		/* the worker left the work function */
	pthread_t tid;
	identify_fn fn;
	struct iqueue todo, done;
	unsigned int held;		/* jobs in todo, running, in done */
	int cancel;			/* read atomically by the work function */
	bool busy;			/* the worker is in the work function */
	bool started;			/* the thread was created */
	bool gone;			/* the worker has returned */
	int refs;			/* the owner's, and the worker's */
	int efd;
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void queue_init(struct iqueue *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void queue_push(struct iqueue *q, struct ijob *j)
{
	j->next = NULL;
	*q->tail = j;
	q->tail = &j->next;
}

static struct ijob *queue_pop(struct iqueue *q)
{
	struct ijob *j = q->head;

	if (!j)
		return NULL;
	q->head = j->next;
	if (!q->head)
		q->tail = &q->head;
	return j;
}

static void job_free(struct ijob *j)
{
	if (!j)
		return;
	if (j->r.fd >= 0)
		close(j->r.fd);
	free(j);
}

/* Frees every job of @q; returns how many. */
static unsigned int queue_drop(struct iqueue *q)
{
	struct ijob *j;
	unsigned int n = 0;

	while ((j = queue_pop(q)) != NULL) {
		job_free(j);
		n++;
	}
	return n;
}

static void destroy(struct identify *id)
{
	queue_drop(&id->todo);
	queue_drop(&id->done);
	if (id->efd >= 0)
		close(id->efd);
	pthread_cond_destroy(&id->idle);
	pthread_cond_destroy(&id->cond);
	pthread_mutex_destroy(&id->lock);
	free(id);
}

/* Drops a reference, with id->lock held (released here). */
static void put_unlock(struct identify *id)
{
	bool last = --id->refs == 0;

	pthread_mutex_unlock(&id->lock);
	if (last)
		destroy(id);
}

static void *worker_main(void *arg)
{
	struct identify *id = arg;
	struct ijob *j;
	__u64 t0;
	__u64 one = 1;

	pthread_mutex_lock(&id->lock);
	for (;;) {
		while (!id->cancel && !id->todo.head)
			pthread_cond_wait(&id->cond, &id->lock);
		if (id->cancel)
			break;
		j = queue_pop(&id->todo);
		id->busy = true;
		pthread_mutex_unlock(&id->lock);

		t0 = mono_ns();
		j->r.err = id->fn(j->r.fd, j->r.m, &j->r.n, &id->cancel);
		j->r.ns = mono_ns() - t0;

		pthread_mutex_lock(&id->lock);
		id->busy = false;
		pthread_cond_broadcast(&id->idle);
		if (id->cancel) {
			job_free(j);
			break;
		}
		queue_push(&id->done, j);
		/* Cannot fail: the counter is read long before 2^64 - 2. */
		(void)!write(id->efd, &one, sizeof(one));
	}
	id->gone = true;
	pthread_cond_broadcast(&id->idle);
	put_unlock(id);
	return NULL;
}

int identify__new(struct identify **out, identify_fn fn)
{
	struct identify *id;
	int err;

	*out = NULL;
	id = calloc(1, sizeof(*id));
	if (!id)
		return -ENOMEM;
	id->fn = fn;
	queue_init(&id->todo);
	queue_init(&id->done);
	pthread_mutex_init(&id->lock, NULL);
	pthread_cond_init(&id->cond, NULL);
	pthread_cond_init(&id->idle, NULL);
	id->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (id->efd < 0) {
		err = -errno;
		goto out_destroy;
	}
	id->refs = 1;
	*out = id;
	return 0;

out_destroy:
	destroy(id);
	return err;
}

/*
 * Creates the worker thread, with id->lock held, unless it runs.
 * Returns 0 or -ESRCH.
 */
static int start_locked(struct identify *id)
{
	sigset_t all, old;
	int err;

	if (id->started)
		return 0;
	/* Signals are the loop's (signalfd): none may land on the worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&id->tid, NULL, worker_main, id);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -ESRCH;
	id->started = true;
	id->refs++;
	return 0;
}

int identify__submit(struct identify *id, int fd, void *tag,
		     const struct stack_match m[STACK_MATCH_MAX],
		     unsigned int n)
{
	struct ijob *j;
	int err = 0;

	if (n > STACK_MATCH_MAX)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->r.tag = tag;
	j->r.n = n;
	memcpy(j->r.m, m, sizeof(j->r.m));
	pthread_mutex_lock(&id->lock);
	if (id->cancel)
		err = -ECANCELED;
	else if (id->held >= IDENTIFY_JOBS_MAX)
		err = -EAGAIN;
	if (!err)
		err = start_locked(id);
	if (!err) {
		j->r.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (j->r.fd < 0)
			err = -errno;
	}
	if (err) {
		pthread_mutex_unlock(&id->lock);
		free(j);
		return err;
	}
	id->held++;
	queue_push(&id->todo, j);
	pthread_cond_signal(&id->cond);
	pthread_mutex_unlock(&id->lock);
	return 0;
}

int identify__fd(const struct identify *id)
{
	return id ? id->efd : -1;
}

int identify__take(struct identify *id, struct identify_result *r)
{
	struct ijob *j;
	__u64 v;

	/* First: a result pushed after this read writes the counter again. */
	(void)!read(id->efd, &v, sizeof(v));	/* EAGAIN: none signalled */
	pthread_mutex_lock(&id->lock);
	j = queue_pop(&id->done);
	if (j)
		id->held--;
	pthread_mutex_unlock(&id->lock);
	if (!j)
		return -EAGAIN;
	*r = j->r;
	free(j);
	return 0;
}

unsigned int identify__held(struct identify *id)
{
	unsigned int n;

	pthread_mutex_lock(&id->lock);
	n = id->held;
	pthread_mutex_unlock(&id->lock);
	return n;
}

void identify__free(struct identify *id, unsigned int wait_ms)
{
	struct timespec dl;
	bool gone;

	if (!id)
		return;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += wait_ms / 1000;
	dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&id->lock);
	__atomic_store_n(&id->cancel, 1, __ATOMIC_RELAXED);
	id->held -= queue_drop(&id->todo) + queue_drop(&id->done);
	if (!id->started) {
		put_unlock(id);
		return;
	}
	pthread_cond_broadcast(&id->cond);
	while (!id->gone &&
	       pthread_cond_timedwait(&id->idle, &id->lock, &dl) != ETIMEDOUT)
		;
	gone = id->gone;
	pthread_mutex_unlock(&id->lock);
	if (gone)
		pthread_join(id->tid, NULL);
	else
		pthread_detach(id->tid);
	pthread_mutex_lock(&id->lock);
	put_unlock(id);
}
