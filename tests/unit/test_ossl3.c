// SPDX-License-Identifier: MIT
/*
 * Tests of the static OpenSSL 3 finder (ossl3.h): Copilot CLI's
 * runtime.node from npm (tests/fetch-agent-exes.sh; cache outside the
 * clone), against the addresses its diagnosis found
 * (docs/design-openssl-static.md), and synthetic code with its unwind
 * tables for what must be refused.  Tests run in tests/unit.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/binsrc.h"
#include "capture/elfsym.h"
#include "capture/ossl3.h"
#include "capture/stack.h"
#include "synthcode.h"

/* --- the real file --- */

#define RUNTIME	"@github/copilot-linux-x64@1.0.102/sea/pkg/linux-x64/" \
		"1.0.102/prebuilds/linux-x64/runtime.node"

static const char *runtime_node(char *buf, size_t n)
{
	const char *c = getenv("OISP_TEST_CACHE");

	snprintf(buf, n, "%s/npm/%s", c ? c : "/var/cache/oisp-test", RUNTIME);
	return access(buf, R_OK) ? NULL : buf;
}

Test(ossl3, copilot_runtime_node)
{
	struct ossl3_result r;
	struct elfsym *es;
	char path[512];
	int fd, err;

	if (!runtime_node(path, sizeof(path)))
		cr_skip_test("%s missing: run tests/fetch-agent-exes.sh", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	err = ossl3__find_elf(es, fd, &r);
	cr_assert_eq(err, 0, "%d %s", err, r.why ? r.why : "-");
	cr_assert_str_eq(r.version, "3.5.8");
	/* Confirmed with tracefs uprobes during a Copilot call. */
	cr_assert_eq(r.write.entry, 0x7fbe730);
	cr_assert_eq(r.read.entry, 0x7fbdf80);
	cr_assert_eq(r.write.nsites, 4);
	cr_assert_eq(r.read.nsites, 2);
	cr_assert_eq(r.err_fn, 0x806b7b0);
	/*
	 * SSL_new (objdump): its two checks, then a tail call through
	 * ctx->method->ssl_new.
	 */
	cr_assert_eq(r.ssl_new.entry, 0x7fb9f40);
	cr_assert_eq(r.ssl_new.end, 0x7fb9fb3);
	cr_assert_eq(r.ssl_new.nsites, 2);
	cr_assert_null(r.new_why);
	elfsym__free(es);
	close(fd);
}

/* Codex's OpenSSL 3.6 copies: SSL_new found there too (objdump). */
Test(ossl3, codex_ssl_new)
{
	static const struct {
		const char *rel, *version;
		__u64 write, ssl_new;
	} exes[] = {
		{ "@openai/codex@0.171.0-linux-x64", "3.6.4", 0x1222ebc0,
		  0x1222b960 },
		{ "@openai/codex@0.144.5-linux-x64", "3.6.3", 0xda75fb0,
		  0xda73cf0 },
	};
	const char *c = getenv("OISP_TEST_CACHE");
	struct ossl3_result r;
	struct elfsym *es;
	unsigned int i, have = 0;
	char path[512];
	int fd, err;

	for (i = 0; i < sizeof(exes) / sizeof(exes[0]); i++) {
		snprintf(path, sizeof(path),
			 "%s/npm/%s/package/vendor/x86_64-unknown-linux-musl/bin/codex",
			 c ? c : "/var/cache/oisp-test", exes[i].rel);
		if (access(path, R_OK))
			continue;
		have++;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		cr_assert_geq(fd, 0);
		cr_assert_eq(elfsym__open_fd(fd, &es), 0);
		err = ossl3__find_elf(es, fd, &r);
		cr_assert_eq(err, 0, "%s: %d %s", path, err, r.why ? r.why : "-");
		cr_assert_str_eq(r.version, exes[i].version);
		cr_assert_eq(r.write.entry, exes[i].write);
		cr_assert_eq(r.ssl_new.entry, exes[i].ssl_new, "%s", path);
		cr_assert_eq(r.ssl_new.nsites, 2);
		elfsym__free(es);
		close(fd);
	}
	if (!have)
		cr_skip_test("no Codex in the cache: run tests/fetch-agent-exes.sh");
}

/* Through the stack table: rustls first, then this stack, each probed. */
Test(ossl3, runtime_node_carries_two_stacks)
{
	struct stack_match m[STACK_MATCH_MAX];
	unsigned int n;
	char path[512];
	int fd;

	if (!runtime_node(path, sizeof(path)))
		cr_skip_test("%s missing: run tests/fetch-agent-exes.sh", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(stack__match_all(fd, m, &n), 0);
	close(fd);
	cr_assert_eq(n, 2);
	cr_assert_eq(m[0].stack, &rustls_stack);
	cr_assert_eq(m[1].stack, &openssl_static_stack);
	cr_assert_eq(m[1].err, 0);
	cr_assert_eq(m[1].noffs, 3);
	cr_assert_eq(m[1].cookies[0], CAP_FN_WRITE_INTERNAL);
	cr_assert_eq(m[1].cookies[1], CAP_FN_READ_EX);
	cr_assert(m[1].flags[0] & TLS_PROBE_RETURN);
	cr_assert_not(m[1].flags[0] & TLS_PROBE_WRITE);
	cr_assert(strstr(m[1].found, "ssl_write_internal 0x7fbe730"),
		  "%s", m[1].found);
	/* SSL_new: its return only, and not required */
	cr_assert_eq(m[1].cookies[2], CAP_FN_NEW);
	cr_assert_eq(m[1].flags[2], TLS_PROBE_RETURN);
	cr_assert(strstr(m[1].found, "SSL_new 0x7fb9f40 (2 sites)"),
		  "%s", m[1].found);
}

Test(ossl3, not_openssl)
{
	struct ossl3_result r;
	struct elfsym *es;
	int fd;

	fd = open("/bin/ls", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	cr_assert_eq(ossl3__find_elf(es, fd, &r), -ENOENT);
	cr_assert_null(r.why);
	elfsym__free(es);
	close(fd);
}

/* --- synthetic code, with .eh_frame_hdr and .eh_frame --- */

#define TEXT	0x401000ULL
#define RODATA	0x200000ULL
#define HDR	0x300000ULL
#define FRAME	0x300400ULL
#define MAXF	8

/* The strings' offsets in .rodata. */
#define S_FILE	1
#define S_WRITE	(S_FILE + sizeof("external/openssl+/ssl/ssl_lib.c"))
#define S_READ	(S_WRITE + sizeof("ssl_write_internal"))
#define S_OTHER	(S_READ + sizeof("ssl_read_internal"))
#define S_NEW	(S_OTHER + sizeof("SSL_shutdown"))
#define S_VER	(S_NEW + sizeof("SSL_new"))

struct img {
	struct code c;		/* .text at TEXT */
	char rodata[160];
	size_t rolen;
	unsigned char hdr[CODE_EH_HDR(MAXF)];
	unsigned char frame[CODE_EH_FRAME(MAXF) + 32];
	__u64 fstart[MAXF], fend[MAXF];
	unsigned int nf;
	__u64 err_new, set_debug, set_error;
};

static int img_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct img *m = ctx;
	const struct code_region rg[] = {
		{ TEXT, m->c.text, m->c.len },
		{ RODATA, m->rodata, m->rolen },
		{ HDR, m->hdr, sizeof(m->hdr) },
		{ FRAME, m->frame, sizeof(m->frame) },
	};

	return code_read(rg, 4, addr, buf, n);
}

/* LEA r64, [RIP + string at .rodata offset @off] (@reg: 7 RDI, 2 RDX). */
static void lea(struct img *m, unsigned int reg, size_t off)
{
	struct code *c = &m->c;

	code_put8(c, 0x48);
	code_put8(c, 0x8d);
	code_put8(c, 0x05 | reg << 3);
	code_put32(c, (__u32)(RODATA + off - (code_here(c) + 4)));
}

/*
 * ERR_raise(ERR_LIB_SSL, @reason) in function @name (a .rodata offset),
 * as OpenSSL 3 compiles it: ERR_new(); ERR_set_debug(file, line, name);
 * ERR_set_error(20, reason, NULL), variadic (AL = 0).
 */
static void site_r(struct img *m, size_t name, __u32 line, __u32 reason)
{
	struct code *c = &m->c;

	code_call(c, m->err_new);
	lea(m, 7, S_FILE);
	lea(m, 2, name);
	code_put8(c, 0xbe);		/* mov esi, line */
	code_put32(c, line);
	code_call(c, m->set_debug);
	code_put8(c, 0xbf);		/* mov edi, 20 */
	code_put32(c, 20);
	code_put8(c, 0xbe);		/* mov esi, reason */
	code_put32(c, reason);
	code_put8(c, 0x31);		/* xor edx, edx */
	code_put8(c, 0xd2);
	code_put8(c, 0x31);		/* xor eax, eax */
	code_put8(c, 0xc0);
	code_call(c, m->set_error);
}

/* A site of @name raising SSL_R_BAD_LENGTH (271). */
static void site(struct img *m, size_t name, __u32 line)
{
	site_r(m, name, line, 0x10f);
}

/* A function's start, 16-byte aligned: PUSH RBP.  Returns its entry. */
static __u64 func_begin(struct img *m)
{
	__u64 a;

	code_align(&m->c);
	a = code_here(&m->c);
	code_put8(&m->c, 0x55);
	return a;
}

/* The end of the function at @a: POP RBP; RET, and its FDE. */
static void func_end(struct img *m, __u64 a)
{
	code_put8(&m->c, 0x5d);
	code_put8(&m->c, 0xc3);
	cr_assert_lt(m->nf, MAXF);
	m->fstart[m->nf] = a;
	m->fend[m->nf++] = code_here(&m->c);
}

/* A function: PUSH RBP, then @n sites of @name (.rodata offsets), RET. */
static __u64 func(struct img *m, const size_t *names, unsigned int n)
{
	__u64 a = func_begin(m);
	unsigned int i;

	for (i = 0; i < n; i++)
		site(m, names[i], 100 + i);
	func_end(m, a);
	return a;
}

static void img_init(struct img *m, const char *version)
{
	static const char *const strs[] = {
		"external/openssl+/ssl/ssl_lib.c", "ssl_write_internal",
		"ssl_read_internal", "SSL_shutdown", "SSL_new",
	};
	unsigned int i;
	size_t o = 1;

	memset(m, 0, sizeof(*m));
	m->c.addr = TEXT;
	for (i = 0; i < 5; i++) {
		memcpy(m->rodata + o, strs[i], strlen(strs[i]) + 1);
		o += strlen(strs[i]) + 1;
	}
	cr_assert_eq(o, S_VER);
	memcpy(m->rodata + o, version, strlen(version) + 1);
	m->rolen = o + strlen(version) + 1;
	/* ERR_new, ERR_set_debug, ERR_set_error: each a RET. */
	m->err_new = code_here(&m->c);
	code_put8(&m->c, 0xc3);
	m->set_debug = code_here(&m->c);
	code_put8(&m->c, 0xc3);
	m->set_error = code_here(&m->c);
	code_put8(&m->c, 0xc3);
}

static int img_find(struct img *m, struct ossl3_result *r, bool eh)
{
	struct binsrc src = {
		.text = { TEXT, m->c.len },
		.rodata = { RODATA, m->rolen },
		.read = img_read,
		.ctx = m,
	};

	code_eh_tables(m->hdr, HDR, m->frame, FRAME, m->fstart, m->fend,
		       m->nf);
	if (eh) {
		src.eh_frame_hdr = (struct binsrc_region){ HDR, sizeof(m->hdr) };
		src.eh_frame = (struct binsrc_region){ FRAME, sizeof(m->frame) };
	}
	return ossl3__find(&src, r);
}

/* The finder refuses image @m (@eh: with unwind tables): @err, for @why. */
static void assert_refused(struct img *m, bool eh, int err, const char *why)
{
	struct ossl3_result r;

	cr_assert_eq(img_find(m, &r, eh), err);
	cr_assert_str_eq(r.why, why);
}

#define V3	"OpenSSL 3.5.8 25 Aug 2026"

static const size_t wr2[] = { S_WRITE, S_WRITE }, rd1[] = { S_READ };

/*
 * An image of OpenSSL @version with ssl_read_internal (one site) and
 * then ssl_write_internal (two sites) at *@rd and the return value.
 */
static __u64 read_write(struct img *m, const char *version, __u64 *rd)
{
	__u64 a;

	img_init(m, version);
	a = func(m, rd1, 1);
	if (rd)
		*rd = a;
	return func(m, wr2, 2);
}

Test(ossl3, synthetic_found)
{
	struct ossl3_result r;
	struct img m;
	__u64 w, rd;

	w = read_write(&m, V3, &rd);
	cr_assert_eq(img_find(&m, &r, true), 0, "%s", r.why ? r.why : "-");
	cr_assert_eq(r.write.entry, w);
	cr_assert_eq(r.read.entry, rd);
	cr_assert_eq(r.write.nsites, 2);
	cr_assert_eq(r.err_fn, m.set_debug);
	cr_assert_str_eq(r.version, "3.5.8");
}

/*
 * SSL_new: ERR_raise(ERR_LIB_SSL, SSL_R_NULL_SSL_CTX) and
 * (SSL_R_SSL_CTX_HAS_NO_DEFAULT_SSL_VERSION); @r2: the second reason.
 */
static __u64 ssl_new(struct img *m, __u32 r2)
{
	__u64 a = func_begin(m);

	site_r(m, S_NEW, 693, 195);
	site_r(m, S_NEW, 697, r2);
	func_end(m, a);
	return a;
}

Test(ossl3, synthetic_ssl_new)
{
	struct ossl3_result r;
	struct img m;
	__u64 n;

	read_write(&m, V3, NULL);
	n = ssl_new(&m, 228);
	cr_assert_eq(img_find(&m, &r, true), 0, "%s", r.why ? r.why : "-");
	cr_assert_eq(r.ssl_new.entry, n);
	cr_assert_eq(r.ssl_new.nsites, 2);
	cr_assert_null(r.new_why);
}

/*
 * SSL_new not certain: the file is probed without it, and status says
 * why.  A function named SSL_new without SSL_new's second reason; SSL_new
 * inlined into two callers; no code naming it.
 */
Test(ossl3, ssl_new_not_probed)
{
	static const struct {
		__u32 r2;		/* second reason of each copy */
		unsigned int copies;
		const char *why;
	} cases[] = {
		{ 0x10f, 1, "the function named SSL_new does not raise both of SSL_new's reasons" },
		{ 228, 2, "a function's name is loaded in two functions (inlined into its callers)" },
		{ 228, 0, "no code passes the name SSL_new" },
	};
	struct ossl3_result r;
	struct img m;
	unsigned int i, k;
	__u64 w;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		w = read_write(&m, V3, NULL);
		for (k = 0; k < cases[i].copies; k++)
			ssl_new(&m, cases[i].r2);
		cr_assert_eq(img_find(&m, &r, true), 0, "%s",
			     r.why ? r.why : "-");
		cr_assert_eq(r.write.entry, w);
		cr_assert_eq(r.ssl_new.entry, 0);
		cr_assert_str_eq(r.new_why, cases[i].why);
	}
}

/* ssl_write_internal inlined into two callers: its name in two functions. */
Test(ossl3, name_in_two_functions_refused)
{
	static const size_t w1[] = { S_WRITE };
	struct img m;

	img_init(&m, V3);
	func(&m, rd1, 1);
	func(&m, w1, 1);
	func(&m, w1, 1);
	assert_refused(&m, true, -ESRCH,
		       "a function's name is loaded in two functions (inlined into its callers)");
}

/* Another function inlined into ssl_write_internal: its name there too. */
Test(ossl3, other_name_in_function_refused)
{
	static const size_t w[] = { S_WRITE, S_OTHER };
	struct img m;

	img_init(&m, V3);
	func(&m, rd1, 1);
	func(&m, w, 2);
	assert_refused(&m, true, -EILSEQ,
		       "the function also reports errors under another function's name (inlined code)");
}

Test(ossl3, both_names_in_one_function_refused)
{
	static const size_t w[] = { S_WRITE, S_READ };
	struct ossl3_result r;
	struct img m;

	img_init(&m, V3);
	func(&m, w, 2);
	cr_assert_eq(img_find(&m, &r, true), -EILSEQ);
	cr_assert(strstr(r.why, "(inlined code)"), "%s", r.why);
}

Test(ossl3, no_eh_frame_refused)
{
	struct img m;

	read_write(&m, V3, NULL);
	assert_refused(&m, false, -ESRCH,
		       "no .eh_frame: function bounds unknown");
}

Test(ossl3, openssl_1_refused)
{
	struct img m;

	read_write(&m, "OpenSSL 1.1.1w  11 Sep 2023", NULL);
	assert_refused(&m, true, -EPROTONOSUPPORT,
		       "OpenSSL 1.x (errors by number, not by name): not supported");
}

/* The name's register overwritten before the call: not its name. */
Test(ossl3, name_not_decoded_refused)
{
	struct img m;
	__u64 a;

	img_init(&m, V3);
	func(&m, rd1, 1);
	a = func_begin(&m);
	site(&m, S_WRITE, 7);
	code_call(&m.c, m.err_new);
	lea(&m, 7, S_FILE);
	code_put8(&m.c, 0x48);		/* mov rdx, rax */
	code_put8(&m.c, 0x89);
	code_put8(&m.c, 0xc2);
	code_call(&m.c, m.set_debug);
	func_end(&m, a);
	assert_refused(&m, true, -EILSEQ,
		       "an ERR_set_debug call's function name does not decode");
}

/* The file name in .rodata, but no code passes it: not OpenSSL. */
Test(ossl3, file_name_without_code)
{
	struct ossl3_result r;
	struct img m;

	img_init(&m, V3);
	code_put8(&m.c, 0xc3);
	cr_assert_eq(img_find(&m, &r, true), -ENOENT);
	cr_assert_null(r.why);
}
