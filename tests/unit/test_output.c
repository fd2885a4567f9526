// SPDX-License-Identifier: MIT
/*
 * output: JSON Lines appends, directory creation, errors, reopen.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "event/output.h"

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

/* A new output at @name in a new temporary directory; its path in @path. */
static struct output *open_tmp(const char *name, char *path, size_t n)
{
	struct output *o;
	char err[256];

	mkdtemp_dir();
	snprintf(path, n, "%s/%s", dir, name);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0, "%s", err);
	return o;
}

/* Held lines reach the file only whole, on flush, when full, on close. */
Test(output, batch_holds_whole_lines_until_flush)
{
	struct output_stats st;
	char path[128], line[100];
	struct output *o = open_tmp("batch.jsonl", path, sizeof(path));
	size_t len;

	cr_assert_eq(output__set_batch(o, 100), 0);
	cr_assert_eq(output__write_line(o, "one", 3), 0);
	cr_assert_eq(output__write_line(o, "two", 3), 0);
	output__stats(o, &st);
	cr_assert_eq(st.lines, 0);
	cr_assert_str_eq(slurp(path, &len), "");
	cr_assert_eq(output__flush(o), 0);
	cr_assert_str_eq(slurp(path, &len), "one\ntwo\n");
	output__stats(o, &st);
	cr_assert_eq(st.lines, 2);
	cr_assert_eq(st.bytes, 8);
	cr_assert_eq(output__flush(o), 0);	/* nothing held */

	/* The third 40-byte line does not fit in 100: the two go first. */
	memset(line, 'x', sizeof(line));
	cr_assert_eq(output__write_line(o, line, 39), 0);
	cr_assert_eq(output__write_line(o, line, 39), 0);
	cr_assert_eq(output__write_line(o, line, 39), 0);
	slurp(path, &len);
	cr_assert_eq(len, 8 + 80);
	/* A line of the block's size or more goes out with what is held. */
	cr_assert_eq(output__write_line(o, "y", 1), 0);
	cr_assert_eq(output__write_line(o, line, sizeof(line)), 0);
	slurp(path, &len);
	cr_assert_eq(len, 8 + 80 + 40 + 2 + 101);
	cr_assert_eq(output__write_line(o, "last", 4), 0);
	output__close(o);
	slurp(path, &len);
	cr_assert_eq(len, 8 + 80 + 40 + 2 + 101 + 5);
	rm_rf();
}

/* Rotation decides line by line: it turns holding off. */
Test(output, rotation_turns_batch_off)
{
	char path[128];
	struct output *o = open_tmp("rot.jsonl", path, sizeof(path));
	size_t len;

	cr_assert_eq(output__set_batch(o, 4096), 0);
	cr_assert_eq(output__write_line(o, "held", 4), 0);
	cr_assert_eq(output__set_rotation(o, 1000, 2), 0);
	cr_assert_str_eq(slurp(path, &len), "held\n");
	cr_assert_eq(output__write_line(o, "now", 3), 0);
	cr_assert_str_eq(slurp(path, &len), "held\nnow\n");
	cr_assert_eq(output__set_batch(o, 4096), 0);
	cr_assert_eq(output__write_line(o, "still", 5), 0);
	cr_assert_str_eq(slurp(path, &len), "held\nnow\nstill\n");
	output__close(o);
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
	/* Held lines fail on the flush, each one counted. */
	cr_assert_eq(output__set_batch(o, 4096), 0);
	cr_assert_eq(output__write_line(o, "{}", 2), 0);
	cr_assert_eq(output__write_line(o, "{}", 2), 0);
	cr_assert_eq(output__write_line(o, "{}", 2), 0);
	cr_assert_eq(output__flush(o), -ENOSPC);
	output__stats(o, &st);
	cr_assert_eq(st.lines, 0);
	cr_assert_eq(st.write_errors, 4);
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

/* Deleted under the sensor: output__check() starts a new file. */
Test(output, check_reopens_a_deleted_file_only)
{
	struct output_stats st;
	struct output *o;
	char path[128], old[140], err[256];
	size_t len;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0);
	cr_assert_eq(output__check(o), 0, "nothing to do");
	cr_assert_eq(output__write_line(o, "first", 5), 0);
	/* Renamed (logrotate before its SIGHUP): left alone. */
	cr_assert_eq(rename(path, old), 0);
	cr_assert_eq(output__check(o), 0);
	cr_assert_eq(output__write_line(o, "second", 6), 0);
	cr_assert_str_eq(slurp(old, &len), "first\nsecond\n");
	/* Deleted: a new file at the path. */
	cr_assert_eq(unlink(old), 0);
	cr_assert_eq(output__check(o), 1);
	cr_assert_eq(output__check(o), 0);
	cr_assert_eq(output__write_line(o, "third", 5), 0);
	cr_assert_str_eq(slurp(path, &len), "third\n");
	output__stats(o, &st);
	cr_assert_eq(st.reopens, 1);
	cr_assert_eq(st.lines, 3);
	output__close(o);
	rm_rf();
}

