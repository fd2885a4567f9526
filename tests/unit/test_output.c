// SPDX-License-Identifier: MIT
/*
 * output: JSON Lines appends, directory creation, errors, reopen.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "output.h"

static char dir[64];

static void mkdtemp_dir(void)
{
	strcpy(dir, "/tmp/oisp-test-output-XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void rm_rf(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static char *slurp(const char *path, size_t *len)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");

	cr_assert(f, "%s", path);
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

Test(output, creates_parents_and_appends_lines)
{
	struct output_stats st;
	struct output *o;
	struct stat sb;
	char path[128], sub[128], err[256];
	size_t len;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/a/b/events.jsonl", dir);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(output__path(o), path);
	cr_assert_eq(output__write_line(o, "{\"n\":1}", 7), 0);
	cr_assert_eq(output__write_line(o, "{\"n\":2}xx", 7), 0);
	output__stats(o, &st);
	cr_assert_eq(st.lines, 2);
	cr_assert_eq(st.bytes, 16);
	cr_assert_eq(st.write_errors, 0);
	cr_assert_str_eq(slurp(path, &len), "{\"n\":1}\n{\"n\":2}\n");
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0137, 0, "mode %o", sb.st_mode & 0777);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	cr_assert_eq(stat(sub, &sb), 0);
	cr_assert(S_ISDIR(sb.st_mode));
	cr_assert_eq(sb.st_mode & 0027, 0, "mode %o", sb.st_mode & 0777);
	output__close(o);

	/* Opening again appends. */
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0);
	cr_assert_eq(output__write_line(o, "3", 1), 0);
	output__close(o);
	cr_assert_str_eq(slurp(path, &len), "{\"n\":1}\n{\"n\":2}\n3\n");
	output__close(NULL);
	rm_rf();
}

Test(output, large_line_is_one_write)
{
	struct output *o;
	char path[128], err[256];
	size_t n = 40000, len;
	char *line = malloc(n);

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/big.jsonl", dir);
	memset(line, 'x', n);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0);
	cr_assert_eq(output__write_line(o, line, n), 0);
	cr_assert_eq(output__write_line(o, "y", 1), 0);
	output__close(o);
	slurp(path, &len);
	cr_assert_eq(len, n + 3);
	free(line);
	rm_rf();
}

Test(output, open_errors_name_the_path)
{
	struct output *o = (struct output *)1;
	char path[128], err[256];
	FILE *f;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/sub/x.jsonl", dir);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), -ENOTDIR);
	cr_assert_null(o);
	cr_assert(strstr(err, path), "%s", err);
	cr_assert(strstr(err, "Not a directory"), "%s", err);
	cr_assert_eq(output__open(&o, "", err, sizeof(err)), -EINVAL);
	rm_rf();
}

Test(output, write_error_is_counted)
{
	struct output_stats st;
	struct output *o;
	char err[256];

	cr_assert_eq(output__open(&o, "/dev/full", err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(output__write_line(o, "{}", 2), -ENOSPC);
	output__stats(o, &st);
	cr_assert_eq(st.lines, 0);
	cr_assert_eq(st.write_errors, 1);
	cr_assert_eq(st.last_errno, ENOSPC);
	output__close(o);
}

/* A write crossing RLIMIT_FSIZE is short: the partial line must go. */
Test(output, short_write_leaves_no_partial_line)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct rlimit rl = { .rlim_cur = 100, .rlim_max = RLIM_INFINITY };
	struct output_stats st;
	struct output *o;
	char path[128], err[256], line[80];
	size_t len;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/full.jsonl", dir);
	cr_assert_eq(sigaction(SIGXFSZ, &sa, NULL), 0);
	memset(line, 'a', sizeof(line));
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_assert_eq(output__write_line(o, line, 60), 0);
	cr_assert_eq(output__write_line(o, line, 60), -ENOSPC);
	output__stats(o, &st);
	cr_assert_eq(st.lines, 1);
	cr_assert_eq(st.write_errors, 1);
	slurp(path, &len);
	cr_assert_eq(len, 61);
	cr_assert_eq(output__write_line(o, line, 10), 0);
	slurp(path, &len);
	cr_assert_eq(len, 72);
	output__close(o);
	rm_rf();
}

Test(output, reopen_follows_rotation)
{
	struct output *o;
	char path[128], old[140], err[256];
	size_t len;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0);
	cr_assert_eq(output__write_line(o, "first", 5), 0);
	cr_assert_eq(rename(path, old), 0);
	cr_assert_eq(output__write_line(o, "second", 6), 0);
	cr_assert_eq(output__reopen(o), 0);
	cr_assert_eq(output__write_line(o, "third", 5), 0);
	output__close(o);
	cr_assert_str_eq(slurp(old, &len), "first\nsecond\n");
	cr_assert_str_eq(slurp(path, &len), "third\n");
	rm_rf();
}

Test(output, stdout_dash)
{
	struct output *o;
	char err[256];

	cr_assert_eq(output__open(&o, "-", err, sizeof(err)), 0);
	cr_assert_str_eq(output__path(o), "-");
	cr_assert_eq(output__reopen(o), 0);
	cr_assert_eq(output__write_line(o, "{\"stdout\":true}", 15), 0);
	output__close(o);
	/* stdout stays open */
	cr_assert_neq(fcntl(STDOUT_FILENO, F_GETFD), -1);
}
