/* SPDX-License-Identifier: MIT */
/*
 * goexe.h - Go executables for the tests of gosym and retsites: the test
 * clients built at test time with Debian's go (tests/build-go-clients.sh)
 * and esbuild's npm packages, built by other Go releases
 * (tests/fetch-go-exes.sh); both live in a cache outside the clone.
 * Tests run in tests/unit.
 */
#ifndef OISP_TEST_GOEXE_H
#define OISP_TEST_GOEXE_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The directory of the built Go test clients (aiclient, aiclient-pie, ...). */
static inline const char *goexe_dir(void)
{
	static char dir[PATH_MAX];
	FILE *p;

	if (dir[0])
		return dir;
	p = popen("../build-go-clients.sh", "r");
	cr_assert(p, "run tests/build-go-clients.sh");
	cr_assert(fgets(dir, sizeof(dir), p), "tests/build-go-clients.sh failed");
	cr_assert_eq(pclose(p), 0, "tests/build-go-clients.sh failed");
	dir[strcspn(dir, "\n")] = '\0';
	return dir;
}

/* Path of built client variant @name ("aiclient-pie") in @buf. */
static inline const char *goexe(char *buf, size_t n, const char *name)
{
	int r = snprintf(buf, n, "%s/%s", goexe_dir(), name);

	cr_assert(r > 0 && (size_t)r < n, "path too long");
	return buf;
}

/* Path of the esbuild executable of npm package @pkg ("NAME@VERSION"). */
static inline const char *esbuild_exe(char *buf, size_t n, const char *pkg)
{
	static int fetched;
	const char *c = getenv("OISP_TEST_CACHE");

	if (!fetched++)
		cr_assert_eq(system("../fetch-go-exes.sh"), 0,
			     "tests/fetch-go-exes.sh failed");
	snprintf(buf, n, "%s/npm/%s/package/bin/esbuild",
		 c ? c : "/var/cache/oisp-test", pkg);
	return buf;
}

#endif /* OISP_TEST_GOEXE_H */
