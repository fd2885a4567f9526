#!/usr/bin/python3
"""Capture files of typical traffic for the replay throughput benchmark.

Writes files in the format of sensor/capture/recfile.h (records laid out as in
bpf/capture_abi.h), as `oisp-sensor record` would have written them:

  ai-json    OpenAI chat completions, JSON request and JSON response
  ai-sse     the same with "stream": true: an SSE reply in chunked
             transfer encoding, one SSL_read per delta event
  ai-gzip    non-streamed, the response gzip-compressed
  ai-mix     the three above in equal shares (what a host typically sees)
  ws-responses  OpenAI Responses over WebSocket (the Codex CLI): per
             connection one upgrade and 101, then response.create
             messages (masked) each answered by a stream of response
             events, one SSL_read per server message; half the
             connections negotiate permessage-deflate (without context
             takeover, so the pool's messages can be reused anywhere)
  ws-plain   the same, no connection compressed
  ws-deflate the same, every connection compressed
  nonai      plain HTTPS downloads (GET, 1 MiB application/octet-stream
             bodies) on a host no rule knows: only passed through
  h2-json    the ai-json calls over HTTP/2 (RFC 9113)
  h2-sse     the ai-sse calls over HTTP/2, one DATA frame per event
  h2-mix     a third of each of json, sse and gzip over HTTP/2

Many keep-alive connections (SSL* values) in several processes, the
exchanges interleaved across them.  Writes are one SSL_write for headers
and one for the body (as Python's http.client does); reads return at most
one TLS record (16 KiB) per call, as OpenSSL does.

An HTTP/2 connection is written as an h2 client (the OpenAI SDK over httpx
with http2=True) and its server would: the preface, SETTINGS both ways and
their ACKs, then batches of 2 to 6 calls sent at once as streams of the
connection, their responses' frames interleaved round-robin, a connection
WINDOW_UPDATE after each batch, then SSL_free.  Header blocks are HPACK
(python3-hpack, the h2 library's encoder) with a dynamic table per
direction, so repeated fields are indexed and the per-call ones
(x-request-id, cf-ray, content-length...) churn it; authorization is
never indexed, as h2 does.  64 connections are open at a time, their
calls interleaved one by one.

  gencap.py --kind ai-mix --mib 64 OUT.cap   prints a JSON summary
"""
import argparse
import gzip
import zlib
import json
import os
import random
import struct
import sys

ABI = 1
HDR_SIZE = 88
CHUNK_MAX = 16384
KIND_DATA, KIND_FREE = 1, 6
DIR_WRITE, DIR_READ = 1, 2
TLS_RECORD = 16384

HERE = os.path.dirname(os.path.abspath(__file__))
BODIES = os.path.join(os.path.dirname(HERE), "tests", "fixtures", "bodies")

# struct cap_data up to data[]: cap_hdr (48) + 40 bytes.
DATA_HDR = struct.Struct("<IIIIIIQ16sQQIIIIII")
assert DATA_HDR.size == HDR_SIZE


def words(rng, n):
    vocab = ("the model answer weather city please explain code function "
             "data result token user system assistant example value list "
             "request response stream chat vector query paris lyon").split()
    return " ".join(rng.choice(vocab) for _ in range(n))


def chat_request_body(rng, stream):
    """Body of a chat completion request, ~2-8 KB of history."""
    msgs = [{"role": "system", "content": "You are a helpful assistant."}]
    for _ in range(rng.randint(2, 8)):
        msgs.append({"role": "user", "content": words(rng, rng.randint(20, 120))})
        msgs.append({"role": "assistant", "content": words(rng, rng.randint(20, 120))})
    msgs.append({"role": "user", "content": words(rng, rng.randint(10, 60))})
    body = {"model": "gpt-4o-mini", "messages": msgs, "temperature": 0.7,
            "max_completion_tokens": 512}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return json.dumps(body).encode()


