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
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <bpf/bpf.h>

#include "capture/attach.h"
#include "capture_abi.h"
#include "capture/elfsym.h"
#include "lib/log.h"
#include "capture/procmaps.h"
#include "capture/target.h"
#include "capture/uprobe.h"

#define HASH_BITS	12
#define HASH_SIZE	(1u << HASH_BITS)
#define ROOT_CACHE	256	/* foreign roots remembered */

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
	__s64 ctime_sec, ctime_nsec;	/* stat(2), to spot a reused ino */
	__u64 size;
	bool has_map_key;
	enum afile_kind kind;
	int err;			/* negative entries: why */
	__u32 nprocs;			/* processes at the last full scan */
	__u32 nprocs_scan;		/* counting in the current full scan */
	__u64 scan_stamp;		/* last process scan that counted it */
	__u64 seen_gen;			/* last full scan generation seen */
	__u64 root_dev, root_ino;	/* found in this root's lib dirs; or 0 */
	int fd;				/* kept open while attached, or -1 */
	__u32 noffs;			/* probed functions */
	__u64 offs[CAP_FN_NR];		/* their file offsets */
	__u64 cookies[CAP_FN_NR];	/* their enum cap_fn */
	struct alink *links;
	char path[];
};

/*
 * The links of one file for one process, or for all (pid -1): an SSL
 * provider has an entry and a return link, ld.so an entry link.
 */
struct alink {
	struct alink *next;
	int pid;
	struct uprobe_link *l[2];
};

/* A process with links of its own (targeted mode). */
struct apid {
	struct apid *next;
	int pid;
	__u32 nlinks;
	__u64 seen_gen;		/* last full scan that found it alive */
};

/*
 * A process root directory already scanned.  The ctime tells a new
 * directory that reuses a freed inode number from the one we scanned.
 */
struct aroot {
	__u64 dev, ino;
	__s64 ctime_sec;
	__s64 ctime_nsec;
};

struct attach {
	struct attach_progs progs;
	__u64 self_root_dev, self_root_ino;	/* stat("/") at creation */
	struct aroot roots[ROOT_CACHE];
	unsigned int nroots, root_next;
	struct afile *files, **files_tail;
	struct afile *by_st[HASH_SIZE];
	struct afile *by_map[HASH_SIZE];
	__u64 scan_stamp;		/* one per process scan */
	__u64 gen;			/* one per full scan */
	struct attach_stats st;
	struct target *tgt;		/* targeted mode; borrowed */
	int selected_fd;		/* BPF map of the tgids linked, or -1 */
	struct apid *pids[HASH_SIZE];	/* targeted mode: processes linked */
	struct uprobe_reaper *reaper;	/* frees links off the event loop */
};

/* One process scan. */
struct scan {
	struct attach *a;
	int pid;
	bool full;		/* part of attach__scan_all() */
	bool saw_ssl;		/* the process maps a provider */
	int attached;		/* files newly attached */
	int sel;		/* targeted: enum target_result, or -1 */
	bool denied;		/* maps or a mapped file: EACCES/EPERM */
};

static const char *const ssl_syms[CAP_FN_NR] = {
	[CAP_FN_WRITE] = "SSL_write",
	[CAP_FN_WRITE_EX] = "SSL_write_ex",
	[CAP_FN_READ] = "SSL_read",
	[CAP_FN_READ_EX] = "SSL_read_ex",
	[CAP_FN_FREE] = "SSL_free",
};

/* A provider exports both; the _ex functions and SSL_free are optional. */
#define SSL_REQUIRED	(1u << CAP_FN_WRITE | 1u << CAP_FN_READ)

static const char *const std_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
	"/usr/lib64", "/usr/local/lib", "/usr/lib",
};

/* The same, relative to a foreign root, in ld.so's search order. */
static const char *const root_dirs[] = {
	"lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib",
	"lib64", "usr/lib64", "usr/local/lib",
	"usr/local/lib/x86_64-linux-gnu",
};
#define ROOT_DIRS	(sizeof(root_dirs) / sizeof(root_dirs[0]))
#define ENV_DIRS_MAX	8	/* LD_LIBRARY_PATH entries looked at */
#define ENVIRON_MAX	65536	/* bytes of /proc/PID/environ read */

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

static void alink_free(struct alink *al)
{
	uprobe__free(al->l[0]);
	uprobe__free(al->l[1]);
	free(al);
}

/*
 * Only negative entries, which have no links, are freed before
 * attach__free(), which closes all the links first, at once.
 */
