// SPDX-License-Identifier: MIT
/*
 * attach.c - the registry of probed files and the scans that fill it
 * (attach.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "attach.h"
#include "elfsym.h"
#include "log.h"
#include "procmaps.h"

#define HASH_BITS	12
#define HASH_SIZE	(1u << HASH_BITS)
#define MAX_LINKS	(2 * ATTACH_SSL_NR)

enum afile_kind {
	AFILE_NONE,	/* negative: not a provider, or failed */
	AFILE_SSL,	/* OpenSSL provider */
	AFILE_LDSO,	/* glibc ld.so */
};

struct afile {
	struct afile *next;		/* all files, in insertion order */
	struct afile *st_next;		/* chain of the (st_dev, st_ino) index */
	struct afile *map_next;		/* chain of the maps (dev, ino) index */
	__u64 dev, ino;			/* stat(2) of the file */
	__u64 map_dev, map_ino;		/* as /proc/PID/maps shows it */
	bool has_map_key;
	enum afile_kind kind;
	int err;			/* negative entries: why */
	__u32 nprocs;			/* processes at the last full scan */
	__u32 nprocs_scan;		/* counting in the current full scan */
	__u64 scan_stamp;		/* last process scan that counted it */
	__u64 seen_gen;			/* last full scan generation seen */
	int nlinks;
	struct bpf_link *links[MAX_LINKS];
	char path[];
};

struct attach {
	struct attach_progs progs;
	struct afile *files, **files_tail;
	struct afile *by_st[HASH_SIZE];
	struct afile *by_map[HASH_SIZE];
	__u64 scan_stamp;		/* one per process scan */
	__u64 gen;			/* one per full scan */
	struct attach_stats st;
};

/* One process scan. */
struct scan {
	struct attach *a;
	int pid;
	bool full;		/* part of attach__scan_all() */
	bool saw_ssl;		/* the process maps a provider */
	int attached;		/* files newly attached */
};

static const char *const ssl_syms[ATTACH_SSL_NR] = {
	[ATTACH_SSL_WRITE] = "SSL_write",
	[ATTACH_SSL_WRITE_EX] = "SSL_write_ex",
	[ATTACH_SSL_READ] = "SSL_read",
	[ATTACH_SSL_READ_EX] = "SSL_read_ex",
};

static const char *const std_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
	"/usr/lib64", "/usr/local/lib", "/usr/lib",
};

static unsigned int hash_key(__u64 dev, __u64 ino)
{
	__u64 h = (ino ^ (dev << 21) ^ (dev >> 11)) * 0x9e3779b97f4a7c15ULL;

	return (unsigned int)(h >> (64 - HASH_BITS));
}

static struct afile *find_st(const struct attach *a, __u64 dev, __u64 ino)
{
	struct afile *f = a->by_st[hash_key(dev, ino)];

	while (f && (f->dev != dev || f->ino != ino))
		f = f->st_next;
	return f;
}

static struct afile *find_map(const struct attach *a, __u64 dev, __u64 ino)
{
	struct afile *f = a->by_map[hash_key(dev, ino)];

	while (f && (f->map_dev != dev || f->map_ino != ino))
		f = f->map_next;
	return f;
}

static void set_map_key(struct attach *a, struct afile *f, __u64 dev,
			__u64 ino)
{
	unsigned int h = hash_key(dev, ino);

	if (f->has_map_key || find_map(a, dev, ino))
		return;
	f->map_dev = dev;
	f->map_ino = ino;
	f->has_map_key = true;
	f->map_next = a->by_map[h];
	a->by_map[h] = f;
}

static void unlink_chain(struct afile **head, struct afile *f, bool map)
{
	struct afile **pp = head;

	while (*pp && *pp != f)
		pp = map ? &(*pp)->map_next : &(*pp)->st_next;
	if (*pp)
		*pp = map ? f->map_next : f->st_next;
}

static void afile_free(struct afile *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < f->nlinks; i++)
		bpf_link__destroy(f->links[i]);
	free(f);
}

int attach__new(struct attach **out, const struct attach_progs *progs)
{
	struct attach *a;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->progs = *progs;
	a->files_tail = &a->files;
	*out = a;
	return 0;
}

void attach__free(struct attach *a)
{
	struct afile *f, *next;

	if (!a)
		return;
	for (f = a->files; f; f = next) {
		next = f->next;
		afile_free(f);
	}
	free(a);
}

static int add_link(struct afile *f, struct bpf_program *prog,
		    const char *path, __u64 off, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link;

	if (!prog)
		return -EINVAL;
	link = bpf_program__attach_uprobe_opts(prog, -1, path, (size_t)off,
					       &opts);
	if (!link)
		return -errno;
	f->links[f->nlinks++] = link;
	return 0;
}

