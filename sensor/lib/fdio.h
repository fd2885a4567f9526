/* SPDX-License-Identifier: MIT */
/*
 * fdio.h - read(2) and write(2) on a file descriptor, with the retries
 * every caller needs: a call interrupted by a signal (EINTR) is made
 * again, and a short transfer is continued where the whole buffer is
 * wanted.  Errors are returned as -errno, never left in errno.
 */
#ifndef OISP_FDIO_H
#define OISP_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads into @buf until @len bytes are there or end of file.  Returns
 * the bytes read (fewer than @len only at end of file), or -errno of
 * read(2); bytes read before an error are in @buf but not counted.
 */
ssize_t fdio__read_full(int fd, void *buf, size_t len);

/*
 * One write(2) of at most @len bytes, made again while EINTR.  Returns
 * the bytes written (possibly fewer than @len) or -errno.
 */
ssize_t fdio__write(int fd, const void *buf, size_t len);

/*
 * Writes all @len bytes of @buf, continuing after short writes.  Returns
 * 0, -EIO when write(2) writes nothing, or -errno (some bytes may have
 * been written).
 */
int fdio__write_full(int fd, const void *buf, size_t len);

#endif /* OISP_FDIO_H */
