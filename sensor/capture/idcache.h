/* SPDX-License-Identifier: MIT */
/*
 * idcache.h - the results of code searches (stack__match_search()),
 * kept in memory for the life of the sensor by the file's ELF build id
 * (NT_GNU_BUILD_ID) and size, so that another copy of the same
 * executable at another inode (each npm install, each container layer)
 * is probed at once instead of searched again.  A file without a build
 * id is never cached.
 *
 * An entry is not trusted on its key alone: it keeps the first
 * IDCACHE_CHECK bytes of the file at every offset it probes, and a copy
 * gets the entry only when its bytes there are the same (a prologue
 * that moved, or other code, is a miss, and the entry is dropped).
 * Only results with probes are kept: a refusal or "not a stack" has
 * nothing to check and is searched again.
 *
 * Used on the event loop only (not thread-safe).
 */
#ifndef OISP_IDCACHE_H
#define OISP_IDCACHE_H

#include <linux/types.h>

#include "capture/stack.h"

#define BUILD_ID_MAX	64	/* bytes of a build id kept (SHA-1: 20) */
#define IDCACHE_MAX	32	/* entries; the oldest goes first */
#define IDCACHE_CHECK	16	/* bytes compared at each probed offset */

struct build_id {
	__u32 len;		/* 0: none */
	unsigned char b[BUILD_ID_MAX];
};

/*
 * Reads the NT_GNU_BUILD_ID note ("GNU", type 3: the ELF gABI's note
 * format, binutils' --build-id) from the PT_NOTE segments of the
 * 64-bit little-endian ELF file open at @fd (borrowed; pread(2) only).
 * Returns 0, -ENOENT when it has none (or one longer than
 * BUILD_ID_MAX), -ENOEXEC when it is not such an ELF file, or -errno of
 * reading it.
 */
int build_id__read(int fd, struct build_id *id);

struct idcache;

/* Returns 0 with *@out set (empty), or -ENOMEM. */
int idcache__new(struct idcache **out);

/*
 * Keeps search result @m[0..@n) (its result @err) of the file open at
 * @fd, with build id @id and size @size bytes, and the bytes at its
 * probed offsets read from @fd now.  Replaces an entry of the same key.
 * Returns 0; -ENOENT when there is nothing to check (no probe) and the
 * result is not kept; -ENOMEM; -errno of reading (not kept).
 */
int idcache__put(struct idcache *c, const struct build_id *id, __u64 size,
		 int fd, const struct stack_match m[STACK_MATCH_MAX],
		 unsigned int n, int err);

/*
 * The result kept for (@id, @size), into @m, *@n and *@err, when the
 * file open at @fd has the same bytes at every probed offset.  Returns
 * 0; -ENOENT when none is kept; -ESTALE when the bytes differ (the entry
 * is dropped and the file must be searched); -errno of reading.
 */
int idcache__get(struct idcache *c, const struct build_id *id, __u64 size,
		 int fd, struct stack_match m[STACK_MATCH_MAX],
		 unsigned int *n, int *err);

/* Frees @c and its entries; NULL is fine. */
void idcache__free(struct idcache *c);

#endif /* OISP_IDCACHE_H */
