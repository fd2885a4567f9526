// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "lib/log.h"

extern char **environ;

enum {
	OPT_ALL = 256,
	OPT_SERVER_SIDE,
	OPT_REDACT,
	OPT_NO_REDACT,
	OPT_RULES,
	OPT_STATUS_SOCKET,
	OPT_LOG_LEVEL,
	OPT_MAX_CALL,
	OPT_RINGBUF,
	OPT_JSON,
	OPT_METRICS,
	OPT_METRICS_PORT,
	OPT_METRICS_ADDRESS,
	OPT_ALLOWED_IPS,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "output", required_argument, NULL, 'o' },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "server-side", no_argument, NULL, OPT_SERVER_SIDE },
	{ "redact", no_argument, NULL, OPT_REDACT },
	{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "status-socket", required_argument, NULL, OPT_STATUS_SOCKET },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "max-call-bytes", required_argument, NULL, OPT_MAX_CALL },
	{ "ring-buffer-bytes", required_argument, NULL, OPT_RINGBUF },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "metrics", no_argument, NULL, OPT_METRICS },
	{ "metrics-port", required_argument, NULL, OPT_METRICS_PORT },
	{ "metrics-address", required_argument, NULL, OPT_METRICS_ADDRESS },
	{ "allowed-ips", required_argument, NULL, OPT_ALLOWED_IPS },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Flags that set a configuration key: option -> (key, fixed value). */
static const struct {
	int opt;
	const char *key;
	const char *value;	/* NULL: the option's argument */
} flag_keys[] = {
	{ 'o', "output.path", NULL },
	{ OPT_ALL, "filters.ai_only", "false" },
	{ OPT_SERVER_SIDE, "filters.server_side", "true" },
	{ OPT_REDACT, "redaction.enabled", "true" },
	{ OPT_NO_REDACT, "redaction.enabled", "false" },
	{ OPT_RULES, "rules.path", NULL },
	{ OPT_STATUS_SOCKET, "status.socket", NULL },
	{ OPT_LOG_LEVEL, "log.level", NULL },
	{ OPT_MAX_CALL, "capture.max_bytes_per_call", NULL },
	{ OPT_RINGBUF, "capture.ring_buffer_bytes", NULL },
	{ OPT_METRICS, "metrics.enabled", "true" },
	{ OPT_METRICS_PORT, "metrics.port", NULL },
	{ OPT_METRICS_ADDRESS, "metrics.address", NULL },
	{ OPT_ALLOWED_IPS, "metrics.allowed_ips", NULL },
};

void cli__usage(FILE *out)
{
	fputs("usage: oisp-sensor COMMAND [OPTIONS]\n"
	      "\n"
	      "commands:\n"
	      "  run              capture AI API calls and write OISP events (root)\n"
	      "  status [--json]  report on the running sensor\n"
	      "  record FILE      write raw capture records to FILE (root)\n"
	      "  replay FILE      run the pipeline on a capture file (no root)\n"
	      "  inspect [--json] FILE...\n"
	      "                   what run would find and probe in each executable\n"
	      "                   or library (no root)\n"
	      "  version          print the version\n"
	      "\n"
	      "options:\n"
	      "  -c, --config FILE        YAML configuration (default "
	      CLI_DEFAULT_CONFIG " if present)\n"
	      "  -o, --output PATH        events file, - for stdout (output.path)\n"
	      "      --all                report every HTTP request, not only AI calls\n"
	      "      --server-side        also report the server side of connections\n"
	      "      --redact, --no-redact   turn redaction on or off\n"
	      "      --rules FILE         classification rules (default: built-in)\n"
	      "      --status-socket PATH status socket (status.socket)\n"
	      "      --log-level LEVEL    error, warn, info or debug\n"
	      "      --max-call-bytes N   bytes captured per SSL call\n"
	      "      --ring-buffer-bytes N   ring buffer size (power of two)\n"
	      "      --json               status: print the raw JSON report\n"
	      "      --metrics            serve /metrics, /healthz, /readyz over HTTP\n"
	      "      --metrics-port N     port of the metrics endpoint (9464)\n"
	      "      --metrics-address A  address it listens on (0.0.0.0)\n"
	      "      --allowed-ips LIST   clients allowed, e.g. 10.0.0.0/8,127.0.0.1\n"
	      "\n"
	      "\n"
	      "Every configuration key can also be set in the environment as\n"
	      "OISP_SENSOR_<SECTION>_<KEY> (e.g. OISP_SENSOR_OUTPUT_PATH); flags\n"
	      "override the environment, which overrides the file.\n"
	      "See docs/config.md for the configuration file.\n", out);
}

static int load_config(int argc, char **argv, struct cli_opts *o)
{
	const char *path = NULL;
	char err[512];
	int i, ret;

	/* The file comes first whatever its position, so flags override it. */
	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
		    i + 1 < argc)
			path = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	if (!path && access(CLI_DEFAULT_CONFIG, R_OK) == 0)
		path = CLI_DEFAULT_CONFIG;
	if (!path)
		return 0;
	ret = config__load_file(&o->cfg, path, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "oisp-sensor: %s\n", err);
		return -EINVAL;
	}
	o->config_set = true;
	return 0;
}

/* OISP_SENSOR_* variables, over the file and under the flags. */
static int load_env(struct cli_opts *o)
{
	char err[512];

	if (config__load_env(&o->cfg, environ, err, sizeof(err))) {
		fprintf(stderr, "oisp-sensor: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

static int apply_flag(struct cli_opts *o, int opt, const char *arg)
{
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		if (flag_keys[i].opt != opt)
			continue;
		if (config__set(&o->cfg, flag_keys[i].key,
				flag_keys[i].value ?: arg, err, sizeof(err))) {
			fprintf(stderr, "oisp-sensor: %s\n", err);
			return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

int cli__parse(int argc, char **argv, const char *cmd, struct cli_opts *o)
{
	int opt, err;

	memset(o, 0, sizeof(*o));
	config__init(&o->cfg);
	err = load_config(argc, argv, o);
	if (!err)
		err = load_env(o);
	if (err)
		return err;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:o:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			break;
		case 'h':
			cli__usage(stdout);
			return 1;
		case OPT_JSON:
			o->json = true;
			break;
		case '?':
			fprintf(stderr, "oisp-sensor %s: see --help\n", cmd);
			return -EINVAL;
		default:
			err = apply_flag(o, opt, optarg);
			if (err)
				return -EINVAL;
			if (opt == 'o')
				o->output_set = true;
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "oisp-sensor %s: unexpected argument '%s'\n",
			cmd, argv[optind]);
		return -EINVAL;
	}
	log__set_level(o->cfg.log_level);
	return 0;
}

int cli__parse_file(int argc, char **argv, const char *cmd,
		    struct cli_opts *o)
{
	int ret = cli__parse(argc, argv, cmd, o);

	if (ret)
		return ret;
	if (!o->file) {
		fprintf(stderr, "oisp-sensor %s: missing capture FILE\n", cmd);
		return -EINVAL;
	}
	return 0;
}

int cli__exit_status(int ret)
{
	return ret > 0 ? 0 : 2;
}
