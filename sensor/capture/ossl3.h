/* SPDX-License-Identifier: MIT */
/*
 * ossl3.h - ssl_write_internal, ssl_read_internal and SSL_new of an OpenSSL 3
 * linked statically into a stripped x86-64 file that exports none of
 * its functions (Copilot CLI's runtime.node: native-tls over a vendored
 * OpenSSL 3.5), found without symbols and without per-build tables.
 *
 * Every SSL_write* and SSL_read* of OpenSSL 3 ends in these two static
 * functions (ssl/ssl_lib.c):
 *   int ssl_write_internal(SSL *s, const void *buf, size_t num,
 *			    uint64_t flags, size_t *written);
 *   int ssl_read_internal(SSL *s, void *buf, size_t num,
 *			   size_t *readbytes);
 * What identifies them is their own name.  OpenSSL 3's ERR_raise(lib,
 * reason) (include/openssl/err.h) expands to ERR_new();
 * ERR_set_debug(OPENSSL_FILE, OPENSSL_LINE, OPENSSL_FUNC);
 * ERR_set_error(lib, reason, NULL), and OPENSSL_FUNC is __func__: each
 * error site of ssl_write_internal loads the string "ssl_write_internal"
 * into RDX and the file name (".../ssl/ssl_lib.c") into RDI at the same
 * call (System V x86-64 ABI).  Each such load is decoded with Capstone
 * (x86code.h); the function around it is its .eh_frame FDE
 * (ehframe.h), and a recursive-descent decode from the FDE's start must
 * reach every site of the function on instruction boundaries.
 *
 * SSL_new(ctx) is found the same way, by its name "SSL_new", and only
 * taken when its sites also raise both of its reasons
 * (SSL_R_NULL_SSL_CTX, SSL_R_SSL_CTX_HAS_NO_DEFAULT_SSL_VERSION): the
 * SSL* it returns starts a connection, which ends whatever an earlier
 * connection at that address left.  It is optional: when it is not
 * certain, the file is probed without it and new_why says why.
 *
 * Anything in doubt refuses the file (a wrong address would corrupt the
 * traced program; a refused file only goes uncaptured, and `status`
 * says why): the sites of one name in two functions (inlined into its
 * callers), a function that also reports errors under another name
 * (another function inlined into it), an ERR_set_debug call whose name
 * does not decode, sites that call different functions, no FDE, or no
 * "OpenSSL 3.x.y" version string (OpenSSL 1.x reports errors by number
 * and is not read).
 */
#ifndef OISP_OSSL3_H
#define OISP_OSSL3_H

#include <linux/types.h>

struct binsrc;
struct elfsym;

/* The end of the __FILE__ string of OpenSSL's ssl/ssl_lib.c. */
#define OSSL3_FILE_SUFFIX	"ssl/ssl_lib.c"
/* Loads of the file name and the function names accepted per file. */
#define OSSL3_MAX_REFS		2048
/* Bytes of a function decoded at most (ssl_write_internal: ~700). */
#define OSSL3_MAX_FUNC		((__u64)64 << 10)

/* One function found. */
struct ossl3_func {
	__u64 entry;		/* its FDE's start (virtual address) */
	__u64 end;		/* its FDE's end */
	unsigned int nsites;	/* ERR_set_debug calls with its name */
	unsigned int ninsns;	/* instructions reached by the descent */
};

struct ossl3_result {
	char version[16];	/* "3.5.8", from "OpenSSL 3.5.8 ..." */
	struct ossl3_func write;	/* ssl_write_internal */
	struct ossl3_func read;		/* ssl_read_internal */
	/* SSL_new; entry 0 when not identified with certainty (new_why) */
	struct ossl3_func ssl_new;
	__u64 err_fn;		/* ERR_set_debug, which every site calls */
	unsigned int nrefs;	/* loads of the file name */
	/* Why the file was refused (a static string); NULL on success. */
	const char *why;
	/* Why SSL_new was not found (a static string); NULL when found. */
	const char *new_why;
};

/*
 * Finds ssl_write_internal and ssl_read_internal in @src (binsrc.h: its
 * .text, .rodata, .eh_frame_hdr and .eh_frame) and fills @r, with
 * SSL_new when it is certain (else r->new_why set).  Returns 0;
 * -ENOENT when .rodata holds no ssl/ssl_lib.c file name or no code
 * loads it into RDI (not OpenSSL: the answer most files get, after one
 * pass over .rodata); otherwise, with @r->why set: -EPROTONOSUPPORT
 * for an OpenSSL that is not 3.x; -ESRCH when a function is not found
 * once; -EILSEQ when a site, an entry or a call does not decode with
 * certainty, or when a function holds another function's names;
 * -ENOTUNIQ when the sites call different functions; -E2BIG past
 * OSSL3_MAX_REFS; -ENOMEM, -EIO (decoder) or the reader's -errno.
 */
int ossl3__find(const struct binsrc *src, struct ossl3_result *r);

/*
 * ossl3__find() on the ELF file of @es, open at @fd (the caller keeps
 * both), read through binsrc__elf().  Returns as ossl3__find(); -ENOENT
 * also when the file has no loaded .text or .rodata.
 */
int ossl3__find_elf(struct elfsym *es, int fd, struct ossl3_result *r);

#endif /* OISP_OSSL3_H */
