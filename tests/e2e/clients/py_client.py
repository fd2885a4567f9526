#!/usr/bin/python3
"""Debian python3 clients (the _ssl module: SSL_write_ex / SSL_read_ex).

  py_client.py LIB MODE... [--tag TAG] [--wait]
LIB: urllib | requests | httpx | httpx2 (httpx with http2=True: h2 by
ALPN, through python3-h2).  MODE: chat, stream, chat-gzip, chat-br,
responses, responses-stream, embeddings, anthropic, anthropic-stream.
requests and httpx use one session (one keep-alive connection per host)
for all modes; urllib opens a connection per call.

Each call's user message is "<lib> <mode> says hello <tag>"; one JSON line
per call on stdout: {lib, mode, pid, message, status, id, text, usage,
content_encoding, http_version}.  CA: $OISP_CA.  --wait: once the
library is loaded (OpenSSL mapped), print "ready" and wait for a line on
stdin before the first call.
"""
import gzip
import json
import os
import ssl
import sys
import urllib.request

CA = os.environ["OISP_CA"]
OA = "https://api.openai.com"
AN = "https://api.anthropic.com"
OA_HEADERS = {"Authorization": "Bearer sk-test-python-0123456789",
              "Content-Type": "application/json"}
AN_HEADERS = {"x-api-key": "sk-ant-test-python-0123456789",
              "anthropic-version": "2023-06-01", "Content-Type": "application/json"}


def call_spec(mode, message):
    """(url, headers, body) for a mode."""
    if mode in ("chat", "stream", "chat-gzip", "chat-br"):
        body = {"model": "gpt-4o-mini",
                "messages": [{"role": "system", "content": "You are a test."},
                             {"role": "user", "content": message}],
                "max_tokens": 100}
        h = dict(OA_HEADERS)
        if mode == "stream":
            body.update(stream=True, stream_options={"include_usage": True})
        if mode == "chat-gzip":
            h["x-test-encoding"] = "gzip"
        if mode == "chat-br":
            h["x-test-encoding"] = "br"
        return OA + "/v1/chat/completions", h, body
    if mode in ("responses", "responses-stream"):
        body = {"model": "gpt-4.1-mini", "instructions": "Answer plainly.", "input": message}
        if mode == "responses-stream":
            body["stream"] = True
        return OA + "/v1/responses", dict(OA_HEADERS), body
    if mode == "embeddings":
        return OA + "/v1/embeddings", dict(OA_HEADERS), {
            "model": "text-embedding-3-small", "input": message}
    if mode in ("anthropic", "anthropic-stream"):
        body = {"model": "claude-3-5-haiku-20241022", "max_tokens": 200,
                "messages": [{"role": "user", "content": message}]}
        if mode == "anthropic-stream":
            body["stream"] = True
        return AN + "/v1/messages", dict(AN_HEADERS), body
    raise SystemExit("unknown mode " + mode)


def parse_body(mode, raw_lines):
    """(id, text, usage) from a JSON body or an SSE stream's lines."""
    if "stream" not in mode:
        obj = json.loads(b"".join(raw_lines))
        if mode.startswith("chat"):
            return obj.get("id"), obj["choices"][0]["message"]["content"], obj.get("usage")
        if mode == "responses":
            return obj["id"], obj["output"][0]["content"][0]["text"], obj["usage"]
        if mode == "embeddings":
            return None, None, obj["usage"]
        return obj["id"], obj["content"][0]["text"], obj["usage"]
    rid, text, usage = None, "", None
    for line in raw_lines:
        line = line.decode().rstrip("\r\n")
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        if mode == "stream":
            rid = ev["id"]
            for c in ev.get("choices") or []:
                text += c["delta"].get("content") or ""
            usage = ev.get("usage") or usage
        elif mode == "responses-stream":
            if ev["type"] == "response.output_text.delta":
                text += ev["delta"]
            if ev["type"] in ("response.completed", "response.incomplete"):
                rid, usage = ev["response"]["id"], ev["response"]["usage"]
        else:
            if ev["type"] == "message_start":
                rid = ev["message"]["id"]
                usage = dict(ev["message"]["usage"])
            elif ev["type"] == "content_block_delta":
                text += ev["delta"]["text"]
            elif ev["type"] == "message_delta":
                usage.update(ev["usage"])
    return rid, text, usage


def split_lines(data):
    return [l + b"\n" for l in data.split(b"\n")]


class Urllib:
    def __init__(self):
        self.ctx = ssl.create_default_context(cafile=CA)

    def call(self, mode, url, headers, body):
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers,
                                     method="POST")
        if "x-test-encoding" in headers:
            req.add_header("Accept-Encoding", headers["x-test-encoding"])
        try:
            resp = urllib.request.urlopen(req, context=self.ctx, timeout=30)
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), [e.read()]
        with resp:
            if "stream" in mode:
                lines = list(iter(resp.readline, b""))
            else:
                data = resp.read()
                enc = resp.headers.get("Content-Encoding")
                if enc == "gzip":
                    data = gzip.decompress(data)
                elif enc == "br":
                    import brotli
                    data = brotli.decompress(data)
                lines = [data]
            return resp.status, dict(resp.headers), lines


class Requests:
    def __init__(self):
        import requests
        self.s = requests.Session()
        self.s.verify = CA
        self.s.trust_env = False

    def call(self, mode, url, headers, body):
        stream = "stream" in mode
        r = self.s.post(url, json=body, headers=headers, stream=stream, timeout=30)
        if stream:
            lines = [l + b"\n" for l in r.iter_lines()]
        else:
            lines = [r.content]
        return r.status_code, dict(r.headers), lines


class Httpx:
    http2 = False

    def __init__(self):
        import httpx
        self.c = httpx.Client(verify=CA, trust_env=False, timeout=30, http2=self.http2)
        self.http_version = None

    def call(self, mode, url, headers, body):
        if "stream" in mode:
            with self.c.stream("POST", url, json=body, headers=headers) as r:
                lines = [l.encode() + b"\n" for l in r.iter_lines()]
                self.http_version = r.http_version
                return r.status_code, dict(r.headers), lines
        r = self.c.post(url, json=body, headers=headers)
        self.http_version = r.http_version
        return r.status_code, dict(r.headers), [r.content]


class Httpx2(Httpx):
    http2 = True


def main():
    args = sys.argv[1:]
    tag = ""
    if "--tag" in args:
        i = args.index("--tag")
        tag = args[i + 1]
        del args[i:i + 2]
    wait = "--wait" in args
    if wait:
        args.remove("--wait")
    lib, modes = args[0], args[1:]
    client = {"urllib": Urllib, "requests": Requests, "httpx": Httpx, "httpx2": Httpx2}[lib]()
    if wait:
        print("ready", flush=True)
        if not sys.stdin.readline():
            sys.exit("stdin closed before the go signal")
    for mode in modes:
        message = ("%s %s says hello %s" % (lib, mode, tag)).strip()
        url, headers, body = call_spec(mode, message)
        status, rh, lines = client.call(mode, url, headers, body)
        rid, text, usage = parse_body(mode, lines) if status == 200 else (None, None, None)
        print(json.dumps({"lib": lib, "mode": mode, "pid": os.getpid(), "message": message,
                          "status": status, "id": rid, "text": text, "usage": usage,
                          "content_encoding": rh.get("Content-Encoding") or rh.get("content-encoding"),
                          "http_version": getattr(client, "http_version", None)}),
              flush=True)


if __name__ == "__main__":
    main()
