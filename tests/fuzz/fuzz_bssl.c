// SPDX-License-Identifier: MIT
/*
 * The BoringSSL finder (bssl.h) on arbitrary code: any local user can
 * make the sensor read an executable of their making that holds the
 * ssl_lib.cc file name, so no .text may crash it, make it read outside
 * its sections or loop.  The input is .text at 0x401000; .rodata holds
 * the file name.  Seed: synthetic SSL_write, ssl_read_impl and SSL_read
 * (tests/fuzz/corpus/fuzz_bssl/, written as in tests/unit/test_bssl.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/binsrc.h"
#include "capture/bssl.h"

#define TEXT	0x401000ULL
#define RODATA	0x200000ULL

static const char rodata[] = "\0../../vendor/boringssl/ssl/ssl_lib.cc";

struct input {
	const uint8_t *data;
	size_t size;
};

static int fuzz_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct input *in = ctx;

	if (addr >= TEXT && n <= in->size && addr - TEXT <= in->size - n) {
		memcpy(buf, in->data + (addr - TEXT), n);
		return 0;
	}
	if (addr >= RODATA && n <= sizeof(rodata) &&
	    addr - RODATA <= sizeof(rodata) - n) {
		memcpy(buf, rodata + (addr - RODATA), n);
		return 0;
	}
	abort();	/* the finder reads only inside the regions */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct binsrc src = {
		.text = { TEXT, size },
		.rodata = { RODATA, sizeof(rodata) },
		.read = fuzz_read,
		.ctx = &in,
	};
	struct bssl_result r;
	int err;

	err = bssl__find(&src, &r);
	if (err && err != -ENOENT && !r.why)
		abort();
	if (!err && (r.write.entry < TEXT || r.write.entry >= TEXT + size ||
		     r.read.entry < TEXT || r.read.entry >= TEXT + size))
		abort();
	return 0;
}
