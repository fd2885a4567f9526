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
 *
 * The files read are chosen by any local user (every executable mapping
 * is probed), so the reader never maps them (a file truncated meanwhile
 * would raise SIGBUS): open copies, with pread(2), only the headers and
 * the symbol, string and version tables into private memory, within the
 * bounds below, and everything later reads that copy.  A file changed
 * while it is read gives a consistent copy or an error, never a crash.
 */
#ifndef OISP_ELFSYM_H
#define OISP_ELFSYM_H

#include <stdbool.h>
#include <linux/types.h>

struct elfsym;

/* Larger files are not read (-EFBIG): no real library comes near. */
#define ELFSYM_MAX_FILE		(4ULL << 30)
/*
 * Most bytes of tables copied per file (.dynsym, .gnu.version, .symtab
 * and their string tables; node's are 17 MiB).  .dynsym and .gnu.version
 * must fit; a .symtab that does not is skipped.
 */
#define ELFSYM_MAX_TABLES	((size_t)64 << 20)
/* Most program headers, and most section headers, per file. */
#define ELFSYM_MAX_HEADERS	4096

/*
 * Opens the ELF file at @path and copies what lookups need; no
 * descriptor is kept.  On success *@out owns the copy and a libelf
 * handle until elfsym__free().
 * Returns 0, -errno from open(2) or pread(2) (-ENOENT, -EACCES, ...),
 * -ENOEXEC when the file is not a regular ELF file of this machine's
 * byte order, has no PT_LOAD program header, or is shorter than its
 * headers say (also when it shrinks while being read), -EFBIG when it
 * is over ELFSYM_MAX_FILE bytes, has more than ELFSYM_MAX_HEADERS
 * program or section headers, or its .dynsym and .gnu.version with
 * their string table are over ELFSYM_MAX_TABLES bytes, -ENOMEM.
 */
int elfsym__open(const char *path, struct elfsym **out);

/*
 * Same as elfsym__open() for a descriptor the caller keeps owning (read
 * with pread(2): its file offset is not changed); the caller may close
 * it at once.
 */
int elfsym__open_fd(int fd, struct elfsym **out);

/*
 * Looks up the defined function (STT_FUNC) @name, unversioned as in
 * "SSL_write" (the default version wins when several exist), and stores
 * its file offset in bytes in *@off.
 * Returns 0, -ENOENT when no defined symbol has that name, -EFBIG when
 * it is not in .dynsym and .symtab was too large to read, -ERANGE when
 * its address lies in no PT_LOAD segment, -EINVAL on bad arguments,
 * -EIO when libelf cannot read a section.
 */
int elfsym__offset(const struct elfsym *e, const char *name, __u64 *off);

/*
 * True when the file's .dynsym holds @name as an undefined function (one
 * it calls in another file).  False also when it cannot be read.
 */
bool elfsym__imports(const struct elfsym *e, const char *name);

/*
 * True when the file is code for the machine this program was built for
 * (ELF class and e_machine): our uprobe programs read the arguments by
 * this machine's calling convention, so a 32-bit libssl must be skipped.
 */
bool elfsym__native(const struct elfsym *e);

/* Most bytes elfsym__read() copies per file, beyond the tables. */
#define ELFSYM_MAX_READ		((size_t)256 << 20)

/* A section, by the fields of its header that readers use. */
struct elfsym_section {
	__u64 addr;	/* sh_addr: virtual address, 0 when not loaded */
	__u64 offset;	/* sh_offset: file offset in bytes */
	__u64 size;	/* sh_size in bytes (0 for SHT_NOBITS) */
};

/*
 * Looks up the first section named @name (as in ".gopclntab") and fills
 * @s.  Returns 0, -ENOENT when there is none (or no section headers),
 * -EINVAL on bad arguments.
 */
int elfsym__section(const struct elfsym *e, const char *name,
		    struct elfsym_section *s);

/*
 * Converts virtual address @addr (a link-time address, as in sh_addr or
 * st_value) to the file offset in bytes of the PT_LOAD segment holding
 * it.  Returns 0, -ERANGE when no segment holds it with file bytes.
 */
int elfsym__addr_offset(const struct elfsym *e, __u64 addr, __u64 *off);

/*
 * Copies bytes [@off, @off + @n) of the file open at @fd (the one @e was
 * read from; the caller keeps it) into @e's private image with pread(2)
 * and sets *@p to them; they stay valid until elfsym__free().  The file
 * is never mapped (see above).  Returns 0, -ENOEXEC when the range lies
 * past the end of the file as it was opened (or it shrank meanwhile),
 * -EFBIG when the bytes copied by this call and earlier ones would pass
 * ELFSYM_MAX_READ, -errno of pread(2).
 */
int elfsym__read(struct elfsym *e, int fd, __u64 off, __u64 n,
		 const unsigned char **p);

/* Frees @e; NULL is fine. */
void elfsym__free(struct elfsym *e);

/*
 * The little-endian 32-bit word at @p (4 readable bytes): ELF x86-64
 * data read from a file (.eh_frame_hdr tables, rel32 displacements),
 * whatever the host's byte order.
 */
static inline __u32 elfsym__le32(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 |
	       (__u32)p[3] << 24;
}

#endif /* OISP_ELFSYM_H */
