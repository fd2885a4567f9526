// SPDX-License-Identifier: MIT
/*
 * Tests of the .eh_frame_hdr / .eh_frame reader (ehframe.h) on tables
 * laid out in memory as GNU ld writes them (synthcode.h, LSB Core 5.0
 * 10.6): a CIE "zR" with FDE pointers pcrel|sdata4, two FDEs, the
 * sorted table.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "capture/binsrc.h"
#include "capture/ehframe.h"
#include "synthcode.h"

#define HDR	0x10000ULL
#define FRAME	0x10100ULL
#define F1	0x401000ULL	/* [F1, F1 + 0x40) */
#define F2	0x401080ULL	/* [F2, F2 + 0x20) */

struct img {
	unsigned char hdr[CODE_EH_HDR(2)];
	unsigned char frame[96];	/* read 32 bytes an FDE */
};

static int img_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct img *m = ctx;
	const struct code_region rg[] = {
		{ HDR, m->hdr, sizeof(m->hdr) },
		{ FRAME, m->frame, sizeof(m->frame) },
	};

	return code_read(rg, 2, addr, buf, n);
}

/* The tables, and @src reading them. */
static void img_init(struct img *m, struct binsrc *src)
{
	static const __u64 start[] = { F1, F2 };
	static const __u64 end[] = { F1 + 0x40, F2 + 0x20 };

	memset(m, 0, sizeof(*m));
	code_eh_tables(m->hdr, HDR, m->frame, FRAME, start, end, 2);
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
	code_fde(m.frame, FRAME, 20, F1 + 0x10, 0x40);
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
