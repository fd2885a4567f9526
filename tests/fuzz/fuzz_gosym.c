// SPDX-License-Identifier: MIT
/*
 * The recognition of a file's TLS stack (stack__match_fd()) on arbitrary
 * files, through the Go path: .gopclntab (gosym), the decoding of the
 * functions found (retsites) and the ELF reads they make.  Any local user
 * can make the sensor read a Go executable of their making, so no input
 * may crash it, make it read past the file or loop.  The input becomes
 * the whole file, in a memfd rewritten for each run.  Seed: the smallest
 * ELF file the Go stack accepts (tests/fuzz/mkgoseed.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct stack_match m;

	if (fd < 0)
		fd = memfd_create("fuzz_gosym", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if (!stack__match_fd(fd, &m) && m.noffs > TLS_PROBES_MAX)
		abort();
	return 0;
}
