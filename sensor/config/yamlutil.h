/* SPDX-License-Identifier: MIT */
/*
 * yamlutil.h - small helpers over libyaml's document API, shared by the
 * configuration loader (config.c) and the rules loader (rules.c).
 *
 * A file or string is parsed into one yaml_document_t (libyaml's node
 * graph; aliases become shared nodes, so nothing is expanded).  Every
 * node keeps libyaml's start mark, which gives the line and column used
 * in error messages of the form "NAME:LINE:COL: reason" (1-based, as
 * editors count).  Only the first document of a stream is read; a second
 * one is an error, so that a stray "---" is not silently ignored.
 */
#ifndef OISP_YAMLUTIL_H
#define OISP_YAMLUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* Largest file or string accepted, in bytes (a configuration is tiny). */
#define YAMLUTIL_MAX_BYTES (4u << 20)

struct yamlutil_doc {
	yaml_document_t doc;
	char *name;		/* file name or caller's label, for messages */
	bool loaded;		/* doc must be deleted */
};

/*
 * Reads @path and parses it into @d (which the caller allocates; its
 * previous contents are ignored).  On error @d needs no freeing, and @err
 * receives "PATH:LINE:COL: reason" for syntax errors or "PATH: reason"
 * for I/O errors.
 * Returns 0, -EINVAL (syntax, too large), -ENOMEM or -errno of open/read.
 */
int yamlutil__load_file(struct yamlutil_doc *d, const char *path,
			char *err, size_t errlen);

/*
 * Parses the NUL-terminated @yaml into @d; @name labels messages (NULL
 * means "<string>").  @yaml is not kept.  Errors as yamlutil__load_file.
 */
int yamlutil__load_string(struct yamlutil_doc *d, const char *yaml,
			  const char *name, char *err, size_t errlen);

/*
 * Loads @path as yamlutil__load_file does, hands the document to
 * @fn(@ctx, doc, @err, @errlen) and frees it: the one path from a file
 * to what a loader builds of it.  Returns the load's error, else @fn's
 * return value.
 */
int yamlutil__parse_file(const char *path,
			 int (*fn)(void *ctx, struct yamlutil_doc *d,
				   char *err, size_t errlen),
			 void *ctx, char *err, size_t errlen);

/* As yamlutil__parse_file, from @yaml and @name as yamlutil__load_string
 * takes them. */
int yamlutil__parse_string(const char *yaml, const char *name,
			   int (*fn)(void *ctx, struct yamlutil_doc *d,
				     char *err, size_t errlen),
			   void *ctx, char *err, size_t errlen);

/* Releases what @d holds; @d may be NULL or already freed. */
void yamlutil__free(struct yamlutil_doc *d);

/* Root node, or NULL for an empty document (an empty file is valid). */
yaml_node_t *yamlutil__root(struct yamlutil_doc *d);

/* The node with libyaml id @id (from mapping pairs and sequence items). */
yaml_node_t *yamlutil__node(struct yamlutil_doc *d, int id);

/* Value of a scalar node, or NULL when @n is not a scalar. */
const char *yamlutil__scalar(const yaml_node_t *n);

/*
 * True for a plain (unquoted) scalar that YAML reads as null: "", "~",
 * "null", "Null", "NULL".  `key:` with nothing after it is such a node.
 */
bool yamlutil__is_null(const yaml_node_t *n);

/*
 * Finds the value of key @key in mapping @map; NULL when @map is not a
 * mapping or has no such key.  When @key_node is not NULL it receives the
 * key's node (for messages).
 */
yaml_node_t *yamlutil__map_get(struct yamlutil_doc *d, yaml_node_t *map,
			       const char *key, yaml_node_t **key_node);

/*
 * Parses a YAML 1.1 boolean: true/false, yes/no, on/off in lower case,
 * Capitalised or UPPER case.  Returns 0, or -EINVAL (then *out is unset).
 */
int yamlutil__parse_bool(const char *s, bool *out);

/*
 * Writes "NAME:LINE:COL: " and the formatted text to @err (truncated to
 * @errlen, always terminated when @errlen > 0).  @n may be NULL, giving
 * "NAME: text".  Returns -EINVAL, so that callers can
 * `return yamlutil__err(...)`.
 */
int yamlutil__err(const struct yamlutil_doc *d, const yaml_node_t *n,
		  char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Node type as a word for messages: "mapping", "list", "scalar". */
const char *yamlutil__type_name(const yaml_node_t *n);

#endif /* OISP_YAMLUTIL_H */
