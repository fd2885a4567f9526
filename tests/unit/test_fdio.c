// SPDX-License-Identifier: MIT
/* fdio: whole reads and writes over a pipe (lib/fdio.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdio.h"

Test(fdio, read_full_stops_at_eof)
{
	char buf[16];
	int fd[2];

	cr_assert_eq(pipe(fd), 0);
	cr_assert_eq(fdio__write_full(fd[1], "abc", 3), 0);
	cr_assert_eq(fdio__write(fd[1], "de", 2), 2);
	close(fd[1]);
	cr_assert_eq(fdio__read_full(fd[0], buf, sizeof(buf)), 5);
	cr_assert_eq(memcmp(buf, "abcde", 5), 0);
	cr_assert_eq(fdio__read_full(fd[0], buf, sizeof(buf)), 0);
	close(fd[0]);
}

Test(fdio, read_full_fills_the_buffer)
{
	char buf[4];
	int fd[2];

	cr_assert_eq(pipe(fd), 0);
	cr_assert_eq(fdio__write_full(fd[1], "abcdef", 6), 0);
	cr_assert_eq(fdio__read_full(fd[0], buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "abcd", 4), 0);
	close(fd[0]);
	close(fd[1]);
}

Test(fdio, errors_are_negative_errno)
{
	char c;

	cr_assert_eq(fdio__read_full(-1, &c, 1), -EBADF);
	cr_assert_eq(fdio__write(-1, "x", 1), -EBADF);
	cr_assert_eq(fdio__write_full(-1, "x", 1), -EBADF);
}
