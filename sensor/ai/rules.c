// SPDX-License-Identifier: MIT
/*
 * rules.c - loading and matching AI API classification rules; see
 * rules.h and docs/config.md ("Rules file").
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ai/rules.h"
#include "config/yamlutil.h"

/* Rules come from the administrator; still, never let one stall a match. */
#define RULES_MATCH_LIMIT 100000u

/* OISP provider.name values (oisp-spec v0.1). */
static const char *const providers[] = {
	"openai", "anthropic", "google", "azure_openai", "aws_bedrock",
	"cohere", "mistral", "groq", "together", "fireworks", "replicate",
	"huggingface", "ollama", "lmstudio", "vllm", "other", NULL,
};

/* Body formats the extractor knows. */
static const char *const apis[] = {
	"openai.chat_completions", "openai.responses", "openai.embeddings",
	"openai.completions", "openai.realtime", "anthropic.messages",
	"google.generate_content", "other", NULL,
};

static const char *const request_types[] = {
	"chat", "completion", "embedding", "image", "audio", "moderation",
	"other", NULL,
};

struct rule_hdr {
	char *name;		/* lower case */
	pcre2_code *re;
};

struct rule {
	char *name;
	const char *provider;	/* point into the tables above */
	const char *api;
	const char *request_type;
	pcre2_code *host;	/* NULL: any */
	pcre2_code *method;
	pcre2_code *path;
	struct rule_hdr hdrs[RULES_HEADERS_MAX];
	size_t n_hdrs;
};

struct rules {
	struct rule *v;
	size_t n;
	pcre2_match_context *mctx;
};

static void rule_fini(struct rule *ru)
{
	size_t i;

	free(ru->name);
	pcre2_code_free(ru->host);
	pcre2_code_free(ru->method);
	pcre2_code_free(ru->path);
	for (i = 0; i < ru->n_hdrs; i++) {
		free(ru->hdrs[i].name);
		pcre2_code_free(ru->hdrs[i].re);
	}
}

void rules__free(struct rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		rule_fini(&r->v[i]);
	free(r->v);
	pcre2_match_context_free(r->mctx);
	free(r);
}

size_t rules__count(const struct rules *r)
{
	return r ? r->n : 0;
}

/* Loader state: the document and where errors go. */
struct loader {
	struct yamlutil_doc *d;
	char *err;
	size_t errlen;
};

static const char *enum_join(const char *const *tab, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	buf[0] = '\0';
	for (; *tab && off < len; tab++) {
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
			     *tab);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* A non-null, non-empty scalar; else an error naming @what. */
static int get_str(struct loader *l, yaml_node_t *n, const char *what,
		   const char **out)
{
	const char *s = yamlutil__scalar(n);

	if (!s || yamlutil__is_null(n) || !*s) {
		/*
		 * yamlutil__err() returns -EINVAL.  Returning the constant lets
		 * the analyzer, which does not see into yamlutil.c, know
		 * that *@out is set whenever this returns 0.
		 */
		yamlutil__err(l->d, n, l->err, l->errlen,
			      "%s: expected a non-empty string, got %s",
			      what, s ? "an empty value" :
			      yamlutil__type_name(n));
		return -EINVAL;
	}
	*out = s;
	return 0;
}

static int get_enum(struct loader *l, yaml_node_t *n, const char *what,
		    const char *const *tab, const char **out)
{
	char list[512];
	const char *s;
	size_t i;
	int ret;

	ret = get_str(l, n, what, &s);
	if (ret)
		return ret;
	for (i = 0; tab[i]; i++) {
		if (!strcmp(tab[i], s)) {
			*out = tab[i];
			return 0;
		}
	}
	return yamlutil__err(l->d, n, l->err, l->errlen,
			     "%s: unknown value \"%s\" (expected one of: %s)",
			     what, s, enum_join(tab, list, sizeof(list)));
}

static int get_regex(struct loader *l, yaml_node_t *n, const char *what,
		     uint32_t opts, pcre2_code **out)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	const char *s;
	int ret, code;

	ret = get_str(l, n, what, &s);
	if (ret)
		return ret;
	*out = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, opts,
			     &code, &off, NULL);
	if (!*out) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return yamlutil__err(l->d, n, l->err, l->errlen,
				     "%s: PCRE2 error at offset %zu: %s",
				     what, (size_t)off, (const char *)msg);
	}
	pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
	return 0;
}

