// SPDX-License-Identifier: MIT
/*
 * elfsym.c - symbol lookup in ELF files for uprobe offsets (elfsym.h).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/elfsym.h"

/*
 * The file is never mapped: any user can shrink a file while we read
 * it, and a mapped page past the new end of file raises SIGBUS.  Open
 * copies the parts that lookups use (the headers, the symbol tables,
 * their string tables and .gnu.version) with pread(2) into an anonymous
 * private image as large as the file, at their file offsets, and libelf
 * reads that image (elf_memory): pages never copied stay unallocated
 * zeros, so the memory used is what was read, and libelf checks every
 * offset against the image's size.
 */
struct elfsym {
	unsigned char *image;	/* the copied parts; zeros elsewhere */
	size_t size;		/* bytes of the file, and of image */
	size_t copied;		/* bytes of tables copied (ELFSYM_MAX_TABLES) */
	size_t read;		/* bytes elfsym__read() copied (ELFSYM_MAX_READ) */
	bool symtab_skipped;	/* .symtab did not fit in ELFSYM_MAX_TABLES */
	Elf *elf;
	size_t nload;
	GElf_Phdr *load;	/* the PT_LOAD program headers */
};

/* The fields of the ELF header that say where the tables are. */
struct ehdr_info {
	uint64_t phoff, shoff;
	uint64_t phnum, shnum, shstrndx;
	size_t phentsize, shentsize;
	bool is64;
};

/* One section header, either class. */
struct shdr_info {
	uint32_t type, link, info;
	uint64_t offset, size;
};

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define NATIVE_DATA	ELFDATA2LSB
#else
#define NATIVE_DATA	ELFDATA2MSB
#endif

void elfsym__free(struct elfsym *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->image)
		munmap(e->image, e->size);
	free(e->load);
	free(e);
}

/*
 * Copies bytes [@off, @off + @n) of the file into the image at @off.
 * A file shorter than its headers say, or one that shrank since fstat,
 * is not an ELF file we can use: -ENOEXEC.  Else 0 or -errno of pread.
 */
