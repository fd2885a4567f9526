// SPDX-License-Identifier: MIT
/*
 * The allocator's name, and giving freed memory back.  OISP_MIMALLOC is
 * defined for this file when the Makefile links mimalloc.
 */
#include <stdio.h>

#ifdef OISP_MIMALLOC
#include <mimalloc.h>
#else
#include <gnu/libc-version.h>
#include <malloc.h>
#endif

#include "lib/heap.h"

char *heap__name(char *buf, size_t len)
{
#ifdef OISP_MIMALLOC
	int v = mi_version();	/* 209 for 2.0.9 */

	snprintf(buf, len, "mimalloc %d.%d.%d", v / 100, v / 10 % 10,
		 v % 10);
#else
	snprintf(buf, len, "glibc %s malloc", gnu_get_libc_version());
#endif
	return buf;
}

void heap__release(void)
{
#ifdef OISP_MIMALLOC
	long pages = mi_option_get(mi_option_decommit_delay);
	long segments = mi_option_get(mi_option_segment_decommit_delay);

	mi_option_set(mi_option_decommit_delay, 0);
	mi_option_set(mi_option_segment_decommit_delay, 0);
	mi_collect(true);
	mi_option_set(mi_option_decommit_delay, pages);
	mi_option_set(mi_option_segment_decommit_delay, segments);
#else
	malloc_trim(0);
#endif
}
