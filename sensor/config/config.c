// SPDX-License-Identifier: MIT
/*
 * config.c - table-driven configuration; see config.h and docs/config.md.
 *
 * Every option is one row of opts[]: dotted key, type, bounds, default
 * (as the text a user would write) and the field it sets.  Defaults, the
 * YAML file, the environment and command-line overrides all go through
 * opt_set(), so they are parsed and checked the same way; a row's
 * environment variable is derived from its key, so a new row has one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/log.h"
#include "config/yamlutil.h"

enum opt_type {
	OPT_STR,	/* char *; optional list of allowed values */
	OPT_BOOL,	/* bool */
	OPT_U32,	/* uint32_t, plain integer */
	OPT_SIZE,	/* uint32_t, bytes, K/KiB/M/MiB/G/GiB suffixes */
	OPT_ENUM,	/* int: index into choices */
	OPT_PATTERNS,	/* redaction.patterns list */
	OPT_LIST,	/* char *: "A,B,C", from a string or a YAML list */
};

struct opt {
	const char *key;
	enum opt_type type;
	size_t off;		/* offsetof(struct config, field) */
	uint64_t min, max;	/* numbers: bounds; strings: max length */
	bool pow2;		/* numbers: must be a power of two */
	bool nullable;		/* strings: empty or null means NULL */
	const char *def;	/* default, as text; NULL: none */
	const char *const *choices;
};

static const char *const formats[] = { "jsonl", NULL };
/* In the order of enum log_level. */
static const char *const levels[] = { "error", "warn", "info", "debug", NULL };
/* In the order of enum config_k8s. */
static const char *const k8s_modes[] = { "auto", "true", "false", NULL };
/* In the order of enum capture_attach_mode. */
static const char *const attach_modes[] = { "auto", "multi", "perf", NULL };
/* In the order of enum capture_rustls_sockets. */
static const char *const rustls_sockets[] = { "auto", "tracepoints", "syscalls",
					      NULL };
/* In the order of enum config_write_probe. */
static const char *const write_probes[] = { "return", "entry", NULL };

#define F(field) offsetof(struct config, field)

