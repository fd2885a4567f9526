// SPDX-License-Identifier: MIT
/*
 * Tests of the BoringSSL finder (bssl.h): the real Bun and Claude Code
 * executables from npm (tests/fetch-agent-exes.sh; cache outside the
 * clone), where the entries found must be function starts that a second,
 * independent source agrees on where there is one (.eh_frame on Claude
 * Code 2.1.200), and synthetic code for what must be refused.
 * Tests run in tests/unit.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/binsrc.h"
#include "capture/bssl.h"
#include "capture/elfsym.h"
#include "capture/stack.h"
#include "synthcode.h"

/* --- the real executables --- */

static const char *const agent_exes[] = {
	"@oven/bun-linux-x64@1.2.20/package/bin/bun",
	"@oven/bun-linux-x64@1.3.5/package/bin/bun",
	"@oven/bun-linux-x64@1.4.5/package/bin/bun",
	"@anthropic-ai/claude-code-linux-x64@2.1.200/package/claude",
	"@anthropic-ai/claude-code-linux-x64@2.1.337/package/claude",
};
#define NEXES	(sizeof(agent_exes) / sizeof(agent_exes[0]))

/* Path of cached executable @i in @buf; NULL when the cache lacks it. */
static const char *agent_exe(char *buf, size_t n, unsigned int i)
{
	const char *c = getenv("OISP_TEST_CACHE");

	snprintf(buf, n, "%s/npm/%s", c ? c : "/var/cache/oisp-test",
		 agent_exes[i]);
	return access(buf, R_OK) ? NULL : buf;
}

/*
 * The result for executable @path, and its file offsets of the entries
 * (SSL_new's 0 when it is not found).
 */
static void find_exe(const char *path, struct bssl_result *r,
		     __u64 *woff, __u64 *roff, __u64 *noff)
{
	struct elfsym *es = NULL;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s", path);
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	err = bssl__find_elf(es, fd, r);
	cr_assert_eq(err, 0, "%s: %d %s", path, err, r->why ? r->why : "-");
	cr_assert_eq(elfsym__addr_offset(es, r->write.entry, woff), 0);
	cr_assert_eq(elfsym__addr_offset(es, r->read.entry, roff), 0);
	*noff = 0;
	if (r->ssl_new.entry)
		cr_assert_eq(elfsym__addr_offset(es, r->ssl_new.entry, noff), 0);
	elfsym__free(es);
	close(fd);
}

/*
 * The bytes at file offset @off (address @addr) start a function: the
 * frame setup these builds (frame pointers kept) begin every function
 * with, PUSH RBP; MOV RBP, RSP, at a 16-byte boundary.
 */
static void assert_function_start(const char *path, __u64 off, __u64 addr)
{
	static const unsigned char frame[] = { 0x55, 0x48, 0x89, 0xe5 };
	unsigned char b[4];
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, b, sizeof(b), off), (ssize_t)sizeof(b));
	close(fd);
	cr_assert_eq(addr % 16, 0, "%s: %#llx unaligned", path,
		     (unsigned long long)addr);
	cr_assert_arr_eq(b, frame, sizeof(frame),
			 "%s: no frame setup at %#llx", path,
			 (unsigned long long)addr);
}

