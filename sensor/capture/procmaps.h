/* SPDX-License-Identifier: MIT */
/*
 * procmaps.h - the file mappings of a process, from /proc/PID/maps.
 *
 * Format: proc(5), "address perms offset dev inode pathname", e.g.
 *   7f12a000-7f12b000 r-xp 0001f000 fd:01 1234 /usr/lib/libssl.so.3
 * The pathname runs to the end of the line and may hold spaces; the
 * kernel appends " (deleted)" when the file has been unlinked.
 */
#ifndef OISP_PROCMAPS_H
#define OISP_PROCMAPS_H

#include <stdbool.h>
#include <linux/types.h>

struct procmaps_entry {
	__u64 start, end;	/* virtual addresses */
	__u64 offset;		/* file offset of start */
	__u32 dev_major, dev_minor;
	__u64 ino;
	bool exec;		/* perms hold 'x' */
	bool deleted;		/* " (deleted)" was stripped from path */
	const char *path;	/* "" for anonymous mappings; points into the
				 * caller's line buffer */
};

/*
 * Parses one line of /proc/PID/maps.  @line is modified in place (the
 * newline and a " (deleted)" suffix are cut off) and e->path points into
 * it.  Returns 0 or -EINVAL for a malformed line.
 */
int procmaps__parse_line(char *line, struct procmaps_entry *e);

/* Called for each mapping; return 0 to go on, <0 to stop with that. */
typedef int (*procmaps_fn)(void *ctx, const struct procmaps_entry *e);

/*
 * Calls @fn for each file-backed mapping (path starting with '/') of
 * process @pid; only executable ones when @exec_only.  Consecutive
 * mappings of the same file are reported once (the first that passes
 * the filter).  Returns 0, the first <0 result of @fn, or -errno from opening
 * /proc/@pid/maps (-ENOENT when the process is gone).
 */
int procmaps__for_each(int pid, bool exec_only, procmaps_fn fn, void *ctx);

#endif /* OISP_PROCMAPS_H */