def chat_request(rng, stream):
    """Headers and body of a chat completion request."""
    b = chat_request_body(rng, stream)
    h = ("POST /v1/chat/completions HTTP/1.1\r\n"
         "Host: api.openai.com\r\n"
         "User-Agent: OpenAI/Python 1.54.0\r\n"
         "Accept: application/json\r\n"
         "Accept-Encoding: gzip, deflate\r\n"
         "Authorization: Bearer sk-proj-bench0000000000000000\r\n"
         "Content-Type: application/json\r\n"
         "Connection: keep-alive\r\n"
         "Content-Length: %d\r\n\r\n" % len(b)).encode()
    return h, b


def resp_headers(extra):
    return ("HTTP/1.1 200 OK\r\n"
            "Date: Mon, 23 Nov 2026 07:50:01 GMT\r\n"
            "Connection: keep-alive\r\n"
            "openai-organization: user-bench\r\n"
            "openai-processing-ms: 412\r\n"
            "openai-version: 2020-10-01\r\n"
            "x-request-id: req_0123456789abcdef0123456789abcdef\r\n"
            "%s\r\n" % extra).encode()


def chat_response(rng, i):
    content = words(rng, rng.randint(30, 250))
    return {"id": "chatcmpl-bench%08d" % i, "object": "chat.completion",
            "created": 1763884201, "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 412, "completion_tokens": 180, "total_tokens": 592},
            "system_fingerprint": "fp_0ba0d124f1"}


def reads_of(data):
    """A byte stream as SSL_read returns it: one TLS record per call."""
    return [data[i:i + TLS_RECORD] for i in range(0, len(data), TLS_RECORD)]


def exchange_json(rng, i, compress):
    h, b = chat_request(rng, False)
    body = json.dumps(chat_response(rng, i)).encode()
    extra = "Content-Type: application/json\r\n"
    if compress:
        body = gzip.compress(body, 6)
        extra += "Content-Encoding: gzip\r\n"
    resp = resp_headers(extra + "Content-Length: %d\r\n" % len(body)) + body
    return [(DIR_WRITE, h), (DIR_WRITE, b)] + [(DIR_READ, r) for r in reads_of(resp)]


def sse_payloads(rng, i):
    """The SSE events of a streamed chat completion, one bytes per event."""
    base = {"id": "chatcmpl-bench%08d" % i, "object": "chat.completion.chunk",
            "created": 1763884201, "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_0ba0d124f1"}
    deltas = [{"role": "assistant", "content": ""}]
    deltas += [{"content": " " + w} for w in words(rng, rng.randint(30, 250)).split()]
    events = []
    for d in deltas:
        ev = dict(base, choices=[{"index": 0, "delta": d, "logprobs": None,
                                  "finish_reason": None}], usage=None)
        events.append(ev)
    events.append(dict(base, choices=[{"index": 0, "delta": {}, "logprobs": None,
                                       "finish_reason": "stop"}], usage=None))
    events.append(dict(base, choices=[], usage={"prompt_tokens": 412,
                                                "completion_tokens": len(deltas),
                                                "total_tokens": 412 + len(deltas)}))
    payloads = [("data: %s\n\n" % json.dumps(e)).encode() for e in events]
    payloads.append(b"data: [DONE]\n\n")
    return payloads


def exchange_sse(rng, i):
    h, b = chat_request(rng, True)
    calls = [(DIR_WRITE, h), (DIR_WRITE, b),
             (DIR_READ, resp_headers("Content-Type: text/event-stream; charset=utf-8\r\n"
                                     "Transfer-Encoding: chunked\r\n"))]
    for p in sse_payloads(rng, i):
        calls.append((DIR_READ, b"%x\r\n%s\r\n" % (len(p), p)))
    calls.append((DIR_READ, b"0\r\n\r\n"))
    return calls


