/* SPDX-License-Identifier: MIT */
/*
 * slurp.h - test helper: a whole file in memory.  Include after
 * <criterion/criterion.h>.
 */
#ifndef OISP_TEST_SLURP_H
#define OISP_TEST_SLURP_H

#include <stdio.h>
#include <stdlib.h>

/*
 * The contents of @path, malloc'd and NUL-terminated (free it); the size
 * in *@len when @len is non-NULL.  Fails the test when @path cannot be
 * read.
 */
static inline char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	cr_assert_geq(n, 0, "%s", path);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n, "%s", path);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

#endif /* OISP_TEST_SLURP_H */
