// SPDX-License-Identifier: MIT
/*
 * Capture files (format in recfile.h).  The writer keeps its own buffer
 * on a plain fd so that every failure is a precise -errno; the reader
 * uses stdio and copies each record into an aligned buffer.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/recfile.h"
#include "lib/fdio.h"
#include "lib/wfile.h"

#define WRITE_BUF_SIZE	(256 * 1024)
#define READ_BUF_SIZE	((size_t)256 * 1024)

struct recfile_writer {
	int fd;
	bool own_fd;
	size_t used;
	unsigned char buf[WRITE_BUF_SIZE];
};

struct recfile_reader {
	FILE *f;
	bool own_file;
	unsigned long long off;		/* bytes consumed so far */
	char *name;
	__u64 *rec;			/* RECFILE_RECORD_MAX bytes, aligned */
	char *iobuf;			/* f's buffer, READ_BUF_SIZE bytes */
};

/* The on-disk header, little-endian, packed by hand. */
static void hdr_encode(unsigned char *p, const struct recfile_info *info)
{
	__u32 v32;
	__u64 v64;

	memset(p, 0, RECFILE_HDR_SIZE);
	memcpy(p, RECFILE_MAGIC, sizeof(RECFILE_MAGIC));
	v32 = htole32(CAP_ABI_VERSION);
	memcpy(p + 8, &v32, 4);
	v32 = htole32(RECFILE_HDR_SIZE);
	memcpy(p + 12, &v32, 4);
	v64 = htole64(info->realtime_offset_ns);
	memcpy(p + 16, &v64, 8);
	memcpy(p + 24, info->hostname,
	       strnlen(info->hostname, RECFILE_HOSTNAME_LEN - 1));
}

int recfile__info_now(struct recfile_info *info)
{
	struct timespec rt, mono;
	__u64 rt_ns, mono_ns;

	memset(info, 0, sizeof(*info));
	info->abi = CAP_ABI_VERSION;
	if (clock_gettime(CLOCK_MONOTONIC, &mono) ||
	    clock_gettime(CLOCK_REALTIME, &rt))
		return -errno;
	rt_ns = (__u64)rt.tv_sec * 1000000000ull + (__u64)rt.tv_nsec;
	mono_ns = (__u64)mono.tv_sec * 1000000000ull + (__u64)mono.tv_nsec;
	info->realtime_offset_ns = rt_ns - mono_ns;
	if (gethostname(info->hostname, sizeof(info->hostname) - 1))
		info->hostname[0] = '\0';
	info->hostname[sizeof(info->hostname) - 1] = '\0';
	return 0;
}

int recfile__create(struct recfile_writer **out, const char *path,
		    const struct recfile_info *info, char *err, size_t errlen)
{
	struct recfile_writer *w;
	int ret;

	w = malloc(sizeof(*w));
	if (!w) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	w->used = 0;
	if (strcmp(path, "-") == 0) {
		w->fd = STDOUT_FILENO;
		w->own_fd = false;
	} else {
		w->fd = wfile__open(path, WFILE_TRUNC, err, errlen);
		if (w->fd < 0) {
			ret = w->fd;
			goto out_free;
		}
		w->own_fd = true;
	}
	hdr_encode(w->buf, info);
	w->used = RECFILE_HDR_SIZE;
	ret = recfile__flush(w);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out_close;
	}
	*out = w;
	return 0;

out_close:
	if (w->own_fd)
		close(w->fd);
out_free:
	free(w);
	return ret;
}

int recfile__flush(struct recfile_writer *w)
{
	int err;

	err = fdio__write_full(w->fd, w->buf, w->used);
	/* On error the buffer is dropped: a retry would duplicate bytes. */
	w->used = 0;
	return err;
}

int recfile__write(struct recfile_writer *w, const void *rec, size_t len)
{
	__u32 len_le;
	int err;

	if (record__check(rec, len))
		return -EBADMSG;
	if (w->used + sizeof(len_le) + len > sizeof(w->buf)) {
		err = recfile__flush(w);
		if (err)
			return err;
	}
	len_le = htole32((__u32)len);
	memcpy(w->buf + w->used, &len_le, sizeof(len_le));
	memcpy(w->buf + w->used + sizeof(len_le), rec, len);
	w->used += sizeof(len_le) + len;
	return 0;
}

int recfile__close_writer(struct recfile_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = recfile__flush(w);
	if (w->own_fd && close(w->fd) && !err)
		err = -errno;
	free(w);
	return err;
}

