"""The fixture server's deterministic "model": what it answers to a request.

Shared by fixture_server.py and the tests, which compute the exact reply
text and token counts they expect the sensor to report.
"""
import collections
import hashlib

BAD_MODEL = "bad-model"
INDEX_HTML = (b"<!doctype html><html><head><title>fixture</title></head>"
              b"<body><p>not an AI API</p></body></html>\n")
MAX_DELTAS = 20

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
