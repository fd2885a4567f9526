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
 * Sets the allocator up before the sensor's work; first thing in main().
 * mimalloc gives freed pages back to the kernel when it next allocates
 * after a delay (100 ms), so a process that goes idle keeps what it last
 * freed: start-up's buffers (libbpf's copy of the kernel's BTF, ELF
 * symbol tables), some 13 MiB of resident memory.  The delay is made 0
 * unless MIMALLOC_DECOMMIT_DELAY or MIMALLOC_RESET_DELAY says otherwise
 * (it costs no measurable throughput: bench replay).  Nothing for glibc.
 * Cannot fail.
 */
void heap__init(void);

#endif /* OISP_HEAP_H */
