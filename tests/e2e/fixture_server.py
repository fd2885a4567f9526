#!/usr/bin/python3
"""Loopback HTTPS server that imitates the OpenAI, Anthropic and Gemini APIs.

Debian's python3 standard library plus python3-brotli.  HTTP/1.1 with
keep-alive; Content-Length or chunked responses; SSE streams.

Everything it answers is deterministic and derivable from the request
(see fixture_model.py, which the tests import to compute expectations):
  reply text      "Echo: <text of the last user message>" (Gemini: of the
                  last text part of the last user turn)
  prompt tokens   number of whitespace-separated words in the system
                  prompt/instructions and all message texts
  completion      words in the reply (cut to max_tokens words when that is
                  smaller, with finish reason length / max_tokens)

Test switches (request header or query parameter):
  x-test-encoding: gzip|br   or ?enc=gzip|br   compress the response when
                             the client's Accept-Encoding allows it
  x-test-chunked: 1          or ?chunked=1     chunked non-stream response
  x-test-slow-read: S                          wait S seconds before reading
                                               the request body (the client's
                                               writes then block)
  x-test-delta-delay: S                        S seconds (at most 1) between
                                               streamed text events
  x-test-end-delay: S                          S seconds (at most 2) between
                                               a stream's last event and its
                                               end (the last chunk)
  model "bad-model"                            400 with the provider's error body

Usage:
  fixture_server.py --cert C --key K --log FILE --listen ADDR:PORT [...]
Prints one line "READY {json}" on stdout once every listener is bound
(port 0 is replaced by the port the kernel chose).  Exits 3 when a
listener cannot be bound.  SIGTERM stops it; so does the death of its
parent with --exit-with-parent.
"""
import argparse
import base64
import functools
import gzip
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

import brotli

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_model as fm  # noqa: E402

FIRST_TOKEN_DELAY = 0.030   # seconds before the first streamed text
NONSTREAM_DELAY = 0.020     # seconds before a non-stream answer
DELTA_DELAY = 0.002         # between streamed text events
BODY_LOG_MAX = 4 << 20      # bytes of a request body the log keeps whole

_log_lock = threading.Lock()
_counter_lock = threading.Lock()
_counter = [0]


def next_id(prefix):
    with _counter_lock:
        _counter[0] += 1
        return "%s%06d" % (prefix, _counter[0])


class Encoder:
    """Streaming Content-Encoding: process() returns bytes that can be sent
    now (each piece flushed so a client can decode it at once)."""

    def __init__(self, name):
        self.name = name
        if name == "gzip":
            self.z = zlib.compressobj(6, zlib.DEFLATED, 31)
        elif name == "br":
            self.z = brotli.Compressor()
        else:
            self.z = None

    def process(self, data):
        if self.z is None:
            return data
        if self.name == "gzip":
            return self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH)
        return self.z.process(data) + self.z.flush()

    def finish(self):
        if self.z is None:
            return b""
        if self.name == "gzip":
            return self.z.flush(zlib.Z_FINISH)
        return self.z.finish()


