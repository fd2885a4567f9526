// SPDX-License-Identifier: MIT
/*
 * binsrc.c - a linked file's sections by virtual address (binsrc.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/binsrc.h"
#include "capture/elfsym.h"

bool binsrc__in(const struct binsrc_region *rg, __u64 a, __u64 n)
{
	return rg->size && a >= rg->addr && n <= rg->size &&
	       a - rg->addr <= rg->size - n;
}

int binsrc__read_clip(const struct binsrc *src, const struct binsrc_region *rg,
		      __u64 addr, void *buf, size_t n, size_t *got)
{
	*got = 0;
	if (addr < rg->addr || addr - rg->addr >= rg->size)
		return 0;
	if (n > rg->addr + rg->size - addr)
		n = rg->addr + rg->size - addr;
	*got = n;
	return src->read(src->ctx, addr, buf, n);
}

int binsrc__str_start(const struct binsrc *src, __u64 a, __u64 *start)
{
	const struct binsrc_region *ro = &src->rodata;
	unsigned char back[BINSRC_STR_MAX];
	__u64 from;
	size_t got, i;
	int err;

	from = a - ro->addr > sizeof(back) ? a - sizeof(back) : ro->addr;
	err = binsrc__read_clip(src, ro, from, back, a - from, &got);
	if (err)
		return err;
	for (i = got; i > 0; i--) {
		if (!back[i - 1]) {
			*start = from + i;
			return 0;
		}
	}
	if (from != ro->addr)
		return -ENOENT;
	*start = from;
	return 0;
}

int binsrc__scan(const struct binsrc *src, const struct binsrc_region *rg,
		 int (*fn)(void *arg, __u64 a, const unsigned char *p,
			   size_t n, size_t valid),
		 void *arg)
{
	unsigned char *buf;
	size_t n, valid;
	__u64 off;
	int err = 0;

	buf = malloc((rg->size < BINSRC_CHUNK ? rg->size : BINSRC_CHUNK) +
		     BINSRC_OVERLAP);
	if (!buf)
		return -ENOMEM;
	for (off = 0; off < rg->size && !err; off += BINSRC_CHUNK) {
		n = rg->size - off;
		if (n > BINSRC_CHUNK + BINSRC_OVERLAP)
			n = BINSRC_CHUNK + BINSRC_OVERLAP;
		valid = n < BINSRC_CHUNK ? n : BINSRC_CHUNK;
		err = src->read(src->ctx, rg->addr + off, buf, n);
		if (!err)
			err = fn(arg, rg->addr + off, buf, n, valid);
	}
	free(buf);
	return err;
}

static int elf_read(void *ctx, __u64 addr, void *buf, size_t n)
{
	const struct binsrc_elf *f = ctx;
	unsigned int i;
	ssize_t got;
	size_t done;

	for (i = 0; i < 4; i++) {
		if (!f->size[i] || addr < f->addr[i] ||
		    addr - f->addr[i] > f->size[i] ||
		    n > f->size[i] - (addr - f->addr[i]))
			continue;
		for (done = 0; done < n; done += (size_t)got) {
			got = pread(f->fd, (char *)buf + done, n - done,
				    (off_t)(f->offset[i] + (addr - f->addr[i]) +
					    done));
			if (got < 0 && errno == EINTR) {
				got = 0;
				continue;
			}
			if (got < 0)
				return -errno;
			if (!got)
				return -ENOEXEC;	/* shrank since opened */
		}
		return 0;
	}
	return -ERANGE;
}

int binsrc__elf(struct elfsym *es, int fd, struct binsrc_elf *file,
		struct binsrc *src)
{
	static const char *const names[] = {
		".text", ".rodata", ".eh_frame_hdr", ".eh_frame" };
	struct binsrc_region *rg[] = {
		&src->text, &src->rodata, &src->eh_frame_hdr, &src->eh_frame };
	struct elfsym_section s;
	unsigned int i;

	memset(file, 0, sizeof(*file));
	memset(src, 0, sizeof(*src));
	file->fd = fd;
	src->read = elf_read;
	src->ctx = file;
	for (i = 0; i < 4; i++) {
		if (elfsym__section(es, names[i], &s) || !s.addr || !s.size) {
			if (i < 2)
				return -ENOENT;
			continue;
		}
		file->addr[i] = rg[i]->addr = s.addr;
		file->size[i] = rg[i]->size = s.size;
		file->offset[i] = s.offset;
	}
	return 0;
}