/* Header names are HTTP tokens; stored in lower case. */
static int header_name(struct loader *l, yaml_node_t *k, char **out)
{
	const char *s;
	size_t i, len;
	char *name;
	int ret;

	ret = get_str(l, k, "match.headers: header name", &s);
	if (ret)
		return ret;
	len = strlen(s);
	for (i = 0; i < len; i++)
		if (!strchr("!#$%&'*+-.^_`|~", s[i]) &&
		    !(s[i] >= '0' && s[i] <= '9') &&
		    !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z'))
			return yamlutil__err(l->d, k, l->err, l->errlen,
					     "match.headers: \"%s\" is not a valid header name",
					     s);
	name = strdup(s);
	if (!name)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	*out = name;
	return 0;
}

static int load_headers(struct loader *l, yaml_node_t *n, struct rule *ru)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	struct rule_hdr *h;
	size_t i;
	int ret;

	if (n->type != YAML_MAPPING_NODE)
		return yamlutil__err(l->d, n, l->err, l->errlen,
				     "match.headers: expected a mapping of header name to regex, got %s",
				     yamlutil__type_name(n));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		k = yamlutil__node(l->d, p->key);
		v = yamlutil__node(l->d, p->value);
		if (ru->n_hdrs == RULES_HEADERS_MAX)
			return yamlutil__err(l->d, k, l->err, l->errlen,
					     "match.headers: more than %d headers",
					     RULES_HEADERS_MAX);
		h = &ru->hdrs[ru->n_hdrs];
		ret = header_name(l, k, &h->name);
		if (ret)
			return ret;
		for (i = 0; i < ru->n_hdrs; i++) {
			if (!strcmp(ru->hdrs[i].name, h->name)) {
				free(h->name);
				h->name = NULL;
				return yamlutil__err(l->d, k, l->err, l->errlen,
						     "match.headers: header \"%s\" given twice",
						     yamlutil__scalar(k));
			}
		}
		ret = get_regex(l, v, "match.headers", 0, &h->re);
		if (ret) {
			free(h->name);
			h->name = NULL;
			return ret;
		}
		ru->n_hdrs++;
	}
	return 0;
}

/* Checks a mapping key against a list and against repeats (libyaml keeps both). */
static int field_index(struct loader *l, yaml_node_t *k, const char *where,
		       const char *const *fields, unsigned int *seen)
{
	char list[256];
	const char *s = yamlutil__scalar(k);
	int i;

	for (i = 0; s && fields[i]; i++) {
		if (strcmp(fields[i], s))
			continue;
		if (*seen & (1u << i))
			return yamlutil__err(l->d, k, l->err, l->errlen,
					     "%s: \"%s\" given twice", where, s);
		*seen |= 1u << i;
		return i;
	}
	return yamlutil__err(l->d, k, l->err, l->errlen,
			     "%s: unknown field \"%s\" (expected one of: %s)",
			     where, s ? s : yamlutil__type_name(k),
			     enum_join(fields, list, sizeof(list)));
}

static const char *const match_fields[] = {
	"host", "method", "path", "headers", NULL,
};

