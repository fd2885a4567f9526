// SPDX-License-Identifier: MIT
/*
 * JSON prefixes made whole (ai/jsonprefix.h) from arbitrary bytes, in
 * both modes: never more than the input plus its closers, and, when the
 * input is itself JSON that cJSON takes (and keeps to RFC 8259 where cJSON
 * is lenient), every cut of it closes into JSON that cJSON takes too.
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

static bool is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * Whether @p keeps to RFC 8259 where cJSON is lenient: cJSON skips any
 * byte up to 0x20 as whitespace (§2 has four), and takes any four bytes
 * after \u (§7 wants hex digits) while it finds a string's end by
 * skipping one byte after each backslash.  No JSON encoder writes such
 * text, and on it no closer can agree with cJSON.
 */
static bool strict_where_cjson_is_not(const uint8_t *p, size_t n)
{
	bool in_str = false;
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (!in_str) {
			if (p[i] == '"')
				in_str = true;
			else if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' &&
				 p[i] != '\r')
				return false;
			continue;
		}
		if (p[i] == '"') {
			in_str = false;
		} else if (p[i] == '\\' && i + 1 < n) {
			if (p[++i] != 'u')
				continue;
			for (k = 1; k <= 4; k++)
				if (i + k >= n || !is_hex(p[i + k]))
					return false;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t step, cut;
	bool valid;
	cJSON *j;

	j = cJSON_ParseWithLength(p, size);
	valid = (cJSON_IsObject(j) || cJSON_IsArray(j)) &&
		strict_where_cjson_is_not(data, size);
	cJSON_Delete(j);
	check(p, size, size, false);
	step = size / 64 + 1;
	for (cut = 1; cut < size; cut += step)
		check(p, size, cut, valid);
	return 0;
}
