// SPDX-License-Identifier: MIT
/*
 * JSON prefixes made whole (ai/jsonprefix.h) from arbitrary bytes, in
 * both modes: never more than the input plus its closers, and, when the
 * input is itself JSON that cJSON takes, every cut of it closes into
 * JSON that cJSON takes too.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "ai/jsonprefix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *p, size_t len, size_t cut, bool valid)
{
	enum json_prefix_mode mode;
	size_t n;
	char *out;
	cJSON *j;

	for (mode = JSON_PREFIX_WHOLE; mode <= JSON_PREFIX_PARTIAL; mode++) {
		if (json_prefix__close(p, cut, mode, &out, &n))
			continue;
		if (n > cut + CJSON_NESTING_LIMIT + 1)
			__builtin_trap();
		if (valid) {
			j = cJSON_ParseWithLength(out, n);
			if (!j)
				__builtin_trap();
			cJSON_Delete(j);
		}
		free(out);
	}
	(void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t step, cut;
	bool valid;
	cJSON *j;

	j = cJSON_ParseWithLength(p, size);
	valid = (cJSON_IsObject(j) || cJSON_IsArray(j));
	cJSON_Delete(j);
	check(p, size, size, false);
	step = size / 64 + 1;
	for (cut = 1; cut < size; cut += step)
		check(p, size, cut, valid);
	return 0;
}
