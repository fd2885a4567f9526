// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/recfile.h"

static char tmpdir[64];
static char path[128];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/test_recfile.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/cap.bin", tmpdir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
}

TestSuite(recfile, .init = setup, .fini = teardown);

static size_t make_data(struct cap_data *d, unsigned int i, __u32 dlen)
{
	__u32 k;

	memset(d, 0, CAP_DATA_HDR_SIZE);
	d->hdr.kind = CAP_KIND_DATA;
	d->hdr.tgid = 1000 + i % 7;
	d->hdr.tid = 2000 + i;
	d->hdr.uid = 1000;
	d->hdr.ts_ns = 1000000ull * i;
	snprintf(d->hdr.comm, sizeof(d->hdr.comm), "python3");
	d->conn = 0x5500000000ull + (i % 3) * 0x100;
	d->call_id = i;
	d->dir = i % 2 ? CAP_DIR_READ : CAP_DIR_WRITE;
	d->call_len = dlen;
	d->len = dlen;
	for (k = 0; k < dlen; k++)
		d->data[k] = (__u8)(i * 31 + k);
	return CAP_DATA_HDR_SIZE + dlen;
}

static size_t make_proc(struct cap_proc *p, unsigned int i, __u32 kind)
{
	memset(p, 0, sizeof(*p));
	p->hdr.kind = kind;
	p->hdr.tgid = 3000 + i;
	p->hdr.ts_ns = 5000ull * i;
	p->ppid = 1;
	p->exit_code = i;
	return sizeof(*p);
}

/* Record i of the round-trip sequence: every kind, many data sizes. */
static size_t make_rec(void *buf, unsigned int i)
{
	static const __u32 kinds[] = { CAP_KIND_EXEC, CAP_KIND_EXIT,
				       CAP_KIND_DLOPEN };
	static const __u32 sizes[] = { 0, 1, 7, 100, 4096, CAP_CHUNK_MAX - 1,
				       CAP_CHUNK_MAX };

	if (i % 4 == 3)
		return make_proc(buf, i, kinds[(i / 4) % 3]);
	return make_data(buf, i, sizes[i % 7]);
}

static void write_raw(const void *p, size_t n, const char *mode)
{
	FILE *f = fopen(path, mode);

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void write_header(void)
{
	struct recfile_writer *w;
	struct recfile_info info = { .realtime_offset_ns = 1 };

	cr_assert_eq(recfile__create(&w, path, &info, NULL, 0), 0);
	cr_assert_eq(recfile__close_writer(w), 0);
}

static void write_len(__u32 n)
{
	write_raw(&n, sizeof(n), "ab");
}

Test(recfile, round_trip)
{
	static __u64 buf[RECFILE_RECORD_MAX / 8 + 1];
	struct recfile_info info = { 0 }, got_info;
	struct recfile_writer *w;
	struct recfile_reader *r;
	const void *rec;
	char err[256];
	size_t len, n;
	unsigned int i;

	info.realtime_offset_ns = 1700000000123456789ull;
	strcpy(info.hostname, "node-7.example");
	cr_assert_eq(recfile__create(&w, path, &info, NULL, 0), 0);
	for (i = 0; i < 1000; i++) {
		n = make_rec(buf, i);
		cr_assert_eq(recfile__write(w, buf, n), 0, "record %u", i);
		if (i == 500)
			cr_assert_eq(recfile__flush(w), 0);
	}
	cr_assert_eq(recfile__close_writer(w), 0);

	cr_assert_eq(recfile__open(&r, path, &got_info, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(got_info.abi, CAP_ABI_VERSION);
	cr_assert_eq(got_info.realtime_offset_ns, info.realtime_offset_ns);
	cr_assert_str_eq(got_info.hostname, "node-7.example");
	for (i = 0; i < 1000; i++) {
		n = make_rec(buf, i);
		cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), 1,
			     "record %u: %s", i, err);
		cr_assert_eq(len, n, "record %u", i);
		cr_assert_eq(memcmp(rec, buf, n), 0, "record %u", i);
		cr_assert_eq((uintptr_t)rec % 8, 0);
	}
	cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), 0);
	cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), 0);
	recfile__close_reader(r);
}

