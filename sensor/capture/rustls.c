// SPDX-License-Identifier: MIT
/*
 * rustls.c - rustls's aws-lc AEAD functions in stripped files, found by
 * the error sites that reference aws-lc's aead.c (rustls.h), read
 * through binsrc.h, decoded with x86code.h, bounded by ehframe.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <elf.h>

#include "capture/binsrc.h"
#include "capture/ehframe.h"
#include "capture/elfsym.h"
#include "capture/rustls.h"
#include "capture/stack.h"
#include "capture/x86code.h"

/* ERR_LIB_CIPHER and the CIPHER_R_* reasons (aws-lc openssl/cipher.h). */
#define LIB_CIPHER		30
#define R_BAD_DECRYPT		101
#define R_BUFFER_TOO_SMALL	103
#define R_CTRL_NOT_IMPLEMENTED	104
#define R_OUTPUT_ALIASES_INPUT	115
#define R_TOO_LARGE		117
#define R_UNSUPPORTED_KEY_SIZE	120
#define R_NO_DIRECTION_SET	124

/* A function's reasons as a bit set: bit (reason - 100); bit 31: other. */
#define R_FIRST			100
#define R_OTHER			(1u << 31)
#define BIT(r)			(1u << ((r) - R_FIRST))

#define SEAL_SET	(BIT(R_TOO_LARGE) | BIT(R_BUFFER_TOO_SMALL) | \
			 BIT(R_OUTPUT_ALIASES_INPUT))
#define OPEN_NEED	(BIT(R_OUTPUT_ALIASES_INPUT) | BIT(R_BAD_DECRYPT) | \
			 BIT(R_BUFFER_TOO_SMALL))
#define OPEN_ALLOW	(OPEN_NEED | BIT(R_CTRL_NOT_IMPLEMENTED))
#define INIT_NEED	BIT(R_UNSUPPORTED_KEY_SIZE)
#define INIT_ALLOW	(INIT_NEED | BIT(R_NO_DIRECTION_SET))

/* Farthest a function's entry may lie before one of its error sites. */
#define ENTRY_REACH	4096
/* Bytes of a function decoded at most (aws-lc's AEAD functions: ~600). */
#define FUNC_MAX	((__u64)64 << 10)
/* Bytes decoded past ENTRY_REACH in a file without .eh_frame. */
#define SITE_BYTES	64
/* Instructions from the site to the call that are read. */
#define SITE_INSNS	10
/* Copies of the aead.c file name accepted in .rodata. */
#define NAMES_MAX	4
/* GOT slots kept that hold an address near an error site. */
#define SLOTS_MAX	32

static const char CONN_RS[] = "/src/conn.rs";
/* A source file of ring's AEADs, as its panic locations name it. */
static const char RING_AEAD[] = "/src/aead/";
static const char AEAD_C[] = "/crypto/fipsmodule/cipher/aead.c";

struct site {
	__u64 addr;		/* the LEA of the file name */
	__u64 entry;		/* the function's, once found */
	bool called;		/* its entry is a direct-call target */
	unsigned int reason;	/* bit set of one reason; 0: left out */
};

struct scan {
	struct elfsym *es;
	int fd;
	struct binsrc src;	/* .text, .rodata, .eh_frame(_hdr) */
	struct binsrc_elf file;
	struct x86code *xc;
	struct ehframe *eh;	/* NULL: no usable .eh_frame_hdr */
	__u64 names[NAMES_MAX];
	unsigned int nnames;
	struct site sites[RUSTLS_SITES_MAX];
	unsigned int nsites;
	__u64 slot[SLOTS_MAX], slot_value[SLOTS_MAX];
	unsigned int nslots;
	const char *why;
};

/*
 * Finds "@crate-X.Y.Z@file" in @ro (@n bytes), e.g. "rustls-0.23.46"
 * before "/src/conn.rs", and copies X.Y.Z into @ver.  The path may be
 * absolute or remapped to start at the crate, and Rust's string
 * constants are not NUL-separated, so the version is the run of digits
 * and dots between "@crate-" and @file.  Returns true when found.
 */
static bool crate_version(const unsigned char *ro, size_t n,
			  const char *crate, const char *file, char *ver,
			  size_t vlen)
{
	const unsigned char *p = ro, *end = ro + n, *c;
	size_t k, cl = strlen(crate), fl = strlen(file);

	while ((p = memmem(p, end - p, file, fl))) {
		for (c = p; c > ro && p - c < (ptrdiff_t)vlen &&
		     ((c[-1] >= '0' && c[-1] <= '9') || c[-1] == '.'); c--)
			;
		k = p - c;
		if (k && k < vlen && c - ro >= (ptrdiff_t)cl + 1 &&
		    !memcmp(c - cl - 1, crate, cl) && c[-1] == '-') {
			memcpy(ver, c, k);
			ver[k] = '\0';
			return true;
		}
		p += fl;
	}
	return false;
}

