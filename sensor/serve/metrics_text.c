// SPDX-License-Identifier: MIT
/*
 * The Prometheus text exposition format (metrics_text.h): a growing
 * buffer, name checks and the escaping of HELP text and label values.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "serve/metrics_text.h"

#define TEXT_INITIAL		16384

struct metrics_text {
	char *buf;
	size_t len, cap;
	int err;
};

int metrics_text__new(struct metrics_text **out)
{
	struct metrics_text *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->buf = malloc(TEXT_INITIAL);
	if (!t->buf) {
		free(t);
		return -ENOMEM;
	}
	t->cap = TEXT_INITIAL;
	t->buf[0] = '\0';
	*out = t;
	return 0;
}

void metrics_text__reset(struct metrics_text *t)
{
	t->len = 0;
	t->buf[0] = '\0';
	t->err = 0;
}

const char *metrics_text__data(const struct metrics_text *t, size_t *len)
{
	if (len)
		*len = t->len;
	return t->buf;
}

int metrics_text__error(const struct metrics_text *t)
{
	return t->err;
}

void metrics_text__free(struct metrics_text *t)
{
	if (!t)
		return;
	free(t->buf);
	free(t);
}

static void fail(struct metrics_text *t, int err)
{
	if (!t->err)
		t->err = err;
}

/* Room for @n more bytes and the NUL. */
static bool reserve(struct metrics_text *t, size_t n)
{
	size_t cap = t->cap;
	char *b;

	if (t->err)
		return false;
	if (t->len + n + 1 <= cap)
		return true;
	while (t->len + n + 1 > cap)
		cap *= 2;
	b = realloc(t->buf, cap);
	if (!b) {
		fail(t, -ENOMEM);
		return false;
	}
	t->buf = b;
	t->cap = cap;
	return true;
}

static void put(struct metrics_text *t, const char *s, size_t n)
{
	if (!reserve(t, n))
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void puts_(struct metrics_text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* Label value: \\ \" \n escaped, invalid UTF-8 replaced by U+FFFD. */
static void put_label_value(struct metrics_text *t, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ?: "");
	const unsigned char *end = p + strlen((const char *)p);
	int n;

	while (*p) {
		n = utf8__seq(p, (size_t)(end - p));
		if (n <= 0) {
			put(t, UTF8_REPLACEMENT, UTF8_REPLACEMENT_LEN);
			p++;
		} else if (*p == '\\') {
			put(t, "\\\\", 2);
			p++;
		} else if (*p == '"') {
			put(t, "\\\"", 2);
			p++;
		} else if (*p == '\n') {
			put(t, "\\n", 2);
			p++;
		} else {
			put(t, (const char *)p, (size_t)n);
			p += n;
		}
	}
}

/* HELP text: \\ and \n escaped. */
static void put_help(struct metrics_text *t, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(t, "\\\\", 2);
		else if (*s == '\n')
			put(t, "\\n", 2);
		else
			put(t, s, 1);
	}
}

/* Go's strconv.ParseFloat reads all of these. */
static void format_value(char *b, size_t len, double v)
{
	if (isnan(v))
		snprintf(b, len, "NaN");
	else if (isinf(v))
		snprintf(b, len, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(b, len, "%.0f", v);
	else if (snprintf(b, len, "%.15g", v) > 0 && strtod(b, NULL) != v)
		snprintf(b, len, "%.17g", v);
}

static void put_value(struct metrics_text *t, double v)
{
	char b[40];

	format_value(b, sizeof(b), v);
	puts_(t, b);
}

static bool name_ok(const char *s, bool colon)
{
	const char *p;

	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' ||
		      (colon && *p == ':')))
			return false;
	return true;
}

int metrics_text__family(struct metrics_text *t, const char *name,
			 const char *type, const char *help)
{
	static const char *const types[] = {
		"counter", "gauge", "histogram", "summary", "untyped",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(type, types[i]))
			break;
	if (i == sizeof(types) / sizeof(types[0]) || !name_ok(name, true)) {
		fail(t, -EINVAL);
		return t->err;
	}
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_help(t, help);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, type);
	puts_(t, "\n");
	return t->err;
}

static void put_labels(struct metrics_text *t, const struct metrics_label *l,
		       size_t n, const char *le)
{
	size_t i;

	if (!n && !le)
		return;
	puts_(t, "{");
	for (i = 0; i < n; i++) {
		if (!name_ok(l[i].name, false) || !strncmp(l[i].name, "__", 2)) {
			fail(t, -EINVAL);
			return;
		}
		if (i)
			puts_(t, ",");
		puts_(t, l[i].name);
		puts_(t, "=\"");
		put_label_value(t, l[i].value);
		puts_(t, "\"");
	}
	if (le) {
		puts_(t, n ? ",le=\"" : "le=\"");
		puts_(t, le);
		puts_(t, "\"");
	}
	puts_(t, "}");
}

static void put_sample(struct metrics_text *t, const char *name,
		       const char *suffix, const struct metrics_label *l,
		       size_t n, const char *le, double v)
{
	if (!name_ok(name, true)) {
		fail(t, -EINVAL);
		return;
	}
	puts_(t, name);
	puts_(t, suffix);
	put_labels(t, l, n, le);
	puts_(t, " ");
	put_value(t, v);
	puts_(t, "\n");
}

int metrics_text__sample(struct metrics_text *t, const char *name,
			 const struct metrics_label *labels, size_t nlabels,
			 double value)
{
	put_sample(t, name, "", labels, nlabels, NULL, value);
	return t->err;
}

int metrics_text__histogram(struct metrics_text *t, const char *name,
			    const struct metrics_label *labels, size_t nlabels,
			    const double *bounds, const uint64_t *counts,
			    size_t nbounds, double sum)
{
	uint64_t cum = 0;
	char le[40];
	size_t i;

	for (i = 0; i <= nbounds; i++) {
		cum += counts[i];
		if (i < nbounds)
			format_value(le, sizeof(le), bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		put_sample(t, name, "_bucket", labels, nlabels, le,
			   (double)cum);
	}
	put_sample(t, name, "_sum", labels, nlabels, NULL, sum);
	put_sample(t, name, "_count", labels, nlabels, NULL, (double)cum);
	return t->err;
}
