// SPDX-License-Identifier: MIT
/*
 * The static OpenSSL 3 finder (ossl3.h) on arbitrary code: any local
 * user can make the sensor read a file of their making that holds the
 * ssl_lib.c file name and a function's name, so no .text may crash it,
 * make it read outside its sections or loop.  Input: a 16-bit
 * little-endian split, then .text at 0x401000; .rodata holds the names
 * and a version; the unwind tables name two functions, [text, split)
 * and [split, end).  Seed: synthetic ssl_read_internal and
 * ssl_write_internal (tests/fuzz/corpus/fuzz_ossl3/, written by
 * tests/fuzz/mkossl3seed.py).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/binsrc.h"
#include "capture/ossl3.h"
#include "../unit/synthcode.h"

#define TEXT	0x401000ULL
#define RODATA	0x200000ULL
#define HDR	0x300000ULL
#define FRAME	0x300400ULL

static const char rodata[] =
	"\0external/openssl+/ssl/ssl_lib.c\0ssl_write_internal\0"
	"ssl_read_internal\0SSL_shutdown\0OpenSSL 3.5.8 25 Aug 2026";

struct input {
	const uint8_t *text;
	size_t size;
	unsigned char hdr[CODE_EH_HDR(2)];
	unsigned char frame[CODE_EH_FRAME(2) + 16];
};

static int fuzz_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct input *in = ctx;
	const struct code_region rg[] = {
		{ TEXT, in->text, in->size },
		{ RODATA, rodata, sizeof(rodata) },
		{ HDR, in->hdr, sizeof(in->hdr) },
		{ FRAME, in->frame, sizeof(in->frame) },
	};

	if (code_read(rg, 4, addr, buf, n))
		abort();	/* the finder reads only inside the regions */
	return 0;
}

/* The tables for the functions [TEXT, TEXT + @split), [.., @end). */
static void tables(struct input *in, __u64 split)
{
	const __u64 start[2] = { TEXT, TEXT + split };
	const __u64 end[2] = { TEXT + split, TEXT + in->size };

	code_eh_tables(in->hdr, HDR, in->frame, FRAME, start, end, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { 0 };
	struct binsrc src = {
		.rodata = { RODATA, sizeof(rodata) },
		.eh_frame_hdr = { HDR, sizeof(in.hdr) },
		.eh_frame = { FRAME, sizeof(in.frame) },
		.read = fuzz_read,
		.ctx = &in,
	};
	struct ossl3_result r;
	__u64 split;
	int err;

	if (size < 3 || size > (1u << 16))
		return 0;
	in.text = data + 2;
	in.size = size - 2;
	split = (data[0] | (__u64)data[1] << 8) % in.size;
	tables(&in, split);
	src.text = (struct binsrc_region){ TEXT, in.size };
	err = ossl3__find(&src, &r);
	if (err && err != -ENOENT && !r.why)
		abort();
	if (!err && (r.write.entry < TEXT || r.write.entry >= TEXT + in.size ||
		     r.read.entry < TEXT || r.read.entry >= TEXT + in.size ||
		     r.write.entry == r.read.entry))
		abort();
	return 0;
}
