/* SPDX-License-Identifier: MIT */
/*
 * extract.h - AI fields of request and response bodies, written into the
 * "data" object of ai.request / ai.response events (docs/events.md).
 *
 * Wire formats followed:
 *   OpenAI API reference: Chat Completions (+ streaming chunks, including
 *     the stream_options.include_usage final chunk), legacy Completions,
 *     Responses (+ its typed streaming events), Embeddings, error objects
 *     {"error":{"message","type","param","code"}};
 *   Anthropic Messages API and its streaming events (message_start,
 *     content_block_start/delta/stop, message_delta, message_stop, ping,
 *     error), error objects {"type":"error","error":{"type","message"}};
 *   Google Gemini generateContent / streamGenerateContent (camelCase and
 *     snake_case field names), error objects {"error":{"code","message",
 *     "status"}};
 *   OISP v0.1 ai.request / ai.response field names, and the OpenTelemetry
 *     GenAI semantic conventions for token usage (input tokens include
 *     cached ones; output tokens include reasoning ones).
 *
 * @api is the matching rule's API format: "openai.chat_completions",
 * "openai.responses", "openai.embeddings", "openai.completions",
 * "anthropic.messages", "google.generate_content" or "other".  Bodies are
 * recognised by their shape, so a wrong or "other" @api still gives a
 * best-effort result; @api only settles what the shape cannot (an "input"
 * field means embeddings for "openai.embeddings", Responses otherwise).
 *
 * Every string written into @data is valid UTF-8 (invalid sequences and
 * NUL bytes become U+FFFD).  Content is copied whole; redaction is the
 * caller's business.  Nothing here keeps state between calls.
 *
 * Each function also fills @sum (may be NULL), the typed summary of what
 * it wrote (summary.h), for statistics that must not read @data back.
 *
 * Bounds on the work per event, against hostile bodies (any local user
 * can make the sensor read any plaintext; docs/config.md lists them):
 *   - EXTRACT_MAX_ITEMS list elements are written into one event, over
 *     all its lists (messages, their tool calls, tools, stop sequences,
 *     choices, the response's tool calls); the source elements past it
 *     are skipped, and messages_count / tools_count / tool_calls_count
 *     still give the source's counts;
 *   - EXTRACT_MAX_TEXT bytes of string values (as JSON text, escapes
 *     included) go into one event; strings past it are cut (at a UTF-8
 *     character boundary), possibly to "";
 *   - a stream keeps at most MAX_CHOICES choices and MAX_CALLS tool calls
 *     per choice (extract_priv.h), whatever index the wire gives; an
 *     index costs no memory of its own;
 *   - bodies nest at most CJSON_NESTING_LIMIT (1000, cJSON's default)
 *     deep: deeper ones are not JSON to cJSON (-EBADMSG);
 *   - the work is linear in the body's size.
 * What was left out is counted in data.truncated {elements_dropped,
 * bytes_dropped} (written only then) and in @sum's fields of the same
 * names.  Memory still grows with the body: cJSON's tree of it, about 64
 * bytes per JSON value, until the function returns.
 *
 * Implemented by sensor/ai/extract_*.c (extract_priv.h lists the parts).
 */
#ifndef OISP_EXTRACT_H
#define OISP_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "ai/summary.h"

/* See "Bounds" above. */
#define EXTRACT_MAX_ITEMS	16384
#define EXTRACT_MAX_TEXT	(8u << 20)

/*
 * Parses the request body (@len bytes at @body, need not be
 * NUL-terminated) and adds to @data: model.id, streaming (OpenAI,
 * Anthropic: the "stream" flag, false when absent; not set for Gemini,
 * see extract__request_path), messages[] {role, content, name,
 * tool_call_id, tool_calls[], has_images, image_count}, messages_count,
 * has_system_prompt, tools[] {name, type, description}, tools_count,
 * tool_choice (auto|none|required|specific), parameters{temperature,
 * top_p, top_k, max_tokens, frequency_penalty, presence_penalty, stop[],
 * seed, n, reasoning_effort, dimensions, encoding_format} and, for
 * embeddings and completions, input_count.  Absent fields are omitted.
 * @sum receives model and streaming.
 * Returns 0; -EBADMSG when the body is not a JSON object (nothing added,
 * @sum unchanged); -ENOMEM (some fields may have been added).
 */
int extract__request(const char *api, const char *body, size_t len,
		     cJSON *data, struct ai_summary *sum);