static void afile_free(struct afile *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

int attach__new(struct attach **out, const struct attach_progs *progs)
{
	struct attach *a;
	struct stat sb;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->progs = *progs;
	a->files_tail = &a->files;
	a->selected_fd = -1;
	if (uprobe__reaper_new(&a->reaper)) {
		free(a);
		return -ENOMEM;
	}
	if (stat("/", &sb) == 0) {
		a->self_root_dev = sb.st_dev;
		a->self_root_ino = sb.st_ino;
	}
	*out = a;
	return 0;
}

void attach__free(struct attach *a)
{
	struct uprobe_link **v = NULL;
	struct afile *f, *next;
	struct alink *al, *anext;
	size_t n = 0, cap = 0, i;

	if (!a)
		return;
	/*
	 * Every link first, from several threads: each close waits for a
	 * grace period, and one after the other that took a minute with
	 * fifty files attached.
	 */
	for (f = a->files; f; f = f->next)
		for (al = f->links; al; al = al->next)
			cap += 2;
	if (cap)
		/* An array of pointers: its elements are pointers. */
		/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
		v = calloc(cap, sizeof(*v));
	for (f = a->files; f && v; f = f->next) {
		for (al = f->links; al; al = anext) {
			anext = al->next;
			for (i = 0; i < 2; i++)
				if (al->l[i])
					v[n++] = al->l[i];
			free(al);
		}
		f->links = NULL;
	}
	uprobe__free_all(v, n);
	free(v);
	uprobe__reaper_free(a->reaper);
	for (f = a->files; f; f = next) {
		next = f->next;
		afile_free(f);
	}
	for (i = 0; i < HASH_SIZE; i++) {
		struct apid *p, *pn;

		for (p = a->pids[i]; p; p = pn) {
			pn = p->next;
			free(p);
		}
	}
	free(a);
}

/*
 * Attaches @f's programs for process @pid (-1: every process) through
 * its kept fd.  Returns 0 or -errno; nothing stays attached on error.
 */
static int link_file(struct attach *a, struct afile *f, int pid)
{
	bool multi = a->progs.multi;
	struct alink *al;
	__u64 roffs[CAP_FN_NR], rcookies[CAP_FN_NR];
	char path[64];
	__u32 i, nret = 0;
	int err;

	al = calloc(1, sizeof(*al));
	if (!al)
		return -ENOMEM;
	al->pid = pid;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
	if (f->kind == AFILE_SSL) {
		err = uprobe__attach(&al->l[0], a->progs.ssl_enter, multi,
				     false, path, f->offs, f->cookies,
				     f->noffs, pid);
		/* Returns: reads, and writes unless taken at entry. */
		for (i = 0; i < f->noffs; i++) {
			if (f->cookies[i] == CAP_FN_FREE ||
			    (a->progs.write_at_entry &&
			     f->cookies[i] <= CAP_FN_WRITE_EX))
				continue;
			roffs[nret] = f->offs[i];
			rcookies[nret++] = f->cookies[i];
		}
		if (!err)
			err = uprobe__attach(&al->l[1], a->progs.ssl_return,
					     multi, true, path, roffs, rcookies,
					     nret, pid);
	} else {
		err = uprobe__attach(&al->l[0], a->progs.dl_debug_state,
				     multi, false, path, f->offs, f->cookies,
				     1, pid);
	}
	if (err) {
		alink_free(al);
		return err;
	}
	al->next = f->links;
	f->links = al;
	return 0;
}

static struct apid *find_pid(const struct attach *a, int pid)
{
	struct apid *p;

	for (p = a->pids[(unsigned int)pid & (HASH_SIZE - 1)]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

/*
 * Targeted mode: attaches @f for process @pid unless it already is, and
 * enters the process in the BPF map of selected tgids.
 * Returns 1 when newly attached, 0 when it already was, or -errno.
 */
static int link_pid(struct attach *a, struct afile *f, int pid)
{
	struct apid *p = find_pid(a, pid);
	struct alink *al;
	__u32 key = (__u32)pid;
	__u8 one = 1;
	int err;

	for (al = f->links; p && al; al = al->next)
		if (al->pid == pid)
			return 0;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->pid = pid;
		p->seen_gen = a->gen;
		p->next = a->pids[(unsigned int)pid & (HASH_SIZE - 1)];
		a->pids[(unsigned int)pid & (HASH_SIZE - 1)] = p;
		a->st.procs_targeted++;
		if (a->selected_fd >= 0)
			bpf_map_update_elem(a->selected_fd, &key, &one,
					    BPF_ANY);
	}
	err = link_file(a, f, pid);
	if (err) {
		pr_debug("attach to %s for pid %d: %s", f->path, pid,
			 strerror(-err));
		return err;
	}
	p->nlinks++;
	return 1;
}

bool attach__pid_selected(const struct attach *a, int pid)
{
	return !a->tgt || find_pid(a, pid);
}

void attach__forget_pid(struct attach *a, int pid)
{
	struct apid **pp, *p;
	struct alink **lp, *al;
	__u32 key = (__u32)pid;
	struct afile *f;

	if (!a || !a->tgt)
		return;
	pp = &a->pids[(unsigned int)pid & (HASH_SIZE - 1)];
	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	p = *pp;
	if (!p)
		return;
	/* Its calls stop counting now, before its probes are gone. */
	if (a->selected_fd >= 0)
		bpf_map_delete_elem(a->selected_fd, &key);
	for (f = a->files; f && p->nlinks; f = f->next) {
		for (lp = &f->links; (al = *lp) != NULL;) {
			if (al->pid != pid) {
				lp = &al->next;
				continue;
			}
			*lp = al->next;
			/* Each close waits for a grace period: not here. */
			uprobe__free_later(a->reaper, al->l[0]);
			uprobe__free_later(a->reaper, al->l[1]);
			free(al);
			p->nlinks--;
		}
	}
	*pp = p->next;
	free(p);
	a->st.procs_targeted--;
}

/*
 * Classifies the file open at @fd and attaches what fits.  The probes
 * are attached through /proc/self/fd/FD of a copy of @fd that the entry
 * keeps (f->fd), valid when the process we found the file through has
 * exited.  Sets f->kind; returns 0, or -errno (the entry then stays
 * negative).  @fd stays the caller's.
 */
static int probe_file(struct attach *a, struct afile *f, int fd)
{
	struct elfsym *es = NULL;
	unsigned int found = 0;
	__u64 off;
	int i, err;

	err = elfsym__open_fd(fd, &es);
	if (err)
		return err;
	if (!elfsym__native(es)) {
		elfsym__free(es);
		return -ENOEXEC;
	}
	for (i = 0; i < CAP_FN_NR; i++) {
		if (elfsym__offset(es, ssl_syms[i], &off))
			continue;
		f->offs[f->noffs] = off;
		f->cookies[f->noffs++] = (__u64)i;
		found |= 1u << i;
	}
	if ((found & SSL_REQUIRED) == SSL_REQUIRED) {
		f->kind = AFILE_SSL;
	} else if (elfsym__offset(es, "_dl_debug_state", &off) == 0) {
		f->kind = AFILE_LDSO;
		f->offs[0] = off;
		f->cookies[0] = 0;
		f->noffs = 1;
	} else {
		f->noffs = 0;
		err = -ENOENT;
	}
	elfsym__free(es);
	if (err)
		return err;
	f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (f->fd < 0)
		return -errno;
	/* Targeted mode: links per selected process only (link_pid()). */
	if (a->tgt)
		return 0;
	err = link_file(a, f, -1);
	if (err) {
		close(f->fd);
		f->fd = -1;
		pr_warn("attach to %s: %s", f->path, strerror(-err));
	}
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
	int err;

	f = calloc(1, sizeof(*f) + len + 1);
	if (!f)
		return NULL;
	snprintf(f->path, len + 1, "%s%s", display, deleted ? " (deleted)" : "");
	f->dev = sb->st_dev;
	f->ino = sb->st_ino;
	f->ctime_sec = sb->st_ctim.tv_sec;
	f->ctime_nsec = sb->st_ctim.tv_nsec;
	f->size = sb->st_size;
	f->seen_gen = a->gen;
	f->fd = -1;
	err = probe_file(a, f, fd);
	if (err) {
		if (f->kind != AFILE_NONE)
			a->st.attach_errors++;
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

/* Unlinks @f from the list and both indexes, and frees it. */
static void forget_file(struct attach *a, struct afile *f)
{
	struct afile **pp = &a->files;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = f->next;
	if (a->files_tail == &f->next)
		a->files_tail = pp;
	unlink_chain(&a->by_st[hash_key(f->dev, f->ino)], f, false);
	if (f->has_map_key)
		unlink_chain(&a->by_map[hash_key(f->map_dev, f->map_ino)], f,
			     true);
	afile_free(f);
}

/*
 * find_st() for a file just stat'ed as @sb.  A negative entry whose
 * ctime or size differ stands for a deleted file whose inode number a
 * new file now has (container root filesystems come and go): it is
 * forgotten, so the new file is looked at.  An attached file cannot be
 * in that case: its uprobes hold the inode, so its number stays taken.
 */
static struct afile *find_file(struct attach *a, const struct stat *sb)
{
	struct afile *f = find_st(a, sb->st_dev, sb->st_ino);

	if (f && f->kind == AFILE_NONE &&
	    (f->ctime_sec != sb->st_ctim.tv_sec ||
	     f->ctime_nsec != sb->st_ctim.tv_nsec ||
	     f->size != (__u64)sb->st_size)) {
		forget_file(a, f);
		f = NULL;
	}
	return f;
}

/*
 * Finds the entry for the file open at @fd, adding it on first sight.
 * Returns NULL when it is not a regular file or without memory.
 */
static struct afile *lookup_fd(struct attach *a, int fd, const char *display,
			       bool deleted, int *added)
{
	struct afile *f;
	struct stat sb;

	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
		return NULL;
	f = find_file(a, &sb);
	if (!f) {
		f = add_file(a, fd, &sb, display, deleted);
		if (f && f->kind != AFILE_NONE)
			(*added)++;
	}
	return f;
}

/*
 * Finds the entry for @path, adding it on first sight.  Returns NULL
 * when the file cannot be reached (the process may be gone: not
 * remembered, a later scan retries) or without memory.
 */
static struct afile *lookup_path(struct attach *a, const char *path,
				 const char *display, bool deleted, int *added,
				 bool *denied)
{
	struct afile *f;
	struct stat sb;
	int fd;

	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		goto fail;
	f = find_file(a, &sb);
	if (f)
		return f;
	/* Attach through an fd: see probe_file(). */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	f = lookup_fd(a, fd, display, deleted, added);
	close(fd);
	return f;

fail:
	if (denied && (errno == EACCES || errno == EPERM))
		*denied = true;
	return NULL;
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
		f = lookup_path(a, path, e->path, e->deleted, &s->attached,
				&s->denied);
		if (!f)
			return 0;
		set_map_key(a, f, mdev, e->ino);
	}
	f->seen_gen = a->gen;
	if (a->tgt && f->kind != AFILE_NONE) {
		if (s->sel < 0)
			s->sel = target__match(a->tgt, s->pid);
		if (s->sel == TARGET_YES && link_pid(a, f, s->pid) > 0)
			s->attached++;
	}
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

static int scan_one(struct attach *a, int pid, bool full, bool *saw_ssl,
		    bool *denied)
{
	struct scan s = { .a = a, .pid = pid, .full = full, .sel = -1 };
	struct apid *p;
	int err;

	a->scan_stamp++;
	err = procmaps__for_each(pid, true, scan_mapping, &s);
	*saw_ssl = s.saw_ssl;
	*denied = s.denied || err == -EACCES || err == -EPERM;
	p = a->tgt ? find_pid(a, pid) : NULL;
	if (p) {
		/* Linked before: still selected (a new image may not be)? */
		if (s.sel < 0 && !err)
			s.sel = target__match(a->tgt, pid);
		if (err == -ENOENT || (s.sel >= 0 && s.sel != TARGET_YES))
			attach__forget_pid(a, pid);
		else
			p->seen_gen = a->gen;
	}
	return err ? err : s.attached;
}

int attach__scan_pid(struct attach *a, int pid)
{
	bool saw_ssl, denied;

	return scan_one(a, pid, false, &saw_ssl, &denied);
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
	struct apid *p, *next;
	unsigned int i;

	/* Targeted processes no scan found: gone (their exit was missed). */
	for (i = 0; a->tgt && i < HASH_SIZE; i++) {
		for (p = a->pids[i]; p; p = next) {
			next = p->next;
			if (p->seen_gen != a->gen)
				attach__forget_pid(a, p->pid);
		}
	}

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
	__u32 procs = 0, ndenied = 0;
	struct dirent *de;
	int pid, n, attached = 0;
	bool saw_ssl, denied;
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
		n = scan_one(a, pid, true, &saw_ssl, &denied);
		if (n > 0)
			attached += n;
		if (saw_ssl)
			procs++;
		if (denied) {
			ndenied++;
			pr_debug("pid %d: permission denied reading its maps "
				 "or a file it maps", pid);
		}
	}
	closedir(d);
	finish_full_scan(a);
	a->st.procs_traced = procs;
	if (ndenied && !a->st.procs_denied)
		pr_warn("%u process(es) could not be inspected (permission "
			"denied on /proc/PID/maps or a mapped file): their "
			"OpenSSL, if any, is not traced; see status "
			"attach.processes_denied", ndenied);
	a->st.procs_denied = ndenied;
	return attached;
}

static bool dir_candidate(const char *name)
{
	if (strncmp(name, "libssl", 6) && strncmp(name, "ld-linux", 8) &&
	    strncmp(name, "ld-musl", 7))
		return false;
	return strstr(name, ".so") != NULL;
}

/* Notes that @f (may be NULL) was found in the lib dirs of a root. */
static void set_root(struct afile *f, __u64 dev, __u64 ino)
{
	if (f && !f->root_ino) {
		f->root_dev = dev;
		f->root_ino = ino;
	}
}

int attach__scan_dirs(struct attach *a)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct afile *f;
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
			f = lookup_path(a, path,
					realpath(path, real) ? real : path,
					false, &attached, NULL);
			set_root(f, a->self_root_dev, a->self_root_ino);
		}
		closedir(d);
	}
	return attached;
}

