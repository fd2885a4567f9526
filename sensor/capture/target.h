/* SPDX-License-Identifier: MIT */
/*
 * target.h - which processes targeted mode attaches to.
 *
 * capture.targets.* list globs (fnmatch(3); '*' also matches '/'):
 *	exe		the executable, readlink(/proc/PID/exe), as the
 *			process sees it (a container's path, not the host's)
 *	comm		the process name, /proc/PID/comm (15 bytes at most)
 *	cgroup		any cgroup path of /proc/PID/cgroup, v1 or v2
 *			(e.g. "/kubepods.slice/...", "/system.slice/app.service")
 *	k8s_namespace	the namespace of the pod the process belongs to
 *			(pod UID from its cgroup, namespace from the pod list)
 * A process is selected when it matches any entry of any list.  With no
 * list set, targeting is off and every process is traced (the default).
 *
 * The criteria follow bcc's libbpf-tools (sslsniff -p/-c) and Beyla's
 * discovery (exe_path, k8s_namespace), but are decided in userspace per
 * process, so that the kernel places breakpoints only in the selected
 * ones (uprobe.h).
 */
#ifndef OISP_TARGET_H
#define OISP_TARGET_H

#include <stdbool.h>
#include <stddef.h>

struct target;

/*
 * Looks up the namespace of the pod with UID @pod_uid into @ns (@len
 * bytes, NUL-terminated).  Returns 0, or -ENOENT when the pod is not
 * known (yet).
 */
typedef int (*target_ns_fn)(void *ctx, const char *pod_uid, char *ns,
			    size_t len);

struct target_opts {
	const char *exe;		/* "GLOB,GLOB", or NULL */
	const char *comm;
	const char *cgroup;
	const char *k8s_namespace;	/* names or globs */
	const char *proc_root;		/* NULL: "/proc" (tests use a copy) */
};

/* Results of target__match(). */
enum target_result {
	TARGET_NO = 0,		/* not selected */
	TARGET_YES = 1,		/* selected */
	/*
	 * Not selected for now: only k8s_namespace could select it, and its
	 * pod is not in the pod list yet; ask again later.
	 */
	TARGET_UNKNOWN = 2,
};

/*
 * Builds the selector from @o (strings copied).  *@out stays NULL when
 * no list is set (targeting off).  Returns 0, -EINVAL for an empty entry
 * (",," or a trailing ','), with "capture.targets.KEY: reason" in @err,
 * or -ENOMEM.
 */
int target__new(struct target **out, const struct target_opts *o,
		char *err, size_t errlen);

struct config;

/*
 * target__new from the capture.targets.* keys of @cfg (docs/config.md),
 * with the reason logged when it fails.  Returns 0 (*@out NULL when no
 * list is set), -EINVAL or -ENOMEM.
 */
int target__from_config(struct target **out, const struct config *cfg);

/*
 * Sets the pod-namespace lookup (NULL: k8s_namespace never matches, and
 * such processes are TARGET_UNKNOWN).  @ctx is borrowed.
 */
void target__set_ns_lookup(struct target *t, target_ns_fn fn, void *ctx);

/*
 * Decides for process @pid from its /proc entries.  Returns an enum
 * target_result, -ENOENT when the process is gone, or -errno from
 * reading its comm.
 */
int target__match(struct target *t, int pid);

/* Frees @t; NULL is fine. */
void target__free(struct target *t);

#endif /* OISP_TARGET_H */
