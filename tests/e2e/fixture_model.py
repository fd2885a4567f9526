"""The fixture server's deterministic "model": what it answers to a request.

Shared by fixture_server.py and the tests, which compute the exact reply
text and token counts they expect the sensor to report.
"""
import collections
import hashlib
import re

BAD_MODEL = "bad-model"
INDEX_HTML = (b"<!doctype html><html><head><title>fixture</title></head>"
              b"<body><p>not an AI API</p></body></html>\n")
MAX_DELTAS = 20
# Gemini's POST /v1beta/models/MODEL:generateContent or :streamGenerateContent
GEMINI_PATH = re.compile(r"^/v1beta/models/([^/:]+):(generateContent|streamGenerateContent)$")

Answer = collections.namedtuple(
    "Answer", "text prompt_tokens completion_tokens openai_finish anthropic_finish")


def words(text):
    return len(text.split())


def content_text(content):
    """Message content as text: a string, or text parts joined with \\n."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for p in content:
        if isinstance(p, str):
            parts.append(p)
        elif isinstance(p, dict) and isinstance(p.get("text"), str):
            parts.append(p["text"])
    return "\n".join(parts)


def _answer(prompt_texts, last_user, max_tokens):
    reply = "Echo: " + last_user
    w = reply.split()
    truncated = isinstance(max_tokens, int) and 0 < max_tokens < len(w)
    if truncated:
        reply = " ".join(w[:max_tokens])
    return Answer(reply, sum(words(t) for t in prompt_texts), words(reply),
                  "length" if truncated else "stop",
                  "max_tokens" if truncated else "end_turn")


def _last_user(msgs):
    for m in reversed(msgs):
        if isinstance(m, dict) and m.get("role") == "user":
            return content_text(m.get("content"))
    return ""


def chat_answer(req):
    msgs = req.get("messages") or []
    texts = [content_text(m.get("content")) for m in msgs if isinstance(m, dict)]
    mt = req.get("max_completion_tokens", req.get("max_tokens"))
    return _answer(texts, _last_user(msgs), mt)


def responses_answer(req):
    inp = req.get("input")
    texts = []
    if isinstance(req.get("instructions"), str):
        texts.append(req["instructions"])
    if isinstance(inp, str):
        msgs = [{"role": "user", "content": inp}]
    else:
        msgs = [m for m in (inp or []) if isinstance(m, dict)]
    texts += [content_text(m.get("content")) for m in msgs]
    return _answer(texts, _last_user(msgs), req.get("max_output_tokens"))


def messages_answer(req):
    msgs = req.get("messages") or []
    texts = []
    if req.get("system") is not None:
        texts.append(content_text(req["system"]))
    texts += [content_text(m.get("content")) for m in msgs if isinstance(m, dict)]
    return _answer(texts, _last_user(msgs), req.get("max_tokens"))


def gemini_answer(req):
    """Gemini generateContent (https://ai.google.dev/api/generate-content):
    the echo of the last text part of the last user turn (Gemini CLI puts
    its session context, which names its temporary directory, in an
    earlier part of the same turn), with maxOutputTokens as the limit."""
    texts, last = [], ""
    si = req.get("systemInstruction") or req.get("system_instruction")
    if isinstance(si, dict):
        texts.append(content_text(si.get("parts")))
    for c in req.get("contents") or []:
        if not isinstance(c, dict):
            continue
        texts.append(content_text(c.get("parts")))
        parts = [p["text"] for p in c.get("parts") or []
                 if isinstance(p, dict) and isinstance(p.get("text"), str)]
        if c.get("role", "user") == "user" and parts:
            last = parts[-1]
    mt = (req.get("generationConfig") or {}).get("maxOutputTokens")
    return _answer(texts, last, mt)


def gemini_finish(a):
    """Gemini's finishReason for Answer @a."""
    return "MAX_TOKENS" if a.openai_finish == "length" else "STOP"


def openai_response_model(model):
    """OpenAI answers with a dated model name."""
    return (model or "") + "-2024-07-18"


def split_deltas(text):
    """The pieces a stream sends: word by word (with the following space),
    at most MAX_DELTAS pieces; joined they give text back exactly."""
    pieces = []
    cur = ""
    for i, ch in enumerate(text):
        cur += ch
        if ch == " " and (i + 1 < len(text) and text[i + 1] != " "):
            pieces.append(cur)
            cur = ""
    if cur:
        pieces.append(cur)
    if len(pieces) > MAX_DELTAS:
        n = -(-len(pieces) // MAX_DELTAS)
        pieces = ["".join(pieces[i:i + n]) for i in range(0, len(pieces), n)]
    return pieces or [""]


def embedding_vector(text, dims=8):
    h = hashlib.sha256(text.encode()).digest()
    return [round((b - 128) / 128.0, 4) for b in h[:dims]]


def openai_error_body(model=BAD_MODEL):
    return {"error": {"message": "The model `%s` does not exist or you do not have access to it." % model,
                      "type": "invalid_request_error", "param": "model",
                      "code": "model_not_found"}}


def anthropic_error_body(model=BAD_MODEL):
    return {"type": "error", "error": {"type": "invalid_request_error",
                                       "message": "model: %s" % model}}


def responses_usage(a):
    """The Responses API usage object of Answer @a."""
    return {"input_tokens": a.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": a.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": a.prompt_tokens + a.completion_tokens}


def responses_object(req, rid, status, output, usage, incomplete=False, error=None):
    """A Responses API `response` object for request @req (the POST body
    or the response.create event), as the API returns it."""
    return {"id": rid, "object": "response", "created_at": 1700000000,
            "status": status, "error": error,
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
            "instructions": req.get("instructions"),
            "max_output_tokens": req.get("max_output_tokens"),
            "model": openai_response_model(req.get("model")), "output": output,
            "parallel_tool_calls": True, "previous_response_id": None, "store": True,
            "temperature": req.get("temperature", 1.0), "text": {"format": {"type": "text"}},
            "tool_choice": "auto", "tools": [], "top_p": 1.0,
            "truncation": "disabled", "usage": usage, "user": None, "metadata": {}}


def responses_message_item(a, mid, status="completed"):
    return {"type": "message", "id": mid, "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": a.text, "annotations": []}]}


