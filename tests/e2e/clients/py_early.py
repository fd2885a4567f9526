#!/usr/bin/python3
"""A client that was running before the sensor started.

It opens a keep-alive connection to api.openai.com and makes one call
("early before"), prints {"ready": true, "pid": ...}, then waits for a line
on stdin (the test writes one once the sensor is ready).  It then makes one
call on the connection it already had ("early same-conn") and one on a new
connection ("early new-conn"), printing a JSON line per call.  CA: $OISP_CA.
"""
import http.client
import json
import os
import ssl
import sys

ctx = ssl.create_default_context(cafile=os.environ["OISP_CA"])
tag = sys.argv[1] if len(sys.argv) > 1 else ""


def call(conn, what):
    message = "early %s says hello %s" % (what, tag)
    body = json.dumps({"model": "gpt-4o-mini",
                       "messages": [{"role": "user", "content": message}]})
    conn.request("POST", "/v1/chat/completions", body=body, headers={
        "Authorization": "Bearer sk-test-early-0123456789",
        "Content-Type": "application/json"})
    r = conn.getresponse()
    obj = json.loads(r.read())
    print(json.dumps({"lib": "http.client", "mode": what, "pid": os.getpid(),
                      "message": message, "status": r.status, "id": obj.get("id"),
                      "text": obj["choices"][0]["message"]["content"],
                      "usage": obj.get("usage"),
                      "local_port": conn.sock.getsockname()[1]}), flush=True)


a = http.client.HTTPSConnection("api.openai.com", 443, context=ctx, timeout=60)
call(a, "before")
print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
if not sys.stdin.readline():
    sys.exit("stdin closed before the go signal")
call(a, "same-conn")
b = http.client.HTTPSConnection("api.openai.com", 443, context=ctx, timeout=60)
call(b, "new-conn")
a.close()
b.close()
