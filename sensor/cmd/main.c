// SPDX-License-Identifier: MIT
/*
 * oisp-sensor: sees which programs call which AI APIs, through eBPF
 * uprobes on OpenSSL.  main() only dispatches to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "lib/heap.h"

static int cmd_version(int argc, char **argv)
{
	char heap[64];

	printf("oisp-sensor %s (%s)\n", OISP_VERSION,
	       heap__name(heap, sizeof(heap)));
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "run", cmd_run },
	{ "status", cmd_status },
	{ "record", cmd_record },
	{ "replay", cmd_replay },
	{ "inspect", cmd_inspect },
	{ "version", cmd_version },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		cli__usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "oisp-sensor: unknown command '%s'\n", argv[1]);
	cli__usage(stderr);
	return 2;
}
