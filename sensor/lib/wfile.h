/* SPDX-License-Identifier: MIT */
/*
 * wfile.h - opens a file the sensor writes (the events file, a capture
 * file) safely in a directory that other users may write to.
 *
 * The sensor runs as root and its files receive every prompt on the
 * host, so a local user must not be able to redirect them or read them
 * by planting something at the path beforehand:
 *   - a symbolic link as the last component is refused (O_NOFOLLOW), so
 *     events never go into a file the link points at;
 *   - only a regular file or a character device (/dev/null; only root
 *     can create devices) is accepted: a FIFO or a socket is refused,
 *     and the open never blocks (O_NONBLOCK until the checks are done);
 *   - an existing regular file must belong to the sensor's effective uid
 *     and have one link: another user's file (which they could read) and
 *     a hard link to some other file are refused;
 *   - an existing file of ours that group or others may write is set to
 *     mode 0640, the mode new files get, so no one can add lines to it;
 *     the change is logged.
 * A refusal is an error naming the path and the reason.
 */
#ifndef OISP_WFILE_H
#define OISP_WFILE_H

#include <stddef.h>

enum wfile_mode {
	WFILE_APPEND,	/* O_APPEND: lines are added at the end */
	WFILE_TRUNC,	/* emptied once the checks pass (never before) */
};

/*
 * Opens or creates (mode 0640 before the umask) @path for writing, with
 * O_CLOEXEC, as described above.  Returns the descriptor, or -errno:
 * -ELOOP for a symbolic link, -EINVAL for a FIFO, socket, block device
 * or directory (-ENXIO from open(2) on a FIFO nobody reads becomes
 * -EINVAL too), -EPERM for another user's file or one with several
 * links, or the error of open(2), fstat(2), fchmod(2), ftruncate(2) or
 * fcntl(2).  On failure @err (@errlen bytes; may be NULL) gets
 * "PATH: reason".
 */
int wfile__open(const char *path, enum wfile_mode mode, char *err,
		size_t errlen);

#endif /* OISP_WFILE_H */
