#!/usr/bin/python3
"""One chat call whose request goes out in a single SSL_write_ex larger
than the sensor's per-call cap (http.client sends headers and a bytes body
in one sendall).  argv[1]: the size of the user message in bytes."""
import json
import os
import ssl
import urllib.request

size = int(os.sys.argv[1])
msg = "huge " + "x" * (size - 5)
body = json.dumps({"model": "gpt-4o-mini", "max_tokens": 5,
                   "messages": [{"role": "user", "content": msg}]}).encode()
req = urllib.request.Request("https://api.openai.com/v1/chat/completions", data=body,
                             headers={"Content-Type": "application/json",
                                      "Authorization": "Bearer sk-test-python-0123456789"})
ctx = ssl.create_default_context(cafile=os.environ["OISP_CA"])
with urllib.request.urlopen(req, context=ctx) as r:
    print(json.dumps({"status": r.status, "bytes": len(r.read())}))