Test(recfile, header_only_is_empty)
{
	struct recfile_reader *r;
	const void *rec;
	size_t len;

	write_header();
	cr_assert_eq(recfile__open(&r, path, NULL, NULL, 0), 0);
	cr_assert_eq(recfile__next(r, &rec, &len, NULL, 0), 0);
	recfile__close_reader(r);
}

Test(recfile, truncated_record)
{
	struct cap_data d;
	struct recfile_writer *w;
	struct recfile_reader *r;
	struct recfile_info info = { 0 };
	const void *rec;
	char err[256];
	size_t len, n;

	cr_assert_eq(recfile__create(&w, path, &info, NULL, 0), 0);
	n = make_data(&d, 1, 100);
	cr_assert_eq(recfile__write(w, &d, n), 0);
	cr_assert_eq(recfile__write(w, &d, n), 0);
	cr_assert_eq(recfile__close_writer(w), 0);
	/* Cut 10 bytes off the second record. */
	cr_assert_eq(truncate(path, RECFILE_HDR_SIZE + 2 * (4 + n) - 10), 0);

	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), 0);
	cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), 1);
	cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "truncated record"), "%s", err);
	cr_assert(strstr(err, path), "%s", err);
	cr_assert(strstr(err, "offset 280:"), "%s", err); /* 88 + 4 + 188 */
	recfile__close_reader(r);
}

Test(recfile, truncated_length)
{
	struct recfile_reader *r;
	const void *rec;
	char err[256];
	size_t len;

	write_header();
	write_raw("\x10\x00", 2, "ab");
	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), 0);
	cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "offset 88: truncated record length"), "%s", err);
	recfile__close_reader(r);
}

Test(recfile, truncated_header)
{
	struct recfile_reader *r = NULL;
	char err[256];

	write_raw("OISPCAP\0\1\0\0\0", 12, "wb");
	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), -EBADMSG);
	cr_assert_null(r);
	cr_assert(strstr(err, "truncated header"), "%s", err);

	write_raw("", 0, "wb");
	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), -EBADMSG);
}

Test(recfile, bad_magic)
{
	unsigned char h[RECFILE_HDR_SIZE] = "GIF89a";
	struct recfile_reader *r;
	char err[256];

	write_raw(h, sizeof(h), "wb");
	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "bad magic"), "%s", err);
}

Test(recfile, abi_mismatch)
{
	unsigned char h[RECFILE_HDR_SIZE] = "OISPCAP";
	struct recfile_reader *r;
	char err[256];

	h[8] = CAP_ABI_VERSION + 1;
	h[12] = RECFILE_HDR_SIZE;
	write_raw(h, sizeof(h), "wb");
	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "ABI"), "%s", err);
}

Test(recfile, oldest_abi_is_read_and_older_refused)
{
	unsigned char h[RECFILE_HDR_SIZE] = "OISPCAP";
	struct recfile_info info;
	struct recfile_reader *r;
	char err[256];

	h[8] = CAP_ABI_OLDEST;
	h[12] = RECFILE_HDR_SIZE;
	write_raw(h, sizeof(h), "wb");
	cr_assert_eq(recfile__open(&r, path, &info, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(info.abi, CAP_ABI_OLDEST);
	recfile__close_reader(r);
	h[8] = CAP_ABI_OLDEST - 1;
	write_raw(h, sizeof(h), "wb");
	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "this build reads ABI 1 to 2"), "%s", err);
}

Test(recfile, longer_header_is_skipped)
{
	unsigned char h[RECFILE_HDR_SIZE + 8] = "OISPCAP";
	struct cap_proc p;
	struct recfile_info info;
	struct recfile_reader *r;
	const void *rec;
	char err[256];
	size_t len;

	h[8] = CAP_ABI_VERSION;
	h[12] = RECFILE_HDR_SIZE + 8;
	h[16] = 42;
	memcpy(h + 24, "host", 4);
	write_raw(h, sizeof(h), "wb");
	write_len(make_proc(&p, 1, CAP_KIND_EXIT));
	write_raw(&p, sizeof(p), "ab");
	cr_assert_eq(recfile__open(&r, path, &info, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(info.realtime_offset_ns, 42);
	cr_assert_str_eq(info.hostname, "host");
	cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), 1,
		     "%s", err);
	cr_assert_eq(len, sizeof(p));
	recfile__close_reader(r);
}

