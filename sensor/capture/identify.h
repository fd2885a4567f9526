/* SPDX-License-Identifier: MIT */
/*
 * identify.h - the identification worker: one thread that searches
 * files' code for the TLS stacks that export nothing, so that the event
 * loop keeps draining the ring buffer and answering `status`, /healthz,
 * /readyz and /metrics while a large executable is searched (a rustls
 * executable of 100-300 MB takes 0.4-1.5 s, a static OpenSSL 3 next to
 * it as much again).
 *
 * The split (stack.h): what is cheap stays on the loop, in
 * stack__match_quick(): the dynamic symbols (OpenSSL, GnuTLS, node, a
 * BoringSSL libssl), Go's function table, ld.so.  What reads .text and
 * .eh_frame and decodes code (the resolve hooks that are not
 * resolve_quick: BoringSSL, rustls, static OpenSSL 3) runs here, in
 * stack__match_search(), which continues from the quick phase's
 * entries.  The registry (attach.c) keeps the file as a pending entry
 * meanwhile and attaches it on the loop when the result is taken.
 *
 * The queue is bounded: a job holds a descriptor of its file (a
 * duplicate, the job's own) and its result until the loop takes it.
 * Results are signalled on an eventfd that the loop polls.  Jobs run one
 * at a time, in the order they were submitted.
 *
 * The work function runs on the worker thread and must use no state
 * shared with the loop: the finders keep theirs per call (their
 * ELF image, Capstone handle and tables), and libelf keeps no state
 * across Elf handles beyond elf_version()'s flag.
 */
#ifndef OISP_IDENTIFY_H
#define OISP_IDENTIFY_H

#include <stdbool.h>
#include <linux/types.h>

#include "capture/stack.h"

struct identify;

/* Jobs held at most (queued, running and with a result not yet taken). */
#define IDENTIFY_JOBS_MAX	64

/*
 * The search: continues from @m[0..*@n) (filled by the quick phase) on
 * the file open at @fd (borrowed), as stack__match_search() does.
 * Reads *@cancel (atomically) between its phases and returns -ECANCELED
 * once it is set.  Returns what stack__match_search() returns.
 */
typedef int (*identify_fn)(int fd, struct stack_match m[STACK_MATCH_MAX],
			   unsigned int *n, const int *cancel);

/* A finished job, as identify__take() hands it back. */
struct identify_result {
	void *tag;		/* identify__submit()'s @tag */
	int fd;			/* the job's descriptor: now the caller's */
	int err;		/* the work function's result */
	unsigned int n;		/* entries of m filled */
	struct stack_match m[STACK_MATCH_MAX];
	__u64 ns;		/* CLOCK_MONOTONIC ns the search took */
};

/*
 * Makes a worker that runs @fn for each job, and its eventfd.  Its
 * thread (all signals blocked) starts at the first identify__submit(),
 * so that it has the capabilities the caller has then (threads have
 * their own: a thread made before a drop keeps what was dropped).
 * Returns 0 with *@out set, or -errno (-ENOMEM, or eventfd()'s error).
 */
int identify__new(struct identify **out, identify_fn fn);

/*
 * Queues a search of the file open at @fd (the caller keeps @fd; the
 * job takes a duplicate, closed when the job is freed), continuing
 * from @m[0..@n) of the quick phase.  @tag comes back in the result.
 * Returns 0, -EAGAIN when IDENTIFY_JOBS_MAX jobs are held, -ESRCH when
 * the thread cannot be started, -ECANCELED after identify__free()
 * began, or -errno of dup().
 */
int identify__submit(struct identify *id, int fd, void *tag,
		     const struct stack_match m[STACK_MATCH_MAX],
		     unsigned int n);

/*
 * The eventfd that turns readable when a result is waiting (cleared by
 * identify__take()); -1 for NULL.
 */
int identify__fd(const struct identify *id);

/*
 * Moves the oldest finished job into @r (its fd becomes the caller's,
 * to close).  Returns 0, or -EAGAIN when none is waiting.  Call it
 * until -EAGAIN: the eventfd is cleared before the queue is looked at,
 * so a result finished meanwhile makes it readable again.
 */
int identify__take(struct identify *id, struct identify_result *r);

/* Jobs held now (queued, running, finished not taken). */
unsigned int identify__held(struct identify *id);

/*
 * Cancels every job (the results not taken are dropped, their fds
 * closed), then waits up to @wait_ms for the worker to leave the work
 * function (it looks at the cancel flag between phases only).  A worker
 * still searching then is detached: it frees its job and the rest of
 * @id when that phase ends, and no result reaches anyone.  NULL is fine.
 */
void identify__free(struct identify *id, unsigned int wait_ms);

#endif /* OISP_IDENTIFY_H */
