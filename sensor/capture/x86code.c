// SPDX-License-Identifier: MIT
/*
 * x86code.c - x86-64 code of a stripped file, decoded with Capstone 4
 * (x86code.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "capture/binsrc.h"
#include "capture/elfsym.h"
#include "capture/x86code.h"

/* Direct jumps followed from a load to its call (tail merging). */
#define CALL_JUMPS	2

struct x86code {
	const struct binsrc *src;
	csh h;
	cs_insn *insn;
};

int x86code__new(const struct binsrc *src, struct x86code **out)
{
	struct x86code *xc;

	*out = NULL;
	xc = calloc(1, sizeof(*xc));
	if (!xc)
		return -ENOMEM;
	xc->src = src;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &xc->h) != CS_ERR_OK) {
		free(xc);
		return -EIO;
	}
	cs_option(xc->h, CS_OPT_DETAIL, CS_OPT_ON);
	xc->insn = cs_malloc(xc->h);
	if (!xc->insn) {
		cs_close(&xc->h);
		free(xc);
		return -ENOMEM;
	}
	*out = xc;
	return 0;
}

void x86code__free(struct x86code *xc)
{
	if (!xc)
		return;
	cs_free(xc->insn, 1);
	cs_close(&xc->h);
	free(xc);
}

int x86code__scan_refs(__u64 a, const unsigned char *p, size_t n,
		       size_t valid, const __u64 *vals, unsigned int nvals,
		       bool imm, int (*fn)(void *arg, __u64 field,
					   unsigned int k),
		       void *arg)
{
	unsigned int k;
	size_t i;
	__u32 v;
	int err;

	for (i = 0; i < valid && i + 4 <= n; i++) {
		v = elfsym__le32(p + i);
		for (k = 0; k < nvals; k++) {
			if (a + i + 4 + (__u64)(__s64)(__s32)v != vals[k] &&
			    (!imm || v != (__u32)vals[k] || vals[k] >> 32))
				continue;
			err = fn(arg, a + i, k);
			if (err)
				return err;
		}
	}
	return 0;
}

enum x86_branch x86code__branch(const unsigned char *p, size_t n, __u64 a,
				__u64 *t)
{
	if (n >= 5 && (p[0] == 0xe8 || p[0] == 0xe9)) {
		*t = a + 5 + (__u64)(__s64)(__s32)elfsym__le32(p + 1);
		return p[0] == 0xe8 ? X86_BR_CALL : X86_BR_JMP;
	}
	if (n >= 6 && p[0] == 0xff && p[1] == 0x15) {
		*t = a + 6 + (__u64)(__s64)(__s32)elfsym__le32(p + 2);
		return X86_BR_CALL_SLOT;
	}
	return X86_BR_NONE;
}

/* Decodes one instruction at @addr of .text into xc->insn. */
static int decode_at(struct x86code *xc, __u64 addr)
{
	unsigned char buf[16];
	const uint8_t *p = buf;
	uint64_t pc = addr;
	size_t got, left;
	int err;

	err = binsrc__read_clip(xc->src, &xc->src->text, addr, buf,
				sizeof(buf), &got);
	if (err)
		return err;
	left = got;
	if (!got || !cs_disasm_iter(xc->h, &p, &left, &pc, xc->insn))
		return -EILSEQ;
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

/* xc->insn as a load (MOV r, imm or LEA r, [RIP]); false if not one. */
static bool as_load(const struct x86code *xc, struct x86_load *ld)
{
	const cs_insn *in = xc->insn;
	const cs_x86 *x = &in->detail->x86;

	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG)
		return false;
	ld->addr = in->address;
	ld->size = in->size;
	ld->arg = arg_index(x->operands[0].reg);
	if (in->id == X86_INS_MOV && x->operands[1].type == X86_OP_IMM) {
		ld->value = (__u64)x->operands[1].imm;
		return true;
	}
	if (in->id == X86_INS_LEA && x->operands[1].type == X86_OP_MEM &&
	    x->operands[1].mem.base == X86_REG_RIP &&
	    x->operands[1].mem.index == X86_REG_INVALID) {
		ld->value = in->address + in->size + x->operands[1].mem.disp;
		return true;
	}
	return false;
}

int x86code__load(struct x86code *xc, __u64 addr, struct x86_load *ld)
{
	int err = decode_at(xc, addr);

	if (err)
		return err;
	return as_load(xc, ld) ? 0 : -ENOENT;
}

/* Sets argument @k of @c to @v; false when strict and @k was kept. */
static bool set_arg(struct x86_call *c, int k, __u64 v, unsigned int keep)
{
	if (k < 0)
		return false;
	if (keep & 1u << k)
		return false;
	c->arg[k] = v;
	c->known |= 1u << k;
	return true;
}

