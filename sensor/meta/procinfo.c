// SPDX-License-Identifier: MIT
/*
 * Process metadata cache: a chained hash table of pids with an intrusive
 * doubly linked LRU list (head = oldest), as in conntab.c.  Parsing
 * follows proc(5).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "meta/procinfo.h"

#define STAT_BUF_SIZE	1024	/* /proc/PID/stat is ~300 bytes */
#define STATUS_BUF_SIZE	4096	/* Uid: is within the first 1 KiB */
#define CGROUP_BUF_SIZE	16384	/* v1: a line per hierarchy, ~13 x 250 */
#define LOAD_TRIES	3
#define ROOT_MAX	256	/* longest proc_root accepted */
#define PATH_SIZE	(ROOT_MAX + 32)	/* ROOT/PID/cmdline */

struct pentry {
	struct proc_meta m;
	struct pentry *hnext;		/* bucket chain */
	struct pentry *prev, *next;	/* LRU */
};

struct procinfo {
	char *root;
	struct pentry **buckets;
	size_t mask;
	size_t count, max;
	struct pentry *oldest, *newest;
};

static size_t pid_hash(__u32 pid)
{
	/* Knuth's multiplicative hash, in 32 bits on purpose. */
	__u32 h = pid * 2654435761u;

	return h;
}

