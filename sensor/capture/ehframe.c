// SPDX-License-Identifier: MIT
/*
 * ehframe.c - FDE bounds from .eh_frame_hdr and .eh_frame (ehframe.h;
 * LSB Core 5.0 section 10.6, DWARF 4 section 7.6).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "capture/binsrc.h"
#include "capture/ehframe.h"
#include "capture/elfsym.h"

#define DW_EH_PE_omit	0xff

struct ehframe {
	const struct binsrc *src;
	unsigned char *tab;	/* the header's table: count pairs */
	__u32 count;
};

int ehframe__open(const struct binsrc *src, struct ehframe **out)
{
	const struct binsrc_region *rg = &src->eh_frame_hdr;
	unsigned char hdr[12];
	struct ehframe *eh;
	__u32 count;
	int err;

	*out = NULL;
	if (!rg->size || !src->eh_frame.size || rg->size < sizeof(hdr))
		return -ENOENT;
	err = src->read(src->ctx, rg->addr, hdr, sizeof(hdr));
	if (err)
		return err;
	/* eh_frame_ptr udata4/sdata4, fde_count udata4, table datarel sdata4 */
	if (hdr[0] != 1 || hdr[2] != 0x03 || hdr[3] != 0x3b ||
	    ((hdr[1] & 0x0f) != 0x0b && (hdr[1] & 0x0f) != 0x03))
		return -ENOENT;
	count = elfsym__le32(hdr + 8);
	if (!count || count > EHFRAME_MAX_FDES ||
	    (__u64)count * 8 > rg->size - sizeof(hdr))
		return -ENOENT;
	eh = calloc(1, sizeof(*eh));
	if (!eh)
		return -ENOMEM;
	eh->tab = malloc((size_t)count * 8);
	if (!eh->tab) {
		free(eh);
		return -ENOMEM;
	}
	err = src->read(src->ctx, rg->addr + sizeof(hdr), eh->tab,
			(size_t)count * 8);
	if (err) {
		ehframe__free(eh);
		return err;
	}
	eh->src = src;
	eh->count = count;
	*out = eh;
	return 0;
}

void ehframe__free(struct ehframe *eh)
{
	if (!eh)
		return;
	free(eh->tab);
	free(eh);
}

/* Reads a ULEB128 at *@p (before @end); false when it runs past. */
static bool uleb(const unsigned char **p, const unsigned char *end,
		 __u64 *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		*v |= (__u64)(**p & 0x7f) << shift;
		shift += 7;
		if (!(*(*p)++ & 0x80))
			return true;
	}
	return false;
}

/*
 * Decodes a pointer of encoding @enc at *@p (address @addr), the
 * application bit (pcrel) only when @rel.  Returns false for encodings
 * compilers do not emit in .eh_frame of x86-64 files.
 */
static bool eh_ptr(const unsigned char **p, const unsigned char *end,
		   __u64 addr, unsigned int enc, bool rel, __u64 *v)
{
	unsigned int n;

	switch (enc & 0x0f) {
	case 0x00: case 0x04: case 0x0c: n = 8; break;
	case 0x03: case 0x0b: n = 4; break;
	default: return false;
	}
	if (end - *p < n)
		return false;
	if (n == 8)
		*v = elfsym__le32(*p) | (__u64)elfsym__le32(*p + 4) << 32;
	else
		*v = (enc & 0x0f) == 0x0b ?
		     (__u64)(__s64)(__s32)elfsym__le32(*p) :
					    elfsym__le32(*p);
	*p += n;
	if (!rel)
		return true;
	if ((enc & 0x70) == 0x10)
		*v += addr;
	else if (enc & 0x70)
		return false;
	return true;
}

/*
 * The FDE pointer encoding of the CIE at @cie (@n bytes read, the rest
 * zero) in *@enc.  Returns false for a CIE of a form not read.
 */
static bool cie_encoding(const unsigned char *cie, size_t n,
			 unsigned int *enc)
{
	const unsigned char *p = cie + 9, *e = cie + n;
	unsigned int i, k;
	char aug[8];
	__u64 v;

	*enc = 0;
	if (elfsym__le32(cie) == 0xffffffff || elfsym__le32(cie + 4) != 0)
		return false;
	for (i = 0; i < sizeof(aug) && p < e && *p; i++)
		aug[i] = (char)*p++;
	if (i == sizeof(aug) || p == e || (i && aug[0] != 'z'))
		return false;
	p++;
	/*
	 * The code and data alignment factors, skipped (the data one is a
	 * SLEB128, as long as a ULEB128 of the same bytes).
	 */
	if (!uleb(&p, e, &v))		/* code alignment factor */
		return false;
	if (!uleb(&p, e, &v))		/* data alignment factor */
		return false;
	if (cie[8] == 1)
		p++;				/* return address register */
	else if (!uleb(&p, e, &v))
		return false;
	if (i && !uleb(&p, e, &v))		/* augmentation length */
		return false;
	for (k = 1; k < i; k++) {
		if (p >= e)
			return false;
		if (aug[k] == 'R') {
			*enc = *p++;
		} else if (aug[k] == 'L') {
			p++;
		} else if (aug[k] == 'P') {
			unsigned int penc = *p++;

			if (!eh_ptr(&p, e, 0, penc, false, &v))
				return false;
		} else if (aug[k] != 'S' && aug[k] != 'B') {
			return false;
		}
	}
	return *enc != DW_EH_PE_omit;
}

int ehframe__lookup(const struct ehframe *eh, __u64 pc, __u64 *begin,
		    __u64 *end)
{
	const struct binsrc *src = eh->src;
	const __u64 base = src->eh_frame_hdr.addr;
	unsigned int lo = 0, hi = eh->count, mid, enc;
	unsigned char fde[32], cie[64];
	const unsigned char *p, *e;
	__u64 loc, fde_a, cie_a, range;
	int err;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (base + (__s64)(__s32)elfsym__le32(eh->tab + (size_t)mid * 8) <=
		    pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -ENOENT;
	loc = base + (__s64)(__s32)elfsym__le32(eh->tab + (size_t)(lo - 1) * 8);
	fde_a = base + (__s64)(__s32)elfsym__le32(eh->tab + (size_t)(lo - 1) * 8 + 4);
	if (!binsrc__in(&src->eh_frame, fde_a, sizeof(fde)))
		return -ENOENT;
	err = src->read(src->ctx, fde_a, fde, sizeof(fde));
	if (err)
		return err;
	if (!elfsym__le32(fde) || elfsym__le32(fde) == 0xffffffff ||
	    !elfsym__le32(fde + 4))
		return -ENOENT;
	cie_a = fde_a + 4 - elfsym__le32(fde + 4);
	if (!binsrc__in(&src->eh_frame, cie_a, 16))
		return -ENOENT;
	memset(cie, 0, sizeof(cie));
	err = src->read(src->ctx, cie_a, cie,
			binsrc__in(&src->eh_frame, cie_a, sizeof(cie)) ?
			sizeof(cie) : 16);
	if (err)
		return err;
	if (!cie_encoding(cie, sizeof(cie), &enc))
		return -ENOENT;
	p = fde + 8;
	e = fde + sizeof(fde);
	if (!eh_ptr(&p, e, fde_a + 8, enc, true, begin) ||
	    !eh_ptr(&p, e, 0, enc, false, &range))
		return -ENOENT;
	/* The table and the FDE must name one function. */
	if (*begin != loc || pc < *begin || pc - *begin >= range)
		return -ENOENT;
	*end = *begin + range;
	return 0;
}
