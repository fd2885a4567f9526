// SPDX-License-Identifier: MIT
/*
 * gosym.c - Go function table reader (gosym.h).
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/elfsym.h"
#include "capture/gosym.h"

#define MAGIC_116	0xfffffffaU	/* Go 1.16, 1.17 */
#define MAGIC_118	0xfffffff0U	/* Go 1.18, 1.19 */
#define MAGIC_120	0xfffffff1U	/* Go >= 1.20 */

/* pcHeader's fixed part: magic, pad1, pad2, minLC, ptrSize. */
#define HDR_FIXED	8
/* runtime.moduledata words: pcHeader, funcnametab, ..., ftab, text. */
#define MD_PCHEADER	0
#define MD_FUNCNAMETAB	1
#define MD_FTAB		16
#define MD_TEXT		22
#define MD_WORDS	23
/* Byte offset of moduledata word @w (8-byte words: 64-bit only). */
#define MD_OFF(w)	((size_t)(w) * 8)

struct gosym {
	bool old;			/* MAGIC_116 layout */
	__u32 nfunc;
	__u64 text;			/* text start: entries are relative */
	const unsigned char *names;	/* funcnametab */
	__u64 names_len;
	const unsigned char *pcln;	/* pclntable: functab, then _funcs */
	__u64 pcln_len;
	char version[32];
};

