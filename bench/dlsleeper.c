// SPDX-License-Identifier: MIT
/*
 * dlsleeper - for the start-up benchmark: dlopen()s the library given as
 * argument (a copy of libssl) and sleeps until it is killed.
 *
 *	dlsleeper LIB
 */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: dlsleeper LIB\n");
		return 2;
	}
	if (!dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) {
		fprintf(stderr, "dlsleeper: %s\n", dlerror());
		return 1;
	}
	for (;;)
		pause();
}
