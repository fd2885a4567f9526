#!/usr/bin/python3
"""One chat call whose request write has to be retried.

The socket has a timeout, so Python's ssl module keeps it non-blocking
and, when SSL_write_ex fails with SSL_ERROR_WANT_WRITE, waits for the
socket and calls it again with the same arguments, as OpenSSL requires.
A small send buffer, a request of argv[1] bytes (headers and body in one
sendall) and a server told to wait before reading the body make that
happen several times.  Prints {"pid", "message", "id", "status"}.
CA: $OISP_CA.
"""
import http.client
import json
import os
import socket
import ssl
import sys

size = int(sys.argv[1])
message = "retried " + "w" * (size - 8)
body = json.dumps({"model": "gpt-4o-mini", "max_tokens": 3,
                   "messages": [{"role": "user", "content": message}]}).encode()
ctx = ssl.create_default_context(cafile=os.environ["OISP_CA"])
conn = http.client.HTTPSConnection("api.openai.com", 443, context=ctx, timeout=60)
conn.connect()
conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
conn.request("POST", "/v1/chat/completions", body=body, headers={
    "Authorization": "Bearer sk-test-retry-0123456789",
    "Content-Type": "application/json", "x-test-slow-read": "0.5"})
r = conn.getresponse()
obj = json.loads(r.read())
print(json.dumps({"pid": os.getpid(), "message": message, "id": obj.get("id"),
                  "status": r.status}), flush=True)
conn.close()
