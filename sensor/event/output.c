// SPDX-License-Identifier: MIT
/*
 * JSON Lines appender.  See output.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event/output.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/wfile.h"

struct output {
	char *path;
	int fd;
	bool is_stdout;
	bool regular;		/* fd is a regular file (its type never changes) */
	char *buf;		/* line + '\n', or the lines held; reused */
	size_t cap;
	size_t batch;		/* output__set_batch(); 0: one write per line */
	size_t held;		/* bytes of whole lines in buf, not written yet */
	uint64_t held_lines;
	struct output_stats st;
	/* Rotation by size; max_bytes 0 = off. */
	uint64_t max_bytes;
	unsigned int max_files;
	char *from, *to;	/* PATH.N names, namelen bytes each */
	size_t namelen;
	uint64_t retry_ns;	/* after a failure, no new try before this */
	bool rotate_failing;	/* the failure was logged */
	/* Lines lost since writes started failing (0: writes work). */
	uint64_t failing_lines;
	bool check_failing;	/* output__check()'s failure was logged */
	char why[320];		/* "PATH: reason" of the last failed open */
};

#define ROTATE_RETRY_NS 1000000000ULL

/* mkdir -p of the directories above @path, each with mode 0750. */
static int make_parents(const char *path)
{
	char *dir = strdup(path);
	char *p, c;
	int err = 0;

	if (!dir)
		return -ENOMEM;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		goto out;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			err = -errno;
			goto out;
		}
		*p = c;
		if (!c)
			break;
	}
out:
	free(dir);
	return err;
}

/*
 * Makes @fd the descriptor written.  Only a regular file has a size to
 * rotate on and can be truncated back after a short write; knowing the
 * type once saves an fstat(2) per line on pipes and devices.
 */
static void set_fd(struct output *o, int fd)
{
	struct stat sb;

	o->fd = fd;
	o->regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
}

/*
 * Creates the missing directories above PATH and opens it (wfile.h: no
 * symbolic link, FIFO or other user's file).  Returns the descriptor, or
 * -errno with "PATH: reason" in o->why.
 */
static int open_path(struct output *o)
{
	int err = make_parents(o->path);

	if (err) {
		snprintf(o->why, sizeof(o->why), "%s: %s", o->path,
			 strerror(-err));
		return err;
	}
	return wfile__open(o->path, WFILE_APPEND, o->why, sizeof(o->why));
}

int output__open(struct output **out, const char *path, char *err,
		 size_t errlen)
{
	struct output *o;
	int ret;

	*out = NULL;
	if (!path || !*path) {
		if (err && errlen)
			snprintf(err, errlen, "%s: empty output path",
				 path ? path : "(null)");
		return -EINVAL;
	}
	o = calloc(1, sizeof(*o));
	if (!o || !(o->path = strdup(path))) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (strcmp(path, "-") == 0) {
		o->is_stdout = true;
		set_fd(o, STDOUT_FILENO);
		*out = o;
		return 0;
	}
	ret = open_path(o);
	if (ret < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", o->why);
		goto out_free;
	}
	set_fd(o, ret);
	*out = o;
	return 0;

err_free:
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
out_free:
	if (o)
		free(o->path);
	free(o);
	return ret;
}

static int grow(struct output *o, size_t need)
{
	size_t cap = o->cap ? o->cap : 4096;
	char *b;

	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	b = realloc(o->buf, cap);
	if (!b)
		return -ENOMEM;
	o->buf = b;
	o->cap = cap;
	return 0;
}

/*
 * Counts a line that was not written.  The first failure of a run of
 * them is logged; the next success logs how many were lost (so a full
 * disk costs two log lines, not one per event).
 */
static int fail(struct output *o, int err)
{
	o->st.write_errors++;
	o->st.last_errno = -err;
	if (!o->failing_lines++)
		pr_err("%s: cannot write events: %s; events are dropped and counted (output.write_errors) until a write succeeds",
		       o->path, strerror(-err));
	return err;
}

static void written(struct output *o, uint64_t lines, size_t n)
{
	o->st.lines += lines;
	o->st.bytes += n;
	if (o->failing_lines) {
		pr_info("%s: writing events again, %llu lost meanwhile",
			o->path, (unsigned long long)o->failing_lines);
		o->failing_lines = 0;
	}
}

