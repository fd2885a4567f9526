// SPDX-License-Identifier: MIT
/*
 * ossl3.c - ssl_write_internal, ssl_read_internal and SSL_new of a
 * static, stripped OpenSSL 3, by the __func__ strings its ERR_raise()
 * passes to ERR_set_debug() (ossl3.h).  Read through binsrc.h, decoded with
 * x86code.h, bounded by ehframe.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "capture/binsrc.h"
#include "capture/ehframe.h"
#include "capture/finder.h"
#include "capture/ossl3.h"
#include "capture/x86code.h"

/* Copies of each string accepted (one in a linked file; tail merges). */
#define MAX_STRINGS	4
/* Instructions from a load to its call, and those looked at before. */
#define SITE_INSNS	12
#define BACK_INSNS	4
/* Flags of every ERR_set_debug decode (x86code.h). */
#define CALL_FLAGS	(X86_CALL_STRICT | X86_CALL_ADDRS | X86_CALL_MOVES)

enum { FN_WRITE, FN_READ, FN_NEW, FN_NR };

static const char *const fn_names[FN_NR] = {
	"ssl_write_internal",
	"ssl_read_internal",
	"SSL_new",
};

/*
 * OpenSSL 3's codes (include/openssl/err.h, sslerr.h): SSL_new's two
 * checks of its SSL_CTX raise these, and no other function does.
 */
#define ERR_LIB_SSL			20
#define R_NULL_SSL_CTX			195
#define R_CTX_HAS_NO_DEFAULT_VERSION	228

#define KIND_FILE	FN_NR	/* a load of the file name */

struct load {
	__u64 field;		/* the imm32/disp32 naming the string */
	unsigned int starts;	/* bit i: field - i may start the load */
	unsigned int kind;	/* enum FN_* (a function name) or KIND_FILE */
	__u64 value;		/* the string */
};

struct finder {
	const struct binsrc *src;
	struct ossl3_result *r;
	struct x86code *xc;
	struct ehframe *eh;
	__u64 vals[MAX_STRINGS * (FN_NR + 1)];
	unsigned int kinds[MAX_STRINGS * (FN_NR + 1)];
	unsigned int nvals, nfiles;
	bool v1;		/* "OpenSSL 1." in .rodata */
	bool new_over;		/* more than MAX_STRINGS copies of "SSL_new" */
	struct load *loads;
	unsigned int nloads;
};

static int refuse(struct finder *f, const char *why, int err)
{
	f->r->why = why;
	return err;
}

static int add_val(struct finder *f, __u64 a, unsigned int kind)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->nvals; i++) {
		if (f->kinds[i] != kind)
			continue;
		if (f->vals[i] == a)
			return 0;
		n++;
	}
	if (n == MAX_STRINGS && kind == FN_NEW) {
		/* SSL_new is optional: too many copies only lose it. */
		f->new_over = true;
		return 0;
	}
	if (n == MAX_STRINGS)
		return -E2BIG;
	f->vals[f->nvals] = a;
	f->kinds[f->nvals++] = kind;
	if (kind == KIND_FILE)
		f->nfiles++;
	return 0;
}

/*
 * The file name ending at @a + sizeof(OSSL3_FILE_SUFFIX) - 1: a whole
 * string "ssl/ssl_lib.c" or one whose directory ends before "ssl/".
 */
static int add_file(struct finder *f, __u64 a)
{
	unsigned char c = 0;
	__u64 start;
	int err;

	err = binsrc__str_start(f->src, a, &start);
	if (err == -ENOENT)
		return 0;	/* longer than a path: not a __FILE__ */
	if (!err && start != a)
		err = f->src->read(f->src->ctx, a - 1, &c, 1);
	if (err)
		return err;
	if (c && c != '/')
		return 0;	/* "xssl/ssl_lib.c": another file */
	return add_val(f, start, KIND_FILE);
}

