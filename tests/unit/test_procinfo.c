// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta/procinfo.h"

#define FIXTURE	"../fixtures/proc"

static char root[64];

/* A scratch /proc tree for tests that change processes under the cache. */
static void setup(void)
{
	strcpy(root, "/tmp/test_procinfo.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void put_file(__u32 pid, const char *name, const char *s, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/%s", root, pid, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(s, 1, n, f), n);
	fclose(f);
}

static void mkproc(__u32 pid, __u32 ppid, unsigned long long start,
		   const char *exe, const char *argv0)
{
	char buf[512], path[256];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "%u (a b) S %u 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu "
		     "1000 100 0\n", pid, ppid, start);
	put_file(pid, "stat", buf, (size_t)n);
	n = snprintf(buf, sizeof(buf), "Name:\ta b\nUid:\t0\t0\t0\t0\n");
	put_file(pid, "status", buf, (size_t)n);
	n = snprintf(buf, sizeof(buf), "%s%c--flag%c", argv0, 0, 0);
	put_file(pid, "cmdline", buf, (size_t)n);
	snprintf(path, sizeof(path), "%s/%u/exe", root, pid);
	unlink(path);
	cr_assert_eq(symlink(exe, path), 0);
}

static void rmproc(__u32 pid)
{
	static const char *const names[] = { "stat", "status", "cmdline",
					      "exe", "cgroup" };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%u/%s", root, pid, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%u", root, pid);
	rmdir(path);
}

static void teardown(void)
{
	__u32 pid;

	for (pid = 1; pid < 10; pid++)
		rmproc(pid);
	rmdir(root);
}

TestSuite(procinfo, .init = setup, .fini = teardown);

Test(procinfo, fixture)
{
	const struct proc_meta *m;
	struct procinfo *pi;

	cr_assert_eq(procinfo__new(&pi, FIXTURE, 8), 0);
	m = procinfo__get(pi, 1234, false);
	cr_assert_not_null(m);
	cr_assert_eq(m->pid, 1234);
	cr_assert_eq(m->ppid, 77);
	cr_assert_eq(m->start_time, 987654);
	/* The name holds spaces and parentheses: from the first ( to the last ). */
	cr_assert_str_eq(m->comm, "py (th)on) x");
	cr_assert_str_eq(m->exe, "/usr/bin/python3.11");
	cr_assert_str_eq(m->cmdline, "python3 -m openai_client --model gpt 4o");
	cr_assert_eq(m->uid, 0);
	cr_assert_str_eq(m->user, "root");
	cr_assert_str_eq(m->container_id, "a3f1c2d4e5b60718293a4b5c6d7e8f90"
			 "112233445566778899aabbccddeeff00");
	cr_assert_str_eq(m->pod_uid, "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b");
	cr_assert_str_eq(m->container_runtime, "containerd");

	/* Kernel-thread-like: no exe, empty cmdline, unknown uid. */
	m = procinfo__get(pi, 5678, false);
	cr_assert_not_null(m);
	cr_assert_eq(m->ppid, 2);
	cr_assert_eq(m->start_time, 42);
	cr_assert_str_eq(m->comm, "kworker/0:1");
	cr_assert_null(m->exe);
	cr_assert_null(m->cmdline);
	cr_assert_eq(m->uid, 3999999999u);
	cr_assert_null(m->user);
	/* A host process: "0::/". */
	cr_assert_str_eq(m->container_id, "");
	cr_assert_str_eq(m->pod_uid, "");
	cr_assert_null(m->container_runtime);

	cr_assert_null(procinfo__get(pi, 999, false));
	cr_assert_null(procinfo__get(pi, 999, true));
	cr_assert_eq(procinfo__count(pi), 2);
	procinfo__free(pi);
	procinfo__free(NULL);
}