int output__set_rotation(struct output *o, uint64_t max_bytes,
			 unsigned int max_files)
{
	size_t n = strlen(o->path) + sizeof(".100");	/* OUTPUT_MAX_FILES */

	if (max_files < 1 || max_files > OUTPUT_MAX_FILES)
		return -EINVAL;
	if (o->is_stdout)
		return 0;
	if (max_bytes && !o->from) {
		o->from = malloc(n);
		o->to = malloc(n);
		if (!o->from || !o->to) {
			free(o->from);
			free(o->to);
			o->from = o->to = NULL;
			return -ENOMEM;
		}
		o->namelen = n;
	}
	if (max_bytes) {
		/* Rotation decides line by line: nothing is held. */
		output__flush(o);
		o->batch = 0;
	}
	o->max_bytes = max_bytes;
	o->max_files = max_files;
	o->retry_ns = 0;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* PATH.@k into @buf (sized in output__set_rotation). */
static char *numbered(const struct output *o, char *buf, unsigned int k)
{
	snprintf(buf, o->namelen, "%s.%u", o->path, k);
	return buf;
}

/* Opens PATH afresh and makes it the file written. */
static int switch_file(struct output *o)
{
	int fd = open_path(o);

	if (fd < 0)
		return fd;
	close(o->fd);
	set_fd(o, fd);
	return 0;
}

/*
 * PATH.(N-1) -> PATH.N, ..., PATH -> PATH.1, then a new PATH.  A shift
 * that fails (other than a missing file) stops everything before PATH
 * is touched, so no rotated file is overwritten out of order.  When PATH
 * is no longer the file written (renamed by someone else, or by our own
 * earlier try whose open failed), only the new PATH is opened.
 */
static int rotate(struct output *o)
{
	struct stat cur, named;
	unsigned int k;

	if (fstat(o->fd, &cur) < 0)
		return -errno;
	/* lstat: a link planted at PATH is not our file, even if it leads there. */
	if (lstat(o->path, &named) < 0) {
		if (errno != ENOENT)
			return -errno;
		return switch_file(o);
	}
	if (named.st_dev != cur.st_dev || named.st_ino != cur.st_ino)
		return switch_file(o);
	for (k = o->max_files - 1; k >= 1; k--) {
		if (rename(numbered(o, o->from, k),
			   numbered(o, o->to, k + 1)) < 0 && errno != ENOENT)
			return -errno;
	}
	if (rename(o->path, numbered(o, o->to, 1)) < 0)
		return -errno;
	return switch_file(o);
}

/*
 * Rotates when @n more bytes would take the current file (@size bytes)
 * past max_bytes.  An empty file is never rotated, so a line longer
 * than max_bytes gets a file of its own.  Failures are counted and
 * logged once; the caller writes to whichever file is current.
 * Returns true when a new file was opened.
 */
static bool maybe_rotate(struct output *o, off_t size, size_t n)
{
	int err;

	if (!o->max_bytes || size <= 0 || (uint64_t)size + n <= o->max_bytes)
		return false;
	if (o->retry_ns && mono_ns() < o->retry_ns)
		return false;
	o->why[0] = '\0';
	err = rotate(o);
	if (err) {
		o->st.rotate_errors++;
		o->st.last_errno = -err;
		o->retry_ns = mono_ns() + ROTATE_RETRY_NS;
		if (!o->rotate_failing)
			pr_warn("%s: rotation failed, writing on to the current file: %s",
				o->path, o->why[0] ? o->why : strerror(-err));
		o->rotate_failing = true;
		return false;
	}
	o->st.rotations++;
	o->retry_ns = 0;
	if (o->rotate_failing)
		pr_info("%s: rotation works again", o->path);
	o->rotate_failing = false;
	return true;
}

/*
 * Counts the @lines lines of a write that failed: each one as fail()
 * counts a line.
 */
static int fail_lines(struct output *o, uint64_t lines, int err)
{
	fail(o, err);
	o->st.write_errors += lines - 1;
	o->failing_lines += lines - 1;
	return err;
}

/*
 * Writes the first @n bytes of o->buf, @lines whole lines, in one
 * write(2).  @before is the size of the regular file before it (-1: not
 * a regular file).  Returns 0, or -errno with every line counted in
 * write_errors: no reader is left half a line.
 */
static int put_lines(struct output *o, size_t n, uint64_t lines,
		     off_t before)
{
	ssize_t w;
	int err;

	w = fdio__write(o->fd, o->buf, n);
	if (w < 0)
		return fail_lines(o, lines, (int)w);
	if ((size_t)w < n) {
		if (before < 0) {
			/* Pipes and terminals cannot be truncated: finish
			 * the lines instead. */
			err = fdio__write_full(o->fd, o->buf + w,
					       n - (size_t)w);
			if (err)
				return fail_lines(o, lines, err);
		} else {
			/* Best effort: leave no half line for readers. */
			if (ftruncate(o->fd, before) < 0)
				pr_warn("%s: could not remove a partial line: %s",
					o->path, strerror(errno));
			return fail_lines(o, lines, -ENOSPC);
		}
	}
	written(o, lines, n);
	return 0;
}

static int hold_line(struct output *o, const char *line, size_t len);

int output__write_line(struct output *o, const char *line, size_t len)
{
	struct stat sb;
	off_t before = -1;
	size_t n = len + 1;
	int err;

	if (len == SIZE_MAX)
		return fail(o, -EOVERFLOW);
	if (o->batch)
		return hold_line(o, line, len);
	if (n > o->cap && (err = grow(o, n)))
		return fail(o, err);
	memcpy(o->buf, line, len);
	o->buf[len] = '\n';
	if (o->regular && fstat(o->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		before = sb.st_size;
		/* A new PATH is normally empty, unless logrotate made it. */
		if (maybe_rotate(o, before, n) && fstat(o->fd, &sb) == 0)
			before = sb.st_size;
	}
	return put_lines(o, n, 1, before);
}

int output__set_batch(struct output *o, size_t bytes)
{
	int err = output__flush(o);

	o->batch = o->max_bytes ? 0 : bytes;
	return err;
}

int output__flush(struct output *o)
{
	uint64_t lines = o->held_lines;
	size_t n = o->held;
	struct stat sb;
	off_t before = -1;

	if (!n)
		return 0;
	o->held = 0;
	o->held_lines = 0;
	if (o->regular && fstat(o->fd, &sb) == 0 && S_ISREG(sb.st_mode))
		before = sb.st_size;
	return put_lines(o, n, lines, before);
}

/* Adds @line and its '\n' to the held lines, written first if full. */
static int hold_line(struct output *o, const char *line, size_t len)
{
	size_t n = len + 1;
	int err;

	if (o->held && o->held + n > o->batch)
		output__flush(o);
	if (o->held + n > o->cap && (err = grow(o, o->held + n)))
		return fail(o, err);
	memcpy(o->buf + o->held, line, len);
	o->buf[o->held + len] = '\n';
	o->held += n;
	o->held_lines++;
	/* A line the size of the block or more goes out at once. */
	return o->held >= o->batch ? output__flush(o) : 0;
}

/* output__reopen() without its log line. */
static int reopen(struct output *o)
{
	int err;

	output__flush(o);
	err = switch_file(o);

	if (err)
		o->st.last_errno = -err;
	return err;
}

int output__reopen(struct output *o)
{
	int err;

	if (o->is_stdout)
		return 0;
	err = reopen(o);
	if (err)
		pr_warn("%s", o->why);
	return err;
}

int output__check(struct output *o)
{
	struct stat sb;
	int err;

	if (o->is_stdout || fstat(o->fd, &sb) || sb.st_nlink > 0 ||
	    !S_ISREG(sb.st_mode))
		return 0;
	err = reopen(o);
	if (err) {
		if (!o->check_failing)
			pr_warn("%s: the events file was deleted and cannot be created again: %s",
				o->path, o->why);
		o->check_failing = true;
		return err;
	}
	o->check_failing = false;
	o->st.reopens++;
	pr_warn("%s: the events file was deleted; writing to a new one", o->path);
	return 1;
}

void output__stats(const struct output *o, struct output_stats *st)
{
	*st = o->st;
}

const char *output__path(const struct output *o)
{
	return o->path;
}

void output__close(struct output *o)
{
	if (!o)
		return;
	output__flush(o);
	if (!o->is_stdout && o->fd >= 0)
		close(o->fd);
	free(o->buf);
	free(o->from);
	free(o->to);
	free(o->path);
	free(o);
}
