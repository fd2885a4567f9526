// SPDX-License-Identifier: MIT
/*
 * Search results by build id (idcache.h): the build id is read from the
 * notes as readelf shows it; a result is given back only for the same
 * build id and size and the same bytes at every probed offset, is
 * dropped when those differ, and is not kept without an offset to check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "capture/idcache.h"

/* This test's own build id, as readelf -n prints it (hex). */
static void readelf_id(char *hex, size_t len)
{
	char cmd[128];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "readelf -n /proc/%d/exe | sed -n 's/.*Build ID: //p'",
		 (int)getpid());
	p = popen(cmd, "r");
	cr_assert(p);
	if (!fgets(hex, (int)len, p))
		hex[0] = '\0';
	pclose(p);
	hex[strcspn(hex, "\n")] = '\0';
}

Test(idcache, build_id_as_readelf_shows_it)
{
	char want[2 * BUILD_ID_MAX + 2], got[2 * BUILD_ID_MAX + 1];
	struct build_id id;
	unsigned int i;
	int fd;

	readelf_id(want, sizeof(want));
	if (!want[0])
		cr_skip_test("no build id, or no readelf");
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert_eq(build_id__read(fd, &id), 0);
	for (i = 0; i < id.len; i++)
		snprintf(got + 2 * i, 3, "%02x", id.b[i]);
	cr_expect_str_eq(got, want);
	close(fd);

	/* Not ELF: no build id. */
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_expect_eq(build_id__read(fd, &id), -ENOEXEC);
	cr_expect_eq(id.len, 0);
	close(fd);
}

/* A temporary file of 4 KiB: byte i is i & 0xff. */
static int tmpfile_fd(void)
{
	char tmpl[] = "/tmp/oisp-idcache-XXXXXX";
	unsigned char b[4096];
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)i;
	fd = mkstemp(tmpl);
	cr_assert(fd >= 0);
	unlink(tmpl);
	cr_assert_eq(write(fd, b, sizeof(b)), (ssize_t)sizeof(b));
	return fd;
}

static void one_match(struct stack_match m[STACK_MATCH_MAX])
{
	memset(m, 0, sizeof(*m) * STACK_MATCH_MAX);
	m[0].stack = &rustls_stack;
	m[0].noffs = 2;
	m[0].offs[0] = 0x100;
	m[0].offs[1] = 4090;	/* 6 bytes before the end */
	snprintf(m[0].found, sizeof(m[0].found), "seal, open");
}

Test(idcache, hit_only_with_the_same_bytes)
{
	struct stack_match m[STACK_MATCH_MAX], got[STACK_MATCH_MAX];
	struct build_id id = { .len = 3, .b = { 1, 2, 3 } };
	struct build_id other = { .len = 3, .b = { 1, 2, 4 } };
	struct idcache *c;
	unsigned int n;
	unsigned char x = 0xcc;
	int fd, err;

	fd = tmpfile_fd();
	one_match(m);
	cr_assert_eq(idcache__new(&c), 0);
	cr_assert_eq(idcache__put(c, &id, 4096, fd, m, 1, 0), 0);
	cr_assert_eq(idcache__get(c, &id, 4096, fd, got, &n, &err), 0);
	cr_expect_eq(n, 1);
	cr_expect_eq(err, 0);
	cr_expect_eq(got[0].stack, &rustls_stack);
	cr_expect_eq(got[0].offs[1], 4090);
	cr_expect_str_eq(got[0].found, "seal, open");
	cr_expect_eq(idcache__get(c, &other, 4096, fd, got, &n, &err), -ENOENT);
	cr_expect_eq(idcache__get(c, &id, 4097, fd, got, &n, &err), -ENOENT);

	/* Another byte at the second function's start: dropped. */
	cr_assert_eq(pwrite(fd, &x, 1, 4095), 1);
	cr_expect_eq(idcache__get(c, &id, 4096, fd, got, &n, &err), -ESTALE);
	cr_expect_eq(idcache__get(c, &id, 4096, fd, got, &n, &err), -ENOENT);
	idcache__free(c);
	close(fd);
}

Test(idcache, nothing_to_check_is_not_kept)
{
	struct stack_match m[STACK_MATCH_MAX] = { 0 }, got[STACK_MATCH_MAX];
	struct build_id id = { .len = 2, .b = { 9, 9 } };
	struct build_id none = { 0 };
	struct idcache *c;
	unsigned int n;
	int fd, err;

	fd = tmpfile_fd();
	cr_assert_eq(idcache__new(&c), 0);
	m[0].skipped = &rustls_stack;
	m[0].why = "refused";
	cr_expect_eq(idcache__put(c, &id, 4096, fd, m, 1, -ESRCH), -ENOENT);
	cr_expect_eq(idcache__get(c, &id, 4096, fd, got, &n, &err), -ENOENT);
	one_match(m);
	cr_expect_eq(idcache__put(c, &none, 4096, fd, m, 1, 0), -ENOENT);
	/* An offset past the end of the file cannot be checked. */
	m[0].offs[1] = 8192;
	cr_expect_eq(idcache__put(c, &id, 4096, fd, m, 1, 0), -EIO);
	idcache__free(c);
	close(fd);
}

Test(idcache, bounded)
{
	struct stack_match m[STACK_MATCH_MAX], got[STACK_MATCH_MAX];
	struct build_id id = { .len = 4 };
	struct idcache *c;
	unsigned int i, n;
	int fd, err;

	fd = tmpfile_fd();
	one_match(m);
	cr_assert_eq(idcache__new(&c), 0);
	for (i = 0; i <= IDCACHE_MAX; i++) {
		memcpy(id.b, &i, sizeof(i));
		cr_assert_eq(idcache__put(c, &id, 4096, fd, m, 1, 0), 0);
	}
	i = 0;
	memcpy(id.b, &i, sizeof(i));
	cr_expect_eq(idcache__get(c, &id, 4096, fd, got, &n, &err), -ENOENT,
		     "the oldest went");
	i = IDCACHE_MAX;
	memcpy(id.b, &i, sizeof(i));
	cr_expect_eq(idcache__get(c, &id, 4096, fd, got, &n, &err), 0);
	idcache__free(c);
	close(fd);
}