Test(recfile, oversize_length)
{
	struct recfile_reader *r;
	const void *rec;
	char err[256];
	size_t len;

	write_header();
	write_len(99999999);
	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), 0);
	cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, ": offset 88: record length 99999999 "
			  "exceeds maximum"), "%s", err);
	recfile__close_reader(r);
}

Test(recfile, data_len_mismatch)
{
	struct cap_data d;
	struct recfile_reader *r;
	const void *rec;
	char err[256];
	size_t len, n;

	write_header();
	n = make_data(&d, 1, 50);
	d.len = 60;	/* record carries 50 bytes, claims 60 */
	write_len((__u32)n);
	write_raw(&d, n, "ab");
	cr_assert_eq(recfile__open(&r, path, NULL, err, sizeof(err)), 0);
	cr_assert_eq(recfile__next(r, &rec, &len, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "offset 88: malformed record"), "%s", err);
	recfile__close_reader(r);
}

Test(recfile, check_record)
{
	struct cap_data d;
	struct cap_proc p;
	size_t n;

	n = make_data(&d, 0, 10);
	cr_assert_eq(record__check(&d, n), 0);
	cr_assert_eq(record__check(&d, n - 1), -EBADMSG);
	cr_assert_eq(record__check(&d, n + 1), -EBADMSG);
	cr_assert_eq(record__check(&d, sizeof(struct cap_hdr)),
		     -EBADMSG);
	cr_assert_eq(record__check(&d, 4), -EBADMSG);
	cr_assert_eq(record__check(NULL, 0), -EBADMSG);
	d.dir = 3;
	cr_assert_eq(record__check(&d, n), -EBADMSG);
	d.dir = CAP_DIR_READ;
	d.len = CAP_CHUNK_MAX + 1;
	cr_assert_eq(record__check(&d, CAP_DATA_HDR_SIZE +
				   CAP_CHUNK_MAX + 1), -EBADMSG);
	d.hdr.kind = 99;
	cr_assert_eq(record__check(&d, n), -EBADMSG);
	/* Kind 0 is none; fork records stay inside capture. */
	n = make_proc(&p, 0, 0);
	cr_assert_eq(record__check(&p, n), -EBADMSG);
	n = make_proc(&p, 0, CAP_KIND_FORK);
	cr_assert_eq(record__check(&p, n), -EBADMSG);

	n = make_proc(&p, 0, CAP_KIND_DLOPEN);
	cr_assert_eq(record__check(&p, n), 0);
	cr_assert_eq(record__check(&p, n - 1), -EBADMSG);
	/* Unaligned input is fine. */
	{
		unsigned char u[sizeof(p) + 1];

		memcpy(u + 1, &p, sizeof(p));
		cr_assert_eq(record__check(u + 1, sizeof(p)), 0);
	}
}

Test(recfile, write_rejects_malformed)
{
	struct recfile_writer *w;
	struct recfile_info info = { 0 };
	struct cap_proc p;

	cr_assert_eq(recfile__create(&w, path, &info, NULL, 0), 0);
	make_proc(&p, 0, 77);
	cr_assert_eq(recfile__write(w, &p, sizeof(p)), -EBADMSG);
	cr_assert_eq(recfile__close_writer(w), 0);
	cr_assert_eq(recfile__close_writer(NULL), 0);
	recfile__close_reader(NULL);
}

