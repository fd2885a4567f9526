// SPDX-License-Identifier: MIT
/*
 * Tests of retsites (return instructions by decoding): synthetic code in
 * which the byte 0xC3 sits inside other instructions, and the crypto/tls
 * functions of a Go 1.19 client, against objdump's disassembly (binutils,
 * a decoder independent of Capstone).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/elfsym.h"
#include "capture/gosym.h"
#include "capture/retsites.h"
#include "goexe.h"

#define BASE	0x401000ULL

static int find(const unsigned char *code, size_t len, __u64 *offs,
		unsigned int max, unsigned int *n)
{
	const char *why = NULL;
	int err;

	err = retsites__find(code, len, BASE, offs, max, n, &why);
	cr_assert_eq(!err, !why, "err %d, why %s", err, why ? why : "-");
	return err;
}

Test(retsites, c3_inside_instructions)
{
	static const unsigned char code[] = {
		0xb8, 0xc3, 0xc3, 0xc3, 0xc3,	/* mov eax, 0xc3c3c3c3 */
		0x48, 0x83, 0xc3, 0x05,		/* add rbx, 5 (ModRM c3) */
		0x48, 0x8b, 0x83, 0xc3, 0x00, 0x00, 0x00, /* mov rax, [rbx+0xc3] */
		0x74, 0x02,			/* je +2 */
		0xc3,				/* ret          @18 */
		0x90,				/* nop */
		0x66, 0x0f, 0x3a, 0x0f, 0xc3, 0xc3, /* palignr xmm0, xmm3, 0xc3 */
		0xc2, 0x08, 0x00,		/* ret 8        @26 */
		0xcc, 0xcc, 0xcc,		/* int3 padding */
	};
	__u64 offs[8];
	unsigned int n;

	cr_assert_eq(find(code, sizeof(code), offs, 8, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(offs[0], 18);
	cr_assert_eq(offs[1], 26);
}

Test(retsites, invalid_instruction)
{
	/* 0x06 (push es) does not exist in 64-bit mode. */
	static const unsigned char code[] = { 0x90, 0x06, 0xc3 };
	__u64 offs[4];
	unsigned int n;

	cr_assert_eq(find(code, sizeof(code), offs, 4, &n), -EILSEQ);
}

Test(retsites, cut_instruction)
{
	/* mov eax, imm32 with the immediate cut by the end of the function. */
	static const unsigned char code[] = { 0xc3, 0xb8, 0xc3, 0xc3 };
	__u64 offs[4];
	unsigned int n;

	cr_assert_eq(find(code, sizeof(code), offs, 4, &n), -EILSEQ);
}

Test(retsites, no_return)
{
	/* The C3 bytes are an immediate; the function loops forever. */
	static const unsigned char code[] = {
		0xb8, 0xc3, 0x00, 0x00, 0x00,	/* mov eax, 0xc3 */
		0xeb, 0xf9,			/* jmp -7 (to itself) */
	};
	__u64 offs[4];
	unsigned int n;

	cr_assert_eq(find(code, sizeof(code), offs, 4, &n), -ENOENT);
}

Test(retsites, tail_call)
{
	static const unsigned char code[] = {
		0x74, 0x01,			/* je +1 */
		0xc3,				/* ret */
		0xe9, 0x00, 0x10, 0x00, 0x00,	/* jmp +0x1000: elsewhere */
	};
	__u64 offs[4];
	unsigned int n;

	cr_assert_eq(find(code, sizeof(code), offs, 4, &n), -EXDEV);
}

Test(retsites, too_many)
{
	static const unsigned char code[] = { 0xc3, 0xc3, 0xc3 };
	__u64 offs[4];
	unsigned int n;

	cr_assert_eq(find(code, sizeof(code), offs, 2, &n), -E2BIG);
	cr_assert_eq(find(code, sizeof(code), offs, 3, &n), 0);
	cr_assert_eq(n, 3);
}

/* objdump's RET offsets in [@start, @start + @size) of @path. */
static unsigned int objdump_rets(const char *path, __u64 start, __u64 size,
				 __u64 *offs, unsigned int max)
{
	char cmd[1024], line[512];
	unsigned long long a;
	unsigned int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn "
		 "--start-address=%#llx --stop-address=%#llx '%s'",
		 (unsigned long long)start, (unsigned long long)(start + size),
		 path);
	p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, " %llx:", &a) == 1 &&
		    (strstr(line, "\tret ") || strstr(line, "\tret\n")) &&
		    n < max)
			offs[n++] = a - start;
	cr_assert_eq(pclose(p), 0);
	return n;
}

