// SPDX-License-Identifier: MIT
/*
 * The typed summary of an extraction; see summary.h.
 */
#include <stdlib.h>

#include "ai/summary.h"

void ai_summary__init(struct ai_summary *s)
{
	*s = (struct ai_summary){
		.streaming = -1,
		.prompt_tokens = AI_TOKENS_NONE,
		.completion_tokens = AI_TOKENS_NONE,
		.total_tokens = AI_TOKENS_NONE,
		.cached_tokens = AI_TOKENS_NONE,
		.reasoning_tokens = AI_TOKENS_NONE,
		.cache_creation_tokens = AI_TOKENS_NONE,
	};
}

void ai_summary__clear(struct ai_summary *s)
{
	if (!s)
		return;
	free(s->model);
	free(s->error_type);
	ai_summary__init(s);
}