def exchange_download(rng, i, size):
    h = ("GET /downloads/file-%d.bin HTTP/1.1\r\n"
         "Host: downloads.example.com\r\n"
         "User-Agent: curl/7.88.1\r\n"
         "Accept: */*\r\n\r\n" % i).encode()
    body = (b"%08d" % i + bytes(range(256)) * 64)[:16384]
    body = (body * (size // len(body) + 1))[:size]
    resp = ("HTTP/1.1 200 OK\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Content-Length: %d\r\n"
            "ETag: \"%08x\"\r\n\r\n" % (size, i)).encode() + body
    return [(DIR_WRITE, h)] + [(DIR_READ, r) for r in reads_of(resp)]


def ws_frame(payload, op=1, mask=None, rsv1=False):
    """One WebSocket frame (RFC 6455 §5.2); @mask: a client's 4-byte key."""
    n = len(payload)
    h = bytes([0x80 | (0x40 if rsv1 else 0) | op])
    m = 0x80 if mask else 0
    if n < 126:
        h += bytes([m | n])
    elif n < 65536:
        h += bytes([m | 126]) + struct.pack(">H", n)
    else:
        h += bytes([m | 127]) + struct.pack(">Q", n)
    if mask:
        key = (mask * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
        h += mask
    return h + payload


def ws_message(data, client, deflate):
    """A text message as frames; deflated per RFC 7692 without context."""
    if deflate:
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = (z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH))[:-4]
    return ws_frame(data, mask=b"\x5a\x13\xc7\x02" if client else None, rsv1=deflate)


def ws_handshake(deflate):
    up = ("GET /v1/responses HTTP/1.1\r\nHost: api.openai.com\r\n"
          "Authorization: Bearer sk-bench-0000000000000000\r\n"
          "OpenAI-Beta: responses_websockets=2026-02-06\r\n"
          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
    ext = ("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
           "server_no_context_takeover\r\n" if deflate else "")
    acc = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
           + ext + "\r\n")
    return [(DIR_WRITE, up.encode()), (DIR_READ, acc.encode())]


def exchange_ws(rng, i, deflate):
    """One response.create and its streamed reply over a WebSocket."""
    inp = [{"type": "message", "role": "user" if k % 2 == 0 else "assistant",
            "content": [{"type": "input_text" if k % 2 == 0 else "output_text",
                         "text": words(rng, rng.randint(20, 120))}]}
           for k in range(rng.randint(3, 15))]
    req = {"type": "response.create", "model": "gpt-5-codex",
           "instructions": "You are a coding agent. " + words(rng, 40), "input": inp,
           "tools": [{"type": "function", "name": "shell", "description": "Run a command",
                      "parameters": {"type": "object"}}], "store": False}
    rid = "resp_bench%08d" % i
    events = [{"type": "response.created", "sequence_number": 0,
               "response": {"id": rid, "object": "response", "status": "in_progress",
                            "model": "gpt-5-codex", "output": []}},
              {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
               "item": {"id": "msg_" + rid, "type": "message", "role": "assistant",
                        "content": []}}]
    for k, w in enumerate(words(rng, rng.randint(30, 250)).split()):
        events.append({"type": "response.output_text.delta", "sequence_number": k + 2,
                       "item_id": "msg_" + rid, "output_index": 0, "content_index": 0,
                       "delta": " " + w})
    events.append({"type": "response.completed", "sequence_number": len(events),
                   "response": {"id": rid, "object": "response", "status": "completed",
                                "model": "gpt-5-codex", "output": [],
                                "usage": {"input_tokens": 412, "output_tokens": len(events),
                                          "total_tokens": 412 + len(events)}}})
    calls = [(DIR_WRITE, ws_message(json.dumps(req).encode(), True, deflate))]
    for e in events:
        calls.append((DIR_READ, ws_message(json.dumps(e).encode(), False, deflate)))
    return calls


# ---------------------------------------------------------------- HTTP/2

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_DATA, H2_HEADERS, H2_SETTINGS, H2_WINDOW_UPDATE = 0x0, 0x1, 0x4, 0x8
H2_END_STREAM, H2_ACK, H2_END_HEADERS = 0x1, 0x1, 0x4
H2_MAX_FRAME = 16384


def h2_frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, sid) + payload


def h2_settings(*pairs):
    return h2_frame(H2_SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def h2_data(sid, data, end):
    """DATA frames of @data for stream @sid, at most H2_MAX_FRAME each."""
    out = []
    for off in range(0, max(1, len(data)), H2_MAX_FRAME):
        last = off + H2_MAX_FRAME >= len(data)
        out.append(h2_frame(H2_DATA, H2_END_STREAM if end and last else 0, sid,
                            data[off:off + H2_MAX_FRAME]))
    return out


def h2_request_fields(body_len):
    """A chat call's request fields as the OpenAI SDK over httpx sends them."""
    from hpack import NeverIndexedHeaderTuple
    return [(":method", "POST"), (":authority", "api.openai.com"), (":scheme", "https"),
            (":path", "/v1/chat/completions"), ("accept-encoding", "gzip, deflate"),
            ("accept", "application/json"), ("content-type", "application/json"),
            ("user-agent", "OpenAI/Python 1.54.0"), ("x-stainless-lang", "python"),
            ("x-stainless-package-version", "1.54.0"), ("x-stainless-os", "Linux"),
            ("x-stainless-arch", "x64"), ("x-stainless-runtime", "CPython"),
            ("x-stainless-runtime-version", "3.11.2"),
            NeverIndexedHeaderTuple("authorization",
                                    "Bearer sk-proj-bench0000000000000000"),
            ("x-stainless-async", "false"), ("x-stainless-retry-count", "0"),
            ("content-length", str(body_len))]


def h2_response_fields(rng, i, ctype, body_len=None, encoding=None):
    f = [(":status", "200"), ("date", "Mon, 23 Nov 2026 07:50:%02d GMT" % (i % 60)),
         ("content-type", ctype)]
    if body_len is not None:
        f.append(("content-length", str(body_len)))
    if encoding:
        f.append(("content-encoding", encoding))
    f += [("access-control-expose-headers", "X-Request-ID"),
          ("openai-organization", "user-bench"),
          ("openai-processing-ms", str(rng.randint(200, 2000))),
          ("openai-version", "2020-10-01"),
          ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
          ("x-ratelimit-limit-requests", "10000"),
          ("x-ratelimit-remaining-requests", str(rng.randint(9000, 9999))),
          ("x-ratelimit-reset-requests", "%dms" % rng.randint(6, 60)),
          ("x-request-id", "req_%032x" % rng.getrandbits(128)),
          ("cf-cache-status", "DYNAMIC"), ("server", "cloudflare"),
          ("cf-ray", "%016x-CDG" % rng.getrandbits(64)),
          ("alt-svc", 'h3=":443"; ma=86400')]
    return f


def h2_call(rng, i, what):
    """One call's (request body, response fields, response DATA units):
    a unit is one piece of the body that the server sends as it comes (an
    SSE event), or the whole body (JSON)."""
    body = chat_request_body(rng, what == "sse")
    if what == "sse":
        return body, h2_response_fields(rng, i, "text/event-stream; charset=utf-8"), \
            sse_payloads(rng, i)
    payload = json.dumps(chat_response(rng, i)).encode()
    enc = None
    if what == "gzip":
        payload, enc = gzip.compress(payload, 6), "gzip"
    return body, h2_response_fields(rng, i, "application/json", len(payload), enc), [payload]


def h2_connection(rng, whats, first_id):
    """The SSL calls of one HTTP/2 connection, in order, for calls of the
    kinds @whats (json, sse, gzip), in batches of 2 to 6 streams."""
    from hpack import Encoder
    enc_c, enc_s = Encoder(), Encoder()
    calls = [(DIR_WRITE, H2_PREFACE + h2_settings((0x2, 0), (0x3, 100), (0x4, 6291456))
              + h2_frame(H2_WINDOW_UPDATE, 0, 0, struct.pack(">I", 15663105))),
             (DIR_READ, h2_settings((0x3, 100), (0x4, 65536), (0x5, 16384))
              + h2_frame(H2_WINDOW_UPDATE, 0, 0, struct.pack(">I", 2147418112))),
             (DIR_WRITE, h2_frame(H2_SETTINGS, H2_ACK, 0)),
             (DIR_READ, h2_frame(H2_SETTINGS, H2_ACK, 0))]
    sid, n, k = 1, 0, first_id
    while n < len(whats):
        batch = whats[n:n + rng.randint(2, 6)]
        n += len(batch)
        streams = []
        for what in batch:
            body, rfields, units = h2_call(rng, k, what)
            k += 1
            req = h2_frame(H2_HEADERS, H2_END_HEADERS, sid,
                           enc_c.encode(h2_request_fields(len(body))))
            calls.append((DIR_WRITE, req + b"".join(h2_data(sid, body, True))))
            streams.append([sid, rfields, units, what])
            sid += 2
        # Responses as the server produces them: round-robin over the
        # streams, each turn a header block or one unit of DATA.
        pending, out = [], b""
        for st in streams:
            st[1] = h2_frame(H2_HEADERS, H2_END_HEADERS, st[0], enc_s.encode(st[1]))
        while streams:
            for st in list(streams):
                sid_, head, units, what = st
                if head:
                    frames, st[1] = [head], None
                else:
                    frames = h2_data(sid_, units.pop(0), not units)
                    if not units:
                        streams.remove(st)
                if what == "sse":
                    # spaced in time: each arrives in a read of its own
                    if out:
                        pending += reads_of(out)
                        out = b""
                    pending.append(b"".join(frames))
                else:
                    out += b"".join(frames)
        pending += reads_of(out) if out else []
        calls += [(DIR_READ, r) for r in pending]
        calls.append((DIR_WRITE, h2_frame(H2_WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20))))
    return calls


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(b"OISPCAP\0" + struct.pack("<IIQ", ABI, HDR_SIZE, 1_700_000_000 * 10**9)
                     + b"bench".ljust(64, b"\0"))
        self.ts = 10**12
        self.call_id = 1 << 20
        self.records = 0
        self.plain = 0

    def call(self, tgid, comm, ssl, d, data):
        """One SSL call: split into records of at most CHUNK_MAX bytes."""
        self.call_id += 1
        n = len(data)
        for off in range(0, n, CHUNK_MAX):
            chunk = data[off:off + CHUNK_MAX]
            self.ts += 2000
            hdr = DATA_HDR.pack(KIND_DATA, tgid, tgid, 1000, 1000, 0, self.ts, comm,
                                ssl, self.call_id, d, 0, n, off, len(chunk), 0)
            self.f.write(struct.pack("<I", HDR_SIZE + len(chunk)))
            self.f.write(hdr)
            self.f.write(chunk)
            self.records += 1
        self.plain += n

    def free(self, tgid, comm, ssl):
        """SSL_free of connection @ssl: a new one may take its address."""
        self.ts += 2000
        rec = struct.pack("<IIIIIIQ16sQ", KIND_FREE, tgid, tgid, 1000, 1000, 0, self.ts, comm,
                          ssl)
        self.f.write(struct.pack("<I", len(rec)) + rec)
        self.records += 1

    def close(self):
        self.f.close()


def generate_h2(kind, w, rng, procs, conns, target):
    """HTTP/2 connections on @conns, their calls interleaved one by one; a
    connection that ends is freed and a new one starts at its address
    while the calls written and in flight come to less than @target bytes.
    Every connection ends.  Returns the streams begun (requests written)."""
    whats = {"h2-json": ["json"], "h2-sse": ["sse"],
             "h2-mix": ["json", "sse", "gzip"]}[kind]
    # A pool of distinct connections of 12 calls each, replayed: building
    # one is the slow part in Python.
    pool = [h2_connection(rng, [whats[(c * 12 + j) % len(whats)] for j in range(12)], c * 12)
            for c in range(32)]
    sizes = [sum(len(d) for _, d in calls) for calls in pool]
    slots, left = [], 0         # left: bytes of the open connections still to come
    for conn in conns:
        if slots and left + sizes[len(slots) % len(pool)] > target:
            break
        slots.append([conn, len(slots) % len(pool), 0])
        left += sizes[slots[-1][1]]
    started, streams = len(slots), 0
    while slots:
        slot = rng.choice(slots)
        ((tgid, comm), ssl), n, at = slot
        if at == len(pool[n]):
            w.free(tgid, comm, ssl)
            nxt = started % len(pool)
            if w.plain + left + sizes[nxt] > target:
                slots.remove(slot)
                continue
            slot[1:] = [nxt, 0]
            left += sizes[nxt]
            started += 1
            continue
        step = pool[n][at]
        slot[2] += 1
        w.call(tgid, comm, ssl, *step)
        left -= len(step[1])
        streams += is_request(step)
    return streams


def is_request(step):
    """Whether the call starts a stream: a write that begins with HEADERS."""
    d, data = step
    return d == DIR_WRITE and len(data) > 9 and data[3] == H2_HEADERS


def generate(kind, mib, path, seed=1):
    rng = random.Random(seed)
    w = Writer(path)
    procs = [(4000 + p, (b"python3", b"node", b"curl")[p % 3]) for p in range(16)]
    conns = [(procs[c % len(procs)], 0x55d0_0000_0000 + c * 0x1000) for c in range(64)]
    target = mib << 20
    if kind.startswith("h2-"):
        streams = generate_h2(kind, w, rng, procs, conns, target)
        w.close()
        return {"kind": kind, "path": path, "plaintext_bytes": w.plain,
                "records": w.records, "exchanges": streams,
                "file_bytes": os.path.getsize(path), "connections": len(conns),
                "processes": len(procs)}
    # A pool of distinct exchanges, replayed across connections: building
    # each one is the slow part in Python.
    pool = []
    npool = 48 if kind != "nonai" else 4
    for i in range(npool):
        if kind.startswith("ws-"):
            pool.append(("ws", [exchange_ws(rng, i, False), exchange_ws(rng, i, True)]))
        elif kind == "ai-json" or (kind == "ai-mix" and i % 3 == 0):
            pool.append(("json", exchange_json(rng, i, False)))
        elif kind == "ai-gzip" or (kind == "ai-mix" and i % 3 == 1):
            pool.append(("gzip", exchange_json(rng, i, True)))
        elif kind in ("ai-sse", "ai-mix"):
            pool.append(("sse", exchange_sse(rng, i)))
        else:
            pool.append(("download", exchange_download(rng, i, 1 << 20)))
    exchanges = 0
    upgraded = set()
    while w.plain < target:
        (tgid, comm), ssl = rng.choice(conns)
        what, calls = pool[exchanges % len(pool)]
        if what == "ws":
            # ws-responses: even connections negotiated permessage-deflate
            deflate = {"ws-plain": False, "ws-deflate": True}.get(kind, (ssl >> 12) % 2 == 0)
            calls = calls[deflate]
            if ssl not in upgraded:
                upgraded.add(ssl)
                calls = ws_handshake(deflate) + calls
        for d, data in calls:
            w.call(tgid, comm, ssl, d, data)
        exchanges += 1
    w.close()
    return {"kind": kind, "path": path, "plaintext_bytes": w.plain,
            "records": w.records, "exchanges": exchanges,
            "file_bytes": os.path.getsize(path), "connections": len(conns),
            "processes": len(procs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", required=True,
                    choices=("ai-json", "ai-sse", "ai-gzip", "ai-mix", "ws-responses",
                             "ws-plain", "ws-deflate", "nonai", "h2-json", "h2-sse", "h2-mix"))
    ap.add_argument("--mib", type=int, default=64, help="plaintext MiB to write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("out")
    a = ap.parse_args()
    print(json.dumps(generate(a.kind, a.mib, a.out, a.seed)))


if __name__ == "__main__":
    sys.exit(main())