Test(bssl, agent_executables)
{
	unsigned int i, both = 0, have = 0;
	struct bssl_result r;
	__u64 woff, roff, noff;
	char path[512];

	for (i = 0; i < NEXES; i++) {
		if (!agent_exe(path, sizeof(path), i)) {
			cr_log_warn("%s missing: run tests/fetch-agent-exes.sh",
				    path);
			continue;
		}
		have++;
		find_exe(path, &r, &woff, &roff, &noff);
		cr_assert_neq(r.write.entry, r.read.entry);
		/* SSL_write: its 3 checks, with the QUIC one in these. */
		cr_assert_eq(r.write.nsites, 4, "%s", path);
		cr_assert_geq(r.read.nsites, 3, "%s", path);
		cr_assert(r.err_fn);
		assert_function_start(path, woff, r.write.entry);
		assert_function_start(path, roff, r.read.entry);
		/*
		 * SSL_new: its one check (SSL_R_NULL_SSL_CTX), except in
		 * Claude Code 2.1.200, whose SSL_new reports nothing with
		 * ssl_lib.cc (probed without it).
		 */
		if (i == 3) {
			cr_assert_eq(r.ssl_new.entry, 0, "%s", path);
			cr_assert_str_eq(r.new_why, "no function matches SSL_new");
		} else {
			cr_assert_null(r.new_why, "%s: %s", path, r.new_why);
			cr_assert_eq(r.ssl_new.nsites, 1, "%s", path);
			assert_function_start(path, noff, r.ssl_new.entry);
			cr_assert_neq(r.ssl_new.entry, r.write.entry);
			cr_assert_neq(r.ssl_new.entry, r.read.entry);
		}
		/* Where both sources have an entry, they are one. */
		if (r.write.eh_entry && r.write.call_entry) {
			cr_assert_eq(r.write.eh_entry, r.write.call_entry);
			both++;
		}
		if (r.read.eh_entry && r.read.call_entry) {
			cr_assert_eq(r.read.eh_entry, r.read.call_entry);
			both++;
		}
	}
	if (!have)
		cr_skip_test("no agent executable in the cache: run tests/fetch-agent-exes.sh");
	/* Claude Code 2.1.200 has FDEs for both functions. */
	if (agent_exe(path, sizeof(path), 3))
		cr_assert_eq(both, 2, "the .eh_frame cross-check did not run");
}

/* Bun 1.4.5, against addresses read off its disassembly (objdump). */
Test(bssl, bun_1_4_5_entries)
{
	struct bssl_result r;
	__u64 woff, roff, noff;
	char path[512];

	if (!agent_exe(path, sizeof(path), 2))
		cr_skip_test("%s missing: run tests/fetch-agent-exes.sh", path);
	find_exe(path, &r, &woff, &roff, &noff);
	cr_assert_eq(r.write.entry, 0x2607c30);
	cr_assert_eq(r.read.entry, 0x2586500);
	cr_assert_eq(r.err_fn, 0x227c360);
	/* TEST RDI, RDI at its start; MakeUnique<SSL>: malloc(0xa8) */
	cr_assert_eq(r.ssl_new.entry, 0x2568ee0);
	cr_assert_eq(r.ssl_new.call_entry, 0x2568ee0);
}

/* Through the stack table: the stack and its two probes. */
Test(bssl, stack_match)
{
	struct stack_match m;
	char path[512];
	int fd;

	if (!agent_exe(path, sizeof(path), 4))
		cr_skip_test("%s missing: run tests/fetch-agent-exes.sh", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(stack__match_fd(fd, &m), 0);
	close(fd);
	cr_assert_eq(m.stack, &boringssl_stack);
	cr_assert_eq(m.noffs, 3);
	cr_assert_eq(m.cookies[0], CAP_FN_WRITE);
	cr_assert_eq(m.cookies[1], CAP_FN_READ);
	cr_assert(m.flags[0] & TLS_PROBE_RETURN);
	/* SSL_new: its return only, and not required */
	cr_assert_eq(m.cookies[2], CAP_FN_NEW);
	cr_assert_eq(m.flags[2], TLS_PROBE_RETURN);
	cr_assert(strstr(m.found, "SSL_new 0x354b700 (function start)"),
		  "%s", m.found);
}

/* The file at @path is not BoringSSL, nor a refused BoringSSL file. */
static void assert_not_boringssl(const char *path)
{
	struct bssl_result r;
	struct elfsym *es;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	cr_assert_eq(bssl__find_elf(es, fd, &r), -ENOENT, "%s", path);
	cr_assert_null(r.why);
	elfsym__free(es);
	close(fd);
}

/* A file without BoringSSL is not one, after one look at .rodata. */
Test(bssl, not_boringssl)
{
	assert_not_boringssl("/bin/ls");
}

/*
 * This test program holds "/ssl/ssl_lib.cc" (in the finder's search) and
 * a BoringSSL-like path (the synthetic .rodata below) that no code
 * loads: not BoringSSL, and not a refused file either.
 */
Test(bssl, file_name_without_code)
{
	assert_not_boringssl("/proc/self/exe");
}

/* --- synthetic code --- */

#define TEXT	0x401000ULL
#define RODATA	0x200000ULL
/* .rodata: a NUL, then the file name, at RODATA + 1. */
static const char rodata[] = "\0../../vendor/boringssl/ssl/ssl_lib.cc";
#define FILE_NAME	(RODATA + 1)

struct img {
	struct code c;		/* .text at TEXT */
	__u64 errfn;
};

static int img_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct img *m = ctx;
	const struct code_region rg[] = {
		{ TEXT, m->c.text, m->c.len },
		{ RODATA, rodata, sizeof(rodata) },
	};

	return code_read(rg, 2, addr, buf, n);
}

