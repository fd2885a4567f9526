// SPDX-License-Identifier: MIT
/*
 * Content-Encoding decoding of arbitrary bytes, with the output bound the
 * pipeline uses (a decompression bomb must stop there).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/decode.h"

#define MAX_OUT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const codings[] = {
		"gzip", "deflate", "br", "gzip, br", "x-gzip", "identity",
		"br, deflate", "bogus",
	};
	unsigned char *out = NULL;
	size_t out_len = 0;
	unsigned flags = 0;

	if (size < 1)
		return 0;
	if (decode__content(codings[data[0] % 8], data + 1, size - 1, MAX_OUT,
			    &out, &out_len, &flags) == 0 && out_len > MAX_OUT)
		__builtin_trap();
	free(out);
	return 0;
}
