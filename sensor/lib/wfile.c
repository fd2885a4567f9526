// SPDX-License-Identifier: MIT
/*
 * Safe opening of the files the sensor writes.  See wfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/wfile.h"

#define WFILE_PERM	0640
#define NOT_REGULAR	"%s: %s, refused: the sensor writes only to a regular file or a character device"

static const char *type_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	return "not a regular file";
}

/*
 * Checks the file open at @fd.  Returns 0 or -errno with the reason in
 * @err.
 */
static int check_fd(int fd, const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISCHR(sb.st_mode))
		return 0;
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, NOT_REGULAR, path, type_name(sb.st_mode));
		return -EINVAL;
	}
	if (sb.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not by the sensor's uid %u: refused (remove it, or choose another path)",
			 path, (unsigned int)sb.st_uid,
			 (unsigned int)geteuid());
		return -EPERM;
	}
	if (sb.st_nlink > 1) {
		snprintf(err, errlen, "%s: has %lu hard links: refused (another name reaches the same file)",
			 path, (unsigned long)sb.st_nlink);
		return -EPERM;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		if (fchmod(fd, WFILE_PERM) < 0) {
			snprintf(err, errlen, "%s: writable by others (mode %04o) and cannot be changed: %s",
				 path, (unsigned int)(sb.st_mode & 07777),
				 strerror(errno));
			return -errno;
		}
		pr_warn("%s: was writable by group or others (mode %04o); set to %04o",
			path, (unsigned int)(sb.st_mode & 07777), WFILE_PERM);
	}
	return 0;
}

int wfile__open(const char *path, enum wfile_mode mode, char *err,
		size_t errlen)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	char dummy[1];
	struct stat sb;
	int fd, ret;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (mode == WFILE_APPEND)
		flags |= O_APPEND;
	fd = open(path, flags, WFILE_PERM);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP) {
			snprintf(err, errlen, "%s: a symbolic link, refused: give the path of the file itself",
				 path);
		} else if (ret == -ENXIO && lstat(path, &sb) == 0 &&
			   (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode))) {
			snprintf(err, errlen, NOT_REGULAR, path,
				 type_name(sb.st_mode));
			ret = -EINVAL;
		} else {
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		}
		return ret;
	}
	ret = check_fd(fd, path, err, errlen);
	if (!ret && mode == WFILE_TRUNC && ftruncate(fd, 0) < 0 &&
	    errno != EINVAL) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	}
	if (!ret && fcntl(fd, F_SETFL, flags & O_APPEND) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	}
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}