/* int3 padding to the next 16-byte boundary (at least one byte). */
static void pad(struct img *m)
{
	code_put8(&m->c, 0xcc);
	code_align(&m->c);
}

/* A function start: PUSH RBP; MOV RBP, RSP (or XOR EAX, EAX). */
static __u64 func(struct img *m, bool frame)
{
	static const unsigned char push[] = { 0x55, 0x48, 0x89, 0xe5 };
	static const unsigned char xor[] = { 0x31, 0xc0 };
	__u64 a;

	pad(m);
	a = code_here(&m->c);
	if (frame)
		code_put(&m->c, push, sizeof(push));
	else
		code_put(&m->c, xor, sizeof(xor));
	return a;
}

static void ret(struct img *m)
{
	code_put8(&m->c, 0x5d);	/* pop rbp */
	code_put8(&m->c, 0xc3);
}

/*
 * OPENSSL_PUT_ERROR(SSL, @reason) at @line, as Bun 1.4.5 compiles it:
 * mov ecx, FILE; mov edi, 16; xor esi, esi; mov edx, reason;
 * mov r8d, line; call ERR_put_error.
 */
static void site(struct img *m, __u32 reason, __u32 line)
{
	struct code *c = &m->c;

	code_put8(c, 0xb9);
	code_put32(c, FILE_NAME);
	code_put8(c, 0xbf);
	code_put32(c, 16);
	code_put8(c, 0x31);
	code_put8(c, 0xf6);
	code_put8(c, 0xba);
	code_put32(c, reason);
	code_put8(c, 0x41);
	code_put8(c, 0xb8);
	code_put32(c, line);
	code_call(c, m->errfn);
}

/* SSL_write's error calls and its return. */
static void write_body(struct img *m)
{
	site(m, 66, 953);
	site(m, 226, 958);
	site(m, 215, 973);
	site(m, 111, 979);
	ret(m);
}

static __u64 ssl_write(struct img *m, bool frame)
{
	__u64 a = func(m, frame);

	write_body(m);
	return a;
}

/* ssl_read_impl, and SSL_read (SSL_peek inlined) calling it. */
static __u64 ssl_read(struct img *m)
{
	__u64 impl, a;

	impl = func(m, true);
	site(m, 226, 837);
	site(m, 215, 870);
	ret(m);
	a = func(m, true);
	site(m, 66, 931);
	code_call(&m->c, impl);
	ret(m);
	return a;
}

/* SSL_new: its one check (@older: and the method check after it). */
static __u64 ssl_new(struct img *m, bool older)
{
	__u64 a = func(m, true);

	site(m, 185, 484);
	if (older)
		site(m, 214, 488);
	ret(m);
	return a;
}

static void img_init(struct img *m)
{
	memset(m, 0, sizeof(*m));
	m->c.addr = TEXT;
	m->errfn = code_here(&m->c);
	code_put8(&m->c, 0xc3);
}

static int img_find(struct img *m, struct bssl_result *r)
{
	struct binsrc src = {
		.text = { TEXT, m->c.len },
		.rodata = { RODATA, sizeof(rodata) },
		.read = img_read,
		.ctx = m,
	};

	pad(m);
	return bssl__find(&src, r);
}

Test(bssl, synthetic_found)
{
	struct bssl_result r;
	struct img m;
	__u64 w, rd;

	img_init(&m);
	w = ssl_write(&m, true);
	rd = ssl_read(&m);
	cr_assert_eq(img_find(&m, &r), 0, "%s", r.why ? r.why : "-");
	cr_assert_eq(r.write.entry, w);
	cr_assert_eq(r.read.entry, rd);
	cr_assert_eq(r.err_fn, m.errfn);
	cr_assert_eq(r.write.eh_entry, 0);
}

