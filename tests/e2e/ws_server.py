#!/usr/bin/python3
"""Loopback TLS WebSocket server that imitates two OpenAI WebSocket APIs.

Debian's python3 with python3-websockets (10.4, asyncio).

  GET /v1/responses          the Responses API in WebSocket mode (what the
                             Codex CLI speaks, with its OpenAI-Beta:
                             responses_websockets=... header): each client
                             {"type": "response.create", ...} gets the event
                             flow a POST /v1/responses stream would give,
                             one JSON text message per event
  GET /v1/realtime?model=M   the Realtime API: session.created, then
                             session.update, conversation.item.create,
                             input_audio_buffer.append/commit and
                             response.create, answered with response.created,
                             text or audio (transcript + base64 PCM) deltas
                             and response.done with usage
  any other path             an echo service (not AI): every message comes
                             back as it was sent, text or binary

Answers are deterministic (fixture_model.py): the text is "Echo: <text of
the last user message>", token counts are word counts.  Variants of
response.create (Responses API):
  model "bad-model"          an `error` event (status 400, model_not_found)
  model "fail-model"         response.created, response.in_progress, then
                             response.failed (server_error)
  "generate": false          response.created, then response.completed with
                             no output and zero usage (a prewarm)
  tools given                a function_call of the first tool, arguments
                             {"text": <last user text>}, streamed; when the
                             input ends with a function_call_output, the
                             text answer echoes that output instead
and of the Realtime API's response.create:
  session tools given        a function_call of the first tool, as above
  metadata {"oisp_test_fail": "1"}  response.done with status failed
For both APIs, metadata {"oisp_test_fragment": "1"} sends the final
event (response.completed / response.done) as three fragments with a ping
between the first two.

Every connection and message is logged as one JSON line to --log:
  {"conn": N, "kind": "open", "path", "headers", "extensions", "mode"}
  {"conn": N, "kind": "in", "type", "bytes", "binary", "text"}
                                            a client message (text: its
                                            first 256 Ki characters)
  {"conn": N, "kind": "answer", "api", "id", "text", "usage", "status",
   "tool_calls", "audio_b64": [...], "audio_msg_bytes"}
                                            what a response sent (audio:
                                            the base64 of each audio delta,
                                            the bytes of those messages)

Usage:
  ws_server.py --cert C --key K --log FILE --listen ADDR:PORT:MODE [...]
MODE is the permessage-deflate offer the listener accepts: "deflate"
(websockets' default, window bits 12), "nocontext" (deflate with
server_no_context_takeover and client_no_context_takeover) or "plain"
(no extension).  Prints "READY {json}" once every listener is bound (port
0 replaced by the kernel's choice); exits 3 when one cannot be bound.
SIGTERM stops it; so does the death of its parent with --exit-with-parent.
"""
import asyncio
import base64
import hashlib
import itertools
import json
import os
import signal
import sys
from urllib.parse import parse_qs, urlsplit

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_model as fm  # noqa: E402
import fixture_server  # noqa: E402

FIRST_TOKEN_DELAY = 0.030   # seconds before the first output of a response
DELTA_DELAY = 0.002         # between deltas
FAIL_MODEL = "fail-model"
AUDIO_CHUNK = 2400          # PCM bytes per response.output_audio.delta (50 ms)
REALTIME_INSTRUCTIONS = ("Your knowledge cutoff is 2023-10. You are a helpful, witty, "
                         "and friendly AI.")
MODES = ("deflate", "nocontext", "plain")
LOG_TEXT = 1 << 18          # characters of a client message logged

_ids = itertools.count(1)
_conns = itertools.count(1)


def next_id(prefix):
    return "%s%06d" % (prefix, next(_ids))


def audio_chunk(seed, i):
    """AUDIO_CHUNK bytes that look like noise, different for every chunk."""
    out = b""
    n = 0
    while len(out) < AUDIO_CHUNK:
        out += hashlib.sha256(b"%s/%d/%d" % (seed.encode(), i, n)).digest()
        n += 1
    return out[:AUDIO_CHUNK]


