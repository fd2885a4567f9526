// SPDX-License-Identifier: MIT
/*
 * procmaps.c - /proc/PID/maps reader (procmaps.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/procmaps.h"

#define DELETED_SUFFIX " (deleted)"

/* Parses a hex number ending in @end_ch; advances *@s past @end_ch. */
static int hex_field(char **s, char end_ch, __u64 *val)
{
	char *end;

	errno = 0;
	*val = strtoull(*s, &end, 16);
	if (errno || end == *s || *end != end_ch)
		return -EINVAL;
	*s = end + 1;
	return 0;
}

static char *skip_spaces(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int procmaps__parse_line(char *line, struct procmaps_entry *e)
{
	size_t len, slen = strlen(DELETED_SUFFIX);
	__u64 major, minor;
	char *s = line, *end;

	memset(e, 0, sizeof(*e));
	len = strcspn(line, "\n");
	line[len] = '\0';
	if (hex_field(&s, '-', &e->start) || hex_field(&s, ' ', &e->end))
		return -EINVAL;
	if (strlen(s) < 5 || s[4] != ' ')
		return -EINVAL;
	e->exec = s[2] == 'x';
	s += 5;
	if (hex_field(&s, ' ', &e->offset) || hex_field(&s, ':', &major) ||
	    hex_field(&s, ' ', &minor))
		return -EINVAL;
	e->dev_major = (__u32)major;
	e->dev_minor = (__u32)minor;
	errno = 0;
	e->ino = strtoull(s, &end, 10);
	if (errno || end == s || (*end != ' ' && *end != '\0'))
		return -EINVAL;
	s = skip_spaces(end);
	len = strlen(s);
	if (len > slen && strcmp(s + len - slen, DELETED_SUFFIX) == 0) {
		s[len - slen] = '\0';
		e->deleted = true;
	}
	e->path = s;
	return 0;
}

int procmaps__for_each(int pid, bool exec_only, procmaps_fn fn, void *ctx)
{
	__u64 last_ino = 0, last_dev = 0;
	struct procmaps_entry e;
	size_t cap = 0;
	char *line = NULL;
	char path[64];
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		__u64 dev;

		if (procmaps__parse_line(line, &e) || e.path[0] != '/')
			continue;
		if (exec_only && !e.exec)
			continue;
		dev = (__u64)e.dev_major << 32 | e.dev_minor;
		if (e.ino == last_ino && dev == last_dev)
			continue;
		last_ino = e.ino;
		last_dev = dev;
		err = fn(ctx, &e);
		if (err)
			break;
	}
	free(line);
	fclose(f);
	return err;
}
