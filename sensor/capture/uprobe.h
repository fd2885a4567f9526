/* SPDX-License-Identifier: MIT */
/*
 * uprobe.h - one BPF program on a set of offsets of one file, for all
 * processes or for one, as a single link where the kernel allows.
 *
 * Two mechanisms, chosen per registry at startup (uprobe__multi_ok()):
 *  - uprobe_multi (Linux >= 6.6, BPF_TRACE_UPROBE_MULTI): one BPF link
 *    carries every offset, each with its BPF cookie.  libbpf 1.1 has no
 *    API for it, so the link is made with BPF_LINK_CREATE directly, as
 *    libbpf >= 1.3's bpf_program__attach_uprobe_multi() does.  Closing
 *    it waits for one grace period for all its offsets.
 *  - perf-event uprobes (Linux >= 5.15 for cookies): one link per
 *    offset through bpf_program__attach_uprobe_opts(); each close waits
 *    for grace periods of its own.
 * The program must have been loaded with the matching expected attach
 * type (uprobe__prepare()).
 *
 * With @pid > 0 the kernel places breakpoints only in that process
 * (its mm, threads included): other processes mapping the file pay
 * nothing (kernel/events/uprobes.c, filter_chain()).
 */
#ifndef OISP_UPROBE_H
#define OISP_UPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct bpf_program;
struct uprobe_link;

/*
 * True when the running kernel has uprobe_multi links (its BTF knows
 * struct bpf_uprobe_multi_link).  Costs one vmlinux BTF parse (~10 ms).
 */
bool uprobe__multi_ok(void);

/*
 * Sets @prog's expected attach type for @multi links (or the default
 * for perf-event uprobes).  Call between skeleton open and load.
 * Returns 0 or -errno from libbpf.
 */
int uprobe__prepare(struct bpf_program *prog, bool multi);

/*
 * Attaches @prog (loaded, see uprobe__prepare()) at @cnt (1..32) file
 * offsets @offs of @path, each with BPF cookie @cookies[i]; a uretprobe
 * when @retprobe.  @pid: a tgid, or -1 for every process.  @path must
 * stay valid only during the call (it may be /proc/self/fd/N).
 * Returns 0 with *@out set (free with uprobe__free()), -EINVAL for bad
 * arguments, or the kernel's -errno.
 */
int uprobe__attach(struct uprobe_link **out, const struct bpf_program *prog,
		   bool multi, bool retprobe, const char *path,
		   const __u64 *offs, const __u64 *cookies, __u32 cnt,
		   int pid);

/* Detaches and frees @l; NULL is fine.  Blocks for a grace period. */
void uprobe__free(struct uprobe_link *l);

/*
 * Detaches and frees the @n links of @v (NULL entries skipped) from up
 * to 32 threads at once, so that their grace periods overlap instead of
 * adding up; falls back to one by one when threads cannot be made.
 * @v itself stays the caller's.
 */
void uprobe__free_all(struct uprobe_link **v, size_t n);

/*
 * A worker thread that frees links handed to it, so that the caller
 * (the event loop) does not wait for their grace periods.
 */
struct uprobe_reaper;

/* Returns 0 with *@out set, or -ENOMEM.  The thread starts on first use. */
int uprobe__reaper_new(struct uprobe_reaper **out);

/*
 * Queues @l (NULL is fine) to be detached and freed by @r's thread, or
 * frees it at once when the thread cannot be started.
 */
void uprobe__free_later(struct uprobe_reaper *r, struct uprobe_link *l);

/*
 * Stops @r's thread and frees what it had not freed yet (like
 * uprobe__free_all()), then @r; NULL is fine.
 */
void uprobe__reaper_free(struct uprobe_reaper *r);

#endif /* OISP_UPROBE_H */
