/* SPDX-License-Identifier: MIT */
/*
 * attach_int.h - inside the registry of probed files (attach.h): its
 * structures, shared by attach.c (the registry: entries, links, targeted
 * mode), scan.c (the /proc/PID/maps scans) and libdirs.c (library
 * directories, ours and those of container roots).  Not for other
 * modules.
 */
#ifndef OISP_ATTACH_INT_H
#define OISP_ATTACH_INT_H

#include <stdbool.h>
#include <sys/stat.h>
#include <linux/types.h>

#include "capture/attach.h"
#include "capture/stack.h"

#define HASH_BITS	12
#define HASH_SIZE	(1u << HASH_BITS)
#define ROOT_CACHE	256	/* foreign roots remembered */
#define ALIAS_MAX	64	/* other (st_dev, st_ino) kept per file */
#define FH_MAX		64	/* bytes of a file handle kept as a key */

enum afile_kind {
	AFILE_NONE,	/* negative: not a stack's file, or failed */
	AFILE_STACK,	/* a TLS stack's library (afile.stack) */
	AFILE_LDSO,	/* glibc ld.so */
	/*
	 * Being identified: its code is searched on the worker (identify.h)
	 * and nothing is known yet.  Kept until the result is taken.
	 */
	AFILE_PENDING,
};

/* Processes noted per file while it is searched (targeted mode). */
#define WAIT_PIDS_MAX	64

/*
 * A file handle (name_to_handle_at(2) with AT_HANDLE_FID): what names an
 * overlayfs file whichever mount it is reached through.  Each overlayfs
 * mount has a device of its own, so ten containers of one image show ten
 * (st_dev, st_ino) for one lower-layer file, on which the kernel places
 * the uprobes (the real inode); overlayfs encodes the layer's uuid and
 * the real file's own handle instead, the same through every mount.
 */
struct afh {
	int type;			/* file_handle.handle_type */
	__u32 len;			/* bytes of b; 0: no handle */
	unsigned char b[FH_MAX];
};

/*
 * Another (st_dev, st_ino) of an entry's file: the file reached through
 * another overlayfs mount, joined to the entry by its handle (struct
 * afh) so that it is neither read nor attached again.  The ctime and
 * size tell the file from a later one given the same device and inode
 * numbers after the mount is gone, as for negative entries.
 */
struct aalias {
	struct aalias *next;		/* chain of the alias index */
	struct aalias *f_next;		/* the entry's aliases, newest first */
	struct afile *f;		/* the entry; the alias is its */
	__u64 dev, ino;			/* stat(2) through that mount */
	__s64 ctime_sec, ctime_nsec;
	__u64 size;
	__u64 root_dev, root_ino;	/* as afile's, for this key; or 0 */
};

/*
 * A file: keyed by its stat(2) (st_dev, st_ino), and on overlayfs by its
 * file handle too, which the other mounts' (st_dev, st_ino) are joined
 * by as aliases (at most ALIAS_MAX, the oldest dropped first; dropped
 * with the entry).
 */
struct afile {
	struct afile *next;		/* all files, in insertion order */
	struct afile *st_next;		/* chain of the (st_dev, st_ino) index */
	struct afile *map_next;		/* chain of the maps (dev, ino) index */
	struct afile *fh_next;		/* chain of the file handle index */
	struct aalias *aliases;		/* newest first */
	__u32 naliases;
	struct afh fh;			/* overlayfs files only; else len 0 */
	__u64 dev, ino;			/* stat(2) of the file */
	__u64 map_dev, map_ino;		/* as /proc/PID/maps shows it */
	__s64 ctime_sec, ctime_nsec;	/* stat(2), to spot a reused ino */
	__u64 size;
	bool has_map_key;
	enum afile_kind kind;
	/* AFILE_STACK: which; a negative entry: the stack it was refused as */
	const struct tls_stack *stack;
	int err;			/* negative entries: why */
	const char *why;		/* refused by a stack: why (static) */
	char found[STACK_FOUND_MAX];	/* stack_match.found */
	__u32 nprocs;			/* processes at the last full scan */
	__u32 nprocs_scan;		/* counting in the current full scan */
	__u64 scan_stamp;		/* last process scan that counted it */
	__u64 seen_gen;			/* last full scan generation seen */
	__u64 root_dev, root_ino;	/* found in this root's lib dirs; or 0 */
	int fd;				/* kept open while attached, or -1 */
	__u32 noffs;			/* probed functions */
	__u64 offs[TLS_PROBES_MAX];	/* their file offsets */
	__u64 cookies[TLS_PROBES_MAX];	/* their BPF cookies */
	unsigned int flags[TLS_PROBES_MAX];	/* their enum tls_probe_flag */
	struct alink *links;
	/*
	 * A search of its code is out on the worker (identify.h): the
	 * entry is AFILE_PENDING, or holds what the quick phase found (Go)
	 * while a shares_file stack is searched.  It is not forgotten
	 * meanwhile (the job holds the file open, so its numbers cannot be
	 * reused).  Targeted mode: the processes that mapped it meanwhile
	 * are scanned again when the result is in, and linked then.
	 */
	bool searching;
	__u64 search_since_ns;		/* CLOCK_REALTIME at submission */
	int wait_pids[WAIT_PIDS_MAX];
	__u32 nwait_pids;
	/*
	 * A second stack found in the same file (stack.h, shares_file):
	 * its own entry, right after this one in the list, in neither
	 * index, linked, counted and freed with this one.  NULL: none.
	 */
	struct afile *also;
	char path[];
};

