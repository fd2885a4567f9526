// SPDX-License-Identifier: MIT
/*
 * scan.c - the /proc scans of the registry (attach.h): each executable
 * file mapping of a process is looked up, added and probed on first
 * sight, counted per file, and in targeted mode linked for the process.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "capture/attach_int.h"
#include "lib/log.h"
#include "capture/procmaps.h"
#include "capture/target.h"

/* One process scan. */
struct scan {
	struct attach *a;
	int pid;
	bool full;		/* part of attach__scan_all() */
	bool saw_lib;		/* the process maps a TLS stack's file */
	int attached;		/* files newly attached */
	int sel;		/* targeted: enum target_result, or -1 */
	bool denied;		/* maps or a mapped file: EACCES/EPERM */
};

static int scan_mapping(void *ctx, const struct procmaps_entry *e)
{
	__u64 mdev = makedev(e->dev_major, e->dev_minor);
	struct scan *s = ctx;
	struct attach *a = s->a;
	char path[PATH_MAX + 64];
	struct afile *f;
	struct stat sb;
	int n;

	f = attach_find_map(a, mdev, e->ino);
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
		f = attach_lookup_path(a, path, e->path, e->deleted, &s->attached,
				&s->denied);
		if (!f)
			return 0;
		attach_set_map_key(a, f, mdev, e->ino);
	}
	f->seen_gen = a->gen;
	if (a->tgt && attach_linkable(f)) {
		if (s->sel < 0)
			s->sel = target__match(a->tgt, s->pid);
		if (s->sel == TARGET_YES && attach_link_pid(a, f, s->pid) > 0)
			s->attached++;
	}
	/* A file being identified: its processes are counted already. */
	if ((f->kind != AFILE_STACK && f->kind != AFILE_PENDING) ||
	    f->scan_stamp == a->scan_stamp)
		return 0;
	f->scan_stamp = a->scan_stamp;
	s->saw_lib |= f->kind == AFILE_STACK;
	if (s->full)
		f->nprocs_scan++;
	else if (f->nprocs == 0)
		f->nprocs = 1;
	return 0;
}

static int scan_one(struct attach *a, int pid, bool full, bool *saw_lib,
		    bool *denied)
{
	struct scan s = { .a = a, .pid = pid, .full = full, .sel = -1 };
	struct apid *p;
	int err;

	a->scan_stamp++;
	err = procmaps__for_each(pid, true, scan_mapping, &s);
	*saw_lib = s.saw_lib;
	*denied = s.denied || err == -EACCES || err == -EPERM;
	p = a->tgt ? attach_find_pid(a, pid) : NULL;
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
	bool saw_lib, denied;

	return scan_one(a, pid, false, &saw_lib, &denied);
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

int attach__scan_all(struct attach *a)
{
	__u32 procs = 0, ndenied = 0;
	struct dirent *de;
	int pid, n, attached = 0;
	bool saw_lib, denied;
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
		n = scan_one(a, pid, true, &saw_lib, &denied);
		if (n > 0)
			attached += n;
		if (saw_lib)
			procs++;
		if (denied) {
			ndenied++;
			pr_debug("pid %d: permission denied reading its maps "
				 "or a file it maps", pid);
		}
	}
	closedir(d);
	attach_end_full_scan(a);
	a->st.procs_traced = procs;
	if (ndenied && !a->st.procs_denied)
		pr_warn("%u process(es) could not be inspected (permission "
			"denied on /proc/PID/maps or a mapped file): their "
			"OpenSSL, if any, is not traced; see status "
			"attach.processes_denied", ndenied);
	a->st.procs_denied = ndenied;
	return attached;
}