static int copy_range(struct elfsym *e, int fd, uint64_t off, uint64_t n)
{
	ssize_t r;

	if (off > e->size || n > e->size - off)
		return -ENOEXEC;
	while (n) {
		r = pread(fd, e->image + off, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENOEXEC;
		off += (uint64_t)r;
		n -= (uint64_t)r;
	}
	return 0;
}

/* Section header @i (< shnum, already copied) of either class. */
static void get_shdr(const struct elfsym *e, const struct ehdr_info *h,
		     uint64_t i, struct shdr_info *s)
{
	const unsigned char *p = e->image + h->shoff + i * h->shentsize;

	if (h->is64) {
		Elf64_Shdr sh;

		memcpy(&sh, p, sizeof(sh));
		*s = (struct shdr_info){ sh.sh_type, sh.sh_link, sh.sh_info,
					 sh.sh_offset, sh.sh_size };
	} else {
		Elf32_Shdr sh;

		memcpy(&sh, p, sizeof(sh));
		*s = (struct shdr_info){ sh.sh_type, sh.sh_link, sh.sh_info,
					 sh.sh_offset, sh.sh_size };
	}
}

/*
 * Copies the ELF header and reads the table positions from it, with the
 * extended numbering of section 0 (gABI: e_shnum 0 -> sh_size, e_phnum
 * PN_XNUM -> sh_info).  Only this machine's byte order is read: a file
 * of the other cannot be native anyway.
 */
static int read_ehdr(struct elfsym *e, int fd, struct ehdr_info *h)
{
	struct shdr_info s0;
	Elf64_Ehdr eh64;
	Elf32_Ehdr eh32;
	int err;

	err = copy_range(e, fd, 0, e->size < sizeof(eh64) ? e->size
							  : sizeof(eh64));
	if (err)
		return err;
	if (e->size < EI_NIDENT || memcmp(e->image, ELFMAG, SELFMAG) ||
	    e->image[EI_DATA] != NATIVE_DATA)
		return -ENOEXEC;
	h->is64 = e->image[EI_CLASS] == ELFCLASS64;
	if (h->is64 && e->size >= sizeof(eh64)) {
		memcpy(&eh64, e->image, sizeof(eh64));
		*h = (struct ehdr_info){ eh64.e_phoff, eh64.e_shoff,
			eh64.e_phnum, eh64.e_shnum, eh64.e_shstrndx,
			eh64.e_phentsize,
			eh64.e_shentsize, true };
		if (h->phnum && h->phentsize != sizeof(Elf64_Phdr))
			return -ENOEXEC;
		if (h->shnum && h->shentsize != sizeof(Elf64_Shdr))
			return -ENOEXEC;
	} else if (e->image[EI_CLASS] == ELFCLASS32 &&
		   e->size >= sizeof(eh32)) {
		memcpy(&eh32, e->image, sizeof(eh32));
		*h = (struct ehdr_info){ eh32.e_phoff, eh32.e_shoff,
			eh32.e_phnum, eh32.e_shnum, eh32.e_shstrndx,
			eh32.e_phentsize,
			eh32.e_shentsize, false };
		if (h->phnum && h->phentsize != sizeof(Elf32_Phdr))
			return -ENOEXEC;
		if (h->shnum && h->shentsize != sizeof(Elf32_Shdr))
			return -ENOEXEC;
	} else {
		return -ENOEXEC;
	}
	if (!h->shoff || (h->shnum && h->phnum != PN_XNUM &&
			  h->shstrndx != SHN_XINDEX))
		return 0;
	if (!h->shentsize)
		h->shentsize = h->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	err = copy_range(e, fd, h->shoff, h->shentsize);
	if (err)
		return err;
	get_shdr(e, h, 0, &s0);
	if (!h->shnum)
		h->shnum = s0.size;
	if (h->phnum == PN_XNUM)
		h->phnum = s0.info;
	if (h->shstrndx == SHN_XINDEX)
		h->shstrndx = s0.link;
	return 0;
}

/* Copies section @i's contents, counted in ELFSYM_MAX_TABLES. */
static int copy_section(struct elfsym *e, int fd, const struct ehdr_info *h,
			uint64_t i)
{
	struct shdr_info s;

	if (i == 0 || i >= h->shnum)
		return 0;
	get_shdr(e, h, i, &s);
	if (s.type == SHT_NOBITS || !s.size)
		return 0;
	if (s.size > ELFSYM_MAX_TABLES - e->copied)
		return -EFBIG;
	e->copied += s.size;
	return copy_range(e, fd, s.offset, s.size);
}

/* Copies the sections of @type, each with the string table it links. */
static int copy_tables(struct elfsym *e, int fd, const struct ehdr_info *h,
		       uint32_t type)
{
	struct shdr_info s;
	uint64_t i;
	int err;

	for (i = 1; i < h->shnum; i++) {
		get_shdr(e, h, i, &s);
		if (s.type != type)
			continue;
		err = copy_section(e, fd, h, i);
		if (!err && type != SHT_GNU_versym)
			err = copy_section(e, fd, h, s.link);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Copies what lookups read.  .dynsym comes first: when the budget is
 * spent by a large .symtab (an unstripped program), lookups in .dynsym
 * still work and .symtab lookups report -EFBIG.
 */
static int copy_parts(struct elfsym *e, int fd)
{
	struct ehdr_info h;
	size_t copied;
	int err;

	err = read_ehdr(e, fd, &h);
	if (err)
		return err;
	if (h.phnum > ELFSYM_MAX_HEADERS || h.shnum > ELFSYM_MAX_HEADERS)
		return -EFBIG;
	if (h.phnum) {
		err = copy_range(e, fd, h.phoff, h.phnum * h.phentsize);
		if (err)
			return err;
	}
	if (!h.shnum)
		return 0;
	err = copy_range(e, fd, h.shoff, h.shnum * h.shentsize);
	/* The section names, for elfsym__section(). */
	if (!err)
		err = copy_section(e, fd, &h, h.shstrndx);
	if (!err)
		err = copy_tables(e, fd, &h, SHT_DYNSYM);
	if (!err)
		err = copy_tables(e, fd, &h, SHT_GNU_versym);
	if (err)
		return err;
	copied = e->copied;
	err = copy_tables(e, fd, &h, SHT_SYMTAB);
	if (err == -EFBIG) {
		/* What was copied of it stays, unused: zeroing costs more. */
		e->symtab_skipped = true;
		e->copied = copied;
		err = 0;
	}
	return err;
}

static int load_phdrs(struct elfsym *e)
{
	size_t i, n;
	GElf_Phdr ph;

	if (elf_getphdrnum(e->elf, &n) || n == 0)
		return -ENOEXEC;
	e->load = calloc(n, sizeof(*e->load));
	if (!e->load)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(e->elf, (int)i, &ph))
			return -ENOEXEC;
		if (ph.p_type == PT_LOAD)
			e->load[e->nload++] = ph;
	}
	return e->nload ? 0 : -ENOEXEC;
}

/* Reads the file at @fd (the caller's) into a new elfsym. */
static int read_fd(int fd, struct elfsym **out)
{
	struct elfsym *e;
	struct stat sb;
	int err;

	*out = NULL;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0)
		return -ENOEXEC;
	if ((uint64_t)sb.st_size > ELFSYM_MAX_FILE)
		return -EFBIG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->size = (size_t)sb.st_size;
	e->image = mmap(NULL, e->size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (e->image == MAP_FAILED) {
		e->image = NULL;
		err = -ENOMEM;
		goto out_free;
	}
	err = copy_parts(e, fd);
	if (err)
		goto out_free;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		err = -EIO;
		goto out_free;
	}
	e->elf = elf_memory((char *)e->image, e->size);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out_free;
	}
	err = load_phdrs(e);
	if (err)
		goto out_free;
	*out = e;
	return 0;