static const struct opt opts[] = {
	{ "output.path", OPT_STR, F(output_path), 0, 4095, false, false,
	  "/var/log/oisp-sensor/events.jsonl", NULL },
	{ "output.format", OPT_STR, F(output_format), 0, 16, false, false,
	  "jsonl", formats },
	{ "filters.ai_only", OPT_BOOL, F(ai_only), 0, 0, false, false,
	  "true", NULL },
	{ "filters.server_side", OPT_BOOL, F(server_side), 0, 0, false, false,
	  "false", NULL },
	{ "redaction.enabled", OPT_BOOL, F(redact), 0, 0, false, false,
	  "false", NULL },
	{ "redaction.patterns", OPT_PATTERNS, F(redact_patterns), 0,
	  REDACT_EXTRA_MAX, false, false, NULL, NULL },
	{ "rules.path", OPT_STR, F(rules_path), 0, 4095, false, true,
	  NULL, NULL },
	{ "capture.max_bytes_per_call", OPT_SIZE, F(max_call_bytes),
	  4096, 16777216, false, false, "4259840", NULL },
	{ "capture.ring_buffer_bytes", OPT_SIZE, F(ringbuf_bytes),
	  65536, 1073741824, true, false, "33554432", NULL },
	{ "capture.small_ring_buffer_bytes", OPT_SIZE, F(small_ringbuf_bytes),
	  65536, 1073741824, true, false, "4194304", NULL },
	{ "capture.max_body_bytes", OPT_SIZE, F(max_body_bytes),
	  1024, 268435456, false, false, "4194304", NULL },
	{ "capture.max_connections", OPT_U32, F(max_connections),
	  16, 1000000, false, false, "16384", NULL },
	{ "capture.idle_timeout_seconds", OPT_U32, F(idle_timeout_s),
	  1, 86400, false, false, "300", NULL },
	{ "capture.memory_budget_bytes", OPT_SIZE, F(memory_budget_bytes),
	  1048576, 2147483648u, false, false, "268435456", NULL },
	{ "capture.attach_mode", OPT_ENUM, F(attach_mode), 0, 0, false, false,
	  "auto", attach_modes },
	{ "capture.write_probe", OPT_ENUM, F(write_probe), 0, 0, false, false,
	  "return", write_probes },
	{ "capture.rustls_sockets", OPT_ENUM, F(rustls_sockets), 0, 0, false,
	  false, "auto", rustls_sockets },
	{ "capture.targets.exe", OPT_LIST, F(target_exe), 0, 4095, false, true,
	  NULL, NULL },
	{ "capture.targets.comm", OPT_LIST, F(target_comm), 0, 4095, false,
	  true, NULL, NULL },
	{ "capture.targets.cgroup", OPT_LIST, F(target_cgroup), 0, 4095, false,
	  true, NULL, NULL },
	{ "capture.targets.k8s_namespace", OPT_LIST, F(target_k8s_namespace), 0,
	  4095, false, true, NULL, NULL },
	/* sun_path holds 108 bytes with the NUL. */
	{ "status.socket", OPT_STR, F(status_socket), 0, 107, false, false,
	  "/run/oisp-sensor/status.sock", NULL },
	{ "log.level", OPT_ENUM, F(log_level), 0, 0, false, false,
	  "info", levels },
	/* Loki 3's limits_config.max_line_size, "256KB": 256000 bytes. */
	{ "output.max_event_bytes", OPT_SIZE, F(max_event_bytes),
	  0, 268435456, false, false, "256000", NULL },
	{ "output.rotate.max_bytes", OPT_SIZE, F(rotate_max_bytes),
	  0, 2147483648u, false, false, "0", NULL },
	{ "output.rotate.max_files", OPT_U32, F(rotate_max_files),
	  1, 100, false, false, "5", NULL },
	{ "metrics.enabled", OPT_BOOL, F(metrics_enabled), 0, 0, false, false,
	  "false", NULL },
	{ "metrics.address", OPT_STR, F(metrics_address), 0, 63, false, false,
	  "0.0.0.0", NULL },
	{ "metrics.port", OPT_U32, F(metrics_port), 1, 65535, false, false,
	  "9464", NULL },
	{ "metrics.allowed_ips", OPT_STR, F(metrics_allowed_ips), 0, 4095,
	  false, true, NULL, NULL },
	{ "kubernetes.enabled", OPT_ENUM, F(k8s_enabled), 0, 0, false, false,
	  "auto", k8s_modes },
	{ "kubernetes.api_server", OPT_STR, F(k8s_api_server), 0, 1023, false,
	  true, NULL, NULL },
	{ "kubernetes.node_name", OPT_STR, F(k8s_node_name), 0, 253, false,
	  true, NULL, NULL },
	{ "kubernetes.refresh_seconds", OPT_U32, F(k8s_refresh_s), 5, 3600,
	  false, false, "30", NULL },
	{ "kubernetes.token_path", OPT_STR, F(k8s_token_path), 0, 4095, false,
	  false, "/var/run/secrets/kubernetes.io/serviceaccount/token", NULL },
	{ "kubernetes.ca_path", OPT_STR, F(k8s_ca_path), 0, 4095, false,
	  false, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", NULL },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

_Static_assert(N_OPTS <= 64, "cfg_loader.seen has one bit per option");
_Static_assert(N_OPTS <= CONFIG_MAX_KEYS, "config.source has one byte per option");
_Static_assert(CAPTURE_ATTACH_AUTO == 0 && CAPTURE_ATTACH_MULTI == 1 &&
	       CAPTURE_ATTACH_PERF == 2, "attach_modes[] follows the enum");
_Static_assert(CAPTURE_RUSTLS_AUTO == 0 && CAPTURE_RUSTLS_TRACEPOINTS == 1 &&
	       CAPTURE_RUSTLS_SYSCALLS == 2, "rustls_sockets[] follows the enum");
_Static_assert(LOG_ERROR == 0 && LOG_WARN == 1 && LOG_INFO == 2 &&
	       LOG_DEBUG == 3, "levels[] follows enum log_level");


static void *field(struct config *c, const struct opt *o)
{
	return (char *)c + o->off;
}

static const char *type_name(const struct opt *o)
{
	switch (o->type) {
	case OPT_STR:
		return o->choices ? "enum" : "string";
	case OPT_BOOL:
		return "boolean";
	case OPT_U32:
		return "integer";
	case OPT_SIZE:
		return "size";
	case OPT_ENUM:
		return "enum";
	default:
		return "list";
	}
}

static const char *const source_names[] = {
	[CONFIG_SRC_DEFAULT] = "default",
	[CONFIG_SRC_FILE] = "file",
	[CONFIG_SRC_ENV] = "env",
	[CONFIG_SRC_FLAG] = "flag",
};

static void free_patterns(struct redact_rule *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].regex);
	}
	free(p);
}