/*
 * Stores in @s->names the addresses of the NUL-terminated strings in
 * .rodata (@ro) that end with AEAD_C: __FILE__ of aws-lc's aead.c.
 */
static void aead_names(struct scan *s, const unsigned char *ro)
{
	const unsigned char *p = ro, *end = ro + s->src.rodata.size, *b;

	while (s->nnames < NAMES_MAX &&
	       (p = memmem(p, end - p, AEAD_C, sizeof(AEAD_C) - 1))) {
		b = p;
		p += sizeof(AEAD_C) - 1;
		if (p >= end || *p)
			continue;
		while (b > ro && b[-1] >= 0x20 && b[-1] < 0x7f && p - b < 512)
			b--;
		s->names[s->nnames++] = s->src.rodata.addr + (b - ro);
	}
}

/*
 * A field naming one of the file names: a site when it ends a
 * RIP-relative LEA (7 bytes, REX.W 8D /r) of it.
 */
static int add_site(void *arg, __u64 field, unsigned int k)
{
	struct scan *s = arg;
	struct x86_load ld;
	int err;

	err = x86code__load(s->xc, field - 3, &ld);
	if (err == -ENOENT || err == -EILSEQ || ld.size != 7 ||
	    ld.value != s->names[k])
		return 0;
	if (err)
		return err;
	if (s->nsites == RUSTLS_SITES_MAX) {
		s->why = "too many aws-lc aead.c references";
		return -E2BIG;
	}
	s->sites[s->nsites++].addr = field - 3;
	return 0;
}

static int scan_sites(void *arg, __u64 a, const unsigned char *p, size_t n,
		      size_t valid)
{
	struct scan *s = arg;

	return x86code__scan_refs(a, p, n, valid, s->names, s->nnames, false,
				  add_site, s);
}

/*
 * A call at @b (address @pc), direct (CALL rel32) or through a GOT slot
 * read by read_got() (CALL [RIP+disp32], as code built without a PLT
 * calls): its target is a candidate entry for the sites after it.
 */
static void at_call(struct scan *s, const unsigned char *b, size_t n,
		    __u64 pc)
{
	__u64 target, slot;
	unsigned int k;

	switch (x86code__branch(b, n, pc, &target)) {
	case X86_BR_CALL:
		break;
	case X86_BR_CALL_SLOT:
		slot = target;
		for (k = 0; k < s->nslots && s->slot[k] != slot; k++)
			;
		if (k == s->nslots)
			return;
		target = s->slot_value[k];
		break;
	default:
		return;
	}
	for (k = 0; k < s->nsites; k++)
		if (target <= s->sites[k].addr &&
		    target + ENTRY_REACH > s->sites[k].addr &&
		    target > s->sites[k].entry)
			s->sites[k].entry = target;
}

static int scan_calls(void *arg, __u64 a, const unsigned char *p, size_t n,
		      size_t valid)
{
	struct scan *s = arg;
	size_t i;

	for (i = 0; i < valid && i + 6 <= n; i++)
		if (p[i] == 0xe8 || p[i] == 0xff)
			at_call(s, p + i, n - i, a + i);
	return 0;
}

/* Keeps GOT slot @slot when @v lies in [@lo, @hi]. */
static void keep_slot(struct scan *s, __u64 slot, __u64 v, __u64 lo, __u64 hi)
{
	if (v >= lo && v <= hi && s->nslots < SLOTS_MAX) {
		s->slot[s->nslots] = slot;
		s->slot_value[s->nslots++] = v;
	}
}

/*
 * Keeps the .got slots that hold an address within ENTRY_REACH before
 * an error site: the functions called through them.  A file with RELR
 * relocations (or applied ones) stores the address in the slot; one
 * with RELA stores it as the addend of an R_X86_64_RELATIVE relocation
 * of the slot in .rela.dyn.
 */
