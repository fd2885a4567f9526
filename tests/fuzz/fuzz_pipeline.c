// SPDX-License-Identifier: MIT
/*
 * The whole userspace pipeline through the replay seam: the input is cut
 * into capture records (struct cap_data / cap_proc) for a few processes
 * and SSL* values, both directions, with lost chunks and truncated calls,
 * and fed to pipeline__feed() exactly as replay does.  Events go to
 * /dev/null; the sanitizers watch everything in between.
 *
 * The limits are the production defaults (0: the pipeline's own, a 4 MiB
 * max_body, 16384 connections, a 256 MiB memory budget), so that
 * decompression and large bodies reach their real bounds.  Bit 3 of the
 * first byte picks small ones instead, a table of 4 connections and a
 * 64 KiB budget, which a fuzz input can fill: eviction, shedding and
 * closing connections for the budget are reached too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture_abi.h"
#include "event/event.h"
#include "event/output.h"
#include "pipeline/pipeline.h"
#include "ai/redact.h"
#include "ai/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct env {
	struct rules *rules;
	struct redactor *redactor;
	struct output *out;
	struct event_host host;
};

static struct env *env_get(void)
{
	static struct env e;
	static int ready;
	char err[256];

	if (!ready) {
		if (rules__load_default(&e.rules, err, sizeof(err)) ||
		    redactor__new(&e.redactor, NULL, 0, err, sizeof(err)) ||
		    output__open(&e.out, "/dev/null", err, sizeof(err)) ||
		    event__host_load(&e.host))
			__builtin_trap();
		ready = 1;
	}
	return &e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cap_data d;
	struct env *e = env_get();
	struct pipeline_opts po = {
		.rules = e->rules, .out = e->out, .host = &e->host,
		.secrets = e->redactor, .idle_timeout_ns = 1000000,
	};
	struct pipeline *p;
	size_t off = 0, len;
	uint64_t call = 0;
	uint8_t h;

	if (size < 1)
		return 0;
	po.ai_only = data[0] & 1;
	po.server_side = data[0] & 2;
	if (data[0] & 4)
		po.redactor = e->redactor;
	if (data[0] & 8) {
		po.max_connections = 4;
		po.memory_budget_bytes = 64 << 10;
	}
	if (pipeline__new(&p, &po))
		return 0;
	off = 1;
	while (off + 2 <= size) {
		h = data[off];
		len = (size_t)data[off + 1] * 8;
		off += 2;
		if (len > size - off)
			len = size - off;
		memset(&d, 0, CAP_DATA_HDR_SIZE);
		d.hdr.tgid = 1 + ((h >> 1) & 3);
		d.hdr.ts_ns = ++call * 1000;
		if ((h & 7) == 7) {
			struct cap_proc pr = { .hdr = d.hdr };

			pr.hdr.kind = (h & 8) ? CAP_KIND_EXIT : CAP_KIND_EXEC;
			pipeline__feed(p, &pr, sizeof(pr));
			continue;
		}
		d.hdr.kind = CAP_KIND_DATA;
		d.conn = (h >> 3) & 3;
		d.dir = (h & 0x20) ? CAP_DIR_READ : CAP_DIR_WRITE;
		d.call_id = (h & 0x40) ? call - 1 : call;	/* same call */
		d.offset = (h & 0x40) ? CAP_CHUNK_MAX : 0;	/* lost chunk */
		d.call_len = (uint32_t)len + ((h & 0x80) ? 100 : 0);
		d.flags = (h & 0x80) ? CAP_F_TRUNCATED : 0;
		d.len = (uint32_t)len;
		memcpy(d.data, data + off, len);
		off += len;
		pipeline__feed(p, &d, CAP_DATA_HDR_SIZE + len);
		if ((h & 0x46) == 0x46)
			pipeline__tick(p, d.hdr.ts_ns + 10000000);
	}
	pipeline__flush(p);
	pipeline__free(p);
	return 0;
}