def compress_all(name, data):
    if name == "gzip":
        return gzip.compress(data, mtime=0)
    if name == "br":
        return brotli.compress(data)
    return data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oisp-fixture/1"
    sys_version = ""
    # Idle keep-alive connections are kept for the whole session: the
    # "client started before the sensor" holds one across other tests.
    timeout = 900

    # -- plumbing -------------------------------------------------------
    def setup(self):
        super().setup()
        self._log_extra = {}

    def log_message(self, fmt, *args):  # quiet; the JSONL log is enough
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ssl.SSLError, ConnectionError, socket.timeout, BrokenPipeError):
            self.close_connection = True

    def read_body(self):
        slow = float(self.headers.get("x-test-slow-read") or 0)
        if slow > 0:
            time.sleep(min(slow, 5))
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            self._log_extra["request_chunked"] = True
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline(3)
            return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def record(self, status, body, **extra):
        rec = {
            "ts": time.time(),
            "server_pid": os.getpid(),
            "client": "%s:%s" % self.client_address[:2],
            "listener": "%s:%s" % self.server.server_address[:2],
            "method": self.command,
            "path": self.path,
            "request_version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": len(body),
            "body_head": body[:2000].decode("utf-8", "replace"),
            "body": body[:BODY_LOG_MAX].decode("utf-8", "replace"),
            "status": status,
        }
        rec.update(self._log_extra)
        rec.update(extra)
        with _log_lock:
            with open(self.server.log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")

    def test_options(self):
        q = parse_qs(urlsplit(self.path).query)
        enc = (self.headers.get("x-test-encoding") or (q.get("enc") or [""])[0]).lower()
        accepted = [a.split(";")[0].strip().lower()
                    for a in (self.headers.get("Accept-Encoding") or "").split(",")]
        if enc not in ("gzip", "br") or enc not in accepted:
            enc = ""
        chunked = (self.headers.get("x-test-chunked") or (q.get("chunked") or [""])[0]) == "1"
        return enc, chunked

    def send_body(self, status, ctype, body, extra_headers=()):
        enc, chunked = self.test_options()
        data = compress_all(enc, body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if enc:
            self.send_header("Content-Encoding", enc)
            self.send_header("Vary", "Accept-Encoding")
        for k, v in extra_headers:
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = max(1, len(data) // 2)
            for piece in (data[:half], data[half:]):
                if piece:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        self.wfile.flush()
        self._log_extra.update(resp_encoding=enc, resp_chunked=chunked,
                               resp_body_len=len(data))

    def send_json(self, status, obj, extra_headers=()):
        self.send_body(status, "application/json", json.dumps(obj).encode(), extra_headers)

    def start_stream(self, extra_headers=()):
        enc, _ = self.test_options()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if enc:
            self.send_header("Content-Encoding", enc)
        for k, v in extra_headers:
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        self._enc = Encoder(enc)
        self._log_extra.update(resp_encoding=enc, resp_chunked=True, stream=True)

    def stream_raw(self, data):
        piece = self._enc.process(data)
        if piece:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()

    def sse(self, obj, event=None):
        head = ("event: %s\n" % event) if event else ""
        self.stream_raw((head + "data: " + json.dumps(obj) + "\n\n").encode())

    def end_stream(self):
        piece = self._enc.finish()
        if piece:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.flush()
        time.sleep(min(float(self.headers.get("x-test-end-delay") or 0), 2.0))
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client went at the last event: still logged.
            self.close_connection = True

    # -- routing --------------------------------------------------------
    def do_GET(self):
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self.send_body(200, "text/html; charset=utf-8", fm.INDEX_HTML)
            self.record(200, b"")
        else:
            self.send_json(404, {"error": "not found"})
            self.record(404, b"")

    def do_POST(self):
        body = self.read_body()
        path = urlsplit(self.path).path
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            req = None
        routes = {
            "/v1/chat/completions": self.chat,
            "/v1/responses": self.oa_responses,
            "/v1/embeddings": self.embeddings,
            "/v1/messages": self.messages,
            "/api/login": self.login,
        }
        fn = routes.get(path)
        m = fm.GEMINI_PATH.match(path)
        if m:
            fn = functools.partial(self.gemini, model=m.group(1),
                                   stream=m.group(2) == "streamGenerateContent")
        if fn is None:
            self.send_json(404, {"error": {"message": "no route", "type": "not_found"}})
            status = 404
        elif req is None or not isinstance(req, dict):
            self.send_json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
            status = 400
        else:
            status = fn(req)
        self.record(status, body)

    # -- non-AI ---------------------------------------------------------
    def login(self, req):
        self.send_json(200, {"ok": True, "user": req.get("user"), "token": "tok-123"})
        return 200

    # -- OpenAI ---------------------------------------------------------
    def openai_error(self):
        self.send_json(400, fm.openai_error_body(), [("x-request-id", next_id("req_"))])
        return 400

    def chat(self, req):
        if req.get("model") == fm.BAD_MODEL:
            return self.openai_error()
        a = fm.chat_answer(req)
        cid = next_id("chatcmpl-fx")
        created = 1700000000
        model = fm.openai_response_model(req.get("model"))
        if not req.get("stream"):
            time.sleep(NONSTREAM_DELAY)
            self.send_json(200, {
                "id": cid, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": a.text,
                                                     "refusal": None},
                             "logprobs": None, "finish_reason": a.openai_finish}],
                "usage": {"prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens,
                          "total_tokens": a.prompt_tokens + a.completion_tokens,
                          "prompt_tokens_details": {"cached_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0}},
                "system_fingerprint": "fp_fixture"}, [("x-request-id", next_id("req_"))])
            return 200
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        self.start_stream([("x-request-id", next_id("req_"))])

        def chunk(delta, finish=None, usage=None, choices=True):
            c = {"id": cid, "object": "chat.completion.chunk", "created": created,
                 "model": model, "system_fingerprint": "fp_fixture",
                 "choices": [{"index": 0, "delta": delta, "logprobs": None,
                              "finish_reason": finish}] if choices else []}
            if include_usage:
                c["usage"] = usage
            return c

        self.sse(chunk({"role": "assistant", "content": "", "refusal": None}))
        time.sleep(FIRST_TOKEN_DELAY)
        delay = min(float(self.headers.get("x-test-delta-delay") or DELTA_DELAY), 1.0)
        for i, piece in enumerate(fm.split_deltas(a.text)):
            if i:
                time.sleep(delay)
            self.sse(chunk({"content": piece}))
        self.sse(chunk({}, a.openai_finish))
        if include_usage:
            self.sse(chunk(None, usage={
                "prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens,
                "total_tokens": a.prompt_tokens + a.completion_tokens}, choices=False))
        self.stream_raw(b"data: [DONE]\n\n")
        self.end_stream()
        return 200

    def oa_responses(self, req):
        if req.get("model") == fm.BAD_MODEL:
            return self.openai_error()
        rid = next_id("resp_fx")
        mid = next_id("msg_fx")
        if not req.get("stream"):
            a = fm.responses_answer(req)
            truncated = a.openai_finish == "length"
            final = "incomplete" if truncated else "completed"
            time.sleep(NONSTREAM_DELAY)
            self.send_json(200, fm.responses_object(
                req, rid, final, [fm.responses_message_item(a, mid, final)],
                fm.responses_usage(a), truncated), [("x-request-id", next_id("req_"))])
            return 200
        self.start_stream([("x-request-id", next_id("req_"))])
        deltas = 0
        for seq, obj in enumerate(fm.responses_events(req, rid, mid)):
            if obj["type"] == "response.output_text.delta":
                time.sleep(DELTA_DELAY if deltas else FIRST_TOKEN_DELAY)
                deltas += 1
            obj["sequence_number"] = seq
            self.sse(obj, obj["type"])
        self.end_stream()
        return 200

    def embeddings(self, req):
        if req.get("model") == fm.BAD_MODEL:
            return self.openai_error()
        inputs = req.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        data = []
        for i, text in enumerate(inputs or []):
            vec = fm.embedding_vector(text)
            if req.get("encoding_format") == "base64":
                emb = base64.b64encode(struct.pack("<%df" % len(vec), *vec)).decode()
            else:
                emb = vec
            data.append({"object": "embedding", "index": i, "embedding": emb})
        n = sum(fm.words(t) for t in inputs or [] if isinstance(t, str))
        time.sleep(NONSTREAM_DELAY)
        self.send_json(200, {"object": "list", "data": data, "model": req.get("model"),
                             "usage": {"prompt_tokens": n, "total_tokens": n}},
                       [("x-request-id", next_id("req_"))])
        return 200

    # -- Anthropic ------------------------------------------------------
    def messages(self, req):
        if req.get("model") == fm.BAD_MODEL:
            self.send_json(400, fm.anthropic_error_body(), [("request-id", next_id("req_"))])
            return 400
        a = fm.messages_answer(req)
        mid = next_id("msg_fx")
        model = req.get("model")
        hdrs = [("request-id", next_id("req_")), ("anthropic-organization-id", "org-fixture")]
        if not req.get("stream"):
            time.sleep(NONSTREAM_DELAY)
            self.send_json(200, {
                "id": mid, "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": a.text}],
                "stop_reason": a.anthropic_finish, "stop_sequence": None,
                "usage": {"input_tokens": a.prompt_tokens, "output_tokens": a.completion_tokens,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}, hdrs)
            return 200
        self.start_stream(hdrs)
        # Like the real API: message_start carries output_tokens 1, the
        # final count comes in message_delta.
        self.sse({"type": "message_start", "message": {
            "id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": a.prompt_tokens, "output_tokens": 1,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}},
            "message_start")
        self.sse({"type": "content_block_start", "index": 0,
                  "content_block": {"type": "text", "text": ""}}, "content_block_start")
        self.sse({"type": "ping"}, "ping")
        time.sleep(FIRST_TOKEN_DELAY)
        for i, piece in enumerate(fm.split_deltas(a.text)):
            if i:
                time.sleep(DELTA_DELAY)
            self.sse({"type": "content_block_delta", "index": 0,
                      "delta": {"type": "text_delta", "text": piece}}, "content_block_delta")
        self.sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        self.sse({"type": "message_delta",
                  "delta": {"stop_reason": a.anthropic_finish, "stop_sequence": None},
                  "usage": {"output_tokens": a.completion_tokens}}, "message_delta")
        self.sse({"type": "message_stop"}, "message_stop")
        self.end_stream()
        return 200

    # -- Gemini ---------------------------------------------------------
    def gemini(self, req, model, stream):
        """generateContent and streamGenerateContent (?alt=sse) of the
        Gemini API (https://ai.google.dev/api/generate-content): one
        candidate, its text in parts, usage in usageMetadata; a stream's
        chunks are GenerateContentResponses, the last with the
        finishReason and the whole usage."""
        if model == fm.BAD_MODEL:
            self.send_json(400, {"error": {"code": 400, "message": "model not found",
                                           "status": "INVALID_ARGUMENT"}})
            return 400
        a = fm.gemini_answer(req)
        rid = next_id("gfx")

        def chunk(text, final):
            cand = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
            usage = {"promptTokenCount": a.prompt_tokens, "totalTokenCount": a.prompt_tokens}
            if final:
                cand["finishReason"] = fm.gemini_finish(a)
                usage = {"promptTokenCount": a.prompt_tokens,
                         "candidatesTokenCount": a.completion_tokens,
                         "totalTokenCount": a.prompt_tokens + a.completion_tokens}
            return {"candidates": [cand], "usageMetadata": usage, "modelVersion": model,
                    "responseId": rid}

        if not stream:
            time.sleep(NONSTREAM_DELAY)
            self.send_json(200, chunk(a.text, True))
            return 200
        self.start_stream()
        pieces = fm.split_deltas(a.text)
        time.sleep(FIRST_TOKEN_DELAY)
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(DELTA_DELAY)
            self.sse(chunk(piece, i == len(pieces) - 1))
        self.end_stream()
        return 200


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # listen() backlog: the Go stress test opens 1000 connections at
    # once, and the accepting thread gets the GIL seldom among hundreds
    # of handler threads.  With 64, connections left out of a full
    # accept queue long enough that the kernel gave up on them were
    # reset (a CI run, 2026-12-06, without the sensor).
    request_queue_size = 1024

    def __init__(self, addr, ctx, log_path):
        self.ctx = ctx
        self.log_path = log_path
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(30)
        # The handshake happens in the handler's thread, on first read.
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, socket.timeout)):
            return  # clients that hang up are not our problem
        traceback.print_exc()   # to the server's stderr file


def parse_listen(spec):
    host, _, port = spec.rpartition(":")
    return host.strip("[]"), int(port)


def parse_args():
    """The command line of the stand-in servers (this one, ws_server.py)
    and their TLS context: (args, ssl context offering http/1.1)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--listen", action="append", required=True)
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="exit when the process that started it goes away")
    args = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])
    return args, ctx


def main():
    args, ctx = parse_args()
    servers = []
    for spec in args.listen:
        try:
            servers.append(TLSServer(parse_listen(spec), ctx, args.log))
        except OSError as e:
            print("cannot listen on %s: %s" % (spec, e), file=sys.stderr, flush=True)
            sys.exit(3)
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    bound = ["%s:%d" % s.server_address[:2] for s in servers]
    print("READY " + json.dumps({"pid": os.getpid(), "listen": bound}), flush=True)
    parent = os.getppid()
    while not stop.wait(1.0):
        if args.exit_with_parent and os.getppid() != parent:
            break   # the test runner died: do not linger
    for s in servers:
        s.shutdown()
        s.server_close()


if __name__ == "__main__":
    main()