/* Failing, then working again: counted, and lines resume whole. */
Test(output, writes_resume_after_failures)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct rlimit rl = { .rlim_cur = 64, .rlim_max = RLIM_INFINITY };
	struct output_stats st;
	struct output *o;
	char path[128], err[256], line[80];
	size_t len;
	int i;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/full.jsonl", dir);
	cr_assert_eq(sigaction(SIGXFSZ, &sa, NULL), 0);
	memset(line, 'b', sizeof(line));
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_assert_eq(output__write_line(o, line, 40), 0);
	for (i = 0; i < 5; i++)
		cr_assert_lt(output__write_line(o, line, 40), 0);
	rl.rlim_cur = RLIM_INFINITY;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_assert_eq(output__write_line(o, line, 40), 0);
	output__stats(o, &st);
	cr_assert_eq(st.lines, 2);
	cr_assert_eq(st.write_errors, 5);
	slurp(path, &len);
	cr_assert_eq(len, 82, "two whole lines, nothing in between");
	output__close(o);
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

/* Rotation by size ------------------------------------------------------ */

static void path_n(char *buf, size_t len, const char *path, int k)
{
	if (k)
		snprintf(buf, len, "%s.%d", path, k);
	else
		snprintf(buf, len, "%s", path);
}

/* The contents of PATH (k 0) or PATH.k. */
static const char *file_k(const char *path, int k)
{
	char p[160];
	size_t len;

	path_n(p, sizeof(p), path, k);
	return slurp(p, &len);
}

static bool exists_k(const char *path, int k)
{
	char p[160];

	path_n(p, sizeof(p), path, k);
	return access(p, F_OK) == 0;
}

static struct output *open_rotating(char *path, size_t len, uint64_t max_bytes,
				    unsigned int max_files)
{
	struct output *o;
	char err[256];

	mkdtemp_dir();
	snprintf(path, len, "%s/ev.jsonl", dir);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(output__set_rotation(o, max_bytes, max_files), 0);
	return o;
}

Test(output, rotation_line_that_exactly_fills_stays)
{
	struct output_stats st;
	struct output *o;
	struct stat sb;
	char path[128];

	o = open_rotating(path, sizeof(path), 20, 5);
	cr_assert_eq(output__write_line(o, "123456789", 9), 0);
	cr_assert_eq(output__write_line(o, "abcdefghi", 9), 0);
	/* 20 bytes: exactly full, not past it. */
	cr_assert_not(exists_k(path, 1));
	cr_assert_str_eq(file_k(path, 0), "123456789\nabcdefghi\n");
	cr_assert_eq(output__write_line(o, "x", 1), 0);
	cr_assert_str_eq(file_k(path, 1), "123456789\nabcdefghi\n");
	cr_assert_str_eq(file_k(path, 0), "x\n");
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 1);
	cr_assert_eq(st.lines, 3);
	cr_assert_eq(st.bytes, 22);
	cr_assert_eq(st.rotate_errors, 0);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0640, "mode %o", sb.st_mode & 0777);
	output__close(o);
	rm_rf();
}

Test(output, rotation_one_byte_over_rotates)
{
	struct output *o;
	char path[128];

	o = open_rotating(path, sizeof(path), 20, 5);
	cr_assert_eq(output__write_line(o, "123456789", 9), 0);
	cr_assert_eq(output__write_line(o, "abcdefghij", 10), 0);
	cr_assert_str_eq(file_k(path, 1), "123456789\n");
	cr_assert_str_eq(file_k(path, 0), "abcdefghij\n");
	output__close(o);
	rm_rf();
}