Test(procinfo, bad_args)
{
	struct procinfo *pi;
	char longroot[300];

	cr_assert_eq(procinfo__new(&pi, "/proc", 0), -EINVAL);
	memset(longroot, 'a', sizeof(longroot) - 1);
	longroot[sizeof(longroot) - 1] = '\0';
	cr_assert_eq(procinfo__new(&pi, longroot, 4), -ENAMETOOLONG);
}

Test(procinfo, pid_reuse_needs_revalidate)
{
	const struct proc_meta *m;
	struct procinfo *pi;

	mkproc(3, 1, 100, "/usr/bin/curl", "curl");
	cr_assert_eq(procinfo__new(&pi, root, 8), 0);
	m = procinfo__get(pi, 3, false);
	cr_assert_str_eq(m->exe, "/usr/bin/curl");

	/* PID 3 exits and is reused by another program. */
	mkproc(3, 2, 200, "/usr/bin/node", "node");
	m = procinfo__get(pi, 3, false);
	cr_assert_str_eq(m->exe, "/usr/bin/curl", "no /proc read on a hit");
	cr_assert_eq(m->start_time, 100);
	m = procinfo__get(pi, 3, true);
	cr_assert_str_eq(m->exe, "/usr/bin/node");
	cr_assert_str_eq(m->cmdline, "node --flag");
	cr_assert_eq(m->start_time, 200);
	cr_assert_eq(m->ppid, 2);
	/* Same process: revalidation keeps the entry. */
	cr_assert_eq(procinfo__get(pi, 3, true), m);
	cr_assert_eq(procinfo__count(pi), 1);
	procinfo__free(pi);
}

Test(procinfo, exited_process_stays_cached)
{
	const struct proc_meta *m;
	struct procinfo *pi;

	mkproc(4, 1, 100, "/usr/bin/curl", "curl");
	cr_assert_eq(procinfo__new(&pi, root, 8), 0);
	cr_assert_not_null(procinfo__get(pi, 4, false));
	rmproc(4);
	m = procinfo__get(pi, 4, true);
	cr_assert_not_null(m);
	cr_assert_str_eq(m->exe, "/usr/bin/curl");

	procinfo__forget(pi, 4);
	procinfo__forget(pi, 4);
	cr_assert_eq(procinfo__count(pi), 0);
	cr_assert_null(procinfo__get(pi, 4, false));
	procinfo__free(pi);
}

Test(procinfo, lru_eviction)
{
	struct procinfo *pi;
	__u32 pid;

	for (pid = 1; pid <= 3; pid++)
		mkproc(pid, 1, 10 * pid, "/bin/true", "true");
	cr_assert_eq(procinfo__new(&pi, root, 2), 0);
	cr_assert_not_null(procinfo__get(pi, 1, false));
	cr_assert_not_null(procinfo__get(pi, 2, false));
	cr_assert_not_null(procinfo__get(pi, 1, false)); /* 2 is now oldest */
	cr_assert_not_null(procinfo__get(pi, 3, false)); /* evicts 2 */
	cr_assert_eq(procinfo__count(pi), 2);

	for (pid = 1; pid <= 3; pid++)
		rmproc(pid);
	cr_assert_not_null(procinfo__get(pi, 1, false));
	cr_assert_not_null(procinfo__get(pi, 3, false));
	cr_assert_null(procinfo__get(pi, 2, false), "2 was evicted");
	procinfo__free(pi);
}

Test(procinfo, many_entries)
{
	struct procinfo *pi;
	__u32 pid;

	mkproc(5, 1, 7, "/bin/true", "true");
	cr_assert_eq(procinfo__new(&pi, root, 100), 0);
	/* Misses on absent pids allocate nothing. */
	for (pid = 100; pid < 5000; pid++)
		cr_assert_null(procinfo__get(pi, pid, false));
	cr_assert_eq(procinfo__count(pi), 0);
	cr_assert_not_null(procinfo__get(pi, 5, false));
	procinfo__free(pi);
}

