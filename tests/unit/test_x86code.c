// SPDX-License-Identifier: MIT
/*
 * Tests of the x86-64 code reader shared by the finders (x86code.h), on
 * synthetic code laid out in memory (binsrc.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "capture/binsrc.h"
#include "capture/x86code.h"

#define TEXT	0x401000ULL
#define STR	0x200010ULL	/* an address the code loads */

struct img {
	unsigned char text[512];
	size_t len;
};

static int img_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct img *m = ctx;

	if (addr < TEXT || n > m->len || addr - TEXT > m->len - n)
		return -ERANGE;
	memcpy(buf, m->text + (addr - TEXT), n);
	return 0;
}

static __u64 put(struct img *m, const void *b, size_t n)
{
	__u64 a = TEXT + m->len;

	cr_assert_leq(m->len + n, sizeof(m->text));
	memcpy(m->text + m->len, b, n);
	m->len += n;
	return a;
}

static void put32(unsigned char *p, __u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* LEA r64, [RIP + disp32] of STR (@modrm_reg: 7 RDI, 2 RDX, 1 RCX). */
static __u64 lea(struct img *m, unsigned int modrm_reg)
{
	unsigned char b[7] = { 0x48, 0x8d, 0x05 | modrm_reg << 3 };

	put32(b + 3, (__u32)(STR - (TEXT + m->len + 7)));
	return put(m, b, sizeof(b));
}

/* CALL rel32 to @t. */
static __u64 call(struct img *m, __u64 t)
{
	unsigned char b[5] = { 0xe8 };

	put32(b + 1, (__u32)(t - (TEXT + m->len + 5)));
	return put(m, b, sizeof(b));
}

static const unsigned char mov_edi_16[] = { 0xbf, 0x10, 0, 0, 0 };
static const unsigned char xor_esi[] = { 0x31, 0xf6 };
static const unsigned char mov_eax_ebx[] = { 0x89, 0xd8 };
static const unsigned char push_rbp[] = { 0x55 };
static const unsigned char ret[] = { 0xc3 };

struct fix {
	struct img m;
	struct binsrc src;
	struct x86code *xc;
};

static void fix_open(struct fix *f)
{
	f->src = (struct binsrc){
		.text = { TEXT, f->m.len },
		.read = img_read,
		.ctx = &f->m,
	};
	cr_assert_eq(x86code__new(&f->src, &f->xc), 0);
}

Test(x86code, load_and_call)
{
	struct x86_call c = { 0 };
	struct x86_load ld;
	struct fix f = { 0 };
	__u64 site, at;

	put(&f.m, push_rbp, 1);
	site = lea(&f.m, 2);		/* lea rdx, [rip + STR] */
	put(&f.m, mov_edi_16, sizeof(mov_edi_16));
	put(&f.m, xor_esi, sizeof(xor_esi));
	at = call(&f.m, TEXT);
	put(&f.m, ret, 1);
	fix_open(&f);

	cr_assert_eq(x86code__load(f.xc, site, &ld), 0);
	cr_assert_eq(ld.arg, 2);
	cr_assert_eq(ld.value, STR);
	cr_assert_eq(ld.size, 7);
	cr_assert_eq(x86code__load(f.xc, TEXT, &ld), -ENOENT, "push is no load");

	c.known = 1u << 2;
	c.arg[2] = STR;
	cr_assert_eq(x86code__call(f.xc, site + 7, X86_CALL_STRICT, 8, &c), 0);
	cr_assert_eq(c.at, at);
	cr_assert_eq(c.callee, TEXT);
	cr_assert_eq(c.known, 0x7);
	cr_assert_eq(c.arg[0], 16);
	cr_assert_eq(c.arg[1], 0);
	cr_assert(x86code__prologue(f.xc, TEXT));
	cr_assert_not(x86code__prologue(f.xc, site));
	x86code__free(f.xc);
}

/* Strict: anything but an argument constant is not a plain call. */
Test(x86code, strict_refuses_other_instructions)
{
	struct x86_call c = { 0 };
	struct fix f = { 0 };

	put(&f.m, mov_edi_16, sizeof(mov_edi_16));
	put(&f.m, mov_eax_ebx, sizeof(mov_eax_ebx));
	call(&f.m, TEXT);
	fix_open(&f);
	cr_assert_eq(x86code__call(f.xc, TEXT, X86_CALL_STRICT, 8, &c),
		     -ENOENT);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(x86code__call(f.xc, TEXT, 0, 8, &c), 0);
	cr_assert_eq(c.known, 1);
	cr_assert_eq(c.arg[0], 16);
	x86code__free(f.xc);
}

/* Strict: a register the caller already knows may not be overwritten. */
Test(x86code, strict_keeps_known_arguments)
{
	struct x86_call c = { .known = 1, .arg = { STR } };
	struct fix f = { 0 };

	put(&f.m, mov_edi_16, sizeof(mov_edi_16));
	call(&f.m, TEXT);
	fix_open(&f);
	cr_assert_eq(x86code__call(f.xc, TEXT, X86_CALL_STRICT, 8, &c),
		     -ENOENT);
	x86code__free(f.xc);
}

/* LEA into an argument only with X86_CALL_ADDRS; PUSH imm/POP lax only. */
Test(x86code, addresses_and_push_pop)
{
	static const unsigned char push_pop[] = { 0x6a, 0x1e, 0x5f };	/* push 30; pop rdi */
	struct x86_call c = { 0 };
	struct fix f = { 0 };
	__u64 p;

	lea(&f.m, 7);
	call(&f.m, TEXT);
	p = put(&f.m, push_pop, sizeof(push_pop));
	call(&f.m, TEXT);
	fix_open(&f);
	cr_assert_eq(x86code__call(f.xc, TEXT, X86_CALL_STRICT, 8, &c),
		     -ENOENT);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(x86code__call(f.xc, TEXT,
				   X86_CALL_STRICT | X86_CALL_ADDRS, 8, &c), 0);
	cr_assert_eq(c.arg[0], STR);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(x86code__call(f.xc, p, 0, 8, &c), 0);
	cr_assert_eq(c.known, 1);
	cr_assert_eq(c.arg[0], 30);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(x86code__call(f.xc, p, X86_CALL_STRICT, 8, &c), -ENOENT);
	x86code__free(f.xc);
}

static int count_ref(void *arg, __u64 field, unsigned int k)
{
	__u64 *got = arg;

	cr_assert_eq(k, 0);
	*got = field;
	return 0;
}

Test(x86code, byte_scans)
{
	static const unsigned char call_slot[] = { 0xff, 0x15, 0x10, 0, 0, 0 };
	struct fix f = { 0 };
	__u64 vals[] = { STR }, got = 0, site, t, c;

	site = lea(&f.m, 1);
	c = call(&f.m, TEXT);
	put(&f.m, call_slot, sizeof(call_slot));
	cr_assert_eq(x86code__scan_refs(TEXT, f.m.text, f.m.len, f.m.len,
					vals, 1, false, count_ref, &got), 0);
	cr_assert_eq(got, site + 3);
	cr_assert_eq(x86code__branch(f.m.text + (c - TEXT), 5, c, &t),
		     X86_BR_CALL);
	cr_assert_eq(t, TEXT);
	cr_assert_eq(x86code__branch(f.m.text + (c + 5 - TEXT), 6, c + 5, &t),
		     X86_BR_CALL_SLOT);
	cr_assert_eq(t, c + 5 + 6 + 0x10);
	cr_assert_eq(x86code__branch(f.m.text, 5, TEXT, &t), X86_BR_NONE);
}

/* The walk follows the function's jumps to a site after its return. */
Test(x86code, walk_reaches_jump_target)
{
	static const unsigned char je[] = { 0x74, 0x01 };	/* je +1 */
	struct x86_walk w;
	struct fix f = { 0 };
	const char *why = NULL;
	__u64 site;

	put(&f.m, push_rbp, 1);
	put(&f.m, je, sizeof(je));
	put(&f.m, ret, 1);
	site = lea(&f.m, 1);
	put(&f.m, ret, 1);
	fix_open(&f);
	cr_assert_eq(x86code__walk(f.xc, TEXT, TEXT + f.m.len, 0, 0, &w, &why),
		     0, "%s", why);
	cr_assert(x86_walk__spans(&w, site, site + 7));
	cr_assert_not(x86_walk__spans(&w, site + 1, site + 7));
	cr_assert_eq(w.ninsns, 5);
	x86_walk__release(&w);
	x86code__free(f.xc);
}

Test(x86code, walk_refuses_overlap_and_running_on)
{
	static const unsigned char overlap[] = {
		0x74, 0x01,			/* je +1 */
		0xb8, 0x90, 0x90, 0x90, 0x90,	/* mov eax, 0x90909090 */
		0xc3,
	};
	struct x86_walk w;
	struct fix f = { 0 };
	const char *why = NULL;

	put(&f.m, overlap, sizeof(overlap));
	put(&f.m, mov_eax_ebx, sizeof(mov_eax_ebx));
	fix_open(&f);
	cr_assert_eq(x86code__walk(f.xc, TEXT, TEXT + 8, 0, 0, &w, &why),
		     -EILSEQ);
	cr_assert_str_eq(why, "a byte decodes as two instructions");
	/* From the MOV alone: straight on into the end. */
	cr_assert_eq(x86code__walk(f.xc, TEXT + 8, TEXT + 10, 0, 0, &w, &why),
		     -EILSEQ);
	cr_assert_str_eq(why, "code runs into another function");
	cr_assert_eq(x86code__walk(f.xc, TEXT + 8, TEXT + 10, 0,
				   X86_WALK_OPEN_END, &w, &why), 0);
	x86_walk__release(&w);
	x86code__free(f.xc);
}
