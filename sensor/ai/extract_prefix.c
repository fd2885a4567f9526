// SPDX-License-Identifier: MIT
/*
 * Bodies cut short: their JSON prefix made whole (jsonprefix.h), then
 * extracted like any body.  See extract.h.
 */
#include <stdlib.h>

#include "ai/extract.h"
#include "ai/jsonprefix.h"

typedef int (*extract_fn)(const char *api, const char *body, size_t len,
			  cJSON *data, struct ai_summary *sum);

/* @fn on the prefix @body[0..len) closed by @mode. */
static int closed(extract_fn fn, enum json_prefix_mode mode, const char *api,
		  const char *body, size_t len, cJSON *data,
		  struct ai_summary *sum)
{
	size_t n;
	char *txt;
	int err;

	err = json_prefix__close(body, len, mode, &txt, &n);
	if (err)
		return err;
	err = fn(api, txt, n, data, sum);
	free(txt);
	return err;
}

int extract__request_prefix(const char *api, const char *body, size_t len,
			    cJSON *data, struct ai_summary *sum)
{
	return closed(extract__request, JSON_PREFIX_WHOLE, api, body, len,
		      data, sum);
}

int extract__response_prefix(const char *api, const char *body, size_t len,
			     cJSON *data, struct ai_summary *sum)
{
	return closed(extract__response, JSON_PREFIX_PARTIAL, api, body, len,
		      data, sum);
}