int x86code__call(struct x86code *xc, __u64 from, unsigned int flags,
		  unsigned int max_insns, struct x86_call *c)
{
	const bool strict = flags & X86_CALL_STRICT;
	unsigned int i, jumps = 0, keep = strict ? c->known : 0;
	bool pushed = false, ok;
	__u64 pc = from, pushv = 0;
	struct x86_load ld;
	const cs_x86 *x;
	const cs_insn *in = xc->insn;
	int err, k;

	for (i = 0; i < max_insns; i++) {
		err = decode_at(xc, pc);
		if (err)
			return err;
		x = &in->detail->x86;
		pc += in->size;
		if (in->id == X86_INS_CALL || in->id == X86_INS_JMP) {
			bool direct = x->op_count == 1 &&
				      x->operands[0].type == X86_OP_IMM;

			if (strict && !direct)
				return -ENOENT;
			if (strict && in->id == X86_INS_JMP) {
				if (++jumps > CALL_JUMPS)
					return -ENOENT;
				pc = x->operands[0].imm;
				continue;
			}
			c->at = in->address;
			c->callee = direct ? (__u64)x->operands[0].imm : 0;
			return 0;
		}
		k = x->op_count >= 1 && x->operands[0].type == X86_OP_REG ?
		    arg_index(x->operands[0].reg) : -1;
		if ((flags & X86_CALL_VARARGS) && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG &&
		    x->operands[0].reg == X86_REG_EAX &&
		    ((in->id == X86_INS_XOR &&
		      x->operands[1].type == X86_OP_REG &&
		      x->operands[1].reg == X86_REG_EAX) ||
		     (in->id == X86_INS_MOV &&
		      x->operands[1].type == X86_OP_IMM))) {
			ok = true;
		} else if (in->id == X86_INS_XOR && x->op_count == 2 &&
			   x->operands[1].type == X86_OP_REG &&
			   x->operands[0].type == X86_OP_REG &&
			   x->operands[1].reg == x->operands[0].reg) {
			ok = set_arg(c, k, 0, keep);
		} else if (in->id == X86_INS_PUSH && x->op_count == 1 &&
			   x->operands[0].type == X86_OP_IMM && !strict) {
			pushed = true;
			pushv = (__u64)x->operands[0].imm;
			continue;
		} else if (in->id == X86_INS_POP && pushed && !strict) {
			ok = set_arg(c, k, pushv, keep);
		} else if (as_load(xc, &ld) &&
			   (in->id == X86_INS_MOV || (flags & X86_CALL_ADDRS))) {
			ok = set_arg(c, ld.arg, ld.value, keep);
		} else if ((flags & X86_CALL_MOVES) && k >= 0 &&
			   !(keep & 1u << k) &&
			   (in->id == X86_INS_MOV || in->id == X86_INS_MOVSXD ||
			    in->id == X86_INS_MOVZX)) {
			c->known &= ~(1u << k);	/* set, but not to a constant */
			ok = true;
		} else {
			ok = false;
		}
		if (!ok && strict)
			return -ENOENT;	/* anything else: not a plain call */
	}
	return -ENOENT;
}

bool x86code__prologue(struct x86code *xc, __u64 entry)
{
	const cs_x86 *x;

	if (decode_at(xc, entry))
		return false;
	if (xc->insn->id == X86_INS_ENDBR64 &&
	    decode_at(xc, entry + xc->insn->size))
		return false;
	x = &xc->insn->detail->x86;
	if (xc->insn->id == X86_INS_PUSH)
		return x->op_count == 1 && x->operands[0].type == X86_OP_REG;
	return xc->insn->id == X86_INS_SUB && x->op_count == 2 &&
	       x->operands[0].type == X86_OP_REG &&
	       x->operands[0].reg == X86_REG_RSP;
}

/* A walk's map: how each byte was decoded, and whether a jump lands. */
enum { B_NONE, B_START, B_INNER, B_KIND = 3, B_TARGET = 4 };

/* Pushes jump target @t of the walk when it lies in its range. */
static void push_target(struct x86_walk *w, __u64 *work,
			unsigned int *nwork, __u64 t)
{
	if (t < w->entry || t >= w->entry + w->len)
		return;
	w->map[t - w->entry] |= B_TARGET;
	if (*nwork < w->len / 2 + 16)
		work[(*nwork)++] = t;
}

/*
 * Decodes one path of the walk from @a until it ends (a return, a jump,
 * an instruction already decoded); pushes the targets of its jumps.
 */
