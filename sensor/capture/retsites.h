/* SPDX-License-Identifier: MIT */
/*
 * retsites.h - the return instructions of one x86-64 function, found by
 * decoding it instruction by instruction with Capstone (a real decoder:
 * the byte 0xC3 also occurs inside other instructions' ModRM bytes,
 * displacements and immediates, and a breakpoint placed there would
 * corrupt the instruction).
 *
 * Used where a uretprobe must not go: a uretprobe rewrites the return
 * address on the stack, and Go moves goroutine stacks (and walks them
 * for the garbage collector and tracebacks), so a rewritten address
 * crashes the program ("unexpected return pc").  A uprobe on each return
 * instruction sees the same registers a uretprobe would, and changes no
 * memory the program reads.
 *
 * arm64 (not built): a return is RET (0xd65f03c0, RET X30) and every
 * instruction is 4 bytes, so no decoder is needed; Go's ABIInternal
 * there passes the receiver and arguments in R0.., results in R0..,
 * and g in R28.
 */
#ifndef OISP_RETSITES_H
#define OISP_RETSITES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/*
 * Decodes the @len bytes of machine code at @code, the whole body of
 * one function loaded at virtual address @addr, from its first byte,
 * and stores the offsets in bytes from @code of its return instructions
 * (RET, RET imm16) in @offs, at most @max of them, and their number in
 * *@n.  Trailing padding (bytes 0xCC or 0x00 after the last instruction
 * that decodes) is allowed.  When the function cannot be probed with
 * certainty, *@why says why (a static string) and the call fails:
 * -EILSEQ when an invalid instruction comes before the end, -ENOENT
 * when it has no return instruction, -EXDEV when it leaves by a jump to
 * an address outside itself (a tail call: the return is not its own),
 * -E2BIG when it has more than @max returns, -ENOMEM, -EIO when the
 * decoder cannot be set up.  Returns 0 on success.
 */
int retsites__find(const unsigned char *code, size_t len, __u64 addr,
		   __u64 *offs, unsigned int max, unsigned int *n,
		   const char **why);

/*
 * True when the Go function of @len bytes at @code (loaded at @addr)
 * stores its first two register arguments, RAX and RBX, into their
 * ABIInternal spill slots (8 and 16 bytes above the stack pointer at
 * entry, i.e. above the return address) on every path: in its entry
 * block, after the stack-bound check and the frame setup (PUSH, SUB
 * RSP) and before any other jump, call or return.  Those slots then
 * hold them at each return instruction, where RSP points at the return
 * address again (Go's src/cmd/compile/abi-internal.md, "spill space").
 */
bool retsites__go_spills_args(const unsigned char *code, size_t len,
			      __u64 addr);

/*
 * Finds where the Go function of @len bytes at @code (loaded at @addr)
 * starts its body: the instruction after its stack-bound check (CMP of
 * RSP, or of R12 set from RSP, against [R14+16], then JBE to
 * runtime.morestack) among its first five instructions, and stores its
 * offset in bytes from @code in *@off.  A call whose stack must grow
 * runs the function's first instructions twice (morestack copies the
 * stack and restarts the function); the body start runs once per call,
 * with the arguments still in their registers.
 * Returns 0, -ENOENT when there is no such check (a function that never
 * grows its stack), -EILSEQ when the first instructions do not decode.
 */
int retsites__go_body_start(const unsigned char *code, size_t len,
			    __u64 addr, __u64 *off);

#endif /* OISP_RETSITES_H */