Test(output, rotation_line_larger_than_max_gets_its_own_file)
{
	struct output_stats st;
	struct output *o;
	char path[128], big[41];

	memset(big, 'B', 40);
	big[40] = '\0';
	o = open_rotating(path, sizeof(path), 20, 5);
	cr_assert_eq(output__write_line(o, "a", 1), 0);
	cr_assert_eq(output__write_line(o, big, 40), 0);
	cr_assert_eq(output__write_line(o, "b", 1), 0);
	cr_assert_str_eq(file_k(path, 2), "a\n");
	cr_assert_eq(strlen(file_k(path, 1)), 41);
	cr_assert_str_eq(file_k(path, 0), "b\n");
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 2);
	output__close(o);
	rm_rf();

	/* First line of all, larger than max: written, nothing to rotate. */
	o = open_rotating(path, sizeof(path), 20, 5);
	cr_assert_eq(output__write_line(o, big, 40), 0);
	cr_assert_not(exists_k(path, 1));
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 0);
	output__close(o);
	rm_rf();
}

Test(output, rotation_keeps_max_files_numbered_newest_first)
{
	struct output_stats st;
	struct output *o;
	char path[128], line[16], want[16];
	int i;

	o = open_rotating(path, sizeof(path), 10, 3);
	for (i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "line%05d", i);	/* 9 + '\n' */
		cr_assert_eq(output__write_line(o, line, 9), 0);
	}
	for (i = 0; i <= 3; i++) {
		snprintf(want, sizeof(want), "line%05d\n", 9 - i);
		cr_assert_str_eq(file_k(path, i), want, "file %d", i);
	}
	cr_assert_not(exists_k(path, 4));
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 9);
	cr_assert_eq(st.lines, 10);
	cr_assert_eq(st.write_errors, 0);
	output__close(o);
	rm_rf();
}

Test(output, rotation_max_files_one)
{
	struct output *o;
	char path[128];

	o = open_rotating(path, sizeof(path), 4, 1);
	cr_assert_eq(output__write_line(o, "aaa", 3), 0);
	cr_assert_eq(output__write_line(o, "bbb", 3), 0);
	cr_assert_eq(output__write_line(o, "ccc", 3), 0);
	cr_assert_str_eq(file_k(path, 1), "bbb\n");
	cr_assert_str_eq(file_k(path, 0), "ccc\n");
	cr_assert_not(exists_k(path, 2));
	output__close(o);
	rm_rf();
}

/* A file left over from a previous run, already past the limit. */
Test(output, rotation_of_a_file_already_too_large)
{
	struct output *o;
	char path[128], err[256];
	FILE *f;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("old1\nold2\nold3\nold4\nold5\n", f);
	fclose(f);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0);
	cr_assert_eq(output__set_rotation(o, 20, 2), 0);
	cr_assert_eq(output__write_line(o, "new", 3), 0);
	cr_assert_str_eq(file_k(path, 1), "old1\nold2\nold3\nold4\nold5\n");
	cr_assert_str_eq(file_k(path, 0), "new\n");
	output__close(o);
	rm_rf();
}

/* The shipper's view: the file descriptor opened before a rotation sees
 * exactly the lines written before it, and none after. */
Test(output, rotation_old_file_is_never_written_again)
{
	struct output *o;
	char path[128], buf[64];
	ssize_t n;
	int fd;

	o = open_rotating(path, sizeof(path), 8, 2);
	cr_assert_eq(output__write_line(o, "one", 3), 0);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(output__write_line(o, "two", 3), 0);
	cr_assert_eq(output__write_line(o, "three", 5), 0);
	cr_assert_eq(output__write_line(o, "four", 4), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	cr_assert_eq(n, 8);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "one\ntwo\n");
	close(fd);
	cr_assert_str_eq(file_k(path, 2), "one\ntwo\n");
	cr_assert_str_eq(file_k(path, 1), "three\n");
	cr_assert_str_eq(file_k(path, 0), "four\n");
	output__close(o);
	rm_rf();
}

/* logrotate moved the file away and its SIGHUP has not come yet: a new
 * PATH is started, the moved file is not renamed again. */
Test(output, rotation_after_external_rename_only_reopens)
{
	struct output_stats st;
	struct output *o;
	char path[128], moved[160];
	size_t len;

	o = open_rotating(path, sizeof(path), 10, 3);
	snprintf(moved, sizeof(moved), "%s-20260101", path);
	cr_assert_eq(output__write_line(o, "aaaaaa", 6), 0);
	cr_assert_eq(rename(path, moved), 0);
	cr_assert_eq(output__write_line(o, "bbbbbb", 6), 0);
	cr_assert_str_eq(file_k(path, 0), "bbbbbb\n");
	cr_assert_str_eq(slurp(moved, &len), "aaaaaa\n");
	cr_assert_not(exists_k(path, 1));
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 1);
	/* The SIGHUP then reopens the same file. */
	cr_assert_eq(output__reopen(o), 0);
	cr_assert_eq(output__write_line(o, "c", 1), 0);
	cr_assert_str_eq(file_k(path, 0), "bbbbbb\nc\n");
	output__close(o);
	rm_rf();
}