static int walk_path(struct x86code *xc, struct x86_walk *w,
		     const unsigned char *buf, __u64 a, __u64 callee,
		     unsigned int flags, __u64 *work, unsigned int *nwork,
		     const char **why)
{
	const __u64 entry = w->entry, len = w->len;
	bool after_call = false;
	const cs_insn *in = xc->insn;
	const uint8_t *p;
	const cs_x86 *x;
	unsigned int j;
	size_t left;
	uint64_t pc;
	__u64 t;

	for (;;) {
		if (a >= entry + len) {
			if (after_call || (flags & X86_WALK_OPEN_END))
				return 0;
			*why = "code runs into another function";
			return -EILSEQ;
		}
		if ((w->map[a - entry] & B_KIND) == B_START)
			return 0;
		if ((w->map[a - entry] & B_KIND) == B_INNER) {
			*why = "a byte decodes as two instructions";
			return -EILSEQ;
		}
		p = buf + (a - entry);
		left = len - (a - entry);
		pc = a;
		if (!cs_disasm_iter(xc->h, &p, &left, &pc, xc->insn)) {
			*why = "an invalid instruction in the function";
			return -EILSEQ;
		}
		w->map[a - entry] |= B_START;
		for (j = 1; j < in->size; j++) {
			if (w->map[a - entry + j] & B_KIND) {
				*why = "a byte decodes as two instructions";
				return -EILSEQ;
			}
			w->map[a - entry + j] |= B_INNER;
		}
		w->ninsns++;
		if (a + in->size > w->reach)
			w->reach = a + in->size;
		x = &in->detail->x86;
		t = 0;
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
			t = x->operands[0].imm;
		a += in->size;
		after_call = false;
		switch (in->id) {
		case X86_INS_RET: case X86_INS_RETF: case X86_INS_INT3:
		case X86_INS_UD2: case X86_INS_HLT:
			return 0;
		case X86_INS_JMP:
			push_target(w, work, nwork, t);
			return 0;
		case X86_INS_CALL:
			after_call = true;
			if (callee && t == callee)
				w->called = true;
			if (a < entry + len && buf[a - entry] == 0xcc)
				return 0;
			continue;
		default:
			break;
		}
		if (cs_insn_group(xc->h, xc->insn, CS_GRP_JUMP) && t)
			push_target(w, work, nwork, t);
	}
}

int x86code__walk(struct x86code *xc, __u64 entry, __u64 end, __u64 callee,
		  unsigned int flags, struct x86_walk *w, const char **why)
{
	unsigned char *buf = NULL;
	unsigned int nwork = 0;
	__u64 *work = NULL;
	size_t got;
	int err = -ENOMEM;

	memset(w, 0, sizeof(*w));
	w->entry = entry;
	w->reach = entry;
	w->len = end > entry ? end - entry : 0;
	buf = malloc(w->len + 1);
	w->map = calloc(w->len + 1, 1);
	work = malloc((w->len / 2 + 16) * sizeof(*work));
	if (!buf || !w->map || !work)
		goto out;
	err = binsrc__read_clip(xc->src, &xc->src->text, entry, buf, w->len,
				&got);
	if (err)
		goto out;
	w->len = got;
	if (!got) {
		*why = "the entry lies outside the code";
		err = -EILSEQ;
		goto out;
	}
	work[nwork++] = entry;
	while (nwork && !err)
		err = walk_path(xc, w, buf, work[--nwork], callee, flags,
				work, &nwork, why);
out:
	free(work);
	free(buf);
	if (err)
		x86_walk__release(w);
	return err;
}

bool x86_walk__spans(const struct x86_walk *w, __u64 a, __u64 end)
{
	if (!w->map || a < w->entry || a >= end || end > w->entry + w->len)
		return false;
	if ((w->map[a - w->entry] & B_KIND) != B_START)
		return false;
	return end == w->entry + w->len ||
	       (w->map[end - w->entry] & B_KIND) != B_INNER;
}

__u64 x86_walk__prev(const struct x86_walk *w, __u64 a)
{
	__u64 p;

	if (!w->map || a <= w->entry || a > w->entry + w->len)
		return 0;
	for (p = a - 1; p >= w->entry && a - p <= 15; p--) {
		switch (w->map[p - w->entry] & B_KIND) {
		case B_START:
			return p;
		case B_INNER:
			if (p == w->entry)
				return 0;
			continue;
		default:
			return 0;
		}
	}
	return 0;
}

bool x86_walk__target(const struct x86_walk *w, __u64 a)
{
	return w->map && a >= w->entry && a < w->entry + w->len &&
	       (w->map[a - w->entry] & B_TARGET);
}

void x86_walk__release(struct x86_walk *w)
{
	free(w->map);
	w->map = NULL;
}