/* openat2(2) below @rootfd as if it were "/": absolute symlinks stay in. */
static int open_in_root(int rootfd, const char *path, __u64 flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

static bool ldso_name(const char *name)
{
	return !strncmp(name, "ld-linux", 8) || !strncmp(name, "ld-musl", 7);
}

/*
 * Looks at the candidates (dir_candidate()) of directory @dir under the
 * root open at @rootfd: the libssl ones, or with @ldso the ld.so ones.
 * Regular files go first so that a file is shown by its own name rather
 * than by a symlink's.  Directories already seen in this round (merged
 * /usr: lib is usr/lib) are skipped via @seen.
 */
static void scan_root_dir(struct attach *a, int pid, int rootfd,
			  const struct stat *root, const char *dir, bool ldso,
			  struct stat *seen, int *nseen, int *attached)
{
	char rel[PATH_MAX], display[PATH_MAX + 32];
	struct dirent *de;
	struct stat sb;
	int dfd, fd, i, pass;
	DIR *d;

	dfd = open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return;
	if (fstat(dfd, &sb))
		goto out_close;
	for (i = 0; i < *nseen; i++)
		if (seen[i].st_dev == sb.st_dev && seen[i].st_ino == sb.st_ino)
			goto out_close;
	seen[(*nseen)++] = sb;
	d = fdopendir(dfd);
	if (!d)
		goto out_close;
	for (pass = 0; pass < 2; pass++) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			if (!dir_candidate(de->d_name) ||
			    ldso_name(de->d_name) != ldso ||
			    (de->d_type == DT_LNK) != (pass == 1))
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name);
			fd = open_in_root(rootfd, rel, O_RDONLY);
			if (fd < 0)
				continue;
			snprintf(display, sizeof(display), "/proc/%d/root/%s",
				 pid, rel);
			set_root(lookup_fd(a, fd, display, false, attached),
				 root->st_dev, root->st_ino);
			close(fd);
		}
	}
	closedir(d);	/* closes dfd */
	return;

