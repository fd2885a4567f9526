// SPDX-License-Identifier: MIT
/*
 * attach.c - the registry of probed files (attach.h): entries keyed by
 * inode, their links, and targeted mode's processes.  What a file is
 * comes from the table of TLS stacks (stack.h); the scans that find
 * files are in scan.c and libdirs.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>

#include "capture/attach_int.h"
#include "capture/idcache.h"
#include "capture/identify.h"
#include "lib/log.h"
#include "capture/uprobe.h"

/*
 * How long shutdown waits for a search in progress to reach its next
 * phase before it leaves the worker behind (identify__free()).
 */
#define IDENTIFY_WAIT_MS	500

#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID	0x200	/* Linux 6.5, include/uapi/linux/fcntl.h */
#endif

static unsigned int hash_key(__u64 dev, __u64 ino)
{
	__u64 h = (ino ^ (dev << 21) ^ (dev >> 11)) * 0x9e3779b97f4a7c15ULL;

	return (unsigned int)(h >> (64 - HASH_BITS));
}

/* FNV-1a over the handle's type and bytes. */
static unsigned int hash_fh(const struct afh *k)
{
	__u64 h = 0xcbf29ce484222325ULL ^ (__u32)k->type;
	__u32 i;

	for (i = 0; i < k->len; i++)
		h = (h ^ k->b[i]) * 0x100000001b3ULL;
	return (unsigned int)((h * 0x9e3779b97f4a7c15ULL) >> (64 - HASH_BITS));
}

static struct afile *find_st(const struct attach *a, __u64 dev, __u64 ino)
{
	struct afile *f = a->by_st[hash_key(dev, ino)];

	while (f && (f->dev != dev || f->ino != ino))
		f = f->st_next;
	return f;
}

struct afile *attach_find_map(const struct attach *a, __u64 dev, __u64 ino)
{
	struct afile *f = a->by_map[hash_key(dev, ino)];

	while (f && (f->map_dev != dev || f->map_ino != ino))
		f = f->map_next;
	return f;
}

void attach_set_map_key(struct attach *a, struct afile *f, __u64 dev,
			__u64 ino)
{
	unsigned int h = hash_key(dev, ino);

	if (f->has_map_key || attach_find_map(a, dev, ino))
		return;
	f->map_dev = dev;
	f->map_ino = ino;
	f->has_map_key = true;
	f->map_next = a->by_map[h];
	a->by_map[h] = f;
}

/* Which chain of an afile unlink_chain() follows. */
enum chain { CHAIN_ST, CHAIN_MAP, CHAIN_FH };

static struct afile **chain_next(struct afile *f, enum chain c)
{
	return c == CHAIN_MAP ? &f->map_next :
	       c == CHAIN_FH ? &f->fh_next : &f->st_next;
}

static void unlink_chain(struct afile **head, struct afile *f, enum chain c)
{
	struct afile **pp = head;

	while (*pp && *pp != f)
		pp = chain_next(*pp, c);
	if (*pp)
		*pp = *chain_next(f, c);
}

/*
 * Whether the file stat'ed as @sb, found under a key taken with ctime
 * @sec.@nsec and size @size, is another file that got the same device
 * and inode numbers since.
 */
static bool key_stale(__s64 sec, __s64 nsec, __u64 size, const struct stat *sb)
{
	return sec != sb->st_ctim.tv_sec || nsec != sb->st_ctim.tv_nsec ||
	       size != (__u64)sb->st_size;
}

static struct afile *find_fh(const struct attach *a, const struct afh *k)
{
	struct afile *f = a->by_fh[hash_fh(k)];

	while (f && (f->fh.type != k->type || f->fh.len != k->len ||
		     memcmp(f->fh.b, k->b, k->len)))
		f = f->fh_next;
	return f;
}

/*
 * The handle of the file open at @fd into @k when it is on overlayfs
 * (statfs(2) f_type OVERLAYFS_SUPER_MAGIC), else @k->len 0.  AT_HANDLE_FID
 * (Linux 6.5) asks for a handle to compare, not to open: overlayfs gives
 * one without its nfs_export option.  An older kernel (EINVAL), a
 * filesystem without handles (EOPNOTSUPP) or a handle over FH_MAX bytes
 * (EOVERFLOW) leave the file keyed by (st_dev, st_ino) alone.
 */
