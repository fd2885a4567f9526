/* SPDX-License-Identifier: MIT */
/*
 * bssl.h - SSL_write, SSL_read and SSL_new of a BoringSSL linked
 * statically into a stripped x86-64 executable (Bun, and programs
 * compiled with Bun such as Claude Code), found without symbols and
 * without per-build tables.
 *
 * What identifies them is what BoringSSL's own source makes them
 * reference.  Every OPENSSL_PUT_ERROR(SSL, reason) in ssl/ssl_lib.cc
 * passes __FILE__ ("..../ssl/ssl_lib.cc", kept in .rodata) and
 * __LINE__ to the error queue (include/openssl/err.h:
 * ERR_put_error(int library, int unused, int reason, const char *file,
 * unsigned line); ERR_LIB_SSL is 16).  Each instruction that loads that
 * file name (mov r32, imm32 in a non-PIE build, lea r64, [rip + disp32]
 * in a PIE one) is a site; Capstone decodes the instructions from there
 * to the call, and the argument registers of the System V ABI give
 * (library, reason, line).  The reason codes are part of BoringSSL's
 * API (include/openssl/ssl.h, err.h) and do not change between
 * releases; line numbers do and are used only for their order:
 *  - SSL_write: [ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED (66), the QUIC check]
 *    SSL_R_UNINITIALIZED (226), SSL_R_SSL_HANDSHAKE_FAILURE (215),
 *    SSL_R_BAD_LENGTH (111), in that order of lines and nothing else.
 *  - SSL_read (SSL_peek and ssl_read_impl inlined): 226 and 215 of
 *    ssl_read_impl, then SSL_peek's 66, and nothing else.
 *  - SSL_new: SSL_R_NULL_SSL_CTX (185), and nothing else; releases
 *    before SSL became a C++ class follow it with
 *    SSL_R_SSL_CTX_HAS_NO_DEFAULT_SSL_VERSION (214).
 *    Optional: the SSL* it returns starts a connection, which ends
 *    whatever an earlier connection at that address left; a build where
 *    it is not certain is probed without it (new_why says why).
 * A function is the set of sites that share one entry.  Entries come
 * from two independent sources:
 *  - .eh_frame (through the sorted table of .eh_frame_hdr): the FDE
 *    whose range holds the site;
 *  - the targets of direct calls (E8 rel32) in .text: the last one at or
 *    below the site, accepted only when a recursive-descent decode from
 *    it reaches every site of the function through its own jumps, never
 *    decodes a byte as two instructions, never falls through into
 *    another call target, and starts with a prologue.
 * The descent is made from the entry either way: it proves that the
 * sites are instruction boundaries of that function.  When both sources
 * give an entry they must agree.
 *
 * Anything ambiguous refuses the file: two functions with one
 * signature, a site of a matched function that does not decode,
 * callers of the error function that disagree on its address, an entry
 * that is not proven.  A wrong address would corrupt the traced program;
 * a refused file only goes uncaptured, and `status` says why.
 */
#ifndef OISP_BSSL_H
#define OISP_BSSL_H

#include <stddef.h>
#include <linux/types.h>

/* The end of the __FILE__ string of BoringSSL's ssl/ssl_lib.cc. */
#define BSSL_FILE_SUFFIX	"/ssl/ssl_lib.cc"
/* Loads of that string accepted per file (ssl_lib.cc has ~200 sites). */
#define BSSL_MAX_REFS		1024
/* Bytes decoded from an entry at most (SSL_read: ~2 KiB). */
#define BSSL_MAX_FUNC		(64u << 10)
/* Error call sites of a function at most before it stops being SSL_*. */
#define BSSL_MAX_FUNC_SITES	8

/* One function found. */
struct bssl_func {
	__u64 entry;		/* its entry (virtual address) */
	__u64 eh_entry;		/* the FDE's start, 0 when none covers it */
	__u64 call_entry;	/* the proven call target, 0 when none */
	unsigned int nsites;	/* error call sites in it */
	unsigned int ninsns;	/* instructions reached by the descent */
};

struct bssl_result {
	struct bssl_func write;		/* SSL_write(ssl, buf, int num) */
	struct bssl_func read;		/* SSL_read(ssl, buf, int num) */
	/* SSL_new(ctx) -> SSL *; entry 0 when not found (new_why) */
	struct bssl_func ssl_new;
	__u64 err_fn;		/* the error function every site calls */
	unsigned int nrefs;	/* loads of the file name found */
	unsigned int nsites;	/* of which decoded as error calls */
	unsigned int nfuncs;	/* functions they make up */
	/* Why the file was refused (a static string); NULL on success. */
	const char *why;
	/* Why SSL_new was not found (a static string); NULL when found. */
	const char *new_why;
};

/*
 * Finds SSL_write and SSL_read in @src (its .text, .rodata and, when
 * there, .eh_frame_hdr and .eh_frame; binsrc.h) and fills @r, with
 * SSL_new when it is certain (else r->new_why set).  Returns 0;
 * -ENOENT when .rodata has no BoringSSL ssl_lib.cc file name (a path
 * ending in /ssl/ssl_lib.cc; not BoringSSL: the only answer most files
 * get, after one pass over .rodata) or no code loads it; otherwise, with @r->why set, -ESRCH when no function or
 * more than one matches a signature, -EILSEQ when a site or an entry
 * does not decode with certainty, -ENOTUNIQ when the sites call
 * different error functions, -E2BIG past BSSL_MAX_REFS, -ENOMEM, -EIO
 * when the decoder cannot be set up, or the reader's -errno.
 */
struct binsrc;
int bssl__find(const struct binsrc *src, struct bssl_result *r);

/*
 * bssl__find() on the ELF file of @es, open at @fd (the caller keeps
 * both), read through binsrc__elf().  Returns as bssl__find();
 * -ENOENT also when the file has no section headers, .text or .rodata.
 */
struct elfsym;
int bssl__find_elf(struct elfsym *es, int fd, struct bssl_result *r);

#endif /* OISP_BSSL_H */
