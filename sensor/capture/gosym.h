/* SPDX-License-Identifier: MIT */
/*
 * gosym.h - functions of a Go executable from its .gopclntab, without
 * .symtab (which `go build -ldflags='-s -w'` removes; .gopclntab stays,
 * since the runtime needs it for stack traces and the garbage collector).
 *
 * Formats read (Go's src/runtime/symtab.go, struct pcHeader, functab and
 * _func, and src/debug/gosym/pclntab.go):
 *  - magic 0xfffffffa (Go 1.16, 1.17): pcHeader without textStart;
 *    functab entries {entry uintptr, funcoff uintptr}.
 *  - 0xfffffff0 (Go 1.18, 1.19) and 0xfffffff1 (Go >= 1.20): pcHeader
 *    with textStart; functab entries {entryoff uint32, funcoff uint32},
 *    entry = text start + entryoff.  From Go 1.26 textStart is 0 and the
 *    text start is runtime.moduledata.text: the moduledata is found in
 *    .go.module, .noptrdata or .data as the words whose pcHeader,
 *    funcnametab and ftab pointers point into this .gopclntab.
 * The functab has nfunc + 1 entries, sorted by address; the last one is
 * the end of the last function, so a function ends where the next one
 * starts.  Names are funcnametab + _func.nameOff (NUL-terminated).
 *
 * Only executables whose functions take their arguments in registers
 * (ABIInternal, Go >= 1.17 on x86-64) are accepted: the 0xfffffffa
 * format is taken only when .go.buildinfo says go1.17.  Older formats
 * give -EPROTONOSUPPORT.
 *
 * The file is read with pread(2) through elfsym (elfsym.h): never
 * mapped, bounded by ELFSYM_MAX_READ, every offset checked.
 */
#ifndef OISP_GOSYM_H
#define OISP_GOSYM_H

#include <linux/types.h>

struct elfsym;
struct gosym;

/* Function table entries accepted per file (Kubernetes' have ~100k). */
#define GOSYM_MAX_FUNCS		(4u << 20)

/*
 * Reads the Go function table of the ELF file open at @fd, which @es was
 * opened from (elfsym__open_fd(); both stay the caller's and must
 * outlive *@out).  On success *@out is freed with gosym__free().
 * Returns 0; -ENOENT when the file is not a Go executable (no
 * .gopclntab section); -EPROTONOSUPPORT for a Go release before 1.17
 * or a table for another architecture; -EBADMSG when the table is
 * inconsistent (offsets out of the section, text start not found);
 * -EFBIG, -ENOEXEC or -errno from reading (elfsym__read()); -ENOMEM.
 */
int gosym__open(struct elfsym *es, int fd, struct gosym **out);

/*
 * The Go release that built the file, as .go.buildinfo states it
 * ("go1.19.8"), or, without one, the oldest release of its table's
 * format ("go1.20+").  Valid until gosym__free().
 */
const char *gosym__version(const struct gosym *g);

/*
 * Looks up function @name, fully qualified as in the runtime's stack
 * traces ("crypto/tls.(*Conn).Write"), and stores its entry as a
 * link-time virtual address in *@entry and its length in bytes (up to
 * the next function's entry) in *@size.
 * Returns 0, -ENOENT when no function has that name, -EBADMSG when its
 * table entry is inconsistent, -EINVAL on bad arguments.
 */
int gosym__func(const struct gosym *g, const char *name, __u64 *entry,
		__u64 *size);

/* Frees @g; NULL is fine. */
void gosym__free(struct gosym *g);

#endif /* OISP_GOSYM_H */
