// SPDX-License-Identifier: MIT
/*
 * cgroup: container id, pod UID and runtime from /proc/PID/cgroup text.
 * The samples have the shapes of real files: kubelet with the systemd and
 * cgroupfs drivers on cgroup v1 and v2, containerd, CRI-O (runc and crun),
 * Docker, Podman, kind, k3s, k3d, ECS, and host processes; and paths
 * that users or containers can create to pass for another pod.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "meta/cgroup.h"

#define ID1 "a3f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00"
#define ID2 "0b1c2d3e4f5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define UID1 "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
#define UID1_ "1b2c3d4e_5f6a_4b7c_8d9e_0f1a2b3c4d5e"
#define UID2 "8e9c63d5-2a2f-4c5b-9a1e-7e0f3b6e4d21"
#define UID2_ "8e9c63d5_2a2f_4c5b_9a1e_7e0f3b6e4d21"

struct sample {
	const char *name;
	const char *text;
	const char *id;		/* NULL: none */
	const char *pod;	/* NULL: none */
	const char *runtime;	/* NULL: unknown */
};

static const struct sample samples[] = {
	/* kubelet, systemd driver, cgroup v2 */
	{ "v2 systemd containerd burstable",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  UID1_ ".slice/cri-containerd-" ID1 ".scope\n",
	  ID1, UID1, "containerd" },
	{ "v2 systemd containerd besteffort",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
	  UID2_ ".slice/cri-containerd-" ID2 ".scope\n",
	  ID2, UID2, "containerd" },
	{ "v2 systemd containerd guaranteed",
	  "0::/kubepods.slice/kubepods-pod" UID1_ ".slice/cri-containerd-"
	  ID1 ".scope\n", ID1, UID1, "containerd" },
	{ "v2 systemd cri-o runc",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  UID2_ ".slice/crio-" ID2 ".scope\n", ID2, UID2, "crio" },
	{ "v2 systemd cri-o crun (container sub-cgroup)",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  UID2_ ".slice/crio-" ID2 ".scope/container\n", ID2, UID2, "crio" },
	{ "v2 systemd cri-o conmon is no container",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  UID2_ ".slice/crio-conmon-" ID2 ".scope\n", NULL, UID2, NULL },
	{ "v2 systemd dockershim / cri-dockerd",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
	  UID1_ ".slice/docker-" ID1 ".scope\n", ID1, UID1, "docker" },
	/* kubelet, cgroupfs driver */
	{ "v2 cgroupfs burstable",
	  "0::/kubepods/burstable/pod" UID1 "/" ID1 "\n", ID1, UID1, NULL },
	{ "v2 cgroupfs besteffort",
	  "0::/kubepods/besteffort/pod" UID2 "/" ID2 "\n", ID2, UID2, NULL },
	{ "v2 cgroupfs guaranteed",
	  "0::/kubepods/pod" UID1 "/" ID1 "\n", ID1, UID1, NULL },
	{ "v2 cgroupfs cri-o",
	  "0::/kubepods/burstable/pod" UID2 "/crio-" ID2 "\n", ID2, UID2,
	  "crio" },
	{ "pod cgroup, no container",
	  "0::/kubepods/burstable/pod" UID1 "\n", NULL, UID1, NULL },
	{ "static pod: config hash as UID",
	  "0::/kubepods/burstable/pod4c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f/" ID1 "\n",
	  ID1, "4c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f", NULL },
	/* kubelet, cgroup v1 (one line per hierarchy) */
	{ "v1 cgroupfs docker (kubeadm on Ubuntu 18.04)",
	  "12:pids:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "11:hugetlb:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "10:net_cls,net_prio:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "9:perf_event:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "8:cpu,cpuacct:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "7:memory:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "6:devices:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "5:freezer:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "4:blkio:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "3:cpuset:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "2:rdma:/\n"
	  "1:name=systemd:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "0::/\n", ID1, UID1, NULL },
	{ "v1 systemd containerd via containerd.service",
	  "12:memory:/system.slice/containerd.service/kubepods-burstable-pod"
	  UID1_ ".slice:cri-containerd:" ID1 "\n"
	  "11:cpu,cpuacct:/system.slice/containerd.service/kubepods-burstable-pod"
	  UID1_ ".slice:cri-containerd:" ID1 "\n"
	  "1:name=systemd:/system.slice/containerd.service/kubepods-burstable-pod"
	  UID1_ ".slice:cri-containerd:" ID1 "\n",
	  ID1, UID1, "containerd" },
	{ "v1 systemd driver scopes",
	  "11:devices:/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod" UID2_ ".slice/cri-containerd-" ID2 ".scope\n"
	  "1:name=systemd:/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod" UID2_ ".slice/cri-containerd-" ID2 ".scope\n",
	  ID2, UID2, "containerd" },
	{ "v1: first line with an id wins",
	  "9:name=systemd:/\n"
	  "8:pids:/kubepods/besteffort/pod" UID1 "/" ID1 "\n"
	  "4:memory:/process_api/ae0d6d8b05b80a1d4ad8d5c91c64c98f\n"
	  "0::/\n", ID1, UID1, NULL },
	{ "v1: a pod-only line is kept when no line has an id",
	  "5:cpu:/kubepods/pod" UID2 "\n4:memory:/\n0::/\n",
	  NULL, UID2, NULL },
	/* Docker, Podman and others, outside Kubernetes */
	{ "docker cgroupfs v1",
	  "13:misc:/\n12:pids:/docker/" ID1 "\n11:memory:/docker/" ID1 "\n"
	  "1:name=systemd:/docker/" ID1 "\n0::/system.slice/containerd.service\n",
	  ID1, NULL, "docker" },
	{ "docker systemd v2",
	  "0::/system.slice/docker-" ID2 ".scope\n", ID2, NULL, "docker" },
	{ "podman rootful",
	  "0::/machine.slice/libpod-" ID1 ".scope/container\n", ID1, NULL,
	  "podman" },
	{ "podman rootless",
	  "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-"
	  ID2 ".scope\n", ID2, NULL, "podman" },
	{ "podman cgroupfs",
	  "0::/libpod_parent/libpod-" ID1 "\n", ID1, NULL, "podman" },
	{ "podman conmon",
	  "0::/machine.slice/libpod-conmon-" ID1 ".scope\n", NULL, NULL, NULL },
	{ "containerd, nerdctl namespace",
	  "0::/default/" ID2 "\n", ID2, NULL, NULL },
	{ "ECS on EC2",
	  "9:perf_event:/ecs/2a8c9fbd5ae44bb4a1b5e3c6e7a6b3d1/" ID1 "\n",
	  ID1, NULL, NULL },
	{ "ECS on Fargate",
	  "0::/ecs/55091c13b10540adaf1d1dc0c6d9ac4c/"
	  "55091c13b10540adaf1d1dc0c6d9ac4c-2658128826\n",
	  "55091c13b10540adaf1d1dc0c6d9ac4c-2658128826", NULL, NULL },
	{ "Cloud Foundry Garden",
	  "0::/system.slice/garden.service/garden/"
	  "6f0b9e13-4c2a-4b5e-6d7f-1a2b\n", NULL, NULL, NULL },
	{ "Cloud Foundry Garden UUID",
	  "0::/garden/6f0b9e13-4c2a-4b5e-6d7f-1a2b3c4d5e6f\n",
	  "6f0b9e13-4c2a-4b5e-6d7f-1a2b3c4d5e6f", NULL, NULL },
	/* Nested: the innermost container wins */
	{ "kind v2 (node in docker, pod in containerd)",
	  "0::/system.slice/docker-" ID2 ".scope/kubelet.slice/"
	  "kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UID1_ ".slice/cri-containerd-" ID1
	  ".scope\n", ID1, UID1, "containerd" },
	{ "kind v1 cgroupfs",
	  "12:pids:/docker/" ID2 "/kubepods/besteffort/pod" UID1 "/" ID1 "\n",
	  ID1, UID1, NULL },
	{ "kind node process (kubelet) is the node's container",
	  "0::/system.slice/docker-" ID2 ".scope/kubelet.slice\n",
	  ID2, NULL, "docker" },
	{ "kind pod cgroup without a container does not inherit the node's",
	  "0::/docker/" ID2 "/kubepods/burstable/pod" UID2 "\n",
	  NULL, UID2, NULL },
	{ "k3s",
	  "0::/kubepods/besteffort/pod" UID2 "/" ID2 "\n", ID2, UID2, NULL },
	{ "k3d (k3s in docker), v1",
	  "10:memory:/docker/" ID1 "/kubepods/burstable/pod" UID2 "/" ID2 "\n",
	  ID2, UID2, NULL },
	{ "cgroup namespace of the reader: path relative with ..",
	  "0::/../../kubepods-besteffort.slice/kubepods-besteffort-pod" UID2_
	  ".slice/cri-containerd-" ID2 ".scope\n", ID2, UID2, "containerd" },
	{ "no trailing newline",
	  "0::/kubepods/pod" UID1 "/" ID1, ID1, UID1, NULL },
	/* Host processes */
	{ "v2 root", "0::/\n", NULL, NULL, NULL },
	{ "v2 user session",
	  "0::/user.slice/user-1000.slice/session-3.scope\n", NULL, NULL, NULL },
	{ "v2 user service",
	  "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
	  "app-org.gnome.Terminal.slice/vte-spawn-4c0d.scope\n", NULL, NULL, NULL },
	{ "init", "0::/init.scope\n", NULL, NULL, NULL },
	{ "system services",
	  "0::/system.slice/containerd.service\n", NULL, NULL, NULL },
	{ "kubelet itself",
	  "0::/system.slice/kubelet.service\n", NULL, NULL, NULL },
	{ "kubepods slices only",
	  "0::/kubepods.slice/kubepods-burstable.slice\n", NULL, NULL, NULL },
	{ "v1 host",
	  "12:pids:/user.slice/user-0.slice/session-1.scope\n"
	  "4:memory:/process_api/ae0d6d8b05b80a1d4ad8d5c91c64c98f\n"
	  "1:name=systemd:/user.slice/user-0.slice/session-1.scope\n0::/\n",
	  NULL, NULL, NULL },
	/* Look-alikes that are not ids */
	{ "63 hex digits", "0::/docker/" "a3f1c2d4e5b60718293a4b5c6d7e8f90112233"
	  "445566778899aabbccddeeff0\n", NULL, NULL, NULL },
	{ "upper-case hex", "0::/docker/"
	  "A3F1C2D4E5B60718293A4B5C6D7E8F90112233445566778899AABBCCDDEEFF00\n",
	  NULL, NULL, NULL },
	{ "bad pod uid", "0::/kubepods/burstable/pod1b2c3d4e-5f6a-4b7c-8d9e\n",
	  NULL, NULL, NULL },
	{ "systemd slice missing '-pod'",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
	  UID1_ ".slice\n", NULL, NULL, NULL },
	{ "garbage", "no colons here\n::\n:\n\n", NULL, NULL, NULL },
	{ "empty", "", NULL, NULL, NULL },
};

/*
 * Spoofs.  Under systemd user delegation any user creates cgroups below
 * user@UID.service; a container allowed to write its cgroup creates them
 * below its own.  Neither may claim another pod or container.
 */
static const struct sample spoofs[] = {
	{ "user cgroup named like a pod (systemd driver)",
	  "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
	  "kubepods-burstable-pod" UID1_ ".slice/cri-containerd-" ID1
	  ".scope\n", NULL, NULL, NULL },
	{ "user cgroup with a whole kubepods tree",
	  "0::/user.slice/user-1000.slice/user@1000.service/kubepods.slice/"
	  "kubepods-burstable.slice/kubepods-burstable-pod" UID1_
	  ".slice/cri-containerd-" ID1 ".scope\n", NULL, NULL, NULL },
	{ "user cgroup named like a pod (cgroupfs driver)",
	  "0::/user.slice/user-1000.slice/user@1000.service/kubepods/"
	  "burstable/pod" UID1 "/" ID1 "\n", NULL, NULL, NULL },
	{ "v1 name=systemd user cgroup named like a pod",
	  "1:name=systemd:/user.slice/user-1000.slice/user@1000.service/"
	  "kubepods-pod" UID1_ ".slice/docker-" ID1 ".scope\n0::/\n",
	  NULL, NULL, NULL },
	{ "pod below a pod's container: the outer pod",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	  UID2_ ".slice/cri-containerd-" ID2 ".scope/kubepods-burstable-pod"
	  UID1_ ".slice/cri-containerd-" ID1 ".scope\n", ID2, UID2,
	  "containerd" },
	{ "pod below a pod's container, cgroupfs: the outer pod",
	  "0::/kubepods/burstable/pod" UID2 "/" ID2 "/kubepods/pod" UID1 "/"
	  ID1 "\n", ID2, UID2, NULL },
	{ "container below a pod's container: the outer one",
	  "0::/kubepods/pod" UID2 "/crio-" ID2 "/docker-" ID1 ".scope\n",
	  ID2, UID2, "crio" },
	{ "a container not directly below its pod is not the runtime's",
	  "0::/kubepods.slice/kubepods-pod" UID1_ ".slice/x.slice/"
	  "cri-containerd-" ID1 ".scope\n", NULL, UID1, NULL },
};

static void check_samples(const struct sample *tab, size_t n)
{
	struct cgroup_info ci;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		const struct sample *s = &tab[i];

		memset(&ci, 0x5a, sizeof(ci));
		ret = cgroup__parse(s->text, strlen(s->text), &ci);
		cr_expect_eq(ret, s->id || s->pod ? 0 : -ENOENT, "%s: %d",
			     s->name, ret);
		cr_expect_str_eq(ci.container_id, s->id ?: "", "%s", s->name);
		cr_expect_str_eq(ci.pod_uid, s->pod ?: "", "%s", s->name);
		if (s->runtime)
			cr_expect_str_eq(cgroup__runtime_name(ci.runtime) ?: "?",
					 s->runtime, "%s", s->name);
		else
			cr_expect_eq(ci.runtime, CGROUP_RT_UNKNOWN, "%s",
				     s->name);
	}
}

