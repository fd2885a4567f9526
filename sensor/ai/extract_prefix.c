// SPDX-License-Identifier: MIT
/*
 * Bodies cut short: their JSON prefix made whole (jsonprefix.h), then
 * extracted like any body.  See extract.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "ai/extract.h"
#include "ai/extract_priv.h"
#include "ai/jsonprefix.h"

int extract__request_prefix(const char *api, const char *body, size_t len,
			    cJSON *data, struct ai_summary *sum)
{
	cJSON *root;
	size_t n;
	char *txt;
	int err;

	err = json_prefix__close(body, len, JSON_PREFIX_WHOLE, &txt, &n);
	if (err)
		return err;
	root = cJSON_ParseWithLength(txt, n);
	free(txt);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	err = request_root(api, root, data, sum);
	cJSON_Delete(root);
	return err;
}

int extract__response_prefix(const char *api, const char *body, size_t len,
			     cJSON *data, struct ai_summary *sum)
{
	size_t n;
	char *txt;
	int err;

	err = json_prefix__close(body, len, JSON_PREFIX_PARTIAL, &txt, &n);
	if (err)
		return err;
	err = extract__response(api, txt, n, data, sum);
	free(txt);
	return err;
}
