/* SPDX-License-Identifier: MIT */
/*
 * cli.h - command-line options shared by the subcommands.
 *
 * Precedence: built-in defaults < the YAML file (--config, else
 * /etc/oisp-sensor/config.yaml when it exists) < OISP_SENSOR_* environment
 * variables (config__load_env) < flags.  Every flag that maps to a
 * configuration key goes through config__set(), so flags and variables
 * are checked by the same table as the file.
 */
#ifndef OISP_CLI_H
#define OISP_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

#define CLI_DEFAULT_CONFIG "/etc/oisp-sensor/config.yaml"

struct cli_opts {
	struct config cfg;
	bool json;		/* status --json */
	const char *file;	/* record/replay: the capture file */
	bool output_set;	/* --output was given */
	bool config_set;	/* a configuration file was loaded */
};

/*
 * Parses argv (argv[0] is the subcommand name @cmd) into @o, which it
 * initialises, reading the process's environment too.  Errors are
 * printed to stderr naming the flag, the variable, or the file and line.  Returns 0, 1 when --help was printed, or -EINVAL.
 * The caller frees o->cfg with config__free() in every case.
 */
int cli__parse(int argc, char **argv, const char *cmd, struct cli_opts *o);

/*
 * cli__parse for the subcommands that take a capture FILE (record,
 * replay): a missing FILE is a usage error too, printed as
 * "oisp-sensor CMD: missing capture FILE".  Returns as cli__parse.
 */
int cli__parse_file(int argc, char **argv, const char *cmd,
		    struct cli_opts *o);

/*
 * The exit status for a cli__parse result @ret that is not 0: 0 after
 * --help, 2 for a usage error (cmd.h).
 */
int cli__exit_status(int ret);

/* Prints the usage of every subcommand. */
void cli__usage(FILE *out);

#endif /* OISP_CLI_H */
