// SPDX-License-Identifier: MIT
/*
 * bssl.c - SSL_write, SSL_read and SSL_new of a static, stripped
 * BoringSSL, by the error call sites of ssl/ssl_lib.cc (bssl.h).  x86-64 only: the code is
 * read through x86code.h (Capstone), function bounds through ehframe.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/binsrc.h"
#include "capture/bssl.h"
#include "capture/ehframe.h"
#include "capture/elfsym.h"
#include "capture/finder.h"
#include "capture/x86code.h"

/* File name strings accepted (one in a linked file; tail merges). */
#define MAX_STRINGS	4
/* Instructions from the file name load to the call (jumps included). */
#define SITE_INSNS	12
/* Candidate function starts kept near the sites (~3,000 in Bun). */
#define MAX_TARGETS	(1u << 16)
/* Line span of one function's sites (SSL_read: ~100 lines). */
#define MAX_LINE_SPAN	256

/* BoringSSL's codes (include/openssl/err.h, ssl.h): stable API. */
#define ERR_LIB_SSL			16
#define R_SHOULD_NOT_HAVE_BEEN_CALLED	66
#define R_UNINITIALIZED			226
#define R_HANDSHAKE_FAILURE		215
#define R_BAD_LENGTH			111
#define R_NULL_SSL_CTX			185
#define R_NO_DEFAULT_SSL_VERSION	214

struct site {
	__u64 field;	/* address of the imm32/disp32 naming the file */
	__u64 start;	/* its instruction (shortest form); 0: not decoded */
	/*
	 * Bit i: field - i may start that instruction (one byte before
	 * may be a prefix or the end of another); the descent settles it.
	 */
	unsigned int starts;
	__u64 callee;	/* the error function called */
	__u64 group;	/* entry it is grouped under; 0: none */
	unsigned int reason, line;
};

struct finder {
	const struct binsrc *src;
	struct bssl_result *r;
	struct x86code *xc;
	struct ehframe *eh;	/* NULL: no usable .eh_frame_hdr */
	__u64 strs[MAX_STRINGS];
	unsigned int nstrs;
	struct site *sites;
	unsigned int nsites;
	__u64 *targets;		/* sorted call targets near the sites */
	unsigned char *tkind;	/* while scanning: enum cand */
	unsigned int ntargets;
	__u64 *near;		/* sorted starts of the decoded sites */
	unsigned int nnear;
};


/* Adds the string ending in the file name suffix found at @a. */
static int add_string(struct finder *f, __u64 a)
{
	unsigned int i;
	__u64 start;
	int err;

	err = binsrc__str_start(f->src, a, &start);
	if (err == -ENOENT)
		return 0;	/* longer than a path: not a __FILE__ */
	if (err)
		return err;
	/*
	 * A __FILE__ has a directory before ssl/ (the build's path to
	 * BoringSSL); "/ssl/ssl_lib.cc" alone is a program searching for it.
	 */
	if (start == a)
		return 0;
	for (i = 0; i < f->nstrs; i++)
		if (f->strs[i] == start)
			return 0;
	if (f->nstrs == MAX_STRINGS)
		return -E2BIG;
	f->strs[f->nstrs++] = start;
	return 0;
}

static int scan_strings(void *arg, __u64 a, const unsigned char *p,
			size_t n, size_t valid)
{
	static const char pat[] = BSSL_FILE_SUFFIX;	/* with its NUL */
	const unsigned char *q = p, *end = p + n;
	struct finder *f = arg;
	int err;

	while ((q = memmem(q, end - q, pat, sizeof(pat)))) {
		if ((size_t)(q - p) >= valid)
			break;
		err = add_string(f, a + (q - p));
		if (err)
			return err;
		q++;
	}
	return 0;
}

static int add_ref(void *arg, __u64 field, unsigned int k)
{
	struct finder *f = arg;

	(void)k;
	if (f->nsites == BSSL_MAX_REFS)
		return -E2BIG;
	f->sites[f->nsites++] = (struct site){ .field = field };
	return 0;
}

