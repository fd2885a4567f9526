// SPDX-License-Identifier: MIT
/*
 * bssl.c - SSL_write and SSL_read of a static, stripped BoringSSL, by the
 * error call sites of ssl/ssl_lib.cc (bssl.h).  x86-64 only; decoded
 * with Capstone 4 (capstone/capstone.h).  .eh_frame and .eh_frame_hdr
 * are read as the LSB specifies them (Linux Standard Base Core 5.0,
 * section 10.6, "Exception Frames"; DWARF 4 section 7.7 for LEB128).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <capstone/capstone.h>

#include "capture/bssl.h"
#include "capture/elfsym.h"

/* Bytes read per step of a section scan, and the overlap kept. */
#define SCAN_CHUNK	((size_t)4 << 20)
#define SCAN_OVERLAP	16
/* File name strings accepted (one in a linked file; tail merges). */
#define MAX_STRINGS	4
/* Instructions from the file name load to the call, and jumps. */
#define SITE_INSNS	12
#define SITE_JUMPS	2
/* Candidate function starts kept near the sites (~3,000 in Bun). */
#define MAX_TARGETS	(1u << 16)
/* Line span of one function's sites (SSL_read: ~100 lines). */
#define MAX_LINE_SPAN	256

/* BoringSSL's codes (include/openssl/err.h, ssl.h): stable API. */
#define ERR_LIB_SSL			16
#define R_SHOULD_NOT_HAVE_BEEN_CALLED	66
#define R_UNINITIALIZED			226
#define R_HANDSHAKE_FAILURE		215
#define R_BAD_LENGTH			111

/* Registers of the first six integer arguments (System V x86-64 ABI). */
#define NARGS	6

struct site {
	__u64 field;	/* address of the imm32/disp32 naming the file */
	__u64 start;	/* its instruction (shortest form); 0: not decoded */
	/*
	 * Bit i: field - i may start that instruction (one byte before
	 * may be a prefix or the end of another); the descent settles it.
	 */
	unsigned int starts;
	__u64 callee;	/* the error function called */
	__u64 group;	/* entry it is grouped under; 0: none */
	unsigned int reason, line;
};

struct finder {
	const struct bssl_src *src;
	struct bssl_result *r;
	csh h;
	cs_insn *insn;
	__u64 strs[MAX_STRINGS];
	unsigned int nstrs;
	struct site *sites;
	unsigned int nsites;
	__u64 *targets;		/* sorted call targets near the sites */
	unsigned char *tkind;	/* while scanning: enum cand */
	unsigned int ntargets;
	__u64 *near;		/* sorted starts of the decoded sites */
	unsigned int nnear;
	/* .eh_frame_hdr's search table, when usable. */
	unsigned char *ehtab;
	__u32 ehcount;
};

static bool in_region(const struct bssl_region *rg, __u64 a, __u64 n)
{
	return rg->size && a >= rg->addr && n <= rg->size &&
	       a - rg->addr <= rg->size - n;
}

/*
 * Reads @n bytes at @addr of region @rg, clipped to it; *@got is what
 * was read.  Returns 0 or the reader's -errno.
 */
static int read_clip(struct finder *f, const struct bssl_region *rg,
		     __u64 addr, void *buf, size_t n, size_t *got)
{
	*got = 0;
	if (addr < rg->addr || addr - rg->addr >= rg->size)
		return 0;
	if (n > rg->addr + rg->size - addr)
		n = rg->addr + rg->size - addr;
	*got = n;
	return f->src->read(f->src->ctx, addr, buf, n);
}

/*
 * Calls @fn on region @rg in steps of SCAN_CHUNK bytes, each with
 * SCAN_OVERLAP more so that a pattern across steps is seen: @fn looks at
 * matches starting in [0, @valid) of the @n bytes at @p (address @a).
 */
static int scan(struct finder *f, const struct bssl_region *rg,
		int (*fn)(struct finder *f, __u64 a, const unsigned char *p,
			  size_t n, size_t valid))
{
	unsigned char *buf;
	size_t n, valid;
	__u64 off;
	int err = 0;

	buf = malloc((rg->size < SCAN_CHUNK ? rg->size : SCAN_CHUNK) +
		     SCAN_OVERLAP);
	if (!buf)
		return -ENOMEM;
	for (off = 0; off < rg->size && !err; off += SCAN_CHUNK) {
		n = rg->size - off;
		if (n > SCAN_CHUNK + SCAN_OVERLAP)
			n = SCAN_CHUNK + SCAN_OVERLAP;
		valid = n < SCAN_CHUNK ? n : SCAN_CHUNK;
		err = f->src->read(f->src->ctx, rg->addr + off, buf, n);
		if (!err)
			err = fn(f, rg->addr + off, buf, n, valid);
	}
	free(buf);
	return err;
}

/* Adds the string ending in the file name suffix found at @a. */
static int add_string(struct finder *f, __u64 a)
{
	unsigned char back[256];
	__u64 from, start;
	unsigned int i;
	size_t got;
	int err;

	from = a - f->src->rodata.addr > sizeof(back) ?
	       a - sizeof(back) : f->src->rodata.addr;
	err = read_clip(f, &f->src->rodata, from, back, a - from, &got);
	if (err)
		return err;
	start = from;
	for (i = got; i > 0; i--) {
		if (!back[i - 1]) {
			start = from + i;
			break;
		}
	}
	if (i == 0 && from != f->src->rodata.addr)
		return 0;	/* longer than a path: not a __FILE__ */
	/*
	 * A __FILE__ has a directory before ssl/ (the build's path to
	 * BoringSSL); "/ssl/ssl_lib.cc" alone is a program searching for it.
	 */
	if (start == a)
		return 0;
	for (i = 0; i < f->nstrs; i++)
		if (f->strs[i] == start)
			return 0;
	if (f->nstrs == MAX_STRINGS)
		return -E2BIG;
	f->strs[f->nstrs++] = start;
	return 0;
}