static void fd_handle(int fd, struct afh *k)
{
	union {
		struct file_handle h;
		char buf[sizeof(struct file_handle) + FH_MAX];
	} u;
	struct statfs sfs;
	int mnt;

	k->len = 0;
	if (fstatfs(fd, &sfs) || sfs.f_type != OVERLAYFS_SUPER_MAGIC)
		return;
	u.h.handle_bytes = FH_MAX;
	if (name_to_handle_at(fd, "", &u.h, &mnt,
			      AT_EMPTY_PATH | AT_HANDLE_FID) ||
	    u.h.handle_bytes > FH_MAX) {
		pr_debug("overlayfs file handle: %s", strerror(errno));
		return;
	}
	k->type = u.h.handle_type;
	k->len = u.h.handle_bytes;
	memcpy(k->b, u.h.f_handle, k->len);
}

/* Unlinks alias @al from the alias index (not from its entry's list). */
static void unindex_alias(struct attach *a, struct aalias *al)
{
	struct aalias **pp = &a->by_alias[hash_key(al->dev, al->ino)];

	while (*pp && *pp != al)
		pp = &(*pp)->next;
	if (*pp)
		*pp = al->next;
	if (a->hit_alias == al)
		a->hit_alias = NULL;
}

/* Unlinks alias @al from the alias index and from its entry, and frees it. */
static void drop_alias(struct attach *a, struct aalias *al)
{
	struct aalias **pp;

	unindex_alias(a, al);
	for (pp = &al->f->aliases; *pp && *pp != al; pp = &(*pp)->f_next)
		;
	if (*pp)
		*pp = al->f_next;
	al->f->naliases--;
	free(al);
}

/*
 * The entry that (@sb->st_dev, @sb->st_ino) is an alias of, or NULL; an
 * alias whose file has changed is dropped (key_stale()).
 */
static struct afile *find_alias(struct attach *a, const struct stat *sb)
{
	struct aalias *al = a->by_alias[hash_key(sb->st_dev, sb->st_ino)];

	while (al && (al->dev != sb->st_dev || al->ino != sb->st_ino))
		al = al->next;
	if (!al)
		return NULL;
	if (key_stale(al->ctime_sec, al->ctime_nsec, al->size, sb)) {
		drop_alias(a, al);
		return NULL;
	}
	a->hit_alias = al;
	return al->f;
}

/*
 * Makes the file stat'ed as @sb an alias of @f, dropping @f's oldest
 * alias when it has ALIAS_MAX (that key then costs a handle lookup
 * again).  Without memory, nothing: the next lookup asks for the handle.
 */
static void add_alias(struct attach *a, struct afile *f, const struct stat *sb)
{
	unsigned int h = hash_key(sb->st_dev, sb->st_ino);
	struct aalias *al, *old;

	if (f->naliases >= ALIAS_MAX) {
		for (old = f->aliases; old->f_next; old = old->f_next)
			;
		drop_alias(a, old);
	}
	al = calloc(1, sizeof(*al));
	if (!al)
		return;
	al->f = f;
	al->dev = sb->st_dev;
	al->ino = sb->st_ino;
	al->ctime_sec = sb->st_ctim.tv_sec;
	al->ctime_nsec = sb->st_ctim.tv_nsec;
	al->size = sb->st_size;
	al->next = a->by_alias[h];
	a->by_alias[h] = al;
	al->f_next = f->aliases;
	f->aliases = al;
	f->naliases++;
	a->hit_alias = al;
}

void attach_set_root(struct attach *a, struct afile *f, __u64 root_dev,
		     __u64 root_ino)
{
	struct aalias *al = a->hit_alias;

	if (!f)
		return;
	if (al && al->f == f) {
		if (!al->root_ino) {
			al->root_dev = root_dev;
			al->root_ino = root_ino;
		}
	} else if (!f->root_ino) {
		f->root_dev = root_dev;
		f->root_ino = root_ino;
	}
}

