// SPDX-License-Identifier: MIT
/*
 * The built-in redaction patterns on arbitrary bytes, as the always-on
 * scrubber applies them to every process command line.  The built-ins are
 * written to stay linear, so hitting PCRE2's match limit (-EIO) is a bug;
 * a replacement must also leave a NUL-terminated string.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ai/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct redactor *r;
	char err[256], *s, *out;
	int ret;

	if (!r && redactor__new(&r, NULL, 0, err, sizeof(err)))
		__builtin_trap();
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ret = redactor__string(r, s, &out, NULL);
	if (ret == -EIO || (ret > 0) != (out != NULL))
		__builtin_trap();
	if (out)
		(void)strlen(out);
	free(out);
	free(s);
	return 0;
}
