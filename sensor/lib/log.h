/* SPDX-License-Identifier: MIT */
/*
 * log.h - the one leveled logger of oisp-sensor.
 *
 * Messages go to stderr as "oisp-sensor: LEVEL: text".  The level is
 * checked before anything is formatted.  libbpf's own output is routed
 * here through log__vprintf by the print callback capture/capture.c
 * installs, so one --log-level setting governs everything.  The level is
 * the logger's only state.
 */
#ifndef OISP_LOG_H
#define OISP_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

/* Sets the most verbose level that is printed (default LOG_INFO). */
void log__set_level(enum log_level level);

/*
 * Parses "error", "warn", "info" or "debug".
 * Returns the level, or -EINVAL for anything else.
 */
int log__parse_level(const char *name);

/* True when a message at @level would be printed. */
bool log__enabled(enum log_level level);

/* printf-style; does nothing (not even format) below the set level. */
void log__printf(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log__vprintf(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Formats an error message into the caller's buffer @buf of @len bytes
 * (always NUL-terminated, cut if too long), for functions that report
 * "FILE:LINE: reason" to their caller instead of logging.  A NULL @buf
 * or a zero @len is allowed and does nothing.
 */
void log__errbuf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pr_err(...)	log__printf(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)	log__printf(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	log__printf(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	log__printf(LOG_DEBUG, __VA_ARGS__)

#endif /* OISP_LOG_H */
