// SPDX-License-Identifier: MIT
/*
 * idcache.c - search results by build id (idcache.h).  A short list,
 * newest first: a lookup happens once per new file that needs a search.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/idcache.h"

/* Bytes of PT_NOTE segments and program headers read at most. */
#define NOTES_MAX	(64u << 10)
#define PHDRS_MAX	64u

struct ientry {
	struct ientry *next;
	struct build_id id;
	__u64 size;
	int err;
	unsigned int n;
	struct stack_match m[STACK_MATCH_MAX];
	/* The bytes at m[j].offs[i]: check[j][i]; clen[j][i] of them. */
	unsigned char check[STACK_MATCH_MAX][TLS_PROBES_MAX][IDCACHE_CHECK];
	unsigned char clen[STACK_MATCH_MAX][TLS_PROBES_MAX];
};

struct idcache {
	struct ientry *head;
	unsigned int n;
};

/* Reads exactly @n bytes at @off; -EIO when the file is shorter. */
static int read_at(int fd, void *buf, size_t n, __u64 off)
{
	ssize_t got = pread(fd, buf, n, (off_t)off);

	if (got < 0)
		return -errno;
	return (size_t)got == n ? 0 : -EIO;
}

static __u32 note_pad(__u32 v, __u32 align)
{
	return (v + align - 1) & ~(align - 1);
}

/* The build id among the notes @p[0..@len), aligned to @align. */
static int find_note(const unsigned char *p, __u32 len, __u32 align,
		     struct build_id *id)
{
	Elf64_Nhdr nh;
	__u32 off = 0, name, desc;

	while (len - off >= sizeof(nh)) {
		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		name = note_pad(nh.n_namesz, align);
		desc = note_pad(nh.n_descsz, align);
		if (name < nh.n_namesz || desc < nh.n_descsz ||
		    name > len - off || desc > len - off - name)
			return -ENOENT;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp(p + off, "GNU", 4)) {
			if (!nh.n_descsz || nh.n_descsz > BUILD_ID_MAX)
				return -ENOENT;
			id->len = nh.n_descsz;
			memcpy(id->b, p + off + name, nh.n_descsz);
			return 0;
		}
		off += name + desc;
	}
	return -ENOENT;
}

int build_id__read(int fd, struct build_id *id)
{
	Elf64_Phdr ph[PHDRS_MAX];
	unsigned char *notes;
	Elf64_Ehdr eh;
	unsigned int i, nph;
	int err;

	id->len = 0;
	err = read_at(fd, &eh, sizeof(eh), 0);
	if (err)
		return err == -EIO ? -ENOEXEC : err;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_phentsize != sizeof(Elf64_Phdr))
		return -ENOEXEC;
	nph = eh.e_phnum < PHDRS_MAX ? eh.e_phnum : PHDRS_MAX;
	err = read_at(fd, ph, sizeof(ph[0]) * nph, eh.e_phoff);
	if (err)
		return err == -EIO ? -ENOEXEC : err;
	notes = malloc(NOTES_MAX);
	if (!notes)
		return -ENOMEM;
	err = -ENOENT;
	for (i = 0; i < nph && err == -ENOENT; i++) {
		if (ph[i].p_type != PT_NOTE || !ph[i].p_filesz ||
		    ph[i].p_filesz > NOTES_MAX)
			continue;
		err = read_at(fd, notes, ph[i].p_filesz, ph[i].p_offset);
		if (err == -EIO)
			err = -ENOENT;
		if (!err)
			err = find_note(notes, (__u32)ph[i].p_filesz,
					ph[i].p_align == 8 ? 8 : 4, id);
	}
	free(notes);
	return err;
}

int idcache__new(struct idcache **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

/* The entry of (@id, @size) and the link to it, or NULL. */
static struct ientry **find(struct idcache *c, const struct build_id *id,
			    __u64 size)
{
	struct ientry **pp;

	for (pp = &c->head; *pp; pp = &(*pp)->next)
		if ((*pp)->size == size && (*pp)->id.len == id->len &&
		    !memcmp((*pp)->id.b, id->b, id->len))
			return pp;
	return NULL;
}

static void drop(struct idcache *c, struct ientry **pp)
{
	struct ientry *e = *pp;

	*pp = e->next;
	free(e);
	c->n--;
}

/*
 * Reads into @e->check the bytes of the file at @fd at each probed
 * offset, as far as the file goes (at least one byte each).
 */
static int read_checks(struct ientry *e, int fd)
{
	unsigned int j, i;
	ssize_t got;

	for (j = 0; j < e->n; j++) {
		for (i = 0; i < e->m[j].noffs; i++) {
			got = pread(fd, e->check[j][i], IDCACHE_CHECK,
				    (off_t)e->m[j].offs[i]);
			if (got < 0)
				return -errno;
			if (got == 0)
				return -EIO;
			e->clen[j][i] = (unsigned char)got;
		}
	}
	return 0;
}

int idcache__put(struct idcache *c, const struct build_id *id, __u64 size,
		 int fd, const struct stack_match m[STACK_MATCH_MAX],
		 unsigned int n, int err)
{
	struct ientry *e, **pp;
	unsigned int j, nprobes = 0;
	int ret;

	if (!id->len || n > STACK_MATCH_MAX)
		return -ENOENT;
	for (j = 0; j < n; j++)
		nprobes += m[j].noffs;
	if (!nprobes)
		return -ENOENT;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = *id;
	e->size = size;
	e->err = err;
	e->n = n;
	memcpy(e->m, m, sizeof(e->m));
	ret = read_checks(e, fd);
	if (ret) {
		free(e);
		return ret;
	}
	pp = find(c, id, size);
	if (pp)
		drop(c, pp);
	if (c->n >= IDCACHE_MAX) {
		for (pp = &c->head; (*pp)->next; pp = &(*pp)->next)
			;
		drop(c, pp);
	}
	e->next = c->head;
	c->head = e;
	c->n++;
	return 0;
}

int idcache__get(struct idcache *c, const struct build_id *id, __u64 size,
		 int fd, struct stack_match m[STACK_MATCH_MAX],
		 unsigned int *n, int *err)
{
	unsigned char buf[IDCACHE_CHECK];
	struct ientry **pp, *e;
	unsigned int j, i;
	ssize_t got;

	if (!id->len)
		return -ENOENT;
	pp = find(c, id, size);
	if (!pp)
		return -ENOENT;
	e = *pp;
	for (j = 0; j < e->n; j++) {
		for (i = 0; i < e->m[j].noffs; i++) {
			got = pread(fd, buf, e->clen[j][i],
				    (off_t)e->m[j].offs[i]);
			if (got < 0)
				return -errno;
			if (got != e->clen[j][i] ||
			    memcmp(buf, e->check[j][i], e->clen[j][i])) {
				drop(c, pp);
				return -ESTALE;
			}
		}
	}
	memcpy(m, e->m, sizeof(e->m));
	*n = e->n;
	*err = e->err;
	return 0;
}

void idcache__free(struct idcache *c)
{
	if (!c)
		return;
	while (c->head)
		drop(c, &c->head);
	free(c);
}
