/* SPDX-License-Identifier: MIT */
/*
 * jsonpath.h - test helpers: look up a dotted path ("data.usage.total_tokens",
 * array items by index: "choices.0.message") in a cJSON tree and assert its
 * type.  Include after <criterion/criterion.h>.
 */
#ifndef OISP_TEST_JSONPATH_H
#define OISP_TEST_JSONPATH_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* The value at @path, NULL if any step is missing. */
static inline const cJSON *get(const cJSON *o, const char *path)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o;
	     tok = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(o))
			o = cJSON_GetArrayItem(o, (int)strtol(tok, NULL, 10));
		else
			o = cJSON_GetObjectItemCaseSensitive(o, tok);
	}
	return o;
}

static inline const char *str(const cJSON *o, const char *path)
{
	const cJSON *v = get(o, path);

	cr_assert(cJSON_IsString(v), "%s is not a string", path);
	return v->valuestring;
}

static inline double num(const cJSON *o, const char *path)
{
	const cJSON *v = get(o, path);

	cr_assert(cJSON_IsNumber(v), "%s is not a number", path);
	return v->valuedouble;
}

static inline bool boolean(const cJSON *o, const char *path)
{
	const cJSON *v = get(o, path);

	cr_assert(cJSON_IsBool(v), "%s is not a boolean", path);
	return cJSON_IsTrue(v);
}

#endif /* OISP_TEST_JSONPATH_H */
