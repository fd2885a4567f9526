// SPDX-License-Identifier: MIT
/*
 * AI field extraction from arbitrary bodies, for each API format, as a
 * JSON body and as an SSE stream; the result must serialise to valid
 * UTF-8 JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "event/event.h"
#include "ai/extract.h"
#include "ai/summary.h"
#include "proto/sse.h"
#include "lib/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s && !utf8__valid(s, strlen(s)))
		__builtin_trap();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const apis[] = {
		"openai.chat_completions", "openai.responses",
		"openai.embeddings", "openai.completions",
		"anthropic.messages", "google.generate_content", "other",
	};
	struct extract_event *xe = NULL;
	struct sse_event *ev = NULL;
	struct ai_summary sum;
	size_t n = 0, i;
	const char *api;
	char *path;
	cJSON *d;

	if (size < 1)
		return 0;
	api = apis[data[0] % 7];
	ai_summary__init(&sum);
	d = cJSON_CreateObject();
	switch ((data[0] >> 3) % 4) {
	case 0:
		extract__request(api, (const char *)data + 1, size - 1, d,
				 &sum);
		break;
	case 1:
		extract__response(api, (const char *)data + 1, size - 1, d,
				  &sum);
		break;
	case 2:
		path = strndup((const char *)data + 1, size - 1);
		if (path)
			extract__request_path(api, path, d, &sum);
		free(path);
		break;
	default:
		sse__parse((const char *)data + 1, size - 1, SSE_MAX_EVENTS,
			   &ev, &n);
		xe = calloc(n + 1, sizeof(*xe));
		for (i = 0; xe && i < n; i++) {
			xe[i].event = ev[i].event;
			xe[i].data = ev[i].data;
		}
		if (xe)
			extract__response_stream(api, xe, n, d, &sum);
		free(xe);
		sse__free_events(ev, n);
	}
	check_line(d);
	cJSON_Delete(d);
	ai_summary__clear(&sum);
	return 0;
}
