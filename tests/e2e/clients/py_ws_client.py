#!/usr/bin/python3
"""WebSocket client of the end-to-end tests: Debian's python3-websockets
(asyncio) against wss://api.openai.com (the test's ws_server.py, through
the hosts file), as the Codex CLI (Responses API in WebSocket mode) and a
Realtime API application use them.

  py_ws_client.py MODE [MODE ...] [--compression deflate|none] [--tag T]
                  [--echo-url URL]

Modes (each on a connection of its own):
  responses           one response.create, text answer
  responses-two       two response.create on one connection, one after
                      the other
  responses-pipelined two response.create on one connection, the second
                      sent before the first is answered
  responses-big       a 105 000-byte user message (and its echo): frames
                      with 64-bit lengths, when not compressed
  responses-tool      a response.create with a function tool: a tool call
  responses-agent     a tool call, then the tool's output sent back
                      (function_call_output, previous_response_id): a text
                      answer, as the Codex CLI goes on after running a tool
  responses-failed    model fail-model: response.failed
  responses-error     model bad-model: an error event
  responses-fragment  the final event comes in fragments with a ping
  realtime-text       Realtime session (?model=gpt-realtime): session.update,
                      a user text item, response.create; text answer
  realtime-audio      the same with input audio (append x3, commit, and an
                      input_audio item) and an audio answer (transcript +
                      base64 PCM)
  realtime-two        two turns (item, response.create) on one session
  realtime-tool       a session with a function tool: a function_call
  realtime-failed     a response.create the server fails (status failed)
  echo                a text and a binary message to --echo-url, which
                      sends them back (not AI)

Prints one JSON line per response (or echo): what it sent (message), what
it received (id, text, usage, status, tool_calls, error, audio), the
negotiated Sec-WebSocket-Extensions, its pid and local port.  Exits 1 when
a response is not what the protocol promises (e.g. the deltas do not add
up to the done text).
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import ssl
import sys
import uuid

import websockets

HOST = "api.openai.com"
KEY = "sk-test-ws-py-0123456789"
# Codex sends long instructions; long enough here that every client
# compresses its response.create (Node's ws only compresses messages of
# 1024 bytes or more by default).
INSTRUCTIONS = ("You are a coding agent running in a terminal. " * 30).strip()
MODEL = "gpt-5-codex"
REALTIME_MODEL = "gpt-realtime"
TOOL = {"type": "function", "name": "lookup_text", "description": "Looks a text up.",
        "strict": False, "parameters": {"type": "object", "properties": {
            "text": {"type": "string"}}, "required": ["text"]}}
AUDIO_IN_CHUNK = 4800       # 100 ms of 24 kHz PCM16
BIG_TEXT = " ".join("w%05d" % i for i in range(1, 15001))     # 105 000 bytes


def fail(msg):
    print("py_ws_client: " + msg, file=sys.stderr)
    sys.exit(1)


def tls():
    return ssl.create_default_context(cafile=os.environ["OISP_CA"])


def connect(url, args, headers):
    return websockets.connect(url, ssl=tls(), extra_headers=headers, max_size=None,
                              compression=None if args.compression == "none" else "deflate")


def info(ws, mode, **kw):
    out = {"mode": mode, "pid": os.getpid(), "local_port": ws.local_address[1],
           "extensions": ws.response_headers.get("Sec-WebSocket-Extensions")}
    out.update(kw)
    return out


def codex_headers():
    return {"Authorization": "Bearer " + KEY,
            "OpenAI-Beta": "responses_websockets=2026-02-06",
            "originator": "codex_cli_rs", "session_id": str(uuid.uuid4()),
            "User-Agent": "codex_cli_rs/0.60.0 (Debian 12; x86_64) e2e"}


def response_create(message, model=MODEL, tools=(), metadata=None):
    req = {"type": "response.create", "model": model, "instructions": INSTRUCTIONS,
           "input": [{"type": "message", "role": "user",
                      "content": [{"type": "input_text", "text": message}]}],
           "tools": list(tools), "tool_choice": "auto", "parallel_tool_calls": False,
           "reasoning": None, "store": False, "include": [],
           "prompt_cache_key": str(uuid.uuid4())}
    if metadata:
        req["metadata"] = metadata
    return req


def input_text(req):
    """The text of the last input item (a user message, or a tool's output)."""
    it = req["input"][-1]
    return it["output"] if it.get("type") == "function_call_output" else it["content"][0]["text"]


async def one_response(ws, req, mode, send=True):
    """Sends @req (unless it was sent already), reads the events up to
    the response's last one."""
    if send:
        await ws.send(json.dumps(req))
    types, text, args = [], "", {}
    while True:
        ev = json.loads(await ws.recv())
        types.append(ev["type"])
        t = ev["type"]
        if t == "response.output_text.delta":
            text += ev["delta"]
        elif t == "response.output_text.done" and ev["text"] != text:
            fail("%s: deltas %r != done %r" % (mode, text, ev["text"]))
        elif t == "response.function_call_arguments.delta":
            args[ev["item_id"]] = args.get(ev["item_id"], "") + ev["delta"]
        elif t in ("response.completed", "response.failed", "response.incomplete"):
            r = ev["response"]
            calls = [{"call_id": o["call_id"], "name": o["name"], "arguments": o["arguments"]}
                     for o in r["output"] if o["type"] == "function_call"]
            for o in r["output"]:
                if o["type"] == "function_call" and args.get(o["id"]) != o["arguments"]:
                    fail("%s: argument deltas %r != %r" % (mode, args.get(o["id"]), o))
            return info(ws, mode, message=input_text(req), id=r["id"],
                        model=r["model"], status=r["status"], text=text or None,
                        usage=r["usage"], tool_calls=calls, error=r["error"], events=types)
        elif t == "error":
            return info(ws, mode, message=input_text(req), id=None,
                        status="error", text=None, usage=None, tool_calls=[],
                        error=ev["error"], http_status=ev.get("status"), events=types)


async def responses(args, mode, tag):
    url = "wss://%s/v1/responses" % HOST
    msg = "py ws %s %s %s" % (mode, args.compression, tag)
    async with connect(url, args, codex_headers()) as ws:
        if mode == "responses-two":
            out = []
            for n in ("first", "second"):
                out.append(await one_response(ws, response_create(msg + " " + n), mode))
            return out
        if mode == "responses-pipelined":
            reqs = [response_create(msg + " " + n) for n in ("first", "second")]
            for r in reqs:
                await ws.send(json.dumps(r))
            return [await one_response(ws, r, mode, send=False) for r in reqs]
        if mode == "responses-big":
            msg += " " + BIG_TEXT
        if mode == "responses-agent":
            first = await one_response(ws, response_create(msg, tools=[TOOL]), mode)
            call = first["tool_calls"][0]
            output = "lookup result %s %s" % (call["call_id"], tag)
            req = response_create(msg, tools=[TOOL])
            req.update(previous_response_id=first["id"], input=[
                {"type": "function_call_output", "call_id": call["call_id"], "output": output}])
            second = await one_response(ws, req, mode)
            second.update(message=output, call_id=call["call_id"])
            return [first, second]
        kw = {}
        if mode == "responses-tool":
            kw["tools"] = [TOOL]
        elif mode == "responses-failed":
            kw["model"] = "fail-model"
        elif mode == "responses-error":
            kw["model"] = "bad-model"
        elif mode == "responses-fragment":
            kw["metadata"] = {"oisp_test_fragment": "1"}
        return [await one_response(ws, response_create(msg, **kw), mode)]


def audio_in(tag, i):
    return b"".join(hashlib.sha256(b"in/%s/%d/%d" % (tag.encode(), i, n)).digest()
                    for n in range(AUDIO_IN_CHUNK // 32))


async def realtime_turn(ws, mode, msg, create=None):
    """A user text item and a response.create (@create, {} by default);
    reads the events up to response.done.  Returns what the client got."""
    await ws.send(json.dumps({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user",
        "content": [{"type": "input_text", "text": msg}]}}))
    await ws.send(json.dumps(dict({"type": "response.create"}, **(create or {}))))
    text, b64, types, args = "", [], [], ""
    while True:
        ev = json.loads(await ws.recv())
        t = ev["type"]
        types.append(t)
        if t in ("response.output_text.delta", "response.output_audio_transcript.delta"):
            text += ev["delta"]
        elif t == "response.output_audio.delta":
            b64.append(ev["delta"])
        elif t == "response.function_call_arguments.delta":
            args += ev["delta"]
        elif t == "response.done":
            r = ev["response"]
            calls = [{"call_id": o["call_id"], "name": o["name"], "arguments": o["arguments"]}
                     for o in r["output"] if o["type"] == "function_call"]
            msgs = [o for o in r["output"] if o["type"] == "message"]
            if msgs:
                content = msgs[0]["content"][0]
                if content.get("text", content.get("transcript")) != text:
                    fail("%s: deltas %r != %r" % (mode, text, content))
                if "audio" in content:
                    fail("audio in response.done")
            if calls and calls[0]["arguments"] != args:
                fail("%s: argument deltas %r != %r" % (mode, args, calls))
            return dict(message=msg, id=r["id"], status=r["status"], text=text or None,
                        usage=r["usage"], tool_calls=calls, events=types, audio_b64=b64,
                        error=((r.get("status_details") or {}).get("error")),
                        audio_bytes=sum(len(base64.b64decode(x)) for x in b64))


async def realtime(args, mode, tag):
    url = "wss://%s/v1/realtime?model=%s" % (HOST, REALTIME_MODEL)
    msg = "py ws %s %s %s" % (mode, args.compression, tag)
    instructions = "Answer briefly; realtime %s." % tag
    audio = mode == "realtime-audio"
    session = {"type": "realtime", "instructions": instructions,
               "output_modalities": ["audio"] if audio else ["text"]}
    if mode == "realtime-tool":
        session["tools"] = [{k: v for k, v in TOOL.items() if k != "strict"}]
    async with connect(url, args, {"Authorization": "Bearer " + KEY}) as ws:
        created = json.loads(await ws.recv())
        if created["type"] != "session.created":
            fail("first event %r" % created["type"])
        await ws.send(json.dumps({"type": "session.update", "session": session}))
        sent_audio = []
        if audio:
            for i in range(3):
                sent_audio.append(base64.b64encode(audio_in(tag, i)).decode())
                await ws.send(json.dumps({"type": "input_audio_buffer.append",
                                          "audio": sent_audio[-1]}))
            await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            # an audio item of its own, as applications that record a
            # whole utterance send it
            sent_audio.append(base64.b64encode(audio_in(tag, 3)).decode())
            await ws.send(json.dumps({"type": "conversation.item.create", "item": {
                "type": "message", "role": "user",
                "content": [{"type": "input_audio", "audio": sent_audio[-1]}]}}))
        create = None
        if mode == "realtime-failed":
            create = {"response": {"metadata": {"oisp_test_fail": "1"}}}
        turns = [msg + " first", msg + " second"] if mode == "realtime-two" else [msg]
        out = []
        for m in turns:
            got = await realtime_turn(ws, mode, m, create)
            out.append(info(ws, mode, instructions=instructions, model=REALTIME_MODEL,
                            audio_in_b64=sent_audio,
                            audio_in_bytes=sum(len(base64.b64decode(x)) for x in sent_audio),
                            **got))
        return out


async def echo(args, tag):
    sent = [json.dumps({"type": "chat.message", "text": "echo %s" % tag}),
            b"\x00\x01binary echo " + tag.encode()]
    async with connect(args.echo_url, args, {}) as ws:
        got = []
        for m in sent:
            await ws.send(m)
            got.append(await ws.recv())
        if got != sent:
            fail("echo: sent %r, got %r" % (sent, got))
        return [info(ws, "echo", message=sent[0], binary=base64.b64encode(sent[1]).decode())]


async def amain(args):
    for mode in args.modes:
        if mode.startswith("responses"):
            out = await responses(args, mode, args.tag)
        elif mode.startswith("realtime"):
            out = await realtime(args, mode, args.tag)
        elif mode == "echo":
            out = await echo(args, args.tag)
        else:
            fail("unknown mode " + mode)
        for o in out:
            print(json.dumps(o), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("modes", nargs="+")
    ap.add_argument("--compression", choices=("deflate", "none"), default="deflate")
    ap.add_argument("--tag", default="t")
    ap.add_argument("--echo-url")
    asyncio.run(amain(ap.parse_args()))


if __name__ == "__main__":
    main()