out_close:
	close(dfd);
}

/*
 * The absolute directories of LD_LIBRARY_PATH in process @pid's
 * environment, made relative to its root ("opt/ssl/lib") and copied into
 * @buf of @len bytes; up to ENV_DIRS_MAX pointers go to @dirs.  Returns
 * how many (0 when unset or unreadable).
 */
static int env_lib_dirs(int pid, char *buf, size_t len, const char **dirs)
{
	static const char key[] = "LD_LIBRARY_PATH=";
	char path[64], *env, *p, *end, *tok, *save;
	ssize_t n, got = 0;
	int fd, ndirs = 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	env = malloc(ENVIRON_MAX + 1);
	if (!env)
		goto out_close;
	while (got < ENVIRON_MAX &&
	       (n = read(fd, env + got, ENVIRON_MAX - got)) > 0)
		got += n;
	env[got] = '\0';
	for (p = env, end = env + got; p < end; p += strlen(p) + 1) {
		if (strncmp(p, key, sizeof(key) - 1))
			continue;
		snprintf(buf, len, "%s", p + sizeof(key) - 1);
		for (tok = strtok_r(buf, ":", &save);
		     tok && ndirs < ENV_DIRS_MAX;
		     tok = strtok_r(NULL, ":", &save)) {
			if (tok[0] != '/' || !tok[1])
				continue;
			dirs[ndirs++] = tok + 1;
		}
		break;
	}
	free(env);
out_close:
	close(fd);
	return ndirs;
}

