/* SPDX-License-Identifier: MIT */
/*
 * procinfo.h - process metadata for events, read from /proc (proc(5)).
 *
 * The pipeline asks for the process of every record; reading /proc each
 * time would cost several syscalls per SSL call, so results are cached
 * in a bounded LRU table keyed by pid.  PIDs are reused, so an entry
 * also remembers the process's start time (field 22 of /proc/PID/stat),
 * which together with the pid identifies one process for the life of the
 * boot.  The caller decides when the cache is re-validated against /proc
 * (see procinfo__get()) and tells it when a process exits.
 */
#ifndef OISP_PROCINFO_H
#define OISP_PROCINFO_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "meta/cgroup.h"

struct procinfo;

/* Most bytes of a command line kept, with the terminating NUL. */
#define PROCINFO_CMDLINE_MAX	4096
/* The kernel's TASK_COMM_LEN: a name of 15 bytes and its NUL. */
#define PROCINFO_COMM_MAX	16

struct proc_meta {
	__u32 pid;
	__u32 ppid;		/* field 4 of /proc/PID/stat */
	/*
	 * Field 22 of /proc/PID/stat: clock ticks (sysconf(_SC_CLK_TCK))
	 * after boot.  With pid, identifies the process across PID reuse.
	 */
	__u64 start_time;
	/*
	 * Field 2 of /proc/PID/stat: the process's name (its thread group
	 * leader's comm), not that of the thread making a call (Bun's TLS
	 * calls are made on a thread named "HTTP Client"); "" if unknown.
	 */
	char comm[PROCINFO_COMM_MAX];
	char *exe;		/* readlink of /proc/PID/exe; NULL if unknown */
	/*
	 * /proc/PID/cmdline with the NUL separators turned into ' ', cut to
	 * PROCINFO_CMDLINE_MAX - 1 characters; NULL if empty (kernel
	 * threads, zombies) or unreadable.
	 */
	char *cmdline;
	char *user;		/* getpwuid_r(3) of uid; NULL if unknown */
	/* Real uid: "Uid:" of /proc/PID/status; (__u32)-1 if unknown. */
	__u32 uid;
	/*
	 * From /proc/PID/cgroup (cgroup__parse(), see cgroup.h for the path
	 * forms), as the sensor's cgroup namespace shows it: the container
	 * id and Kubernetes pod UID, "" when none or unreadable, and the
	 * container runtime's OISP name ("containerd", "crio", "docker",
	 * "podman"; static), NULL when unknown.
	 */
	char container_id[CGROUP_ID_MAX + 1];
	char pod_uid[CGROUP_POD_UID_MAX + 1];
	const char *container_runtime;
};

/*
 * Creates a cache of at most @max_entries (>= 1) processes that reads
 * @proc_root ("/proc" in production, a fixture tree in tests; copied).
 * Returns 0 and the cache in *@out, -EINVAL, -ENAMETOOLONG (@proc_root
 * longer than 256 bytes) or -ENOMEM.
 */
int procinfo__new(struct procinfo **out, const char *proc_root,
		  size_t max_entries);

/*
 * Returns the metadata of process @pid, reading @proc_root/PID/{stat,
 * status,cmdline,exe,cgroup} on a cache miss.  A hit is returned without any
 * syscall unless @revalidate is true: then /proc/PID/stat is read, and
 * if its start time differs from the cached one (the PID was reused) the
 * entry is read afresh.  If the process has exited, a cached entry is
 * still returned (records of a process can trail its exit).
 *
 * The result is owned by @pi and valid until the next procinfo__get()
 * (which may evict it), procinfo__forget() of the pid or procinfo__free().
 * Returns NULL when the process is gone (or unreadable) and nothing is
 * cached, or when memory runs out.
 */
const struct proc_meta *procinfo__get(struct procinfo *pi, __u32 pid,
				      bool revalidate);

/* Drops the cached entry of @pid, if any: call it on process exit. */
void procinfo__forget(struct procinfo *pi, __u32 pid);

/* Number of cached processes. */
size_t procinfo__count(const struct procinfo *pi);

/* Frees the cache and every entry; NULL is fine. */
void procinfo__free(struct procinfo *pi);

#endif /* OISP_PROCINFO_H */
