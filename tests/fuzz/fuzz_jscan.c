// SPDX-License-Identifier: MIT
/*
 * The JSON member scanner (lib/jscan.c) on arbitrary bytes, both modes,
 * and the Responses fast path it serves: each line of the input is one
 * event of a stream, and the stream must give the same fields and
 * summary with the fast path as with cJSON alone.  A first byte 'E'
 * names every event "error".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jscan.h"
#include "../unit/fastpath.h"

#define MAX_EVENTS	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every member of the input, every string decoded, in bounds. */
static void scan(const uint8_t *data, size_t size, bool strict)
{
	struct jscan_member m;
	struct jscan s;
	char *out;
	size_t len;

	if (jscan__open(&s, data, size, strict))
		return;
	while (jscan__next(&s, &m) > 0) {
		if (m.key < data || m.val + m.val_len > data + size)
			__builtin_trap();
		if (!strict || m.val[0] != '"')
			continue;
		out = malloc(m.val_len);
		if (out && jscan__string(m.val, m.val_len, out, &len) == 0 &&
		    (len >= m.val_len || out[len]))
			__builtin_trap();
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct extract_event ev[MAX_EVENTS];
	const char *name = NULL;
	char *text, *line, *save = NULL, *fast, *ref;
	size_t n = 0;

	scan(data, size, false);
	scan(data, size, true);
	if (size && data[0] == 'E')
		name = "error";
	text = strndup((const char *)data, size);
	if (!text)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < MAX_EVENTS;
	     line = strtok_r(NULL, "\n", &save)) {
		ev[n].event = name;
		ev[n++].data = line;
	}
	fast = fastpath_run(ev, n, true);
	ref = fastpath_run(ev, n, false);
	if (fast && ref && strcmp(fast, ref) != 0)
		__builtin_trap();
	free(fast);
	free(ref);
	free(text);
	return 0;
}