out_free:
	elfsym__free(e);
	return err;
}

int elfsym__open(const char *path, struct elfsym **out)
{
	int fd, err;

	if (!path || !out)
		return -EINVAL;
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = read_fd(fd, out);
	close(fd);
	return err;
}

int elfsym__open_fd(int fd, struct elfsym **out)
{
	if (fd < 0 || !out)
		return -EINVAL;
	return read_fd(fd, out);
}

#if defined(__x86_64__)
#define NATIVE_MACHINE	EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE	EM_AARCH64
#else
#error "elfsym: unsupported architecture"
#endif

bool elfsym__native(const struct elfsym *e)
{
	GElf_Ehdr eh;

	if (!e || !gelf_getehdr(e->elf, &eh))
		return false;
	return gelf_getclass(e->elf) == (sizeof(void *) == 8 ? ELFCLASS64
							     : ELFCLASS32) &&
	       eh.e_machine == NATIVE_MACHINE;
}

static Elf_Scn *find_section(Elf *elf, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return scn;
	}
	return NULL;
}

/*
 * Searches one symbol table.  With @versym (.gnu.version, parallel to
 * .dynsym) a hidden (non-default) version only counts when nothing
 * better exists.  Returns 0 with *@value set, -ENOENT, or -EIO.
 */
static int search_table(Elf *elf, Elf_Scn *scn, Elf_Data *versym,
			const char *name, GElf_Addr *value)
{
	bool found_hidden = false;
	GElf_Addr hidden_value = 0;
	Elf_Data *data;
	GElf_Shdr sh;
	size_t i, n;

	if (!gelf_getshdr(scn, &sh) || sh.sh_entsize == 0)
		return -EIO;
	data = elf_getdata(scn, NULL);
	if (!data)
		return -EIO;
	n = sh.sh_size / sh.sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Versym vs = 0;
		const char *sname;
		GElf_Sym sym;

		if (!gelf_getsym(data, (int)i, &sym))
			return -EIO;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		sname = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!sname || strcmp(sname, name) != 0)
			continue;
		if (versym)
			gelf_getversym(versym, (int)i, &vs);
		if (vs & 0x8000) {
			if (!found_hidden) {
				found_hidden = true;
				hidden_value = sym.st_value;
			}
			continue;
		}
		*value = sym.st_value;
		return 0;
	}
	if (!found_hidden)
		return -ENOENT;
	*value = hidden_value;
	return 0;
}