Test(procinfo, long_cmdline_is_cut)
{
	const struct proc_meta *m;
	struct procinfo *pi;
	char *big;

	mkproc(6, 1, 1, "/bin/sh", "sh");
	big = malloc(10000);
	memset(big, 'x', 10000);
	big[2000] = '\0';
	put_file(6, "cmdline", big, 10000);
	free(big);
	cr_assert_eq(procinfo__new(&pi, root, 4), 0);
	m = procinfo__get(pi, 6, false);
	cr_assert_eq(strlen(m->cmdline), PROCINFO_CMDLINE_MAX - 1);
	cr_assert_eq(m->cmdline[2000], ' ');
	procinfo__free(pi);
}

Test(procinfo, cgroup_on_load_and_pid_reuse)
{
	static const char v1[] =
		"12:pids:/kubepods/besteffort/pod8e9c63d5-2a2f-4c5b-9a1e-"
		"7e0f3b6e4d21/0b1c2d3e4f5a69788796a5b4c3d2e1f00f1e2d3c4b5a697"
		"88796a5b4c3d2e1f0\n4:memory:/\n1:name=systemd:/\n";
	static const char docker[] = "0::/system.slice/docker-0b1c2d3e4f5a6978"
		"8796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0.scope\n";
	const struct proc_meta *m;
	struct procinfo *pi;

	mkproc(9, 1, 100, "/usr/bin/curl", "curl");
	put_file(9, "cgroup", v1, sizeof(v1) - 1);
	mkproc(2, 1, 100, "/usr/bin/curl", "curl");	/* no cgroup file */
	cr_assert_eq(procinfo__new(&pi, root, 8), 0);
	m = procinfo__get(pi, 9, false);
	cr_assert_str_eq(m->pod_uid, "8e9c63d5-2a2f-4c5b-9a1e-7e0f3b6e4d21");
	cr_assert_str_eq(m->container_id, "0b1c2d3e4f5a69788796a5b4c3d2e1f0"
			 "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
	cr_assert_null(m->container_runtime);
	m = procinfo__get(pi, 2, false);
	cr_assert_str_eq(m->container_id, "");
	cr_assert_str_eq(m->pod_uid, "");

	/* The PID is reused by a process in a Docker container. */
	mkproc(9, 1, 200, "/usr/bin/node", "node");
	put_file(9, "cgroup", docker, sizeof(docker) - 1);
	m = procinfo__get(pi, 9, true);
	cr_assert_str_eq(m->pod_uid, "");
	cr_assert_str_eq(m->container_runtime, "docker");
	cr_assert_eq(strncmp(m->container_id, "0b1c2d3e", 8), 0);
	procinfo__free(pi);
}

Test(procinfo, malformed_stat)
{
	struct procinfo *pi;

	mkproc(7, 1, 1, "/bin/sh", "sh");
	put_file(7, "stat", "7 (sh S 1 2 3\n", 14);
	mkproc(8, 1, 1, "/bin/sh", "sh");
	put_file(8, "stat", "8 (sh) S 1 2 3\n", 15);
	cr_assert_eq(procinfo__new(&pi, root, 4), 0);
	cr_assert_null(procinfo__get(pi, 7, false));
	cr_assert_null(procinfo__get(pi, 8, false));
	procinfo__free(pi);
}

Test(procinfo, real_self)
{
	const struct proc_meta *m;
	struct procinfo *pi;

	cr_assert_eq(procinfo__new(&pi, "/proc", 4), 0);
	m = procinfo__get(pi, (__u32)getpid(), true);
	cr_assert_not_null(m);
	cr_assert_eq(m->ppid, (__u32)getppid());
	cr_assert_eq(m->uid, (__u32)getuid());
	cr_assert_not_null(m->exe);
	cr_assert(strstr(m->exe, "test_procinfo"), "%s", m->exe);
	cr_assert_gt(m->start_time, 0);
	procinfo__free(pi);
}
