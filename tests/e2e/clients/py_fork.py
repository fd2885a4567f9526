#!/usr/bin/python3
"""A process that forks a child which makes the call (no exec).

The parent makes no TLS call: it forks, prints {"child": PID}, and waits.
The child waits DELAY seconds (argv[2], default 0.5) so that the sensor
can attach to it, then makes one chat call (message argv[1]) and prints a
JSON line.  CA: $OISP_CA.
"""
import http.client
import json
import os
import ssl
import sys
import time

msg = sys.argv[1]
delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
ctx = ssl.create_default_context(cafile=os.environ["OISP_CA"])
pid = os.fork()
if pid:
    print(json.dumps({"child": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
time.sleep(delay)
conn = http.client.HTTPSConnection("api.openai.com", 443, context=ctx, timeout=60)
conn.request("POST", "/v1/chat/completions", headers={
    "Authorization": "Bearer sk-test-fork-0123456789",
    "Content-Type": "application/json"},
    body=json.dumps({"model": "gpt-4o-mini",
                     "messages": [{"role": "user", "content": msg}]}))
r = conn.getresponse()
obj = json.loads(r.read())
print(json.dumps({"pid": os.getpid(), "status": r.status,
                  "text": obj["choices"][0]["message"]["content"]}), flush=True)
os._exit(0)
