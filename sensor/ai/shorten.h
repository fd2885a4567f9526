/* SPDX-License-Identifier: MIT */
/*
 * shorten.h - an event's "data" made smaller to fit a line limit
 * (output.max_event_bytes, docs/config.md): content strings are cut
 * first, the oldest messages first.
 *
 * Order: the content of data.messages[] from the first (oldest) to the
 * last, with the arguments of their tool calls; the descriptions of
 * data.tools[]; the content and tool-call arguments of data.choices[];
 * the arguments of data.tool_calls[].  A string is cut at a UTF-8
 * character boundary, to as little as needed or to "", and marked with
 * its original length in bytes beside it: a message's content_length
 * (OISP), a tool's description_length, a tool call's arguments_length.
 * Nothing else is touched: model, usage, ids and the envelope (process,
 * Kubernetes metadata) always survive.  Only when no string is left to
 * cut do the lists themselves go (messages, tools, choices, tool_calls,
 * in that order; their *_count fields stay).  What was done is said in
 * data.shortened {strings, bytes, elements}.
 */
#ifndef OISP_SHORTEN_H
#define OISP_SHORTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* What shorten__data() did to one event, summed over its calls. */
struct shorten_stats {
	uint64_t strings;	/* strings cut (each counted once) */
	uint64_t bytes;		/* bytes cut from them */
	uint64_t elements;	/* list elements dropped with their lists */
};

/*
 * Removes about @excess bytes of JSON text from @data, in the order
 * above, and updates data.shortened from @st (accumulated over calls on
 * the same event).  Escapes make the text longer than the strings, so
 * the caller measures again and calls again while the line is too long.
 * Returns true when something was removed, false when nothing is left
 * to remove (or no memory for a marker: the string is left whole).
 */
bool shorten__data(cJSON *data, size_t excess, struct shorten_stats *st);

#endif /* OISP_SHORTEN_H */