static void set_err(const struct recfile_reader *r, unsigned long long off,
		    char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void set_err(const struct recfile_reader *r, unsigned long long off,
		    char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return;
	n = snprintf(err, errlen, "%s: offset %llu: ", r->name, off);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/*
 * Reads exactly @n bytes.  Returns 1 when all were read, 0 at end of
 * file with nothing read, -EBADMSG at end of file part way (truncated),
 * or -errno of read(2).
 */
static int read_exact(struct recfile_reader *r, void *p, size_t n)
{
	size_t got;

	errno = 0;
	got = fread(p, 1, n, r->f);
	r->off += got;
	if (got == n)
		return 1;
	if (ferror(r->f))
		return errno ? -errno : -EIO;
	return got ? -EBADMSG : 0;
}

static int read_header(struct recfile_reader *r, struct recfile_info *info,
		       char *err, size_t errlen)
{
	unsigned char h[RECFILE_HDR_SIZE];
	__u32 abi, hdr_size;
	__u64 off_ns;
	int ret;

	ret = read_exact(r, h, sizeof(h));
	if (ret <= 0) {
		if (ret == 0 || ret == -EBADMSG) {
			set_err(r, 0, err, errlen,
				"truncated header (%llu of %d bytes)",
				r->off, RECFILE_HDR_SIZE);
			return -EBADMSG;
		}
		set_err(r, r->off, err, errlen, "%s", strerror(-ret));
		return ret;
	}
	if (memcmp(h, RECFILE_MAGIC, sizeof(RECFILE_MAGIC))) {
		set_err(r, 0, err, errlen, "bad magic: not a capture file");
		return -EBADMSG;
	}
	memcpy(&abi, h + 8, 4);
	memcpy(&hdr_size, h + 12, 4);
	memcpy(&off_ns, h + 16, 8);
	abi = le32toh(abi);
	hdr_size = le32toh(hdr_size);
	if (abi < CAP_ABI_OLDEST || abi > CAP_ABI_VERSION) {
		set_err(r, 8, err, errlen,
			"capture ABI %u, this build reads ABI %d to %d", abi,
			CAP_ABI_OLDEST, CAP_ABI_VERSION);
		return -EBADMSG;
	}
	if (hdr_size < RECFILE_HDR_SIZE) {
		set_err(r, 12, err, errlen, "header size %u below %d",
			hdr_size, RECFILE_HDR_SIZE);
		return -EBADMSG;
	}
	/* A longer header from a newer writer: skip what we don't know. */
	while (r->off < hdr_size) {
		unsigned char skip[256];
		size_t n = hdr_size - r->off;

		if (n > sizeof(skip))
			n = sizeof(skip);
		ret = read_exact(r, skip, n);
		if (ret <= 0) {
			set_err(r, 0, err, errlen,
				"truncated header (%llu of %u bytes)",
				r->off, hdr_size);
			return ret < 0 && ret != -EBADMSG ? ret : -EBADMSG;
		}
	}
	if (info) {
		info->abi = abi;
		info->realtime_offset_ns = le64toh(off_ns);
		memcpy(info->hostname, h + 24, RECFILE_HOSTNAME_LEN);
		info->hostname[RECFILE_HOSTNAME_LEN - 1] = '\0';
	}
	return 0;
}

int recfile__open(struct recfile_reader **out, const char *path,
		  struct recfile_info *info, char *err, size_t errlen)
{
	struct recfile_reader *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = strdup(strcmp(path, "-") == 0 ? "stdin" : path);
	r->rec = malloc(RECFILE_RECORD_MAX);
	if (!r->name || !r->rec) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
	} else {
		r->f = fopen(path, "rbe");
		if (!r->f) {
			ret = -errno;
			if (err && errlen)
				snprintf(err, errlen, "%s: %s", path,
					 strerror(-ret));
			goto out_free;
		}
		r->own_file = true;
	}
	/* Records are read in bulk: stdio's default 4 KiB would cost a
	 * read(2) per record or two.  Without the memory, 4 KiB it is;
	 * stdin, which outlives the reader, keeps its own. */
	r->iobuf = r->own_file ? malloc(READ_BUF_SIZE) : NULL;
	if (r->iobuf && setvbuf(r->f, r->iobuf, _IOFBF, READ_BUF_SIZE)) {
		free(r->iobuf);
		r->iobuf = NULL;
	}
	ret = read_header(r, info, err, errlen);
	if (ret)
		goto out_free;
	*out = r;
	return 0;

out_free:
	recfile__close_reader(r);
	return ret;
}

int recfile__next(struct recfile_reader *r, const void **rec, size_t *len,
		  char *err, size_t errlen)
{
	unsigned long long start = r->off;
	__u32 n;
	int ret;

	ret = read_exact(r, &n, sizeof(n));
	if (ret == 0)
		return 0;
	if (ret == -EBADMSG) {
		set_err(r, start, err, errlen, "truncated record length");
		return ret;
	}
	if (ret < 0) {
		set_err(r, start, err, errlen, "%s", strerror(-ret));
		return ret;
	}
	n = le32toh(n);
	if (n > RECFILE_RECORD_MAX) {
		set_err(r, start, err, errlen,
			"record length %u exceeds maximum %d", n,
			RECFILE_RECORD_MAX);
		return -EBADMSG;
	}
	ret = read_exact(r, r->rec, n);
	if (ret == 0 || ret == -EBADMSG) {
		set_err(r, start, err, errlen,
			"truncated record (%llu of %u bytes)",
			r->off - start - sizeof(n), n);
		return -EBADMSG;
	}
	if (ret < 0) {
		set_err(r, start, err, errlen, "%s", strerror(-ret));
		return ret;
	}
	if (record__check(r->rec, n)) {
		set_err(r, start, err, errlen,
			"malformed record (length %u, kind %u)", n,
			n >= sizeof(__u32) ? *(const __u32 *)r->rec : 0);
		return -EBADMSG;
	}
	*rec = r->rec;
	*len = n;
	return 1;
}

void recfile__close_reader(struct recfile_reader *r)
{
	if (!r)
		return;
	if (r->own_file && r->f)
		fclose(r->f);
	free(r->iobuf);
	free(r->rec);
	free(r->name);
	free(r);
}
