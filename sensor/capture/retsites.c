// SPDX-License-Identifier: MIT
/*
 * retsites.c - return instructions of an x86-64 function, decoded with
 * Capstone 4 (retsites.h; capstone/capstone.h, cs_disasm_iter()).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <capstone/capstone.h>

#include "capture/retsites.h"

/* True when [@p, @end) holds only padding (int3 or zero bytes). */
static bool padding(const unsigned char *p, const unsigned char *end)
{
	for (; p < end; p++)
		if (*p != 0xcc && *p != 0x00)
			return false;
	return true;
}

/*
 * An x86-64 decoder with operand details, and one instruction for
 * cs_disasm_iter().  Returns 0, -EIO or -ENOMEM (nothing to close).
 */
static int decoder_open(csh *h, cs_insn **insn)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK)
		return -EIO;
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	*insn = cs_malloc(*h);
	if (!*insn) {
		cs_close(h);
		return -ENOMEM;
	}
	return 0;
}

static void decoder_close(csh *h, cs_insn *insn)
{
	cs_free(insn, 1);
	cs_close(h);
}

/* The target of a direct jump @insn, or false for an indirect one. */
static bool jump_target(const cs_insn *insn, __u64 *target)
{
	const cs_x86 *x = &insn->detail->x86;

	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return false;
	*target = (__u64)x->operands[0].imm;
	return true;
}

int retsites__find(const unsigned char *code, size_t len, __u64 addr,
		   __u64 *offs, unsigned int max, unsigned int *n,
		   const char **why)
{
	const uint8_t *p = code;
	uint64_t pc = addr;
	size_t left = len;
	cs_insn *insn;
	__u64 target;
	csh h;
	int err = 0;

	*n = 0;
	*why = NULL;
	err = decoder_open(&h, &insn);
	if (err) {
		*why = "the x86-64 decoder could not be set up";
		return err;
	}
	while (left) {
		if (!cs_disasm_iter(h, &p, &left, &pc, insn)) {
			if (padding(p, code + len))
				break;
			*why = "an invalid instruction in the function";
			err = -EILSEQ;
			goto out;
		}
		if (insn->id == X86_INS_RET) {
			if (*n >= max) {
				*why = "too many return instructions";
				err = -E2BIG;
				goto out;
			}
			offs[(*n)++] = insn->address - addr;
		} else if (insn->id == X86_INS_JMP &&
			   jump_target(insn, &target) &&
			   (target < addr || target >= addr + len)) {
			*why = "a tail call leaves the function";
			err = -EXDEV;
			goto out;
		}
	}
	if (!*n) {
		*why = "no return instruction";
		err = -ENOENT;
	}
out:
	decoder_close(&h, insn);
	return err;
}

/* The displacement of a store "MOV [RSP + disp], @reg" in @insn, or -1. */
static int64_t rsp_store(const cs_insn *insn, x86_reg reg)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->id != X86_INS_MOV || x->op_count != 2 ||
	    x->operands[0].type != X86_OP_MEM || x->operands[0].size != 8 ||
	    x->operands[0].mem.base != X86_REG_RSP ||
	    x->operands[0].mem.index != X86_REG_INVALID ||
	    x->operands[1].type != X86_OP_REG || x->operands[1].reg != reg)
		return -1;
	return x->operands[0].mem.disp;
}

bool retsites__go_spills_args(const unsigned char *code, size_t len,
			      __u64 addr)
{
	bool check_seen = false, rax = false, rbx = false;
	const uint8_t *p = code;
	uint64_t pc = addr;
	size_t left = len;
	int64_t frame = 0;
	const cs_x86 *x;
	cs_insn *insn;
	csh h;

	if (decoder_open(&h, &insn))
		return false;
	while (left && !(rax && rbx) &&
	       cs_disasm_iter(h, &p, &left, &pc, insn)) {
		x = &insn->detail->x86;
		if (insn->id == X86_INS_PUSH) {
			frame += 8;
		} else if (insn->id == X86_INS_SUB && x->op_count == 2 &&
			   x->operands[0].type == X86_OP_REG &&
			   x->operands[0].reg == X86_REG_RSP &&
			   x->operands[1].type == X86_OP_IMM) {
			frame += x->operands[1].imm;
		} else if (insn->id == X86_INS_JBE && !check_seen &&
			   !frame) {
			/* The stack-bound check's jump to morestack. */
			check_seen = true;
		} else if (cs_insn_group(h, insn, CS_GRP_JUMP) ||
			   cs_insn_group(h, insn, CS_GRP_CALL) ||
			   cs_insn_group(h, insn, CS_GRP_RET) ||
			   insn->id == X86_INS_POP ||
			   insn->id == X86_INS_ADD) {
			break;
		} else {
			rax |= rsp_store(insn, X86_REG_RAX) == frame + 8;
			rbx |= rsp_store(insn, X86_REG_RBX) == frame + 16;
		}
	}
	decoder_close(&h, insn);
	return rax && rbx;
}

/* True for CMP reg, QWORD PTR [R14 + 16]: g.stackguard0. */
static bool stack_check(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	return insn->id == X86_INS_CMP && x->op_count == 2 &&
	       x->operands[0].type == X86_OP_REG &&
	       (x->operands[0].reg == X86_REG_RSP ||
		x->operands[0].reg == X86_REG_R12) &&
	       x->operands[1].type == X86_OP_MEM &&
	       x->operands[1].mem.base == X86_REG_R14 &&
	       x->operands[1].mem.index == X86_REG_INVALID &&
	       x->operands[1].mem.disp == 16;
}

int retsites__go_body_start(const unsigned char *code, size_t len,
			    __u64 addr, __u64 *off)
{
	bool checked = false;
	const uint8_t *p = code;
	uint64_t pc = addr;
	size_t left = len;
	unsigned int i;
	cs_insn *insn;
	int err;
	csh h;

	err = decoder_open(&h, &insn);
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; left && i < 5; i++) {
		if (!cs_disasm_iter(h, &p, &left, &pc, insn)) {
			err = -EILSEQ;
			break;
		}
		if (stack_check(insn)) {
			checked = true;
		} else if (checked && insn->id == X86_INS_JBE) {
			*off = pc - addr;
			err = *off < len ? 0 : -ENOENT;
			break;
		} else if (checked) {
			break;
		}
	}
	decoder_close(&h, insn);
	return err;
}
