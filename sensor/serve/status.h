/* SPDX-License-Identifier: MIT */
/*
 * status.h - the running sensor reports on itself over a unix socket.
 *
 * The sensor listens on a SOCK_STREAM unix socket (unix(7)), by default
 * /run/oisp-sensor/status.sock.  Each client that connects gets one
 * JSON document followed by "\n" and is then disconnected; it sends
 * nothing.  `oisp-sensor status` is that client and prints the document
 * for humans.  One sensor per runtime directory: status__lock() takes
 * an exclusive flock(2) on STATUS_LOCK_NAME next to the socket before
 * anything is attached, so a second sensor whose socket is in the same
 * directory refuses to start, whatever the socket's name.  The JSON
 * itself is built by the caller; status__print() understands the
 * layout below, and tolerates missing members:
 *
 *	{"version", "pid", "uptime_s",
 *	 "output": {"path", OUTPUT_STATS..., "last_error"},
 *	 "kubernetes": {K8S_STATS..., "last_error"},
 *	 "capture": {CAP_STATS..., CAPTURE_STATS...},
 *	 "attach": {"mode", "targeted",
 *		    "list": [{"path", "dev", "ino", "processes", "stack",
 *			      "skipped" (a file the stack refused: why),
 *			      "found" (what a stack that searches found),
 *			      "aliases" (other overlayfs mounts' (dev, ino)
 *			      of the file, joined by its file handle)}, ...]},
 *	 "pipeline": {PIPELINE_STATS...},
 *	 "config": {KEY: {"value", "source"}, ...}}
 *
 * where NAME_STATS... are the rows of a statistics table (serve/stats.h),
 * one number member each, named after the row, and "config" has every
 * configuration key (config.h): its value as text (null when unset) and
 * where it came from (config__source).
 */
#ifndef OISP_STATUS_H
#define OISP_STATUS_H

#include <stdbool.h>
#include <stdio.h>

struct status_server;

/* The lock file, in the directory of the status socket. */
#define STATUS_LOCK_NAME	"oisp-sensor.lock"

/*
 * Takes the single-instance lock of the directory that holds the socket
 * @sock_path: creates the directory (mode 0750) and
 * DIR/STATUS_LOCK_NAME (mode 0640, O_NOFOLLOW), takes a non-blocking
 * exclusive flock(2) and writes our pid into the file.  The lock lives
 * as long as the descriptor: the kernel releases it when the process
 * dies, even by SIGKILL, so a stale file never blocks a restart.  The
 * file is never unlinked (unlinking would let a third sensor lock a new
 * inode while a second one holds the old).
 * Returns 0 and the descriptor in *@fd (O_CLOEXEC; status__unlock()
 * closes it); -EADDRINUSE when another process holds the lock, with its
 * pid in *@holder when the file names one (else 0); -ENAMETOOLONG;
 * -ENOMEM; or -errno of mkdir/open/flock.  The lock file's path is
 * written to @path (@pathlen bytes) in every case.
 */
int status__lock(const char *sock_path, int *fd, long *holder, char *path,
		 size_t pathlen);

/* Releases the lock taken by status__lock(); a negative @fd is fine. */
void status__unlock(int fd);

/* Bounds of status__query(). */
#define STATUS_REPLY_MAX	((size_t)1024 * 1024)	/* bytes */
#define STATUS_TIMEOUT_MS	2000

/*
 * Starts listening on the unix socket @path (at most 107 bytes, the size
 * of sun_path in unix(7)).  Creates the missing parent directories with
 * mode 0750.  An existing socket at @path is probed with a non-blocking
 * connect: if a sensor answers (or its backlog is full) this returns
 * -EADDRINUSE; if no one listens (ECONNREFUSED) the stale socket is
 * unlinked.  Anything at @path that is not a socket is left alone
 * (-EEXIST).  The socket is SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK,
 * chmod 0660 after bind(2).
 * Returns 0 and the server in *@out, or -ENAMETOOLONG, -EADDRINUSE,
 * -EEXIST, -ENOMEM or -errno of mkdir/socket/bind/listen/chmod.
 */
int status__listen(struct status_server **out, const char *path);

/* The listening fd, for epoll (EPOLLIN: a client is waiting). */
int status__fd(const struct status_server *s);

/*
 * Accepts one pending client, sends @json and "\n" and closes it.  The
 * send is bounded by a 200 ms SO_SNDTIMEO so a stalled client cannot
 * stall the event loop; MSG_NOSIGNAL so a vanished one raises no
 * SIGPIPE.  Call it once per EPOLLIN (level-triggered: a second pending
 * client wakes the loop again).
 * Returns 0 once the reply is sent, -EAGAIN if no client was pending,
 * or -errno of accept4(2)/send(2) (that client is dropped).
 */
int status__serve(struct status_server *s, const char *json);

/*
 * Closes the socket and unlinks @path, but only if it is still the
 * socket this server bound (same st_dev/st_ino).  NULL is fine.
 */
void status__close(struct status_server *s);

/*
 * Client side, for `oisp-sensor status`: connects to @path, reads the
 * whole reply (at most STATUS_REPLY_MAX bytes, within STATUS_TIMEOUT_MS
 * in total) and strips the trailing newline.
 * Returns 0 and a malloc'd NUL-terminated string in *@json (the caller
 * frees it); -ENOENT (no socket) or -ECONNREFUSED (stale socket) when no
 * sensor runs; -ETIMEDOUT; -EMSGSIZE when the reply is too long;
 * -EBADMSG when it is empty; -ENAMETOOLONG; -ENOMEM; or -errno of
 * socket/connect/read.
 */
int status__query(const char *path, char **json);

/*
 * Writes @json to @out: as JSON with a newline when @as_json, otherwise as
 * an aligned report for humans: uptime, then one section per table of
 * serve/stats.h (a line "NAME value" per row) and the attached files.
 * Rows that mean lost or bad data are marked "(!)" when non-zero, and
 * also shown in bold red when @out is a terminal.  No terminal control
 * a user could put in a path or an error text is written raw: in the
 * report, C0 controls, DEL, C1 controls, bytes that are not UTF-8 and
 * backslashes are written as \xNN (\\ for a backslash); in @as_json
 * mode, DEL and C1 controls become \u00NN escapes (the same string),
 * other C0 controls than tab, CR and LF too, and each maximal invalid
 * UTF-8 subpart becomes \ufffd, so the output is valid JSON.
 * Returns 0, or -EBADMSG if @json is not a JSON object (nothing printed).
 */
int status__print(const char *json, bool as_json, FILE *out);

#endif /* OISP_STATUS_H */
