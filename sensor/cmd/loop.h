/* SPDX-License-Identifier: MIT */
/*
 * loop.h - the one event loop: epoll over the caller's fds, a signalfd
 * and a timerfd.
 *
 * SIGINT and SIGTERM end the loop; SIGHUP calls the hup callback
 * (reopen the output file).  The signals are blocked and read through the
 * signalfd, so no handler runs and no global flag is needed.  The tick
 * callback runs every tick_ms milliseconds: the ring buffer reader is
 * polled from it because the BPF side does not wake us per record.
 */
#ifndef OISP_LOOP_H
#define OISP_LOOP_H

#include <stdint.h>

struct loop;

/* Called when @fd is readable, or on a tick/hup.  Return 0, or -errno to
 * end the loop with that error. */
typedef int (*loop_fn)(void *ctx);
typedef int (*loop_tick_fn)(void *ctx, uint64_t now_mono_ns);

/*
 * Blocks SIGINT/SIGTERM/SIGHUP/SIGPIPE for the process and creates the
 * loop.  @tick_ms >= 1.  Returns 0 or -errno.
 */
int loop__new(struct loop **out, unsigned int tick_ms);

/* Watches @fd for input.  Returns 0 or -errno (epoll_ctl). */
int loop__add(struct loop *l, int fd, loop_fn fn, void *ctx);

void loop__on_tick(struct loop *l, loop_tick_fn fn, void *ctx);
void loop__on_hup(struct loop *l, loop_fn fn, void *ctx);

/*
 * Runs until SIGINT or SIGTERM (returns 0) or a callback fails (returns
 * its -errno).
 */
int loop__run(struct loop *l);

/* CLOCK_MONOTONIC in ns (the clock of bpf_ktime_get_ns()). */
uint64_t loop__now_ns(void);

/* Frees the loop; the caller's fds are not closed.  NULL is fine. */
void loop__free(struct loop *l);

#endif /* OISP_LOOP_H */
