/* SPDX-License-Identifier: MIT */
/*
 * config.h - oisp-sensor's configuration: built-in defaults, a YAML file,
 * OISP_SENSOR_<SECTION>_<KEY> environment variables, then command-line
 * overrides, all through one table of options (one row per dotted key:
 * type, bounds, default, field).  docs/config.md is the reference of
 * every key.
 *
 * The structure is plain data so that the rest of the sensor reads it
 * directly; only config.c writes it.
 */
#ifndef OISP_CONFIG_H
#define OISP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ai/redact.h"

/* Most rows the option table may have (config.c checks it). */
#define CONFIG_MAX_KEYS 64

/* Where an option's value came from, lowest precedence first. */
enum config_source {
	CONFIG_SRC_DEFAULT = 0,	/* the built-in default */
	CONFIG_SRC_FILE,	/* the YAML file */
	CONFIG_SRC_ENV,		/* an OISP_SENSOR_* environment variable */
	CONFIG_SRC_FLAG,	/* a command-line flag (config__set) */
};

struct config {
	char *output_path;	/* output.path, default "/var/log/oisp-sensor/events.jsonl"; "-" = stdout */
	char *output_format;	/* output.format, only "jsonl" accepted */
	bool ai_only;		/* filters.ai_only, default true: only requests that match a rule are reported */
	bool server_side;	/* filters.server_side, default false: also report connections where the traced process is the HTTP server */
	bool redact;		/* redaction.enabled, default false */
	struct redact_rule *redact_patterns;	/* redaction.patterns: {name, regex} added to the built-in ones */
	size_t n_redact_patterns;
	char *rules_path;	/* rules.path, default NULL = the built-in rules */
	uint32_t max_call_bytes;	/* capture.max_bytes_per_call, default 4259840, 4096..16777216 */
	uint32_t ringbuf_bytes;		/* capture.ring_buffer_bytes, default 33554432, power of two, 65536..1073741824 */
	uint32_t small_ringbuf_bytes;	/* capture.small_ring_buffer_bytes, default 4194304, power of two, 65536..1073741824 */
	uint32_t max_body_bytes;	/* capture.max_body_bytes, default 4194304, 1024..268435456 */
	uint32_t max_connections;	/* capture.max_connections, default 16384, 16..1000000 */
	uint32_t idle_timeout_s;	/* capture.idle_timeout_seconds, default 300, 1..86400 */
	uint32_t memory_budget_bytes;	/* capture.memory_budget_bytes, default 268435456, 1 MiB..2 GiB */
	int attach_mode;		/* capture.attach_mode: auto|multi|perf, default auto (enum capture_attach_mode) */
	int write_probe;		/* capture.write_probe: return|entry, default return (enum config_write_probe) */
	int rustls_sockets;		/* capture.rustls_sockets: auto|tracepoints|syscalls, default auto (enum capture_rustls_sockets) */
	/* capture.targets.*: "GLOB,GLOB,..." or NULL; all NULL = every process */
	char *target_exe;		/* capture.targets.exe: /proc/PID/exe paths */
	char *target_comm;		/* capture.targets.comm: process names */
	char *target_cgroup;		/* capture.targets.cgroup: /proc/PID/cgroup paths */
	char *target_k8s_namespace;	/* capture.targets.k8s_namespace: pod namespaces */
	char *status_socket;	/* status.socket, default "/run/oisp-sensor/status.sock" */
	int log_level;		/* log.level: error|warn|info|debug, default info (enum log_level) */
	uint32_t max_event_bytes;	/* output.max_event_bytes, default 256000, 0 = no limit, 0..256 MiB */
	uint32_t rotate_max_bytes;	/* output.rotate.max_bytes, default 0 = no rotation by size, 0..2 GiB */
	uint32_t rotate_max_files;	/* output.rotate.max_files, default 5, 1..100: PATH.1 .. PATH.N kept */
	bool metrics_enabled;		/* metrics.enabled, default false */
	char *metrics_address;		/* metrics.address, default "0.0.0.0" */
	uint32_t metrics_port;		/* metrics.port, default 9464 */
	char *metrics_allowed_ips;	/* metrics.allowed_ips: "CIDR,CIDR,...", default NULL = any client */
	int k8s_enabled;		/* kubernetes.enabled: enum config_k8s, default auto */
	char *k8s_api_server;		/* kubernetes.api_server, default NULL = https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT */
	char *k8s_node_name;		/* kubernetes.node_name, default NULL = $NODE_NAME */
	uint32_t k8s_refresh_s;		/* kubernetes.refresh_seconds, default 30, 5..3600 */
	char *k8s_token_path;		/* kubernetes.token_path, default the service account token */
	char *k8s_ca_path;		/* kubernetes.ca_path, default the service account CA */
	/* enum config_source of each key, indexed as config__key() */
	unsigned char source[CONFIG_MAX_KEYS];
};

/* capture.write_probe: where SSL_write's data is taken. */
enum config_write_probe {
	CONFIG_WRITE_AT_RETURN = 0,	/* bytes written, from the return value */
	CONFIG_WRITE_AT_ENTRY = 1,	/* bytes passed, one probe hit */
};

/*
 * capture.attach_mode: how uprobes are attached (capture/uprobe.h).  Here,
 * with the other option values, so that configuration needs nothing of
 * the capture layer that reads it.
 */
enum capture_attach_mode {
	CAPTURE_ATTACH_AUTO = 0,	/* uprobe_multi where the kernel has it */
	CAPTURE_ATTACH_MULTI = 1,	/* uprobe_multi links (Linux >= 6.6) */
	CAPTURE_ATTACH_PERF = 2,	/* one perf-event uprobe per function */
};