static int scan_strings(struct finder *f, __u64 a, const unsigned char *p,
			size_t n, size_t valid)
{
	static const char pat[] = BSSL_FILE_SUFFIX;	/* with its NUL */
	const unsigned char *q = p, *end = p + n;
	int err;

	while ((q = memmem(q, end - q, pat, sizeof(pat)))) {
		if ((size_t)(q - p) >= valid)
			break;
		err = add_string(f, a + (q - p));
		if (err)
			return err;
		q++;
	}
	return 0;
}

/*
 * Loads of one of the strings: an imm32 equal to its address, or a
 * disp32 that a RIP-relative operand ending there resolves to it.
 */
static int scan_refs(struct finder *f, __u64 a, const unsigned char *p,
		     size_t n, size_t valid)
{
	unsigned int k;
	__u32 v;
	size_t i;

	if (n < 4)
		return 0;
	for (i = 0; i < valid && i + 4 <= n; i++) {
		v = elfsym__le32(p + i);
		for (k = 0; k < f->nstrs; k++) {
			if (v != (__u32)f->strs[k] &&
			    a + i + 4 + (__s64)(__s32)v != f->strs[k])
				continue;
			if (f->nsites == BSSL_MAX_REFS)
				return -E2BIG;
			f->sites[f->nsites++] = (struct site){ .field = a + i };
		}
	}
	return 0;
}

/* Argument index (0: RDI .. 5: R9) of register @reg, or -1. */
static int arg_index(x86_reg reg)
{
	switch (reg) {
	case X86_REG_RDI: case X86_REG_EDI: return 0;
	case X86_REG_RSI: case X86_REG_ESI: return 1;
	case X86_REG_RDX: case X86_REG_EDX: return 2;
	case X86_REG_RCX: case X86_REG_ECX: return 3;
	case X86_REG_R8: case X86_REG_R8D: return 4;
	case X86_REG_R9: case X86_REG_R9D: return 5;
	default: return -1;
	}
}

/* The address @insn loads into its register with MOV imm or LEA [RIP]. */
static bool loads_address(const cs_insn *insn, __u64 *val, int *reg)
{
	const cs_x86 *x = &insn->detail->x86;

	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG)
		return false;
	*reg = arg_index(x->operands[0].reg);
	if (insn->id == X86_INS_MOV && x->operands[1].type == X86_OP_IMM) {
		*val = (__u64)x->operands[1].imm;
		return true;
	}
	if (insn->id == X86_INS_LEA && x->operands[1].type == X86_OP_MEM &&
	    x->operands[1].mem.base == X86_REG_RIP &&
	    x->operands[1].mem.index == X86_REG_INVALID) {
		*val = insn->address + insn->size + x->operands[1].mem.disp;
		return true;
	}
	return false;
}

/* Decodes one instruction at @addr of .text into f->insn. */
static int decode_at(struct finder *f, __u64 addr)
{
	unsigned char buf[16];
	const uint8_t *p = buf;
	uint64_t pc = addr;
	size_t got, left;
	int err;

	err = read_clip(f, &f->src->text, addr, buf, sizeof(buf), &got);
	if (err)
		return err;
	left = got;
	if (!got || !cs_disasm_iter(f->h, &p, &left, &pc, f->insn))
		return -EILSEQ;
	return 0;
}

static bool is_str(const struct finder *f, __u64 v)
{
	unsigned int k;

	for (k = 0; k < f->nstrs; k++)
		if (f->strs[k] == v)
			return true;
	return false;
}

/*
 * Decodes site @s: the one instruction that ends with its field and
 * loads the file name into an argument register, then the instructions
 * up to the call (through at most SITE_JUMPS jumps), which may only set
 * argument registers to constants.  Leaves s->start 0 when the site is
 * not such an error call.
 */
