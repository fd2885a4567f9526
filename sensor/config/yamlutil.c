// SPDX-License-Identifier: MIT
/*
 * yamlutil.c - libyaml document helpers; see yamlutil.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/yamlutil.h"
#include "lib/fdio.h"
#include "lib/log.h"


/* Turns libyaml's parser error state into "NAME:LINE:COL: problem". */
static int parser_err(const yaml_parser_t *p, const char *name,
		      char *err, size_t errlen)
{
	const char *problem = p->problem ? p->problem : "YAML error";

	if (p->error == YAML_MEMORY_ERROR) {
		log__errbuf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		log__errbuf(err, errlen, "%s: byte offset %zu: %s", name,
			p->problem_offset, problem);
		return -EINVAL;
	}
	if (p->context)
		log__errbuf(err, errlen, "%s:%zu:%zu: %s %s", name,
			p->problem_mark.line + 1, p->problem_mark.column + 1,
			problem, p->context);
	else
		log__errbuf(err, errlen, "%s:%zu:%zu: %s", name,
			p->problem_mark.line + 1, p->problem_mark.column + 1,
			problem);
	return -EINVAL;
}

static int load_buf(struct yamlutil_doc *d, const char *buf, size_t len,
		    const char *name, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	int ret = 0;

	memset(d, 0, sizeof(*d));
	if (len > YAMLUTIL_MAX_BYTES) {
		log__errbuf(err, errlen, "%s: larger than %u bytes", name,
			YAMLUTIL_MAX_BYTES);
		return -EINVAL;
	}
	d->name = strdup(name);
	if (!d->name) {
		log__errbuf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	if (!yaml_parser_initialize(&parser)) {
		log__errbuf(err, errlen, "%s: out of memory", name);
		ret = -ENOMEM;
		goto out_free_name;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &d->doc)) {
		ret = parser_err(&parser, name, err, errlen);
		goto out_parser;
	}
	d->loaded = true;
	/* A second document would be ignored silently: refuse it. */
	if (!yaml_parser_load(&parser, &extra)) {
		ret = parser_err(&parser, name, err, errlen);
		goto out_doc;
	}
	if (yaml_document_get_root_node(&extra)) {
		log__errbuf(err, errlen, "%s:%zu:%zu: only one YAML document is allowed",
			name, extra.start_mark.line + 1,
			extra.start_mark.column + 1);
		yaml_document_delete(&extra);
		ret = -EINVAL;
		goto out_doc;
	}
	yaml_document_delete(&extra);
	yaml_parser_delete(&parser);
	return 0;

out_doc:
	yaml_document_delete(&d->doc);
	d->loaded = false;
out_parser:
	yaml_parser_delete(&parser);
out_free_name:
	free(d->name);
	d->name = NULL;
	return ret;
}

int yamlutil__load_string(struct yamlutil_doc *d, const char *yaml,
			  const char *name, char *err, size_t errlen)
{
	if (!name)
		name = "<string>";
	if (!yaml) {
		memset(d, 0, sizeof(*d));
		log__errbuf(err, errlen, "%s: no text", name);
		return -EINVAL;
	}
	return load_buf(d, yaml, strlen(yaml), name, err, errlen);
}

/* Reads all of @fd, at most YAMLUTIL_MAX_BYTES + 1 bytes, into *@out. */
static int read_all(int fd, char **out, size_t *outlen)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nbuf;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = fdio__read_full(fd, buf + len, cap - len);
		if (n < 0) {
			free(buf);
			return (int)n;
		}
		len += (size_t)n;
		if (len < cap || cap > YAMLUTIL_MAX_BYTES)
			break;
		cap *= 2;
		nbuf = realloc(buf, cap);
		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int yamlutil__load_file(struct yamlutil_doc *d, const char *path,
			char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, ret;

	memset(d, 0, sizeof(*d));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log__errbuf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = read_all(fd, &buf, &len);
	close(fd);
	if (ret) {
		log__errbuf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = load_buf(d, buf, len, path, err, errlen);
	free(buf);
	return ret;
}

int yamlutil__parse_file(const char *path,
			 int (*fn)(void *ctx, struct yamlutil_doc *d,
				   char *err, size_t errlen),
			 void *ctx, char *err, size_t errlen)
{
	struct yamlutil_doc d;
	int ret;

	ret = yamlutil__load_file(&d, path, err, errlen);
	if (ret)
		return ret;
	ret = fn(ctx, &d, err, errlen);
	yamlutil__free(&d);
	return ret;
}

int yamlutil__parse_string(const char *yaml, const char *name,
			   int (*fn)(void *ctx, struct yamlutil_doc *d,
				     char *err, size_t errlen),
			   void *ctx, char *err, size_t errlen)
{
	struct yamlutil_doc d;
	int ret;

	ret = yamlutil__load_string(&d, yaml, name, err, errlen);
	if (ret)
		return ret;
	ret = fn(ctx, &d, err, errlen);
	yamlutil__free(&d);
	return ret;
}

void yamlutil__free(struct yamlutil_doc *d)
{
	if (!d)
		return;
	if (d->loaded)
		yaml_document_delete(&d->doc);
	d->loaded = false;
	free(d->name);
	d->name = NULL;
}

yaml_node_t *yamlutil__root(struct yamlutil_doc *d)
{
	if (!d->loaded)
		return NULL;
	return yaml_document_get_root_node(&d->doc);
}

yaml_node_t *yamlutil__node(struct yamlutil_doc *d, int id)
{
	return yaml_document_get_node(&d->doc, id);
}

const char *yamlutil__scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

bool yamlutil__is_null(const yaml_node_t *n)
{
	const char *v = yamlutil__scalar(n);

	if (!v || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

yaml_node_t *yamlutil__map_get(struct yamlutil_doc *d, yaml_node_t *map,
			       const char *key, yaml_node_t **key_node)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;
	const char *s;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		k = yamlutil__node(d, p->key);
		s = yamlutil__scalar(k);
		if (s && !strcmp(s, key)) {
			if (key_node)
				*key_node = k;
			return yamlutil__node(d, p->value);
		}
	}
	return NULL;
}

int yamlutil__parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {
		"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON",
	};
	static const char *const no[] = {
		"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF",
	};
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int yamlutil__err(const struct yamlutil_doc *d, const yaml_node_t *n,
		  char *err, size_t errlen, const char *fmt, ...)
{
	const char *name = d && d->name ? d->name : "<string>";
	va_list ap;
	int off;

	if (!err || !errlen)
		return -EINVAL;
	if (n)
		off = snprintf(err, errlen, "%s:%zu:%zu: ", name,
			       n->start_mark.line + 1,
			       n->start_mark.column + 1);
	else
		off = snprintf(err, errlen, "%s: ", name);
	if (off < 0 || (size_t)off >= errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *yamlutil__type_name(const yaml_node_t *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "mapping";
	case YAML_SEQUENCE_NODE:
		return "list";
	case YAML_SCALAR_NODE:
		return "scalar";
	default:
		return "nothing";
	}
}