static void read_got(struct scan *s)
{
	struct elfsym_section got, rela;
	const unsigned char *g, *r;
	__u64 i, lo = UINT64_MAX, hi = 0, where;
	unsigned int k;

	for (k = 0; k < s->nsites; k++) {
		if (s->sites[k].addr < lo)
			lo = s->sites[k].addr;
		if (s->sites[k].addr > hi)
			hi = s->sites[k].addr;
	}
	lo = lo > ENTRY_REACH ? lo - ENTRY_REACH : 0;
	if (elfsym__section(s->es, ".got", &got) || !got.size ||
	    elfsym__read(s->es, s->fd, got.offset, got.size, &g))
		return;
	for (i = 0; i + 8 <= got.size; i += 8)
		keep_slot(s, got.addr + i,
			  elfsym__le32(g + i) |
			  (__u64)elfsym__le32(g + i + 4) << 32, lo, hi);
	if (elfsym__section(s->es, ".rela.dyn", &rela) || !rela.size ||
	    elfsym__read(s->es, s->fd, rela.offset, rela.size, &r))
		return;
	for (i = 0; i + 24 <= rela.size; i += 24) {
		where = elfsym__le32(r + i) |
			(__u64)elfsym__le32(r + i + 4) << 32;
		if (elfsym__le32(r + i + 8) != R_X86_64_RELATIVE ||
		    where < got.addr || where >= got.addr + got.size)
			continue;
		keep_slot(s, where, elfsym__le32(r + i + 16) |
			  (__u64)elfsym__le32(r + i + 20) << 32, lo, hi);
	}
}

/*
 * The reason of the site at @st: the LEA of the file name into RCX,
 * then, up to the call or jump, the constants put in RDI (lib) and RDX
 * (reason) (x86code__call(), not strict: MOV, XOR or PUSH imm / POP, as
 * -Os builds set them).  Returns the reason's bit, or 0 when the site is
 * not ERR_put_error(CIPHER, 0, reason, file, line).
 */
static unsigned int site_reason(struct scan *s, const struct site *st)
{
	struct x86_call c = { 0 };
	struct x86_load ld;
	int err;

	if (x86code__load(s->xc, st->addr, &ld) || ld.arg != 3)
		return 0;
	/* Not strict: what was set before running out still counts. */
	err = x86code__call(s->xc, st->addr + ld.size, 0, SITE_INSNS, &c);
	if (err && err != -ENOENT && err != -EILSEQ)
		return 0;
	if (!(c.known & 1u) || c.arg[0] != LIB_CIPHER || !(c.known & 4u))
		return 0;
	if (c.arg[2] < R_FIRST || c.arg[2] >= R_FIRST + 31)
		return R_OTHER;
	return BIT(c.arg[2]);
}

/* True when the bytes before @e (@pre, 8 of them) end a function. */
static bool ends_function(const unsigned char *pre)
{
	switch (pre[7]) {
	case 0xc3:	/* ret */
	case 0xcc:	/* int3 padding */
	case 0x90:	/* nop padding */
	case 0x00:	/* the end of a multi-byte nop */
		return true;
	}
	return pre[6] == 0xeb ||			/* jmp rel8 */
	       pre[3] == 0xe9 ||			/* jmp rel32 */
	       pre[3] == 0xe8 ||	/* call rel32 (a noreturn one) */
	       (pre[6] == 0x0f && pre[7] == 0x0b);	/* ud2 */
}

/*
 * Establishes the entry of the function around site @st and decodes
 * the site's reason.  With .eh_frame_hdr the entry is the start of the
 * FDE that covers the site, and the function counts as called when the
 * nearest direct-call target before the site (the call pass) is that
 * entry.  Without it the entry is that call target, preceded by the end
 * of another function.  Either way a recursive-descent decode from the
 * entry (x86code__walk(): within the FDE; without one, paths are cut
 * ENTRY_REACH + SITE_BYTES bytes from the entry, as the function's end
 * is not known) must reach the site on an instruction boundary.  Returns 0, or
 * -EILSEQ with s->why set (the site is then left out), or -ENOMEM.
 */
static int check_site(struct scan *s, struct site *st)
{
	__u64 entry = st->entry, begin, end = entry + ENTRY_REACH + SITE_BYTES;
	unsigned int flags = X86_WALK_OPEN_END;
	unsigned char pre[8];
	struct x86_walk w;
	const char *why;
	int err;

	if (s->eh) {
		entry = 0;
		if (!ehframe__lookup(s->eh, st->addr, &begin, &end)) {
			entry = begin;
			flags = 0;
		}
	}
	if (!entry || st->addr - entry >= ENTRY_REACH ||
	    end - entry > FUNC_MAX) {
		s->why = "no function found around an aead.c error site";
		return -EILSEQ;
	}
	st->called = st->entry == entry;
	st->entry = entry;
	if (!s->eh) {
		if (s->src.read(s->src.ctx, entry - 8, pre, sizeof(pre))) {
			s->why = "an aead.c function unreadable";
			return -EILSEQ;
		}
		if (!ends_function(pre)) {
			s->why = "an aead.c function's entry follows no function end";
			return -EILSEQ;
		}
	}
	err = x86code__walk(s->xc, entry, end, 0, flags, &w, &why);
	if (err == -ENOMEM)
		return err;
	if (err || !x86_walk__spans(&w, st->addr, st->addr + 7)) {
		s->why = "an aead.c error site is not on an instruction boundary";
		x86_walk__release(&w);
		return -EILSEQ;
	}
	x86_walk__release(&w);
	st->reason = site_reason(s, st);
	return 0;
}

