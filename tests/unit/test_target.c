// SPDX-License-Identifier: MIT
/*
 * target: targeted mode's process selector, on a made-up /proc (comm,
 * exe symlink, cgroup) and a fake pod-namespace lookup.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/target.h"

#define POD "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
#define CG_POD "0::/kubepods.slice/kubepods-besteffort.slice/" \
	"kubepods-besteffort-pod1b2c3d4e_5f6a_4b7c_8d9e_0f1a2b3c4d5e.slice/" \
	"cri-containerd-a3f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899" \
	"aabbccddeeff00.scope\n"

static char root[64];

static void put(int pid, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/%s", root, pid, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void proc(int pid, const char *comm, const char *exe, const char *cg)
{
	char path[256];

	put(pid, "comm", comm);
	put(pid, "cgroup", cg);
	snprintf(path, sizeof(path), "%s/%d/exe", root, pid);
	cr_assert_eq(symlink(exe, path), 0);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/oisp-target-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	proc(10, "curl\n", "/usr/bin/curl", "0::/user.slice/session-1.scope\n");
	proc(11, "python3\n", "/usr/bin/python3.11", "0::/system.slice/app.service\n");
	proc(12, "node\n", "/app/bin/node (deleted)", CG_POD);
	proc(13, "bash\n", "/bin/bash",
	     "12:pids:/user.slice\n1:name=systemd:/init.scope\n0::/\n");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(target, .init = setup, .fini = teardown);

static struct target *make(const char *exe, const char *comm,
			   const char *cgroup, const char *ns)
{
	struct target_opts o = {
		.exe = exe, .comm = comm, .cgroup = cgroup,
		.k8s_namespace = ns, .proc_root = root,
	};
	struct target *t = NULL;
	char err[128] = "";

	cr_assert_eq(target__new(&t, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(t);
	return t;
}

static int fake_ns(void *ctx, const char *pod_uid, char *ns, size_t len)
{
	int *calls = ctx;

	(*calls)++;
	if (strcmp(pod_uid, POD))
		return -ENOENT;
	snprintf(ns, len, "ml-team");
	return 0;
}

Test(target, no_list_means_off)
{
	struct target_opts o = { .exe = "", .proc_root = root };
	struct target *t = (struct target *)1;
	char err[64];

	cr_expect_eq(target__new(&t, &o, err, sizeof(err)), 0);
	cr_expect_null(t);
}

Test(target, empty_entry_is_an_error)
{
	struct target_opts o = { .comm = "curl,,node", .proc_root = root };
	struct target *t = NULL;
	char err[128] = "";

	cr_expect_eq(target__new(&t, &o, err, sizeof(err)), -EINVAL);
	cr_expect_null(t);
	cr_expect_str_eq(err, "capture.targets.comm: entry 2 is empty");
}

Test(target, comm)
{
	struct target *t = make(NULL, "cur*,node", NULL, NULL);

	cr_expect_eq(target__match(t, 10), TARGET_YES);
	cr_expect_eq(target__match(t, 11), TARGET_NO);
	cr_expect_eq(target__match(t, 12), TARGET_YES);
	cr_expect_eq(target__match(t, 99), -ENOENT);
	target__free(t);
}

Test(target, exe_with_slashes_and_deleted)
{
	struct target *t = make("/usr/bin/python3*,*/node", NULL, NULL, NULL);

	cr_expect_eq(target__match(t, 10), TARGET_NO);
	cr_expect_eq(target__match(t, 11), TARGET_YES);
	/* " (deleted)" is not part of the path matched. */
	cr_expect_eq(target__match(t, 12), TARGET_YES);
	target__free(t);
}

Test(target, cgroup_any_line)
{
	struct target *t = make(NULL, NULL, "/system.slice/*,/init.scope", NULL);

	cr_expect_eq(target__match(t, 10), TARGET_NO);
	cr_expect_eq(target__match(t, 11), TARGET_YES);
	cr_expect_eq(target__match(t, 12), TARGET_NO);
	/* v1 line "1:name=systemd:/init.scope" */
	cr_expect_eq(target__match(t, 13), TARGET_YES);
	target__free(t);
}

Test(target, k8s_namespace)
{
	struct target *t = make(NULL, NULL, NULL, "ml-*");
	int calls = 0;

	/* No pod list yet: the pod's process is undecided, others are not. */
	cr_expect_eq(target__match(t, 12), TARGET_UNKNOWN);
	cr_expect_eq(target__match(t, 11), TARGET_NO);
	target__set_ns_lookup(t, fake_ns, &calls);
	cr_expect_eq(target__match(t, 12), TARGET_YES);
	cr_expect_eq(calls, 1);
	/* Host processes have no pod: the lookup is not asked. */
	cr_expect_eq(target__match(t, 10), TARGET_NO);
	cr_expect_eq(calls, 1);
	target__free(t);

	t = make(NULL, NULL, NULL, "default");
	target__set_ns_lookup(t, fake_ns, &calls);
	cr_expect_eq(target__match(t, 12), TARGET_NO);
	target__free(t);
}

Test(target, any_list_selects)
{
	struct target *t = make("/bin/bash", "curl", "/system.slice/*", NULL);

	cr_expect_eq(target__match(t, 10), TARGET_YES);
	cr_expect_eq(target__match(t, 11), TARGET_YES);
	cr_expect_eq(target__match(t, 12), TARGET_NO);
	cr_expect_eq(target__match(t, 13), TARGET_YES);
	target__free(t);
}
