/* SPDX-License-Identifier: MIT */
/*
 * synthcode.h - test helpers: a linked file's sections laid out in
 * memory for the finders of functions in stripped files (binsrc.h):
 * x86-64 code written by hand, unwind tables as GNU ld writes them
 * (.eh_frame_hdr and .eh_frame, LSB Core 5.0 10.6), and a reader of
 * regions.  Shared by test_bssl.c, test_ossl3.c, test_ehframe.c and
 * fuzz_ossl3.c (which has no Criterion: nothing here asserts; a builder
 * that would write past its buffer aborts, which fails the test).
 */
#ifndef OISP_TEST_SYNTHCODE_H
#define OISP_TEST_SYNTHCODE_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

/* Bytes of struct code's buffer. */
#define CODE_MAX	4096

/* One region of memory at a virtual address. */
struct code_region {
	__u64 addr;
	const void *p;
	size_t n;
};

/*
 * Copies the @n bytes at @addr into @buf from the one of @rg[0..@nrg)
 * that holds them all.  Returns 0, or -ERANGE (a struct binsrc reader's
 * answer) when none does.
 */
static inline int code_read(const struct code_region *rg, unsigned int nrg,
			    __u64 addr, void *buf, size_t n)
{
	unsigned int i;

	for (i = 0; i < nrg; i++) {
		if (addr >= rg[i].addr && n <= rg[i].n &&
		    addr - rg[i].addr <= rg[i].n - n) {
			memcpy(buf, (const char *)rg[i].p + (addr - rg[i].addr),
			       n);
			return 0;
		}
	}
	return -ERANGE;
}

static inline void code_le32(unsigned char *p, __u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* .text being written: @len bytes at virtual address @addr. */
struct code {
	unsigned char text[CODE_MAX];
	size_t len;
	__u64 addr;
};

/* The address of the next byte written. */
static inline __u64 code_here(const struct code *c)
{
	return c->addr + c->len;
}

static inline void code_put(struct code *c, const void *b, size_t n)
{
	if (n > sizeof(c->text) - c->len)
		abort();	/* a test's code outgrew CODE_MAX */
	memcpy(c->text + c->len, b, n);
	c->len += n;
}

static inline void code_put8(struct code *c, unsigned char b)
{
	code_put(c, &b, 1);
}

static inline void code_put32(struct code *c, __u32 v)
{
	unsigned char b[4];

	code_le32(b, v);
	code_put(c, b, 4);
}

/* CALL rel32 to @target. */
static inline void code_call(struct code *c, __u64 target)
{
	code_put8(c, 0xe8);
	code_put32(c, (__u32)(target - (code_here(c) + 4)));
}

/* int3 padding to the next 16-byte boundary (none when at one). */
static inline void code_align(struct code *c)
{
	while (c->len % 16)
		code_put8(c, 0xcc);
}

/* Bytes of the unwind tables for @n functions (code_eh_tables()). */
#define CODE_EH_HDR(n)		(12 + 8 * (n))
#define CODE_EH_FRAME(n)	(20 + 16 * (n))

/*
 * The FDE at offset @off of .eh_frame @frame (at address @frame_addr)
 * for [@pc, @pc + @len), with its CIE at offset 0: PC begin pcrel
 * sdata4.
 */
static inline void code_fde(unsigned char *frame, __u64 frame_addr,
			    unsigned int off, __u64 pc, __u32 len)
{
	unsigned char *p = frame + off;

	code_le32(p, 12);			/* length */
	code_le32(p + 4, off + 4);		/* CIE pointer: to offset 0 */
	code_le32(p + 8, (__u32)(pc - (frame_addr + off + 8)));
	code_le32(p + 12, len);
}

/*
 * Unwind tables for the functions [@start[i], @end[i]), i < @n, in the
 * order of their starts: in @frame (CODE_EH_FRAME(@n) bytes at
 * @frame_addr) a CIE "zR" with FDE pointers pcrel|sdata4 and an FDE a
 * function, at offset 20 + 16 * i; in @hdr (CODE_EH_HDR(@n) bytes at
 * @hdr_addr) the .eh_frame_hdr: eh_frame_ptr pcrel|sdata4, the count
 * udata4 and the sorted table datarel|sdata4.
 */
static inline void code_eh_tables(unsigned char *hdr, __u64 hdr_addr,
				  unsigned char *frame, __u64 frame_addr,
				  const __u64 *start, const __u64 *end,
				  unsigned int n)
{
	static const unsigned char cie[] = {
		0x10, 0, 0, 0,	0, 0, 0, 0,	/* length 16, CIE id 0 */
		1, 'z', 'R', 0,			/* version, augmentation */
		1, 0x78, 16,			/* code 1, data -8, RA 16 */
		1, 0x1b,			/* aug length, pcrel|sdata4 */
		0, 0, 0,
	};
	unsigned int i, off;

	memcpy(frame, cie, sizeof(cie));
	hdr[0] = 1;
	hdr[1] = 0x1b;
	hdr[2] = 0x03;
	hdr[3] = 0x3b;
	code_le32(hdr + 4, (__u32)(frame_addr - (hdr_addr + 4)));
	code_le32(hdr + 8, n);
	for (i = 0; i < n; i++) {
		off = 20 + 16 * i;
		code_fde(frame, frame_addr, off, start[i],
			 (__u32)(end[i] - start[i]));
		code_le32(hdr + 12 + 8 * i, (__u32)(start[i] - hdr_addr));
		code_le32(hdr + 16 + 8 * i,
			  (__u32)(frame_addr + off - hdr_addr));
	}
}

#endif /* OISP_TEST_SYNTHCODE_H */