static void check_go(const char *variant)
{
	static const char *const funcs[] = {
		"crypto/tls.(*Conn).Write",
		"crypto/tls.(*Conn).Read",
		"crypto/tls.(*Conn).Close",
	};
	__u64 entry, size, off, offs[32], want[32];
	const unsigned char *code;
	struct elfsym *es;
	struct gosym *g;
	unsigned int i, j, n, nwant;
	char path[512];
	int fd;

	fd = open(goexe(path, sizeof(path), variant), O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	cr_assert_eq(gosym__open(es, fd, &g), 0);
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		cr_assert_eq(gosym__func(g, funcs[i], &entry, &size), 0);
		cr_assert_eq(elfsym__addr_offset(es, entry, &off), 0);
		cr_assert_eq(elfsym__read(es, fd, off, size, &code), 0);
		cr_assert_eq(find(code, size, offs, 32, &n), 0, "%s", funcs[i]);
		nwant = objdump_rets(path, entry, size, want, 32);
		cr_assert(nwant > 0);
		cr_assert_eq(n, nwant, "%s %s: %u returns, objdump %u", variant,
			     funcs[i], n, nwant);
		for (j = 0; j < n; j++) {
			cr_expect_eq(offs[j], want[j]);
			cr_expect(code[offs[j]] == 0xc3 || code[offs[j]] == 0xc2);
		}
	}
	/* Write's body starts right after the JBE to morestack. */
	cr_assert_eq(gosym__func(g, "crypto/tls.(*Conn).Write", &entry, &size), 0);
	cr_assert_eq(elfsym__addr_offset(es, entry, &off), 0);
	cr_assert_eq(elfsym__read(es, fd, off, size, &code), 0);
	cr_assert_eq(retsites__go_body_start(code, size, entry, &off), 0);
	cr_assert((off >= 6 && code[off - 6] == 0x0f && code[off - 5] == 0x86) ||
		  (off >= 2 && code[off - 2] == 0x76), "body at +%llu",
		  (unsigned long long)off);
	cr_assert(off <= 16);
	/* Read keeps c and b in their spill slots: see go_return. */
	cr_assert_eq(gosym__func(g, "crypto/tls.(*Conn).Read", &entry, &size), 0);
	cr_assert_eq(elfsym__addr_offset(es, entry, &off), 0);
	cr_assert_eq(elfsym__read(es, fd, off, size, &code), 0);
	cr_assert(retsites__go_spills_args(code, size, entry));
	gosym__free(g);
	elfsym__free(es);
	close(fd);
}

Test(retsites, go_normal) { check_go("aiclient"); }
Test(retsites, go_stripped) { check_go("aiclient-stripped"); }
Test(retsites, go_pie) { check_go("aiclient-pie"); }

Test(retsites, spills)
{
	/* Go's entry block: stack check, frame, spills of RAX and RBX. */
	static const unsigned char good[] = {
		0x49, 0x3b, 0x66, 0x10,			/* cmp rsp,[r14+0x10] */
		0x76, 0x20,				/* jbe morestack */
		0x55,					/* push rbp */
		0x48, 0x89, 0xe5,			/* mov rbp,rsp */
		0x48, 0x83, 0xec, 0x10,			/* sub rsp,0x10 */
		0x48, 0x89, 0x44, 0x24, 0x20,		/* mov [rsp+0x20],rax */
		0x48, 0x89, 0x5c, 0x24, 0x28,		/* mov [rsp+0x28],rbx */
		0xc3,
	};
	/* The same with a call before the RBX spill: not on every path. */
	static const unsigned char late[] = {
		0x49, 0x3b, 0x66, 0x10,
		0x76, 0x20,
		0x55,
		0x48, 0x89, 0xe5,
		0x48, 0x83, 0xec, 0x10,
		0x48, 0x89, 0x44, 0x24, 0x20,
		0xe8, 0x00, 0x00, 0x00, 0x00,		/* call */
		0x48, 0x89, 0x5c, 0x24, 0x28,
		0xc3,
	};
	/* Slots off by 8: not the spill slots. */
	static const unsigned char wrong[] = {
		0x49, 0x3b, 0x66, 0x10,
		0x76, 0x20,
		0x55,
		0x48, 0x89, 0xe5,
		0x48, 0x83, 0xec, 0x10,
		0x48, 0x89, 0x44, 0x24, 0x18,		/* mov [rsp+0x18],rax */
		0x48, 0x89, 0x5c, 0x24, 0x20,		/* mov [rsp+0x20],rbx */
		0xc3,
	};

	cr_assert(retsites__go_spills_args(good, sizeof(good), BASE));
	cr_assert_not(retsites__go_spills_args(late, sizeof(late), BASE));
	cr_assert_not(retsites__go_spills_args(wrong, sizeof(wrong), BASE));
}

Test(retsites, body_start)
{
	static const unsigned char checked[] = {
		0x4c, 0x8d, 0x64, 0x24, 0xb8,		/* lea r12,[rsp-0x48] */
		0x4d, 0x3b, 0x66, 0x10,			/* cmp r12,[r14+0x10] */
		0x0f, 0x86, 0x00, 0x01, 0x00, 0x00,	/* jbe morestack */
		0x55,					/* push rbp   @15 */
		0xc3,
	};
	/* The comparison is with something else than g.stackguard0. */
	static const unsigned char other[] = {
		0x49, 0x3b, 0x66, 0x18,			/* cmp rsp,[r14+0x18] */
		0x76, 0x10,				/* jbe */
		0xc3,
	};
	/* A leaf function: no check at all. */
	static const unsigned char leaf[] = { 0x31, 0xc0, 0xc3 };
	__u64 off = 0;

	cr_assert_eq(retsites__go_body_start(checked, sizeof(checked), BASE,
					     &off), 0);
	cr_assert_eq(off, 15);
	cr_assert_eq(retsites__go_body_start(other, sizeof(other), BASE, &off),
		     -ENOENT);
	cr_assert_eq(retsites__go_body_start(leaf, sizeof(leaf), BASE, &off),
		     -ENOENT);
}
