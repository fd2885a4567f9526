/* SPDX-License-Identifier: MIT */
/*
 * cgroup.h - the container and Kubernetes pod of a process, from the text
 * of /proc/PID/cgroup (cgroups(7): "hierarchy-ID:controller-list:path",
 * one line per v1 hierarchy, "0::path" for v2).
 *
 * Container runtimes name a container's cgroup after its id, and the
 * kubelet names a pod's cgroup after its UID, so both can be read from the
 * path.  Only the parts of the path that the kubelet and the runtime
 * create are trusted: the first kubelet hierarchy in the path (its top,
 * a QoS level, the pod, then the container directly below the pod) and
 * nothing below it, since a container allowed to write its cgroup may
 * create "...-pod<other uid>.slice" below its own; and no pod below a
 * cgroup systemd delegates to an unprivileged user (user.slice,
 * user-UID.slice, user@UID.service), where any user may create one.
 * Container ids outside a pod come from the last match, so nested setups
 * such as kind, k3d or Docker-in-Docker give the innermost container
 * (under a user's delegated cgroup that is the user's own claim: rootless
 * Podman or Docker).  Path forms recognised:
 *
 *   kubelet, systemd cgroup driver:
 *     /kubepods.slice/kubepods-burstable.slice/
 *       kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope
 *     ...-pod<uid>.slice/crio-<id>.scope, .../docker-<id>.scope
 *     /system.slice/containerd.service/kubepods-...-pod<uid>.slice:
 *       cri-containerd:<id>       (containerd's own cgroup, cgroup v1)
 *   kubelet, cgroupfs driver:
 *     /kubepods/burstable/pod<uid>/<id>, /kubepods/besteffort/pod<uid>/<id>,
 *     /kubepods/pod<uid>/<id> (Guaranteed), .../pod<uid>/crio-<id>
 *   Docker, Podman, others:
 *     /docker/<id>, /system.slice/docker-<id>.scope,
 *     /machine.slice/libpod-<id>.scope, /ecs/<task>/<id>, /lxc/<id>
 *
 * A container id is 64 lower-case hex digits (Docker, containerd, CRI-O,
 * Podman), or one of the shorter forms some runtimes put in the path: ECS
 * on Fargate "<32 hex>-<digits>" and Cloud Foundry Garden's UUID.  A pod
 * UID is the UUID of metadata.uid (the systemd driver writes its '-' as
 * '_'), or for static pods the kubelet's 32-hex config hash.  The conmon
 * monitors of CRI-O and Podman (crio-conmon-<id>.scope) are not inside the
 * container and get no id.
 */
#ifndef OISP_CGROUP_H
#define OISP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

/* Longest container id kept, without the NUL. */
#define CGROUP_ID_MAX		64
/* Longest pod UID kept (a UUID), without the NUL. */
#define CGROUP_POD_UID_MAX	36

enum cgroup_runtime {
	CGROUP_RT_UNKNOWN = 0,	/* an id, but the path does not say whose */
	CGROUP_RT_CONTAINERD,
	CGROUP_RT_CRIO,
	CGROUP_RT_DOCKER,
	CGROUP_RT_PODMAN,
};

struct cgroup_info {
	char container_id[CGROUP_ID_MAX + 1];	/* "" when none */
	char pod_uid[CGROUP_POD_UID_MAX + 1];	/* lower case, '-'; "" when none */
	enum cgroup_runtime runtime;		/* CGROUP_RT_UNKNOWN when no id */
};

/*
 * Parses one cgroup path (the third field of a /proc/PID/cgroup line) of
 * @len bytes at @path into @out (always fully set).  Returns true when a
 * container id or a pod UID was found.
 */
bool cgroup__parse_path(const char *path, size_t len, struct cgroup_info *out);

/*
 * Parses the text of /proc/PID/cgroup (@len bytes, NUL not required) into
 * @out (always fully set).  The first line whose path yields a container
 * id is used; when no line has one, the first line with a pod UID (a
 * process in a pod's cgroup but in no container's).  Lines without two
 * ':' are skipped.  Returns 0, or -ENOENT when no line names a container
 * or pod (host processes: "0::/", "/user.slice/...", "/init.scope").
 */
int cgroup__parse(const char *text, size_t len, struct cgroup_info *out);

/*
 * OISP's name of @rt (host.container.runtime, an enum in OISP v0.1):
 * "containerd", "crio", "docker", "podman"; NULL for CGROUP_RT_UNKNOWN.
 * The string is static.
 */
const char *cgroup__runtime_name(enum cgroup_runtime rt);

#endif /* OISP_CGROUP_H */