/* The functions' reason sets, by entry. */
struct func {
	__u64 entry;
	__u32 reasons;
	bool called;
};

/* Names the functions of the decoded sites and fills @r. */
static int classify(struct scan *s, struct rustls_aead *r)
{
	struct func f[RUSTLS_SITES_MAX];
	unsigned int nf = 0, i, j, nseal = 0, nopen = 0;

	for (i = 0; i < s->nsites; i++) {
		if (!s->sites[i].reason)
			continue;	/* not an ERR_put_error(CIPHER, ...) */
		r->nsites++;
		for (j = 0; j < nf && f[j].entry != s->sites[i].entry; j++)
			;
		if (j == nf) {
			f[nf].entry = s->sites[i].entry;
			f[nf].called = s->sites[i].called;
			f[nf++].reasons = 0;
		}
		f[j].reasons |= s->sites[i].reason;
	}
	for (j = 0; j < nf; j++) {
		if (f[j].reasons == SEAL_SET && f[j].called) {
			r->seal = f[j].entry;
			nseal++;
		} else if ((f[j].reasons & OPEN_NEED) == OPEN_NEED &&
			   !(f[j].reasons & ~OPEN_ALLOW) && f[j].called) {
			r->open = f[j].entry;
			nopen++;
		} else if ((f[j].reasons & INIT_NEED) &&
			   !(f[j].reasons & ~INIT_ALLOW) &&
			   r->ninit < RUSTLS_INITS_MAX) {
			r->init[r->ninit++] = f[j].entry;
		}
	}
	if (nseal != 1 || nopen != 1) {
		s->why = "aws-lc's EVP_AEAD_CTX_seal and _open not found once each";
		return -ESRCH;
	}
	return 0;
}

static int identify(struct scan *s, struct rustls_aead *r)
{
	const unsigned char *ro;
	struct elfsym_section rodata;
	unsigned int i;
	int err;

	if (binsrc__elf(s->es, s->fd, &s->file, &s->src) ||
	    elfsym__section(s->es, ".rodata", &rodata))
		return -ENOENT;
	err = elfsym__read(s->es, s->fd, rodata.offset, rodata.size, &ro);
	if (err)
		return err == -EFBIG ? -ENOENT : err;
	if (!crate_version(ro, rodata.size, "rustls", CONN_RS, r->rustls,
			   sizeof(r->rustls)))
		return -ENOENT;
	/* Linked beside aws-lc, its provider's connections are not seen. */
	crate_version(ro, rodata.size, "ring", RING_AEAD, r->ring,
		      sizeof(r->ring));
	aead_names(s, ro);
	if (!s->nnames) {
		s->why = "rustls without aws-lc (ring provider): not supported";
		return -EPROTONOSUPPORT;
	}
	err = x86code__new(&s->src, &s->xc);
	if (err) {
		s->why = err == -EIO ? "the x86-64 decoder could not be set up" :
				       NULL;
		return err;
	}
	err = binsrc__scan(&s->src, &s->src.text, scan_sites, s);
	if (!err && !s->nsites) {
		s->why = "no reference to aws-lc's aead.c in the code";
		err = -ESRCH;
	}
	if (!err) {
		read_got(s);
		err = binsrc__scan(&s->src, &s->src.text, scan_calls, s);
	}
	if (!err) {
		err = ehframe__open(&s->src, &s->eh);
		if (err == -ENOENT)
			err = 0;	/* entries from calls alone */
	}
	if (err) {
		if (!s->why)
			s->why = "rustls file unreadable";
		return err;
	}
	r->eh_frame = s->eh != NULL;
	for (i = 0; i < s->nsites; i++) {
		err = check_site(s, &s->sites[i]);
		if (err == -ENOMEM)
			return err;
		if (err)
			r->dropped++;
	}
	return classify(s, r);
}

