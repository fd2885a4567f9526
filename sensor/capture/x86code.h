/* SPDX-License-Identifier: MIT */
/*
 * x86code.h - reading x86-64 code of a stripped file for the finders
 * that identify functions by what they reference (bssl.h, rustls.h,
 * ossl3.h), decoded with Capstone 4 (capstone/capstone.h).
 *
 * What the finders share:
 *  - byte scans of .text for the cheap first pass: the 4-byte fields
 *    that name an address (imm32, or a RIP-relative disp32), and the
 *    candidate function entries that calls, jumps and padding give;
 *  - the load of an address into a register at one instruction;
 *  - the arguments a call receives: the constants put in the argument
 *    registers of the System V x86-64 ABI (RDI, RSI, RDX, RCX, R8, R9)
 *    from a point up to the call;
 *  - a recursive-descent decode of a function from its entry, which
 *    proves that given addresses are instruction boundaries of it.
 * Nothing here knows a library: the finders give the meaning.
 */
#ifndef OISP_X86CODE_H
#define OISP_X86CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct binsrc;
struct x86code;

/* Integer argument registers (System V x86-64 ABI): RDI .. R9. */
#define X86_NARGS	6

/*
 * A decoder of @src's .text (read through @src->read, 16 bytes an
 * instruction), in *@xc.  Returns 0, -EIO when Capstone cannot be set
 * up, -ENOMEM.  @src must outlive it.
 */
int x86code__new(const struct binsrc *src, struct x86code **xc);

/* Frees @xc; NULL is fine. */
void x86code__free(struct x86code *xc);

/*
 * Calls @fn(@arg, field, k) for each 4 bytes at [@p, @p + @valid) of the
 * @n bytes at @p (address @a) that name @vals[k] (k < @nvals) as a
 * disp32 that a RIP-relative operand ending there resolves to, or, with
 * @imm, as an imm32 equal to it (code linked below 4 GiB).  Stops at the
 * first nonzero return of @fn, which it returns; else 0.  The fields
 * are candidates: the instruction around one is decoded afterwards.
 */
int x86code__scan_refs(__u64 a, const unsigned char *p, size_t n,
		       size_t valid, const __u64 *vals, unsigned int nvals,
		       bool imm, int (*fn)(void *arg, __u64 field,
					   unsigned int k),
		       void *arg);

/* What a branch found by x86code__branch() is. */
enum x86_branch {
	X86_BR_NONE,
	X86_BR_CALL,		/* CALL rel32: the target is a function entry */
	X86_BR_JMP,		/* JMP rel32: a tail call, or a jump inside */
	X86_BR_CALL_SLOT,	/* CALL [RIP + disp32]: the target is the slot */
};

/*
 * The branch that the @n bytes at @p (address @a) start, if any, and
 * its target (or, for X86_BR_CALL_SLOT, the address of the slot the
 * target is read from) in *@t.  Bytes only: a match is a candidate,
 * found at any offset of a section.
 */
enum x86_branch x86code__branch(const unsigned char *p, size_t n, __u64 a,
				__u64 *t);

/* A register loaded with an address by one instruction. */
struct x86_load {
	__u64 addr;		/* the instruction */
	unsigned int size;	/* its length in bytes */
	int arg;		/* argument index (0: RDI .. 5: R9), or -1 */
	__u64 value;		/* the address (or constant) loaded */
};

/*
 * Decodes the instruction at @addr of .text as MOV r, imm or LEA r,
 * [RIP + disp32] into *@ld.  Returns 0; -ENOENT for another instruction;
 * -EILSEQ when no instruction decodes there; the reader's -errno.
 */
int x86code__load(struct x86code *xc, __u64 addr, struct x86_load *ld);

