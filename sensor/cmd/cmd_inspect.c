// SPDX-License-Identifier: MIT
/*
 * `oisp-sensor inspect [--json] FILE...`: what `run` would find in each
 * ELF file and whether it would probe it, without root and without
 * running the program: the TLS stacks the file carries (by their
 * exports, or found in its code), the functions with their file offsets,
 * how sure the search is, and why a stack that is there is not probed.
 * The same identification as `run` (stack__match_all(), capture/stack.h),
 * so an operator can check a new release of an agent before it runs.
 * Strings from paths and from the files themselves are escaped for a
 * terminal (lib/termout.h), in text and in JSON.
 * Exits 0 when every file was read (whatever it carries), 1 when one
 * could not be, 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "capture/stack.h"
#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "lib/termout.h"

/* The name of probe @cookie of stack @s ("SSL_write"), or NULL. */
static const char *probe_name(const struct tls_stack *s, __u64 cookie)
{
	unsigned int i;

	for (i = 0; i < s->nprobes; i++)
		if (s->probes[i].cookie == cookie)
			return s->probes[i].sym;
	return NULL;
}

/* One stack of a file as a JSON object; NULL without memory. */
static cJSON *match_json(const struct stack_match *m)
{
	const struct tls_stack *s = m->stack ? m->stack : m->skipped;
	cJSON *o, *probes, *p;
	const char *name;
	unsigned int i;

	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "stack", s->label);
	cJSON_AddBoolToObject(o, "probed", !m->skipped && !m->err);
	if (m->skipped || m->err)
		cJSON_AddStringToObject(o, "why", m->why ? m->why :
					strerror(m->err < 0 ? -m->err : m->err));
	if (m->found[0])
		cJSON_AddStringToObject(o, "found", m->found);
	probes = cJSON_AddArrayToObject(o, "probes");
	for (i = 0; probes && !m->skipped && !m->err && i < m->noffs; i++) {
		p = cJSON_CreateObject();
		if (!p || !cJSON_AddItemToArray(probes, p)) {
			cJSON_Delete(p);
			break;
		}
		name = probe_name(s, m->cookies[i]);
		if (name)
			cJSON_AddStringToObject(p, "function", name);
		cJSON_AddNumberToObject(p, "cookie", (double)m->cookies[i]);
		cJSON_AddNumberToObject(p, "offset", (double)m->offs[i]);
		cJSON_AddBoolToObject(p, "return",
				      !!(m->flags[i] & TLS_PROBE_RETURN));
	}
	return o;
}

/*
 * Identifies the file at @path into a new JSON object *@out: "path",
 * and "stacks" (match_json()), "ld.so" or "error".  Returns 0 when the
 * file was read (it may carry nothing), -errno when it could not be
 * opened or read (*@out still says why), -ENOMEM.
 */
static int inspect_file(const char *path, cJSON **out)
{
	struct stack_match m[STACK_MATCH_MAX];
	unsigned int i, n = 0;
	cJSON *o, *stacks, *s;
	int fd, err;

	o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	*out = o;
	cJSON_AddStringToObject(o, "path", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		cJSON_AddStringToObject(o, "error", strerror(-err));
		return err;
	}
	err = stack__match_all(fd, m, &n);
	close(fd);
	if (err && err != -ENOENT && !n) {
		cJSON_AddStringToObject(o, "error", err == -ENOEXEC ?
					"not an ELF file of this machine" :
					strerror(-err));
		return err;
	}
	stacks = cJSON_AddArrayToObject(o, "stacks");
	if (!stacks)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!m[i].stack && !m[i].skipped) {
			if (m[i].ldso)
				cJSON_AddBoolToObject(o, "ld.so", true);
			continue;
		}
		s = match_json(&m[i]);
		if (!s || !cJSON_AddItemToArray(stacks, s)) {
			cJSON_Delete(s);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Writes @pre, then @s escaped for a terminal (termout__text(): paths
 * and what a file's own bytes say, such as a version string, are not
 * ours), then @post, on @f.
 */
static void put_line(FILE *f, const char *pre, const char *s,
		     const char *post)
{
	fputs(pre, f);
	termout__text(f, s);
	fputs(post, f);
}

/* @o (inspect_file()) as text on @f. */
static void print_text(FILE *f, const cJSON *o)
{
	const cJSON *e, *s, *p, *v;
	const char *stack;

	put_line(f, "", cJSON_GetObjectItem(o, "path")->valuestring, "\n");
	v = cJSON_GetObjectItem(o, "error");
	if (cJSON_IsString(v)) {
		put_line(f, "  cannot be read: ", v->valuestring, "\n");
		return;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItem(o, "ld.so")))
		fputs("  ld.so: its dlopen() probe finds libraries loaded later\n",
		      f);
	e = cJSON_GetObjectItem(o, "stacks");
	if (!cJSON_GetArraySize(e) &&
	    !cJSON_IsTrue(cJSON_GetObjectItem(o, "ld.so")))
		fputs("  no TLS stack found: not probed\n", f);
	cJSON_ArrayForEach(s, e) {
		stack = cJSON_GetObjectItem(s, "stack")->valuestring;
		v = cJSON_GetObjectItem(s, "why");
		if (cJSON_IsString(v)) {
			put_line(f, "  ", stack, ": not probed: ");
			put_line(f, "", v->valuestring, "\n");
		} else {
			put_line(f, "  ", stack, ": probed\n");
		}
		v = cJSON_GetObjectItem(s, "found");
		if (cJSON_IsString(v))
			put_line(f, "    found: ", v->valuestring, "\n");
		cJSON_ArrayForEach(p, cJSON_GetObjectItem(s, "probes")) {
			v = cJSON_GetObjectItem(p, "function");
			fprintf(f, "    %-36s offset %#llx%s\n",
				cJSON_IsString(v) ? v->valuestring : "",
				(unsigned long long)cJSON_GetObjectItem(
					p, "offset")->valuedouble,
				cJSON_IsTrue(cJSON_GetObjectItem(p, "return")) ?
					", and its return" : "");
		}
	}
}

int cmd_inspect(int argc, char **argv)
{
	bool json = false;
	int i, first = 1, status = 0;
	cJSON *o = NULL;
	char *text;

	if (argc > 1 && !strcmp(argv[1], "--json")) {
		json = true;
		first = 2;
	}
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("usage: oisp-sensor inspect [--json] FILE...");
		return 0;
	}
	if (first >= argc) {
		fputs("oisp-sensor inspect: missing FILE\n"
		      "usage: oisp-sensor inspect [--json] FILE...\n", stderr);
		return 2;
	}
	for (i = first; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			put_line(stderr, "oisp-sensor inspect: unknown option '",
				 argv[i], "'\n");
			return 2;
		}
	}
	for (i = first; i < argc; i++) {
		if (inspect_file(argv[i], &o))
			status = 1;
		if (!o) {
			fputs("oisp-sensor inspect: out of memory\n", stderr);
			return 1;
		}
		if (json) {
			text = cJSON_PrintUnformatted(o);
			if (text) {
				termout__json(stdout, text);
				putchar('\n');
			} else {
				status = 1;
			}
			cJSON_free(text);
		} else {
			print_text(stdout, o);
		}
		cJSON_Delete(o);
		o = NULL;
	}
	return status;
}
