/* SPDX-License-Identifier: MIT */
/*
 * ehframe.h - function bounds from a stripped file's unwind tables.
 *
 * Executables and shared objects keep .eh_frame for unwinding when
 * their symbols are stripped, and .eh_frame_hdr's sorted table of
 * (initial location, FDE) pairs finds the FDE covering a pc with a
 * binary search.  Read as the LSB specifies them (Linux Standard Base
 * Core 5.0, section 10.6 "Exception Frames"; DWARF 4 section 7.6 for
 * LEB128): version 1 of the header with a datarel|sdata4 table (what
 * GNU ld, gold and lld write), CIEs with the augmentations z, R, L, P,
 * S and B, FDE pointers in absptr, udata4, sdata4 or 8-byte forms,
 * absolute or pcrel.
 */
#ifndef OISP_EHFRAME_H
#define OISP_EHFRAME_H

#include <linux/types.h>

struct binsrc;
struct ehframe;

/* FDEs accepted in the table (Codex: ~600,000). */
#define EHFRAME_MAX_FDES	(8u << 20)

/*
 * Reads the search table of @src's .eh_frame_hdr (8 bytes an FDE, kept
 * until ehframe__free()) into *@eh.  Returns 0; -ENOENT when the file
 * has no .eh_frame_hdr or .eh_frame, or a table of another form or over
 * EHFRAME_MAX_FDES entries (the caller then finds entries otherwise);
 * -ENOMEM, or the reader's -errno.  @src must outlive *@eh.
 */
int ehframe__open(const struct binsrc *src, struct ehframe **eh);

/*
 * The range [*@begin, *@end) (virtual addresses) of the function whose
 * FDE covers @pc: the table entry with the greatest initial location at
 * or below @pc, whose FDE must start at that location (as its pointer
 * encoding decodes it) and cover @pc.  Returns 0, -ENOENT when no FDE
 * covers @pc (or its CIE is of a form not read), or the reader's -errno.
 */
int ehframe__lookup(const struct ehframe *eh, __u64 pc, __u64 *begin,
		    __u64 *end);

/* Frees @eh; NULL is fine. */
void ehframe__free(struct ehframe *eh);

#endif /* OISP_EHFRAME_H */
