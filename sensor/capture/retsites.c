// SPDX-License-Identifier: MIT
/*
 * retsites.c - return instructions of an x86-64 function, decoded with
 * Capstone 4 (retsites.h; capstone/capstone.h, cs_disasm_iter()).
 */
#include <errno.h>
#include <stdbool.h>

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
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		*why = "the x86-64 decoder could not be set up";
		return -EIO;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(h);
	if (!insn) {
		cs_close(&h);
		*why = "no memory for the decoder";
		return -ENOMEM;
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
	cs_free(insn, 1);
	cs_close(&h);
	return err;
}
