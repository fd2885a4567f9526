/* SPDX-License-Identifier: MIT */
/*
 * cmd.h - the subcommands.  Each takes argv starting at its own name and
 * returns the process exit status: 0 success, 1 failure, 2 usage error.
 */
#ifndef OISP_CMD_H
#define OISP_CMD_H

int cmd_run(int argc, char **argv);	/* cmd_run.c */
int cmd_record(int argc, char **argv);	/* cmd_record.c */
int cmd_replay(int argc, char **argv);	/* cmd_replay.c */
int cmd_status(int argc, char **argv);	/* cmd_status.c */
int cmd_inspect(int argc, char **argv);	/* cmd_inspect.c */

#endif /* OISP_CMD_H */