def last_user_text(items):
    for it in reversed(items):
        if it.get("type") == "message" and it.get("role") == "user":
            texts = [c.get("text") for c in it.get("content") or []
                     if c.get("type") in ("input_text", "text") and c.get("text")]
            if texts:
                return "\n".join(texts)
    return ""


class Conn:
    """One client connection: its socket, log and counter of events."""

    def __init__(self, server, ws):
        self.server = server
        self.ws = ws
        self.id = next(_conns)
        self.seq = 0

    def log(self, **rec):
        rec["conn"] = self.id
        with open(self.server.log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    async def send(self, obj, fragment=False):
        """One event, as a text message; @fragment: as three frames with a
        ping after the first."""
        data = json.dumps(obj)
        if not fragment:
            await self.ws.send(data)
            return
        n = max(1, len(data) // 3)

        async def pieces():
            yield data[:n]
            await self.ws.ping(b"mid-message")
            yield data[n:2 * n]
            yield data[2 * n:]
        await self.ws.send(pieces())

    async def deltas(self, events):
        """Sends @events (pairs (event, fragment)), waiting before the
        model's first output (its first output item or delta) as a model
        would, between deltas, and pinging once after the first delta."""
        waited = pinged = False
        for ev, fragment in events:
            t = ev["type"]
            if not waited and (t == "response.output_item.added" or t.endswith(".delta")):
                await asyncio.sleep(FIRST_TOKEN_DELAY)
                waited = True
            elif t.endswith(".delta"):
                await asyncio.sleep(DELTA_DELAY)
            await self.send(ev, fragment)
            if t.endswith(".delta") and not pinged:
                await self.ws.ping(b"after-first-delta")
                pinged = True

    async def messages(self):
        """The client's messages, logged: (the message, str or bytes; its
        JSON, or None)."""
        async for raw in self.ws:
            binary = isinstance(raw, bytes)
            typ = None
            obj = None
            if not binary:
                try:
                    obj = json.loads(raw)
                    typ = obj.get("type") if isinstance(obj, dict) else None
                except ValueError:
                    pass
            self.log(kind="in", type=typ, binary=binary,
                     bytes=len(raw) if binary else len(raw.encode()),
                     text=None if binary else raw[:LOG_TEXT])
            yield raw, obj


# ---------------------------------------------------------------------------
# Responses API in WebSocket mode

def responses_error(req):
    err = fm.openai_error_body(req.get("model"))["error"]
    return [({"type": "error", "status": 400, "error": err}, False)]


def responses_failed(req, rid):
    err = {"code": "server_error", "message": "The model failed to generate a response."}
    return [({"type": "response.created",
              "response": fm.responses_object(req, rid, "in_progress", [], None)}, False),
            ({"type": "response.in_progress",
              "response": fm.responses_object(req, rid, "in_progress", [], None)}, False),
            ({"type": "response.failed",
              "response": fm.responses_object(req, rid, "failed", [], None, error=err)}, False)]


def responses_prewarm(req, rid):
    """A request with "generate": false (Codex's prewarm, which only
    loads the context): a response with no output, as OpenAI sends."""
    usage = {"input_tokens": 0, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": 0, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": 0}
    return [({"type": "response.created",
              "response": fm.responses_object(req, rid, "in_progress", [], None)}, False),
            ({"type": "response.completed",
              "response": fm.responses_object(req, rid, "completed", [], usage)}, False)]


def responses_tool_call(req, rid, fragment):
    """A streamed function_call of the first tool; returns (events, call)."""
    a = fm.responses_answer(req)
    tool = req["tools"][0]
    text = fm.content_text((req["input"][-1] if isinstance(req["input"], list)
                            else {"content": req["input"]}).get("content"))
    args = json.dumps({"text": text})
    fid, cid = next_id("fc_fx"), next_id("call_fx")
    item = {"type": "function_call", "id": fid, "call_id": cid, "name": tool["name"],
            "arguments": "", "status": "in_progress"}
    usage = fm.responses_usage(a._replace(completion_tokens=fm.words(args)))
    done = dict(item, arguments=args, status="completed")
    evs = [{"type": "response.created",
            "response": fm.responses_object(req, rid, "in_progress", [], None)},
           {"type": "response.in_progress",
            "response": fm.responses_object(req, rid, "in_progress", [], None)},
           {"type": "response.output_item.added", "output_index": 0, "item": item}]
    for piece in fm.split_deltas(args):
        evs.append({"type": "response.function_call_arguments.delta", "item_id": fid,
                    "output_index": 0, "delta": piece})
    evs += [{"type": "response.function_call_arguments.done", "item_id": fid,
             "output_index": 0, "arguments": args},
            {"type": "response.output_item.done", "output_index": 0, "item": done},
            {"type": "response.completed",
             "response": fm.responses_object(req, rid, "completed", [done], usage)}]
    return [(e, fragment and e["type"] == "response.completed") for e in evs], done


def tool_output(req):
    """The output of a function_call_output that ends the input, if one
    does (the turn after a tool call)."""
    inp = req.get("input")
    if isinstance(inp, list) and inp and inp[-1].get("type") == "function_call_output":
        return inp[-1].get("output")
    return None


async def responses_api(conn):
    async for _, req in conn.messages():
        if not isinstance(req, dict) or req.get("type") != "response.create":
            await conn.send({"type": "error", "status": 400, "error": {
                "type": "invalid_request_error", "code": "unknown_event_type",
                "message": "Unsupported event type", "param": "type"}})
            continue
        rid, mid = next_id("resp_fx"), next_id("msg_fx")
        fragment = (req.get("metadata") or {}).get("oisp_test_fragment") == "1"
        answer = {"api": "responses", "id": rid, "tool_calls": []}
        if req.get("model") == fm.BAD_MODEL:
            evs = responses_error(req)
            answer.update(status="error", text=None, usage=None, error=evs[0][0]["error"])
        elif req.get("generate") is False:
            evs = responses_prewarm(req, rid)
            answer.update(status="completed", text=None, usage=evs[-1][0]["response"]["usage"])
        elif req.get("model") == FAIL_MODEL:
            evs = responses_failed(req, rid)
            answer.update(status="failed", text=None, usage=None)
        elif req.get("tools") and not tool_output(req):
            evs, call = responses_tool_call(req, rid, fragment)
            answer.update(status="completed", text=None, tool_calls=[call],
                          usage=evs[-1][0]["response"]["usage"])
        else:
            # after a tool call, the answer echoes the tool's output
            out = tool_output(req)
            said = dict(req, input=[{"role": "user", "content": out}]) if out else req
            evs = [(e, fragment and e["type"].startswith("response.")
                    and "response" in e and e["response"]["status"] != "in_progress")
                   for e in fm.responses_events(said, rid, mid)]
            last = evs[-1][0]["response"]
            answer.update(status=last["status"], text=last["output"][0]["content"][0]["text"],
                          usage=last["usage"])
        for ev, _ in evs:
            if ev["type"] != "error":
                ev["sequence_number"] = conn.seq
                conn.seq += 1
        await conn.deltas(evs)
        conn.log(kind="answer", **answer)


# ---------------------------------------------------------------------------
# Realtime API

class Realtime:
    """A Realtime session: its configuration and conversation."""

    def __init__(self, conn, model):
        self.conn = conn
        self.session = {
            "type": "realtime", "object": "realtime.session", "id": next_id("sess_fx"),
            "model": model, "output_modalities": ["audio"],
            "instructions": REALTIME_INSTRUCTIONS, "tools": [], "tool_choice": "auto",
            "max_output_tokens": "inf", "tracing": None, "prompt": None,
            "expires_at": 1700003600, "include": None,
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000},
                                "transcription": None, "noise_reduction": None,
                                "turn_detection": None},
                      "output": {"format": {"type": "audio/pcm", "rate": 24000},
                                 "voice": "marin", "speed": 1.0}}}
        self.items = []
        self.audio_in = 0           # input audio bytes appended, not yet committed
        self.audio_in_total = 0

    async def event(self, obj, fragment=False):
        obj["event_id"] = next_id("event_fx")
        await self.conn.send(obj, fragment)

    def add_item(self, item):
        """Adds @item to the conversation; the audio of input_audio parts is
        counted and, as the API does, not sent back."""
        content = []
        for c in item.get("content") or []:
            if c.get("type") == "input_audio" and "audio" in c:
                self.audio_in_total += len(base64.b64decode(c["audio"]))
                c = dict((k, v) for k, v in c.items() if k != "audio")
                c.setdefault("transcript", None)
            content.append(c)
        item = dict(item, id=item.get("id") or next_id("item_fx"), object="realtime.item",
                    status="completed", content=content)
        prev = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        return item, prev

    async def item_added(self, item, prev):
        await self.event({"type": "conversation.item.added", "previous_item_id": prev,
                          "item": item})
        await self.event({"type": "conversation.item.done", "previous_item_id": prev,
                          "item": item})

    def usage(self, reply, audio_out_chunks):
        texts = [self.session.get("instructions") or ""]
        for it in self.items:
            for c in it.get("content") or []:
                texts.append(c.get("text") or c.get("transcript") or "")
        text_in = sum(fm.words(t) for t in texts)
        audio_in = self.audio_in_total // 480          # a token per 10 ms of 24 kHz PCM16
        text_out = fm.words(reply)
        audio_out = audio_out_chunks * 5
        return {"total_tokens": text_in + audio_in + text_out + audio_out,
                "input_tokens": text_in + audio_in, "output_tokens": text_out + audio_out,
                "input_token_details": {"text_tokens": text_in, "audio_tokens": audio_in,
                                        "image_tokens": 0, "cached_tokens": 0,
                                        "cached_tokens_details": {"text_tokens": 0,
                                                                  "audio_tokens": 0,
                                                                  "image_tokens": 0}},
                "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out}}

    def response_obj(self, rid, status, output, usage, modalities, metadata):
        return {"object": "realtime.response", "id": rid, "status": status,
                "status_details": None, "output": output, "conversation_id": "conv_fx",
                "output_modalities": modalities, "max_output_tokens": "inf",
                "audio": {"output": self.session["audio"]["output"]},
                "usage": usage, "metadata": metadata}

    async def fail(self, rid, modalities, metadata):
        """response.created, then response.done with status failed."""
        err = {"type": "server_error", "code": "internal_error",
               "message": "The server had an error while processing your request."}
        await self.event({"type": "response.created",
                          "response": self.response_obj(rid, "in_progress", [], None,
                                                        modalities, metadata)})
        done = self.response_obj(rid, "failed", [], None, modalities, metadata)
        done["status_details"] = {"type": "failed", "error": err}
        await self.event({"type": "response.done", "response": done})
        self.conn.log(kind="answer", api="realtime", id=rid, status="failed", text=None,
                      usage=None, tool_calls=[], error=err, audio_b64=[], audio_msg_bytes=0)

    async def call_tool(self, rid, modalities, metadata):
        """A function_call of the session's first tool, arguments
        {"text": <last user text>}, streamed."""
        iid, cid = next_id("item_fx"), next_id("call_fx")
        args = json.dumps({"text": last_user_text(self.items)})
        item = {"id": iid, "object": "realtime.item", "type": "function_call",
                "status": "in_progress", "name": self.session["tools"][0]["name"],
                "call_id": cid, "arguments": ""}
        at = {"response_id": rid, "item_id": iid, "output_index": 0, "call_id": cid}
        await self.event({"type": "response.created",
                          "response": self.response_obj(rid, "in_progress", [], None,
                                                        modalities, metadata)})
        evs = [{"type": "response.output_item.added", "response_id": rid, "output_index": 0,
                "item": item}]
        evs += [dict(at, type="response.function_call_arguments.delta", delta=piece)
                for piece in fm.split_deltas(args)]
        for ev in evs:
            ev["event_id"] = next_id("event_fx")
        await self.conn.deltas([(e, False) for e in evs])
        await self.event(dict(at, type="response.function_call_arguments.done", arguments=args))
        done = dict(item, status="completed", arguments=args)
        await self.event({"type": "response.output_item.done", "response_id": rid,
                          "output_index": 0, "item": done})
        usage = self.usage(args, 0)
        self.items.append(done)
        await self.event({"type": "response.done", "response": self.response_obj(
            rid, "completed", [done], usage, modalities, metadata)})
        self.conn.log(kind="answer", api="realtime", id=rid, status="completed", text=None,
                      usage=usage, tool_calls=[done], audio_b64=[], audio_msg_bytes=0)

    async def respond(self, params):
        rid, iid = next_id("resp_fx"), next_id("item_fx")
        metadata = params.get("metadata")
        modalities = params.get("output_modalities") or self.session["output_modalities"]
        if (metadata or {}).get("oisp_test_fail") == "1":
            return await self.fail(rid, modalities, metadata)
        if self.session.get("tools"):
            return await self.call_tool(rid, modalities, metadata)
        fragment = (metadata or {}).get("oisp_test_fragment") == "1"
        audio = "audio" in modalities
        reply = "Echo: " + last_user_text(self.items)
        pieces = fm.split_deltas(reply)
        ctype = "output_audio" if audio else "output_text"
        ptype = "audio" if audio else "text"
        key = "transcript" if audio else "text"
        at = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
        await self.event({"type": "response.created",
                          "response": self.response_obj(rid, "in_progress", [], None,
                                                        modalities, metadata)})
        item = {"id": iid, "object": "realtime.item", "type": "message", "status": "in_progress",
                "role": "assistant", "content": []}
        await self.event({"type": "response.output_item.added", "response_id": rid,
                          "output_index": 0, "item": item})
        await self.event({"type": "conversation.item.added",
                          "previous_item_id": self.items[-1]["id"] if self.items else None,
                          "item": item})
        await self.event(dict(at, type="response.content_part.added",
                              part={"type": ptype, key: ""}))
        evs, b64 = [], []
        for i, piece in enumerate(pieces):
            if audio:
                evs.append(dict(at, type="response.output_audio_transcript.delta", delta=piece))
                b64.append(base64.b64encode(audio_chunk(rid, i)).decode())
                evs.append(dict(at, type="response.output_audio.delta", delta=b64[-1]))
            else:
                evs.append(dict(at, type="response.output_text.delta", delta=piece))
        for ev in evs:
            ev["event_id"] = next_id("event_fx")
        await self.conn.deltas([(e, False) for e in evs])
        if audio:
            await self.event(dict(at, type="response.output_audio.done"))
            await self.event(dict(at, type="response.output_audio_transcript.done",
                                  transcript=reply))
        else:
            await self.event(dict(at, type="response.output_text.done", text=reply))
        await self.event(dict(at, type="response.content_part.done",
                              part={"type": ptype, key: reply}))
        done = dict(item, status="completed", content=[{"type": ctype, key: reply}])
        await self.event({"type": "response.output_item.done", "response_id": rid,
                          "output_index": 0, "item": done})
        usage = self.usage(reply, len(b64))
        self.items.append(done)
        await self.event({"type": "response.done", "response": self.response_obj(
            rid, "completed", [done], usage, modalities, metadata)}, fragment)
        await self.event({"type": "rate_limits.updated", "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 400000, "remaining": 400000 - usage["total_tokens"],
             "reset_seconds": 0.3}]})
        self.conn.log(kind="answer", api="realtime", id=rid, status="completed",
                      text=reply, usage=usage, tool_calls=[], audio_b64=b64,
                      audio_msg_bytes=sum(len(json.dumps(e)) for e in evs
                                          if e["type"] == "response.output_audio.delta"))

    async def run(self):
        await self.event({"type": "session.created", "session": self.session})
        async for _, ev in self.conn.messages():
            t = ev.get("type") if isinstance(ev, dict) else None
            if t == "session.update":
                for k, v in (ev.get("session") or {}).items():
                    if k != "type":
                        self.session[k] = v
                await self.event({"type": "session.updated", "session": self.session})
            elif t == "conversation.item.create":
                await self.item_added(*self.add_item(ev["item"]))
            elif t == "input_audio_buffer.append":
                self.audio_in += len(base64.b64decode(ev["audio"]))
            elif t == "input_audio_buffer.commit":
                self.audio_in_total += self.audio_in
                self.audio_in = 0
                item, prev = self.add_item({"type": "message", "role": "user", "content": [
                    {"type": "input_audio", "transcript": None}]})
                await self.event({"type": "input_audio_buffer.committed",
                                  "previous_item_id": prev, "item_id": item["id"]})
                await self.item_added(item, prev)
            elif t == "response.create":
                await self.respond(ev.get("response") or {})
            else:
                await self.event({"type": "error", "error": {
                    "type": "invalid_request_error", "code": "unknown_event",
                    "message": "Unknown event type", "param": None,
                    "event_id": (ev or {}).get("event_id") if isinstance(ev, dict) else None}})


