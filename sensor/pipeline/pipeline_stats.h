/* SPDX-License-Identifier: MIT */
/*
 * pipeline_stats.h - the pipeline's counters (pipeline__stats()), one
 * row each in the layout of lib/stats.h.  Section "pipeline".
 */
#ifndef OISP_PIPELINE_STATS_H
#define OISP_PIPELINE_STATS_H

#include "lib/stats.h"

#define PIPELINE_STATS(X) \
	X(records, COUNTER, OK, \
	  "Capture records fed to the pipeline.") \
	X(bad_records, COUNTER, BAD, \
	  "Capture records that failed validation.") \
	X(connections, GAUGE, OK, \
	  "TLS connections tracked now.") \
	X(connections_total, COUNTER, OK, \
	  "TLS connections tracked since the start.") \
	X(connections_evicted, COUNTER, BAD, \
	  "Connections flushed because the table was full.") \
	X(connections_idle, COUNTER, OK, \
	  "Connections flushed after the idle timeout.") \
	X(connections_freed, COUNTER, OK, \
	  "Connections ended by SSL_free(), or by SSL_new() returning " \
	  "their address (static BoringSSL and OpenSSL 3).") \
	X(connections_replaced, COUNTER, OK, \
	  "Connections ended because a call began a request while one of " \
	  "their messages was in progress: their id (SSL*, *tls.Conn) " \
	  "taken by a new connection; what they had is written as partial.") \
	X(connections_not_http1, COUNTER, OK, \
	  "Connections not parsed because they are neither HTTP/1.x nor HTTP/2, or whose HTTP/2 framing broke.") \
	X(http_messages, COUNTER, OK, \
	  "HTTP messages parsed.") \
	X(parse_errors, COUNTER, BAD, \
	  "HTTP parse errors (counted when their connection closes).") \
	X(http2_streams_dropped, COUNTER, BAD, \
	  "HTTP/2 streams not reported because 128 were already open on their connection.") \
	X(websocket_connections, COUNTER, OK, \
	  "Connections switched to WebSocket by a 101 answering an Upgrade: websocket request.") \
	X(websocket_frames, COUNTER, OK, \
	  "WebSocket frames parsed, control frames included.") \
	X(websocket_control_frames, COUNTER, OK, \
	  "WebSocket close, ping and pong frames.") \
	X(websocket_messages, COUNTER, OK, \
	  "WebSocket data messages (text or binary, reassembled and inflated).") \
	X(websocket_other_messages, COUNTER, OK, \
	  "WebSocket messages not part of an AI exchange (reported only with --all, as requests and their responses, when no AI API is recognised).") \
	X(websocket_oversize_messages, COUNTER, OK, \
	  "WebSocket messages cut at capture.max_body_bytes.") \
	X(websocket_audio_chunks, COUNTER, OK, \
	  "OpenAI Realtime audio messages counted and not kept (input_audio_buffer.append, response.audio.delta, response.output_audio.delta).") \
	X(websocket_audio_bytes, COUNTER, OK, \
	  "WebSocket payload bytes of those audio messages.") \
	X(websocket_frame_errors, COUNTER, BAD, \
	  "Invalid WebSocket frames; their connection is no longer parsed.") \
	X(websocket_deflate_errors, COUNTER, BAD, \
	  "WebSocket messages whose permessage-deflate data did not inflate; their connection is no longer parsed.") \
	X(websocket_deflate_bombs, COUNTER, BAD, \
	  "WebSocket messages cut at capture.max_body_bytes that inflated over 100 times their size (with context takeover their connection is no longer parsed).") \
	X(http2_connections_joined, COUNTER, OK, \
	  "HTTP/2 connections joined mid-way (their first bytes were frames, not the preface): header fields in HPACK's dynamic table from before are unknown.") \
	X(http2_resyncs, COUNTER, BAD, \
	  "Times an HTTP/2 direction found its frames again, at the start of a call, after lost bytes.") \
	X(http2_streams_reset, COUNTER, OK, \
	  "HTTP/2 streams in progress ended by RST_STREAM from either end; their responses are partial (stream_reset) unless their event stream had already reported the finish reason and the token usage.") \
	X(http2_streams_hpack_unknown, COUNTER, OK, \
	  "HTTP/2 streams reported with header fields that could not be decoded (dynamic table entries from before a join or resync); their events say hpack_fields_unknown.") \
	X(http2_hpack_fields_unknown, COUNTER, OK, \
	  "HTTP/2 header fields left out because they refer to HPACK dynamic table entries from before a join or resync.") \
	X(gaps, COUNTER, BAD, \
	  "Messages with lost or truncated capture data.") \
	X(unmatched, COUNTER, OK, \
	  "HTTP requests no classification rule matched.") \
	X(unpaired_responses, COUNTER, OK, \
	  "HTTP responses with no request seen.") \
	X(server_side_skipped, COUNTER, OK, \
	  "Connections recognised as the server side at their first message and no longer parsed (filters.server_side off).") \
	X(bodies_truncated, COUNTER, OK, \
	  "Bodies cut at capture.max_body_bytes.") \
	X(decode_errors, COUNTER, BAD, \
	  "Bodies whose Content-Encoding could not be decoded.") \
	X(json_errors, COUNTER, BAD, \
	  "AI bodies that were not valid JSON.") \
	X(bodies_prefix_parsed, COUNTER, OK, \
	  "AI bodies not captured whole whose JSON prefix gave the event's fields (the events say http.body_truncated).") \
	X(largest_call_bytes, GAUGE, OK, \
	  "Bytes of the largest TLS read or write call seen (what it returned, whether captured whole or cut at capture.max_bytes_per_call).") \
	X(extract_elements_dropped, COUNTER, OK, \
	  "List elements (messages, tools, tool calls, choices) left out of events by the per-event bound; each event says so in data.truncated.") \
	X(extract_bytes_dropped, COUNTER, OK, \
	  "Bytes of text left out of events by the per-event text bound; each event says so in data.truncated.") \
	X(events_request, COUNTER, OK, \
	  "ai.request events written.") \
	X(events_response, COUNTER, OK, \
	  "ai.response events written.") \
	X(events_partial, COUNTER, OK, \
	  "Events written with confidence.completeness \"partial\".") \
	X(events_shortened, COUNTER, OK, \
	  "Events whose content was shortened to fit output.max_event_bytes (they say data.shortened).") \
	X(events_over_limit, COUNTER, BAD, \
	  "Events still longer than output.max_event_bytes once all their content was cut (written anyway: their metadata alone is longer).") \
	X(events_redacted, COUNTER, OK, \
	  "Events in which redaction replaced something.") \
	X(redaction_errors, COUNTER, BAD, \
	  "Values dropped because redaction failed.") \
	X(write_errors, COUNTER, BAD, \
	  "Events that could not be built or written (dropped).") \
	X(memory_bytes, GAUGE, OK, \
	  "Bytes of captured data held now, as charged to capture.memory_budget_bytes.") \
	X(memory_high_water_bytes, GAUGE, OK, \
	  "Most bytes of captured data held at once since the start.") \
	X(memory_budget_bytes, GAUGE, OK, \
	  "The memory budget, capture.memory_budget_bytes.") \
	X(budget_shed_messages, COUNTER, BAD, \
	  "Messages whose body (or whole message, or decoding and extraction) was dropped to stay within the memory budget; their events say memory_budget.") \
	X(budget_shed_bytes, COUNTER, BAD, \
	  "Captured body bytes dropped to stay within the memory budget.") \
	X(budget_shed_connections, COUNTER, BAD, \
	  "Connections closed (flushed as partial) to stay within the memory budget.")

struct pipeline_stats {
	PIPELINE_STATS(STATS_MEMBER)
};

#endif /* OISP_PIPELINE_STATS_H */