static __u64 get64(const unsigned char *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static __u32 get32(const unsigned char *p)
{
	__u32 v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

/* Reads an unsigned LEB128 varint from [*p, end); false when cut. */
static bool uvarint(const unsigned char **p, const unsigned char *end,
		    __u64 *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		unsigned char b = *(*p)++;

		*v |= (__u64)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
		shift += 7;
	}
	return false;
}

/* Copies a version string of @n bytes at @s if it looks like "go1...". */
static void set_version(struct gosym *g, const unsigned char *s, __u64 n)
{
	if (n < 3 || n >= sizeof(g->version) || memcmp(s, "go1", 3))
		return;
	memcpy(g->version, s, n);
	g->version[n] = '\0';
}

/*
 * The Go release from .go.buildinfo (src/debug/buildinfo/buildinfo.go):
 * a 32-byte header "\xff Go buildinf:", pointer size, flags; with flags
 * bit 1 (Go >= 1.18) the version follows inline, varint-prefixed, else
 * the header holds the address of a Go string header {data, len}.
 * Leaves g->version empty when absent or unreadable.
 */
static void read_buildinfo(struct gosym *g, struct elfsym *es, int fd)
{
	static const char magic[] = "\xff Go buildinf:";
	const unsigned char *h, *p, *s;
	struct elfsym_section sec;
	__u64 n, addr, off, len;

	if (elfsym__section(es, ".go.buildinfo", &sec) || sec.size < 32)
		return;
	len = sec.size > 4096 ? 4096 : sec.size;
	if (elfsym__read(es, fd, sec.offset, len, &h))
		return;
	if (memcmp(h, magic, 14) || h[14] != 8 || (h[15] & 1))
		return;
	if (h[15] & 2) {
		p = h + 32;
		if (uvarint(&p, h + len, &n) && n <= (__u64)(h + len - p))
			set_version(g, p, n);
		return;
	}
	addr = get64(h + 16);
	if (elfsym__addr_offset(es, addr, &off) ||
	    elfsym__read(es, fd, off, 16, &p))
		return;
	addr = get64(p);
	n = get64(p + 8);
	if (n >= sizeof(g->version) || elfsym__addr_offset(es, addr, &off) ||
	    elfsym__read(es, fd, off, n, &s))
		return;
	set_version(g, s, n);
}

/* True for g->version "go1.N..." with N >= @minor. */
static bool version_at_least(const struct gosym *g, unsigned int minor)
{
	unsigned long v;
	char *end;

	if (strncmp(g->version, "go1.", 4))
		return false;
	v = strtoul(g->version + 4, &end, 10);
	return end != g->version + 4 && v >= minor;
}

/*
 * Go >= 1.26: finds runtime.moduledata in @name's bytes by its first
 * words (pcHeader = @pc_addr, funcnametab and ftab inside this table)
 * and takes its text field.  Returns 0 with g->text set, or -ENOENT.
 */
static int moduledata_text(struct gosym *g, struct elfsym *es, int fd,
			   const char *name, __u64 pc_addr, __u64 names_off,
			   __u64 pcln_off)
{
	const unsigned char *d, *w;
	struct elfsym_section sec;
	__u64 i;

	if (elfsym__section(es, name, &sec) || sec.size < MD_OFF(MD_WORDS) ||
	    sec.offset & 7 || elfsym__read(es, fd, sec.offset, sec.size, &d))
		return -ENOENT;
	for (i = 0; i + MD_OFF(MD_WORDS) <= sec.size; i += 8) {
		w = d + i;
		if (get64(w) != pc_addr ||
		    get64(w + MD_OFF(MD_FUNCNAMETAB)) != pc_addr + names_off ||
		    get64(w + MD_OFF(MD_FTAB)) != pc_addr + pcln_off)
			continue;
		g->text = get64(w + MD_OFF(MD_TEXT));
		return g->text ? 0 : -ENOENT;
	}
	return -ENOENT;
}

/* The .gopclntab section (PIE builds name it .data.rel.ro.gopclntab). */
static int find_pclntab(struct elfsym *es, struct elfsym_section *sec)
{
	if (!elfsym__section(es, ".gopclntab", sec))
		return 0;
	return elfsym__section(es, ".data.rel.ro.gopclntab", sec);
}

/* Parses the pcHeader at @h (@size bytes of section @sec) into @g. */
static int read_header(struct gosym *g, struct elfsym *es, int fd,
		       const struct elfsym_section *sec, const unsigned char *h)
{
	static const char *const mdsects[] = {
		".go.module", ".noptrdata", ".data", ".data.rel.ro", NULL,
	};
	__u64 nfunc, names_off, names_end, pcln_off, text = 0;
	const unsigned char *f = h + HDR_FIXED + 16;	/* after nfunc, nfiles */
	__u32 magic = get32(h);
	unsigned int i;
	int err;

	if (magic == MAGIC_116) {
		g->old = true;
		if (!version_at_least(g, 17))
			return -EPROTONOSUPPORT;
	} else if (magic != MAGIC_118 && magic != MAGIC_120) {
		/* Go <= 1.15 (0xfffffffb) or not a table we know. */
		return -EPROTONOSUPPORT;
	}
	/* pad1, pad2 zero; minLC 1 (x86); ptrSize 8. */
	if (h[4] || h[5] || h[6] != 1 || h[7] != 8)
		return -EPROTONOSUPPORT;
	nfunc = get64(h + HDR_FIXED);
	if (!g->old) {
		text = get64(f);
		f += 8;
	}
	names_off = get64(f);
	names_end = get64(f + 8);	/* cuOffset: the next table */
	pcln_off = get64(f + 32);
	if (!nfunc || nfunc > GOSYM_MAX_FUNCS || names_off > names_end ||
	    names_end > sec->size || pcln_off >= sec->size)
		return -EBADMSG;
	g->nfunc = (__u32)nfunc;
	g->names_len = names_end - names_off;
	g->pcln_len = sec->size - pcln_off;
	if ((nfunc + 1) * (g->old ? 16 : 8) > g->pcln_len)
		return -EBADMSG;
	err = elfsym__read(es, fd, sec->offset + names_off, g->names_len,
			   &g->names);
	if (!err)
		err = elfsym__read(es, fd, sec->offset + pcln_off, g->pcln_len,
				   &g->pcln);
	if (err)
		return err;
	g->text = text;
	if (g->old || text)
		return 0;
	for (i = 0; mdsects[i]; i++)
		if (!moduledata_text(g, es, fd, mdsects[i], sec->addr,
				     names_off, pcln_off))
			return 0;
	return -EBADMSG;
}

int gosym__open(struct elfsym *es, int fd, struct gosym **out)
{
	struct elfsym_section sec;
	const unsigned char *h;
	struct gosym *g;
	int err;

	if (!es || fd < 0 || !out)
		return -EINVAL;
	*out = NULL;
	if (find_pclntab(es, &sec))
		return -ENOENT;
	if (sec.size < HDR_FIXED + 8 * 8)
		return -EBADMSG;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	read_buildinfo(g, es, fd);
	err = elfsym__read(es, fd, sec.offset, HDR_FIXED + 8 * 8, &h);
	if (!err)
		err = read_header(g, es, fd, &sec, h);
	if (err) {
		free(g);
		return err;
	}
	if (!g->version[0])
		snprintf(g->version, sizeof(g->version), "%s",
			 get32(h) == MAGIC_120 ? "go1.20+" : "go1.18+");
	*out = g;
	return 0;
}

const char *gosym__version(const struct gosym *g)
{
	return g ? g->version : "";
}

/* Entry address of functab entry @i (<= nfunc), and its _func offset. */
static void functab(const struct gosym *g, __u32 i, __u64 *entry,
		    __u64 *funcoff)
{
	const unsigned char *p;

	if (g->old) {
		p = g->pcln + (__u64)i * 16;
		*entry = get64(p);
		*funcoff = get64(p + 8);
	} else {
		p = g->pcln + (__u64)i * 8;
		*entry = g->text + get32(p);
		*funcoff = get32(p + 4);
	}
}

/* Name of the function at _func offset @funcoff, or NULL. */
static const char *func_name(const struct gosym *g, __u64 funcoff)
{
	__u64 at = g->old ? 8 : 4;
	const unsigned char *s;
	__u32 nameoff;

	if (funcoff > g->pcln_len || g->pcln_len - funcoff < at + 4)
		return NULL;
	nameoff = get32(g->pcln + funcoff + at);
	if (nameoff >= g->names_len)
		return NULL;
	s = g->names + nameoff;
	if (!memchr(s, '\0', g->names_len - nameoff))
		return NULL;
	return (const char *)s;
}

int gosym__func(const struct gosym *g, const char *name, __u64 *entry,
		__u64 *size)
{
	__u64 start, end, funcoff, next_off;
	const char *s;
	__u32 i;

	if (!g || !name || !entry || !size)
		return -EINVAL;
	for (i = 0; i < g->nfunc; i++) {
		functab(g, i, &start, &funcoff);
		s = func_name(g, funcoff);
		if (!s || strcmp(s, name))
			continue;
		functab(g, i + 1, &end, &next_off);
		if (end <= start)
			return -EBADMSG;
		*entry = start;
		*size = end - start;
		return 0;
	}
	return -ENOENT;
}

void gosym__free(struct gosym *g)
{
	free(g);
}
