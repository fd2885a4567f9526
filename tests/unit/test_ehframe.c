// SPDX-License-Identifier: MIT
/*
 * Tests of the .eh_frame_hdr / .eh_frame reader (ehframe.h) on tables
 * laid out in memory as GNU ld writes them (LSB Core 5.0 10.6): a CIE
 * "zR" with FDE pointers pcrel|sdata4, two FDEs, the sorted table.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "capture/binsrc.h"
#include "capture/ehframe.h"

#define HDR	0x10000ULL
#define FRAME	0x10100ULL
#define F1	0x401000ULL	/* [F1, F1 + 0x40) */
#define F2	0x401080ULL	/* [F2, F2 + 0x20) */

struct img {
	unsigned char hdr[12 + 16];
	unsigned char frame[96];	/* read 32 bytes an FDE */
};

static int img_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct img *m = ctx;

	if (addr >= HDR && addr - HDR + n <= sizeof(m->hdr)) {
		memcpy(buf, m->hdr + (addr - HDR), n);
		return 0;
	}
	if (addr >= FRAME && addr - FRAME + n <= sizeof(m->frame)) {
		memcpy(buf, m->frame + (addr - FRAME), n);
		return 0;
	}
	return -ERANGE;
}

static void le32(unsigned char *p, __u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* An FDE at frame offset @off for [@pc, @pc + @len). */
static void fde(struct img *m, unsigned int off, __u64 pc, __u32 len)
{
	unsigned char *p = m->frame + off;

	le32(p, 12);			/* length */
	le32(p + 4, off + 4);		/* CIE pointer: back to offset 0 */
	le32(p + 8, (__u32)(pc - (FRAME + off + 8)));	/* pcrel sdata4 */
	le32(p + 12, len);
}

static void img_init(struct img *m, struct binsrc *src)
{
	static const unsigned char cie[] = {
		0x10, 0, 0, 0,	0, 0, 0, 0,	/* length 16, CIE id 0 */
		1, 'z', 'R', 0,			/* version, augmentation */
		1, 0x78, 16,			/* code 1, data -8, RA 16 */
		1, 0x1b,			/* aug length, pcrel|sdata4 */
		0, 0, 0,
	};

	memset(m, 0, sizeof(*m));
	memcpy(m->frame, cie, sizeof(cie));
	fde(m, 20, F1, 0x40);
	fde(m, 36, F2, 0x20);
	m->hdr[0] = 1;
	m->hdr[1] = 0x1b;
	m->hdr[2] = 0x03;
	m->hdr[3] = 0x3b;
	le32(m->hdr + 4, (__u32)(FRAME - (HDR + 4)));
	le32(m->hdr + 8, 2);
	le32(m->hdr + 12, (__u32)(F1 - HDR));
	le32(m->hdr + 16, (__u32)(FRAME + 20 - HDR));
	le32(m->hdr + 20, (__u32)(F2 - HDR));
	le32(m->hdr + 24, (__u32)(FRAME + 36 - HDR));
	*src = (struct binsrc){
		.eh_frame_hdr = { HDR, sizeof(m->hdr) },
		.eh_frame = { FRAME, sizeof(m->frame) },
		.read = img_read,
		.ctx = m,
	};
}

Test(ehframe, lookup)
{
	struct ehframe *eh;
	struct binsrc src;
	__u64 b, e;
	struct img m;

	img_init(&m, &src);
	cr_assert_eq(ehframe__open(&src, &eh), 0);
	cr_assert_eq(ehframe__lookup(eh, F1 + 0x10, &b, &e), 0);
	cr_assert_eq(b, F1);
	cr_assert_eq(e, F1 + 0x40);
	cr_assert_eq(ehframe__lookup(eh, F2, &b, &e), 0);
	cr_assert_eq(b, F2);
	cr_assert_eq(e, F2 + 0x20);
	/* The gap between the two, before the first, after the last. */
	cr_assert_eq(ehframe__lookup(eh, F1 + 0x40, &b, &e), -ENOENT);
	cr_assert_eq(ehframe__lookup(eh, F1 - 1, &b, &e), -ENOENT);
	cr_assert_eq(ehframe__lookup(eh, F2 + 0x20, &b, &e), -ENOENT);
	ehframe__free(eh);
}

/* A table entry whose FDE names another start is not trusted. */
Test(ehframe, table_and_fde_disagree)
{
	struct ehframe *eh;
	struct binsrc src;
	__u64 b, e;
	struct img m;

	img_init(&m, &src);
	fde(&m, 20, F1 + 0x10, 0x40);
	cr_assert_eq(ehframe__open(&src, &eh), 0);
	cr_assert_eq(ehframe__lookup(eh, F1 + 0x20, &b, &e), -ENOENT);
	ehframe__free(eh);
}

Test(ehframe, unknown_forms_refused)
{
	struct ehframe *eh = (struct ehframe *)1;
	struct binsrc src;
	__u64 b, e;
	struct img m;

	img_init(&m, &src);
	m.hdr[3] = 0x1b;	/* a table of another encoding */
	cr_assert_eq(ehframe__open(&src, &eh), -ENOENT);
	cr_assert_null(eh);
	img_init(&m, &src);
	src.eh_frame.size = 0;
	cr_assert_eq(ehframe__open(&src, &eh), -ENOENT);
	img_init(&m, &src);
	m.frame[10] = 'X';	/* an augmentation not read */
	cr_assert_eq(ehframe__open(&src, &eh), 0);
	cr_assert_eq(ehframe__lookup(eh, F1, &b, &e), -ENOENT);
	ehframe__free(eh);
}
