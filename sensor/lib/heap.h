/* SPDX-License-Identifier: MIT */
/*
 * heap.h - the sensor's allocator as built (Makefile MALLOC): mimalloc,
 * linked so that it serves every malloc of the process, or glibc's.
 */
#ifndef OISP_HEAP_H
#define OISP_HEAP_H

#include <stddef.h>

/*
 * Writes the allocator's name and version, such as "mimalloc 2.0.9" or
 * "glibc 2.36 malloc", into @buf (@len bytes, NUL-terminated, cut to
 * fit).  Returns @buf.
 */
char *heap__name(char *buf, size_t len);

/*
 * Gives the memory freed so far back to the kernel, for the end of
 * start-up: its buffers (libbpf's copy of the kernel's BTF, ELF symbol
 * tables, /proc scans) are some 13 MiB.  mimalloc decommits freed pages
 * only when it next allocates after a delay (MIMALLOC_DECOMMIT_DELAY,
 * 25 ms; 500 ms for whole segments), so a sensor that goes idle after
 * start-up would keep them resident; mi_collect(true) with both delays
 * at 0 for the call decommits them now.  Not on every free: a delay of 0
 * throughout costs a page fault per page of each large body allocated
 * again (replay of 1 MiB bodies: 10 times slower).  glibc: malloc_trim(0).
 * Takes about a millisecond; cannot fail.
 */
void heap__release(void);

#endif /* OISP_HEAP_H */