void config__free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < N_OPTS; i++)
		if (opts[i].type == OPT_STR || opts[i].type == OPT_LIST)
			free(*(char **)field(c, &opts[i]));
	free_patterns(c->redact_patterns, c->n_redact_patterns);
	memset(c, 0, sizeof(*c));
}

/*
 * Parses a decimal integer with an optional binary suffix (@sizes):
 * K/KiB = 2^10, M/MiB = 2^20, G/GiB = 2^30.  No sign, no spaces.
 */
static int parse_u64(const char *s, bool sizes, uint64_t *out, char *why,
		     size_t wl)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} units[] = {
		{ "K", 10 }, { "KiB", 10 }, { "M", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GiB", 30 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		goto range;
	if (!*end) {
		*out = v;
		return 0;
	}
	for (i = 0; sizes && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > (UINT64_MAX >> units[i].shift))
			goto range;
		*out = (uint64_t)v << units[i].shift;
		return 0;
	}
bad:
	log__errbuf(why, wl, sizes ?
		"\"%s\" is not a size (bytes, optionally with K, KiB, M, MiB, G or GiB)" :
		"\"%s\" is not a non-negative integer", s);
	return -EINVAL;
range:
	log__errbuf(why, wl, "\"%s\" is too large", s);
	return -EINVAL;
}

static int set_number(struct config *c, const struct opt *o, const char *s,
		      char *why, size_t wl)
{
	uint64_t v;
	int ret;

	ret = parse_u64(s, o->type == OPT_SIZE, &v, why, wl);
	if (ret)
		return ret;
	if (v < o->min || v > o->max) {
		log__errbuf(why, wl, "%s is out of range (%llu..%llu)", s,
			(unsigned long long)o->min,
			(unsigned long long)o->max);
		return -EINVAL;
	}
	if (o->pow2 && (v & (v - 1))) {
		log__errbuf(why, wl, "%s is not a power of two", s);
		return -EINVAL;
	}
	*(uint32_t *)field(c, o) = (uint32_t)v;
	return 0;
}

static int choice_index(const struct opt *o, const char *s, char *why,
			size_t wl)
{
	char list[128] = "";
	size_t i, off = 0;

	for (i = 0; o->choices[i]; i++)
		if (!strcmp(o->choices[i], s))
			return (int)i;
	for (i = 0; o->choices[i] && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
					i ? ", " : "", o->choices[i]);
	log__errbuf(why, wl, "\"%s\" is not one of: %s", s, list);
	return -EINVAL;
}

static int set_string(struct config *c, const struct opt *o, const char *s,
		      char *why, size_t wl)
{
	char **dst = field(c, o);
	char *dup = NULL;
	int ret;

	if (!s || !*s) {
		if (!o->nullable) {
			log__errbuf(why, wl, "must not be empty");
			return -EINVAL;
		}
	} else {
		if (strlen(s) > o->max) {
			log__errbuf(why, wl, "longer than %llu bytes",
				(unsigned long long)o->max);
			return -EINVAL;
		}
		if (o->choices) {
			ret = choice_index(o, s, why, wl);
			if (ret < 0)
				return ret;
		}
		dup = strdup(s);
		if (!dup) {
			log__errbuf(why, wl, "out of memory");
			return -ENOMEM;
		}
	}
	free(*dst);
	*dst = dup;
	return 0;
}