/*
 * The links of one file for one process, or for all (pid -1): a stack's
 * file has an entry and a return link, ld.so an entry link.
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
	struct afile *by_fh[HASH_SIZE];
	struct aalias *by_alias[HASH_SIZE];
	struct aalias *hit_alias;	/* the key the last lookup matched */
	__u64 scan_stamp;		/* one per process scan */
	__u64 gen;			/* one per full scan */
	struct attach_stats st;
	struct target *tgt;		/* targeted mode; borrowed */
	int selected_fd;		/* BPF map of the tgids linked, or -1 */
	struct apid *pids[HASH_SIZE];	/* targeted mode: processes linked */
	struct uprobe_reaper *reaper;	/* frees links off the event loop */
	/* Searches code off the loop; NULL: at once (start-up, tests). */
	struct identify *id;
	struct idcache *cache;		/* search results by build id */
};

/* The entry whose /proc/PID/maps device and inode are (@dev, @ino). */
struct afile *attach_find_map(const struct attach *a, __u64 dev, __u64 ino);

/* Indexes @f by its maps key (@dev, @ino) too, unless it already is. */
void attach_set_map_key(struct attach *a, struct afile *f, __u64 dev,
			__u64 ino);

/*
 * Finds the entry for the file open at @fd (the caller keeps it), adding
 * it on first sight (then probed, and counted in *@added when it is a
 * stack's file or ld.so); @display is the path shown to users, marked
 * " (deleted)" when @deleted.  An overlayfs file whose (st_dev, st_ino)
 * is not known but whose file handle is (the same file through another
 * mount) is that entry, and its (st_dev, st_ino) becomes an alias of it;
 * where the kernel gives no handle (before Linux 6.5) it is a file of
 * its own.  Returns NULL when it is not a regular file or without
 * memory.
 */
struct afile *attach_lookup_fd(struct attach *a, int fd, const char *display,
			       bool deleted, int *added);

/*
 * attach_lookup_fd() for @path.  Returns NULL when the file cannot be
 * reached (the process may be gone: not remembered, a later scan
 * retries; *@denied set, when not NULL, for EACCES/EPERM) or without
 * memory.
 */
struct afile *attach_lookup_path(struct attach *a, const char *path,
				 const char *display, bool deleted, int *added,
				 bool *denied);

/*
 * Notes that @f, just returned by attach_lookup_fd() or
 * attach_lookup_path(), was found in the library directories of the root
 * directory (@root_dev, @root_ino): under the key that lookup matched
 * (the file's own, or an alias through another overlayfs mount), unless
 * that key has a root already.  @f may be NULL.
 */
void attach_set_root(struct attach *a, struct afile *f, __u64 root_dev,
		     __u64 root_ino);

/*
 * Whether @f was found in the library directories of the root directory
 * (@root_dev, @root_ino), under any of its keys.
 */
bool attach_in_root(const struct afile *f, __u64 root_dev, __u64 root_ino);

/*
 * Whether a scan finding @f in a selected process links it
 * (attach_link_pid()): it or its second stack is probed, or it is being
 * identified.
 */
bool attach_linkable(const struct afile *f);

/* Targeted mode: the process @pid with links of its own, or NULL. */
struct apid *attach_find_pid(const struct attach *a, int pid);

/*
 * Targeted mode: attaches @f (and its second stack) for process @pid
 * unless it already is, and enters the process in the BPF map of
 * selected tgids.  While @f is searched, @pid is noted and linked when
 * the result is in (attach__identified()).
 * Returns 1 when newly attached, 0 when it already was (or is noted),
 * or -errno.
 */
int attach_link_pid(struct attach *a, struct afile *f, int pid);

/*
 * After a full scan (generation a->gen): publishes the process counts of
 * the files, forgets negative entries no process mapped, and, in
 * targeted mode, processes the scan did not find.
 */
void attach_end_full_scan(struct attach *a);

#endif /* OISP_ATTACH_INT_H */
