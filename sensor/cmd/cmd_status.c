// SPDX-License-Identifier: MIT
/*
 * `oisp-sensor status [--json]`: asks the running sensor over its status
 * socket.  Exits 1 when no sensor answers.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "serve/status.h"

int cmd_status(int argc, char **argv)
{
	struct cli_opts o;
	char *json = NULL;
	int ret, status = 1;

	ret = cli__parse(argc, argv, "status", &o);
	if (ret) {
		status = cli__exit_status(ret);
		goto out;
	}
	ret = status__query(o.cfg.status_socket, &json);
	if (ret) {
		fprintf(stderr,
			"oisp-sensor: no sensor is running (status socket %s: %s)\n",
			o.cfg.status_socket, strerror(-ret));
		goto out;
	}
	if (status__print(json, o.json, stdout)) {
		fprintf(stderr, "oisp-sensor: malformed status reply\n");
		goto out;
	}
	status = 0;
out:
	free(json);
	config__free(&o.cfg);
	return status;
}