/* Appends a checked {name, regex} to the list; @i is its index for messages. */
static int add_pattern(struct config *c, const char *name, const char *regex,
		       char *why, size_t wl)
{
	struct redact_rule *p;
	size_t i, n = c->n_redact_patterns;
	char reason[256];

	if (redact__check_name(name, reason, sizeof(reason)) ||
	    redact__check_regex(regex, reason, sizeof(reason)))
		goto bad;
	for (i = 0; i < n; i++) {
		if (!strcmp(c->redact_patterns[i].name, name)) {
			snprintf(reason, sizeof(reason),
				 "name \"%s\" is used twice", name);
			goto bad;
		}
	}
	if (n >= REDACT_EXTRA_MAX) {
		snprintf(reason, sizeof(reason), "more than %d patterns",
			 REDACT_EXTRA_MAX);
		goto bad;
	}
	p = realloc(c->redact_patterns, (n + 1) * sizeof(*p));
	if (!p)
		goto nomem;
	c->redact_patterns = p;
	p[n].name = strdup(name);
	p[n].regex = strdup(regex);
	if (!p[n].name || !p[n].regex) {
		free(p[n].name);
		free(p[n].regex);
		goto nomem;
	}
	c->n_redact_patterns++;
	return 0;

bad:
	log__errbuf(why, wl, "redaction.patterns[%zu] (%s): %s", n,
		name ? name : "", reason);
	return -EINVAL;
nomem:
	log__errbuf(why, wl, "out of memory");
	return -ENOMEM;
}

/*
 * Sets option @o from the text @s (NULL: a YAML null).  @why receives the
 * reason on error, without the key.
 */
static int opt_set(struct config *c, const struct opt *o, const char *s,
		   char *why, size_t wl)
{
	const char *eq;
	char *name;
	bool b;
	int ret;

	if (o->type == OPT_STR || o->type == OPT_LIST)
		return set_string(c, o, s, why, wl);
	if (!s) {
		log__errbuf(why, wl, "expected a %s, got nothing", type_name(o));
		return -EINVAL;
	}
	switch (o->type) {
	case OPT_BOOL:
		if (yamlutil__parse_bool(s, &b)) {
			log__errbuf(why, wl,
				"\"%s\" is not a boolean (true/false, yes/no, on/off)",
				s);
			return -EINVAL;
		}
		*(bool *)field(c, o) = b;
		return 0;
	case OPT_U32:
	case OPT_SIZE:
		return set_number(c, o, s, why, wl);
	case OPT_ENUM:
		ret = choice_index(o, s, why, wl);
		if (ret < 0)
			return ret;
		*(int *)field(c, o) = ret;
		return 0;
	default:
		/* Only from text (config__set): "NAME=REGEX", appended. */
		eq = strchr(s, '=');
		if (!eq) {
			log__errbuf(why, wl, "expected NAME=REGEX");
			return -EINVAL;
		}
		name = strndup(s, (size_t)(eq - s));
		if (!name) {
			log__errbuf(why, wl, "out of memory");
			return -ENOMEM;
		}
		ret = add_pattern(c, name, eq + 1, why, wl);
		free(name);
		return ret;
	}
}

int config__init(struct config *c)
{
	char why[256];
	size_t i;
	int ret;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < N_OPTS; i++) {
		if (!opts[i].def)
			continue;
		ret = opt_set(c, &opts[i], opts[i].def, why, sizeof(why));
		if (ret) {
			/* Only memory can fail: the unit tests load every default. */
			config__free(c);
			return ret;
		}
	}
	return 0;
}

static const struct opt *find_opt(const char *key)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (!strcmp(opts[i].key, key))
			return &opts[i];
	return NULL;
}

int config__set(struct config *c, const char *key, const char *value,
		char *err, size_t errlen)
{
	const struct opt *o = key ? find_opt(key) : NULL;
	char why[384];
	int ret;

	if (!o) {
		log__errbuf(err, errlen, "%s: unknown configuration key",
			key ? key : "(null)");
		return -EINVAL;
	}
	ret = opt_set(c, o, value, why, sizeof(why));
	if (ret)
		log__errbuf(err, errlen, "%s: %s", key, why);
	else
		c->source[o - opts] = CONFIG_SRC_FLAG;
	return ret;
}

