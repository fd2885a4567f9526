// SPDX-License-Identifier: MIT
/*
 * rustls.c - rustls's aws-lc AEAD functions in stripped files, found by
 * the error sites that reference aws-lc's aead.c (rustls.h), decoded
 * with Capstone 4.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capstone/capstone.h>
#include <elf.h>

#include "capture/elfsym.h"
#include "capture/rustls.h"
#include "capture/stack.h"

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
/* Bytes decoded from a site for the arguments of ERR_put_error(). */
#define SITE_BYTES	64
/* Instructions from the site to the call that are read. */
#define SITE_INSNS	10
/* Bytes kept between text windows: the longest pattern read. */
#define OVERLAP		16
/* Copies of the aead.c file name accepted in .rodata. */
#define NAMES_MAX	4
/* GOT slots kept that hold an address near an error site. */
#define SLOTS_MAX	32

static const char CONN_RS[] = "/src/conn.rs";
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
	struct elfsym_section text, rodata;
	struct elfsym_section hdr;	/* .eh_frame_hdr, when usable */
	const unsigned char *hdr_data;
	__u32 nfde;
	__u64 names[NAMES_MAX];
	unsigned int nnames;
	struct site sites[RUSTLS_SITES_MAX];
	unsigned int nsites;
	__u64 slot[SLOTS_MAX], slot_value[SLOTS_MAX];
	unsigned int nslots;
	csh cs;
	cs_insn *insn;
	const char *why;
};

/*
 * Finds "rustls-X.Y.Z/src/conn.rs" in @ro (@n bytes) and copies X.Y.Z
 * into @ver.  The path may be absolute or remapped to start at the
 * crate, and Rust's string constants are not NUL-separated, so the
 * version is the run of digits and dots between "rustls-" and the
 * file.  Returns true when found.
 */
static bool rustls_version(const unsigned char *ro, size_t n, char *ver,
			   size_t vlen)
{
	const unsigned char *p = ro, *end = ro + n, *c;
	size_t k;

	while ((p = memmem(p, end - p, CONN_RS, sizeof(CONN_RS) - 1))) {
		for (c = p; c > ro && p - c < (ptrdiff_t)vlen &&
		     ((c[-1] >= '0' && c[-1] <= '9') || c[-1] == '.'); c--)
			;
		k = p - c;
		if (k && k < vlen && c - ro >= 7 && !memcmp(c - 7, "rustls-", 7)) {
			memcpy(ver, c, k);
			ver[k] = '\0';
			return true;
		}
		p += sizeof(CONN_RS) - 1;
	}
	return false;
}

/*
 * Stores in @s->names the addresses of the NUL-terminated strings in
 * .rodata (@ro) that end with AEAD_C: __FILE__ of aws-lc's aead.c.
 */
static void aead_names(struct scan *s, const unsigned char *ro)
{
	const unsigned char *p = ro, *end = ro + s->rodata.size, *b;

	while (s->nnames < NAMES_MAX &&
	       (p = memmem(p, end - p, AEAD_C, sizeof(AEAD_C) - 1))) {
		b = p;
		p += sizeof(AEAD_C) - 1;
		if (p >= end || *p)
			continue;
		while (b > ro && b[-1] >= 0x20 && b[-1] < 0x7f && p - b < 512)
			b--;
		s->names[s->nnames++] = s->rodata.addr + (b - ro);
	}
}

