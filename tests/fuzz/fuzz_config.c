// SPDX-License-Identifier: MIT
/* Configuration and rules YAML from arbitrary text: refuse or accept,
 * never crash, and always say why when refusing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "ai/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules *r = NULL;
	struct config c;
	char err[512];
	char *text;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config__init(&c) == 0) {
		err[0] = '\0';
		if (config__load_string(&c, text, "fuzz.yaml", err,
					sizeof(err)) && !err[0])
			__builtin_trap();
	}
	config__free(&c);
	err[0] = '\0';
	if (rules__load_string(&r, text, "fuzz-rules.yaml", err, sizeof(err)) &&
	    !err[0])
		__builtin_trap();
	rules__free(r);
	free(text);
	return 0;
}