static int load_match(struct loader *l, yaml_node_t *n, struct rule *ru)
{
	unsigned int seen = 0;
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	int ret, i;

	if (n->type != YAML_MAPPING_NODE || !n->data.mapping.pairs.top ||
	    n->data.mapping.pairs.top == n->data.mapping.pairs.start)
		return yamlutil__err(l->d, n, l->err, l->errlen,
				     "match: expected a mapping with at least one of host, method, path, headers");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		k = yamlutil__node(l->d, p->key);
		v = yamlutil__node(l->d, p->value);
		i = field_index(l, k, "match", match_fields, &seen);
		if (i < 0)
			return i;
		switch (i) {
		case 0:
			ret = get_regex(l, v, "match.host", PCRE2_CASELESS,
					&ru->host);
			break;
		case 1:
			ret = get_regex(l, v, "match.method", 0, &ru->method);
			break;
		case 2:
			ret = get_regex(l, v, "match.path", 0, &ru->path);
			break;
		default:
			ret = load_headers(l, v, ru);
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static const char *const rule_fields[] = {
	"name", "provider", "api", "request_type", "match", NULL,
};

static int load_rule(struct loader *l, yaml_node_t *n, struct rules *r)
{
	struct rule *ru = &r->v[r->n];
	unsigned int seen = 0;
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	const char *s;
	size_t j;
	int ret = 0, i;

	memset(ru, 0, sizeof(*ru));
	ru->request_type = "other";
	if (n->type != YAML_MAPPING_NODE)
		return yamlutil__err(l->d, n, l->err, l->errlen,
				     "rules: each rule must be a mapping, got %s",
				     yamlutil__type_name(n));
	for (p = n->data.mapping.pairs.start;
	     !ret && p < n->data.mapping.pairs.top; p++) {
		k = yamlutil__node(l->d, p->key);
		v = yamlutil__node(l->d, p->value);
		i = field_index(l, k, "rule", rule_fields, &seen);
		if (i < 0) {
			ret = i;
			break;
		}
		switch (i) {
		case 0:
			ret = get_str(l, v, "name", &s);
			if (ret)
				break;
			if (strlen(s) > RULES_NAME_MAX) {
				ret = yamlutil__err(l->d, v, l->err, l->errlen,
						    "name: longer than %d bytes",
						    RULES_NAME_MAX);
				break;
			}
			for (j = 0; j < r->n; j++) {
				if (strcmp(r->v[j].name, s))
					continue;
				ret = yamlutil__err(l->d, v, l->err, l->errlen,
						    "name: rule \"%s\" is defined twice",
						    s);
				break;
			}
			if (ret)
				break;
			ru->name = strdup(s);
			if (!ru->name)
				ret = -ENOMEM;
			break;
		case 1:
			ret = get_enum(l, v, "provider", providers,
				       &ru->provider);
			break;
		case 2:
			ret = get_enum(l, v, "api", apis, &ru->api);
			break;
		case 3:
			ret = get_enum(l, v, "request_type", request_types,
				       &ru->request_type);
			break;
		default:
			ret = load_match(l, v, ru);
			break;
		}
	}
	if (!ret && !(seen & 1))
		ret = yamlutil__err(l->d, n, l->err, l->errlen,
				    "rule: \"name\" is required");
	if (!ret && !(seen & 2))
		ret = yamlutil__err(l->d, n, l->err, l->errlen,
				    "rule %s: \"provider\" is required", ru->name);
	if (!ret && !(seen & 4))
		ret = yamlutil__err(l->d, n, l->err, l->errlen,
				    "rule %s: \"api\" is required", ru->name);
	if (!ret && !(seen & 16))
		ret = yamlutil__err(l->d, n, l->err, l->errlen,
				    "rule %s: \"match\" is required", ru->name);
	if (ret) {
		rule_fini(ru);
		return ret;
	}
	r->n++;
	return 0;
}

static int load_doc(void *ctx, struct yamlutil_doc *d, char *err,
		    size_t errlen)
{
	struct rules **out = ctx;
	struct loader l = { .d = d, .err = err, .errlen = errlen };
	yaml_node_t *root, *list = NULL, *k;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	struct rules *r;
	size_t n;
	int ret;

	root = yamlutil__root(d);
	if (!root || root->type != YAML_MAPPING_NODE)
		return yamlutil__err(d, root, err, errlen,
				     "expected a mapping with a \"rules\" list");
	for (p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		k = yamlutil__node(d, p->key);
		if (!yamlutil__scalar(k) || strcmp(yamlutil__scalar(k), "rules"))
			return yamlutil__err(d, k, err, errlen,
					     "unknown top-level key \"%s\" (expected \"rules\")",
					     yamlutil__scalar(k) ?
					     yamlutil__scalar(k) : "?");
		if (list)
			return yamlutil__err(d, k, err, errlen,
					     "\"rules\" given twice");
		list = yamlutil__node(d, p->value);
	}
	if (!list || list->type != YAML_SEQUENCE_NODE)
		return yamlutil__err(d, list ? list : root, err, errlen,
				     "rules: expected a list of rules");
	n = (size_t)(list->data.sequence.items.top -
		     list->data.sequence.items.start);
	if (n > RULES_MAX)
		return yamlutil__err(d, list, err, errlen,
				     "rules: more than %d rules", RULES_MAX);
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out_nomem;
	r->v = calloc(n ? n : 1, sizeof(*r->v));
	r->mctx = pcre2_match_context_create(NULL);
	if (!r->v || !r->mctx)
		goto out_nomem;
	pcre2_set_match_limit(r->mctx, RULES_MATCH_LIMIT);
	for (it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		ret = load_rule(&l, yamlutil__node(d, *it), r);
		if (ret) {
			if (ret == -ENOMEM)
				snprintf(err, errlen, "%s: out of memory",
					 d->name);
			rules__free(r);
			return ret;
		}
	}
	*out = r;
	return 0;

out_nomem:
	rules__free(r);
	snprintf(err, errlen, "%s: out of memory", d->name);
	return -ENOMEM;
}

int rules__load_file(struct rules **out, const char *path, char *err,
		     size_t errlen)
{
	*out = NULL;
	return yamlutil__parse_file(path, load_doc, out, err, errlen);
}

int rules__load_string(struct rules **out, const char *yaml,
		       const char *name, char *err, size_t errlen)
{
	*out = NULL;
	return yamlutil__parse_string(yaml, name, load_doc, out, err, errlen);
}

/* True when @re matches @s; a missing pattern matches anything. */
static bool re_ok(const struct rules *r, const pcre2_code *re, const char *s,
		  pcre2_match_data *md)
{
	if (!re)
		return true;
	if (!s)
		return false;
	return pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md,
			   r->mctx) >= 0;
}

static bool rule_ok(const struct rules *r, const struct rule *ru,
		    const struct rules_req *req, pcre2_match_data *md)
{
	const char *v;
	size_t i;

	if (!re_ok(r, ru->host, req->host, md) ||
	    !re_ok(r, ru->method, req->method, md) ||
	    !re_ok(r, ru->path, req->path, md))
		return false;
	for (i = 0; i < ru->n_hdrs; i++) {
		if (!req->header)
			return false;
		v = req->header(req->ctx, ru->hdrs[i].name);
		if (!re_ok(r, ru->hdrs[i].re, v, md))
			return false;
	}
	return true;
}

bool rules__match(const struct rules *r, const struct rules_req *req,
		  struct rule_match *m)
{
	pcre2_match_data *md;
	const struct rule *ru;
	bool ok = false;
	size_t i;

	if (!r || !req || !req->method || !req->path)
		return false;
	md = pcre2_match_data_create(1, NULL);
	if (!md)
		return false;
	for (i = 0; i < r->n && !ok; i++) {
		ru = &r->v[i];
		ok = rule_ok(r, ru, req, md);
		if (ok && m) {
			m->rule = ru->name;
			m->provider = ru->provider;
			m->api = ru->api;
			m->request_type = ru->request_type;
		}
	}
	pcre2_match_data_free(md);
	return ok;
}
