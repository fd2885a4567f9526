// SPDX-License-Identifier: MIT
/*
 * syscallbench - the time of one system call, for the host-wide cost of
 * rustls's socket tracepoints (bench/run.py, section cost_rustls_host):
 * calls getppid(), read() of one byte from /dev/zero, or (sockpair) a
 * 1-byte write() and read() over a Unix stream socket pair, in a loop for
 * about --seconds, and prints one JSON line {call, calls, seconds,
 * ns_per_call} (sockpair: a call is the write and the read).
 *
 *	syscallbench --call getppid|read|sockpair [--seconds S]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define BATCH	10000	/* calls between two looks at the clock */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *call = NULL;
	double seconds = 1, t0, t1;
	unsigned long long n = 0;
	int i, fd = -1, sp[2] = { -1, -1 }, use_read, use_sock;
	char c = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--call"))
			call = argv[i + 1];
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else
			break;
	}
	if (i != argc || !call || (strcmp(call, "getppid") && strcmp(call, "read") &&
				   strcmp(call, "sockpair")) || seconds <= 0) {
		fprintf(stderr, "usage: syscallbench --call getppid|read|sockpair "
			"[--seconds S]\n");
		return 2;
	}
	use_read = !strcmp(call, "read");
	use_sock = !strcmp(call, "sockpair");
	if (use_sock && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		perror("syscallbench: socketpair");
		return 1;
	}
	if (use_read) {
		fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror("syscallbench: /dev/zero");
			return 1;
		}
	}
	t0 = now_s();
	do {
		for (i = 0; i < BATCH; i++) {
			/* syscall(): glibc's getppid() makes the call each time too */
			if (use_sock ? write(sp[0], &c, 1) != 1 || read(sp[1], &c, 1) != 1 :
			    use_read ? read(fd, &c, 1) != 1 : syscall(SYS_getppid) < 0) {
				perror("syscallbench");
				return 1;
			}
		}
		n += BATCH;
		t1 = now_s();
	} while (t1 - t0 < seconds);
	printf("{\"call\":\"%s\",\"calls\":%llu,\"seconds\":%.6f,\"ns_per_call\":%.2f}\n",
	       call, n, t1 - t0, (t1 - t0) * 1e9 / n);
	if (fd >= 0)
		close(fd);
	if (use_sock) {
		close(sp[0]);
		close(sp[1]);
	}
	return 0;
}
