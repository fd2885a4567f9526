/* SPDX-License-Identifier: MIT */
/*
 * finder.h - what the finders of SSL_write, SSL_read and SSL_new in
 * stripped files (bssl.h, ossl3.h) share, and what the stacks that
 * probe their results (boringssl.c, openssl_static.c) share.
 *
 * Each finder fills a result of its own type; these helpers take the
 * fields they touch by pointer.  Its why strings (why: the file is
 * refused; new_why: SSL_new is not probed) are static strings, shown
 * by `status`.
 */
#ifndef OISP_FINDER_H
#define OISP_FINDER_H

#include <stddef.h>
#include <linux/types.h>

struct elfsym;
struct stack_match;
struct tls_probe;
struct x86_walk;

/*
 * The end of a finder's search for an optional function (SSL_new) that
 * returned @err: 0 when it was found (@err 0) or when it was refused
 * (@err set with *@why): then *@why moves to *@opt_why, *@why becomes
 * NULL and the @size bytes of the function's result at @fn are zeroed,
 * so that the file is probed without it.  Returns @err when it is a
 * hard error (-ENOMEM, the reader's -errno: *@why NULL), which refuses
 * the file.
 */
int finder__optional(int err, const char **why, const char **opt_why,
		     void *fn, size_t size);

/*
 * The end of a finder: returns @err, and makes *@why agree with it:
 * NULL for -ENOENT (not the library, nothing to say), "out of memory"
 * for -ENOMEM and @unread (a static string naming the file the finder
 * reads: "ssl_lib.c could not be read") for another error that did not
 * set it.
 */
int finder__end(int err, const char **why, const char *unread);

/*
 * Where a load whose instruction may start 1 to 4 bytes before the
 * 4-byte field at @field (bit i of @starts set: at @field - i) starts
 * in walk @w: the first such start at which @w decoded an instruction
 * that ends with the field (x86_walk__spans()).  Returns that address,
 * or 0 when the walk reached none of them.
 */
__u64 finder__load_start(const struct x86_walk *w, __u64 field,
			 unsigned int starts);

/*
 * What a stack tells `status` of its optional SSL_new, into @buf (@size
 * bytes, NUL-terminated, cut short when longer): "SSL_new ENTRY (@how)"
 * when @entry (its virtual address) is not 0, else "no SSL_new
 * (@new_why)".
 */
void finder__new_text(char *buf, size_t size, __u64 entry, const char *how,
		      const char *new_why);

/*
 * The end of the resolve hook (stack.h) of a stack whose finder returned
 * @err (not -ENOENT) with @why: on 0, of the stack's three probes @p,
 * probes @p[0] at @write, @p[1] at @read and, when @ssl_new is not 0,
 * @p[2] at @ssl_new (virtual addresses of the file of @es).  Returns as
 * stack_match__found(): @err with @m->why set to @why, or
 * stack_match__add()'s result.
 */
int finder__probe(struct stack_match *m, struct elfsym *es, int err,
		  const char *why, __u64 write, __u64 read, __u64 ssl_new,
		  const struct tls_probe *p);

#endif /* OISP_FINDER_H */