Test(cgroup, samples)
{
	check_samples(samples, sizeof(samples) / sizeof(samples[0]));
}

Test(cgroup, spoofs)
{
	check_samples(spoofs, sizeof(spoofs) / sizeof(spoofs[0]));
}

Test(cgroup, length_is_respected)
{
	static const char text[] = "0::/kubepods/pod" UID1 "/" ID1 "\n";
	struct cgroup_info ci;

	/* Cut inside the id: a 63-digit component is no id. */
	cr_assert_eq(cgroup__parse(text, strlen(text) - 2, &ci), 0);
	cr_assert_str_eq(ci.container_id, "");
	cr_assert_str_eq(ci.pod_uid, UID1);
	cr_assert_eq(cgroup__parse(text, 3, &ci), -ENOENT);
}

Test(cgroup, parse_path)
{
	static const char p[] = "/kubepods/besteffort/pod" UID1 "/crio-" ID1;
	struct cgroup_info ci;

	cr_assert(cgroup__parse_path(p, strlen(p), &ci));
	cr_assert_str_eq(ci.container_id, ID1);
	cr_assert_str_eq(ci.pod_uid, UID1);
	cr_assert_eq(ci.runtime, CGROUP_RT_CRIO);
	cr_assert_not(cgroup__parse_path("/", 1, &ci));
	cr_assert_not(cgroup__parse_path("", 0, &ci));
}

Test(cgroup, runtime_names)
{
	cr_assert_str_eq(cgroup__runtime_name(CGROUP_RT_CONTAINERD),
			 "containerd");
	cr_assert_str_eq(cgroup__runtime_name(CGROUP_RT_CRIO), "crio");
	cr_assert_str_eq(cgroup__runtime_name(CGROUP_RT_DOCKER), "docker");
	cr_assert_str_eq(cgroup__runtime_name(CGROUP_RT_PODMAN), "podman");
	cr_assert_null(cgroup__runtime_name(CGROUP_RT_UNKNOWN));
}