/*
 * Loads of one of the strings: an imm32 equal to its address, or a
 * disp32 that a RIP-relative operand ending there resolves to it.
 */
static int scan_refs(void *arg, __u64 a, const unsigned char *p, size_t n,
		     size_t valid)
{
	struct finder *f = arg;

	return x86code__scan_refs(a, p, n, valid, f->strs, f->nstrs, true,
				  add_ref, f);
}

static bool is_str(const struct finder *f, __u64 v)
{
	unsigned int k;

	for (k = 0; k < f->nstrs; k++)
		if (f->strs[k] == v)
			return true;
	return false;
}

/*
 * Decodes site @s: the one instruction that ends with its field and
 * loads the file name into an argument register, then the instructions
 * up to the call (x86code__call(), strict), which may only set argument
 * registers to constants.  Leaves s->start 0 when the site is not such
 * an error call.
 */
static int decode_site(struct finder *f, struct site *s)
{
	unsigned int i, nstarts = 0;
	struct x86_call c = { 0 };
	struct x86_load ld, first = { 0 };
	int freg = -1, err;

	for (i = 1; i <= 4; i++) {
		err = x86code__load(f->xc, s->field - i, &ld);
		if (err == -EILSEQ || err == -ENOENT)
			continue;
		if (err)
			return err;
		/*
		 * The file is the 3rd or 4th argument; a start that reads
		 * the byte before as a REX prefix loads another register
		 * (the descent from the entry settles boundaries later).
		 */
		if (ld.addr + ld.size != s->field + 4 || !is_str(f, ld.value) ||
		    ld.arg < 2 || ld.arg > 3)
			continue;
		/* A prefix-only difference (CS, REX without R/B) is fine. */
		if (nstarts++ && ld.arg != freg)
			return 0;
		if (nstarts == 1)
			first = ld;
		freg = ld.arg;
		s->starts |= 1u << i;
	}
	if (!nstarts)
		return 0;
	c.known = 1u << freg;
	c.arg[freg] = first.value;
	err = x86code__call(f->xc, first.addr + first.size, X86_CALL_STRICT,
			    SITE_INSNS, &c);
	if (err == -ENOENT || err == -EILSEQ)
		return 0;
	if (err)
		return err;
	if (!c.callee || (~c.known & (1u << 0 | 1u << (freg - 1) |
				      1u << (freg + 1))))
		return 0;
	if (c.arg[0] != ERR_LIB_SSL || c.arg[freg - 1] > 0xfff ||
	    c.arg[freg + 1] > 0xffffff)
		return 0;
	s->callee = c.callee;
	s->reason = c.arg[freg - 1];
	s->line = c.arg[freg + 1];
	s->start = first.addr;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The index of the first of the @n sorted values @v above @a. */
static unsigned int first_above(const __u64 *v, unsigned int n, __u64 a)
{
	unsigned int lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * True when @t lies within BSSL_MAX_FUNC bytes of a decoded site
 * (f->near: their sorted instruction addresses).
 */
static bool near_site(const struct finder *f, __u64 t)
{
	/* near[i] is the first site at or above t */
	unsigned int i = t ? first_above(f->near, f->nnear, t - 1) : 0;

	if (i < f->nnear && f->near[i] - t < BSSL_MAX_FUNC)
		return true;
	return i && t - f->near[i - 1] < BSSL_MAX_FUNC;
}

/* How a candidate entry was found. */
enum cand {
	CAND_CALL,	/* the target of a direct call */
	CAND_JUMP,	/* of a direct jump, kept when int3 padding precedes */
	CAND_PAD,	/* after int3 padding, kept when a prologue starts it */
};

static bool near_window(const struct finder *f, __u64 t)
{
	const struct binsrc_region *tx = &f->src->text;

	/* After the first byte of .text: the byte before is read. */
	return !(t & 15) && t > tx->addr && t - tx->addr < tx->size &&
	       t + BSSL_MAX_FUNC >= f->near[0] &&
	       t <= f->near[f->nnear - 1] + BSSL_MAX_FUNC && near_site(f, t);
}

static int add_target(struct finder *f, __u64 t, enum cand kind)
{
	if (f->ntargets == MAX_TARGETS)
		return -E2BIG;
	f->targets[f->ntargets] = t;
	f->tkind[f->ntargets++] = kind;
	return 0;
}

/*
 * Candidate entries near a site, 16-byte aligned (the function alignment
 * of GCC and Clang at -O2 on x86-64): targets of direct calls (E8
 * rel32) and tail jumps (E9 rel32), and the ends of int3 padding (lld
 * and GNU ld fill the gaps between x86 functions with int3; a function
 * called only through a pointer is found there).  A jump inside a
 * function lands on code that follows code or NOP padding.
 */
static int scan_calls(void *arg, __u64 a, const unsigned char *p, size_t n,
		      size_t valid)
{
	struct finder *f = arg;
	enum x86_branch br;
	__u64 t;
	size_t i;
	int err;

	for (i = 0; i < valid && i + 5 <= n; i++) {
		if (i && p[i - 1] == 0xcc && p[i] != 0xcc &&
		    near_window(f, a + i)) {
			err = add_target(f, a + i, CAND_PAD);
			if (err)
				return err;
		}
		br = x86code__branch(p + i, 5, a + i, &t);
		if ((br != X86_BR_CALL && br != X86_BR_JMP) ||
		    !near_window(f, t))
			continue;
		err = add_target(f, t, br == X86_BR_CALL ? CAND_CALL : CAND_JUMP);
		if (err)
			return err;
	}
	return 0;
}


/*
 * Keeps the call targets, the jump targets that int3 padding precedes
 * and the padding ends that a prologue starts; sorts them and drops
 * duplicates.
 */
static int keep_targets(struct finder *f)
{
	unsigned char b;
	unsigned int i, j;
	int err;

	for (i = j = 0; i < f->ntargets; i++) {
		if (f->tkind[i] == CAND_JUMP) {
			err = f->src->read(f->src->ctx, f->targets[i] - 1, &b, 1);
			if (err == -ERANGE || (!err && b != 0xcc))
				continue;
			if (err)
				return err;
		} else if (f->tkind[i] == CAND_PAD &&
			   !x86code__prologue(f->xc, f->targets[i])) {
			continue;
		}
		f->targets[j++] = f->targets[i];
	}
	qsort(f->targets, j, sizeof(*f->targets), cmp_u64);
	f->ntargets = j;
	for (i = j = 0; i < f->ntargets; i++)
		if (!j || f->targets[j - 1] != f->targets[i])
			f->targets[j++] = f->targets[i];
	f->ntargets = j;
	return 0;
}


/* The last call target at or below @a (within BSSL_MAX_FUNC), or 0. */
static __u64 target_below(const struct finder *f, __u64 a)
{
	unsigned int i = first_above(f->targets, f->ntargets, a);

	if (!i || a - f->targets[i - 1] >= BSSL_MAX_FUNC)
		return 0;
	return f->targets[i - 1];
}

/* The first call target above @a, or @a + BSSL_MAX_FUNC. */
static __u64 target_above(const struct finder *f, __u64 a)
{
	unsigned int i = first_above(f->targets, f->ntargets, a);

	if (i == f->ntargets || f->targets[i] - a > BSSL_MAX_FUNC)
		return a + BSSL_MAX_FUNC;
	return f->targets[i];
}

/* --- the function's own control flow --- */

/*
 * Walks the function from @entry within [@entry, @end) (x86code__walk())
 * and checks that every site of @s[0..@n) starts an instruction reached;
 * stores the number of instructions in *@ninsns and the end of the last
 * byte reached in *@reach; with @callee, also that a direct call to
 * @callee is reached (else -ENOENT).  Returns 0, -EILSEQ, -ENOENT,
 * -ENOMEM or the reader's -errno, *@why set on -EILSEQ and -ENOENT.
 */
static int descend(struct finder *f, __u64 entry, __u64 end,
		   const struct site *const *s, unsigned int n, __u64 callee,
		   unsigned int *ninsns, __u64 *reach, const char **why)
{
	struct x86_walk w;
	unsigned int i;
	int err;

	*ninsns = 0;
	*reach = entry;
	err = x86code__walk(f->xc, entry, end, callee, 0, &w, why);
	if (err)
		return err;
	*ninsns = w.ninsns;
	*reach = w.reach;
	for (i = 0; i < n; i++) {
		if (!finder__load_start(&w, s[i]->field, s[i]->starts)) {
			*why = "an error call site is not reached from the entry";
			err = -EILSEQ;
			goto out;
		}
	}
	if (callee && !w.called) {
		*why = "SSL_read's check does not call ssl_read_impl";
		err = -ENOENT;
	}
out:
	x86_walk__release(&w);
	return err;
}

/* --- signatures --- */

enum sig {
	SIG_NONE,
	SIG_WRITE,	/* SSL_write */
	SIG_READ,	/* SSL_read with SSL_peek and ssl_read_impl inlined */
	SIG_IMPL,	/* ssl_read_impl alone */
	SIG_PEEK,	/* SSL_peek's check alone: SSL_read or SSL_peek */
	SIG_NEW,	/* SSL_new */
	SIG_NR,
};

/* The sites of one function. */
struct group {
	const struct site **s;
	unsigned int n;
};

/* Functions kept per signature; more is refused all the same. */
#define MAX_CANDS	8

static int cmp_line(const void *a, const void *b)
{
	const struct site *x = *(const struct site *const *)a;
	const struct site *y = *(const struct site *const *)b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/* True when the reasons of @s[0..@n) are @want[0..@n), in order. */
static bool reasons(const struct site **s, unsigned int n,
		    const unsigned int *want, unsigned int nwant)
{
	unsigned int i;

	if (n != nwant)
		return false;
	for (i = 0; i < n && s[i]->reason == want[i]; i++)
		;
	return i == n;
}

/*
 * True when @s[0..@n) ends with the reasons @want[0..@nwant) and the
 * sites before them have none of the reasons that identify functions:
 * those of static helpers defined earlier in the file and inlined
 * (ssl_read_impl inlines ssl_do_post_handshake in some builds).
 */
static bool ends_with(const struct site **s, unsigned int n,
		      const unsigned int *want, unsigned int nwant)
{
	unsigned int i;

	if (n < nwant || !reasons(s + n - nwant, nwant, want, nwant))
		return false;
	for (i = 0; i < n - nwant; i++)
		if (s[i]->reason == R_UNINITIALIZED ||
		    s[i]->reason == R_HANDSHAKE_FAILURE ||
		    s[i]->reason == R_BAD_LENGTH ||
		    s[i]->reason == R_SHOULD_NOT_HAVE_BEEN_CALLED)
			return false;
	return true;
}

/*
 * Which function the sites @s[0..@n) of one function make, by their
 * reasons in the order of their lines (sorts @s by line).
 */
static enum sig signature(const struct site **s, unsigned int n)
{
	static const unsigned int wr[] = {
		R_UNINITIALIZED, R_HANDSHAKE_FAILURE, R_BAD_LENGTH };
	static const unsigned int rd[] = {
		R_UNINITIALIZED, R_HANDSHAKE_FAILURE,
		R_SHOULD_NOT_HAVE_BEEN_CALLED };
	static const unsigned int peek[] = { R_SHOULD_NOT_HAVE_BEEN_CALLED };
	static const unsigned int nw[] = {
		R_NULL_SSL_CTX, R_NO_DEFAULT_SSL_VERSION };

	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	qsort(s, n, sizeof(*s), cmp_line);
	if (!n || s[n - 1]->line - s[0]->line > MAX_LINE_SPAN)
		return SIG_NONE;
	if (ends_with(s, n, rd, 3))
		return SIG_READ;
	if (ends_with(s, n, rd, 2))
		return SIG_IMPL;
	if (reasons(s, n, peek, 1))
		return SIG_PEEK;
	if (reasons(s, n, nw, 1) || reasons(s, n, nw, 2))
		return SIG_NEW;
	if (reasons(s, n, wr, 3) ||
	    (s[0]->reason == R_SHOULD_NOT_HAVE_BEEN_CALLED &&
	     reasons(s + 1, n - 1, wr, 3)))
		return SIG_WRITE;
	return SIG_NONE;
}

/* --- putting it together --- */

static int cmp_group(const void *a, const void *b)
{
	const struct site *x = *(const struct site *const *)a;
	const struct site *y = *(const struct site *const *)b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Fails with why @why and -EILSEQ. */
static int refuse(struct finder *f, const char *why, int err)
{
	f->r->why = why;
	return err;
}

/*
 * Proves the entry of the function whose sites are @s[0..@n) and fills
 * @fn: from its FDE and from the call target below it, each checked by
 * a descent that reaches every site (and calls @callee, when not 0).
 * Returns 0, -ENOENT when it does not call @callee, or an error, why
 * set.
 */
static int prove(struct finder *f, const struct site **s, unsigned int n,
		 __u64 callee, struct bssl_func *fn)
{
	__u64 lo = s[0]->start, eb, ee, t, end, reach = 0, creach = 0;
	const struct binsrc_region *tx = &f->src->text;
	const char *why = NULL;
	unsigned int i, cn = 0;
	int err = 0;

	for (i = 1; i < n; i++)
		if (s[i]->start < lo)
			lo = s[i]->start;
	fn->nsites = n;
	if (f->eh && !(err = ehframe__lookup(f->eh, lo, &eb, &ee))) {
		if (ee - eb > BSSL_MAX_FUNC)
			return refuse(f, "the .eh_frame range is too large",
				      -EILSEQ);
		err = descend(f, eb, ee, s, n, callee, &fn->ninsns, &reach,
			      &why);
		if (err)
			return refuse(f, why, err);
		fn->eh_entry = eb;
	} else if (f->eh && err != -ENOENT) {
		return err;
	}
	t = target_below(f, lo);
	if (t && x86code__prologue(f->xc, t)) {
		end = target_above(f, t);
		if (end > tx->addr + tx->size)
			end = tx->addr + tx->size;
		err = descend(f, t, end, s, n, callee, &cn, &creach, &why);
		if (!err)
			fn->call_entry = t;
		else if (err != -EILSEQ)
			return refuse(f, why, err);
	} else if (t) {
		why = "the call target below the sites has no prologue";
	}
	if (!fn->eh_entry && !fn->call_entry)
		return refuse(f, why ? why : "no call target below the sites",
			      -EILSEQ);
	if (fn->eh_entry && fn->call_entry && fn->eh_entry != fn->call_entry)
		return refuse(f, "the .eh_frame and call target entries differ",
			      -EILSEQ);
	fn->entry = fn->eh_entry ? fn->eh_entry : fn->call_entry;
	if (!fn->eh_entry) {
		fn->ninsns = cn;
		reach = creach;
	}
	for (i = 0; i < f->nsites; i++)
		if (!f->sites[i].start && f->sites[i].field >= fn->entry &&
		    f->sites[i].field < reach)
			return refuse(f, "a load of ssl_lib.cc in the function is not a plain error call",
				      -EILSEQ);
	return 0;
}

/*
 * SSL_read: one function with the sites of ssl_read_impl and SSL_peek
 * (both inlined), or one with SSL_peek's check alone that calls the one
 * function with ssl_read_impl's sites, which come earlier in the file.
 * (A build that keeps SSL_peek out of line and calls it from SSL_read
 * gets SSL_peek probed: each SSL_read calls it once with the same
 * arguments and result.)  Exactly one must be found.
 */
static int find_read(struct finder *f, struct group fns[SIG_NR][MAX_CANDS],
		     const unsigned int *nfn, struct bssl_func *fn)
{
	const struct group *p, *im;
	unsigned int i, found = nfn[SIG_READ];
	struct bssl_func cand;
	int err;

	if (nfn[SIG_READ] > MAX_CANDS || nfn[SIG_PEEK] > MAX_CANDS ||
	    nfn[SIG_IMPL] > MAX_CANDS)
		return refuse(f, "too many SSL_read candidates", -ESRCH);
	if (found == 1) {
		err = prove(f, fns[SIG_READ][0].s, fns[SIG_READ][0].n, 0, fn);
		if (err)
			return err;
	}
	if (nfn[SIG_PEEK] && nfn[SIG_IMPL] > 1)
		return refuse(f, "two functions match ssl_read_impl", -ESRCH);
	im = &fns[SIG_IMPL][0];
	for (i = 0; nfn[SIG_IMPL] && i < nfn[SIG_PEEK]; i++) {
		p = &fns[SIG_PEEK][i];
		if (p->s[0]->line <= im->s[im->n - 1]->line ||
		    p->s[0]->line - im->s[0]->line > MAX_LINE_SPAN)
			continue;
		memset(&cand, 0, sizeof(cand));
		err = prove(f, p->s, p->n, im->s[0]->group, &cand);
		if (err == -ENOENT) {
			f->r->why = NULL;
			continue;
		}
		if (err)
			return err;
		cand.nsites += im->n;
		if (!found++)
			*fn = cand;
	}
	if (found != 1)
		return refuse(f, found ? "two functions match SSL_read" :
				     "no function matches SSL_read", -ESRCH);
	return 0;
}

/*
 * SSL_new: the one function whose sites are SSL_new's two checks of its
 * SSL_CTX, proven like the others.  It is optional: when it is not
 * certain, r->ssl_new stays 0 and r->new_why says why.  Returns 0 or a
 * hard error (-ENOMEM, the reader's).
 */
static int find_new(struct finder *f, struct group fns[SIG_NR][MAX_CANDS],
		    const unsigned int *nfn)
{
	struct bssl_result *r = f->r;
	int err;

	if (nfn[SIG_NEW] != 1) {
		r->new_why = nfn[SIG_NEW] ? "two functions match SSL_new" :
			     "no function matches SSL_new";
		return 0;
	}
	err = prove(f, fns[SIG_NEW][0].s, fns[SIG_NEW][0].n, 0, &r->ssl_new);
	if (!err && (r->ssl_new.entry == r->write.entry ||
		     r->ssl_new.entry == r->read.entry))
		err = refuse(f, "SSL_new shares an entry with SSL_write or SSL_read",
			     -EILSEQ);
	return finder__optional(err, &r->why, &r->new_why, &r->ssl_new,
				sizeof(r->ssl_new));
}

/* The group (entry) of decoded site @s: its FDE's, else a call target. */
static int group_of(struct finder *f, struct site *s)
{
	__u64 eb, ee;
	int err = -ENOENT;

	if (f->eh)
		err = ehframe__lookup(f->eh, s->start, &eb, &ee);
	if (!err) {
		s->group = eb;
		return 0;
	}
	if (err != -ENOENT)
		return err;
	s->group = target_below(f, s->start);
	return 0;
}

static void finder_free(struct finder *f)
{
	x86code__free(f->xc);
	ehframe__free(f->eh);
	free(f->sites);
	free(f->targets);
	free(f->near);
	free(f->tkind);
}

int bssl__find(const struct binsrc *src, struct bssl_result *r)
{
	unsigned int i, j, nd = 0, nfn[SIG_NR] = { 0 };
	struct group fns[SIG_NR][MAX_CANDS];
	const struct site **ds = NULL;
	struct finder f = { .src = src, .r = r };
	enum sig sig;
	int err;

	memset(r, 0, sizeof(*r));
	if (!src->rodata.size || !src->text.size)
		return -ENOENT;
	err = binsrc__scan(src, &src->rodata, scan_strings, &f);
	if (err == -E2BIG)
		return refuse(&f, "more than one ssl_lib.cc file name", err);
	if (err || !f.nstrs)
		return err ? err : -ENOENT;
	err = x86code__new(src, &f.xc);
	if (err == -EIO)
		return refuse(&f, "the x86-64 decoder could not be set up",
			      err);
	if (err)
		return err;
	f.sites = calloc(BSSL_MAX_REFS, sizeof(*f.sites));
	f.targets = malloc(MAX_TARGETS * sizeof(*f.targets));
	f.near = calloc(BSSL_MAX_REFS, sizeof(*f.near));
	f.tkind = malloc(MAX_TARGETS);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	ds = calloc(BSSL_MAX_REFS, sizeof(*ds));
	err = -ENOMEM;
	if (!f.sites || !f.targets || !f.near || !f.tkind ||
	    !ds)
		goto out;
	err = binsrc__scan(src, &src->text, scan_refs, &f);
	r->nrefs = f.nsites;
	if (err == -E2BIG)
		refuse(&f, "too many loads of the ssl_lib.cc file name", err);
	if (err)
		goto out;
	for (i = 0; i < f.nsites; i++) {
		err = decode_site(&f, &f.sites[i]);
		if (err)
			goto out;
		if (!f.sites[i].start)
			continue;
		if (nd && f.sites[i].callee != ds[0]->callee) {
			err = refuse(&f, "error call sites call different functions",
				     -ENOTUNIQ);
			goto out;
		}
		ds[nd++] = &f.sites[i];
	}
	r->nsites = nd;
	if (!f.nsites) {
		err = -ENOENT;	/* no code names the file: not BoringSSL */
		goto out;
	}
	if (!nd) {
		err = refuse(&f, "no error call passes ssl_lib.cc", -ESRCH);
		goto out;
	}
	r->err_fn = ds[0]->callee;
	for (i = 0; i < nd; i++)
		f.near[f.nnear++] = ds[i]->start;
	qsort(f.near, f.nnear, sizeof(*f.near), cmp_u64);
	err = binsrc__scan(src, &src->text, scan_calls, &f);
	if (err == -E2BIG)
		refuse(&f, "too many call targets near ssl_lib.cc", err);
	if (err)
		goto out;
	err = keep_targets(&f);
	if (!err) {
		err = ehframe__open(src, &f.eh);
		if (err == -ENOENT)
			err = 0;	/* entries from calls alone */
	}
	for (i = 0; !err && i < nd; i++)
		err = group_of(&f, (struct site *)ds[i]);
	if (err)
		goto out;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	qsort(ds, nd, sizeof(*ds), cmp_group);
	for (i = 0; i < nd; i = j) {
		for (j = i + 1; j < nd && ds[j]->group == ds[i]->group; j++)
			;
		if (!ds[i]->group)
			continue;
		r->nfuncs++;
		if (j - i > BSSL_MAX_FUNC_SITES)
			continue;
		sig = signature(ds + i, j - i);
		if (sig != SIG_NONE && nfn[sig] < MAX_CANDS) {
			fns[sig][nfn[sig]] = (struct group){ ds + i, j - i };
		}
		nfn[sig]++;
	}
	err = -ESRCH;
	if (nfn[SIG_WRITE] != 1) {
		refuse(&f, nfn[SIG_WRITE] ? "two functions match SSL_write" :
				"no function matches SSL_write", err);
		goto out;
	}
	err = prove(&f, fns[SIG_WRITE][0].s, fns[SIG_WRITE][0].n, 0,
		    &r->write);
	if (!err)
		err = find_read(&f, fns, nfn, &r->read);
	if (!err && r->write.entry == r->read.entry)
		err = refuse(&f, "SSL_write and SSL_read have one entry",
			     -EILSEQ);
	if (!err)
		err = find_new(&f, fns, nfn);
out:
	free(ds);
	finder_free(&f);
	return finder__end(err, &r->why, "ssl_lib.cc could not be read");
}

/* --- the file --- */

int bssl__find_elf(struct elfsym *es, int fd, struct bssl_result *r)
{
	struct binsrc_elf file;
	struct binsrc src;

	memset(r, 0, sizeof(*r));
	if (binsrc__elf(es, fd, &file, &src))
		return -ENOENT;
	return bssl__find(&src, r);
}
