/* SPDX-License-Identifier: MIT */
/*
 * binsrc.h - the bytes of a linked x86-64 file by link-time virtual
 * address, for the finders that identify functions in stripped files
 * (bssl.h, rustls.h, ossl3.h): which sections they read, one reader,
 * a scan of a section in bounded windows, and the start of a .rodata
 * string found by its tail.
 *
 * A source is either an ELF file (binsrc__elf(): its .text, .rodata,
 * .eh_frame_hdr and .eh_frame, read with pread(2), never mapped) or
 * memory a test or fuzzer lays out (a struct binsrc of its own).  The
 * reader is all a finder uses, so the same finder code runs on both.
 */
#ifndef OISP_BINSRC_H
#define OISP_BINSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct elfsym;

/* A virtual address range of the file (a section); size 0: absent. */
struct binsrc_region {
	__u64 addr;
	__u64 size;
};

/*
 * Where a finder reads: the sections by their link-time addresses, and
 * a reader of any bytes inside them.  @read copies @n bytes at virtual
 * address @addr into @buf and returns 0 or -errno (-ERANGE for a range
 * outside the regions).
 */
struct binsrc {
	struct binsrc_region text;	/* .text: code */
	struct binsrc_region rodata;	/* .rodata: strings */
	struct binsrc_region eh_frame_hdr; /* optional */
	struct binsrc_region eh_frame;	/* optional, with eh_frame_hdr */
	int (*read)(void *ctx, __u64 addr, void *buf, size_t n);
	void *ctx;
};

/* Bytes read per step of binsrc__scan(), and the overlap kept. */
#define BINSRC_CHUNK	((size_t)4 << 20)
#define BINSRC_OVERLAP	32

/* True when [@a, @a + @n) lies in region @rg. */
bool binsrc__in(const struct binsrc_region *rg, __u64 a, __u64 n);

/*
 * Reads up to @n bytes at @addr of region @rg, clipped to its end, into
 * @buf; *@got is how many (0 when @addr lies outside @rg).  Returns 0 or
 * the reader's -errno.
 */
int binsrc__read_clip(const struct binsrc *src, const struct binsrc_region *rg,
		      __u64 addr, void *buf, size_t n, size_t *got);

/* Bytes before a string's end that binsrc__str_start() looks at. */
#define BINSRC_STR_MAX	256

/*
 * The start of the NUL-terminated string in .rodata of @src that holds
 * the byte before @a (a match of a string's tail, such as a __FILE__'s
 * last path components): the byte after the last NUL of the up to
 * BINSRC_STR_MAX bytes before @a, or .rodata's start, into *@start
 * (@a itself when the byte before @a is a NUL or @a starts .rodata).
 * Returns 0; -ENOENT when those BINSRC_STR_MAX bytes hold no NUL and do
 * not reach back to .rodata's start (longer than a path); or the
 * reader's -errno.
 */
int binsrc__str_start(const struct binsrc *src, __u64 a, __u64 *start);

/*
 * Calls @fn on region @rg of @src in steps of BINSRC_CHUNK bytes, each
 * with BINSRC_OVERLAP bytes more so that a pattern across two steps is
 * seen once: @fn(@arg, a, p, n, valid) looks at the @n bytes at @p
 * (address a) for matches that start in [0, valid).  Stops at the first
 * nonzero return of @fn, which it returns; else 0, -ENOMEM or the
 * reader's -errno.  Memory: one buffer of at most BINSRC_CHUNK +
 * BINSRC_OVERLAP bytes.
 */
int binsrc__scan(const struct binsrc *src, const struct binsrc_region *rg,
		 int (*fn)(void *arg, __u64 a, const unsigned char *p,
			   size_t n, size_t valid),
		 void *arg);

/* An ELF file as a source: what binsrc__elf() fills (the caller's). */
struct binsrc_elf {
	__u64 addr[4], offset[4], size[4];	/* text, rodata, hdr, frame */
	int fd;
};

/*
 * Makes @src read the ELF file of @es, open at @fd (the caller keeps
 * both, and @file, for as long as @src is used): its .text, .rodata,
 * .eh_frame_hdr and .eh_frame sections when loaded, with pread(2).
 * Returns 0, or -ENOENT when the file has no loaded .text or .rodata.
 */
int binsrc__elf(struct elfsym *es, int fd, struct binsrc_elf *file,
		struct binsrc *src);

#endif /* OISP_BINSRC_H */