# ---------------------------------------------------------------------------

async def echo(conn):
    async for raw, _ in conn.messages():
        await conn.ws.send(raw)


class Listener:
    def __init__(self, spec, ctx, log_path):
        addr, port, mode = spec.rsplit(":", 2)
        if mode not in MODES:
            raise SystemExit("unknown mode %r (%s)" % (mode, ", ".join(MODES)))
        self.host, self.port, self.mode = addr.strip("[]"), int(port), mode
        self.ctx = ctx
        self.log_path = log_path

    async def start(self):
        kw = {"compression": "deflate" if self.mode == "deflate" else None}
        if self.mode == "nocontext":
            kw["extensions"] = [ServerPerMessageDeflateFactory(
                server_no_context_takeover=True, client_no_context_takeover=True)]
        self.server = await websockets.serve(
            self.handler, self.host, self.port, ssl=self.ctx, max_size=None,
            process_request=self.check_request, **kw)
        self.port = self.server.sockets[0].getsockname()[1]
        return "%s:%d:%s" % (self.host, self.port, self.mode)

    async def check_request(self, path, headers):
        """The API refuses an upgrade without a key, as OpenAI does."""
        if urlsplit(path).path.startswith("/v1/") and "authorization" not in headers:
            body = json.dumps({"error": {"message": "Missing bearer authentication",
                                         "type": "invalid_request_error"}}).encode()
            return 401, [("Content-Type", "application/json")], body
        return None

    async def handler(self, ws):
        conn = Conn(self, ws)
        url = urlsplit(ws.path)
        conn.log(kind="open", path=ws.path, mode=self.mode,
                 headers=[[k, v] for k, v in ws.request_headers.raw_items()],
                 extensions=ws.response_headers.get("Sec-WebSocket-Extensions"))
        try:
            if url.path == "/v1/responses":
                await responses_api(conn)
            elif url.path == "/v1/realtime":
                model = (parse_qs(url.query).get("model") or ["gpt-realtime"])[0]
                await Realtime(conn, model).run()
            else:
                await echo(conn)
        except websockets.ConnectionClosed:
            pass
        conn.log(kind="close", code=ws.close_code)


async def amain(args, ctx):
    bound = []
    for spec in args.listen:
        try:
            bound.append(await Listener(spec, ctx, args.log).start())
        except OSError as e:
            print("cannot listen on %s: %s" % (spec, e), file=sys.stderr, flush=True)
            sys.exit(3)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("READY " + json.dumps({"pid": os.getpid(), "listen": bound}), flush=True)
    parent = os.getppid()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            if args.exit_with_parent and os.getppid() != parent:
                break   # the test runner died: do not linger


def main():
    asyncio.run(amain(*fixture_server.parse_args()))


if __name__ == "__main__":
    main()
