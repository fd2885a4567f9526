#!/usr/bin/python3
"""The JSON body of an agent-sized chat completions request, exactly SIZE
bytes: a system prompt, user and assistant turns of 64 KiB, one padded to
the size, and a last user message of WORDS words (the fixture server
echoes it: that many streamed words); every message says TAG and its
index, so an event can be checked against it message by message.

  big_body.py SIZE TAG [stream [WORDS]] > body.json
As a module: body(size, tag, stream, words) -> bytes."""
import json
import sys

TURN = 64 * 1024


def _messages(n, tag, pad, words):
    msgs = [{"role": "system", "content": "You are a coding agent (%s). " % tag * 20}]
    for i in range(n):
        role = "user" if i % 2 == 0 else "assistant"
        head = "%s turn %d: " % (tag, i)
        msgs.append({"role": role, "content": head + "x" * max(0, TURN - len(head))})
    msgs.append({"role": "user", "content": "%s padding: " % tag + "y" * pad})
    msgs.append({"role": "user", "content": "%s question:" % tag +
                 "".join(" w%d" % i for i in range(words))})
    return msgs


def body(size, tag, stream=False, words=3):
    n = max(0, (size - 4096 - 8 * words) // (TURN + 40))
    req = {"model": "gpt-4.1-big", "stream": stream, "max_tokens": words + 10,
           "messages": _messages(n, tag, 0, words)}
    if stream:
        req["stream_options"] = {"include_usage": True}
    pad = size - len(json.dumps(req).encode())
    if pad < 0:
        raise ValueError("size %d too small" % size)
    req["messages"] = _messages(n, tag, pad, words)
    out = json.dumps(req).encode()
    assert len(out) == size, (len(out), size)
    return out


if __name__ == "__main__":
    sys.stdout.buffer.write(body(int(sys.argv[1]), sys.argv[2],
                                 len(sys.argv) > 3 and sys.argv[3] == "stream",
                                 int(sys.argv[4]) if len(sys.argv) > 4 else 3))
