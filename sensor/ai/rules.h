/* SPDX-License-Identifier: MIT */
/*
 * rules.h - classifies HTTP requests as AI API calls.
 *
 * A rules file (format in docs/config.md, built-in set in
 * rules/default.yaml) is an ordered list of rules.  Each rule names an
 * OISP provider, the body format ("api") the extractor should use, and a
 * request type, and matches on the request's host, method, path and
 * headers with PCRE2 patterns.  The first rule whose given fields all
 * match wins.  Host patterns are case-insensitive (host names are);
 * the others are case-sensitive unless the pattern says (?i).
 *
 * A loaded rules object is immutable, so several threads may match
 * against it at once.
 */
#ifndef OISP_RULES_H
#define OISP_RULES_H

#include <stdbool.h>
#include <stddef.h>

struct rules;

/*
 * The request to classify.  All strings are NUL-terminated and borrowed
 * for the duration of rules__match.  @host is the Host header as sent
 * (port included when present) and may be NULL when the request has none:
 * then rules with a host pattern do not match.  @path is the request
 * target including the query string.  @header returns the value of the
 * named header (@name is given in lower case; the lookup must be
 * case-insensitive) or NULL when absent; @header may be NULL when the
 * caller has no headers, and then rules with header patterns do not
 * match.  @ctx is passed to @header.
 */
struct rules_req {
	const char *host;
	const char *method;
	const char *path;
	const char *(*header)(const void *ctx, const char *name);
	const void *ctx;
};

/* The matching rule's fields; the strings are owned by the rules object. */
struct rule_match {
	const char *rule;		/* rule name */
	const char *provider;		/* OISP provider.name */
	const char *api;		/* body format, e.g. openai.chat_completions */
	const char *request_type;	/* chat, completion, embedding, ... */
};

/* Most rules in one file, and longest rule name, in bytes. */
#define RULES_MAX 1024
#define RULES_NAME_MAX 128
/* Most header patterns in one rule. */
#define RULES_HEADERS_MAX 16

/*
 * Loads the rules file @path into a new object stored in *@out.
 * Errors (YAML syntax, missing or duplicate name, unknown field, a regex
 * that does not compile, unknown provider/api/request_type, wrong type)
 * are written to @err as "PATH:LINE:COL: reason"; I/O errors as
 * "PATH: reason".
 * Returns 0, -EINVAL, -ENOMEM or -errno from reading the file.
 */
int rules__load_file(struct rules **out, const char *path,
		     char *err, size_t errlen);

/*
 * As rules__load_file, from the NUL-terminated @yaml (not kept); @name
 * labels messages (NULL gives "<string>").
 */
int rules__load_string(struct rules **out, const char *yaml,
		       const char *name, char *err, size_t errlen);

/*
 * Loads the built-in rules (rules/default.yaml embedded in the binary;
 * defined in rules_default.c, so link rules_default.o to use it).
 * Errors as rules__load_string, with the name "<built-in rules>".
 */
int rules__load_default(struct rules **out, char *err, size_t errlen);

/*
 * The text of the embedded rules/default.yaml, NUL-terminated, static
 * (rules_default.c).
 */
const char *rules__default_yaml(void);

/*
 * Tries the rules in order against @req.  On the first match fills *@m
 * (when @m is not NULL) and returns true; false when no rule matches or
 * when @req has no method or path.
 */
bool rules__match(const struct rules *r, const struct rules_req *req,
		  struct rule_match *m);

/* Number of rules loaded. */
size_t rules__count(const struct rules *r);

/* Frees @r; NULL is allowed. */
void rules__free(struct rules *r);

#endif /* OISP_RULES_H */