Test(recfile, create_errors)
{
	struct recfile_writer *w;
	struct recfile_reader *r;
	struct recfile_info info = { 0 };
	char err[256];

	cr_assert_eq(recfile__create(&w, "/nonexistent/dir/cap", &info, err,
				     sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/dir/cap"), "%s", err);
	cr_assert_eq(recfile__open(&r, "/nonexistent/cap", NULL, err,
				   sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/cap"), "%s", err);
}

Test(recfile, stdio_dash)
{
	struct recfile_writer *w;
	struct recfile_reader *r;
	struct recfile_info info = { .realtime_offset_ns = 5 };
	struct cap_proc p;
	const void *rec;
	size_t len;
	int fd;

	/* Tests run in their own process: redirect stdout, then stdin. */
	fflush(stdout);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);
	cr_assert_eq(recfile__create(&w, "-", &info, NULL, 0), 0);
	cr_assert_eq(recfile__write(w, &p, make_proc(&p, 9, CAP_KIND_EXEC)),
		     0);
	cr_assert_eq(recfile__close_writer(w), 0);
	cr_assert_neq(fcntl(STDOUT_FILENO, F_GETFD), -1, "stdout closed");

	cr_assert_not_null(freopen(path, "rb", stdin));
	cr_assert_eq(recfile__open(&r, "-", &info, NULL, 0), 0);
	cr_assert_eq(info.realtime_offset_ns, 5);
	cr_assert_eq(recfile__next(r, &rec, &len, NULL, 0), 1);
	cr_assert_eq(((const struct cap_proc *)rec)->hdr.tgid, 3009);
	cr_assert_eq(recfile__next(r, &rec, &len, NULL, 0), 0);
	recfile__close_reader(r);
}

Test(recfile, info_now)
{
	struct recfile_info info;

	cr_assert_eq(recfile__info_now(&info), 0);
	cr_assert_eq(info.abi, CAP_ABI_VERSION);
	/* Wall clock is past 2020 and the box has been up less than that. */
	cr_assert_gt(info.realtime_offset_ns, 1577836800ull * 1000000000ull);
}

/*
 * `record` runs as root and empties its FILE: a link, a FIFO or another
 * user's file planted at the path must be refused before anything is
 * truncated, and without blocking (a FIFO would hang open(2): the alarm
 * fails the test instead).
 */
#define HANG_BOUND_S 5

Test(recfile, create_refuses_symlink)
{
	struct recfile_writer *w = NULL;
	struct recfile_info info = { 0 };
	char target[160], err[512];
	FILE *f;

	snprintf(target, sizeof(target), "%s/secret", tmpdir);
	f = fopen(target, "w");
	cr_assert_not_null(f);
	fputs("keep me\n", f);
	fclose(f);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_eq(recfile__create(&w, path, &info, err, sizeof(err)),
		     -ELOOP);
	cr_assert(strstr(err, path) && strstr(err, "symbolic link"), "%s", err);
	cr_assert_null(w);
	f = fopen(target, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(err, sizeof(err), f));
	fclose(f);
	cr_assert_str_eq(err, "keep me\n");
	unlink(target);
}

Test(recfile, create_refuses_fifo_without_blocking)
{
	struct recfile_writer *w = NULL;
	struct recfile_info info = { 0 };
	char err[512];

	cr_assert_eq(mkfifo(path, 0600), 0);
	alarm(HANG_BOUND_S);
	cr_assert_eq(recfile__create(&w, path, &info, err, sizeof(err)),
		     -EINVAL);
	alarm(0);
	cr_assert(strstr(err, path) && strstr(err, "FIFO"), "%s", err);
	cr_assert_null(w);
}

/* A file at the path with @text, mode 0666, owned by @uid. */
static void precreate(const char *text, uid_t uid)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, 0666), 0);
	cr_assert_eq(fchown(fd, uid, uid), 0);
	close(fd);
}

Test(recfile, create_refuses_other_users_file)
{
	struct recfile_writer *w = NULL;
	struct recfile_info info = { 0 };
	struct stat sb;
	char err[512];

	if (geteuid() != 0)
		cr_skip_test("needs root to chown");
	precreate("theirs", 65534);
	cr_assert_eq(recfile__create(&w, path, &info, err, sizeof(err)),
		     -EPERM);
	cr_assert(strstr(err, path) && strstr(err, "uid 65534"), "%s", err);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_size, 6, "emptied before the check");
}

/* Our own file: emptied and rewritten, made 0640 if others could write. */
Test(recfile, create_empties_own_file)
{
	struct recfile_writer *w = NULL;
	struct recfile_info info = { 0 };
	struct stat sb;
	char err[512];

	precreate("old contents, longer than nothing", geteuid());
	cr_assert_eq(recfile__create(&w, path, &info, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(recfile__close_writer(w), 0);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_size, RECFILE_HDR_SIZE);
	cr_assert_eq(sb.st_mode & 07777, 0640, "mode %o", sb.st_mode & 07777);
}