/* Deep copy, so that a file is applied all or nothing. */
static int config_clone(struct config *dst, const struct config *src)
{
	char **s, **d;
	size_t i;

	*dst = *src;
	dst->redact_patterns = NULL;
	dst->n_redact_patterns = 0;
	for (i = 0; i < N_OPTS; i++) {
		if (opts[i].type != OPT_STR && opts[i].type != OPT_LIST)
			continue;
		d = field(dst, &opts[i]);
		*d = NULL;
	}
	for (i = 0; i < N_OPTS; i++) {
		if (opts[i].type != OPT_STR && opts[i].type != OPT_LIST)
			continue;
		s = field((struct config *)src, &opts[i]);
		d = field(dst, &opts[i]);
		if (*s && !(*d = strdup(*s)))
			goto nomem;
	}
	if (src->n_redact_patterns) {
		dst->redact_patterns = calloc(src->n_redact_patterns,
					      sizeof(*dst->redact_patterns));
		if (!dst->redact_patterns)
			goto nomem;
	}
	for (i = 0; i < src->n_redact_patterns; i++) {
		dst->redact_patterns[i].name =
			strdup(src->redact_patterns[i].name);
		dst->redact_patterns[i].regex =
			strdup(src->redact_patterns[i].regex);
		dst->n_redact_patterns++;
		if (!dst->redact_patterns[i].name ||
		    !dst->redact_patterns[i].regex)
			goto nomem;
	}
	return 0;

nomem:
	config__free(dst);
	return -ENOMEM;
}

/* Loader state for one document. */
struct cfg_loader {
	struct yamlutil_doc *d;
	struct config *c;
	uint64_t seen;		/* bit per opts[] row, to catch repeats */
	char *err;
	size_t errlen;
};

