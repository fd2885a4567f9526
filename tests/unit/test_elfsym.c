// SPDX-License-Identifier: MIT
/*
 * Tests of elfsym (symbol file offsets) and procmaps (/proc/PID/maps),
 * with real files of this machine.  Expected offsets come from binutils
 * (`nm -D`, `readelf -lW`), an implementation independent of ours.
 * The files are any user's, so some tests change them while they are
 * read, or make them lie about their sizes.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/elfsym.h"
#include "capture/procmaps.h"
#include "capture/stack.h"
#include "slurp.h"

#define LIBSSL	"/lib/x86_64-linux-gnu/libssl.so.3"
#define NODE	"/usr/bin/node"

struct seg {
	unsigned long long off, vaddr, memsz;
};

/* The PT_LOAD segments of @path, as readelf shows them. */
static int load_segments(const char *path, struct seg *segs, int max)
{
	char cmd[512], line[512];
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -lW '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p) && n < max) {
		struct seg s;

		if (sscanf(line, " LOAD 0x%llx 0x%llx 0x%*x 0x%*x 0x%llx",
			   &s.off, &s.vaddr, &s.memsz) == 3)
			segs[n++] = s;
	}
	pclose(p);
	return n;
}

/* st_value of @sym in @path per `nm -D`, or 0. */
static unsigned long long nm_value(const char *path, const char *sym)
{
	unsigned long long v = 0, val;
	char cmd[512], line[512], name[256], type;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%llx %c %255s", &val, &type, name) != 3)
			continue;
		name[strcspn(name, "@")] = '\0';
		if (strcmp(name, sym) == 0 && (type == 'T' || type == 't')) {
			v = val;
			break;
		}
	}
	pclose(p);
	return v;
}

static unsigned long long expected_offset(const char *path, const char *sym)
{
	unsigned long long v = nm_value(path, sym);
	struct seg segs[16];
	int i, n = load_segments(path, segs, 16);

	if (!v || n <= 0)
		return 0;
	for (i = 0; i < n; i++)
		if (v >= segs[i].vaddr && v < segs[i].vaddr + segs[i].memsz)
			return v - segs[i].vaddr + segs[i].off;
	return 0;
}

static void check_against_nm(const char *path, const char *sym)
{
	unsigned long long want = expected_offset(path, sym);
	struct elfsym *e = NULL;
	__u64 off = 0;

	if (!want)
		cr_skip_test("%s or binutils not available", path);
	cr_assert_eq(elfsym__open(path, &e), 0);
	cr_assert_eq(elfsym__offset(e, sym, &off), 0, "%s in %s", sym, path);
	cr_expect_eq(off, want, "%s: 0x%llx != 0x%llx", sym,
		     (unsigned long long)off, want);
	elfsym__free(e);
}

Test(elfsym, libssl_matches_nm)
{
	if (access(LIBSSL, R_OK))
		cr_skip_test(LIBSSL " missing");
	check_against_nm(LIBSSL, "SSL_write");
	check_against_nm(LIBSSL, "SSL_read");
	check_against_nm(LIBSSL, "SSL_write_ex");
	check_against_nm(LIBSSL, "SSL_read_ex");
}

/* node is ET_EXEC: its text lies at vaddr != file offset. */
Test(elfsym, node_executable_offsets)
{
	unsigned long long v = nm_value(NODE, "SSL_write");
	struct elfsym *e = NULL;
	__u64 off = 0;

	if (access(NODE, R_OK) || !v)
		cr_skip_test(NODE " missing or without SSL_write");
	check_against_nm(NODE, "SSL_write");
	check_against_nm(NODE, "SSL_read_ex");
	cr_assert_eq(elfsym__open(NODE, &e), 0);
	cr_assert_eq(elfsym__offset(e, "SSL_write", &off), 0);
	cr_expect_neq(off, v, "offset must differ from st_value here");
	cr_expect(elfsym__native(e));
	elfsym__free(e);
}

#define LIBGNUTLS		"/usr/lib/x86_64-linux-gnu/libgnutls.so.30"
#define LIBGNUTLS_OPENSSL	"/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27"