static bool root_known(const struct attach *a, const struct stat *sb)
{
	const struct aroot *r;
	unsigned int i;

	for (i = 0; i < a->nroots; i++) {
		r = &a->roots[i];
		if (r->ino == sb->st_ino && r->dev == sb->st_dev &&
		    r->ctime_sec == sb->st_ctim.tv_sec &&
		    r->ctime_nsec == sb->st_ctim.tv_nsec)
			return true;
	}
	return false;
}

/* Remembers @sb's root; the oldest entry goes when the cache is full. */
static void remember_root(struct attach *a, const struct stat *sb)
{
	struct aroot *r = &a->roots[a->root_next];

	r->dev = sb->st_dev;
	r->ino = sb->st_ino;
	r->ctime_sec = sb->st_ctim.tv_sec;
	r->ctime_nsec = sb->st_ctim.tv_nsec;
	a->root_next = (a->root_next + 1) % ROOT_CACHE;
	if (a->nroots < ROOT_CACHE)
		a->nroots++;
}

/* @path: /proc/@pid/root, and @root its stat(2). */
static int scan_new_root(struct attach *a, int pid, const char *path,
			 const struct stat *root)
{
	const char *dirs[ROOT_DIRS + ENV_DIRS_MAX];
	struct stat sb, seen[ROOT_DIRS + ENV_DIRS_MAX];
	int rootfd, nseen, ndirs, ldso, i, attached = 0;
	char envbuf[PATH_MAX];

	if (root->st_ino == a->self_root_ino &&
	    root->st_dev == a->self_root_dev)
		return 0;
	if (root_known(a, root))
		return 0;
	/* The fd pins this root even if the process exits meanwhile. */
	rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	if (fstat(rootfd, &sb) || root_known(a, &sb))
		goto out_close;
	for (ndirs = 0; ndirs < (int)ROOT_DIRS; ndirs++)
		dirs[ndirs] = root_dirs[ndirs];
	ndirs += env_lib_dirs(pid, envbuf, sizeof(envbuf), dirs + ndirs);
	/*
	 * libssl first: the first uprobe registered after a quiet spell
	 * waits for an RCU grace period (the kernel's dup_mmap_sem), the
	 * ones right after it do not, and the program is already running.
	 */
	for (ldso = 0; ldso < 2; ldso++) {
		nseen = 0;
		for (i = 0; i < ndirs; i++)
			scan_root_dir(a, pid, rootfd, &sb, dirs[i], ldso,
				      seen, &nseen, &attached);
	}
	remember_root(a, &sb);
	a->st.roots_scanned++;
out_close:
	close(rootfd);
	return attached;
}

