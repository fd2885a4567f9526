// SPDX-License-Identifier: MIT
/*
 * The ELF reader on arbitrary files: any local user can make the sensor
 * read a file of their choosing (an executable mapping), so no input may
 * crash it or make it read past the file.  The input becomes the whole
 * file, in a memfd that is rewritten for each run; the lookups are those
 * of the attach code.  Seeds: tiny shared objects built with
 * `gcc -shared -nostdlib -s` (SSL_write, SSL_read, SSL_write_ex in
 * .dynsym) and, unstripped, one defining _dl_debug_state (.symtab).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/elfsym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"SSL_write", "SSL_read", "SSL_write_ex", "_dl_debug_state", "",
	};
	static int fd = -1;
	struct elfsym *e = NULL;
	size_t i;
	__u64 off;

	if (fd < 0)
		fd = memfd_create("fuzz_elfsym", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if (elfsym__open_fd(fd, &e))
		return 0;
	elfsym__native(e);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		elfsym__offset(e, names[i], &off);
	elfsym__free(e);
	return 0;
}