Test(output, rotation_failure_keeps_writing_and_retries_later)
{
	struct output_stats st;
	struct output *o;
	char path[128], blocker[160], inside[200];
	FILE *f;

	o = open_rotating(path, sizeof(path), 6, 1);
	/* PATH.1 is a non-empty directory: rename(PATH, PATH.1) fails,
	 * even for root. */
	snprintf(blocker, sizeof(blocker), "%s.1", path);
	snprintf(inside, sizeof(inside), "%s/x", blocker);
	cr_assert_eq(mkdir(blocker, 0700), 0);
	f = fopen(inside, "w");
	cr_assert(f);
	fclose(f);
	cr_assert_eq(output__write_line(o, "aaaa", 4), 0);
	cr_assert_eq(output__write_line(o, "bbbb", 4), 0);
	cr_assert_eq(output__write_line(o, "cccc", 4), 0);
	cr_assert_str_eq(file_k(path, 0), "aaaa\nbbbb\ncccc\n");
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 0);
	cr_assert_eq(st.rotate_errors, 1, "retried at once: %lu",
		     (unsigned long)st.rotate_errors);
	cr_assert_eq(st.write_errors, 0);
	cr_assert_eq(st.lines, 3);
	cr_assert_neq(st.last_errno, 0);

	cr_assert_eq(unlink(inside), 0);
	cr_assert_eq(rmdir(blocker), 0);
	usleep(1100 * 1000);
	cr_assert_eq(output__write_line(o, "dddd", 4), 0);
	cr_assert_str_eq(file_k(path, 1), "aaaa\nbbbb\ncccc\n");
	cr_assert_str_eq(file_k(path, 0), "dddd\n");
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 1);
	cr_assert_eq(st.rotate_errors, 1);
	output__close(o);
	rm_rf();
}

Test(output, rotation_off_and_bad_arguments)
{
	struct output_stats st;
	struct output *o;
	char path[128], err[256];
	int i;

	o = open_rotating(path, sizeof(path), 0, 5);
	for (i = 0; i < 100; i++)
		cr_assert_eq(output__write_line(o, "0123456789", 10), 0);
	cr_assert_not(exists_k(path, 1));
	cr_assert_eq(output__set_rotation(o, 100, 0), -EINVAL);
	cr_assert_eq(output__set_rotation(o, 100, OUTPUT_MAX_FILES + 1), -EINVAL);
	cr_assert_eq(output__set_rotation(o, 100, OUTPUT_MAX_FILES), 0);
	cr_assert_eq(output__write_line(o, "x", 1), 0);
	cr_assert_str_eq(file_k(path, 0), "x\n");
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 1);
	output__close(o);
	rm_rf();

	/* stdout never rotates. */
	cr_assert_eq(output__open(&o, "-", err, sizeof(err)), 0);
	cr_assert_eq(output__set_rotation(o, 1, 5), 0);
	cr_assert_eq(output__write_line(o, "{\"r\":1}", 7), 0);
	cr_assert_eq(output__write_line(o, "{\"r\":2}", 7), 0);
	output__stats(o, &st);
	cr_assert_eq(st.rotations, 0);
	cr_assert_eq(st.rotate_errors, 0);
	output__close(o);
}

/*
 * A pipe is not a regular file: lines go out whole, nothing to truncate.
 * It is reached as "-" (a FIFO path or /proc/self/fd/N is refused).
 */