static int decode_site(struct finder *f, struct site *s)
{
	__u64 start = 0, v, pc, regs[NARGS];
	unsigned int i, nstarts = 0, jumps = 0, known = 0;
	const cs_x86 *x;
	int reg, freg = -1, k, err;

	for (i = 1; i <= 4; i++) {
		err = decode_at(f, s->field - i);
		if (err == -EILSEQ)
			continue;
		if (err)
			return err;
		/*
		 * The file is the 3rd or 4th argument; a start that reads
		 * the byte before as a REX prefix loads another register
		 * (the descent from the entry settles boundaries later).
		 */
		if (f->insn->address + f->insn->size != s->field + 4 ||
		    !loads_address(f->insn, &v, &reg) || !is_str(f, v) ||
		    reg < 2 || reg > 3)
			continue;
		/* A prefix-only difference (CS, REX without R/B) is fine. */
		if (nstarts++ && reg != freg)
			return 0;
		if (!start)
			start = s->field - i;
		freg = reg;
		s->starts |= 1u << i;
	}
	if (!nstarts)
		return 0;
	decode_at(f, start);
	pc = start + f->insn->size;
	for (i = 0; i < SITE_INSNS; i++) {
		err = decode_at(f, pc);
		if (err == -EILSEQ)
			return 0;
		if (err)
			return err;
		x = &f->insn->detail->x86;
		pc += f->insn->size;
		if (f->insn->id == X86_INS_CALL || f->insn->id == X86_INS_JMP) {
			if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
				return 0;
			if (f->insn->id == X86_INS_JMP) {
				if (++jumps > SITE_JUMPS)
					return 0;
				pc = x->operands[0].imm;
				continue;
			}
			s->callee = x->operands[0].imm;
			break;
		}
		if (f->insn->id == X86_INS_XOR && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG &&
		    x->operands[1].type == X86_OP_REG &&
		    x->operands[0].reg == x->operands[1].reg &&
		    (k = arg_index(x->operands[0].reg)) >= 0) {
			regs[k] = 0;
			known |= 1u << k;
		} else if (f->insn->id == X86_INS_MOV &&
			   loads_address(f->insn, &v, &k) && k >= 0 &&
			   k != freg && x->operands[1].type == X86_OP_IMM) {
			regs[k] = v;
			known |= 1u << k;
		} else {
			return 0;	/* anything else: not a plain error call */
		}
	}
	if (!s->callee || (~known & (1u << 0 | 1u << (freg - 1) |
				     1u << (freg + 1))))
		return 0;
	if (regs[0] != ERR_LIB_SSL || regs[freg - 1] > 0xfff ||
	    regs[freg + 1] > 0xffffff)
		return 0;
	s->reason = regs[freg - 1];
	s->line = regs[freg + 1];
	s->start = start;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The index of the first of the @n sorted values @v above @a. */
static unsigned int first_above(const __u64 *v, unsigned int n, __u64 a)
{
	unsigned int lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * True when @t lies within BSSL_MAX_FUNC bytes of a decoded site
 * (f->near: their sorted instruction addresses).
 */
static bool near_site(const struct finder *f, __u64 t)
{
	/* near[i] is the first site at or above t */
	unsigned int i = t ? first_above(f->near, f->nnear, t - 1) : 0;

	if (i < f->nnear && f->near[i] - t < BSSL_MAX_FUNC)
		return true;
	return i && t - f->near[i - 1] < BSSL_MAX_FUNC;
}

/* How a candidate entry was found. */
enum cand {
	CAND_CALL,	/* the target of a direct call */
	CAND_JUMP,	/* of a direct jump, kept when int3 padding precedes */
	CAND_PAD,	/* after int3 padding, kept when a prologue starts it */
};

static bool near_window(const struct finder *f, __u64 t)
{
	const struct bssl_region *tx = &f->src->text;

	/* After the first byte of .text: the byte before is read. */
	return !(t & 15) && t > tx->addr && t - tx->addr < tx->size &&
	       t + BSSL_MAX_FUNC >= f->near[0] &&
	       t <= f->near[f->nnear - 1] + BSSL_MAX_FUNC && near_site(f, t);
}

static int add_target(struct finder *f, __u64 t, enum cand kind)
{
	if (f->ntargets == MAX_TARGETS)
		return -E2BIG;
	f->targets[f->ntargets] = t;
	f->tkind[f->ntargets++] = kind;
	return 0;
}

/*
 * Candidate entries near a site, 16-byte aligned (the function alignment
 * of GCC and Clang at -O2 on x86-64): targets of direct calls (E8
 * rel32) and tail jumps (E9 rel32), and the ends of int3 padding (lld
 * and GNU ld fill the gaps between x86 functions with int3; a function
 * called only through a pointer is found there).  A jump inside a
 * function lands on code that follows code or NOP padding.
 */
static int scan_calls(struct finder *f, __u64 a, const unsigned char *p,
		      size_t n, size_t valid)
{
	__u64 t;
	size_t i;
	int err;

	for (i = 0; i < valid && i + 5 <= n; i++) {
		if (i && p[i - 1] == 0xcc && p[i] != 0xcc &&
		    near_window(f, a + i)) {
			err = add_target(f, a + i, CAND_PAD);
			if (err)
				return err;
		}
		if (p[i] != 0xe8 && p[i] != 0xe9)
			continue;
		t = a + i + 5 + (__s64)(__s32)elfsym__le32(p + i + 1);
		if (!near_window(f, t))
			continue;
		err = add_target(f, t, p[i] == 0xe8 ? CAND_CALL : CAND_JUMP);
		if (err)
			return err;
	}
	return 0;
}

static bool prologue(struct finder *f, __u64 entry);

/*
 * Keeps the call targets, the jump targets that int3 padding precedes
 * and the padding ends that a prologue starts; sorts them and drops
 * duplicates.
 */
static int keep_targets(struct finder *f)
{
	unsigned char b;
	unsigned int i, j;
	int err;

	for (i = j = 0; i < f->ntargets; i++) {
		if (f->tkind[i] == CAND_JUMP) {
			err = f->src->read(f->src->ctx, f->targets[i] - 1, &b, 1);
			if (err == -ERANGE || (!err && b != 0xcc))
				continue;
			if (err)
				return err;
		} else if (f->tkind[i] == CAND_PAD &&
			   !prologue(f, f->targets[i])) {
			continue;
		}
		f->targets[j++] = f->targets[i];
	}
	qsort(f->targets, j, sizeof(*f->targets), cmp_u64);
	f->ntargets = j;
	for (i = j = 0; i < f->ntargets; i++)
		if (!j || f->targets[j - 1] != f->targets[i])
			f->targets[j++] = f->targets[i];
	f->ntargets = j;
	return 0;
}


/* The last call target at or below @a (within BSSL_MAX_FUNC), or 0. */
static __u64 target_below(const struct finder *f, __u64 a)
{
	unsigned int i = first_above(f->targets, f->ntargets, a);

	if (!i || a - f->targets[i - 1] >= BSSL_MAX_FUNC)
		return 0;
	return f->targets[i - 1];
}

/* The first call target above @a, or @a + BSSL_MAX_FUNC. */
static __u64 target_above(const struct finder *f, __u64 a)
{
	unsigned int i = first_above(f->targets, f->ntargets, a);

	if (i == f->ntargets || f->targets[i] - a > BSSL_MAX_FUNC)
		return a + BSSL_MAX_FUNC;
	return f->targets[i];
}

/* --- .eh_frame (LSB 5.0 10.6) --- */

#define DW_EH_PE_omit	0xff
#define EH_MAX_FDES	(8u << 20)

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
 * compilers do not emit in .eh_frame of x86-64 executables.
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
 * Copies .eh_frame_hdr's binary search table (version 1, entries of
 * datarel sdata4 pairs: what GNU ld and lld write).  No table, or one of
 * another form, leaves f->ehcount 0: entries then come from calls only.
 */
static int eh_open(struct finder *f)
{
	const struct bssl_region *rg = &f->src->eh_frame_hdr;
	unsigned char hdr[12];
	__u32 count;
	int err;

	if (!rg->size || !f->src->eh_frame.size || rg->size < sizeof(hdr))
		return 0;
	err = f->src->read(f->src->ctx, rg->addr, hdr, sizeof(hdr));
	if (err)
		return err;
	if (hdr[0] != 1 || hdr[2] != 0x03 || hdr[3] != 0x3b ||
	    ((hdr[1] & 0x0f) != 0x0b && (hdr[1] & 0x0f) != 0x03))
		return 0;
	count = elfsym__le32(hdr + 8);
	if (!count || count > EH_MAX_FDES ||
	    (__u64)count * 8 > rg->size - sizeof(hdr))
		return 0;
	f->ehtab = malloc((size_t)count * 8);
	if (!f->ehtab)
		return -ENOMEM;
	err = f->src->read(f->src->ctx, rg->addr + sizeof(hdr), f->ehtab,
			   (size_t)count * 8);
	if (err)
		return err;
	f->ehcount = count;
	return 0;
}

/*
 * The range [*@begin, *@end) of the FDE covering @pc.  Returns 0,
 * -ENOENT when none does (or its CIE is of an unread form), or the
 * reader's -errno.
 */
static int eh_lookup(struct finder *f, __u64 pc, __u64 *begin, __u64 *end)
{
	const __u64 base = f->src->eh_frame_hdr.addr;
	unsigned int lo = 0, hi = f->ehcount, mid, enc = 0, i;
	unsigned char fde[32], cie[64];
	const unsigned char *p, *e;
	__u64 fde_a, cie_a, v, range;
	char aug[8];
	int err;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (base + (__s32)elfsym__le32(f->ehtab + (size_t)mid * 8) <=
		    pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -ENOENT;
	fde_a = base + (__s32)elfsym__le32(f->ehtab + (size_t)(lo - 1) * 8 + 4);
	if (!in_region(&f->src->eh_frame, fde_a, sizeof(fde)))
		return -ENOENT;
	err = f->src->read(f->src->ctx, fde_a, fde, sizeof(fde));
	if (err)
		return err;
	if (!elfsym__le32(fde) || elfsym__le32(fde) == 0xffffffff ||
	    !elfsym__le32(fde + 4))
		return -ENOENT;
	cie_a = fde_a + 4 - elfsym__le32(fde + 4);
	if (!in_region(&f->src->eh_frame, cie_a, 16))
		return -ENOENT;
	memset(cie, 0, sizeof(cie));
	err = f->src->read(f->src->ctx, cie_a, cie,
			   in_region(&f->src->eh_frame, cie_a, sizeof(cie)) ?
			   sizeof(cie) : 16);
	if (err)
		return err;
	if (elfsym__le32(cie) == 0xffffffff || elfsym__le32(cie + 4) != 0)
		return -ENOENT;
	p = cie + 9;
	e = cie + sizeof(cie);
	for (i = 0; i < sizeof(aug) && p < e && *p; i++)
		aug[i] = (char)*p++;
	if (i == sizeof(aug) || p == e || (i && aug[0] != 'z'))
		return -ENOENT;
	p++;
	/* The code and data alignment factors, skipped (the data one is a
	 * SLEB128, as long as a ULEB128 of the same bytes). */
	if (!uleb(&p, e, &v))
		return -ENOENT;
	if (!uleb(&p, e, &v))
		return -ENOENT;
	if (cie[8] == 1)
		p++;				/* return address register */
	else if (!uleb(&p, e, &v))
		return -ENOENT;
	if (i && !uleb(&p, e, &v))		/* augmentation length */
		return -ENOENT;
	for (mid = 1; mid < i; mid++) {
		if (p >= e)
			return -ENOENT;
		if (aug[mid] == 'R')
			enc = *p++;
		else if (aug[mid] == 'L')
			p++;
		else if (aug[mid] == 'P') {
			unsigned int penc = *p++;

			if (!eh_ptr(&p, e, 0, penc, false, &v))
				return -ENOENT;
		} else if (aug[mid] != 'S' && aug[mid] != 'B')
			return -ENOENT;
	}
	if (enc == DW_EH_PE_omit)
		return -ENOENT;
	p = fde + 8;
	e = fde + sizeof(fde);
	if (!eh_ptr(&p, e, fde_a + 8, enc, true, begin) ||
	    !eh_ptr(&p, e, 0, enc, false, &range))
		return -ENOENT;
	if (pc < *begin || pc - *begin >= range)
		return -ENOENT;
	*end = *begin + range;
	return 0;
}

/* --- the function's own control flow --- */

enum { B_NONE, B_START, B_INNER };

/*
 * True when one of the starts of site @s begins an instruction of
 * @map (that of [@entry, @entry + @len)) that ends with its field.
 */
static bool site_reached(const struct site *s, __u64 entry, __u64 len,
			 const unsigned char *map)
{
	__u64 a, end = s->field + 4;
	unsigned int i;

	if (s->field < entry + 4 || end > entry + len)
		return false;
	for (i = 1; i <= 4; i++) {
		a = s->field - i;
		if (!(s->starts & 1u << i) || map[a - entry] != B_START)
			continue;
		if (end == entry + len || map[end - entry] != B_INNER)
			return true;
	}
	return false;
}

/*
 * Decodes, from @entry, every instruction that the function's own jumps
 * reach within [@entry, @end): jumps and calls outside are left (tail
 * calls, callees), a fall-through after a call into @end or into int3
 * padding ends a path (a call that does not return).  Fails with *@why
 * when an instruction does not decode, one byte would start one
 * instruction and lie inside another, or straight-line code runs into
 * @end (another function's entry).  Then checks that every site of
 * @s[0..@n) starts an instruction reached, and stores the number of
 * instructions in *@ninsns and the end of the last byte reached in
 * *@reach; with @callee, also that a direct call to @callee is reached
 * (else -ENOENT).  Returns 0, -EILSEQ, -ENOENT, -ENOMEM or the reader's
 * -errno.
 */
static int descend(struct finder *f, __u64 entry, __u64 end,
		   const struct site *const *s, unsigned int n, __u64 callee,
		   unsigned int *ninsns, __u64 *reach, const char **why)
{
	unsigned char *buf = NULL, *map = NULL;
	unsigned int nwork = 0, i, j;
	__u64 *work = NULL, a, t, len;
	const uint8_t *p;
	uint64_t pc;
	size_t got, left;
	const cs_x86 *x;
	bool after_call, called = !callee;
	int err = -ENOMEM;

	*ninsns = 0;
	*reach = entry;
	len = end - entry;
	buf = malloc(len);
	map = calloc(len, 1);
	work = malloc(len * sizeof(*work) / 2 + 16);
	if (!buf || !map || !work)
		goto out;
	err = read_clip(f, &f->src->text, entry, buf, len, &got);
	if (err)
		goto out;
	len = got;
	err = -EILSEQ;
	work[nwork++] = entry;
	while (nwork) {
		a = work[--nwork];
		after_call = false;
		for (;;) {
			if (a >= entry + len) {
				if (after_call)
					break;
				*why = "code runs into another function";
				goto out;
			}
			if (map[a - entry] == B_START)
				break;
			if (map[a - entry] == B_INNER) {
				*why = "a byte decodes as two instructions";
				goto out;
			}
			p = buf + (a - entry);
			left = len - (a - entry);
			pc = a;
			if (!cs_disasm_iter(f->h, &p, &left, &pc, f->insn)) {
				*why = "an invalid instruction in the function";
				goto out;
			}
			map[a - entry] = B_START;
			for (j = 1; j < f->insn->size; j++) {
				if (map[a - entry + j] != B_NONE) {
					*why = "a byte decodes as two instructions";
					goto out;
				}
				map[a - entry + j] = B_INNER;
			}
			(*ninsns)++;
			if (a + f->insn->size > *reach)
				*reach = a + f->insn->size;
			x = &f->insn->detail->x86;
			t = 0;
			if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
				t = x->operands[0].imm;
			a += f->insn->size;
			after_call = false;
			switch (f->insn->id) {
			case X86_INS_RET: case X86_INS_RETF: case X86_INS_INT3:
			case X86_INS_UD2: case X86_INS_HLT:
				goto next;
			case X86_INS_JMP:
				if (t >= entry && t < entry + len &&
				    nwork < len / 2 + 16)
					work[nwork++] = t;
				goto next;
			case X86_INS_CALL:
				after_call = true;
				called |= t == callee;
				if (a < entry + len && buf[a - entry] == 0xcc)
					goto next;
				continue;
			default:
				break;
			}
			if (cs_insn_group(f->h, f->insn, CS_GRP_JUMP) && t &&
			    t >= entry && t < entry + len &&
			    nwork < len / 2 + 16)
				work[nwork++] = t;
		}
next:;
	}
	for (i = 0; i < n; i++) {
		if (!site_reached(s[i], entry, len, map)) {
			*why = "an error call site is not reached from the entry";
			goto out;
		}
	}
	err = called ? 0 : -ENOENT;
	if (!called)
		*why = "SSL_read's check does not call ssl_read_impl";
out:
	free(work);
	free(map);
	free(buf);
	return err;
}

/* True when the instruction at @entry starts a frame (PUSH, SUB RSP). */
static bool prologue(struct finder *f, __u64 entry)
{
	const cs_x86 *x;

	if (decode_at(f, entry))
		return false;
	if (f->insn->id == X86_INS_ENDBR64 &&
	    decode_at(f, entry + f->insn->size))
		return false;
	x = &f->insn->detail->x86;
	if (f->insn->id == X86_INS_PUSH)
		return x->op_count == 1 && x->operands[0].type == X86_OP_REG;
	return f->insn->id == X86_INS_SUB && x->op_count == 2 &&
	       x->operands[0].type == X86_OP_REG &&
	       x->operands[0].reg == X86_REG_RSP;
}

/* --- signatures --- */

enum sig {
	SIG_NONE,
	SIG_WRITE,	/* SSL_write */
	SIG_READ,	/* SSL_read with SSL_peek and ssl_read_impl inlined */
	SIG_IMPL,	/* ssl_read_impl alone */
	SIG_PEEK,	/* SSL_peek's check alone: SSL_read or SSL_peek */
	SIG_NR,
};

/* The sites of one function. */
struct group {
	const struct site **s;
	unsigned int n;
};

/* Functions kept per signature; more is refused all the same. */
#define MAX_CANDS	8

static int cmp_line(const void *a, const void *b)
{
	const struct site *x = *(const struct site *const *)a;
	const struct site *y = *(const struct site *const *)b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/* True when the reasons of @s[0..@n) are @want[0..@n), in order. */
static bool reasons(const struct site **s, unsigned int n,
		    const unsigned int *want, unsigned int nwant)
{
	unsigned int i;

	if (n != nwant)
		return false;
	for (i = 0; i < n && s[i]->reason == want[i]; i++)
		;
	return i == n;
}

/*
 * True when @s[0..@n) ends with the reasons @want[0..@nwant) and the
 * sites before them have none of the reasons that identify functions:
 * those of static helpers defined earlier in the file and inlined
 * (ssl_read_impl inlines ssl_do_post_handshake in some builds).
 */
static bool ends_with(const struct site **s, unsigned int n,
		      const unsigned int *want, unsigned int nwant)
{
	unsigned int i;

	if (n < nwant || !reasons(s + n - nwant, nwant, want, nwant))
		return false;
	for (i = 0; i < n - nwant; i++)
		if (s[i]->reason == R_UNINITIALIZED ||
		    s[i]->reason == R_HANDSHAKE_FAILURE ||
		    s[i]->reason == R_BAD_LENGTH ||
		    s[i]->reason == R_SHOULD_NOT_HAVE_BEEN_CALLED)
			return false;
	return true;
}

/*
 * Which function the sites @s[0..@n) of one function make, by their
 * reasons in the order of their lines (sorts @s by line).
 */
static enum sig signature(const struct site **s, unsigned int n)
{
	static const unsigned int wr[] = {
		R_UNINITIALIZED, R_HANDSHAKE_FAILURE, R_BAD_LENGTH };
	static const unsigned int rd[] = {
		R_UNINITIALIZED, R_HANDSHAKE_FAILURE,
		R_SHOULD_NOT_HAVE_BEEN_CALLED };
	static const unsigned int peek[] = { R_SHOULD_NOT_HAVE_BEEN_CALLED };

	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	qsort(s, n, sizeof(*s), cmp_line);
	if (!n || s[n - 1]->line - s[0]->line > MAX_LINE_SPAN)
		return SIG_NONE;
	if (ends_with(s, n, rd, 3))
		return SIG_READ;
	if (ends_with(s, n, rd, 2))
		return SIG_IMPL;
	if (reasons(s, n, peek, 1))
		return SIG_PEEK;
	if (reasons(s, n, wr, 3) ||
	    (s[0]->reason == R_SHOULD_NOT_HAVE_BEEN_CALLED &&
	     reasons(s + 1, n - 1, wr, 3)))
		return SIG_WRITE;
	return SIG_NONE;
}

/* --- putting it together --- */

static int cmp_group(const void *a, const void *b)
{
	const struct site *x = *(const struct site *const *)a;
	const struct site *y = *(const struct site *const *)b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Fails with why @why and -EILSEQ. */
static int refuse(struct finder *f, const char *why, int err)
{
	f->r->why = why;
	return err;
}

/*
 * Proves the entry of the function whose sites are @s[0..@n) and fills
 * @fn: from its FDE and from the call target below it, each checked by
 * a descent that reaches every site (and calls @callee, when not 0).
 * Returns 0, -ENOENT when it does not call @callee, or an error, why
 * set.
 */
static int prove(struct finder *f, const struct site **s, unsigned int n,
		 __u64 callee, struct bssl_func *fn)
{
	__u64 lo = s[0]->start, eb, ee, t, end, reach = 0, creach = 0;
	const struct bssl_region *tx = &f->src->text;
	const char *why = NULL;
	unsigned int i, cn = 0;
	int err = 0;

	for (i = 1; i < n; i++)
		if (s[i]->start < lo)
			lo = s[i]->start;
	fn->nsites = n;
	if (f->ehcount && !(err = eh_lookup(f, lo, &eb, &ee))) {
		if (ee - eb > BSSL_MAX_FUNC)
			return refuse(f, "the .eh_frame range is too large",
				      -EILSEQ);
		err = descend(f, eb, ee, s, n, callee, &fn->ninsns, &reach,
			      &why);
		if (err)
			return refuse(f, why, err);
		fn->eh_entry = eb;
	} else if (f->ehcount && err != -ENOENT) {
		return err;
	}
	t = target_below(f, lo);
	if (t && prologue(f, t)) {
		end = target_above(f, t);
		if (end > tx->addr + tx->size)
			end = tx->addr + tx->size;
		err = descend(f, t, end, s, n, callee, &cn, &creach, &why);
		if (!err)
			fn->call_entry = t;
		else if (err != -EILSEQ)
			return refuse(f, why, err);
	} else if (t) {
		why = "the call target below the sites has no prologue";
	}
	if (!fn->eh_entry && !fn->call_entry)
		return refuse(f, why ? why : "no call target below the sites",
			      -EILSEQ);
	if (fn->eh_entry && fn->call_entry && fn->eh_entry != fn->call_entry)
		return refuse(f, "the .eh_frame and call target entries differ",
			      -EILSEQ);
	fn->entry = fn->eh_entry ? fn->eh_entry : fn->call_entry;
	if (!fn->eh_entry) {
		fn->ninsns = cn;
		reach = creach;
	}
	for (i = 0; i < f->nsites; i++)
		if (!f->sites[i].start && f->sites[i].field >= fn->entry &&
		    f->sites[i].field < reach)
			return refuse(f, "a load of ssl_lib.cc in the function is not a plain error call",
				      -EILSEQ);
	return 0;
}

/*
 * SSL_read: one function with the sites of ssl_read_impl and SSL_peek
 * (both inlined), or one with SSL_peek's check alone that calls the one
 * function with ssl_read_impl's sites, which come earlier in the file.
 * (A build that keeps SSL_peek out of line and calls it from SSL_read
 * gets SSL_peek probed: each SSL_read calls it once with the same
 * arguments and result.)  Exactly one must be found.
 */
static int find_read(struct finder *f, struct group fns[SIG_NR][MAX_CANDS],
		     const unsigned int *nfn, struct bssl_func *fn)
{
	const struct group *p, *im;
	unsigned int i, found = nfn[SIG_READ];
	struct bssl_func cand;
	int err;

	if (nfn[SIG_READ] > MAX_CANDS || nfn[SIG_PEEK] > MAX_CANDS ||
	    nfn[SIG_IMPL] > MAX_CANDS)
		return refuse(f, "too many SSL_read candidates", -ESRCH);
	if (found == 1) {
		err = prove(f, fns[SIG_READ][0].s, fns[SIG_READ][0].n, 0, fn);
		if (err)
			return err;
	}
	if (nfn[SIG_PEEK] && nfn[SIG_IMPL] > 1)
		return refuse(f, "two functions match ssl_read_impl", -ESRCH);
	im = &fns[SIG_IMPL][0];
	for (i = 0; nfn[SIG_IMPL] && i < nfn[SIG_PEEK]; i++) {
		p = &fns[SIG_PEEK][i];
		if (p->s[0]->line <= im->s[im->n - 1]->line ||
		    p->s[0]->line - im->s[0]->line > MAX_LINE_SPAN)
			continue;
		memset(&cand, 0, sizeof(cand));
		err = prove(f, p->s, p->n, im->s[0]->group, &cand);
		if (err == -ENOENT) {
			f->r->why = NULL;
			continue;
		}
		if (err)
			return err;
		cand.nsites += im->n;
		if (!found++)
			*fn = cand;
	}
	if (found != 1)
		return refuse(f, found ? "two functions match SSL_read" :
				     "no function matches SSL_read", -ESRCH);
	return 0;
}

/* The group (entry) of decoded site @s: its FDE's, else a call target. */
static int group_of(struct finder *f, struct site *s)
{
	__u64 eb, ee;
	int err = -ENOENT;

	if (f->ehcount)
		err = eh_lookup(f, s->start, &eb, &ee);
	if (!err) {
		s->group = eb;
		return 0;
	}
	if (err != -ENOENT)
		return err;
	s->group = target_below(f, s->start);
	return 0;
}

static void finder_free(struct finder *f)
{
	if (f->insn)
		cs_free(f->insn, 1);
	if (f->h)
		cs_close(&f->h);
	free(f->sites);
	free(f->targets);
	free(f->near);
	free(f->tkind);
	free(f->ehtab);
}

int bssl__find(const struct bssl_src *src, struct bssl_result *r)
{
	unsigned int i, j, nd = 0, nfn[SIG_NR] = { 0 };
	struct group fns[SIG_NR][MAX_CANDS];
	const struct site **ds = NULL;
	struct finder f = { .src = src, .r = r };
	enum sig sig;
	int err;

	memset(r, 0, sizeof(*r));
	if (!src->rodata.size || !src->text.size)
		return -ENOENT;
	err = scan(&f, &src->rodata, scan_strings);
	if (err == -E2BIG)
		return refuse(&f, "more than one ssl_lib.cc file name", err);
	if (err || !f.nstrs)
		return err ? err : -ENOENT;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &f.h) != CS_ERR_OK) {
		f.h = 0;
		return refuse(&f, "the x86-64 decoder could not be set up",
			      -EIO);
	}
	cs_option(f.h, CS_OPT_DETAIL, CS_OPT_ON);
	f.insn = cs_malloc(f.h);
	f.sites = calloc(BSSL_MAX_REFS, sizeof(*f.sites));
	f.targets = malloc(MAX_TARGETS * sizeof(*f.targets));
	f.near = calloc(BSSL_MAX_REFS, sizeof(*f.near));
	f.tkind = malloc(MAX_TARGETS);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	ds = calloc(BSSL_MAX_REFS, sizeof(*ds));
	err = -ENOMEM;
	if (!f.insn || !f.sites || !f.targets || !f.near || !f.tkind ||
	    !ds)
		goto out;
	err = scan(&f, &src->text, scan_refs);
	r->nrefs = f.nsites;
	if (err == -E2BIG)
		refuse(&f, "too many loads of the ssl_lib.cc file name", err);
	if (err)
		goto out;
	for (i = 0; i < f.nsites; i++) {
		err = decode_site(&f, &f.sites[i]);
		if (err)
			goto out;
		if (!f.sites[i].start)
			continue;
		if (nd && f.sites[i].callee != ds[0]->callee) {
			err = refuse(&f, "error call sites call different functions",
				     -ENOTUNIQ);
			goto out;
		}
		ds[nd++] = &f.sites[i];
	}
	r->nsites = nd;
	if (!f.nsites) {
		err = -ENOENT;	/* no code names the file: not BoringSSL */
		goto out;
	}
	if (!nd) {
		err = refuse(&f, "no error call passes ssl_lib.cc", -ESRCH);
		goto out;
	}
	r->err_fn = ds[0]->callee;
	for (i = 0; i < nd; i++)
		f.near[f.nnear++] = ds[i]->start;
	qsort(f.near, f.nnear, sizeof(*f.near), cmp_u64);
	err = scan(&f, &src->text, scan_calls);
	if (err == -E2BIG)
		refuse(&f, "too many call targets near ssl_lib.cc", err);
	if (err)
		goto out;
	err = keep_targets(&f);
	if (!err)
		err = eh_open(&f);
	for (i = 0; !err && i < nd; i++)
		err = group_of(&f, (struct site *)ds[i]);
	if (err)
		goto out;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	qsort(ds, nd, sizeof(*ds), cmp_group);
	for (i = 0; i < nd; i = j) {
		for (j = i + 1; j < nd && ds[j]->group == ds[i]->group; j++)
			;
		if (!ds[i]->group)
			continue;
		r->nfuncs++;
		if (j - i > BSSL_MAX_FUNC_SITES)
			continue;
		sig = signature(ds + i, j - i);
		if (sig != SIG_NONE && nfn[sig] < MAX_CANDS) {
			fns[sig][nfn[sig]] = (struct group){ ds + i, j - i };
		}
		nfn[sig]++;
	}
	err = -ESRCH;
	if (nfn[SIG_WRITE] != 1) {
		refuse(&f, nfn[SIG_WRITE] ? "two functions match SSL_write" :
				"no function matches SSL_write", err);
		goto out;
	}
	err = prove(&f, fns[SIG_WRITE][0].s, fns[SIG_WRITE][0].n, 0,
		    &r->write);
	if (!err)
		err = find_read(&f, fns, nfn, &r->read);
	if (!err && r->write.entry == r->read.entry)
		err = refuse(&f, "SSL_write and SSL_read have one entry",
			     -EILSEQ);
out:
	if (err && err != -ENOENT && !r->why)
		r->why = err == -ENOMEM ? "out of memory" :
			 "ssl_lib.cc could not be read";
	free(ds);
	finder_free(&f);
	return err;
}

/* --- the file --- */

/* The file's sections, for bssl_read(). */
struct bssl_file {
	struct elfsym_section sec[4];	/* text, rodata, eh_frame_hdr, eh_frame */
	int fd;
};

static int bssl_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct bssl_file *bf = ctx;
	const struct elfsym_section *s;
	unsigned int i;
	ssize_t got;

	for (i = 0; i < 4; i++) {
		s = &bf->sec[i];
		if (!s->size || addr < s->addr || addr - s->addr > s->size ||
		    n > s->size - (addr - s->addr))
			continue;
		got = pread(bf->fd, buf, n, (off_t)(s->offset + (addr - s->addr)));
		if (got < 0)
			return -errno;
		return (size_t)got == n ? 0 : -ENOEXEC;
	}
	return -ERANGE;
}

int bssl__find_elf(struct elfsym *es, int fd, struct bssl_result *r)
{
	static const char *const names[] = {
		".text", ".rodata", ".eh_frame_hdr", ".eh_frame" };
	struct bssl_file file = { .fd = fd }, *bf = &file;
	struct bssl_src src = { .read = bssl_read, .ctx = &file };
	struct bssl_region *rg[] = {
		&src.text, &src.rodata, &src.eh_frame_hdr, &src.eh_frame };
	unsigned int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 4; i++) {
		if (elfsym__section(es, names[i], &bf->sec[i]) ||
		    !bf->sec[i].addr) {
			bf->sec[i] = (struct elfsym_section){ 0 };
			if (i < 2)
				return -ENOENT;
			continue;
		}
		rg[i]->addr = bf->sec[i].addr;
		rg[i]->size = bf->sec[i].size;
	}
	return bssl__find(&src, r);
}