/*
 * Gemini carries the model and the streaming choice in the request path:
 * ".../models/NAME:generateContent" or ":streamGenerateContent" (query
 * string ignored; Vertex AI's ".../publishers/google/models/NAME:..."
 * too).  On a match, sets (replacing) model.id and streaming.  Any @api is
 * accepted: other APIs' paths do not have this form.  @sum receives
 * model and streaming too.
 * Returns 0 when set, -ENOENT when @path has no such form, -ENOMEM.
 */
int extract__request_path(const char *api, const char *path, cJSON *data,
			  struct ai_summary *sum);

/*
 * Parses a non-streamed response body and adds: provider_request_id,
 * model.id (as the response reports it), choices[] {index,
 * message{role, content, refusal, tool_calls[]}, finish_reason,
 * provider_finish_reason}, tool_calls[] {id, name, type, arguments (JSON
 * text)} and tool_calls_count (over all choices), usage{prompt_tokens,
 * completion_tokens, total_tokens, cached_tokens, reasoning_tokens,
 * cache_creation_tokens}, finish_reason (normalised, of the first choice)
 * and provider_finish_reason, input_count and dimensions (embeddings),
 * error{type, message, code, param} when the body is an error object.
 * A JSON array body (Gemini streamGenerateContent without alt=sse) is
 * treated as a sequence of chunks.  Does not set status_code / success.
 * @sum receives model, usage, error, finish_reason and streaming (0).
 * Returns 0, -EBADMSG when the body is not JSON (nothing added, @sum
 * unchanged), -ENOMEM.
 */
int extract__response(const char *api, const char *body, size_t len,
		      cJSON *data, struct ai_summary *sum);

/*
 * A body cut short (capture lost its end, or it was longer than the
 * body limit): its first @len bytes, the prefix of a JSON text.  The
 * prefix is made whole (jsonprefix.h) and extracted as extract__request
 * and extract__response do.  A request keeps whole values only: every
 * member before the cut (model, stream, max_tokens, tools, system, when
 * the client sent them before it) and the messages and tools that came
 * whole; messages_count and tools_count count those.  A response keeps
 * a string cut mid-way too (the reply text so far), and its usage when
 * that came before the cut.  On top of what the whole-body functions
 * cost, a copy of the prefix (@len + its depth bytes) while it is
 * parsed; the scan is linear in @len.
 * Returns 0; -EBADMSG when the prefix does not begin a JSON object (or,
 * for a response, array); -ENOMEM.
 */
int extract__request_prefix(const char *api, const char *body, size_t len,
			    cJSON *data, struct ai_summary *sum);
int extract__response_prefix(const char *api, const char *body, size_t len,
			     cJSON *data, struct ai_summary *sum);

/* One server-sent event: its "event:" name (NULL if none) and its data. */
struct extract_event {
	const char *event;
	const char *data;	/* NUL-terminated */
};

/*
 * Assembles a streamed (text/event-stream) response from its @n events
 * and adds the fields extract__response adds: reply text per choice
 * index from the deltas, tool calls from their argument deltas, usage
 * (OpenAI's final usage chunk; Anthropic's message_start input counts
 * updated by message_delta; the Responses API's response.completed),
 * finish reasons, provider_request_id and model; an in-stream error
 * (OpenAI {"error":...} chunk, Anthropic "event: error", Responses
 * "error" / response.failed) gives error{}.  "[DONE]" and events whose
 * data is not JSON are skipped.  @sum receives what extract__response
 * gives it, streaming (1) and first_token_idx: the index of the first
 * event that carried output text or started a tool call, @n if none did.
 * Returns 0 or -ENOMEM.
 */
int extract__response_stream(const char *api, const struct extract_event *ev,
			     size_t n, cJSON *data, struct ai_summary *sum);

/* True when @data has an "error" object (set by the functions above). */
bool extract__has_error(const cJSON *data);

/*
 * Maps a provider's finish/stop reason to OISP's finish_reason:
 *   stop:           stop, end_turn, stop_sequence, STOP, completed
 *   length:         length, max_tokens, MAX_TOKENS, max_output_tokens,
 *                   model_context_window_exceeded
 *   tool_calls:     tool_calls, function_call, tool_use
 *   content_filter: content_filter, refusal, SAFETY, RECITATION,
 *                   BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY
 *   error:          error, failed, MALFORMED_FUNCTION_CALL
 *   other:          anything else, and NULL.
 * Returns a static string.
 */
const char *extract__normalize_finish(const char *provider_reason);

#endif /* OISP_EXTRACT_H */