/*
 * Targeted mode, at @pid's exec: when it is selected, attaches for it
 * the files of its root's library directories before its loader maps
 * them; when it is not, drops what an earlier image had.
 */
static int prelink_pid(struct attach *a, int pid, const struct stat *root)
{
	struct afile *f;
	int sel, attached = 0;

	sel = target__match(a->tgt, pid);
	pr_debug("pid %d: exec, targeted: %s", pid,
		 sel == TARGET_YES ? "selected" :
		 sel == TARGET_UNKNOWN ? "undecided (pod not known yet)" :
		 sel < 0 ? "gone" : "not selected");
	if (sel != TARGET_YES) {
		attach__forget_pid(a, pid);
		return sel < 0 ? sel : 0;
	}
	for (f = a->files; f; f = f->next)
		if (f->kind != AFILE_NONE && f->root_ino == root->st_ino &&
		    f->root_dev == root->st_dev && link_pid(a, f, pid) > 0)
			attached++;
	return attached;
}

int attach__scan_root(struct attach *a, int pid)
{
	struct stat root;
	char path[64];
	int n, m;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	if (stat(path, &root))
		return -errno;
	n = scan_new_root(a, pid, path, &root);
	if (!a->tgt || n < 0)
		return n;
	m = prelink_pid(a, pid, &root);
	return m < 0 ? m : n + m;
}

void attach__set_target(struct attach *a, struct target *t, int selected_fd)
{
	a->tgt = t;
	a->selected_fd = selected_fd;
	a->st.targeted = t != NULL;
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
