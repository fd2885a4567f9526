// SPDX-License-Identifier: MIT
/* SSE event stream interpretation of arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sse_event *ev = NULL;
	size_t n = 0, i;

	sse__parse((const char *)data, size, SSE_MAX_EVENTS, &ev, &n);
	for (i = 0; i < n; i++) {
		/* Offsets stay within the input; strings are terminated. */
		if (ev[i].end_off > size || !ev[i].data)
			__builtin_trap();
		(void)strlen(ev[i].data);
	}
	sse__free_events(ev, n);
	return 0;
}