static int attach_ssl(struct attach *a, struct afile *f, const char *path,
		      const __u64 *offs, const bool *has)
{
	int i, err;

	for (i = 0; i < ATTACH_SSL_NR; i++) {
		if (!has[i])
			continue;
		err = add_link(f, a->progs.enter[i], path, offs[i], false);
		if (!err)
			err = add_link(f, a->progs.ret[i], path, offs[i], true);
		if (err) {
			pr_debug("attach %s at offset 0x%" PRIx64 ": %s",
				 ssl_syms[i], (uint64_t)offs[i],
				 strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * Classifies the file open at @fd and attaches what fits.  The probes
 * are attached through /proc/self/fd/FD, which stays valid while we
 * hold @fd even when the process we found the file through exits.
 * Sets f->kind; returns 0, or -errno (the entry then stays negative).
 */
static int probe_file(struct attach *a, struct afile *f, int fd)
{
	__u64 offs[ATTACH_SSL_NR] = { 0 }, off;
	bool has[ATTACH_SSL_NR] = { false };
	struct elfsym *es = NULL;
	char path[64];
	int i, err;

	err = elfsym__open_fd(fd, &es);
	if (err)
		return err;
	if (!elfsym__native(es)) {
		elfsym__free(es);
		return -ENOEXEC;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (i = 0; i < ATTACH_SSL_NR; i++)
		has[i] = elfsym__offset(es, ssl_syms[i], &offs[i]) == 0;
	if (has[ATTACH_SSL_WRITE] && has[ATTACH_SSL_READ]) {
		f->kind = AFILE_SSL;
		err = attach_ssl(a, f, path, offs, has);
	} else if (elfsym__offset(es, "_dl_debug_state", &off) == 0) {
		f->kind = AFILE_LDSO;
		err = add_link(f, a->progs.dl_debug_state, path, off, false);
	} else {
		err = -ENOENT;
	}
	if (err && f->kind != AFILE_NONE)
		pr_warn("attach to %s: %s", f->path, strerror(-err));
	elfsym__free(es);
	return err;
}

/*
 * Adds the file open at @fd with stat @sb, shown to users as @display.
 * A failed file becomes a negative entry.  Returns the new entry, or
 * NULL without memory.
 */
static struct afile *add_file(struct attach *a, int fd, const struct stat *sb,
			      const char *display, bool deleted)
{
	size_t len = strlen(display) + (deleted ? strlen(" (deleted)") : 0);
	unsigned int h = hash_key(sb->st_dev, sb->st_ino);
	struct afile *f;
	int i, err;

	f = calloc(1, sizeof(*f) + len + 1);
	if (!f)
		return NULL;
	snprintf(f->path, len + 1, "%s%s", display, deleted ? " (deleted)" : "");
	f->dev = sb->st_dev;
	f->ino = sb->st_ino;
	f->seen_gen = a->gen;
	err = probe_file(a, f, fd);
	if (err) {
		if (f->kind != AFILE_NONE)
			a->st.attach_errors++;
		for (i = 0; i < f->nlinks; i++)
			bpf_link__destroy(f->links[i]);
		f->nlinks = 0;
		f->kind = AFILE_NONE;
		f->err = err;
	} else if (f->kind == AFILE_SSL) {
		a->st.files_attached++;
		pr_info("attached to OpenSSL in %s (dev %" PRIu64 " ino %" PRIu64 ")",
			f->path, (uint64_t)f->dev, (uint64_t)f->ino);
	} else {
		a->st.ldso_attached++;
		pr_debug("attached dlopen probe to %s", f->path);
	}
	f->st_next = a->by_st[h];
	a->by_st[h] = f;
	*a->files_tail = f;
	a->files_tail = &f->next;
	return f;
}

/*
 * Finds the entry for @path, adding it on first sight.  Returns NULL
 * when the file cannot be reached (the process may be gone: not
 * remembered, a later scan retries) or without memory.
 */
static struct afile *lookup_path(struct attach *a, const char *path,
				 const char *display, bool deleted, int *added)
{
	struct afile *f;
	struct stat sb;
	int fd;

	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		return NULL;
	f = find_st(a, sb.st_dev, sb.st_ino);
	if (f)
		return f;
	/* Attach through an fd: see probe_file(). */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return NULL;
	}
	f = find_st(a, sb.st_dev, sb.st_ino);
	if (!f) {
		f = add_file(a, fd, &sb, display, deleted);
		if (f && f->kind != AFILE_NONE)
			(*added)++;
	}
	close(fd);
	return f;
}

static int scan_mapping(void *ctx, const struct procmaps_entry *e)
{
	__u64 mdev = makedev(e->dev_major, e->dev_minor);
	struct scan *s = ctx;
	struct attach *a = s->a;
	char path[PATH_MAX + 64];
	struct afile *f;
	struct stat sb;
	int n;

	f = find_map(a, mdev, e->ino);
	if (!f) {
		/*
		 * The path through the process's root.  When that is not
		 * the mapped inode (the file was unlinked or replaced, or
		 * maps shows a path from our root because the process is
		 * chrooted below it), map_files reaches the mapping itself.
		 * Only the inode number is compared: on overlayfs st_dev
		 * differs from the device maps shows.
		 */
		n = snprintf(path, sizeof(path), "/proc/%d/root%s", s->pid,
			     e->path);
		if (n < 0 || (size_t)n >= sizeof(path))
			return 0;
		if (stat(path, &sb) || sb.st_ino != e->ino)
			snprintf(path, sizeof(path),
				 "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
				 s->pid, (uint64_t)e->start, (uint64_t)e->end);
		f = lookup_path(a, path, e->path, e->deleted, &s->attached);
		if (!f)
			return 0;
		set_map_key(a, f, mdev, e->ino);
	}
	f->seen_gen = a->gen;
	if (f->kind != AFILE_SSL || f->scan_stamp == a->scan_stamp)
		return 0;
	f->scan_stamp = a->scan_stamp;
	s->saw_ssl = true;
	if (s->full)
		f->nprocs_scan++;
	else if (f->nprocs == 0)
		f->nprocs = 1;
	return 0;
}

static int scan_one(struct attach *a, int pid, bool full, bool *saw_ssl)
{
	struct scan s = { .a = a, .pid = pid, .full = full };
	int err;

	a->scan_stamp++;
	err = procmaps__for_each(pid, true, scan_mapping, &s);
	*saw_ssl = s.saw_ssl;
	return err ? err : s.attached;
}

int attach__scan_pid(struct attach *a, int pid)
{
	bool saw_ssl;

	return scan_one(a, pid, false, &saw_ssl);
}

static int parse_pid(const char *name)
{
	long v;
	char *end;

	if (!isdigit((unsigned char)name[0]))
		return -1;
	errno = 0;
	v = strtol(name, &end, 10);
	if (errno || *end || v <= 0 || v > INT32_MAX)
		return -1;
	return (int)v;
}

/* After a full scan: publish counts and forget unseen negatives. */
static void finish_full_scan(struct attach *a)
{
	struct afile **pp = &a->files, *f;

	a->files_tail = &a->files;
	while ((f = *pp) != NULL) {
		f->nprocs = f->nprocs_scan;
		f->nprocs_scan = 0;
		if (f->kind == AFILE_NONE && f->seen_gen != a->gen) {
			*pp = f->next;
			unlink_chain(&a->by_st[hash_key(f->dev, f->ino)], f,
				     false);
			if (f->has_map_key)
				unlink_chain(&a->by_map[hash_key(f->map_dev,
								  f->map_ino)],
					     f, true);
			afile_free(f);
			continue;
		}
		pp = &f->next;
		a->files_tail = pp;
	}
}

int attach__scan_all(struct attach *a)
{
	__u32 procs = 0;
	struct dirent *de;
	int pid, n, attached = 0;
	bool saw_ssl;
	DIR *d;

	d = opendir("/proc");
	if (!d) {
		n = -errno;
		pr_err("opendir /proc: %s", strerror(-n));
		return n;
	}
	a->gen++;
	while ((de = readdir(d)) != NULL) {
		pid = parse_pid(de->d_name);
		if (pid < 0)
			continue;
		n = scan_one(a, pid, true, &saw_ssl);
		if (n > 0)
			attached += n;
		if (saw_ssl)
			procs++;
	}
	closedir(d);
	finish_full_scan(a);
	a->st.procs_traced = procs;
	return attached;
}

static bool dir_candidate(const char *name)
{
	if (strncmp(name, "libssl", 6) && strncmp(name, "ld-linux", 8))
		return false;
	return strstr(name, ".so") != NULL;
}

int attach__scan_dirs(struct attach *a)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	int attached = 0;
	size_t i;
	DIR *d;

	for (i = 0; i < sizeof(std_dirs) / sizeof(std_dirs[0]); i++) {
		d = opendir(std_dirs[i]);
		if (!d)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (!dir_candidate(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", std_dirs[i],
				 de->d_name);
			/* Shown by its real name, not the first symlink. */
			lookup_path(a, path, realpath(path, real) ? real : path,
				    false, &attached);
		}
		closedir(d);
	}
	return attached;
}

void attach__stats(const struct attach *a, struct attach_stats *st)
{
	if (!a) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = a->st;
}

int attach__for_each_file(const struct attach *a,
			  int (*cb)(void *ctx, const char *path, __u64 dev,
				    __u64 ino, __u32 nprocs),
			  void *ctx)
{
	const struct afile *f;
	int ret;

	if (!a)
		return 0;
	for (f = a->files; f; f = f->next) {
		if (f->kind != AFILE_SSL)
			continue;
		ret = cb(ctx, f->path, f->dev, f->ino, f->nprocs);
		if (ret)
			return ret;
	}
	return 0;
}
