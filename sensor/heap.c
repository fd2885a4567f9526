// SPDX-License-Identifier: MIT
/*
 * The allocator's name, and the one setting the sensor changes.  OISP_MIMALLOC
 * is defined for this file when the Makefile links mimalloc.
 */
#include <stdio.h>
#include <stdlib.h>

#ifdef OISP_MIMALLOC
#include <mimalloc.h>
#else
#include <gnu/libc-version.h>
#endif

#include "heap.h"

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

void heap__init(void)
{
#ifdef OISP_MIMALLOC
	if (!getenv("MIMALLOC_DECOMMIT_DELAY") &&
	    !getenv("MIMALLOC_RESET_DELAY"))
		mi_option_set(mi_option_decommit_delay, 0);
#endif
}
