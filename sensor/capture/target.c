// SPDX-License-Identifier: MIT
/*
 * target.c - targeted mode's process selector (see target.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/cgroup.h"
#include "config/config.h"
#include "lib/log.h"
#include "capture/target.h"

#define CGROUP_TEXT_MAX	8192

enum target_key { T_EXE, T_COMM, T_CGROUP, T_NS, T_NR };

static const char *const key_names[T_NR] = {
	[T_EXE] = "exe", [T_COMM] = "comm", [T_CGROUP] = "cgroup",
	[T_NS] = "k8s_namespace",
};

struct glob_list {
	char *buf;		/* the entries, each NUL-terminated */
	const char **v;
	size_t n;
};

struct target {
	struct glob_list l[T_NR];
	char *proc_root;
	target_ns_fn ns_fn;
	void *ns_ctx;
	char cg[CGROUP_TEXT_MAX];	/* /proc/PID/cgroup being matched */
};

/* Splits "A,B,C" into @gl; an empty entry is an error. */
static int split(struct glob_list *gl, const char *s, const char *key,
		 char *err, size_t errlen)
{
	size_t n = 1, i;
	char *p;

	if (!s || !*s)
		return 0;
	gl->buf = strdup(s);
	if (!gl->buf)
		return -ENOMEM;
	for (p = gl->buf; *p; p++)
		n += *p == ',';
	gl->v = calloc(n, sizeof(*gl->v));
	if (!gl->v)
		return -ENOMEM;
	for (p = gl->buf, i = 0; i < n; i++) {
		gl->v[i] = p;
		p += strcspn(p, ",");
		if (*p)
			*p++ = '\0';
		if (!*gl->v[i]) {
			log__errbuf(err, errlen,
				    "capture.targets.%s: entry %zu is empty",
				    key, i + 1);
			return -EINVAL;
		}
	}
	gl->n = n;
	return 0;
}

int target__new(struct target **out, const struct target_opts *o,
		char *err, size_t errlen)
{
	const char *src[T_NR] = {
		[T_EXE] = o->exe, [T_COMM] = o->comm, [T_CGROUP] = o->cgroup,
		[T_NS] = o->k8s_namespace,
	};
	struct target *t;
	bool any = false;
	int i, ret;

	*out = NULL;
	for (i = 0; i < T_NR; i++)
		any |= src[i] && *src[i];
	if (!any)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->proc_root = strdup(o->proc_root ? o->proc_root : "/proc");
	if (!t->proc_root) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < T_NR; i++) {
		ret = split(&t->l[i], src[i], key_names[i], err, errlen);
		if (ret)
			goto fail;
	}
	*out = t;
	return 0;

fail:
	target__free(t);
	return ret;
}

int target__from_config(struct target **out, const struct config *cfg)
{
	struct target_opts to = {
		.exe = cfg->target_exe,
		.comm = cfg->target_comm,
		.cgroup = cfg->target_cgroup,
		.k8s_namespace = cfg->target_k8s_namespace,
	};
	char err[256];
	int ret;

	ret = target__new(out, &to, err, sizeof(err));
	if (ret == -EINVAL)
		pr_err("%s", err);
	else if (ret)
		pr_err("capture.targets: %s", strerror(-ret));
	return ret;
}

void target__set_ns_lookup(struct target *t, target_ns_fn fn, void *ctx)
{
	if (!t)
		return;
	t->ns_fn = fn;
	t->ns_ctx = ctx;
}

static bool any_match(const struct glob_list *gl, const char *s)
{
	size_t i;

	for (i = 0; i < gl->n; i++)
		if (!fnmatch(gl->v[i], s, 0))
			return true;
	return false;
}

/* Reads /proc/@pid/@name into @buf (NUL-terminated); bytes or -errno. */
static ssize_t read_proc(const struct target *t, int pid, const char *name,
			 char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/%s", t->proc_root, pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

static bool match_exe(const struct target *t, int pid)
{
	char path[PATH_MAX], exe[PATH_MAX];
	ssize_t n;
	size_t dl = strlen(" (deleted)");

	snprintf(path, sizeof(path), "%s/%d/exe", t->proc_root, pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;	/* kernel thread, or gone */
	exe[n] = '\0';
	if ((size_t)n > dl && !strcmp(exe + n - dl, " (deleted)"))
		exe[n - dl] = '\0';
	return any_match(&t->l[T_EXE], exe);
}

/* Each line of /proc/PID/cgroup is "ID:CONTROLLERS:PATH". */
static bool match_cgroup(const struct target *t, char *text)
{
	char *line, *save = NULL, *path;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		path = strchr(line, ':');
		if (path)
			path = strchr(path + 1, ':');
		if (path && any_match(&t->l[T_CGROUP], path + 1))
			return true;
	}
	return false;
}

static int match_ns(const struct target *t, const char *cgtext, size_t len)
{
	struct cgroup_info ci;
	char ns[256];

	if (cgroup__parse(cgtext, len, &ci) || !ci.pod_uid[0])
		return TARGET_NO;
	if (!t->ns_fn || t->ns_fn(t->ns_ctx, ci.pod_uid, ns, sizeof(ns)))
		return TARGET_UNKNOWN;
	return any_match(&t->l[T_NS], ns) ? TARGET_YES : TARGET_NO;
}

int target__match(struct target *t, int pid)
{
	char comm[32];
	ssize_t n;
	int r;

	n = read_proc(t, pid, "comm", comm, sizeof(comm));
	if (n < 0)
		return (int)n;
	comm[strcspn(comm, "\n")] = '\0';
	if (any_match(&t->l[T_COMM], comm))
		return TARGET_YES;
	if (t->l[T_EXE].n && match_exe(t, pid))
		return TARGET_YES;
	if (!t->l[T_CGROUP].n && !t->l[T_NS].n)
		return TARGET_NO;
	n = read_proc(t, pid, "cgroup", t->cg, sizeof(t->cg));
	if (n < 0)
		return n == -ENOENT ? -ENOENT : TARGET_NO;
	/* The namespace first: match_cgroup() cuts the text into lines. */
	r = t->l[T_NS].n ? match_ns(t, t->cg, (size_t)n) : TARGET_NO;
	if (r == TARGET_YES)
		return r;
	if (t->l[T_CGROUP].n && match_cgroup(t, t->cg))
		return TARGET_YES;
	return r;
}

void target__free(struct target *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < T_NR; i++) {
		free(t->l[i].buf);
		free(t->l[i].v);
	}
	free(t->proc_root);
	free(t);
}