/* libgnutls is GnuTLS's, with the offsets nm gives. */
Test(stack, libgnutls_is_gnutls)
{
	struct stack_match m;
	unsigned int i;
	int fd = open(LIBGNUTLS, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		cr_skip_test(LIBGNUTLS " missing");
	check_against_nm(LIBGNUTLS, "gnutls_record_send");
	cr_assert_eq(stack__match_fd(fd, &m), 0);
	close(fd);
	cr_assert_eq(m.stack, &gnutls_stack);
	/* Debian's 3.7 has all six functions. */
	cr_expect_eq(m.noffs, CAP_GNUTLS_NR);
	for (i = 0; i < m.noffs; i++)
		cr_expect_eq(m.cookies[i], i);
	cr_expect_eq(m.offs[CAP_GNUTLS_RECV],
		     expected_offset(LIBGNUTLS, "gnutls_record_recv"));
	cr_expect_eq(m.offs[CAP_GNUTLS_DEINIT],
		     expected_offset(LIBGNUTLS, "gnutls_deinit"));
}

/*
 * libgnutls-openssl exports SSL_write and SSL_read over
 * gnutls_record_send and _recv, which it imports: its calls are
 * GnuTLS's, captured there; it is no stack's.
 */
Test(stack, gnutls_openssl_wrapper_is_no_stack)
{
	struct stack_match m;
	struct elfsym *e = NULL;
	__u64 off;
	int fd = open(LIBGNUTLS_OPENSSL, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		cr_skip_test(LIBGNUTLS_OPENSSL " missing");
	cr_assert_eq(elfsym__open(LIBGNUTLS_OPENSSL, &e), 0);
	cr_expect_eq(elfsym__offset(e, "SSL_write", &off), 0);
	cr_expect(elfsym__imports(e, "gnutls_record_send"));
	cr_expect(!elfsym__imports(e, "SSL_write"));
	elfsym__free(e);
	cr_expect_eq(stack__match_fd(fd, &m), -ENOENT);
	cr_expect_null(m.stack);
	close(fd);
}

Test(elfsym, absent_symbol_is_enoent)
{
	struct elfsym *e = NULL;
	__u64 off = 123;

	cr_assert_eq(elfsym__open("/bin/true", &e), 0);
	cr_expect_eq(elfsym__offset(e, "SSL_write", &off), -ENOENT);
	cr_expect_eq(elfsym__offset(e, "", &off), -ENOENT);
	cr_expect_eq(off, 123);
	cr_expect(elfsym__native(e));
	elfsym__free(e);
}

Test(elfsym, not_elf_is_enoexec)
{
	char path[] = "/tmp/test_elfsym.XXXXXX";
	struct elfsym *e = (struct elfsym *)1;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_expect_eq(elfsym__open(path, &e), -ENOEXEC, "empty file");
	cr_expect_null(e);
	cr_assert_eq(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	cr_expect_eq(elfsym__open(path, &e), -ENOEXEC, "script");
	cr_expect_null(e);
	close(fd);
	unlink(path);
	cr_expect_eq(elfsym__open("/etc/passwd", &e), -ENOEXEC);
	cr_expect_eq(elfsym__open("/nonexistent/x.so", &e), -ENOENT);
	cr_expect_eq(elfsym__open(NULL, &e), -EINVAL);
	cr_expect_eq(elfsym__open_fd(-1, &e), -EINVAL);
}

Test(elfsym, open_fd_outlives_callers_fd)
{
	struct elfsym *e = NULL;
	__u64 off = 0;
	int fd = open("/bin/true", O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(elfsym__open_fd(fd, &e), 0);
	close(fd);
	/* glibc programs import but do not define it: still ENOENT. */
	cr_expect_eq(elfsym__offset(e, "__libc_start_main", &off), -ENOENT);
	elfsym__free(e);
	elfsym__free(NULL);
}

Test(elfsym, ldso_exports_dl_debug_state)
{
	const char *ld = "/lib64/ld-linux-x86-64.so.2";
	unsigned long long want = expected_offset(ld, "_dl_debug_state");
	struct elfsym *e = NULL;
	__u64 off = 0;

	if (!want)
		cr_skip_test("%s or binutils not available", ld);
	cr_assert_eq(elfsym__open(ld, &e), 0);
	cr_assert_eq(elfsym__offset(e, "_dl_debug_state", &off), 0);
	cr_expect_eq(off, want);
	elfsym__free(e);
}

Test(elfsym, foreign_machine_is_not_native)
{
	const char *ld32 = "/usr/lib/ld-linux.so.2";
	struct elfsym *e = NULL;

	if (access(ld32, R_OK))
		cr_skip_test("no 32-bit ld.so");
	cr_assert_eq(elfsym__open(ld32, &e), 0);
	cr_expect_not(elfsym__native(e));
	elfsym__free(e);
	cr_expect_not(elfsym__native(NULL));
}

/* Not exported (no -rdynamic): found through the .symtab fallback. */
int elfsym_test_marker(int x);
__attribute__((noinline)) int elfsym_test_marker(int x)
{
	return x * 3 + 1;
}

struct find_addr {
	uintptr_t addr;
	__u64 file_off;
	bool found;
};

static int find_addr_cb(void *ctx, const struct procmaps_entry *m)
{
	struct find_addr *f = ctx;

	if (f->addr >= m->start && f->addr < m->end) {
		f->file_off = f->addr - m->start + m->offset;
		f->found = true;
		return 1;
	}
	return 0;
}

/* Our own lookup agrees with where the kernel mapped the function. */
Test(elfsym, symtab_fallback_matches_runtime_mapping)
{
	struct find_addr fa = { .addr = (uintptr_t)&elfsym_test_marker };
	struct elfsym *e = NULL;
	__u64 off = 0;
	int err;

	cr_assert_eq(elfsym_test_marker(1), 4);
	err = elfsym__open("/proc/self/exe", &e);
	cr_assert_eq(err, 0);
	err = elfsym__offset(e, "elfsym_test_marker", &off);
	if (err == -ENOENT)
		cr_skip_test("test binary stripped");
	cr_assert_eq(err, 0);
	cr_assert_eq(procmaps__for_each(getpid(), true, find_addr_cb, &fa), 1);
	cr_assert(fa.found);
	cr_expect_eq(off, fa.file_off, "0x%llx != 0x%llx",
		     (unsigned long long)off, (unsigned long long)fa.file_off);
	elfsym__free(e);
}

/*
 * A writable copy of libssl in a temporary file: @buf holds the original
 * bytes (free it), *@fd the open copy.  The caller unlinks @path.
 */
static char *libssl_copy(char *path, int *fd, size_t *len)
{
	char *buf;

	if (access(LIBSSL, R_OK))
		cr_skip_test(LIBSSL " missing");
	buf = slurp(LIBSSL, len);
	*fd = mkstemp(path);
	cr_assert_geq(*fd, 0);
	cr_assert_eq(pwrite(*fd, buf, *len, 0), (ssize_t)*len);
	return buf;
}

static void restore(int fd, const char *buf, size_t len)
{
	cr_assert_eq(ftruncate(fd, 0), 0);
	cr_assert_eq(pwrite(fd, buf, len, 0), (ssize_t)len);
}

/*
 * A user may shrink a library after the sensor opened it.  The lookups
 * that follow read only the private copy: same answers, no SIGBUS.
 */
Test(elfsym, truncated_after_open_never_faults)
{
	char path[] = "/tmp/test_elfsym_trunc.XXXXXX";
	__u64 want = 0, off;
	struct elfsym *e;
	size_t len, k;
	int fd;
	char *buf = libssl_copy(path, &fd, &len);

	cr_assert_eq(elfsym__open(path, &e), 0);
	cr_assert_eq(elfsym__offset(e, "SSL_write", &want), 0);
	elfsym__free(e);
	for (k = 0; k < len; k += len / 61 + 1) {
		restore(fd, buf, len);
		cr_assert_eq(elfsym__open(path, &e), 0);
		cr_assert_eq(ftruncate(fd, (off_t)k), 0);
		off = 0;
		cr_expect_eq(elfsym__offset(e, "SSL_write", &off), 0,
			     "truncated to %zu", k);
		cr_expect_eq(off, want);
		cr_expect_eq(elfsym__offset(e, "SSL_read_ex", &off), 0);
		elfsym__free(e);
	}
	close(fd);
	unlink(path);
	free(buf);
}

/* Truncated before open, anywhere: a clean -ENOEXEC. */
Test(elfsym, truncated_before_open_is_enoexec)
{
	char path[] = "/tmp/test_elfsym_trunc.XXXXXX";
	struct elfsym *e;
	size_t len, k;
	int fd, err;
	char *buf = libssl_copy(path, &fd, &len);

	for (k = 0; k < len; k += (k < 256 ? 7 : len / 97 + 1)) {
		restore(fd, buf, len);
		cr_assert_eq(ftruncate(fd, (off_t)k), 0);
		e = (struct elfsym *)1;
		err = elfsym__open(path, &e);
		cr_expect_eq(err, -ENOEXEC, "truncated to %zu: %d", k, err);
		cr_expect_null(e);
	}
	close(fd);
	unlink(path);
	free(buf);
}

struct shrinker {
	int fd;
	const char *buf;
	size_t len;
	atomic_bool stop;
};

static void *shrink_loop(void *arg)
{
	struct shrinker *s = arg;
	unsigned int seed = 1;

	while (!atomic_load(&s->stop)) {
		if (ftruncate(s->fd, (off_t)(rand_r(&seed) % s->len)) ||
		    pwrite(s->fd, s->buf, s->len, 0) != (ssize_t)s->len)
			break;
	}
	return NULL;
}

/* The file changes under the reader all the time: answers or errors. */
Test(elfsym, shrinking_meanwhile_never_faults)
{
	char path[] = "/tmp/test_elfsym_trunc.XXXXXX";
	struct shrinker s = { 0 };
	struct elfsym *e;
	pthread_t th;
	__u64 off;
	int i, err, ok = 0;

	s.buf = libssl_copy(path, &s.fd, &s.len);
	atomic_init(&s.stop, false);
	cr_assert_eq(pthread_create(&th, NULL, shrink_loop, &s), 0);
	for (i = 0; i < 2000; i++) {
		err = elfsym__open(path, &e);
		if (err) {
			cr_expect_lt(err, 0);
			continue;
		}
		err = elfsym__offset(e, "SSL_write", &off);
		cr_expect(err == 0 || err == -ENOENT || err == -EIO ||
			  err == -ERANGE, "%d", err);
		ok += err == 0;
		elfsym__free(e);
	}
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	cr_log_info("%d of 2000 lookups found SSL_write", ok);
	close(s.fd);
	unlink(path);
	free((char *)s.buf);
}

/* The section header of libssl's .dynsym in @buf (a 64-bit ELF). */
static Elf64_Shdr *dynsym_shdr(char *buf)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
	int i;

	for (i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_DYNSYM)
			return &sh[i];
	cr_assert_fail("no .dynsym");
	return NULL;
}

/*
 * Sizes come from the file, which a user writes: a sparse file may say
 * anything.  Over the bounds the file is refused before anything big is
 * allocated or read.
 */
Test(elfsym, sizes_are_bounded)
{
	char path[] = "/tmp/test_elfsym_big.XXXXXX";
	Elf64_Ehdr *eh;
	struct elfsym *e;
	size_t len;
	int fd;
	char *buf = libssl_copy(path, &fd, &len);

	/* .dynsym says 1 GiB, inside a sparse 2 GiB file. */
	dynsym_shdr(buf)->sh_size = 1ULL << 30;
	restore(fd, buf, len);
	cr_assert_eq(ftruncate(fd, 2LL << 30), 0);
	cr_expect_eq(elfsym__open(path, &e), -EFBIG);
	/* Extended numbering: 2^24 section headers. */
	free(buf);
	buf = slurp(LIBSSL, &len);
	eh = (Elf64_Ehdr *)buf;
	((Elf64_Shdr *)(buf + eh->e_shoff))[0].sh_size = 1u << 24;
	eh->e_shnum = 0;
	restore(fd, buf, len);
	cr_assert_eq(ftruncate(fd, 2LL << 30), 0);
	cr_expect_eq(elfsym__open(path, &e), -EFBIG);
	/* The file itself. */
	cr_assert_eq(ftruncate(fd, (off_t)ELFSYM_MAX_FILE + 1), 0);
	cr_expect_eq(elfsym__open(path, &e), -EFBIG);
	close(fd);
	unlink(path);
	free(buf);
}

Test(procmaps, parse_file_line)
{
	char line[] = "7f12a000-7f12b000 r-xp 0001f000 fd:01 1234    "
		      "/usr/lib/x86_64-linux-gnu/libssl.so.3\n";
	struct procmaps_entry e;

	cr_assert_eq(procmaps__parse_line(line, &e), 0);
	cr_expect_eq(e.start, 0x7f12a000);
	cr_expect_eq(e.end, 0x7f12b000);
	cr_expect_eq(e.offset, 0x1f000);
	cr_expect_eq(e.dev_major, 0xfd);
	cr_expect_eq(e.dev_minor, 1);
	cr_expect_eq(e.ino, 1234);
	cr_expect(e.exec);
	cr_expect_not(e.deleted);
	cr_expect_str_eq(e.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
}

Test(procmaps, parse_deleted_and_spaces)
{
	char l1[] = "1000-2000 r-xp 00000000 08:02 77 /opt/my app/lib ssl.so (deleted)\n";
	char l2[] = "1000-2000 r--p 00000000 08:02 77 /tmp/x (deleted) y\n";
	struct procmaps_entry e;

	cr_assert_eq(procmaps__parse_line(l1, &e), 0);
	cr_expect(e.deleted);
	cr_expect_str_eq(e.path, "/opt/my app/lib ssl.so");
	cr_assert_eq(procmaps__parse_line(l2, &e), 0);
	cr_expect_not(e.deleted);
	cr_expect_not(e.exec);
	cr_expect_str_eq(e.path, "/tmp/x (deleted) y");
}

Test(procmaps, parse_anonymous_and_bad)
{
	char anon[] = "7ffd1000-7ffd2000 rw-p 00000000 00:00 0 \n";
	char vdso[] = "7ffd1000-7ffd2000 r-xp 00000000 00:00 0                  [vdso]\n";
	char bad1[] = "zzzz-2000 r-xp 00000000 08:02 77 /x\n";
	char bad2[] = "1000-2000 r-xp\n";
	char bad3[] = "1000-2000 r-xp 00000000 0802 77 /x\n";
	char bad4[] = "";
	struct procmaps_entry e;

	cr_assert_eq(procmaps__parse_line(anon, &e), 0);
	cr_expect_str_eq(e.path, "");
	cr_assert_eq(procmaps__parse_line(vdso, &e), 0);
	cr_expect_str_eq(e.path, "[vdso]");
	cr_expect_eq(procmaps__parse_line(bad1, &e), -EINVAL);
	cr_expect_eq(procmaps__parse_line(bad2, &e), -EINVAL);
	cr_expect_eq(procmaps__parse_line(bad3, &e), -EINVAL);
	cr_expect_eq(procmaps__parse_line(bad4, &e), -EINVAL);
}

struct count {
	int files, exe;
};

static int count_cb(void *ctx, const struct procmaps_entry *m)
{
	struct count *c = ctx;

	cr_expect(m->exec);
	cr_expect_eq(m->path[0], '/');
	c->files++;
	if (strstr(m->path, "test_elfsym"))
		c->exe++;
	return 0;
}

Test(procmaps, own_process)
{
	struct count c = { 0 };

	cr_assert_eq(procmaps__for_each(getpid(), true, count_cb, &c), 0);
	cr_expect_geq(c.files, 2, "the test binary and libc at least");
	cr_expect_eq(c.exe, 1, "consecutive mappings reported once");
	cr_expect_eq(procmaps__for_each(0x7ffffff0, true, count_cb, &c),
		     -ENOENT);
}
