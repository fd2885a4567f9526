// SPDX-License-Identifier: MIT
/*
 * elfsym.c - symbol lookup in ELF files for uprobe offsets (elfsym.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/elfsym.h"

struct elfsym {
	int fd;
	Elf *elf;
	size_t nload;
	GElf_Phdr *load;	/* the PT_LOAD program headers */
};

void elfsym__free(struct elfsym *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->load);
	free(e);
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

/* Takes ownership of @fd, also on failure. */
static int open_owned_fd(int fd, struct elfsym **out)
{
	struct elfsym *e;
	int err;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		return -ENOMEM;
	}
	e->fd = fd;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		err = -EIO;
		goto out_free;
	}
	e->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
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
	int fd;

	if (!path || !out)
		return -EINVAL;
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return open_owned_fd(fd, out);
}

int elfsym__open_fd(int fd, struct elfsym **out)
{
	int dup_fd;

	if (fd < 0 || !out)
		return -EINVAL;
	*out = NULL;
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0)
		return -errno;
	return open_owned_fd(dup_fd, out);
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
	if (err == -ENOENT) {
		scn = find_section(e->elf, SHT_SYMTAB);
		if (scn)
			err = search_table(e->elf, scn, NULL, name, &value);
	}
	if (err)
		return err;
	return addr_to_offset(e, value, off);
}