Test(output, pipe)
{
	struct output_stats st;
	struct output *o;
	char err[256], buf[64];
	int fds[2];
	ssize_t n;

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(dup2(fds[1], STDOUT_FILENO), STDOUT_FILENO);
	cr_assert_eq(output__open(&o, "-", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(output__write_line(o, "{\"a\":1}", 7), 0);
	cr_assert_eq(output__write_line(o, "{\"b\":2}", 7), 0);
	output__stats(o, &st);
	cr_assert_eq(st.lines, 2);
	cr_assert_eq(st.bytes, 16);
	n = read(fds[0], buf, sizeof(buf) - 1);
	cr_assert_eq(n, 16);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "{\"a\":1}\n{\"b\":2}\n");
	output__close(o);
	close(fds[0]);
	close(fds[1]);
}

/*
 * The sensor runs as root; the output directory may be writable by
 * users, who plant things at the path before the sensor opens it, or
 * before a reopen, a rotation or a re-creation.  Every open must refuse
 * what would leak events or hang the sensor.  A FIFO would block open(2)
 * for good: the alarm turns that into a failed (crashed) test.
 */
#define HANG_BOUND_S 5

/* A root-only file that a link at the events path points at. */
static void plant_link(const char *path, char *target, size_t n)
{
	snprintf(target, n, "%s/secret", dir);
	cr_assert_eq(close(open(target, O_WRONLY | O_CREAT, 0600)), 0);
	cr_assert_eq(symlink(target, path), 0);
}

static off_t size_of(const char *path)
{
	struct stat sb;

	cr_assert_eq(stat(path, &sb), 0, "%s", path);
	return sb.st_size;
}

Test(output, symlink_is_refused)
{
	struct output *o = (struct output *)1;
	char path[128], target[128], err[512];

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	plant_link(path, target, sizeof(target));
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), -ELOOP);
	cr_assert_null(o);
	cr_assert(strstr(err, path) && strstr(err, "symbolic link"), "%s", err);
	/* A dangling link would be created through: refused too. */
	cr_assert_eq(unlink(target), 0);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), -ELOOP);
	cr_assert_eq(access(target, F_OK), -1, "created through the link");
	rm_rf();
}

Test(output, symlink_is_refused_on_reopen_rotation_and_recreation)
{
	struct output_stats st;
	struct output *o;
	char path[128], old[140], target[128], err[512];
	size_t len;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(output__write_line(o, "first", 5), 0);
	/* SIGHUP after a rename: the old file is kept. */
	cr_assert_eq(rename(path, old), 0);
	plant_link(path, target, sizeof(target));
	cr_assert_eq(output__reopen(o), -ELOOP);
	cr_assert_eq(output__write_line(o, "second", 6), 0);
	/* Deleted, and a link in its place: no new file through the link. */
	cr_assert_eq(unlink(old), 0);
	cr_assert_eq(output__check(o), -ELOOP);
	/* Rotation: PATH is not our file; the new one is refused. */
	cr_assert_eq(output__set_rotation(o, 8, 3), 0);
	cr_assert_eq(output__write_line(o, "third-line", 10), 0);
	output__stats(o, &st);
	cr_assert_eq(st.rotate_errors, 1);
	cr_assert_eq(st.rotations, 0);
	cr_assert_eq(size_of(target), 0, "%s",
		     slurp(target, &len));
	output__close(o);
	rm_rf();
}

Test(output, fifo_is_refused_without_blocking)
{
	struct output *o = (struct output *)1;
	char path[128], err[512];
	int rd;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	cr_assert_eq(mkfifo(path, 0666), 0);
	alarm(HANG_BOUND_S);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), -EINVAL);
	cr_assert_null(o);
	cr_assert(strstr(err, path) && strstr(err, "FIFO"), "%s", err);
	/* With a reader, open(2) would succeed: the type check refuses. */
	rd = open(path, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(rd, 0);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "FIFO"), "%s", err);
	alarm(0);
	close(rd);
	rm_rf();
}

/* A file pre-created by another user (who can read it) is refused. */
Test(output, other_users_file_is_refused)
{
	struct output *o = (struct output *)1;
	char path[128], err[512];
	int fd;

	if (geteuid() != 0)
		cr_skip_test("needs root to chown");
	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0666);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fchmod(fd, 0666), 0);
	cr_assert_eq(fchown(fd, 65534, 65534), 0);
	close(fd);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), -EPERM);
	cr_assert_null(o);
	cr_assert(strstr(err, path) && strstr(err, "uid 65534"), "%s", err);
	cr_assert_eq(size_of(path), 0);
	rm_rf();
}

/* Our own file that others may write is made 0640; a hard link refused. */
Test(output, own_file_is_repaired_and_hard_link_refused)
{
	struct output *o;
	struct stat sb;
	char path[128], other[128], err[512];
	int fd;

	mkdtemp_dir();
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fchmod(fd, 0666), 0);
	close(fd);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0640, "mode %o", sb.st_mode & 07777);
	output__close(o);
	snprintf(other, sizeof(other), "%s/other", dir);
	cr_assert_eq(link(path, other), 0);
	cr_assert_eq(output__open(&o, path, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "hard links"), "%s", err);
	rm_rf();
}

/* /dev/null is a character device (only root makes those): allowed. */
Test(output, dev_null)
{
	struct output *o;
	char err[512];

	cr_assert_eq(output__open(&o, "/dev/null", err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(output__write_line(o, "x", 1), 0);
	cr_assert_eq(output__reopen(o), 0);
	output__close(o);
}
