// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

static enum log_level log_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log__set_level(enum log_level level)
{
	log_level = level;
}

int log__parse_level(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (name && strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

bool log__enabled(enum log_level level)
{
	return level <= log_level;
}

void log__vprintf(enum log_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	if (!log__enabled(level))
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	/* One fputs per message so concurrent writers do not interleave. */
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	fprintf(stderr, "oisp-sensor: %s: %s\n", level_names[level], buf);
}

void log__printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log__enabled(level))
		return;
	va_start(ap, fmt);
	log__vprintf(level, fmt, ap);
	va_end(ap);
}

void log__errbuf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}
