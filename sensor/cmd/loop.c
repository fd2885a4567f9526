// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "cmd/loop.h"

#define MAX_WATCH	8

struct watch {
	int fd;
	loop_fn fn;
	void *ctx;
};

struct loop {
	int epfd, sigfd, timerfd;
	struct watch w[MAX_WATCH];
	int n;
	loop_tick_fn tick;
	void *tick_ctx;
	loop_fn hup;
	void *hup_ctx;
};

uint64_t loop__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int watch_fd(struct loop *l, int fd, int idx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = idx };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

int loop__new(struct loop **out, unsigned int tick_ms)
{
	struct itimerspec its = { 0 };
	struct loop *l;
	sigset_t mask;
	int err;

	if (!tick_ms)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = l->sigfd = l->timerfd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		err = -errno;
		goto err_free;
	}
	sigdelset(&mask, SIGPIPE);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		err = -errno;
		goto err_free;
	}
	l->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sigfd < 0) {
		err = -errno;
		goto err_free;
	}
	l->timerfd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->timerfd < 0) {
		err = -errno;
		goto err_free;
	}
	its.it_interval.tv_sec = tick_ms / 1000;
	its.it_interval.tv_nsec = (long)(tick_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(l->timerfd, 0, &its, NULL)) {
		err = -errno;
		goto err_free;
	}
	/* Indexes MAX_WATCH and MAX_WATCH + 1 are ours. */
	err = watch_fd(l, l->sigfd, MAX_WATCH);
	if (!err)
		err = watch_fd(l, l->timerfd, MAX_WATCH + 1);
	if (err)
		goto err_free;
	*out = l;
	return 0;

err_free:
	loop__free(l);
	return err;
}

int loop__add(struct loop *l, int fd, loop_fn fn, void *ctx)
{
	int err;

	if (l->n >= MAX_WATCH)
		return -ENOSPC;
	err = watch_fd(l, fd, l->n);
	if (err)
		return err;
	l->w[l->n++] = (struct watch){ .fd = fd, .fn = fn, .ctx = ctx };
	return 0;
}

void loop__on_tick(struct loop *l, loop_tick_fn fn, void *ctx)
{
	l->tick = fn;
	l->tick_ctx = ctx;
}

void loop__on_hup(struct loop *l, loop_fn fn, void *ctx)
{
	l->hup = fn;
	l->hup_ctx = ctx;
}

/* Returns 1 to stop, 0 to go on, -errno on failure. */
static int read_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	int err;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			pr_info("SIGHUP: reopening output");
			if (l->hup) {
				err = l->hup(l->hup_ctx);
				if (err)
					return err;
			}
			continue;
		}
		pr_info("signal %u: shutting down", si.ssi_signo);
		return 1;
	}
	return 0;
}

static int read_timer(struct loop *l)
{
	uint64_t expirations;

	if (read(l->timerfd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return -errno;
	return l->tick ? l->tick(l->tick_ctx, loop__now_ns()) : 0;
}

int loop__run(struct loop *l)
{
	struct epoll_event ev[MAX_WATCH + 2];
	int i, n, err;
	uint32_t idx;

	for (;;) {
		n = epoll_wait(l->epfd, ev, MAX_WATCH + 2, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			idx = ev[i].data.u32;
			if (idx == MAX_WATCH)
				err = read_signals(l);
			else if (idx == MAX_WATCH + 1)
				err = read_timer(l);
			else
				err = l->w[idx].fn(l->w[idx].ctx);
			if (err)
				return err > 0 ? 0 : err;
		}
	}
}

void loop__free(struct loop *l)
{
	if (!l)
		return;
	if (l->timerfd >= 0)
		close(l->timerfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
}