enum x86_call_flag {
	/*
	 * Only argument constants (MOV imm, XOR r, r) and direct JMPs (at
	 * most two) may come before the call, which must be direct; any
	 * other instruction, or a write to an argument known on entry, is
	 * not a plain call (-ENOENT).  Without it other instructions are
	 * passed over and the first CALL or JMP is the call.
	 */
	X86_CALL_STRICT = 1 << 0,
	/* LEA r, [RIP + disp32] into an argument register sets it too. */
	X86_CALL_ADDRS = 1 << 1,
	/*
	 * Strict: a MOV (MOVSX, MOVZX) of a register or memory into an
	 * argument register not known on entry is allowed, and leaves that
	 * argument unknown (a line number kept in a register).
	 */
	X86_CALL_MOVES = 1 << 2,
	/*
	 * Strict: XOR EAX, EAX and MOV EAX, imm are allowed too (the count
	 * of vector registers a variadic callee gets in AL, System V
	 * x86-64 ABI 3.5.7); they set no argument.
	 */
	X86_CALL_VARARGS = 1 << 3,
};

/* A call and the argument constants it receives. */
struct x86_call {
	__u64 at;		/* the CALL (or the JMP ending the path) */
	__u64 callee;		/* its direct target; 0: indirect */
	unsigned int known;	/* bit i: arg[i] is set to a constant */
	__u64 arg[X86_NARGS];
};

/*
 * Decodes from @from (at most @max_insns instructions) to the next call
 * and fills @c with it and the constants set in argument registers on
 * the way (MOV imm, XOR r, r, PUSH imm / POP r; LEA [RIP] with
 * X86_CALL_ADDRS), added to those @c holds on entry (what the caller
 * decoded before @from).  @flags: enum x86_call_flag.  Returns 0;
 * -ENOENT when there is no such call (see X86_CALL_STRICT); -EILSEQ
 * when an instruction does not decode; the reader's -errno.
 */
int x86code__call(struct x86code *xc, __u64 from, unsigned int flags,
		  unsigned int max_insns, struct x86_call *c);

/* True when the instruction at @entry sets up a frame (PUSH r, SUB RSP). */
bool x86code__prologue(struct x86code *xc, __u64 entry);

enum x86_walk_flag {
	/* Straight-line code that reaches @end ends a path, no error. */
	X86_WALK_OPEN_END = 1 << 0,
};

/* What a walk decoded: the instruction boundaries of [entry, entry + len). */
struct x86_walk {
	__u64 entry;
	__u64 len;		/* bytes covered (clipped to .text) */
	unsigned char *map;	/* one byte each: owned, x86_walk__release() */
	unsigned int ninsns;	/* instructions decoded */
	__u64 reach;		/* end of the farthest instruction decoded */
	bool called;		/* a direct call to the callee asked for */
};

/*
 * Decodes, from @entry, every instruction that the function's own
 * jumps reach within [@entry, @end): jumps and calls outside are left
 * (tail calls, callees); a fall-through after a call into @end or into
 * int3 padding ends a path (a call that does not return).  Fails with
 * -EILSEQ and *@why (a static string) when an instruction does not
 * decode, one byte would start one instruction and lie inside another,
 * or straight-line code runs into @end (another function's entry;
 * unless X86_WALK_OPEN_END).  @callee: w->called tells whether a direct
 * call to it is reached (0: none asked).  Returns 0, -EILSEQ, -ENOMEM or
 * the reader's -errno; on 0 @w holds the result until
 * x86_walk__release().  Memory: about 6 bytes per byte of the range.
 */
int x86code__walk(struct x86code *xc, __u64 entry, __u64 end, __u64 callee,
		  unsigned int flags, struct x86_walk *w, const char **why);

/*
 * True when the walk decoded an instruction starting at @a and no
 * instruction it decoded continues across @end (@a < @end).
 */
bool x86_walk__spans(const struct x86_walk *w, __u64 a, __u64 end);

/*
 * The start of the instruction the walk decoded just before the one at
 * @a (straight-line order, not control flow), or 0 when the byte before
 * @a was not decoded.
 */
__u64 x86_walk__prev(const struct x86_walk *w, __u64 a);

/* True when a jump of the walked function lands on @a. */
bool x86_walk__target(const struct x86_walk *w, __u64 a);

/* Frees what @w holds; a zeroed @w is fine. */
void x86_walk__release(struct x86_walk *w);

#endif /* OISP_X86CODE_H */
