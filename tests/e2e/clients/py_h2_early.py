#!/usr/bin/python3
"""An HTTP/2 client (httpx, http2=True) that was running before the sensor.

It makes one chat call to api.openai.com on an h2 connection (its HPACK
tables then hold :authority, :path, content-type, user-agent...), prints
{"ready": true, "pid": ...}, waits for a line on stdin, then makes a JSON
call and a streamed call on the same connection, printing a JSON line per
call (stream ids 3 and 5 after 1: the connection is the same).
CA: $OISP_CA.
"""
import json
import os
import sys

import httpx

URL = "https://api.openai.com/v1/chat/completions"
HEADERS = {"Authorization": "Bearer sk-test-h2early-0123456789"}
client = httpx.Client(http2=True, verify=os.environ["OISP_CA"], timeout=60)


def call(what, stream=False):
    message = "h2 early %s" % what
    body = {"model": "gpt-4o-mini", "max_tokens": 64,
            "messages": [{"role": "user", "content": message}]}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    with client.stream("POST", URL, json=body, headers=HEADERS) as r:
        text = r.read().decode()
        ext = r.extensions
    print(json.dumps({"mode": what, "pid": os.getpid(), "message": message,
                      "status": r.status_code, "http_version": r.http_version,
                      "stream_id": ext.get("stream_id"),
                      "body": text if stream else json.loads(text)}), flush=True)


call("before")
print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
if not sys.stdin.readline():
    sys.exit("stdin closed before the go signal")
call("json")
call("streamed", stream=True)
client.close()