static int pread_full(int fd, unsigned char *buf, size_t n, __u64 off)
{
	ssize_t r;

	while (n) {
		r = pread(fd, buf, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENOEXEC;	/* shrank since it was opened */
		buf += r;
		n -= (size_t)r;
		off += (__u64)r;
	}
	return 0;
}

/* What one pass looks for at each byte of .text. */
enum pass { PASS_SITES, PASS_CALLS };

/* A RIP-relative LEA of one of @s's file names at @b (address @pc). */
static int at_site(struct scan *s, const unsigned char *b, __u64 pc)
{
	__u64 target;
	unsigned int k;

	if ((b[0] & 0xfb) != 0x48 || b[1] != 0x8d || (b[2] & 0xc7) != 0x05)
		return 0;
	target = pc + 7 + (__u64)(__s64)(__s32)elfsym__le32(b + 3);
	for (k = 0; k < s->nnames; k++) {
		if (target != s->names[k])
			continue;
		if (s->nsites == RUSTLS_SITES_MAX) {
			s->why = "too many aws-lc aead.c references";
			return -E2BIG;
		}
		s->sites[s->nsites++].addr = pc;
	}
	return 0;
}

/*
 * A call at @b (address @pc), direct (CALL rel32) or through a GOT slot
 * read by read_got() (CALL [RIP+disp32], as code built without a PLT
 * calls): its target is a candidate entry for the sites after it.
 */
static void at_call(struct scan *s, const unsigned char *b, __u64 pc)
{
	__u64 target = 0, slot;
	unsigned int k;

	if (b[0] == 0xe8) {
		target = pc + 5 + (__u64)(__s64)(__s32)elfsym__le32(b + 1);
	} else if (b[0] == 0xff && b[1] == 0x15 && s->nslots) {
		slot = pc + 6 + (__u64)(__s64)(__s32)elfsym__le32(b + 2);
		for (k = 0; k < s->nslots && s->slot[k] != slot; k++)
			;
		if (k == s->nslots)
			return;
		target = s->slot_value[k];
	} else {
		return;
	}
	for (k = 0; k < s->nsites; k++)
		if (target <= s->sites[k].addr &&
		    target + ENTRY_REACH > s->sites[k].addr &&
		    target > s->sites[k].entry)
			s->sites[k].entry = target;
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

/* Runs @pass over the whole of .text, window by window. */
static int scan_text(struct scan *s, enum pass pass)
{
	size_t n, scan, i;
	unsigned char *buf;
	__u64 pos, pc;
	int err = 0;

	buf = malloc(RUSTLS_WINDOW + OVERLAP);
	if (!buf)
		return -ENOMEM;
	for (pos = 0; pos < s->text.size && !err; pos += RUSTLS_WINDOW) {
		n = s->text.size - pos;
		if (n > RUSTLS_WINDOW + OVERLAP)
			n = RUSTLS_WINDOW + OVERLAP;
		err = pread_full(s->fd, buf, n, s->text.offset + pos);
		if (err)
			break;
		scan = n > RUSTLS_WINDOW ? RUSTLS_WINDOW : n;
		pc = s->text.addr + pos;
		for (i = 0; i < scan && i + 7 <= n && !err; i++) {
			/* The first bytes of what is looked for, inline. */
			if (pass == PASS_SITES && buf[i + 1] == 0x8d)
				err = at_site(s, buf + i, pc + i);
			else if (pass == PASS_CALLS &&
				 (buf[i] == 0xe8 || buf[i] == 0xff))
				at_call(s, buf + i, pc + i);
		}
	}
	free(buf);
	return err;
}

/* The register family (RDI, RDX, ...) of an x86 register, or 0. */
static unsigned int reg_family(unsigned int reg)
{
	switch (reg) {
	case X86_REG_EDI: case X86_REG_RDI: return X86_REG_RDI;
	case X86_REG_EDX: case X86_REG_RDX: return X86_REG_RDX;
	case X86_REG_ESI: case X86_REG_RSI: return X86_REG_RSI;
	case X86_REG_R8D: case X86_REG_R8: return X86_REG_R8;
	default: return 0;
	}
}

/*
 * Decodes the site at @code (address @pc, @len bytes): the LEA of the
 * file name into RCX, then, up to the call or jump, the constants put
 * in RDI (lib) and RDX (reason) by MOV, XOR or PUSH imm / POP.  Returns
 * the reason's bit, or 0 when the site is not ERR_put_error(CIPHER, 0,
 * reason, file, line).
 */
static unsigned int site_reason(struct scan *s, const unsigned char *code,
				size_t len, __u64 pc)
{
	__s64 lib = -1, reason = -1, pushed = -1;
	const cs_x86_op *op;
	unsigned int i, fam;
	uint64_t addr = pc;
	__s64 v;

	if (!cs_disasm_iter(s->cs, &code, &len, &addr, s->insn) ||
	    s->insn->id != X86_INS_LEA ||
	    s->insn->detail->x86.operands[0].reg != X86_REG_RCX)
		return 0;
	for (i = 0; i < SITE_INSNS &&
	     cs_disasm_iter(s->cs, &code, &len, &addr, s->insn); i++) {
		op = s->insn->detail->x86.operands;
		if (s->insn->id == X86_INS_CALL || s->insn->id == X86_INS_JMP)
			break;
		if (s->insn->id == X86_INS_PUSH && op[0].type == X86_OP_IMM) {
			pushed = op[0].imm;
			continue;
		}
		fam = op[0].type == X86_OP_REG ? reg_family(op[0].reg) : 0;
		if (s->insn->id == X86_INS_POP && pushed >= 0)
			v = pushed;
		else if (s->insn->id == X86_INS_MOV && op[1].type == X86_OP_IMM)
			v = op[1].imm;
		else if (s->insn->id == X86_INS_XOR && op[1].type == X86_OP_REG &&
			 op[1].reg == op[0].reg)
			v = 0;
		else
			continue;
		if (fam == X86_REG_RDI)
			lib = v;
		else if (fam == X86_REG_RDX)
			reason = v;
	}
	if (lib != LIB_CIPHER || reason < 0)
		return 0;
	if (reason < R_FIRST || reason >= R_FIRST + 31)
		return R_OTHER;
	return BIT(reason);
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
 * The function .eh_frame gives for @pc: the FDE with the greatest
 * initial location at or below @pc in .eh_frame_hdr's table, whose
 * range must cover @pc.  The FDE is read as the CIE augmentation "zR"
 * with DW_EH_PE_pcrel|sdata4 makes it (what compilers emit on x86-64):
 * the PC it decodes to that way must be the table's, or the FDE is not
 * used.  Returns the function's start, or 0.
 */
static __u64 fde_start(const struct scan *s, __u64 pc)
{
	const unsigned char *t = s->hdr_data + 12, *fde;
	__u32 lo = 0, hi = s->nfde, mid, best = UINT32_MAX;
	__u64 loc, faddr, foff;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		loc = s->hdr.addr + (__u64)(__s64)(__s32)elfsym__le32(t + (size_t)mid * 8);
		if (loc <= pc) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (best == UINT32_MAX)
		return 0;
	loc = s->hdr.addr + (__u64)(__s64)(__s32)elfsym__le32(t + (size_t)best * 8);
	faddr = s->hdr.addr + (__u64)(__s64)(__s32)elfsym__le32(t + (size_t)best * 8 + 4);
	if (elfsym__addr_offset(s->es, faddr, &foff) ||
	    elfsym__read(s->es, s->fd, foff, 16, &fde) ||
	    faddr + 8 + (__u64)(__s64)(__s32)elfsym__le32(fde + 8) != loc ||
	    pc >= loc + elfsym__le32(fde + 12))
		return 0;
	return loc;
}

/*
 * Reads .eh_frame_hdr when it has the binary search table this code
 * reads (eh_frame_ptr sdata4/udata4, fde_count udata4, table
 * datarel|sdata4: what GNU ld, gold and lld write).
 */
static void read_hdr(struct scan *s)
{
	const unsigned char *h;

	if (elfsym__section(s->es, ".eh_frame_hdr", &s->hdr) ||
	    s->hdr.size < 12 ||
	    elfsym__read(s->es, s->fd, s->hdr.offset, s->hdr.size, &h))
		return;
	if (h[0] != 1 || (h[1] & 0x0f) == 0 || ((h[1] & 0x0f) != 0x0b &&
	    (h[1] & 0x0f) != 0x03) || h[2] != 0x03 || h[3] != 0x3b)
		return;
	s->nfde = elfsym__le32(h + 8);
	if ((__u64)s->nfde * 8 > s->hdr.size - 12) {
		s->nfde = 0;
		return;
	}
	s->hdr_data = h;
}

/*
 * Establishes the entry of the function around site @st and decodes
 * the site's reason.  With .eh_frame_hdr the entry is the start of the
 * FDE that covers the site, and the function counts as called when the
 * nearest direct-call target before the site (the call pass) is that
 * entry.  Without it the entry is that call target, preceded by the end
 * of another function.  Either way decoding from the entry must reach
 * the site on an instruction boundary.  Returns 0, or -EILSEQ with
 * s->why set (the site is then left out).
 */
static int check_site(struct scan *s, struct site *st)
{
	const unsigned char *code, *p;
	__u64 off, entry;
	uint64_t pc;
	size_t len;

	entry = s->hdr_data ? fde_start(s, st->addr) : st->entry;
	if (!entry || st->addr - entry >= ENTRY_REACH) {
		s->why = "no function found around an aead.c error site";
		return -EILSEQ;
	}
	st->called = st->entry == entry;
	st->entry = entry;
	if (elfsym__addr_offset(s->es, entry - 8, &off) ||
	    elfsym__read(s->es, s->fd, off, st->addr - entry + 8 + SITE_BYTES,
			 &code)) {
		s->why = "an aead.c function unreadable";
		return -EILSEQ;
	}
	if (!s->hdr_data && !ends_function(code)) {
		s->why = "an aead.c function's entry follows no function end";
		return -EILSEQ;
	}
	p = code + 8;
	len = st->addr - entry;
	pc = entry;
	while (len && cs_disasm_iter(s->cs, &p, &len, &pc, s->insn))
		;
	if (len || pc != st->addr) {
		s->why = "an aead.c error site is not on an instruction boundary";
		return -EILSEQ;
	}
	st->reason = site_reason(s, p, SITE_BYTES, st->addr);
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
	unsigned int i;
	int err;

	if (elfsym__section(s->es, ".rodata", &s->rodata) ||
	    elfsym__section(s->es, ".text", &s->text) || !s->rodata.size)
		return -ENOENT;
	err = elfsym__read(s->es, s->fd, s->rodata.offset, s->rodata.size,
			   &ro);
	if (err)
		return err == -EFBIG ? -ENOENT : err;
	if (!rustls_version(ro, s->rodata.size, r->rustls, sizeof(r->rustls)))
		return -ENOENT;
	aead_names(s, ro);
	if (!s->nnames) {
		s->why = "rustls without aws-lc (ring provider): not supported";
		return -EPROTONOSUPPORT;
	}
	err = scan_text(s, PASS_SITES);
	if (!err && !s->nsites) {
		s->why = "no reference to aws-lc's aead.c in the code";
		err = -ESRCH;
	}
	if (!err) {
		read_got(s);
		err = scan_text(s, PASS_CALLS);
	}
	if (err) {
		if (!s->why)
			s->why = "rustls file unreadable";
		return err;
	}
	read_hdr(s);
	r->eh_frame = s->hdr_data != NULL;
	for (i = 0; i < s->nsites; i++)
		if (check_site(s, &s->sites[i]))
			r->dropped++;
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
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &s->cs) != CS_ERR_OK) {
		free(s);
		*why = "the x86-64 decoder could not be set up";
		return -EIO;
	}
	cs_option(s->cs, CS_OPT_DETAIL, CS_OPT_ON);
	s->insn = cs_malloc(s->cs);
	err = s->insn ? identify(s, r) : -ENOMEM;
	if (err && err != -ENOENT)
		*why = s->why ? s->why : "rustls file unreadable";
	if (s->insn)
		cs_free(s->insn, 1);
	cs_close(&s->cs);
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
			 "seal %#llx, open %#llx (%s), %u init; rustls %s; %u aead.c error calls, each reached by decoding",
			 (unsigned long long)r->seal,
			 (unsigned long long)r->open,
			 r->eh_frame ? ".eh_frame" : "call targets",
			 r->ninit, r->rustls, r->nsites - r->dropped);
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
