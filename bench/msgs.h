/* SPDX-License-Identifier: MIT */
/*
 * msgs.h - what bench/tlsbench.c and bench/gnutlsbench.c share: their
 * messages, one OpenAI-style chat request (POST /v1/chat/completions, a
 * JSON body of SIZE bytes) and its JSON response (also SIZE bytes of
 * body), and the counters of the TLS calls they make.
 */
#ifndef OISP_BENCH_MSGS_H
#define OISP_BENCH_MSGS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Per-thread counters of the TLS calls made. */
struct calls {
	uint64_t writes;
	uint64_t reads;
	uint64_t write_ns;
	uint64_t read_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

struct msgs {
	char *req;
	size_t req_len;
	char *resp;
	size_t resp_len;
};

/* "{...prefix" + 'x' * pad + "suffix}" of exactly @size bytes, or more. */
static char *json_body(const char *prefix, const char *suffix, size_t size)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), pad;
	char *b;

	pad = size > pl + sl ? size - pl - sl : 1;
	b = malloc(pl + pad + sl + 1);
	if (!b)
		return NULL;
	memcpy(b, prefix, pl);
	memset(b + pl, 'x', pad);
	memcpy(b + pl + pad, suffix, sl + 1);
	return b;
}

static int make_msgs(struct msgs *m, size_t size, const char *host)
{
	char *body;
	int n;

	body = json_body("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":"
			 "\"user\",\"content\":\"", "\"}]}", size);
	if (!body)
		return -ENOMEM;
	n = asprintf(&m->req, "POST /v1/chat/completions HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "Authorization: Bearer sk-bench\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s", host, strlen(body), body);
	free(body);
	if (n < 0)
		return -ENOMEM;
	m->req_len = n;
	body = json_body("{\"id\":\"chatcmpl-bench\",\"object\":"
			 "\"chat.completion\",\"model\":\"gpt-4o-mini\","
			 "\"choices\":[{\"index\":0,\"message\":{\"role\":"
			 "\"assistant\",\"content\":\"",
			 "\"},\"finish_reason\":\"stop\"}],\"usage\":"
			 "{\"prompt_tokens\":9,\"completion_tokens\":9,"
			 "\"total_tokens\":18}}", size);
	if (!body)
		return -ENOMEM;
	n = asprintf(&m->resp, "HTTP/1.1 200 OK\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	free(body);
	if (n < 0)
		return -ENOMEM;
	m->resp_len = n;
	return 0;
}

#endif /* OISP_BENCH_MSGS_H */