static int load_patterns(struct cfg_loader *l, yaml_node_t *n)
{
	yaml_node_t *item, *k, *v, *name_n, *regex_n;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	char why[384];
	const char *key;
	size_t i = 0;
	int ret;

	free_patterns(l->c->redact_patterns, l->c->n_redact_patterns);
	l->c->redact_patterns = NULL;
	l->c->n_redact_patterns = 0;
	if (yamlutil__is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return yamlutil__err(l->d, n, l->err, l->errlen,
				     "redaction.patterns: expected a list of {name, regex}, got %s",
				     yamlutil__type_name(n));
	for (it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, i++) {
		item = yamlutil__node(l->d, *it);
		if (item->type != YAML_MAPPING_NODE)
			return yamlutil__err(l->d, item, l->err, l->errlen,
					     "redaction.patterns[%zu]: expected a mapping with name and regex, got %s",
					     i, yamlutil__type_name(item));
		name_n = regex_n = NULL;
		for (p = item->data.mapping.pairs.start;
		     p < item->data.mapping.pairs.top; p++) {
			k = yamlutil__node(l->d, p->key);
			v = yamlutil__node(l->d, p->value);
			key = yamlutil__scalar(k);
			if (key && !strcmp(key, "name") && !name_n) {
				name_n = v;
			} else if (key && !strcmp(key, "regex") && !regex_n) {
				regex_n = v;
			} else {
				return yamlutil__err(l->d, k, l->err, l->errlen,
						     "redaction.patterns[%zu]: unknown or repeated key \"%s\" (expected name, regex)",
						     i, key ? key : "?");
			}
		}
		if (!yamlutil__scalar(name_n) || yamlutil__is_null(name_n))
			return yamlutil__err(l->d, name_n ? name_n : item,
					     l->err, l->errlen,
					     "redaction.patterns[%zu]: \"name\" must be a string",
					     i);
		if (!yamlutil__scalar(regex_n) || yamlutil__is_null(regex_n))
			return yamlutil__err(l->d, regex_n ? regex_n : item,
					     l->err, l->errlen,
					     "redaction.patterns[%zu] (%s): \"regex\" must be a string",
					     i, yamlutil__scalar(name_n));
		ret = add_pattern(l->c, yamlutil__scalar(name_n),
				  yamlutil__scalar(regex_n), why, sizeof(why));
		if (ret == -ENOMEM)
			return ret;
		if (ret) {
			/* Point at the regex unless the name is at fault. */
			char tmp[8];

			v = redact__check_name(yamlutil__scalar(name_n), tmp,
					       sizeof(tmp)) ? name_n : regex_n;
			return yamlutil__err(l->d, v, l->err, l->errlen, "%s",
					     why);
		}
	}
	return 0;
}

/*
 * A list option given as a YAML sequence of strings: stored joined with
 * ',' (the form a command-line value takes).  An empty list is NULL.
 */
static int load_list(struct cfg_loader *l, const struct opt *o,
		     yaml_node_t *seq)
{
	char why[384], *joined = NULL, *tmp;
	size_t len = 0, n, i = 0;
	yaml_node_item_t *it;
	yaml_node_t *item;
	const char *s;
	int ret;

	for (it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, i++) {
		item = yamlutil__node(l->d, *it);
		s = yamlutil__scalar(item);
		if (!s || yamlutil__is_null(item) || !*s || strchr(s, ',')) {
			free(joined);
			return yamlutil__err(l->d, item, l->err, l->errlen,
					     "%s[%zu]: expected a non-empty string without ','",
					     o->key, i);
		}
		n = strlen(s);
		tmp = realloc(joined, len + n + 2);
		if (!tmp) {
			free(joined);
			return -ENOMEM;
		}
		joined = tmp;
		if (len)
			joined[len++] = ',';
		memcpy(joined + len, s, n + 1);
		len += n;
	}
	ret = opt_set(l->c, o, joined, why, sizeof(why));
	free(joined);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return yamlutil__err(l->d, seq, l->err, l->errlen, "%s: %s",
				     o->key, why);
	return 0;
}

static int load_value(struct cfg_loader *l, const struct opt *o,
		      yaml_node_t *k, yaml_node_t *v)
{
	char why[384];
	size_t i = (size_t)(o - opts);
	int ret;

	if (l->seen & (UINT64_C(1) << i))
		return yamlutil__err(l->d, k, l->err, l->errlen,
				     "%s: given twice", o->key);
	l->seen |= UINT64_C(1) << i;
	/* On error the copy being loaded is dropped, source and all. */
	l->c->source[i] = CONFIG_SRC_FILE;
	if (o->type == OPT_PATTERNS)
		return load_patterns(l, v);
	if (o->type == OPT_LIST && v->type == YAML_SEQUENCE_NODE)
		return load_list(l, o, v);
	if (v->type != YAML_SCALAR_NODE)
		return yamlutil__err(l->d, v, l->err, l->errlen,
				     "%s: expected a %s, got %s", o->key,
				     o->type == OPT_LIST ? "list of strings" : type_name(o),
				     yamlutil__type_name(v));
	ret = opt_set(l->c, o, yamlutil__is_null(v) ? NULL :
		      yamlutil__scalar(v), why, sizeof(why));
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return yamlutil__err(l->d, v, l->err, l->errlen, "%s: %s",
				     o->key, why);
	return 0;
}

/* True when some option's key starts with "@prefix.". */
static bool is_section(const char *prefix)
{
	size_t i, n = strlen(prefix);

	for (i = 0; i < N_OPTS; i++)
		if (!strncmp(opts[i].key, prefix, n) && opts[i].key[n] == '.')
			return true;
	return false;
}

static int load_map(struct cfg_loader *l, yaml_node_t *map,
		    const char *prefix)
{
	char path[128];
	const struct opt *o;
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	const char *key;
	int ret;

	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		k = yamlutil__node(l->d, p->key);
		v = yamlutil__node(l->d, p->value);
		key = yamlutil__scalar(k);
		if (!key)
			return yamlutil__err(l->d, k, l->err, l->errlen,
					     "keys must be strings, got a %s",
					     yamlutil__type_name(k));
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", prefix,
				     *prefix ? "." : "", key) >= sizeof(path))
			return yamlutil__err(l->d, k, l->err, l->errlen,
					     "unknown key \"%s.%.40s...\"",
					     prefix, key);
		o = find_opt(path);
		if (o) {
			ret = load_value(l, o, k, v);
		} else if (is_section(path)) {
			if (yamlutil__is_null(v))
				continue;
			if (v->type != YAML_MAPPING_NODE)
				return yamlutil__err(l->d, v, l->err, l->errlen,
						     "%s: expected a mapping, got %s",
						     path,
						     yamlutil__type_name(v));
			ret = load_map(l, v, path);
		} else {
			return yamlutil__err(l->d, k, l->err, l->errlen,
					     "unknown key \"%s\"", path);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* yamlutil__parse_file's callback: @ctx is the struct config. */
static int load_doc(void *ctx, struct yamlutil_doc *d, char *err,
		    size_t errlen)
{
	struct config *c = ctx;
	struct cfg_loader l = { .d = d, .err = err, .errlen = errlen };
	yaml_node_t *root = yamlutil__root(d);
	struct config tmp;
	int ret;

	if (!root || yamlutil__is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return yamlutil__err(d, root, err, errlen,
				     "expected a mapping of settings, got %s",
				     yamlutil__type_name(root));
	ret = config_clone(&tmp, c);
	if (ret)
		goto out_nomem;
	l.c = &tmp;
	ret = load_map(&l, root, "");
	if (ret) {
		config__free(&tmp);
		if (ret == -ENOMEM)
			goto out_nomem;
		return ret;
	}
	config__free(c);
	*c = tmp;
	return 0;

out_nomem:
	log__errbuf(err, errlen, "%s: out of memory", d->name);
	return -ENOMEM;
}

int config__load_file(struct config *c, const char *path, char *err,
		      size_t errlen)
{
	return yamlutil__parse_file(path, load_doc, c, err, errlen);
}

int config__load_string(struct config *c, const char *yaml, const char *name,
			char *err, size_t errlen)
{
	return yamlutil__parse_string(yaml, name, load_doc, c, err, errlen);
}

/*
 * The variable of @o: CONFIG_ENV_PREFIX, then the key upper-cased with
 * '.' as '_'.  Returns 0 or -ENOSPC.
 */
static int env_name(const struct opt *o, char *buf, size_t len)
{
	static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
	static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t p = strlen(CONFIG_ENV_PREFIX), i;
	const char *l;
	char c;

	if (p + strlen(o->key) >= len)
		return -ENOSPC;
	memcpy(buf, CONFIG_ENV_PREFIX, p);
	/* Keys are [a-z0-9_.]: no locale's toupper() is wanted. */
	for (i = 0; o->key[i]; i++) {
		c = o->key[i];
		l = strchr(lower, c);
		if (c == '.')
			c = '_';
		else if (l)
			c = upper[l - lower];
		buf[p++] = c;
	}
	buf[p] = '\0';
	return 0;
}

/* The row whose variable is the @n bytes at @var, or NULL. */
static const struct opt *find_env(const char *var, size_t n)
{
	char name[128];
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (!env_name(&opts[i], name, sizeof(name)) &&
		    strlen(name) == n && !memcmp(name, var, n))
			return &opts[i];
	return NULL;
}

/* Applies one "NAME=VALUE" of the environment to @c; @o is its row. */
static int env_set(struct config *c, const struct opt *o, const char *value,
		   char *why, size_t wl)
{
	if (o->type == OPT_PATTERNS) {
		/* Replaces the list, as a file does. */
		free_patterns(c->redact_patterns, c->n_redact_patterns);
		c->redact_patterns = NULL;
		c->n_redact_patterns = 0;
		if (!*value)
			return 0;
	}
	return opt_set(c, o, value, why, wl);
}

int config__load_env(struct config *c, char *const *envp, char *err,
		     size_t errlen)
{
	size_t plen = strlen(CONFIG_ENV_PREFIX), n, i;
	const struct opt *o;
	struct config tmp;
	uint64_t seen = 0;
	const char *eq;
	char why[384];
	int ret;

	if (!envp)
		return 0;
	ret = config_clone(&tmp, c);
	if (ret)
		goto out_nomem;
	for (; *envp; envp++) {
		if (strncmp(*envp, CONFIG_ENV_PREFIX, plen))
			continue;
		eq = strchr(*envp, '=');
		n = eq ? (size_t)(eq - *envp) : strlen(*envp);
		o = find_env(*envp, n);
		if (!o) {
			log__errbuf(err, errlen,
				    "%.*s: unknown configuration variable (docs/config.md lists them)",
				    (int)(n < 128 ? n : 128), *envp);
			ret = -EINVAL;
			goto out_free;
		}
		i = (size_t)(o - opts);
		if (seen & (UINT64_C(1) << i)) {
			log__errbuf(err, errlen, "%.*s: given twice", (int)n,
				    *envp);
			ret = -EINVAL;
			goto out_free;
		}
		seen |= UINT64_C(1) << i;
		ret = env_set(&tmp, o, eq ? eq + 1 : "", why, sizeof(why));
		if (ret == -ENOMEM)
			goto out_nomem;
		if (ret) {
			log__errbuf(err, errlen, "%.*s (%s): %s", (int)n, *envp,
				    o->key, why);
			goto out_free;
		}
		tmp.source[i] = CONFIG_SRC_ENV;
	}
	config__free(c);
	*c = tmp;
	return 0;

out_nomem:
	log__errbuf(err, errlen, "environment: out of memory");
	ret = -ENOMEM;
out_free:
	config__free(&tmp);
	return ret;
}

int config__key(size_t i, struct config_key *k)
{
	const struct opt *o;

	if (i >= N_OPTS)
		return -ENOENT;
	o = &opts[i];
	*k = (struct config_key){
		.key = o->key,
		.type = o->type == OPT_PATTERNS ? "patterns" :
			o->type == OPT_LIST ? "list" : type_name(o),
		.def = o->def,
		.min = o->min,
		.max = o->max,
		.pow2 = o->pow2,
		.nullable = o->nullable,
		.choices = o->choices,
	};
	return 0;
}

int config__env_name(size_t i, char *buf, size_t len)
{
	if (i >= N_OPTS)
		return -ENOENT;
	return env_name(&opts[i], buf, len);
}

const char *config__source(const struct config *c, size_t i)
{
	if (i >= N_OPTS || c->source[i] >= sizeof(source_names) /
					    sizeof(source_names[0]))
		return NULL;
	return source_names[c->source[i]];
}

/* The redaction patterns as "NAME=REGEX, NAME=REGEX". */
static int format_patterns(const struct config *c, char *buf, size_t len)
{
	size_t i, total = 0;
	int n;

	if (!c->n_redact_patterns)
		return -ENODATA;
	for (i = 0; i < c->n_redact_patterns; i++) {
		n = snprintf(total < len ? buf + total : NULL,
			     total < len ? len - total : 0, "%s%s=%s",
			     i ? ", " : "", c->redact_patterns[i].name,
			     c->redact_patterns[i].regex);
		if (n < 0)
			return -EINVAL;
		total += (size_t)n;
	}
	return (int)total;
}

int config__format(const struct config *c, size_t i, char *buf, size_t len)
{
	const struct opt *o;
	const void *f;

	if (i >= N_OPTS)
		return -ENOENT;
	o = &opts[i];
	f = (const char *)c + o->off;
	switch (o->type) {
	case OPT_STR:
	case OPT_LIST:
		if (!*(char *const *)f)
			return -ENODATA;
		return snprintf(buf, len, "%s", *(char *const *)f);
	case OPT_BOOL:
		return snprintf(buf, len, "%s",
				*(const bool *)f ? "true" : "false");
	case OPT_U32:
	case OPT_SIZE:
		return snprintf(buf, len, "%u", *(const uint32_t *)f);
	case OPT_ENUM:
		return snprintf(buf, len, "%s", o->choices[*(const int *)f]);
	default:
		return format_patterns(c, buf, len);
	}
}

size_t config__describe(char *buf, size_t len)
{
	size_t i, total = 0;
	int n;

	for (i = 0; i < N_OPTS; i++) {
		n = snprintf(total < len ? buf + total : NULL,
			     total < len ? len - total : 0,
			     "%s (%s, default %s)\n", opts[i].key,
			     type_name(&opts[i]),
			     opts[i].def ? opts[i].def : "none");
		if (n < 0)
			break;
		total += (size_t)n;
	}
	if (!N_OPTS && len)
		buf[0] = '\0';
	return total;
}