static int addr_to_offset(const struct elfsym *e, GElf_Addr addr, __u64 *off)
{
	size_t i;

	for (i = 0; i < e->nload; i++) {
		const GElf_Phdr *ph = &e->load[i];

		if (addr >= ph->p_vaddr && addr < ph->p_vaddr + ph->p_memsz) {
			*off = addr - ph->p_vaddr + ph->p_offset;
			return 0;
		}
	}
	return -ERANGE;
}

bool elfsym__imports(const struct elfsym *e, const char *name)
{
	Elf_Scn *scn = e ? find_section(e->elf, SHT_DYNSYM) : NULL;
	const char *sname;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Sym sym;
	size_t i, n;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_entsize == 0)
		return false;
	data = elf_getdata(scn, NULL);
	if (!data)
		return false;
	n = sh.sh_size / sh.sh_entsize;
	for (i = 0; i < n; i++) {
		if (!gelf_getsym(data, (int)i, &sym))
			return false;
		if (sym.st_shndx != SHN_UNDEF ||
		    (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
		     GELF_ST_TYPE(sym.st_info) != STT_NOTYPE))
			continue;
		sname = elf_strptr(e->elf, sh.sh_link, sym.st_name);
		if (sname && !strcmp(sname, name))
			return true;
	}
	return false;
}

int elfsym__addr_offset(const struct elfsym *e, __u64 addr, __u64 *off)
{
	size_t i;

	if (!e || !off)
		return -EINVAL;
	/* Bytes past p_filesz (.bss) are not in the file. */
	for (i = 0; i < e->nload; i++) {
		const GElf_Phdr *ph = &e->load[i];

		if (addr >= ph->p_vaddr && addr - ph->p_vaddr < ph->p_filesz)
			return addr_to_offset(e, addr, off);
	}
	return -ERANGE;
}

int elfsym__section(const struct elfsym *e, const char *name,
		    struct elfsym_section *s)
{
	Elf_Scn *scn = NULL;
	const char *sname;
	size_t shstrndx;
	GElf_Shdr sh;

	if (!e || !name || !s)
		return -EINVAL;
	if (elf_getshdrstrndx(e->elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		sname = elf_strptr(e->elf, shstrndx, sh.sh_name);
		if (!sname || strcmp(sname, name))
			continue;
		s->addr = sh.sh_addr;
		s->offset = sh.sh_offset;
		s->size = sh.sh_type == SHT_NOBITS ? 0 : sh.sh_size;
		return 0;
	}
	return -ENOENT;
}

int elfsym__read(struct elfsym *e, int fd, __u64 off, __u64 n,
		 const unsigned char **p)
{
	int err;

	if (!e || fd < 0 || !p)
		return -EINVAL;
	if (off > e->size || n > e->size - off)
		return -ENOEXEC;
	if (n > ELFSYM_MAX_READ - e->read)
		return -EFBIG;
	err = copy_range(e, fd, off, n);
	if (err)
		return err;
	e->read += n;
	*p = e->image + off;
	return 0;
}

int elfsym__offset(const struct elfsym *e, const char *name, __u64 *off)
{
	Elf_Data *versym = NULL;
	GElf_Addr value = 0;
	Elf_Scn *scn, *vscn;
	int err = -ENOENT;

	if (!e || !name || !off)
		return -EINVAL;
	scn = find_section(e->elf, SHT_DYNSYM);
	if (scn) {
		vscn = find_section(e->elf, SHT_GNU_versym);
		if (vscn)
			versym = elf_getdata(vscn, NULL);
		err = search_table(e->elf, scn, versym, name, &value);
	}
	if (err == -ENOENT && e->symtab_skipped)
		err = -EFBIG;
	if (err == -ENOENT) {
		scn = find_section(e->elf, SHT_SYMTAB);
		if (scn)
			err = search_table(e->elf, scn, NULL, name, &value);
	}
	if (err)
		return err;
	return addr_to_offset(e, value, off);
}