Test(bssl, synthetic_ssl_new)
{
	struct bssl_result r;
	struct img m;
	__u64 n, w, rd;
	bool older;

	for (older = false; ; older = true) {
		img_init(&m);
		w = ssl_write(&m, true);
		n = ssl_new(&m, older);
		rd = ssl_read(&m);
		cr_assert_eq(img_find(&m, &r), 0, "%s", r.why ? r.why : "-");
		cr_assert_eq(r.write.entry, w);
		cr_assert_eq(r.read.entry, rd);
		cr_assert_eq(r.ssl_new.entry, n);
		cr_assert_eq(r.ssl_new.nsites, older ? 2 : 1);
		cr_assert_null(r.new_why);
		if (older)
			break;
	}
}

/*
 * Image @m, with SSL_write at @w, is found and probed without SSL_new,
 * for @new_why; the result in *@r.
 */
static void assert_without_new(struct img *m, __u64 w, const char *new_why,
			       struct bssl_result *r)
{
	cr_assert_eq(img_find(m, r), 0, "%s", r->why ? r->why : "-");
	cr_assert_eq(r->write.entry, w);
	cr_assert_eq(r->ssl_new.entry, 0);
	cr_assert_str_eq(r->new_why, new_why);
}

/* Two functions match SSL_new: the file is probed without it. */
Test(bssl, two_ssl_new_not_probed)
{
	struct bssl_result r;
	struct img m;
	__u64 w;

	img_init(&m);
	w = ssl_write(&m, true);
	ssl_new(&m, false);
	ssl_new(&m, true);
	ssl_read(&m);
	assert_without_new(&m, w, "two functions match SSL_new", &r);
}

/* SSL_new's reason next to another one: not SSL_new's signature. */
Test(bssl, ssl_new_with_other_reason_not_probed)
{
	struct bssl_result r;
	struct img m;
	__u64 a, w;

	img_init(&m);
	w = ssl_write(&m, true);
	a = func(&m, true);
	site(&m, 185, 484);
	site(&m, 66, 490);
	ret(&m);
	ssl_read(&m);
	assert_without_new(&m, w, "no function matches SSL_new", &r);
	cr_assert_neq(r.read.entry, a);
}

Test(bssl, two_ssl_write_refused)
{
	struct bssl_result r;
	struct img m;

	img_init(&m);
	ssl_write(&m, true);
	ssl_write(&m, true);
	ssl_read(&m);
	cr_assert_eq(img_find(&m, &r), -ESRCH);
	cr_assert_str_eq(r.why, "two functions match SSL_write");
}

/* No .eh_frame, and the only entry below the sites has no prologue. */
Test(bssl, unproven_entry_refused)
{
	struct bssl_result r;
	struct img m;
	__u64 w;

	img_init(&m);
	w = ssl_write(&m, false);
	ssl_read(&m);
	code_call(&m.c, w);	/* a call target, but not a function start */
	cr_assert_eq(img_find(&m, &r), -EILSEQ);
	cr_assert_str_eq(r.why,
			 "the call target below the sites has no prologue");
}

/* A jump into the middle of an instruction: boundaries in doubt. */
Test(bssl, overlapping_instructions_refused)
{
	static const unsigned char overlap[] = {
		0x74, 0x01,			/* je +1 */
		0xb8, 0x90, 0x90, 0x90, 0x90,	/* mov eax, 0x90909090 */
	};
	struct bssl_result r;
	struct img m;

	img_init(&m);
	func(&m, true);
	code_put(&m.c, overlap, sizeof(overlap));
	write_body(&m);
	ssl_read(&m);
	cr_assert_eq(img_find(&m, &r), -EILSEQ);
	cr_assert_str_eq(r.why, "a byte decodes as two instructions");
}

/* Error call sites that call two different functions. */
Test(bssl, sites_calling_two_functions_refused)
{
	struct bssl_result r;
	struct img m;

	img_init(&m);
	ssl_write(&m, true);
	m.errfn = code_here(&m.c);
	code_put8(&m.c, 0xc3);
	ssl_read(&m);
	cr_assert_eq(img_find(&m, &r), -ENOTUNIQ);
}

Test(bssl, no_file_name)
{
	struct binsrc src = {
		.text = { TEXT, 16 },
		.rodata = { RODATA, 1 },
		.read = img_read,
	};
	struct bssl_result r;
	struct img m;

	img_init(&m);
	pad(&m);
	src.ctx = &m;
	cr_assert_eq(bssl__find(&src, &r), -ENOENT);
}