/* "OpenSSL 3.x.y " at @p (@n bytes on): the version into r->version. */
static void version(struct finder *f, const unsigned char *p, size_t n)
{
	size_t i, k = sizeof("OpenSSL ") - 1;

	for (i = k; i < n && i - k < sizeof(f->r->version) - 1 &&
	     ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'); i++)
		;
	if (i < n && p[i] == ' ' && !f->r->version[0]) {
		memcpy(f->r->version, p + k, i - k);
		f->r->version[i - k] = '\0';
	}
}

static int scan_rodata(void *arg, __u64 a, const unsigned char *p, size_t n,
		       size_t valid)
{
	static const char file[] = OSSL3_FILE_SUFFIX;	/* with its NUL */
	const unsigned char *q, *end = p + n;
	struct finder *f = arg;
	unsigned int k;
	size_t len;
	int err;

	for (q = p; (q = memmem(q, end - q, file, sizeof(file))) &&
	     (size_t)(q - p) < valid; q++) {
		err = add_file(f, a + (q - p));
		if (err)
			return err;
	}
	for (k = 0; k < FN_NR; k++) {
		len = strlen(fn_names[k]) + 1;
		for (q = p; (q = memmem(q, end - q, fn_names[k], len)) &&
		     (size_t)(q - p) < valid; q++) {
			err = add_val(f, a + (q - p), k);
			if (err)
				return err;
		}
	}
	for (q = p; (q = memmem(q, end - q, "OpenSSL ", 8)) &&
	     (size_t)(q - p) < valid; q++) {
		if (end - q < 12)
			break;
		if (!memcmp(q + 8, "3.", 2))
			version(f, q, end - q);
		else if (!memcmp(q + 8, "1.", 2))
			f->v1 = true;
	}
	return 0;
}

/* A field naming string @k: kept when a load into its register ends there. */
static int add_ref(void *arg, __u64 field, unsigned int k)
{
	struct finder *f = arg;
	struct load l = { .field = field, .kind = f->kinds[k],
			  .value = f->vals[k] };
	struct x86_load ld;
	unsigned int i;
	int err;

	for (i = 1; i <= 4; i++) {
		err = x86code__load(f->xc, field - i, &ld);
		if (err == -ENOENT || err == -EILSEQ)
			continue;
		if (err)
			return err;
		if (ld.addr + ld.size == field + 4 && ld.value == l.value &&
		    ld.arg == (l.kind == KIND_FILE ? 0 : 2))
			l.starts |= 1u << i;
	}
	if (!l.starts)
		return 0;
	if (f->nloads == OSSL3_MAX_REFS)
		return -E2BIG;
	f->loads[f->nloads++] = l;
	if (l.kind == KIND_FILE)
		f->r->nrefs++;
	return 0;
}

static int scan_text(void *arg, __u64 a, const unsigned char *p, size_t n,
		     size_t valid)
{
	struct finder *f = arg;

	return x86code__scan_refs(a, p, n, valid, f->vals, f->nvals, true,
				  add_ref, f);
}

/*
 * The call that the load at @start (of @l, in walk @w) feeds, with the
 * argument constants it gets: decoded from the load, then from up to
 * BACK_INSNS instructions before it, as long as no jump lands in
 * between and the decode still ends at the same call (ERR_raise sets
 * the three arguments in any order).  Returns 0 or -ENOENT (not a
 * plain call), -EILSEQ, or the reader's -errno.
 */
static int call_of(struct finder *f, const struct load *l, __u64 start,
		   const struct x86_walk *w, struct x86_call *out)
{
	struct x86_call c = { 0 }, b;
	struct x86_load ld;
	unsigned int i;
	__u64 p;
	int err;

	err = x86code__load(f->xc, start, &ld);
	if (err)
		return err;
	c.known = 1u << ld.arg;
	c.arg[ld.arg] = l->value;
	err = x86code__call(f->xc, start + ld.size, CALL_FLAGS, SITE_INSNS,
			    &c);
	if (err)
		return err;
	*out = c;
	for (i = 0; i < BACK_INSNS && !x86_walk__target(w, start); i++) {
		p = x86_walk__prev(w, start);
		memset(&b, 0, sizeof(b));
		if (!p || x86code__call(f->xc, p, CALL_FLAGS,
					SITE_INSNS + i + 1, &b) ||
		    b.at != c.at)
			break;
		*out = b;
		start = p;
	}
	return 0;
}

/* True when @v is the address of a copy of string @kind. */
static bool is_kind(const struct finder *f, __u64 v, unsigned int kind)
{
	unsigned int i;

	for (i = 0; i < f->nvals; i++)
		if (f->vals[i] == v && f->kinds[i] == kind)
			return true;
	return false;
}

/*
 * The reason the ERR_set_error(lib, reason, fmt) call after the
 * ERR_set_debug call @c passes (ERR_raise(), include/openssl/err.h): 0
 * when that call's library is not ERR_LIB_SSL or its arguments do not
 * decode as constants.
 */
static unsigned int reason_after(struct finder *f, const struct x86_call *c)
{
	struct x86_call e = { 0 };

	/* A direct CALL rel32 is 5 bytes. */
	if (x86code__call(f->xc, c->at + 5, CALL_FLAGS | X86_CALL_VARARGS,
			  SITE_INSNS, &e) ||
	    (~e.known & 3u) || e.arg[0] != ERR_LIB_SSL || e.arg[1] > 0xfff)
		return 0;
	return e.arg[1];
}

/*
 * Checks one ERR_set_debug site (load @l, at @start in walk @w) of
 * function @k: the file name in RDI and @k's own name in RDX at a direct
 * call of the one error function.  With @reason, stores the reason the
 * site raises there (reason_after()).  Returns 0, or an error with why
 * set.
 */
static int check_site(struct finder *f, const struct load *l, __u64 start,
		      const struct x86_walk *w, unsigned int k,
		      unsigned int *reason)
{
	struct x86_call c;
	int err;

	err = call_of(f, l, start, w, &c);
	if (err == -ENOENT || err == -EILSEQ)
		return refuse(f, "a load of ssl_lib.c or of the function's name is not a plain ERR_set_debug call",
			      -EILSEQ);
	if (err)
		return err;
	if (!c.callee)
		return refuse(f, "an ERR_set_debug call is not direct", -EILSEQ);
	if (f->r->err_fn && c.callee != f->r->err_fn)
		return refuse(f, "the error sites call different functions",
			      -ENOTUNIQ);
	f->r->err_fn = c.callee;
	if (l->kind != KIND_FILE)
		return 0;	/* its name's call: checked from the file's load */
	if (!(c.known & 1u << 2) || !(c.known & 1u))
		return refuse(f, "an ERR_set_debug call's function name does not decode",
			      -EILSEQ);
	if (c.arg[0] != l->value)
		return refuse(f, "an ERR_set_debug call's file name is overwritten",
			      -EILSEQ);
	if (!is_kind(f, c.arg[2], k))
		return refuse(f, "the function also reports errors under another function's name (inlined code)",
			      -EILSEQ);
	if (reason)
		*reason = reason_after(f, &c);
	return 0;
}

/* What no load of function @k's name gives as why. */
static const char *const no_name[FN_NR] = {
	"no code passes the name ssl_write_internal",
	"no code passes the name ssl_read_internal",
	"no code passes the name SSL_new",
};

/*
 * Proves function @k: the FDE around its name's loads (one for all),
 * walked from its start; every load of the file name or of a function
 * name in it must be reached and be an ERR_set_debug call with @k's
 * name; SSL_new's sites must also raise both of its reasons.  Loads of
 * SSL_new's name are not looked at in the other two (it is optional).
 * Fills @fn.  Returns 0 or an error, why set.
 */
static int prove(struct finder *f, unsigned int k, struct ossl3_func *fn)
{
	__u64 b = 0, e = 0, lb, le, start;
	struct x86_walk w;
	const char *why = NULL;
	unsigned int i, reason = 0, reasons = 0;
	int err;

	for (i = 0; i < f->nloads; i++) {
		if (f->loads[i].kind != k)
			continue;
		err = ehframe__lookup(f->eh, f->loads[i].field, &lb, &le);
		if (err == -ENOENT)
			return refuse(f, "a function name's load lies in no .eh_frame function",
				      -EILSEQ);
		if (err)
			return err;
		if (b && lb != b)
			return refuse(f, "a function's name is loaded in two functions (inlined into its callers)",
				      -ESRCH);
		b = lb;
		e = le;
	}
	if (!b)
		return refuse(f, no_name[k], -ESRCH);
	if (e - b > OSSL3_MAX_FUNC)
		return refuse(f, "the .eh_frame range is too large", -EILSEQ);
	err = x86code__walk(f->xc, b, e, 0, 0, &w, &why);
	if (err == -EILSEQ)
		return refuse(f, why, err);
	if (err)
		return err;
	fn->entry = b;
	fn->end = e;
	fn->ninsns = w.ninsns;
	for (i = 0; !err && i < f->nloads; i++) {
		const struct load *l = &f->loads[i];

		if (l->field < b || l->field >= e ||
		    (l->kind == FN_NEW && k != FN_NEW))
			continue;
		if (l->kind != KIND_FILE && l->kind != k) {
			err = refuse(f, "one function passes both names (inlined code)",
				     -EILSEQ);
			break;
		}
		start = finder__load_start(&w, l->field, l->starts);
		if (!start) {
			err = refuse(f, "an error site is not reached from the entry",
				     -EILSEQ);
			break;
		}
		reason = 0;
		err = check_site(f, l, start, &w, k,
				 k == FN_NEW ? &reason : NULL);
		if (!err && l->kind == KIND_FILE)
			fn->nsites++;
		if (reason == R_NULL_SSL_CTX)
			reasons |= 1;
		else if (reason == R_CTX_HAS_NO_DEFAULT_VERSION)
			reasons |= 2;
	}
	x86_walk__release(&w);
	if (!err && !fn->nsites)
		err = refuse(f, "no ERR_set_debug call in the function", -ESRCH);
	if (!err && k == FN_NEW && reasons != 3)
		err = refuse(f, "the function named SSL_new does not raise both of SSL_new's reasons",
			     -ESRCH);
	return err;
}

/*
 * SSL_new, when its name identifies it with certainty (prove()): else
 * r->ssl_new stays 0 and r->new_why says why, and the rest of the file
 * is probed without it.  Returns 0 or a hard error (-ENOMEM, reader).
 */
static int find_new(struct finder *f)
{
	struct ossl3_result *r = f->r;
	int err;

	if (f->new_over) {
		r->new_why = "too many copies of the name SSL_new";
		return 0;
	}
	err = prove(f, FN_NEW, &r->ssl_new);
	return finder__optional(err, &r->why, &r->new_why, &r->ssl_new,
				sizeof(r->ssl_new));
}

static int find(struct finder *f)
{
	const struct binsrc *src = f->src;
	int err;

	err = binsrc__scan(src, &src->rodata, scan_rodata, f);
	if (err == -E2BIG)
		return refuse(f, "too many copies of ssl_lib.c or of a function name",
			      err);
	if (err || !f->nfiles)
		return err ? err : -ENOENT;
	err = x86code__new(src, &f->xc);
	if (err == -EIO)
		return refuse(f, "the x86-64 decoder could not be set up",
			      err);
	if (err)
		return err;
	f->loads = calloc(OSSL3_MAX_REFS, sizeof(*f->loads));
	if (!f->loads)
		return -ENOMEM;
	err = binsrc__scan(src, &src->text, scan_text, f);
	if (err == -E2BIG)
		return refuse(f, "too many loads of ssl_lib.c", err);
	if (err)
		return err;
	if (!f->r->nrefs)
		return -ENOENT;	/* no code passes the file name: not OpenSSL */
	if (!f->r->version[0])
		return refuse(f, f->v1 ?
			      "OpenSSL 1.x (errors by number, not by name): not supported" :
			      "no OpenSSL 3 version string",
			      -EPROTONOSUPPORT);
	err = ehframe__open(src, &f->eh);
	if (err == -ENOENT)
		return refuse(f, "no .eh_frame: function bounds unknown",
			      -ESRCH);
	if (err)
		return err;
	err = prove(f, FN_WRITE, &f->r->write);
	if (!err)
		err = prove(f, FN_READ, &f->r->read);
	if (!err)
		err = find_new(f);
	return err;
}

int ossl3__find(const struct binsrc *src, struct ossl3_result *r)
{
	struct finder f = { .src = src, .r = r };
	int err;

	memset(r, 0, sizeof(*r));
	if (!src->rodata.size || !src->text.size)
		return -ENOENT;
	err = find(&f);
	x86code__free(f.xc);
	ehframe__free(f.eh);
	free(f.loads);
	return finder__end(err, &r->why, "ssl_lib.c could not be read");
}

int ossl3__find_elf(struct elfsym *es, int fd, struct ossl3_result *r)
{
	struct binsrc_elf file;
	struct binsrc src;

	memset(r, 0, sizeof(*r));
	if (binsrc__elf(es, fd, &file, &src))
		return -ENOENT;
	return ossl3__find(&src, r);
}