int rustls__identify(struct elfsym *es, int fd, struct rustls_aead *r,
		     const char **why)
{
	struct scan *s;
	int err;

	memset(r, 0, sizeof(*r));
	*why = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->es = es;
	s->fd = fd;
	err = identify(s, r);
	if (err && err != -ENOENT)
		*why = s->why ? s->why :
		       err == -ENOMEM ? "out of memory" : "rustls file unreadable";
	x86code__free(s->xc);
	ehframe__free(s->eh);
	free(s);
	return err;
}

/* A .rodata or .text smaller than this carries no rustls (bytes). */
#define MIN_SECTION	((__u64)1 << 20)

/*
 * Tells in @m->found what identification found (for `status`): the two
 * entries and what proved them, or, refused, how far it came.
 */
static void describe(struct stack_match *m, const struct rustls_aead *r,
		     int err)
{
	if (err == -ENOENT)
		return;
	if (err)
		snprintf(m->found, sizeof(m->found),
			 "rustls %s; %u aead.c error calls decoded, %u in no established function",
			 r->rustls[0] ? r->rustls : "?", r->nsites, r->dropped);
	else
		snprintf(m->found, sizeof(m->found),
			 "seal %#llx, open %#llx (%s), %u init; rustls %s; %u aead.c error calls, each reached by decoding%s%s%s",
			 (unsigned long long)r->seal,
			 (unsigned long long)r->open,
			 r->eh_frame ? ".eh_frame" : "call targets",
			 r->ninit, r->rustls, r->nsites - r->dropped,
			 r->ring[0] ? "; ring " : "", r->ring,
			 r->ring[0] ? " also linked: connections that use its provider are not seen" : "");
}

int rustls__resolve(struct elfsym *es, int fd, struct stack_match *m)
{
	struct elfsym_section ro, text;
	struct rustls_aead r;
	unsigned int i;
	__u64 off;
	int err;

	if (elfsym__section(es, ".rodata", &ro) ||
	    elfsym__section(es, ".text", &text) ||
	    ro.size < MIN_SECTION || text.size < MIN_SECTION)
		return -ENOENT;
	err = rustls__identify(es, fd, &r, &m->why);
	describe(m, &r, err);
	if (err)
		return err;
	m->noffs = 0;
	err = elfsym__addr_offset(es, r.seal, &off);
	if (!err) {
		m->offs[m->noffs] = off;
		m->cookies[m->noffs] = CAP_RUSTLS_SEAL;
		m->flags[m->noffs++] = TLS_PROBE_REQUIRED;
		err = elfsym__addr_offset(es, r.open, &off);
	}
	if (!err) {
		m->offs[m->noffs] = off;
		m->cookies[m->noffs] = CAP_RUSTLS_OPEN;
		m->flags[m->noffs++] = TLS_PROBE_REQUIRED | TLS_PROBE_RETURN;
	}
	for (i = 0; !err && i < r.ninit; i++) {
		err = elfsym__addr_offset(es, r.init[i], &off);
		m->offs[m->noffs] = off;
		m->cookies[m->noffs] = CAP_RUSTLS_INIT;
		m->flags[m->noffs++] = 0;
	}
	if (err) {
		m->noffs = 0;
		m->why = "an aws-lc AEAD function lies in no loaded segment";
		return -EILSEQ;
	}
	if (!r.ninit) {
		/* No key installation: no connection identity. */
		m->noffs = 0;
		m->why = "aws-lc's EVP_AEAD_CTX_init not found";
		return -ESRCH;
	}
	return 0;
}

static const char *const rustls_libs[] = { NULL };

/* Labels only: the functions are found by rustls__identify(). */
static const struct tls_probe rustls_probes[] = {
	{ "aws-lc EVP_AEAD_CTX_seal (rustls)", CAP_RUSTLS_SEAL,
	  TLS_PROBE_REQUIRED },
	{ "aws-lc EVP_AEAD_CTX_open (rustls)", CAP_RUSTLS_OPEN,
	  TLS_PROBE_REQUIRED | TLS_PROBE_RETURN },
	{ "aws-lc EVP_AEAD_CTX_init (rustls)", CAP_RUSTLS_INIT, 0 },
};

const struct tls_stack rustls_stack = {
	.name = "rustls",
	.label = "rustls",
	.id = CAP_STACK_RUSTLS,
	.lib_prefixes = rustls_libs,
	.probes = rustls_probes,
	.nprobes = sizeof(rustls_probes) / sizeof(rustls_probes[0]),
	.enter_prog = "rustls_enter",
	.return_prog = "rustls_return",
	.resolve = rustls__resolve,
};