/*
 * capture.rustls_sockets: how a rustls connection learns its socket
 * (bpf/rustls.bpf.c).
 */
enum capture_rustls_sockets {
	CAPTURE_RUSTLS_AUTO = 0,	/* tracepoints where the kernel has them */
	CAPTURE_RUSTLS_TRACEPOINTS = 1,	/* sock_recv_length etc. (Linux >= 6.3) */
	CAPTURE_RUSTLS_SYSCALLS = 2,	/* a sys_enter program */
};

/* kubernetes.enabled: auto = on when a node name and a token are there. */
enum config_k8s {
	CONFIG_K8S_AUTO = 0,
	CONFIG_K8S_ON = 1,
	CONFIG_K8S_OFF = 2,
};

/*
 * Fills @c with the built-in defaults (its previous contents are ignored,
 * not freed).  Returns 0, or -ENOMEM (then @c is safe to config__free).
 * Callers that cannot fail may ignore the result only if they check that
 * c->output_path is not NULL.
 */
int config__init(struct config *c);

/*
 * Reads the YAML file @path and applies every key it sets over the current
 * values of @c (keys it does not mention keep their values; a list such as
 * redaction.patterns is replaced as a whole).  An empty file is valid.
 * Nothing is applied unless the whole file is valid.  On error @err gets
 * "PATH:LINE:COL: reason" (unknown key, with its dotted path; wrong type;
 * out of range; bad enum value; a regex that does not compile; YAML
 * syntax) or "PATH: reason" (I/O).
 * Returns 0, -EINVAL, -ENOMEM, or -errno from open/read.
 */
int config__load_file(struct config *c, const char *path,
		      char *err, size_t errlen);

/* As config__load_file, from the NUL-terminated @yaml; @name labels messages. */
int config__load_string(struct config *c, const char *yaml, const char *name,
			char *err, size_t errlen);

/*
 * Sets one option from text, as a command-line override does (its
 * source becomes "flag"):
 * config__set(c, "output.path", "/tmp/x", err, len).  @value is parsed
 * like the YAML scalar (booleans true/false/yes/no/on/off; sizes as plain
 * bytes or with a K/KiB, M/MiB, G/GiB suffix, 1024-based; seconds as a
 * plain integer).  For redaction.patterns @value is "NAME=REGEX" and is
 * appended to the list.  Errors ("KEY: reason") as for the file.
 * Returns 0, -EINVAL (unknown key, bad value) or -ENOMEM.
 */
int config__set(struct config *c, const char *key, const char *value,
		char *err, size_t errlen);

/* Prefix of the environment variables that set keys. */
#define CONFIG_ENV_PREFIX "OISP_SENSOR_"

/*
 * Applies the OISP_SENSOR_<SECTION>_<KEY> variables of @envp (an
 * environ(7)-style NULL-terminated "NAME=VALUE" array; NULL = none) over
 * @c.  A variable's name is its key upper-cased with '.' as '_'
 * (config__env_name), so every key has one.  Values are parsed as
 * config__set parses them, except that redaction.patterns'
 * "NAME=REGEX" replaces the list (an empty value empties it), as a file
 * does.  Nothing is applied unless every variable is valid.  Errors, in
 * @err: "NAME: unknown configuration variable", "NAME: given twice",
 * "NAME (KEY): reason" with the reasons of the file.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int config__load_env(struct config *c, char *const *envp,
		     char *err, size_t errlen);

/* One row of the option table, for reports and tests. */
struct config_key {
	const char *key;	/* dotted key, e.g. "output.path" */
	const char *type;	/* "string", "boolean", "integer", "size",
				 * "enum", "list" or "patterns" */
	const char *def;	/* default as text; NULL: none (unset) */
	uint64_t min, max;	/* numbers: bounds; strings: longest length */
	bool pow2;		/* numbers: a power of two */
	bool nullable;		/* strings: may be empty (unset) */
	const char *const *choices;	/* NULL-terminated allowed values, or NULL */
};

/*
 * Fills @k with row @i of the option table (0-based, in the order of
 * docs/config.md's table).  Returns 0, or -ENOENT when @i is past the
 * last row.
 */
int config__key(size_t i, struct config_key *k);

/*
 * Writes the environment variable of row @i ("OISP_SENSOR_OUTPUT_PATH"
 * for output.path) to @buf.  Returns 0, -ENOENT past the last row, or
 * -ENOSPC when @len is too small.
 */
int config__env_name(size_t i, char *buf, size_t len);

/* "default", "file", "env" or "flag": where row @i's value of @c came from. */
const char *config__source(const struct config *c, size_t i);

/*
 * Writes row @i's current value of @c to @buf, as config__set would take
 * it (booleans true/false, numbers in decimal, enums by name; the
 * redaction patterns as "NAME=REGEX" joined with ", ").  Returns the
 * length the full text needs (like snprintf), -ENODATA when the value is
 * unset (a null string or an empty list), or -ENOENT past the last row.
 */
int config__format(const struct config *c, size_t i, char *buf, size_t len);

/*
 * Writes the list of keys, one "KEY (TYPE, default DEFAULT)" per line, to
 * @buf (for --help); returns the length that the full text needs, like
 * snprintf.
 */
size_t config__describe(char *buf, size_t len);

/* Frees what @c owns and zeroes it; @c may be NULL. */
void config__free(struct config *c);

#endif /* OISP_CONFIG_H */