def responses_events(req, rid, mid):
    """The streamed events of a Responses API text answer to @req, in
    order, without sequence_number: response.created ... response.completed
    (response.incomplete when max_output_tokens cut the text).  Joined,
    the response.output_text.delta events give responses_answer(req).text."""
    a = responses_answer(req)
    truncated = a.openai_finish == "length"
    final = "incomplete" if truncated else "completed"
    item = responses_message_item(a, mid, final)
    part = item["content"][0]
    yield {"type": "response.created",
           "response": responses_object(req, rid, "in_progress", [], None)}
    yield {"type": "response.in_progress",
           "response": responses_object(req, rid, "in_progress", [], None)}
    yield {"type": "response.output_item.added", "output_index": 0,
           "item": {"type": "message", "id": mid, "status": "in_progress",
                    "role": "assistant", "content": []}}
    yield {"type": "response.content_part.added", "item_id": mid, "output_index": 0,
           "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}
    for piece in split_deltas(a.text):
        yield {"type": "response.output_text.delta", "item_id": mid, "output_index": 0,
               "content_index": 0, "delta": piece, "logprobs": []}
    yield {"type": "response.output_text.done", "item_id": mid, "output_index": 0,
           "content_index": 0, "text": a.text, "logprobs": []}
    yield {"type": "response.content_part.done", "item_id": mid, "output_index": 0,
           "content_index": 0, "part": part}
    yield {"type": "response.output_item.done", "output_index": 0, "item": item}
    yield {"type": "response." + final,
           "response": responses_object(req, rid, final, [item], responses_usage(a), truncated)}
