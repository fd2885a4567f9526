// SPDX-License-Identifier: MIT
/* Unit tests of sensor/config/config.c (and the yamlutil helpers it uses). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config/config.h"
#include "lib/log.h"

#define FIX "../fixtures/config/"

static struct config cfg;

static void setup(void)
{
	cr_assert_eq(config__init(&cfg), 0);
}

static void teardown(void)
{
	config__free(&cfg);
}

TestSuite(config, .init = setup, .fini = teardown);

static void expect_defaults(const struct config *c)
{
	cr_expect_str_eq(c->output_path, "/var/log/oisp-sensor/events.jsonl");
	cr_expect_str_eq(c->output_format, "jsonl");
	cr_expect(c->ai_only);
	cr_expect_not(c->server_side);
	cr_expect_not(c->redact);
	cr_expect_null(c->redact_patterns);
	cr_expect_eq(c->n_redact_patterns, 0);
	cr_expect_null(c->rules_path);
	cr_expect_eq(c->max_call_bytes, 4259840);
	cr_expect_eq(c->ringbuf_bytes, 33554432);
	cr_expect_eq(c->max_body_bytes, 4194304);
	cr_expect_eq(c->max_connections, 16384);
	cr_expect_eq(c->idle_timeout_s, 300);
	cr_expect_str_eq(c->status_socket, "/run/oisp-sensor/status.sock");
	cr_expect_eq(c->log_level, LOG_INFO);
}

Test(config, defaults)
{
	expect_defaults(&cfg);
}

Test(config, empty_file_keeps_defaults)
{
	char err[256] = "";

	cr_assert_eq(config__load_file(&cfg, FIX "empty.yaml", err,
				       sizeof(err)), 0, "%s", err);
	expect_defaults(&cfg);
	cr_assert_eq(config__load_string(&cfg, "# only a comment\n", "c", err,
					 sizeof(err)), 0, "%s", err);
	cr_assert_eq(config__load_string(&cfg, "~\n", "c", err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(config__load_string(&cfg, "output:\nfilters:\n", "c", err,
					 sizeof(err)), 0, "%s", err);
	expect_defaults(&cfg);
}

Test(config, configmap_shape)
{
	char err[256] = "";

	cr_assert_eq(config__load_file(&cfg, FIX "configmap.yaml", err,
				       sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(cfg.output_path, "/output/events.jsonl");
	cr_expect_str_eq(cfg.output_format, "jsonl");
	cr_expect(cfg.ai_only);
	cr_expect_not(cfg.redact);
	cr_expect_eq(cfg.max_call_bytes, 4259840);
}

Test(config, every_key)
{
	char err[256] = "";

	cr_assert_eq(config__load_file(&cfg, FIX "full.yaml", err,
				       sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(cfg.output_path, "-");
	cr_expect_not(cfg.ai_only);
	cr_expect(cfg.server_side);
	cr_expect(cfg.redact);
	cr_assert_eq(cfg.n_redact_patterns, 2);
	cr_expect_str_eq(cfg.redact_patterns[0].name, "employee_id");
	cr_expect_str_eq(cfg.redact_patterns[0].regex, "EMP-[0-9]{6}");
	cr_expect_str_eq(cfg.redact_patterns[1].regex,
			 "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b");
	cr_expect_str_eq(cfg.rules_path, "/etc/oisp-sensor/rules.yaml");
	cr_expect_eq(cfg.max_call_bytes, 65536);
	cr_expect_eq(cfg.ringbuf_bytes, 16u << 20);
	cr_expect_eq(cfg.max_body_bytes, 1048576);
	cr_expect_eq(cfg.max_connections, 1000);
	cr_expect_eq(cfg.idle_timeout_s, 60);
	cr_expect_str_eq(cfg.status_socket, "/tmp/oisp.sock");
	cr_expect_eq(cfg.log_level, LOG_DEBUG);
}

Test(config, later_file_overrides_and_replaces_lists)
{
	char err[256] = "";

	cr_assert_eq(config__load_file(&cfg, FIX "full.yaml", err,
				       sizeof(err)), 0, "%s", err);
	cr_assert_eq(config__load_string(&cfg,
					 "redaction:\n  patterns:\n"
					 "    - {name: only, regex: 'x+'}\n"
					 "rules:\n  path:\n",
					 "second", err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(cfg.n_redact_patterns, 1);
	cr_expect_str_eq(cfg.redact_patterns[0].name, "only");
	cr_expect_null(cfg.rules_path);
	/* Untouched keys keep the first file's values. */
	cr_expect_eq(cfg.max_connections, 1000);
	cr_assert_eq(config__load_string(&cfg, "redaction:\n  patterns: []\n",
					 "third", err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(cfg.n_redact_patterns, 0);
}

Test(config, failed_load_changes_nothing)
{
	char err[256] = "";

	cr_expect_eq(config__load_string(&cfg,
					 "output:\n  path: /tmp/a\n"
					 "capture:\n  max_connections: 5\n",
					 "x.yaml", err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 "x.yaml:4:20: capture.max_connections: 5 is out of range (16..1000000)");
	expect_defaults(&cfg);
}

Test(config, sizes)
{
	static const struct {
		const char *text;
		uint32_t want;
	} ok[] = {
		{ "65536", 65536 }, { "64K", 65536 }, { "64KiB", 65536 },
		{ "1M", 1u << 20 }, { "8MiB", 8u << 20 }, { "1G", 1u << 30 },
		{ "1GiB", 1u << 30 },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(config__set(&cfg, "capture.ring_buffer_bytes",
					 ok[i].text, err, sizeof(err)), 0,
			     "%s: %s", ok[i].text, err);
		cr_expect_eq(cfg.ringbuf_bytes, ok[i].want, "%s", ok[i].text);
	}
	cr_expect_eq(config__set(&cfg, "capture.ring_buffer_bytes", "2G", err,
				 sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 "capture.ring_buffer_bytes: 2G is out of range (65536..1073741824)");
	cr_expect_eq(config__set(&cfg, "capture.ring_buffer_bytes", "100000",
				 err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 "capture.ring_buffer_bytes: 100000 is not a power of two");
	cr_expect_eq(cfg.ringbuf_bytes, 1u << 30);
	cr_expect_eq(config__set(&cfg, "capture.max_body_bytes", "1023", err,
				 sizeof(err)), -EINVAL);
	cr_expect_eq(config__set(&cfg, "capture.max_body_bytes", "256MiB",
				 err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(config__set(&cfg, "capture.max_body_bytes",
				 "99999999999999999999999", err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "too large"), "%s", err);
	cr_expect_eq(config__set(&cfg, "capture.max_body_bytes",
				 "17179869184G", err, sizeof(err)), -EINVAL);
	cr_expect_eq(config__set(&cfg, "capture.max_bytes_per_call", "4096",
				 err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(config__set(&cfg, "capture.max_bytes_per_call", "4095",
				 err, sizeof(err)), -EINVAL);
	cr_expect_eq(config__set(&cfg, "capture.max_bytes_per_call", "16M",
				 err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(config__set(&cfg, "capture.max_bytes_per_call", "16385K",
				 err, sizeof(err)), -EINVAL);
}

Test(config, bad_numbers)
{
	static const char *const bad[] = {
		"", "-1", "+5", " 5", "5 ", "0x10", "1.5", "ten", "5k", "5KB",
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(config__set(&cfg, "capture.max_body_bytes", bad[i],
					 err, sizeof(err)), -EINVAL, "\"%s\"",
			     bad[i]);
		cr_expect_eq(config__set(&cfg, "capture.idle_timeout_seconds",
					 bad[i], err, sizeof(err)), -EINVAL,
			     "\"%s\"", bad[i]);
	}
	/* Plain integers take no size suffix. */
	cr_expect_eq(config__set(&cfg, "capture.max_connections", "1K", err,
				 sizeof(err)), -EINVAL);
	cr_expect_eq(config__set(&cfg, "capture.idle_timeout_seconds", "0",
				 err, sizeof(err)), -EINVAL);
	cr_expect_eq(config__set(&cfg, "capture.idle_timeout_seconds", "86400",
				 err, sizeof(err)), 0);
	cr_expect_eq(config__set(&cfg, "capture.idle_timeout_seconds", "86401",
				 err, sizeof(err)), -EINVAL);
	cr_expect_eq(config__set(&cfg, "capture.max_connections", "1000000",
				 err, sizeof(err)), 0);
	cr_expect_eq(cfg.max_connections, 1000000);
	cr_expect_eq(cfg.max_body_bytes, 4194304);
}

Test(config, set_strings_bools_enums)
{
	char err[256];

	cr_assert_eq(config__set(&cfg, "output.path", "/tmp/x", err,
				 sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(cfg.output_path, "/tmp/x");
	cr_expect_eq(config__set(&cfg, "output.path", "", err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "output.path: must not be empty");
	cr_expect_eq(config__set(&cfg, "output.format", "json", err,
				 sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "output.format: \"json\" is not one of: jsonl");
	cr_expect_eq(config__set(&cfg, "filters.ai_only", "no", err,
				 sizeof(err)), 0);
	cr_expect_not(cfg.ai_only);
	cr_expect_eq(config__set(&cfg, "filters.ai_only", "TRUE", err,
				 sizeof(err)), 0);
	cr_expect(cfg.ai_only);
	cr_expect_eq(config__set(&cfg, "filters.ai_only", "1", err,
				 sizeof(err)), -EINVAL);
	cr_expect_eq(config__set(&cfg, "log.level", "warn", err, sizeof(err)),
		     0);
	cr_expect_eq(cfg.log_level, LOG_WARN);
	cr_expect_eq(config__set(&cfg, "log.level", "trace", err,
				 sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 "log.level: \"trace\" is not one of: error, warn, info, debug");
	cr_expect_eq(config__set(&cfg, "rules.path", "/r.yaml", err,
				 sizeof(err)), 0);
	cr_expect_str_eq(cfg.rules_path, "/r.yaml");
	cr_expect_eq(config__set(&cfg, "rules.path", "", err, sizeof(err)), 0);
	cr_expect_null(cfg.rules_path);
	cr_expect_eq(config__set(&cfg, "status.socket",
				 "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
				 err, sizeof(err)), -EINVAL);
	cr_expect_eq(config__set(&cfg, "output", "x", err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "output: unknown configuration key");
	cr_expect_eq(config__set(&cfg, "nope.key", "x", err, sizeof(err)),
		     -EINVAL);
	cr_expect_eq(config__set(&cfg, "filters.ai_only", NULL, err,
				 sizeof(err)), -EINVAL);
}

Test(config, set_patterns_appends)
{
	char err[256];

	cr_assert_eq(config__set(&cfg, "redaction.patterns", "a=x+y", err,
				 sizeof(err)), 0, "%s", err);
	cr_assert_eq(config__set(&cfg, "redaction.patterns", "b=k=v", err,
				 sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.n_redact_patterns, 2);
	cr_expect_str_eq(cfg.redact_patterns[1].name, "b");
	cr_expect_str_eq(cfg.redact_patterns[1].regex, "k=v");
	cr_expect_eq(config__set(&cfg, "redaction.patterns", "a=z", err,
				 sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "twice"), "%s", err);
	cr_expect_eq(config__set(&cfg, "redaction.patterns", "c=(", err,
				 sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 "redaction.patterns: redaction.patterns[2] (c): PCRE2 error at offset 1: missing closing parenthesis");
	cr_expect_eq(config__set(&cfg, "redaction.patterns", "noequals", err,
				 sizeof(err)), -EINVAL);
	cr_expect_eq(cfg.n_redact_patterns, 2);
}

Test(config, bad_regex_file)
{
	char err[256] = "";

	cr_expect_eq(config__load_file(&cfg, FIX "bad-regex.yaml", err,
				       sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 FIX "bad-regex.yaml:7:14: redaction.patterns[1] (broken): PCRE2 error at offset 13: missing closing parenthesis");
	cr_expect_not(cfg.redact);
}

Test(config, unknown_key_file)
{
	char err[256] = "";

	cr_expect_eq(config__load_file(&cfg, FIX "unknown-key.yaml", err,
				       sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 FIX "unknown-key.yaml:5:3: unknown key \"filters.aionly\"");
	cr_expect_str_eq(cfg.output_path,
			 "/var/log/oisp-sensor/events.jsonl");
}

Test(config, missing_file)
{
	char err[256] = "";

	cr_expect_eq(config__load_file(&cfg, FIX "does-not-exist.yaml", err,
				       sizeof(err)), -ENOENT);
	cr_expect_str_eq(err, FIX "does-not-exist.yaml: No such file or directory");
	cr_expect_eq(config__load_file(&cfg, FIX, err, sizeof(err)), -EISDIR);
}

struct bad_case {
	const char *yaml;
	const char *err;	/* expected message, after "c.yaml:" */
};

static const struct bad_case bad_cases[] = {
	{ "output: [a]\n", "1:9: output: expected a mapping, got list" },
	{ "- a\n", "1:1: expected a mapping of settings, got list" },
	{ "hello\n", "1:1: expected a mapping of settings, got scalar" },
	{ "outptu:\n  path: x\n", "1:1: unknown key \"outptu\"" },
	{ "output:\n  path: {a: 1}\n",
	  "2:9: output.path: expected a string, got mapping" },
	{ "output:\n  path:\n", "2:8: output.path: must not be empty" },
	{ "output:\n  format: csv\n",
	  "2:11: output.format: \"csv\" is not one of: jsonl" },
	{ "filters:\n  ai_only: maybe\n",
	  "2:12: filters.ai_only: \"maybe\" is not a boolean (true/false, yes/no, on/off)" },
	{ "filters:\n  ai_only:\n",
	  "2:11: filters.ai_only: expected a boolean, got nothing" },
	{ "filters:\n  ai_only: true\n  ai_only: false\n",
	  "3:3: filters.ai_only: given twice" },
	{ "capture:\n  max_connections: -5\n",
	  "2:20: capture.max_connections: \"-5\" is not a non-negative integer" },
	{ "capture:\n  ring_buffer_bytes: 3MiB\n",
	  "2:22: capture.ring_buffer_bytes: 3MiB is not a power of two" },
	{ "capture:\n  idle_timeout: 5\n",
	  "2:3: unknown key \"capture.idle_timeout\"" },
	{ "log:\n  level: verbose\n",
	  "2:10: log.level: \"verbose\" is not one of: error, warn, info, debug" },
	{ "redaction:\n  patterns: {name: a}\n",
	  "2:13: redaction.patterns: expected a list of {name, regex}, got mapping" },
	{ "redaction:\n  patterns:\n    - x\n",
	  "3:7: redaction.patterns[0]: expected a mapping with name and regex, got scalar" },
	{ "redaction:\n  patterns:\n    - {name: a}\n",
	  "3:7: redaction.patterns[0] (a): \"regex\" must be a string" },
	{ "redaction:\n  patterns:\n    - {regex: a}\n",
	  "3:7: redaction.patterns[0]: \"name\" must be a string" },
	{ "redaction:\n  patterns:\n    - {name: a, regex: b, flags: i}\n",
	  "3:27: redaction.patterns[0]: unknown or repeated key \"flags\" (expected name, regex)" },
	{ "redaction:\n  patterns:\n    - {name: email, regex: b}\n",
	  "3:14: redaction.patterns[0] (email): pattern name \"email\" is taken by a built-in pattern" },
	{ "redaction:\n  patterns:\n    - {name: 'a b', regex: b}\n",
	  "3:14: redaction.patterns[0] (a b): pattern name \"a b\" may only hold letters, digits, '_', '-' and '.'" },
	{ "redaction:\n  patterns:\n    - {name: a, regex: ''}\n",
	  "3:24: redaction.patterns[0] (a): empty regex" },
	{ "output:\n  path: 'x\n", "3:1: found unexpected end of stream while scanning a quoted scalar" },
	{ "a: b\n---\nc: d\n", "2:1: only one YAML document is allowed" },
	{ "output:\n\tpath: x\n", "2:1: found character that cannot start any token while scanning for the next token" },
};

/* Indexes, not pointers: Criterion may run parameters in a new process. */
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))
static size_t bad_idx[N_BAD];

ParameterizedTestParameters(config_errors, messages)
{
	size_t i;

	for (i = 0; i < N_BAD; i++)
		bad_idx[i] = i;
	return cr_make_param_array(size_t, bad_idx, N_BAD);
}

ParameterizedTest(size_t *idx, config_errors, messages)
{
	const struct bad_case *c = &bad_cases[*idx];
	struct config conf;
	char err[512] = "", want[512];

	cr_assert_eq(config__init(&conf), 0);
	cr_expect_eq(config__load_string(&conf, c->yaml, "c.yaml", err,
					 sizeof(err)), -EINVAL, "accepted: %s",
		     c->yaml);
	snprintf(want, sizeof(want), "c.yaml:%s", c->err);
	cr_expect_str_eq(err, want, "for: %s", c->yaml);
	expect_defaults(&conf);
	config__free(&conf);
}

Test(config, free_is_idempotent)
{
	config__free(&cfg);
	config__free(&cfg);
	config__free(NULL);
	cr_expect_null(cfg.output_path);
}

Test(config, describe_lists_every_key)
{
	char buf[2048];
	size_t n = config__describe(buf, sizeof(buf));

	cr_assert_lt(n, sizeof(buf));
	cr_expect_eq(strlen(buf), n);
	cr_expect(strstr(buf, "capture.ring_buffer_bytes (size, default 33554432)\n"),
		  "%s", buf);
	cr_expect(strstr(buf, "rules.path (string, default none)\n"), "%s",
		  buf);
	cr_expect_eq(config__describe(NULL, 0), n);
}

Test(config, small_error_buffer)
{
	char err[8];

	cr_expect_eq(config__load_string(&cfg, "bogus: 1\n", "a-long-name",
					 err, sizeof(err)), -EINVAL);
	cr_expect_eq(strlen(err), 7);
	cr_expect_eq(config__load_string(&cfg, "bogus: 1\n", "n", NULL, 0),
		     -EINVAL);
}

Test(config, attach_mode_and_targets)
{
	char err[256] = "";

	cr_expect_eq(cfg.attach_mode, 0);
	cr_expect_null(cfg.target_exe);
	cr_assert_eq(config__load_string(&cfg,
		"capture:\n"
		"  attach_mode: perf\n"
		"  targets:\n"
		"    exe: [/usr/bin/python3*, \"*/node\"]\n"
		"    comm: curl\n"
		"    cgroup:\n"
		"      - /kubepods.slice/*\n"
		"    k8s_namespace: []\n", "t.yaml", err, sizeof(err)), 0,
		"%s", err);
	cr_expect_eq(cfg.attach_mode, 2);
	cr_expect_eq(cfg.rustls_sockets, CAPTURE_RUSTLS_AUTO);
	cr_expect_str_eq(cfg.target_exe, "/usr/bin/python3*,*/node");
	cr_expect_str_eq(cfg.target_comm, "curl");
	cr_expect_str_eq(cfg.target_cgroup, "/kubepods.slice/*");
	cr_expect_null(cfg.target_k8s_namespace);
}

Test(config, bad_targets_are_refused_with_line)
{
	char err[256] = "";

	cr_expect_eq(config__load_string(&cfg,
		"capture:\n  targets:\n    comm: [curl, \"\"]\n", "t.yaml", err,
		sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "t.yaml:3:") != NULL, "%s", err);
	cr_expect(strstr(err, "capture.targets.comm[1]") != NULL, "%s", err);
	cr_expect_eq(config__load_string(&cfg,
		"capture:\n  targets:\n    exe: {a: b}\n", "t.yaml", err,
		sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "list of strings") != NULL, "%s", err);
	cr_expect_eq(config__load_string(&cfg,
		"capture:\n  attach_mode: kprobe\n", "t.yaml", err,
		sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "t.yaml:2:") != NULL, "%s", err);
}

Test(config, rustls_sockets)
{
	char err[256] = "";

	cr_assert_eq(config__load_string(&cfg,
		"capture:\n  rustls_sockets: syscalls\n", "t.yaml", err,
		sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.rustls_sockets, CAPTURE_RUSTLS_SYSCALLS);
	cr_assert_eq(config__load_string(&cfg,
		"capture:\n  rustls_sockets: tracepoints\n", "t.yaml", err,
		sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.rustls_sockets, CAPTURE_RUSTLS_TRACEPOINTS);
	cr_expect_eq(config__load_string(&cfg,
		"capture:\n  rustls_sockets: kprobes\n", "t.yaml", err,
		sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "t.yaml:2:") != NULL, "%s", err);
	cr_expect(strstr(err, "capture.rustls_sockets") != NULL, "%s", err);
}

/* Environment overrides (config__load_env) and value sources. */

static size_t key_index(const char *key)
{
	struct config_key k;
	size_t i;

	for (i = 0; !config__key(i, &k); i++)
		if (!strcmp(k.key, key))
			return i;
	cr_assert_fail("no key %s", key);
	return 0;
}

static const char *source_of(const char *key)
{
	return config__source(&cfg, key_index(key));
}

Test(config, env_precedence_flags_env_file_defaults)
{
	char *env[] = {
		(char *)"PATH=/usr/bin",
		(char *)"OISP_SENSOR_OUTPUT_PATH=/env/events.jsonl",
		(char *)"OISP_SENSOR_CAPTURE_MAX_CONNECTIONS=2000",
		(char *)"OISP_SENSOR_LOG_LEVEL=debug",
		(char *)"OISPSENSOR_X=1",
		NULL
	};
	char err[256] = "";

	cr_expect_str_eq(source_of("output.path"), "default");
	cr_assert_eq(config__load_string(&cfg,
		"output:\n  path: /file/events.jsonl\n"
		"capture:\n  max_connections: 1000\n  idle_timeout_seconds: 60\n",
		"c", err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(source_of("output.path"), "file");
	cr_assert_eq(config__load_env(&cfg, env, err, sizeof(err)), 0, "%s", err);
	/* env over file */
	cr_expect_str_eq(cfg.output_path, "/env/events.jsonl");
	cr_expect_str_eq(source_of("output.path"), "env");
	cr_expect_eq(cfg.max_connections, 2000);
	cr_expect_str_eq(source_of("capture.max_connections"), "env");
	/* file over defaults, where env says nothing */
	cr_expect_eq(cfg.idle_timeout_s, 60);
	cr_expect_str_eq(source_of("capture.idle_timeout_seconds"), "file");
	/* env over defaults */
	cr_expect_eq(cfg.log_level, LOG_DEBUG);
	cr_expect_str_eq(source_of("log.level"), "env");
	cr_expect_str_eq(source_of("filters.ai_only"), "default");
	/* flags over env */
	cr_assert_eq(config__set(&cfg, "output.path", "/flag/events.jsonl", err,
				 sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(cfg.output_path, "/flag/events.jsonl");
	cr_expect_str_eq(source_of("output.path"), "flag");
}

Test(config, env_bad_value_names_the_variable_and_changes_nothing)
{
	static const struct {
		const char *var, *msg;
	} bad[] = {
		{ "OISP_SENSOR_CAPTURE_MAX_CONNECTIONS=5",
		  "OISP_SENSOR_CAPTURE_MAX_CONNECTIONS (capture.max_connections): 5 is out of range (16..1000000)" },
		{ "OISP_SENSOR_FILTERS_AI_ONLY=maybe",
		  "OISP_SENSOR_FILTERS_AI_ONLY (filters.ai_only): \"maybe\" is not a boolean (true/false, yes/no, on/off)" },
		{ "OISP_SENSOR_CAPTURE_RING_BUFFER_BYTES=100000",
		  "OISP_SENSOR_CAPTURE_RING_BUFFER_BYTES (capture.ring_buffer_bytes): 100000 is not a power of two" },
		{ "OISP_SENSOR_LOG_LEVEL=loud",
		  "OISP_SENSOR_LOG_LEVEL (log.level): \"loud\" is not one of: error, warn, info, debug" },
		{ "OISP_SENSOR_OUTPUT_PATH=",
		  "OISP_SENSOR_OUTPUT_PATH (output.path): must not be empty" },
		{ "OISP_SENSOR_REDACTION_PATTERNS=nope",
		  "OISP_SENSOR_REDACTION_PATTERNS (redaction.patterns): expected NAME=REGEX" },
		{ "OISP_SENSOR_OUTPUT_PATHS=/x",
		  "OISP_SENSOR_OUTPUT_PATHS: unknown configuration variable (docs/config.md lists them)" },
		{ "OISP_SENSOR_OUTPUT",
		  "OISP_SENSOR_OUTPUT: unknown configuration variable (docs/config.md lists them)" },
	};
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* A good variable first: it must not be applied either. */
		char *env[] = { (char *)"OISP_SENSOR_METRICS_PORT=1234",
				(char *)bad[i].var, NULL };

		err[0] = '\0';
		cr_expect_eq(config__load_env(&cfg, env, err, sizeof(err)),
			     -EINVAL, "%s", bad[i].var);
		cr_expect_str_eq(err, bad[i].msg);
		cr_expect_eq(cfg.metrics_port, 9464);
		cr_expect_str_eq(source_of("metrics.port"), "default");
	}
	expect_defaults(&cfg);
}

Test(config, env_twice_is_refused)
{
	char *env[] = { (char *)"OISP_SENSOR_METRICS_PORT=1",
			(char *)"OISP_SENSOR_METRICS_PORT=2", NULL };
	char err[256] = "";

	cr_expect_eq(config__load_env(&cfg, env, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "OISP_SENSOR_METRICS_PORT: given twice");
	cr_expect_eq(cfg.metrics_port, 9464);
}

Test(config, env_patterns_replace_the_list_and_empty_clears)
{
	char *one[] = {
		(char *)"OISP_SENSOR_REDACTION_PATTERNS=emp=EMP-[0-9]{6}", NULL
	};
	char *none[] = { (char *)"OISP_SENSOR_REDACTION_PATTERNS=",
			 (char *)"OISP_SENSOR_RULES_PATH=", NULL };
	char err[256] = "", buf[128];
	size_t i = key_index("redaction.patterns");

	cr_assert_eq(config__load_file(&cfg, FIX "full.yaml", err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(cfg.n_redact_patterns, 2);
	cr_assert_eq(config__load_env(&cfg, one, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.n_redact_patterns, 1);
	cr_expect_str_eq(cfg.redact_patterns[0].name, "emp");
	cr_expect_eq(config__format(&cfg, i, buf, sizeof(buf)),
		     (int)strlen("emp=EMP-[0-9]{6}"));
	cr_expect_str_eq(buf, "emp=EMP-[0-9]{6}");
	cr_assert_eq(config__load_env(&cfg, none, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.n_redact_patterns, 0);
	cr_expect_eq(config__format(&cfg, i, buf, sizeof(buf)), -ENODATA);
	/* a nullable string: empty is unset, as `rules.path:` in the file */
	cr_expect_null(cfg.rules_path);
	cr_expect_str_eq(source_of("rules.path"), "env");
}

Test(config, env_names_are_derived_and_unique)
{
	char a[128], b[128];
	struct config_key k;
	size_t i, j;

	cr_assert_eq(config__env_name(key_index("output.path"), a, sizeof(a)), 0);
	cr_expect_str_eq(a, "OISP_SENSOR_OUTPUT_PATH");
	cr_assert_eq(config__env_name(key_index("capture.targets.k8s_namespace"),
				      a, sizeof(a)), 0);
	cr_expect_str_eq(a, "OISP_SENSOR_CAPTURE_TARGETS_K8S_NAMESPACE");
	cr_expect_eq(config__env_name(0, a, 12), -ENOSPC);
	for (i = 0; !config__key(i, &k); i++) {
		cr_assert_eq(config__env_name(i, a, sizeof(a)), 0);
		for (j = i + 1; !config__env_name(j, b, sizeof(b)); j++)
			cr_expect_str_neq(a, b);
	}
	cr_expect_eq(config__env_name(i, a, sizeof(a)), -ENOENT);
	cr_expect_eq(config__key(i, &k), -ENOENT);
	cr_expect_null(config__source(&cfg, i));
	cr_expect_eq(config__format(&cfg, i, a, sizeof(a)), -ENOENT);
}

/*
 * A value for key @k that differs from its default where the key allows
 * one, in the text config__format writes back.
 */
static void test_value(const struct config_key *k, char *buf, size_t len)
{
	size_t i;

	if (!strcmp(k->type, "boolean")) {
		snprintf(buf, len, "%s", strcmp(k->def, "true") ? "true" : "false");
	} else if (!strcmp(k->type, "integer") || !strcmp(k->type, "size")) {
		uint64_t v = k->pow2 ? k->min * 2 : k->min + 1;

		snprintf(buf, len, "%llu", (unsigned long long)v);
	} else if (k->choices) {
		for (i = 0; k->choices[i + 1] && k->def &&
			    !strcmp(k->choices[i], k->def); i++)
			;
		snprintf(buf, len, "%s", k->choices[i]);
	} else if (!strcmp(k->type, "patterns")) {
		snprintf(buf, len, "envtest=ENV-[0-9]+");
	} else if (!strcmp(k->type, "list")) {
		snprintf(buf, len, "env-a*,env-b");
	} else {
		snprintf(buf, len, "/env/%s", k->key);
	}
}

/*
 * Every key docs/config.md documents is a row of the table, every row is
 * documented, and each one's OISP_SENSOR_* variable sets it.
 */
Test(config, every_documented_key_has_a_working_env_override)
{
	char line[8192], key[128], name[128], value[256], got[256], var[400];
	FILE *f = fopen("../../docs/config.md", "r");
	size_t n_doc = 0, n_keys, i;
	struct config_key k;
	bool in_keys = false;
	char *end;

	cr_assert_not_null(f);
	for (n_keys = 0; !config__key(n_keys, &k); n_keys++)
		;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "## ", 3))
			in_keys = !strcmp(line, "## Keys\n");
		if (!in_keys || strncmp(line, "| `", 3))
			continue;
		end = strchr(line + 3, '`');
		cr_assert_not_null(end);
		snprintf(key, sizeof(key), "%.*s", (int)(end - line - 3), line + 3);
		i = key_index(key);
		n_doc++;
		cr_assert_eq(config__key(i, &k), 0);
		cr_assert_eq(config__env_name(i, name, sizeof(name)), 0);
		test_value(&k, value, sizeof(value));
		snprintf(var, sizeof(var), "%s=%s", name, value);
		{
			char *env[] = { var, NULL };
			char err[512] = "";
			struct config c;

			cr_assert_eq(config__init(&c), 0);
			cr_expect_eq(config__load_env(&c, env, err, sizeof(err)), 0,
				     "%s: %s", var, err);
			cr_expect_str_eq(config__source(&c, i), "env", "%s", key);
			cr_expect_gt(config__format(&c, i, got, sizeof(got)), 0,
				     "%s", key);
			cr_expect_str_eq(got, value, "%s", key);
			config__free(&c);
		}
	}
	fclose(f);
	cr_expect_eq(n_doc, n_keys, "docs/config.md has %zu keys, the table %zu",
		     n_doc, n_keys);
}
