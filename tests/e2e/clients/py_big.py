#!/usr/bin/python3
"""One chat completions call with `requests` whose body is big_body.py's
(SIZE bytes, TAG): http.client sends it in one SSL_write_ex.

  py_big.py SIZE TAG chat|stream
One JSON line: {pid, status, id, text, bytes}."""
import json
import os
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import big_body  # noqa: E402

size, tag, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = big_body.body(size, tag, mode == "stream")
r = requests.post("https://api.openai.com/v1/chat/completions", data=data,
                  headers={"Content-Type": "application/json",
                           "Authorization": "Bearer sk-test-python-0123456789"},
                  stream=mode == "stream", timeout=60)
text, rid = "", None
if mode == "stream":
    for line in r.iter_lines():
        if line.startswith(b"data: {"):
            ch = json.loads(line[6:])
            rid = ch["id"]
            for c in ch["choices"]:
                text += c["delta"].get("content") or ""
else:
    j = r.json()
    rid, text = j["id"], j["choices"][0]["message"]["content"]
print(json.dumps({"pid": os.getpid(), "status": r.status_code, "id": rid, "text": text,
                  "bytes": len(data)}))
