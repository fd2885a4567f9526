/* SPDX-License-Identifier: MIT */
/*
 * output.h - appends events to a JSON Lines file (https://jsonlines.org/:
 * one UTF-8 JSON value per line, '\n' terminated).
 *
 * Each line goes out whole in a single write(2) on an O_APPEND descriptor
 * (with output__set_batch(), several whole lines in one), so a reader
 * tailing the file never sees half a line, and a failed write leaves no
 * partial line behind.  Not thread-safe: one writer per object.
 */
#ifndef OISP_OUTPUT_H
#define OISP_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "event/output_stats.h"

struct output;

/* Bounds of output__set_rotation()'s @max_files (output.rotate.max_files). */
#define OUTPUT_MAX_FILES 100

/*
 * Opens @path for appending; "-" means standard output (never closed by
 * us).  Missing parent directories are created with mode 0750; the file
 * is opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC with mode 0640, by
 * wfile__open() (lib/wfile.h), here and on every later open (reopen,
 * rotation, re-creation): the sensor runs as root and the directory may
 * be writable by users, so a symbolic link (-ELOOP), a FIFO or socket
 * (-EINVAL, without blocking), and another user's file or one with
 * several links (-EPERM) are refused rather than written; a file of our
 * own that group or others may write is repaired with fchmod(0640)
 * rather than refused, since only root could have made it and refusing
 * would stop the sensor for a mode.  Character devices (/dev/null) are
 * accepted.
 * On error @err (may be NULL) gets "PATH: reason" and -errno is returned
 * (-ENOMEM, -EINVAL for an empty path, the refusals above, or
 * open(2)/mkdir(2) errors); 0 and *@out on success.
 */
int output__open(struct output **out, const char *path, char *err,
		 size_t errlen);

/*
 * Appends @len bytes of @line (which must not contain '\n') plus '\n'
 * with exactly one write(2) of @len + 1 bytes, copied into a buffer
 * reused across calls.  EINTR is retried.  A short write on a regular
 * file (e.g. ENOSPC) is undone with ftruncate(2) to the size before the
 * write and reported as -ENOSPC; on a pipe or terminal the rest is
 * written so the line stays whole.  Failures count in write_errors;
 * the first of a run of failures is logged, and so is the next success
 * with the number of lines lost meanwhile.
 * With rotation on (output__set_rotation), the file may be rotated
 * first; a failed rotation does not fail the write.
 * Returns 0 or -errno.
 */
int output__write_line(struct output *o, const char *line, size_t len);

/*
 * Holds lines in memory up to @bytes (bytes, newlines included) and
 * writes them together in one write(2), for a writer that produces
 * lines faster than one system call each is worth (oisp-sensor replay):
 * output__write_line() then copies the line and returns 0, and the held
 * lines go out when the next one would not fit, on output__flush(),
 * output__reopen() and output__close().  A line of @bytes or more goes
 * out at once.  A failed or short write of held lines is handled as for
 * one line (the whole block undone on a regular file) and counts each of
 * them in write_errors.  @bytes 0 turns it off; so does rotation
 * (output__set_rotation with max_bytes), which decides line by line.
 * Held lines are written first.  Returns what output__flush() returns.
 */
int output__set_batch(struct output *o, size_t bytes);

/*
 * Writes the lines output__set_batch() let wait, in one write(2).
 * Returns 0 (also when none were held) or -errno; failures are counted
 * as output__set_batch() says.
 */
int output__flush(struct output *o);

/*
 * Turns on rotation by size (output.rotate.max_bytes, .max_files in the
 * configuration).  Before a line that would make the current file larger
 * than @max_bytes bytes, PATH.(N-1) .. PATH.1 are renamed one number up
 * (PATH.N, the oldest of the @max_files kept, is replaced), PATH is
 * renamed to PATH.1, a new PATH is opened, and the line is written
 * there.  So every line lands whole in exactly one file, no file exceeds
 * @max_bytes unless it holds a single longer line, and the old file is
 * never written again once renamed: a shipper that follows files by
 * inode reads it to its end, then opens the new PATH.
 *
 * If PATH no longer names the file being written (moved away by
 * logrotate before its SIGHUP), a new PATH is opened and nothing is
 * renamed.  If a rename or the open fails, lines keep going to the
 * current file (already named PATH.1 when only the open failed); the
 * failure is counted in rotate_errors and last_errno, logged once until
 * a rotation succeeds again, and retried at most once a second.
 *
 * @max_bytes 0 turns rotation off.  Does nothing for "-" (stdout).
 * Returns 0, -EINVAL when @max_files is not 1..OUTPUT_MAX_FILES, or
 * -ENOMEM.
 */
int output__set_rotation(struct output *o, uint64_t max_bytes,
			 unsigned int max_files);

/*
 * Closes and opens the path again (SIGHUP after logrotate moved the
 * file).  The new file is opened first: on failure the old descriptor is
 * kept, "PATH: reason" is logged and -errno returned.  A no-op for "-".
 * Returns 0 or -errno.
 */
int output__reopen(struct output *o);

/*
 * Opens a new file at the path when the one being written was deleted
 * (its link count is 0), so that events do not go on into an unlinked
 * inode no reader can open, holding its disk space until we exit.  A
 * file that was only renamed is left alone: that is logrotate's window
 * before its SIGHUP, and output__reopen() is the way out of it.  Meant
 * to run from a periodic timer (one fstat(2)).  A no-op for "-".
 * Returns 1 when a new file was opened, 0 when nothing was needed, or
 * -errno when the new file could not be opened (the old descriptor is
 * kept, and the next call tries again).
 */
int output__check(struct output *o);

/* Copies the counters to @st. */
void output__stats(const struct output *o, struct output_stats *st);

/* The path given to output__open ("-" for stdout); owned by @o. */
const char *output__path(const struct output *o);

/* Writes the held lines, closes the file and frees @o; NULL is allowed. */
void output__close(struct output *o);

#endif /* OISP_OUTPUT_H */