bool attach_in_root(const struct afile *f, __u64 root_dev, __u64 root_ino)
{
	const struct aalias *al;

	if (f->root_ino == root_ino && f->root_dev == root_dev)
		return true;
	for (al = f->aliases; al; al = al->f_next)
		if (al->root_ino == root_ino && al->root_dev == root_dev)
			return true;
	return false;
}

static void alink_free(struct alink *al)
{
	uprobe__free(al->l[0]);
	uprobe__free(al->l[1]);
	free(al);
}

/*
 * Only negative entries, which have no links, are freed before
 * attach__free(), which closes all the links first, at once.  Frees the
 * aliases too: unindex_file() has taken them out of the index, or the
 * whole registry goes.
 */
static void afile_free(struct afile *f)
{
	struct aalias *al, *next;

	if (!f)
		return;
	for (al = f->aliases; al; al = next) {
		next = al->f_next;
		free(al);
	}
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

/*
 * Takes @f out of every index (not the list of files), its aliases
 * included; afile_free() frees them.
 */
static void unindex_file(struct attach *a, struct afile *f)
{
	struct aalias *al;

	unlink_chain(&a->by_st[hash_key(f->dev, f->ino)], f, CHAIN_ST);
	if (f->has_map_key)
		unlink_chain(&a->by_map[hash_key(f->map_dev, f->map_ino)], f,
			     CHAIN_MAP);
	if (f->fh.len)
		unlink_chain(&a->by_fh[hash_fh(&f->fh)], f, CHAIN_FH);
	for (al = f->aliases; al; al = al->f_next)
		unindex_alias(a, al);
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
	/* Without it, every copy is searched. */
	idcache__new(&a->cache);
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
	/* Before the entries go: a result names its entry. */
	identify__free(a->id, IDENTIFY_WAIT_MS);
	a->id = NULL;
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
	idcache__free(a->cache);
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
 * Whether @flags' probe gets the return program: reads, and writes
 * unless they are taken at entry (capture.write_probe).
 */
static bool wants_return(const struct attach *a, unsigned int flags)
{
	if (!(flags & TLS_PROBE_RETURN))
		return false;
	return !(a->progs.write_at_entry && (flags & TLS_PROBE_WRITE));
}

/*
 * Attaches @f's programs for process @pid (-1: every process) through
 * its kept fd: a stack's entry program on its functions and its return
 * program on those wants_return() (as a uretprobe, or as a uprobe on
 * return instructions: TLS_PROBE_RETSITE), or ld.so's dlopen probe.
 * Returns 0 or -errno; nothing stays attached on error.
 */
static int link_file(struct attach *a, struct afile *f, int pid)
{
	bool multi = a->progs.multi, retsite = false;
	struct alink *al;
	__u64 eoffs[TLS_PROBES_MAX], ecookies[TLS_PROBES_MAX];
	__u64 roffs[TLS_PROBES_MAX], rcookies[TLS_PROBES_MAX];
	char path[64];
	__u32 i, nenter = 0, nret = 0;
	int err;

	al = calloc(1, sizeof(*al));
	if (!al)
		return -ENOMEM;
	al->pid = pid;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
	if (f->kind == AFILE_STACK) {
		for (i = 0; i < f->noffs; i++) {
			if (!(f->flags[i] & TLS_PROBE_RETSITE)) {
				eoffs[nenter] = f->offs[i];
				ecookies[nenter++] = f->cookies[i];
			}
			if (!wants_return(a, f->flags[i]))
				continue;
			retsite |= !!(f->flags[i] & TLS_PROBE_RETSITE);
			roffs[nret] = f->offs[i];
			rcookies[nret++] = f->cookies[i];
		}
		err = uprobe__attach(&al->l[0], a->progs.enter[f->stack->id],
				     multi, false, path, eoffs, ecookies,
				     nenter, pid);
		if (!err && nret)
			err = uprobe__attach(&al->l[1],
					     a->progs.ret[f->stack->id],
					     multi, !retsite, path, roffs,
					     rcookies, nret, pid);
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

struct apid *attach_find_pid(const struct attach *a, int pid)
{
	struct apid *p;

	for (p = a->pids[(unsigned int)pid & (HASH_SIZE - 1)]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static int link_pid(struct attach *a, struct afile *f, int pid)
{
	struct apid *p = attach_find_pid(a, pid);
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

bool attach_linkable(const struct afile *f)
{
	return f->kind != AFILE_NONE || f->searching ||
	       (f->also && f->also->kind == AFILE_STACK);
}

/* Notes @pid to scan again when @f's search is done (once each). */
static void note_pid(struct afile *f, int pid)
{
	__u32 i;

	for (i = 0; i < f->nwait_pids; i++)
		if (f->wait_pids[i] == pid)
			return;
	/* Past the limit: the process's next scan links it. */
	if (f->nwait_pids < WAIT_PIDS_MAX)
		f->wait_pids[f->nwait_pids++] = pid;
}

int attach_link_pid(struct attach *a, struct afile *f, int pid)
{
	int ret = 0, also = 0;

	if (f->searching)
		note_pid(f, pid);
	if (f->kind == AFILE_STACK || f->kind == AFILE_LDSO)
		ret = link_pid(a, f, pid);
	if (ret >= 0 && f->also && f->also->kind == AFILE_STACK)
		also = link_pid(a, f->also, pid);
	return ret > 0 || also > 0 ? 1 : ret;
}

bool attach__pid_selected(const struct attach *a, int pid)
{
	return !a->tgt || attach_find_pid(a, pid);
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
 * Takes what match @m (its error @err) says of @f's file and attaches
 * it.  The probes are attached through /proc/self/fd/FD of a copy of
 * @fd that the entry keeps (f->fd), valid when the process we found the
 * file through has exited.  Sets f->kind; returns 0, or -errno (the
 * entry then stays negative).  @fd stays the caller's.
 */
static int probe_file(struct attach *a, struct afile *f, int fd,
		      const struct stack_match *m, int err)
{
	memcpy(f->found, m->found, sizeof(f->found));
	if (err && m->skipped) {
		f->stack = m->skipped;
		f->why = m->why;
		pr_info("%s: %s, not probed as %s", f->path, m->why,
			m->skipped->name);
	}
	if (err)
		return err;
	f->kind = m->stack ? AFILE_STACK : AFILE_LDSO;
	f->stack = m->stack;
	f->noffs = m->noffs;
	memcpy(f->offs, m->offs, sizeof(f->offs));
	memcpy(f->cookies, m->cookies, sizeof(f->cookies));
	memcpy(f->flags, m->flags, sizeof(f->flags));
	f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (f->fd < 0)
		return -errno;
	/* Targeted mode: links per selected process only (attach_link_pid()). */
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

/* A new entry for the file with stat @sb, shown as @display; or NULL. */
static struct afile *new_file(struct attach *a, const struct stat *sb,
			      const char *display, bool deleted)
{
	size_t len = strlen(display) + (deleted ? strlen(" (deleted)") : 0);
	struct afile *f;

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
	return f;
}

/* Counts the outcome @err of probing @f, which becomes negative on error. */
static void count_file(struct attach *a, struct afile *f, int err)
{
	if (err) {
		if (f->kind == AFILE_STACK) {
			a->st.attach_errors++;
			a->st.stack_errors[f->stack->id]++;
		} else if (f->kind == AFILE_LDSO) {
			a->st.ldso_errors++;
		}
		f->kind = AFILE_NONE;
		f->err = err;
	} else if (f->kind == AFILE_STACK) {
		a->st.files_attached++;
		a->st.stack_files[f->stack->id]++;
		pr_info("attached to %s in %s (dev %" PRIu64 " ino %" PRIu64 ")",
			f->stack->name, f->path, (uint64_t)f->dev,
			(uint64_t)f->ino);
	} else {
		a->st.ldso_attached++;
		pr_debug("attached dlopen probe to %s", f->path);
	}
}

/* A second entry for @f's file (stack.h, shares_file); or NULL. */
static struct afile *new_also(const struct afile *f)
{
	size_t len = strlen(f->path);
	struct afile *also;

	also = calloc(1, sizeof(*also) + len + 1);
	if (!also)
		return NULL;
	memcpy(also->path, f->path, len + 1);
	also->dev = f->dev;
	also->ino = f->ino;
	also->ctime_sec = f->ctime_sec;
	also->ctime_nsec = f->ctime_nsec;
	also->size = f->size;
	also->seen_gen = f->seen_gen;
	also->nprocs = f->nprocs;
	also->fd = -1;
	return also;
}

/* Puts @also, @f's second stack, right after @f in the list. */
static void insert_also(struct attach *a, struct afile *f, struct afile *also)
{
	f->also = also;
	also->next = f->next;
	f->next = also;
	if (a->files_tail == &f->next)
		a->files_tail = &also->next;
}

/*
 * Probes @f, the file open at @fd, as the @n entries of match @m (the
 * match's result @err) say: a second stack becomes f->also (not yet in
 * the list); the one found comes first when the other was refused.  A
 * failed file becomes a negative entry.  Returns 0, or -ENOMEM (@f
 * untouched).
 */
static int finish_file(struct attach *a, struct afile *f, int fd,
		       const struct stack_match *m, unsigned int n, int err)
{
	struct afile *also = NULL;
	unsigned int first = 0;

	if (n == STACK_MATCH_MAX) {
		also = new_also(f);
		if (!also)
			return -ENOMEM;
		if (m[0].err && !m[1].err)
			first = 1;
		err = m[first].err;
	}
	err = probe_file(a, f, fd, &m[first], err);
	count_file(a, f, err);
	if (also) {
		err = probe_file(a, also, fd, &m[!first], m[!first].err);
		count_file(a, also, err);
		f->also = also;
	}
	return 0;
}

/*
 * Keeps search result @m[0..@n) (@err) of @f's file, open at @fd, by
 * its build id (idcache.h), unless it has none or nothing to check.
 */
static void cache_result(struct attach *a, const struct afile *f, int fd,
			 const struct stack_match *m, unsigned int n, int err)
{
	struct build_id id;

	if (a->cache && !build_id__read(fd, &id) &&
	    !idcache__put(a->cache, &id, f->size, fd, m, n, err))
		pr_debug("%s: search result kept by its build id", f->path);
}

/*
 * The result of an earlier search of a file with @f's build id and
 * size, into @m, *@n and *@err, when its bytes at the probed offsets are
 * @f's too.  Returns true when so.
 */
static bool from_cache(struct attach *a, const struct afile *f, int fd,
		       struct stack_match *m, unsigned int *n, int *err)
{
	struct build_id id;
	int ret;

	if (!a->cache || build_id__read(fd, &id))
		return false;
	ret = idcache__get(a->cache, &id, f->size, fd, m, n, err);
	if (ret == -ESTALE)
		pr_warn("%s: same build id and size as a file searched "
			"before, other bytes at its functions: searched again",
			f->path);
	if (ret)
		return false;
	a->st.identify_cached++;
	pr_info("%s: same build id and size as a file searched before, and "
		"the same bytes at its functions: not searched again", f->path);
	return true;
}

/*
 * Hands the search for the stacks that are found in code to the worker
 * (identify.h), when the quick phase leaves it to do and no earlier
 * search of the same build holds (from_cache()): @f then waits for it
 * (f->searching; AFILE_PENDING when the quick phase found nothing).
 * Without a worker the search runs here.  Returns 1 when handed over, 0
 * when the file is to be probed at once (*@err and *@n: the whole
 * match), or -errno when the queue cannot take it (full: counted).
 */
static int hand_over(struct attach *a, struct afile *f, int fd,
		     struct stack_match *m, unsigned int *n, int *err)
{
	struct timespec ts;
	unsigned int quick;
	bool search;
	int ret;

	*err = stack__match_quick(fd, m, n, &search);
	if (!search || (!*n && from_cache(a, f, fd, m, n, err)))
		return 0;
	if (!a->id) {
		quick = *n;
		*err = stack__match_search(fd, m, n, NULL);
		if (!quick)
			cache_result(a, f, fd, m, *n, *err);
		return 0;
	}
	ret = identify__submit(a->id, fd, f, m, *n);
	if (ret == -ESRCH) {
		pr_warn("identification worker: no thread; files are "
			"searched on the event loop");
		identify__free(a->id, 0);
		a->id = NULL;
		return hand_over(a, f, fd, m, n, err);
	}
	if (ret) {
		if (ret == -EAGAIN)
			a->st.identify_deferred++;
		pr_debug("%s: not searched now: %s", f->path, strerror(-ret));
		return ret;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	f->searching = true;
	f->search_since_ns = (__u64)ts.tv_sec * 1000000000ULL +
			     (__u64)ts.tv_nsec;
	a->st.files_identifying++;
	if (!*n)
		f->kind = AFILE_PENDING;
	return 1;
}

/*
 * Adds the file open at @fd with stat @sb and handle @fh (len 0: none),
 * shown to users as @display, with the stacks it carries (hand_over(),
 * finish_file()).  Returns the new entry, or NULL without memory or
 * when the worker's queue is full (a later scan looks again).
 */
static struct afile *add_file(struct attach *a, int fd, const struct stat *sb,
			      const struct afh *fh, const char *display,
			      bool deleted)
{
	struct stack_match m[STACK_MATCH_MAX];
	unsigned int h = hash_key(sb->st_dev, sb->st_ino), n;
	struct afile *f;
	int err, ret;

	f = new_file(a, sb, display, deleted);
	if (!f)
		return NULL;
	ret = hand_over(a, f, fd, m, &n, &err);
	/*
	 * Searched: what the quick phase found (Go) is probed meanwhile
	 * (one entry: finish_file() cannot fail).
	 */
	if (ret < 0 || (f->kind != AFILE_PENDING &&
			finish_file(a, f, fd, m, ret ? 1 : n, err))) {
		free(f);
		return NULL;
	}
	f->st_next = a->by_st[h];
	a->by_st[h] = f;
	if (fh->len) {
		f->fh = *fh;
		h = hash_fh(fh);
		f->fh_next = a->by_fh[h];
		a->by_fh[h] = f;
	}
	*a->files_tail = f;
	a->files_tail = &f->next;
	if (f->also) {
		*a->files_tail = f->also;
		a->files_tail = &f->also->next;
	}
	return f;
}

/* Unlinks @f from the list and both indexes, and frees it. */
static void forget_file(struct attach *a, struct afile *f)
{
	struct afile **pp = &a->files;

	if (f->also) {
		struct afile *also = f->also;

		f->also = NULL;
		forget_file(a, also);
	}

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = f->next;
	if (a->files_tail == &f->next)
		a->files_tail = pp;
	unindex_file(a, f);
	afile_free(f);
}

/*
 * find_st(), then the aliases, for a file just stat'ed as @sb; notes in
 * a->hit_alias which alias matched (NULL: the file's own key).  A
 * negative entry whose ctime or size differ stands for a deleted file
 * whose inode number a new file now has (container root filesystems come
 * and go): it is forgotten, so the new file is looked at.  An attached
 * file cannot be in that case: its uprobes hold the inode, and its kept
 * fd the mount it was found through, so its numbers stay taken.  An
 * alias's mount is not held: find_alias() checks it the same way.
 */
static struct afile *find_file(struct attach *a, const struct stat *sb)
{
	struct afile *f = find_st(a, sb->st_dev, sb->st_ino);

	a->hit_alias = NULL;
	if (f && f->kind == AFILE_NONE && !f->searching &&
	    key_stale(f->ctime_sec, f->ctime_nsec, f->size, sb)) {
		forget_file(a, f);
		f = NULL;
	}
	return f ? f : find_alias(a, sb);
}

struct afile *attach_lookup_fd(struct attach *a, int fd, const char *display,
			       bool deleted, int *added)
{
	struct afile *f;
	struct stat sb;
	struct afh fh;

	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
		return NULL;
	f = find_file(a, &sb);
	if (f)
		return f;
	fd_handle(fd, &fh);
	f = fh.len ? find_fh(a, &fh) : NULL;
	if (f && f->kind == AFILE_NONE && !f->searching &&
	    key_stale(f->ctime_sec, f->ctime_nsec, f->size, &sb)) {
		forget_file(a, f);
		f = NULL;
	}
	if (f) {
		/* The same file through another mount: not read again. */
		add_alias(a, f, &sb);
		pr_debug("%s is %s (same overlayfs file handle)", display,
			 f->path);
		return f;
	}
	f = add_file(a, fd, &sb, &fh, display, deleted);
	if (f && f->kind != AFILE_NONE && f->kind != AFILE_PENDING)
		(*added)++;
	return f;
}

struct afile *attach_lookup_path(struct attach *a, const char *path,
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
	f = attach_lookup_fd(a, fd, display, deleted, added);
	close(fd);
	return f;

fail:
	if (denied && (errno == EACCES || errno == EPERM))
		*denied = true;
	return NULL;
}

void attach_end_full_scan(struct attach *a)
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
		if (f->also) {
			/* Its file's: seen and mapped as the file is. */
			f->also->seen_gen = f->seen_gen;
			f->also->nprocs_scan = f->nprocs_scan;
		}
		f->nprocs = f->nprocs_scan;
		f->nprocs_scan = 0;
		if (f->kind == AFILE_NONE && f->seen_gen != a->gen &&
		    !f->searching &&
		    !(f->also && f->also->kind != AFILE_NONE)) {
			*pp = f->next;
			unindex_file(a, f);
			afile_free(f);
			continue;
		}
		pp = &f->next;
		a->files_tail = pp;
	}
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
			  int (*cb)(void *ctx, const struct attach_file *af),
			  void *ctx)
{
	struct attach_file af;
	const struct afile *f;
	int ret;

	if (!a)
		return 0;
	for (f = a->files; f; f = f->next) {
		if (f->kind != AFILE_STACK && !f->why && !f->searching)
			continue;
		af = (struct attach_file){
			.path = f->path, .dev = f->dev, .ino = f->ino,
			.nprocs = f->nprocs, .aliases = f->naliases,
			.stack = f->stack ? f->stack->name : NULL,
			.skipped = f->kind == AFILE_STACK ? NULL : f->why,
			.found = f->found[0] ? f->found : NULL,
			.identifying_since_ns = f->searching ?
						f->search_since_ns : 0,
		};
		ret = cb(ctx, &af);
		if (ret)
			return ret;
	}
	return 0;
}

int attach__start_identify(struct attach *a)
{
	int err;

	if (a->id)
		return 0;
	err = identify__new(&a->id, stack__match_search);
	if (err)
		pr_warn("identification worker: %s; files are searched on "
			"the event loop", strerror(-err));
	return err;
}

int attach__identify_fd(const struct attach *a)
{
	return a ? identify__fd(a->id) : -1;
}

/*
 * Takes search result @r for entry @f: probes what it found as a new
 * file would be (finish_file()), or, after what the quick phase found
 * (Go), the second stack; then scans again the processes noted while
 * it waited.  Returns the number of files newly attached.
 */
static int take_result(struct attach *a, struct afile *f,
		       const struct identify_result *r)
{
	bool was_pending = f->kind == AFILE_PENDING;
	struct afile *also = NULL;
	int n = 0, pids[WAIT_PIDS_MAX];
	__u32 i, npids = f->nwait_pids;
	int err;

	f->searching = false;
	f->nwait_pids = 0;
	memcpy(pids, f->wait_pids, sizeof(pids[0]) * npids);
	a->st.files_identifying--;
	if (was_pending) {
		cache_result(a, f, r->fd, r->m, r->n, r->err);
		f->kind = AFILE_NONE;
		err = finish_file(a, f, r->fd, r->m, r->n, r->err);
		also = f->also;
		f->also = NULL;
		if (err)
			count_file(a, f, err);
	} else if (r->n == STACK_MATCH_MAX) {
		also = new_also(f);
		if (also) {
			err = probe_file(a, also, r->fd, &r->m[1], r->m[1].err);
			count_file(a, also, err);
		}
	}
	if (also)
		insert_also(a, f, also);
	log__printf(f->stack || also ? LOG_INFO : LOG_DEBUG,
		    "%s: code searched in %.3f s, off the event loop", f->path,
		    (double)r->ns / 1e9);
	n += was_pending && f->kind != AFILE_NONE;
	n += also && also->kind != AFILE_NONE;
	/* Targeted mode: the processes that mapped it meanwhile. */
	for (i = 0; a->tgt && i < npids; i++)
		attach__scan_pid(a, pids[i]);
	return n;
}

int attach__identified(struct attach *a)
{
	struct identify_result r;
	int n = 0;

	while (a && a->id && identify__take(a->id, &r) == 0) {
		n += take_result(a, r.tag, &r);
		close(r.fd);
	}
	return n;
}
