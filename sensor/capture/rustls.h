/* SPDX-License-Identifier: MIT */
/*
 * rustls.h - the plaintext functions of rustls over aws-lc-rs in a
 * stripped executable or shared object (Codex CLI, Deno, Copilot CLI's
 * runtime.node), found without symbols and without per-build tables.
 *
 * rustls encrypts and decrypts every TLS record through its crypto
 * provider.  With aws-lc-rs (rustls 0.23's default provider) that is
 * aws-lc's C functions EVP_AEAD_CTX_seal() and EVP_AEAD_CTX_open(),
 * called from Rust across the C ABI, so they keep the System V calling
 * convention whatever the Rust compiler does to the Rust around them:
 *   int EVP_AEAD_CTX_seal(const EVP_AEAD_CTX *ctx, uint8_t *out,
 *	size_t *out_len, size_t max_out_len, const uint8_t *nonce,
 *	size_t nonce_len, const uint8_t *in, size_t in_len,
 *	const uint8_t *ad, size_t ad_len);
 * and the same for _open (aws-lc include/openssl/aead.h).  The
 * additional data of a TLS 1.3 record is its 5-byte header (RFC 8446
 * section 5.2: 0x17 0x03 0x03 and the length of the ciphertext with its
 * tag), which makes each call check itself: a call whose ad is not a
 * record header for in_len is not a TLS record and is not taken.
 *
 * The functions are identified by what they reference.  aws-lc's C
 * keeps BoringSSL's error reporting: OPENSSL_PUT_ERROR(CIPHER, reason)
 * passes ERR_LIB_CIPHER (30), the reason and __FILE__
 * (".../crypto/fipsmodule/cipher/aead.c") to ERR_put_error(lib, 0,
 * reason, file, line).  Each site that loads that file name into the
 * fourth argument register (RCX) is decoded with Capstone for the lib
 * and reason constants.  The function around each site is the .eh_frame
 * FDE that covers it, or, in a file without .eh_frame, the nearest call
 * target (CALL rel32, or CALL through a GOT slot) at or before it, after
 * bytes that end another function; either way decoding from its entry
 * must reach the site on an instruction boundary, and seal and open must
 * be call targets.  A function is then
 * named by the set of reasons it reports, which aws-lc keeps stable
 * (they are its public error codes), never by line numbers or offsets:
 *   EVP_AEAD_CTX_seal: exactly TOO_LARGE, BUFFER_TOO_SMALL,
 *	OUTPUT_ALIASES_INPUT;
 *   EVP_AEAD_CTX_open: OUTPUT_ALIASES_INPUT, BAD_DECRYPT,
 *	BUFFER_TOO_SMALL (and CTRL_NOT_IMPLEMENTED where open_gather is
 *	inlined), nothing else;
 *   EVP_AEAD_CTX_init(_with_direction): UNSUPPORTED_KEY_SIZE (and
 *	NO_DIRECTION_SET where the two are one function): where each
 *	EVP_AEAD_CTX gets its key, the point that ties a key to its
 *	connection (docs/design-rustls.md).
 * Exactly one seal and one open must be found, or the file is not
 * probed.  A file is rustls's when its read-only data names a
 * rustls-0.N.M/src/conn.rs source path (panic::Location records keep
 * them in stripped builds).
 *
 * The file is read with pread(2): .rodata through elfsym (elfsym.h);
 * .text, which can be larger than ELFSYM_MAX_READ (Codex: 263 MB), and
 * the unwind tables through binsrc.h, in windows of BINSRC_CHUNK bytes.
 * The code is decoded with x86code.h, function bounds read with
 * ehframe.h.
 */
#ifndef OISP_RUSTLS_H
#define OISP_RUSTLS_H

#include <stdbool.h>
#include <linux/types.h>

struct elfsym;
struct stack_match;

/* aead.c error sites accepted per file (aws-lc 1.x: 13 to 15). */
#define RUSTLS_SITES_MAX	48
/* EVP_AEAD_CTX_init functions kept (init, init_with_direction). */
#define RUSTLS_INITS_MAX	2

/* What was found in one file. */
struct rustls_aead {
	char rustls[16];	/* rustls release named in .rodata: "0.23.46" */
	/* ring release named in .rodata, "" when absent: "0.17.14" */
	char ring[16];
	bool eh_frame;		/* entries cross-checked with .eh_frame_hdr */
	unsigned int nsites;	/* aead.c error sites decoded */
	unsigned int dropped;	/* sites whose function was not established */
	__u64 seal;		/* EVP_AEAD_CTX_seal, link-time address */
	__u64 open;		/* EVP_AEAD_CTX_open */
	__u64 init[RUSTLS_INITS_MAX];	/* EVP_AEAD_CTX_init* */
	unsigned int ninit;
};

/*
 * Identifies rustls's aws-lc AEAD functions in the ELF file open at @fd,
 * which @es was opened from (both stay the caller's), and fills @r.
 * Returns 0; -ENOENT when the file is not rustls's; otherwise an error
 * with *@why set (a static string, for `status`): -EPROTONOSUPPORT when
 * rustls is there without aws-lc (the ring provider); -ESRCH when the
 * error sites do not give exactly one seal and one open function that
 * are called (a site whose function cannot be established with
 * certainty, for want of an FDE or of a call, or with a neighbour that
 * does not end a function, is left out and counted in @r->dropped, so
 * its function cannot match); -E2BIG over RUSTLS_SITES_MAX sites;
 * -ENOMEM, -EIO (decoder), or -errno of reading the file.
 */
int rustls__identify(struct elfsym *es, int fd, struct rustls_aead *r,
		     const char **why);

/*
 * The resolve hook of the rustls stack (stack.h, rustls_stack): fills
 * @m with the file offsets of seal (entry), open (entry and return) and
 * the init functions (entry), with enum cap_rustls_fn as cookies.
 * Returns 0; -ENOENT when the file is not rustls's (or its .rodata or
 * .text is under 1 MiB, not read); else rustls__identify()'s error, or
 * -ESRCH when no EVP_AEAD_CTX_init was found (no connection identity),
 * with @m->why set.
 */
int rustls__resolve(struct elfsym *es, int fd, struct stack_match *m);

#endif /* OISP_RUSTLS_H */
