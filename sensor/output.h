/* SPDX-License-Identifier: MIT */
/*
 * output.h - appends events to a JSON Lines file (https://jsonlines.org/:
 * one UTF-8 JSON value per line, '\n' terminated).
 *
 * Each line goes out in a single write(2) on an O_APPEND descriptor, so a
 * reader tailing the file never sees half a line, and a failed write
 * leaves no partial line behind.  Not thread-safe: one writer per object.
 */
#ifndef OISP_OUTPUT_H
#define OISP_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

struct output;

struct output_stats {
	uint64_t lines;		/* lines written whole */
	uint64_t bytes;		/* bytes of those lines, newlines included */
	uint64_t write_errors;	/* lines not written */
	int last_errno;		/* errno of the last failure, 0 if none */
};

/*
 * Opens @path for appending; "-" means standard output (never closed by
 * us).  Missing parent directories are created with mode 0750; the file
 * is opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC with mode 0640.
 * On error @err (may be NULL) gets "PATH: reason" and -errno is returned
 * (-ENOMEM, -EINVAL for an empty path, or open(2)/mkdir(2) errors);
 * 0 and *@out on success.
 */
int output__open(struct output **out, const char *path, char *err,
		 size_t errlen);

/*
 * Appends @len bytes of @line (which must not contain '\n') plus '\n'
 * with exactly one write(2) of @len + 1 bytes, copied into a buffer
 * reused across calls.  EINTR is retried.  A short write on a regular
 * file (e.g. ENOSPC) is undone with ftruncate(2) to the size before the
 * write and reported as -ENOSPC; on a pipe or terminal the rest is
 * written so the line stays whole.  Failures count in write_errors.
 * Returns 0 or -errno.
 */
int output__write_line(struct output *o, const char *line, size_t len);

/*
 * Closes and opens the path again (SIGHUP after logrotate moved the
 * file).  The new file is opened first: on failure the old descriptor is
 * kept and -errno returned.  A no-op for "-".  Returns 0 or -errno.
 */
int output__reopen(struct output *o);

/* Copies the counters to @st. */
void output__stats(const struct output *o, struct output_stats *st);

/* The path given to output__open ("-" for stdout); owned by @o. */
const char *output__path(const struct output *o);

/* Closes the file and frees @o; NULL is allowed. */
void output__close(struct output *o);

#endif /* OISP_OUTPUT_H */
