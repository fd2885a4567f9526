/* SPDX-License-Identifier: MIT */
/*
 * elfsym.h - exported symbols of an ELF file, as uprobe file offsets.
 *
 * Reads the file with libelf (no shelling out to nm/readelf).  Lookups
 * search .dynsym first and fall back to .symtab, and convert the
 * symbol's st_value to the file offset that perf's uprobe PMU (and
 * bpf_program__attach_uprobe_opts) expects: the PT_LOAD segment holding
 * the address gives offset = st_value - p_vaddr + p_offset.  This
 * follows libbpf's elf_find_func_offset() and bcc's bcc_elf.c.
 */
#ifndef OISP_ELFSYM_H
#define OISP_ELFSYM_H

#include <stdbool.h>
#include <linux/types.h>

struct elfsym;

/*
 * Opens the ELF file at @path for lookups.  On success *@out owns an
 * open descriptor and libelf handle until elfsym__free().
 * Returns 0, -errno from open(2) (-ENOENT, -EACCES, ...), -ENOEXEC when
 * the file is not ELF or has no program headers, -ENOMEM.
 */
int elfsym__open(const char *path, struct elfsym **out);

/*
 * Same as elfsym__open() for a descriptor the caller keeps owning: @fd
 * is duplicated, so the caller may close it at once.
 */
int elfsym__open_fd(int fd, struct elfsym **out);

/*
 * Looks up the defined function (STT_FUNC) @name, unversioned as in
 * "SSL_write" (the default version wins when several exist), and stores
 * its file offset in bytes in *@off.
 * Returns 0, -ENOENT when no defined symbol has that name, -ERANGE when
 * its address lies in no PT_LOAD segment, -EINVAL on bad arguments,
 * -EIO when libelf cannot read a section.
 */
int elfsym__offset(const struct elfsym *e, const char *name, __u64 *off);

/*
 * True when the file is code for the machine this program was built for
 * (ELF class and e_machine): our uprobe programs read the arguments by
 * this machine's calling convention, so a 32-bit libssl must be skipped.
 */
bool elfsym__native(const struct elfsym *e);

/* Closes the file and frees @e; NULL is fine. */
void elfsym__free(struct elfsym *e);

#endif /* OISP_ELFSYM_H */