int procinfo__new(struct procinfo **out, const char *proc_root,
		  size_t max_entries)
{
	struct procinfo *pi;
	size_t n = 16;

	if (!max_entries || !proc_root)
		return -EINVAL;
	if (strlen(proc_root) > ROOT_MAX)
		return -ENAMETOOLONG;
	while (n < max_entries && n < ((size_t)1 << 24))
		n <<= 1;
	pi = calloc(1, sizeof(*pi));
	if (!pi)
		return -ENOMEM;
	pi->root = strdup(proc_root);
	/* An array of pointers: sizeof(*p) is the pointer size, as meant. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	pi->buckets = calloc(n, sizeof(*pi->buckets));
	if (!pi->root || !pi->buckets) {
		procinfo__free(pi);
		return -ENOMEM;
	}
	pi->mask = n - 1;
	pi->max = max_entries;
	*out = pi;
	return 0;
}

/*
 * Reads up to @size - 1 bytes of @root/@pid/@name into @buf and
 * NUL-terminates it.  Returns the byte count or -errno.
 */
static ssize_t read_proc_file(const char *root, __u32 pid, const char *name,
			      char *buf, size_t size)
{
	char path[PATH_SIZE];
	ssize_t got;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%u/%s", root, pid, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* proc files may come in several reads; stop at EOF or full. */
	got = fdio__read_full(fd, buf, size - 1);
	close(fd);
	if (got < 0)
		return got;
	buf[got] = '\0';
	return got;
}

static int parse_u64(const char *s, char **end, unsigned long long *v)
{
	errno = 0;
	*v = strtoull(s, end, 10);
	if (*end == s || errno)
		return -EINVAL;
	return 0;
}

/*
 * Parses ppid (field 4) and starttime (field 22) of /proc/PID/stat, and,
 * when @comm is not NULL, field 2 into @comm (PROCINFO_COMM_MAX bytes):
 * the thread group leader's name.  Field 2 is in parentheses and may
 * itself contain spaces and ')', so the fields are counted from the last
 * ')'.
 */
static int parse_stat(const char *buf, __u32 *ppid, __u64 *start,
		      char *comm)
{
	const char *p = strrchr(buf, ')');
	const char *open = strchr(buf, '(');
	unsigned long long v;
	char *end;
	size_t n;
	int field;

	if (!p || !open || open > p)
		return -EINVAL;
	if (comm) {
		n = (size_t)(p - open - 1);
		if (n > PROCINFO_COMM_MAX - 1)
			n = PROCINFO_COMM_MAX - 1;
		memcpy(comm, open + 1, n);
		comm[n] = '\0';
	}
	p++;
	for (field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		if (field == 4 || field == 22) {
			if (parse_u64(p, &end, &v))
				return -EINVAL;
			if (field == 4) {
				if (v > UINT_MAX)
					return -EINVAL;
				*ppid = (__u32)v;
			} else {
				*start = v;
			}
			p = end;
		} else {
			p += strcspn(p, " ");
		}
	}
	return 0;
}

static int read_stat(const char *root, __u32 pid, __u32 *ppid, __u64 *start,
		     char *comm)
{
	char buf[STAT_BUF_SIZE];
	ssize_t n;

	n = read_proc_file(root, pid, "stat", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return parse_stat(buf, ppid, start, comm);
}

/* The real uid: first number of the "Uid:" line of /proc/PID/status. */
static int read_uid(const char *root, __u32 pid, __u32 *uid)
{
	unsigned long long v;
	const char *p;
	char *buf, *end;
	ssize_t n;
	int err = -EINVAL;

	buf = malloc(STATUS_BUF_SIZE);
	if (!buf)
		return -ENOMEM;
	n = read_proc_file(root, pid, "status", buf, STATUS_BUF_SIZE);
	if (n < 0) {
		err = (int)n;
		goto out;
	}
	p = strncmp(buf, "Uid:", 4) == 0 ? buf : strstr(buf, "\nUid:");
	if (!p)
		goto out;
	/*
	 * read_proc_file() returns -errno, never >= 0, when it wrote nothing;
	 * the analyzer loses errno's sign and takes @buf as unwritten.
	 */
	p += *p == '\n' ? 5 : 4; /* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	p += strspn(p, " \t");
	if (parse_u64(p, &end, &v) || v > UINT_MAX)
		goto out;
	*uid = (__u32)v;
	err = 0;
out:
	free(buf);
	return err;
}

static char *read_cmdline(const char *root, __u32 pid)
{
	char *buf;
	ssize_t n, i;

	buf = malloc(PROCINFO_CMDLINE_MAX);
	if (!buf)
		return NULL;
	n = read_proc_file(root, pid, "cmdline", buf, PROCINFO_CMDLINE_MAX);
	/*
	 * Each argument ends in a NUL; drop the last ones, join the rest.
	 * (n > 0 means @buf holds n bytes: see read_uid() for the NOLINT.)
	 */
	while (n > 0 && buf[n - 1] == '\0') /* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		n--;
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (buf[i] == '\0') /* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
			buf[i] = ' ';
	buf[n] = '\0';
	return buf;
}

static char *read_exe(const char *root, __u32 pid)
{
	char path[PATH_SIZE], *target;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%u/exe", root, pid) >=
	    (int)sizeof(path))
		return NULL;
	target = malloc(PATH_MAX);
	if (!target)
		return NULL;
	n = readlink(path, target, PATH_MAX - 1);
	if (n <= 0) {
		free(target);
		return NULL;
	}
	target[n] = '\0';
	return target;
}

/* Container id, pod UID and runtime from /proc/PID/cgroup, if any. */
static void read_cgroup(const char *root, __u32 pid, struct proc_meta *m)
{
	struct cgroup_info ci;
	char *buf;
	ssize_t n;

	m->container_id[0] = m->pod_uid[0] = '\0';
	m->container_runtime = NULL;
	buf = malloc(CGROUP_BUF_SIZE);
	if (!buf)
		return;
	n = read_proc_file(root, pid, "cgroup", buf, CGROUP_BUF_SIZE);
	if (n > 0 && cgroup__parse(buf, (size_t)n, &ci) == 0) {
		memcpy(m->container_id, ci.container_id,
		       sizeof(m->container_id));
		memcpy(m->pod_uid, ci.pod_uid, sizeof(m->pod_uid));
		m->container_runtime = cgroup__runtime_name(ci.runtime);
	}
	free(buf);
}

static char *user_name(__u32 uid)
{
	struct passwd pw, *res = NULL;
	size_t size = 1024;
	char *buf, *name = NULL;
	int err;

	if (uid == (__u32)-1)
		return NULL;
	for (;;) {
		buf = malloc(size);
		if (!buf)
			return NULL;
		err = getpwuid_r((uid_t)uid, &pw, buf, size, &res);
		if (err != ERANGE || size >= 65536)
			break;
		free(buf);
		size *= 4;
	}
	if (!err && res && res->pw_name)
		name = strdup(res->pw_name);
	free(buf);
	return name;
}

static void meta_clear(struct proc_meta *m)
{
	free(m->exe);
	free(m->cmdline);
	free(m->user);
	m->exe = m->cmdline = m->user = NULL;
}

/*
 * Fills @m from /proc.  The process may exit, and its PID be reused,
 * while the files are read: stat is read again at the end and the whole
 * read repeated if the start time moved.  Returns 0 or -errno of the
 * stat read (-ENOENT: the process is gone).
 */
static int meta_load(const char *root, __u32 pid, struct proc_meta *m)
{
	__u32 ppid;
	__u64 start;
	int err, tries;

	for (tries = 0; tries < LOAD_TRIES; tries++) {
		meta_clear(m);
		err = read_stat(root, pid, &m->ppid, &m->start_time, m->comm);
		if (err)
			return err;
		m->pid = pid;
		if (read_uid(root, pid, &m->uid))
			m->uid = (__u32)-1;
		m->exe = read_exe(root, pid);
		m->cmdline = read_cmdline(root, pid);
		m->user = user_name(m->uid);
		read_cgroup(root, pid, m);
		if (read_stat(root, pid, &ppid, &start, NULL) ||
		    start == m->start_time)
			return 0;
	}
	return 0;
}

static struct pentry **bucket(const struct procinfo *pi, __u32 pid)
{
	return &pi->buckets[pid_hash(pid) & pi->mask];
}

static struct pentry *find(const struct procinfo *pi, __u32 pid)
{
	struct pentry *e;

	for (e = *bucket(pi, pid); e; e = e->hnext)
		if (e->m.pid == pid)
			return e;
	return NULL;
}

static void lru_unlink(struct procinfo *pi, struct pentry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		pi->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		pi->newest = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct procinfo *pi, struct pentry *e)
{
	e->prev = pi->newest;
	e->next = NULL;
	if (pi->newest)
		pi->newest->next = e;
	else
		pi->oldest = e;
	pi->newest = e;
}

static void entry_remove(struct procinfo *pi, struct pentry *e)
{
	struct pentry **pp;

	for (pp = bucket(pi, e->m.pid); *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	lru_unlink(pi, e);
	meta_clear(&e->m);
	free(e);
	pi->count--;
}

static const struct proc_meta *revalidate_entry(struct procinfo *pi,
						struct pentry *e)
{
	struct proc_meta fresh = { 0 };
	__u32 ppid;
	__u64 start;

	/* Gone or unreadable: keep what we know, records can trail exit. */
	if (read_stat(pi->root, e->m.pid, &ppid, &start, NULL) ||
	    start == e->m.start_time)
		return &e->m;
	if (meta_load(pi->root, e->m.pid, &fresh)) {
		meta_clear(&fresh);
		return &e->m;
	}
	meta_clear(&e->m);
	e->m = fresh;
	return &e->m;
}

const struct proc_meta *procinfo__get(struct procinfo *pi, __u32 pid,
				      bool revalidate)
{
	struct pentry *e, **b;

	e = find(pi, pid);
	if (e) {
		lru_unlink(pi, e);
		lru_push(pi, e);
		return revalidate ? revalidate_entry(pi, e) : &e->m;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	if (meta_load(pi->root, pid, &e->m)) {
		meta_clear(&e->m);
		free(e);
		return NULL;
	}
	if (pi->count >= pi->max)
		entry_remove(pi, pi->oldest);
	b = bucket(pi, pid);
	e->hnext = *b;
	*b = e;
	lru_push(pi, e);
	pi->count++;
	return &e->m;
}

void procinfo__forget(struct procinfo *pi, __u32 pid)
{
	struct pentry *e = find(pi, pid);

	if (e)
		entry_remove(pi, e);
}

size_t procinfo__count(const struct procinfo *pi)
{
	return pi->count;
}

void procinfo__free(struct procinfo *pi)
{
	struct pentry *e, *next;

	if (!pi)
		return;
	for (e = pi->oldest; e; e = next) {
		next = e->next;
		meta_clear(&e->m);
		free(e);
	}
	free(pi->buckets);
	free(pi->root);
	free(pi);
}
